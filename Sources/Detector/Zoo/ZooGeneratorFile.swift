// Owns the zoo generator file (`unmask.zoo-generator/1`): a trained region autoencoder or patch VAE
// saved with its architecture and how it was trained. Loading checks every size the file asks for
// against `ZooGeneratorLimits` before a network is allocated; every error names the file.
import Foundation
import NeuralNet

/// How a zoo generator was trained (kept in its file).
public struct ZooTrainingSummary: Codable, Equatable, Sendable {
    public var steps: Int
    public var seconds: Double
    public var seed: UInt64
    public var batchSize: Int
    public var patchSize: Int
    /// Mean L1 reconstruction loss over the last 50 steps.
    public var finalL1: Double
    /// Real frames sampled from (training split of the folder).
    public var frames: Int

    public init(
        steps: Int, seconds: Double, seed: UInt64, batchSize: Int, patchSize: Int, finalL1: Double, frames: Int
    ) {
        self.steps = steps; self.seconds = seconds; self.seed = seed; self.batchSize = batchSize
        self.patchSize = patchSize; self.finalL1 = finalL1; self.frames = frames
    }
}

/// Saving and loading the zoo's trained autoencoders and VAEs.
public enum ZooGeneratorFile {
    /// The value of the `format` metadata key.
    public static let format = "unmask.zoo-generator/1"

    /// What a zoo generator file holds.
    public enum Kind: String, Codable, Sendable {
        case autoencoder, vae
    }

    /// Writes an autoencoder to `path` atomically.
    public static func save(_ autoencoder: RegionAutoencoder, training: ZooTrainingSummary?, to path: String) throws {
        try write(autoencoder, kind: .autoencoder, architecture: jsonString(autoencoder.architecture), training, path)
    }

    /// Writes a VAE to `path` atomically.
    public static func save(_ vae: VAE, training: ZooTrainingSummary?, to path: String) throws {
        try write(vae, kind: .vae, architecture: jsonString(vae.architecture), training, path)
    }

    /// Loads the autoencoder in `path` in eval mode; errors name the file.
    public static func loadAutoencoder(path: String) throws -> RegionAutoencoder {
        let file = try open(path, expecting: .autoencoder)
        let architecture: AutoencoderArchitecture = try decodeMetadata(file, "architecture", path: path)
        do { try architecture.validate() } catch {
            throw DetectorError.modelFile(path: path, reason: "unusable autoencoder architecture: \(error)")
        }
        let network = RegionAutoencoder(architecture: architecture)
        try loadState(network, from: file, prefix: "", path: path)
        network.eval()
        return network
    }

    /// Loads the VAE in `path` in eval mode; errors name the file.
    public static func loadVAE(path: String) throws -> VAE {
        let file = try open(path, expecting: .vae)
        let architecture: VAEArchitecture = try decodeMetadata(file, "architecture", path: path)
        do { try validateWithinLimits(architecture) } catch {
            throw DetectorError.modelFile(path: path, reason: "unusable VAE architecture: \(error)")
        }
        let network = VAE(architecture: architecture)
        try loadState(network, from: file, prefix: "", path: path)
        network.eval()
        return network
    }

    /// The training summary of a zoo generator file, if it has one.
    public static func trainingSummary(path: String) throws -> ZooTrainingSummary? {
        let file = try openSafeTensors(path, kind: "zoo generator file")
        return file.metadata["training"] == nil ? nil : try decodeMetadata(file, "training", path: path)
    }

    /// Throws unless `architecture` is valid and its largest layer (the VAE's linear layers, Z × C2·(P/8)²)
    /// stays within `ZooGeneratorLimits`.
    static func validateWithinLimits(_ architecture: VAEArchitecture) throws {
        try architecture.validate()
        let side = architecture.patchSize / 8
        guard architecture.latentSize <= ZooGeneratorLimits.maximumLatentSize,
            architecture.patchSize <= ZooGeneratorLimits.maximumPatchSize,
            architecture.widths.allSatisfy({ $0 <= ZooGeneratorLimits.maximumWidth }),
            architecture.latentSize * architecture.widths[2] * side * side <= ZooGeneratorLimits.maximumLayerWeights
        else {
            throw DetectorError.invalidConfiguration(
                "VAE sizes exceed the zoo's limits (latent ≤ \(ZooGeneratorLimits.maximumLatentSize), widths ≤ "
                    + "\(ZooGeneratorLimits.maximumWidth), patch ≤ \(ZooGeneratorLimits.maximumPatchSize), "
                    + "≤ \(ZooGeneratorLimits.maximumLayerWeights) weights per layer): \(architecture)")
        }
    }

    private static func open(_ path: String, expecting kind: Kind) throws -> SafeTensorsFile {
        let file = try openSafeTensors(path, kind: "zoo generator file")
        guard file.metadata["format"] == format else {
            throw DetectorError.modelFile(
                path: path, reason: "format is '\(file.metadata["format"] ?? "none")', expected '\(format)'")
        }
        guard file.metadata["kind"] == kind.rawValue else {
            throw DetectorError.modelFile(
                path: path, reason: "holds a '\(file.metadata["kind"] ?? "none")', expected a '\(kind.rawValue)'")
        }
        return file
    }

    private static func write(
        _ network: Module, kind: Kind, architecture: String, _ training: ZooTrainingSummary?, _ path: String
    ) throws {
        var metadata = [
            "format": format, "kind": kind.rawValue, "architecture": architecture, "version": DetectorModel.version,
        ]
        if let training { metadata["training"] = try jsonString(training) }
        let file = SafeTensorsFile(tensors: try safeTensorsEntries(network.stateDictionary(), prefix: ""), metadata: metadata)
        do { try file.write(toPath: path) } catch let e as SafeTensorsError {
            throw DetectorError.modelFile(path: path, reason: "cannot save zoo generator: \(e.reason)")
        }
    }
}

extension GeneratorArchitecture {
    /// Throws unless the architecture is valid and within the sizes a generator file may ask for
    /// (checked before a generator is allocated from a file).
    func validateWithinLimits() throws {
        try validate()
        guard latentSize <= ZooGeneratorLimits.maximumLatentSize, baseWidth <= 4 * ZooGeneratorLimits.maximumWidth,
            minimumWidth <= 4 * ZooGeneratorLimits.maximumWidth, patchSize <= ZooGeneratorLimits.maximumPatchSize
        else {
            throw DetectorError.invalidConfiguration(
                "generator sizes exceed the limits (latent ≤ \(ZooGeneratorLimits.maximumLatentSize), widths ≤ "
                    + "\(4 * ZooGeneratorLimits.maximumWidth), patch ≤ "
                    + "\(ZooGeneratorLimits.maximumPatchSize)): \(self)")
        }
    }
}
