// Owns the detector model file: a safetensors file with every discriminator parameter and buffer and
// string metadata (format `unmask.model/1`, architecture, calibration, threshold, training summary,
// version), loaded with errors that name the file, saved atomically.
import Foundation
import NeuralNet

/// Errors from the Detector module; descriptions are one line and name the file when there is one.
public enum DetectorError: Error, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    /// A model or checkpoint file that cannot be used: path and reason.
    case modelFile(path: String, reason: String)
    /// Training data that cannot be used: folder or file and reason.
    case trainingData(path: String, reason: String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): return "invalid configuration: \(m)"
        case .modelFile(let p, let r): return "\(p): \(r)"
        case .trainingData(let p, let r): return "\(p): \(r)"
        case .invalidInput(let m): return "invalid input: \(m)"
        }
    }
}

/// Platt scaling of the frame score s: p = σ(a·s + b) (Platt 1999). a = 1, b = 0 is uncalibrated.
public struct Calibration: Codable, Equatable, Sendable {
    public var a: Double
    public var b: Double
    public init(a: Double = 1, b: Double = 0) { self.a = a; self.b = b }
    public static let identity = Calibration()

    /// σ(a·s + b).
    public func probability(score s: Double) -> Double { 1 / (1 + exp(-(a * s + b))) }
}

/// What a model was trained on (free-form summary kept in the file).
public struct TrainingSummary: Codable, Equatable, Sendable {
    public var realFiles: Int
    public var fakeFiles: Int
    public var steps: Int
    public var validationAUC: Double?
    public var validationFalsePositiveRate: Double?
    public var notes: String
    /// Where a retrained model comes from (`unmask retrain`); nil for a model trained from scratch.
    public var lineage: ModelLineage? = nil
    public init(
        realFiles: Int = 0, fakeFiles: Int = 0, steps: Int = 0, validationAUC: Double? = nil,
        validationFalsePositiveRate: Double? = nil, notes: String = ""
    ) {
        self.realFiles = realFiles; self.fakeFiles = fakeFiles; self.steps = steps
        self.validationAUC = validationAUC; self.validationFalsePositiveRate = validationFalsePositiveRate; self.notes = notes
    }
}

/// A trained detector: the discriminator plus what is needed to turn its logits into a decision.
public final class DetectorModel {
    /// The value of the `format` metadata key.
    public static let format = "unmask.model/1"
    /// The Detector module version written into new files.
    public static let version = "0.1.0"

    public let discriminator: Discriminator
    public var architecture: DetectorArchitecture { discriminator.architecture }
    public var calibration: Calibration
    /// Probability at or above which a frame is called fake.
    public var threshold: Double
    public var training: TrainingSummary
    /// The version string read from the file (or `version` for a new model).
    public private(set) var fileVersion: String

    /// Wraps `discriminator` (switched to eval mode).
    public init(
        discriminator: Discriminator, calibration: Calibration = .identity, threshold: Double = 0.5,
        training: TrainingSummary = TrainingSummary()
    ) {
        self.discriminator = discriminator
        self.calibration = calibration
        self.threshold = threshold
        self.training = training
        self.fileVersion = DetectorModel.version
        discriminator.eval()
    }

    /// An untrained model with weights from `seed` (for tests and tooling).
    public convenience init(architecture: DetectorArchitecture = .standard, seed: UInt64 = 0) {
        self.init(discriminator: Discriminator(architecture: architecture, seed: seed))
    }

    // MARK: Saving

    /// The model as a safetensors file (tensors sorted by name, metadata as JSON strings).
    public func safeTensorsFile() throws -> SafeTensorsFile {
        var tensors: [(String, SafeTensorsArray)] = []
        for (name, t) in discriminator.stateDictionary().sorted(by: { $0.key < $1.key }) {
            tensors.append((name, try SafeTensorsArray(shape: t.shape, floats: t.array)))
        }
        return SafeTensorsFile(
            tensors: tensors,
            metadata: [
                "format": DetectorModel.format,
                "architecture": try jsonString(architecture),
                "calibration": try jsonString(calibration),
                "threshold": String(threshold),
                "training": try jsonString(training),
                "version": DetectorModel.version,
            ])
    }

    /// Writes the model to `path` atomically (temporary file + rename).
    public func save(to path: String) throws {
        do {
            try safeTensorsFile().write(toPath: path)
        } catch let e as SafeTensorsError {
            throw DetectorError.modelFile(path: path, reason: "cannot save model: \(e.reason)")
        }
    }

    // MARK: Loading

