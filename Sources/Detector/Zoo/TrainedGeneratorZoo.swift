// Owns finding trained-generator families in a folder (Models/zoo/): which file names give which
// families, and the zoo of the built-ins plus those families. Files are known by name so that a
// misspelt or stray generator file is an error rather than a family silently missing. A family may
// be backed by several files (instances: other runs or seeds of the same architecture), because a
// detector trained on one generator learns that generator's fingerprint rather than the family's.
import Foundation
import MediaIO
import NeuralNet

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
                        + "named \(family.name).safetensors (or \(family.name).TAG.safetensors)")
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
                        + "\(family.name).safetensors (or \(family.name).TAG.safetensors)")
            }
            return [family]
        }
    }
}

extension TrainedGeneratorFile {
    /// The file and instance tag a folder entry names: `NAME.safetensors` (tag nil) or
    /// `NAME.TAG.safetensors`, NAME one of the cases and TAG 1–64 letters, digits, '-' or '_'
    /// (e.g. `gan-upsampling.seed2.safetensors`); nil for any other name.
    public static func parse(fileName: String) -> (file: TrainedGeneratorFile, tag: String?)? {
        guard fileName.hasSuffix(".safetensors") else { return nil }
        let parts = fileName.dropLast(".safetensors".count).split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let file = TrainedGeneratorFile(rawValue: String(parts[0])) else { return nil }
        guard parts.count == 2 else { return (file, nil) }
        let tag = parts[1]
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        guard (1...64).contains(tag.count), tag.allSatisfy({ allowed.contains($0) }) else { return nil }
        return (file, String(tag))
    }
}

/// One trained family backed by several generator files of the same kind: each fake draws one of
/// them from its seed (recorded as the `instance` parameter, the file's name without `.safetensors`).
public struct GeneratorInstances: FakeFamily {
    /// The instances, each with the name of its file without `.safetensors`; at least two.
    public let instances: [(file: String, family: any FakeFamily)]
    public var name: String { instances[0].family.name }
    public var group: String { instances[0].family.group }
    public var needsDonor: Bool { instances[0].family.needsDonor }
    public var allowsColourCorrection: Bool { instances[0].family.allowsColourCorrection }

    /// `instances` must share one name and group (files named after one family give that).
    public init(instances: [(file: String, family: any FakeFamily)]) {
        precondition(instances.count >= 2 && Set(instances.map { $0.family.name + "/" + $0.family.group }).count == 1)
        self.instances = instances
    }

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        let chosen = instances[Int(rng.next() % UInt64(instances.count))]
        var synthesis = try chosen.family.synthesize(frame: frame, donor: donor, mask: mask, rng: &rng)
        synthesis.parameters["instance"] = chosen.file
        return synthesis
    }
}

extension FakeZoo {
    /// Files of one name (`NAME.safetensors` and its `NAME.TAG.safetensors` instances) a folder may hold.
    public static let maximumInstances = 64

    /// The families of every trained-generator file in `folder` (see `TrainedGeneratorFile.parse`), in
    /// the order of `TrainedGeneratorFile`'s cases; a family with several files (its instances, the
    /// untagged file first, then by tag) is one `GeneratorInstances`. A missing folder, a folder
    /// without any generator file, a `.safetensors` file of another name, or a file that cannot be
    /// loaded is an error naming the folder or file.
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
        var entries: [(name: String, file: TrainedGeneratorFile, tag: String?)] = []
        for name in present.sorted() where name.hasSuffix(".safetensors") {
            guard let parsed = TrainedGeneratorFile.parse(fileName: name) else {
                throw DetectorError.modelFile(
                    path: folder + "/" + name,
                    reason: "not a trained-generator file name; expected one of \(expected.joined(separator: ", ")), "
                        + "or an instance NAME.TAG.safetensors of one of them (TAG: letters, digits, '-', '_')")
            }
            entries.append((name, parsed.file, parsed.tag))
        }
        guard !entries.isEmpty else {
            throw DetectorError.modelFile(
                path: folder, reason: "holds none of the trained-generator files \(expected.joined(separator: ", "))")
        }
        // Each instance is a network in memory for the whole run: bound them before loading any.
        let counts = Dictionary(grouping: entries, by: \.file).mapValues(\.count)
        if let (file, count) = counts.first(where: { $0.value > maximumInstances }) {
            throw DetectorError.modelFile(
                path: folder,
                reason: "holds \(count) files of \(file.rawValue); at most \(maximumInstances) instances per generator file")
        }
        return try TrainedGeneratorFile.allCases.flatMap { file -> [any FakeFamily] in
            let instances = try entries.filter { $0.file == file }.sorted { ($0.tag ?? "") < ($1.tag ?? "") }.map {
                (stem: String($0.name.dropLast(".safetensors".count)), families: try file.families(path: folder + "/" + $0.name))
            }
            guard let first = instances.first else { return [] }
            // A file gives its families in a fixed order (the VAE's two), so family j of every
            // instance is one family.
            return first.families.indices.map { j in
                instances.count == 1
                    ? first.families[j] : GeneratorInstances(instances: instances.map { ($0.stem, $0.families[j]) })
            }
        }
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
