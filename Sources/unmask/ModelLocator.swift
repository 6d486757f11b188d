// Finding and loading the detector model a command names, or the default one, in a fixed order that
// does not depend on the current folder: --model, $UNMASK_MODEL, the installed copy beside the binary,
// then the Models/ folder of the repository the binary was built in.
import ArgumentParser
import Detector
import Foundation

/// Where the default model lives, first match wins:
/// 1. `--model FILE`;
/// 2. `$UNMASK_MODEL` (when set and not empty);
/// 3. `PREFIX/share/unmask/models/unmask-v2.safetensors` for a binary installed as `PREFIX/bin/unmask`
///    (`make install PREFIX=…`);
/// 4. `Models/unmask-v2.safetensors` of the repository holding the binary's build folder: the binary lives
///    in `.build/<configuration>` or `.build/<triple>/<configuration>`, so the repository is the nearest
///    folder above it that has `Package.swift`.
/// An explicit choice (1 or 2) is used as given, even when the file is missing, so the error names it.
enum ModelLocator {
    static let fileName = "unmask-v2.safetensors"

    /// The model path to use, or nil when nothing was named and no default exists; `searched` lists the
    /// default locations looked at, for the error message.
    static func path(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: URL = executableURL
    ) -> (path: String?, searched: [String]) {
        if let explicit { return (explicit, []) }
        if let variable = environment["UNMASK_MODEL"], !variable.isEmpty { return (variable, []) }
        let candidates = defaultCandidates(executable: executable)
        return (candidates.first { FileManager.default.isReadableFile(atPath: $0) }, candidates)
    }

    /// Locations 3 and 4 for a binary at `executable` (symbolic links resolved).
    static func defaultCandidates(executable: URL) -> [String] {
        let binaryFolder = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates = [
            binaryFolder.deletingLastPathComponent().appendingPathComponent("share/unmask/models/\(fileName)").path
        ]
        var folder = binaryFolder
        for _ in 0..<4 {
            folder = folder.deletingLastPathComponent()
            let manifest = folder.appendingPathComponent("Package.swift").path
            let models = folder.appendingPathComponent("Models/\(fileName)").path
            if FileManager.default.fileExists(atPath: manifest) {
                candidates.append(models)
                break
            }
            if folder.path == "/" { break }
        }
        return candidates
    }

    /// The running binary: /proc/self/exe, which holds even when the binary was started through $PATH
    /// (argv[0] is then a bare name, relative to nothing).
    static var executableURL: URL {
        let procfs = URL(fileURLWithPath: "/proc/self/exe")
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: procfs.path) {
            return URL(fileURLWithPath: target)
        }
        return URL(fileURLWithPath: CommandLine.arguments.first ?? "unmask")
    }

    /// Loads the model `path(explicit:)` names; an unusable or missing file is one line and exit code 66.
    static func load(explicit: String?, allowCheckpoint: Bool = false, maximumFileSize: Int = ModelOption.defaultMaximumBytes)
        throws -> (DetectorModel, String)
    {
        let (found, searched) = path(explicit: explicit)
        guard let modelPath = found else {
            Terminal.writeError(
                "unmask: no detector model found: give --model FILE or set UNMASK_MODEL (looked for "
                    + searched.joined(separator: " and ") + ")")
            throw ExitCode(.badModel)
        }
        do {
            let model = try DetectorModel.load(
                path: modelPath, allowCheckpoint: allowCheckpoint, maximumFileSize: maximumFileSize)
            return (model, modelPath)
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badModel)
        }
    }
}
