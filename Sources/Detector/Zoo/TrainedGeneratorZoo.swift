// Owns finding trained-generator families in a folder (Models/zoo/): which file names give which
// families, and the zoo of the built-ins plus those families. Files are known by name so that a
// misspelt or stray generator file is an error rather than a family silently missing.
import Foundation

/// The generator files a trained-generator folder may hold.
public enum TrainedGeneratorFile: String, CaseIterable, Sendable {
    case autoencoderNearest = "autoencoder-nearest"
    case autoencoderBilinear = "autoencoder-bilinear"
    case autoencoderPixelShuffle = "autoencoder-pixelshuffle"
    case autoencoderTransposedConv = "autoencoder-transposed-conv"
    case vae
    case ganUpsampling = "gan-upsampling"
    case ganTransposedConv = "gan-transposed-conv"

    /// The file's name in the folder.
    public var fileName: String { rawValue + ".safetensors" }

    /// The families this file gives, loaded from `path`; a file of another kind than its name says
    /// is an error naming it.
    public func families(path: String) throws -> [any FakeFamily] {
        switch self {
        case .autoencoderNearest, .autoencoderBilinear, .autoencoderPixelShuffle, .autoencoderTransposedConv:
            let family = try AutoencoderFamily(path: path)
            guard family.name == rawValue else {
                throw DetectorError.modelFile(
                    path: path,
                    reason: "holds a '\(family.architecture.upsampler.rawValue)' autoencoder, so it must be "
                        + "named \(family.name).safetensors")
            }
            return [family]
        case .vae:
            return try VAEFamilies.families(path: path)
        case .ganUpsampling, .ganTransposedConv:
            let family = try AdversarialFamily(path: path)
            guard family.name == rawValue else {
                throw DetectorError.modelFile(
                    path: path,
                    reason: "holds a '\(family.kind.rawValue)' generator, so it must be named "
                        + "\(family.name).safetensors")
            }
            return [family]
        }
    }
}

extension FakeZoo {
    /// The families of every known generator file in `folder` (see `TrainedGeneratorFile`), in the
    /// order of that list. A missing folder, a folder without any of them, a `.safetensors` file of
    /// another name, or a file that cannot be loaded is an error naming the folder or file.
    public static func trainedGeneratorFamilies(in folder: String) throws -> [any FakeFamily] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DetectorError.modelFile(path: folder, reason: "trained-generator folder does not exist")
        }
        let expected = TrainedGeneratorFile.allCases.map(\.fileName)
        let present: [String]
        do { present = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw DetectorError.modelFile(path: folder, reason: "cannot list the trained-generator folder: \(error)")
        }
        if let stray = present.sorted().first(where: { $0.hasSuffix(".safetensors") && !expected.contains($0) }) {
            throw DetectorError.modelFile(
                path: folder + "/" + stray,
                reason: "not a trained-generator file name; expected one of \(expected.joined(separator: ", "))")
        }
        let files = TrainedGeneratorFile.allCases.filter { present.contains($0.fileName) }
        guard !files.isEmpty else {
            throw DetectorError.modelFile(
                path: folder, reason: "holds none of the trained-generator files \(expected.joined(separator: ", "))")
        }
        return try files.flatMap { try $0.families(path: folder + "/" + $0.fileName) }
    }

    /// The built-in families (`standard()`) plus the trained-generator families in `folder` (none when nil).
    public static func standard(trainedGenerators folder: String?) throws -> FakeZoo {
        guard let folder else { return standard() }
        return try standard().addingTrainedGenerators(in: folder)
    }

    /// This zoo plus the trained-generator families in `folder`; names must stay unique.
    public func addingTrainedGenerators(in folder: String) throws -> FakeZoo {
        try FakeZoo(families: families + FakeZoo.trainedGeneratorFamilies(in: folder))
    }
}
