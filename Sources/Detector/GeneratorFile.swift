// Owns the generator file (`unmask.generator/1`): a trained patch generator saved beside the model so
// that tools (the demo's manipulated clip, frame-level calibration, evaluation) can make fakes with it.
import Foundation
import NeuralNet

extension Generator {
    /// The value of the `format` metadata key of generator files.
    public static let fileFormat = "unmask.generator/1"

    /// Writes the generator's weights and architecture to `path` atomically.
    public func save(to path: String) throws {
        let file = SafeTensorsFile(
            tensors: try safeTensorsEntries(stateDictionary(), prefix: ""),
            metadata: [
                "format": Generator.fileFormat, "architecture": try jsonString(architecture),
                "version": DetectorModel.version,
            ])
        do { try file.write(toPath: path) } catch let e as SafeTensorsError {
            throw DetectorError.modelFile(path: path, reason: "cannot save generator: \(e.reason)")
        }
    }

    /// Loads a generator file (or the generator of a training checkpoint); errors name the file (missing, corrupt, not a generator, wrong weights).
    public static func load(path: String) throws -> Generator {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DetectorError.modelFile(path: path, reason: "generator file does not exist")
        }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: path) } catch let e as SafeTensorsError {
            throw DetectorError.modelFile(path: path, reason: "not a readable generator file: \(e.reason)")
        }
        let architecture: GeneratorArchitecture, prefix: String
        switch file.metadata["format"] {
        case fileFormat:
            architecture = try decodeMetadata(file, "architecture", path: path)
            prefix = ""
        case Trainer.checkpointFormat:
            let config: TrainingConfig = try decodeMetadata(file, "config", path: path)
            architecture = config.generator
            prefix = "g."
        case let other:
            throw DetectorError.modelFile(
                path: path, reason: "format is '\(other ?? "none")', expected '\(fileFormat)' or a training checkpoint")
        }
        guard (try? architecture.validate()) != nil else {
            throw DetectorError.modelFile(path: path, reason: "invalid generator architecture \(architecture)")
        }
        let g = Generator(architecture: architecture)
        try loadState(g, from: file, prefix: prefix, path: path)
        g.eval()
        return g
    }
}
