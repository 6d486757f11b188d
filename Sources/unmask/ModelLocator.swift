// Finding and loading the detector model a command names, or the default one.
import ArgumentParser
import Detector
import Foundation

/// Where the default model lives: --model, then $UNMASK_MODEL, then Models/ in the current folder,
/// then Models/ beside the repository the binary was built in (.build/<config>/unmask).
enum ModelLocator {
    static let fileName = "unmask-v1.safetensors"

    static func path(explicit: String?) -> String {
        if let explicit { return explicit }
        if let environment = ProcessInfo.processInfo.environment["UNMASK_MODEL"], !environment.isEmpty { return environment }
        let candidates = [
            "Models/\(fileName)",
            URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
                .deletingLastPathComponent().appendingPathComponent("../../Models/\(fileName)").standardizedFileURL.path,
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }

    /// Loads the model `path(explicit:)` names; an unusable file is one line and exit code 66.
    static func load(explicit: String?, allowCheckpoint: Bool = false) throws -> (DetectorModel, String) {
        let modelPath = path(explicit: explicit)
        do {
            return (try DetectorModel.load(path: modelPath, allowCheckpoint: allowCheckpoint), modelPath)
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badModel)
        }
    }
}