    /// Loads a model file. Errors name the file: missing or unreadable, corrupt, not an
    /// `unmask.model/1` file (for example a training checkpoint), or weights that do not fit the
    /// architecture the metadata declares. With `expecting`, a different architecture is an error too.
    /// With `allowCheckpoint`, a training checkpoint loads as its discriminator with identity calibration
    /// and threshold 0.5 (to evaluate or calibrate a run in progress).
    public static func load(path: String, expecting: DetectorArchitecture? = nil, allowCheckpoint: Bool = false) throws
        -> DetectorModel
    {
        let file = try openSafeTensors(path, kind: "model file")
        guard let format = file.metadata["format"] else {
            throw DetectorError.modelFile(path: path, reason: "no 'format' metadata; not an Unmask model file")
        }
        if allowCheckpoint && format == Trainer.checkpointFormat {
            let config: TrainingConfig = try decodeMetadata(file, "config", path: path)
            let d = Discriminator(architecture: config.discriminator)
            try loadState(d, from: file, prefix: "d.", path: path)
            let step = file.metadata["step"].flatMap(Int.init) ?? 0
            return DetectorModel(
                discriminator: d, calibration: .identity, threshold: 0.5,
                training: TrainingSummary(steps: step, notes: "from checkpoint \((path as NSString).lastPathComponent)"))
        }
        guard format == DetectorModel.format else {
            let hint = format.hasPrefix("unmask.checkpoint") ? " (a training checkpoint; export a model from it first)" : ""
            throw DetectorError.modelFile(path: path, reason: "format is '\(format)', expected '\(DetectorModel.format)'\(hint)")
        }
        let architecture: DetectorArchitecture = try decodeMetadata(file, "architecture", path: path)
        do { try architecture.validate() } catch {
            throw DetectorError.modelFile(path: path, reason: "architecture metadata: \(error)")
        }
        if let expecting, expecting != architecture {
            throw DetectorError.modelFile(
                path: path, reason: "architecture \(architecture) differs from the expected \(expecting)")
        }
        let calibration: Calibration = try decodeMetadata(file, "calibration", path: path)
        let training: TrainingSummary = (try? decodeMetadata(file, "training", path: path)) ?? TrainingSummary()
        guard let threshold = file.metadata["threshold"].flatMap(Double.init), threshold.isFinite else {
            throw DetectorError.modelFile(path: path, reason: "missing or invalid 'threshold' metadata")
        }
        let d = Discriminator(architecture: architecture)
        try loadState(d, from: file, prefix: "", path: path)
        let model = DetectorModel(discriminator: d, calibration: calibration, threshold: threshold, training: training)
        model.fileVersion = file.metadata["version"] ?? "unknown"
        return model
    }
}

// MARK: - Helpers shared with checkpoints

/// Opens a safetensors file of the given kind ("model file", "checkpoint", …); errors name the file:
/// missing, or unreadable / corrupt / not safetensors.
func openSafeTensors(_ path: String, kind: String) throws -> SafeTensorsFile {
    guard FileManager.default.fileExists(atPath: path) else {
        throw DetectorError.modelFile(path: path, reason: "\(kind) does not exist")
    }
    do { return try SafeTensorsFile(path: path) } catch let e as SafeTensorsError {
        throw DetectorError.modelFile(path: path, reason: "not a readable \(kind) (corrupt or not safetensors): \(e.reason)")
    }
}

func jsonString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

func decodeMetadata<T: Decodable>(_ file: SafeTensorsFile, _ key: String, path: String) throws -> T {
    guard let text = file.metadata[key] else {
        throw DetectorError.modelFile(path: path, reason: "missing '\(key)' metadata")
    }
    do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
        throw DetectorError.modelFile(path: path, reason: "invalid '\(key)' metadata: \(text.prefix(200))")
    }
}

/// Loads `module`'s parameters and buffers from tensors named `prefix + key`; shape or key mismatches
/// become a model-file error naming the file (another architecture's weights).
func loadState(_ module: Module, from file: SafeTensorsFile, prefix: String, path: String) throws {
    var dict: [String: Tensor] = [:]
    for name in file.names where name.hasPrefix(prefix) {
        guard let array = file[name] else { continue }
        guard case .f32(let values) = array.data else {
            throw DetectorError.modelFile(path: path, reason: "tensor '\(name)' is not F32")
        }
        dict[String(name.dropFirst(prefix.count))] = Tensor(shape: array.shape, data: values)
    }
    do { try module.load(stateDictionary: dict, strict: true) } catch let e as NeuralNetError {
        throw DetectorError.modelFile(
            path: path, reason: "weights do not match the architecture (another model or version?): \(e)")
    }
}

func safeTensorsEntries(_ dict: [String: Tensor], prefix: String) throws -> [(String, SafeTensorsArray)] {
    try dict.sorted(by: { $0.key < $1.key }).map {
        (prefix + $0.key, try SafeTensorsArray(shape: $0.value.shape, floats: $0.value.array))
    }
}
