// Owns the generator file (`unmask.generator/1`): a trained patch generator (either kind) saved beside
// the model so that tools (the demo's manipulated clip, frame-level calibration, evaluation against a
// generator training never saw) can make fakes with it.
import Foundation
import NeuralNet

/// Saving and loading generators of any kind.
public enum GeneratorFile {
    /// The value of the `format` metadata key of generator files.
    public static let format = "unmask.generator/1"

    /// Writes `generator`'s weights, kind and architecture to `path` atomically.
    public static func save(_ generator: any PatchGenerator, to path: String) throws {
        let file = SafeTensorsFile(
            tensors: try safeTensorsEntries(generator.stateDictionary(), prefix: ""),
            metadata: [
                "format": format, "kind": GeneratorKind(of: generator).rawValue,
                "architecture": try jsonString(generator.architecture), "version": DetectorModel.version,
            ])
        do { try file.write(toPath: path) } catch let e as SafeTensorsError {
            throw DetectorError.modelFile(path: path, reason: "cannot save generator: \(e.reason)")
        }
    }

    /// Loads a generator file, or the generator of a training checkpoint, in eval mode. Errors name
    /// the file (missing, corrupt, neither a generator file nor a checkpoint, weights that do not fit).
    public static func load(path: String) throws -> any PatchGenerator {
        let file = try openSafeTensors(path, kind: "generator file")
        let architecture: GeneratorArchitecture, kind: GeneratorKind, prefix: String
        switch file.metadata["format"] {
        case format:
            architecture = try decodeMetadata(file, "architecture", path: path)
            guard let k = GeneratorKind(rawValue: file.metadata["kind"] ?? GeneratorKind.upsampling.rawValue) else {
                throw DetectorError.modelFile(path: path, reason: "unknown generator kind '\(file.metadata["kind"] ?? "")'")
            }
            kind = k
            prefix = ""
        case Trainer.checkpointFormat:
            let config: TrainingConfig = try decodeMetadata(file, "config", path: path)
            architecture = config.generator
            kind = config.generatorKind ?? .upsampling
            prefix = "g."
        case let other:
            throw DetectorError.modelFile(
                path: path, reason: "format is '\(other ?? "none")', expected '\(format)' or a training checkpoint")
        }
        do { try architecture.validateWithinLimits() } catch {
            throw DetectorError.modelFile(path: path, reason: "unusable generator architecture: \(error)")
        }
        let g = kind.make(architecture: architecture, seed: 0)
        try loadState(g, from: file, prefix: prefix, path: path)
        g.eval()
        return g
    }
}

extension GeneratorKind {
    /// The kind of an existing generator.
    init(of generator: any PatchGenerator) {
        self = generator is TransposedConvGenerator ? .transposedConv : .upsampling
    }
}
