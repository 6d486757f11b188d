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

/// How a frame's evidence becomes its probability: the frame score s = the network's area logit +
/// `scaleWeight` · the scale-consistency evidence (`ScaleConsistency.frameScore`) + `gridWeight` · the
/// grid-consistency evidence (`GridConsistency.frameScore`) + `latticeWeight` · the lattice-consistency
/// evidence (`LatticeConsistency.frameScore`) + `channelWeight` · the channel-consistency evidence
/// (`ChannelConsistency.frameScore`) + `copyMoveWeight` · the copy-move evidence
/// (`CopyMoveConsistency.frameScore`) — or, with a `standardization`, its combination of the
/// scores standardized on real frames — then Platt scaling p = σ(a·s + b) (Platt 1999). a = 1, b = 0,
/// no evidence weights is uncalibrated, network only. With an `areaCountSlope` β the area logit (and
/// every cell's logit) first loses β · ln(the frame's scored 64-pixel areas).
public struct Calibration: Codable, Equatable, Sendable {
    public var a: Double
    public var b: Double
    /// Weight of the scale-consistency evidence in the frame score, in area-logit units per unit of
    /// evidence; 0 (and absent from files written before it existed) = not weighed.
    public var scaleWeight: Double
    /// Weight of the grid-consistency evidence, likewise.
    public var gridWeight: Double
    /// Weight of the lattice-consistency evidence, likewise.
    public var latticeWeight: Double
    /// Weight of the channel-consistency evidence, likewise.
    public var channelWeight: Double
    /// Weight of the copy-move evidence, likewise.
    public var copyMoveWeight: Double
    /// Each score standardized on real frames instead of the weights above (which are then 0); nil
    /// (and absent from files written before it existed) = the weights.
    public var standardization: Standardization?
    /// The size prior: how much a real frame's largest area logit grows per unit of ln(number of
    /// areas scored), subtracted so that a 12-megapixel photo, with 47 times the areas of a 640×480
    /// one, is not called fake for its larger maximum alone; 0 (and absent from files written before it
    /// existed) = none.
    public var areaCountSlope: Double
    public init(
        a: Double = 1, b: Double = 0, scaleWeight: Double = 0, gridWeight: Double = 0, latticeWeight: Double = 0,
        channelWeight: Double = 0, copyMoveWeight: Double = 0, standardization: Standardization? = nil,
        areaCountSlope: Double = 0
    ) {
        self.a = a; self.b = b; self.scaleWeight = scaleWeight; self.gridWeight = gridWeight
        self.latticeWeight = latticeWeight; self.channelWeight = channelWeight; self.copyMoveWeight = copyMoveWeight
        self.standardization = standardization; self.areaCountSlope = areaCountSlope
    }
    public static let identity = Calibration()
    /// Largest evidence weight a model file may hold: each evidence is a log ratio (typically 0.1–1), so
    /// a larger weight would let it alone decide every frame.
    public static let maximumScaleWeight = 100.0
    /// Largest size prior a model file may hold: the maximum of N independent standard normal values
    /// grows by 0.19–0.27 per unit of ln N over 10³–10⁶ areas (1/√(2 ln N)), times the areas' spread,
    /// and real frames measure 0.27–0.52 logit per unit (Docs/generalization.md); 5 would cancel any
    /// evidence in a large frame.
    public static let maximumAreaCountSlope = 5.0

    /// A logit less the size prior for a frame with `areaCount` scored areas (at least 1).
    public func sizeAdjusted(_ logit: Double, areaCount: Int) -> Double {
        areaCountSlope == 0 ? logit : logit - areaCountSlope * log(Double(max(1, areaCount)))
    }

    /// The weight of one evidence.
    public func weight(_ evidence: FrameEvidence) -> Double {
        switch evidence {
        case .scale: return scaleWeight
        case .grid: return gridWeight
        case .lattice: return latticeWeight
        case .channel: return channelWeight
        case .copyMove: return copyMoveWeight
        }
    }

    /// Sets the weight of one evidence.
    public mutating func setWeight(_ evidence: FrameEvidence, _ value: Double) {
        switch evidence {
        case .scale: scaleWeight = value
        case .grid: gridWeight = value
        case .lattice: latticeWeight = value
        case .channel: channelWeight = value
        case .copyMove: copyMoveWeight = value
        }
    }

    /// The evidences this calibration weighs (weight > 0, or standardized), in `FrameEvidence.allCases`
    /// order.
    public var weighedEvidence: [FrameEvidence] {
        FrameEvidence.allCases.filter { e in standardization.map { $0.moments(e) != nil } ?? (weight(e) > 0) }
    }

    /// σ(a·s + b).
    public func probability(score s: Double) -> Double { 1 / (1 + exp(-(a * s + b))) }

    /// The frame score: the area logit plus each weighed evidence times its weight (missing evidence
    /// counts as 0), or the standardization's combination.
    public func score(areaLogit: Double, evidence: (FrameEvidence) -> Double?) -> Double {
        if let standardization { return standardization.score(areaLogit: areaLogit, evidence: evidence) }
        return weighedEvidence.reduce(areaLogit) { $0 + weight($1) * (evidence($1) ?? 0) }
    }

    /// What each weighed evidence adds to the score: its weight times its value, or its standardized
    /// value; evidences that are missing (or, standardized, do not apply) are left out.
    public func contributions(evidence: (FrameEvidence) -> Double?) -> [(evidence: FrameEvidence, value: Double)] {
        weighedEvidence.compactMap { e in
            guard let v = evidence(e) else { return nil }
            if let standardization { return standardization.standardized(e, v).map { (e, $0) } }
            return (e, weight(e) * v)
        }
    }

    /// The evidence it weighs and how, for reports and notes: ", scale-consistency weight 0.540, …", or
    /// ", the largest of the network and scale-, lattice-consistency standardized on real frames"; empty
    /// for the network alone.
    public var evidenceSummary: String {
        let weighed = weighedEvidence
        guard !weighed.isEmpty else { return "" }
        guard standardization == nil else {
            return ", the largest of the network and "
                + weighed.map { "\($0.rawValue)-" }.joined(separator: ", ") + "consistency standardized on real frames"
        }
        return weighed.map { String(format: ", %@-consistency weight %.3f", $0.rawValue, weight($0)) }.joined()
    }

    /// The size prior for reports and notes: ", size prior 0.476 per ln(areas)", or empty without one.
    public var sizePriorSummary: String {
        areaCountSlope == 0 ? "" : String(format: ", size prior %.3f per ln(areas)", areaCountSlope)
    }

    /// The score of a heatmap cell from its logit in a frame of `areaCount` scored areas: the logit less
    /// the size prior, or its standardized value, as the frame's area logit is scored.
    public func cellScore(logit: Double, areaCount: Int) -> Double {
        let adjusted = sizeAdjusted(logit, areaCount: areaCount)
        return standardization?.network.standardized(adjusted) ?? adjusted
    }

    /// `score(areaLogit:evidence:)` with the evidences named.
    public func score(
        areaLogit: Double, scaleEvidence: Double?, gridEvidence: Double? = nil, latticeEvidence: Double? = nil,
        channelEvidence: Double? = nil, copyMoveEvidence: Double? = nil
    ) -> Double {
        score(areaLogit: areaLogit) { e in
            switch e {
            case .scale: return scaleEvidence
            case .grid: return gridEvidence
            case .lattice: return latticeEvidence
            case .channel: return channelEvidence
            case .copyMove: return copyMoveEvidence
            }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case a, b, scaleWeight, gridWeight, latticeWeight, channelWeight, copyMoveWeight, standardization, areaCountSlope
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        a = try c.decode(Double.self, forKey: .a)
        b = try c.decode(Double.self, forKey: .b)
        scaleWeight = try c.decodeIfPresent(Double.self, forKey: .scaleWeight) ?? 0
        gridWeight = try c.decodeIfPresent(Double.self, forKey: .gridWeight) ?? 0
        latticeWeight = try c.decodeIfPresent(Double.self, forKey: .latticeWeight) ?? 0
        channelWeight = try c.decodeIfPresent(Double.self, forKey: .channelWeight) ?? 0
        copyMoveWeight = try c.decodeIfPresent(Double.self, forKey: .copyMoveWeight) ?? 0
        standardization = try c.decodeIfPresent(Standardization.self, forKey: .standardization)
        areaCountSlope = try c.decodeIfPresent(Double.self, forKey: .areaCountSlope) ?? 0
    }

    /// Writes an evidence weight only when it is used, so a network-only calibration reads as before.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(a, forKey: .a)
        try c.encode(b, forKey: .b)
        if scaleWeight != 0 { try c.encode(scaleWeight, forKey: .scaleWeight) }
        if gridWeight != 0 { try c.encode(gridWeight, forKey: .gridWeight) }
        if latticeWeight != 0 { try c.encode(latticeWeight, forKey: .latticeWeight) }
        if channelWeight != 0 { try c.encode(channelWeight, forKey: .channelWeight) }
        if copyMoveWeight != 0 { try c.encode(copyMoveWeight, forKey: .copyMoveWeight) }
        try c.encodeIfPresent(standardization, forKey: .standardization)
        if areaCountSlope != 0 { try c.encode(areaCountSlope, forKey: .areaCountSlope) }
    }

    /// Why a calibration read from a file cannot be used, or nil: a, b finite; weights within
    /// 0…`maximumScaleWeight`; a size prior within 0…`maximumAreaCountSlope`; a standardization valid
    /// and with every weight 0.
    public var problem: String? {
        guard a.isFinite, b.isFinite else { return "calibration is not finite: \(self)" }
        guard (0...Calibration.maximumAreaCountSlope).contains(areaCountSlope) else {
            return "calibration's size prior \(areaCountSlope) is outside 0…\(Calibration.maximumAreaCountSlope)"
        }
        for e in FrameEvidence.allCases where !(0...Calibration.maximumScaleWeight).contains(weight(e)) {
            return "calibration's \(e.rawValue) weight \(weight(e)) is outside 0…\(Calibration.maximumScaleWeight)"
        }
        guard let standardization else { return nil }
        if FrameEvidence.allCases.contains(where: { weight($0) != 0 }) {
            return "calibration has both evidence weights and a standardization"
        }
        return standardization.problem.map { "calibration's standardization: \($0)" }
    }
}

/// A fusion fitted on real frames alone: each score (the network's area logit, each evidence) is
/// standardized by its mean and spread over real frames, and the frame score is the largest of them —
/// the frame is as suspicious as its most unusual measure, in standard deviations of real frames.
/// An evidence of 0 or none means its measure found nothing to compare (no JPEG lattice, no area to
/// compare with its surroundings): it does not count, rather than counting as a typical frame, and its
/// moments are over the real frames where it applies.
public struct Standardization: Codable, Equatable, Sendable {
    /// Mean and standard deviation of one score over real frames.
    public struct Moments: Codable, Equatable, Sendable {
        public var mean: Double, spread: Double
        public init(mean: Double, spread: Double) { self.mean = mean; self.spread = spread }
        public func standardized(_ v: Double) -> Double { (v - mean) / spread }
        /// Largest |mean| and spread a file may hold: every score is a logit or a log ratio.
        static let limit = 1e6
        var problem: String? {
            guard mean.isFinite, abs(mean) <= Moments.limit else { return "mean \(mean) is not in ±\(Moments.limit)" }
            guard spread.isFinite, spread > 0, spread <= Moments.limit else {
                return "spread \(spread) is not in (0, \(Moments.limit)]"
            }
            return nil
        }
    }
    public var network: Moments
    public var scale: Moments?, grid: Moments?, lattice: Moments?, channel: Moments?, copyMove: Moments?

    public init(
        network: Moments, scale: Moments? = nil, grid: Moments? = nil, lattice: Moments? = nil, channel: Moments? = nil,
        copyMove: Moments? = nil
    ) {
        self.network = network; self.scale = scale; self.grid = grid; self.lattice = lattice; self.channel = channel
        self.copyMove = copyMove
    }

    public func moments(_ e: FrameEvidence) -> Moments? {
        switch e {
        case .scale: return scale
        case .grid: return grid
        case .lattice: return lattice
        case .channel: return channel
        case .copyMove: return copyMove
        }
    }

    public mutating func setMoments(_ e: FrameEvidence, _ m: Moments?) {
        switch e {
        case .scale: scale = m
        case .grid: grid = m
        case .lattice: lattice = m
        case .channel: channel = m
        case .copyMove: copyMove = m
        }
    }

    /// An evidence's standardized value; nil where it does not apply (0 or less) or is not weighed.
    public func standardized(_ e: FrameEvidence, _ v: Double) -> Double? {
        guard v > 0, let m = moments(e) else { return nil }
        return m.standardized(v)
    }

    /// The largest standardized score.
    public func score(areaLogit: Double, evidence: (FrameEvidence) -> Double?) -> Double {
        FrameEvidence.allCases.reduce(network.standardized(areaLogit)) { best, e in
            max(best, evidence(e).flatMap { standardized(e, $0) } ?? best)
        }
    }

    var problem: String? {
        if let p = network.problem { return "network \(p)" }
        for e in FrameEvidence.allCases { if let p = moments(e)?.problem { return "\(e.rawValue) \(p)" } }
        return nil
    }
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
    /// Files larger than `maximumFileSize` bytes are refused before they are read.
    public static func load(
        path: String, expecting: DetectorArchitecture? = nil, allowCheckpoint: Bool = false,
        maximumFileSize: Int = SafeTensorsFile.defaultMaximumFileSize
    ) throws -> DetectorModel {
        let file = try openSafeTensors(path, kind: "model file", maximumFileSize: maximumFileSize)
        guard let format = file.metadata["format"] else {
            throw DetectorError.modelFile(path: path, reason: "no 'format' metadata; not an Unmask model file")
        }
        if allowCheckpoint && format == Trainer.checkpointFormat {
            let config: TrainingConfig = try decodeMetadata(file, "config", path: path)
            do { try config.validate() } catch {
                throw DetectorError.modelFile(path: path, reason: "checkpoint configuration: \(error)")
            }
            let d = Discriminator(architecture: config.discriminator)
            try loadState(d, from: file, prefix: "d.", path: path)
            try checkUsable(d, path: path)
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
        guard let threshold = file.metadata["threshold"].flatMap(Double.init), (0...1).contains(threshold) else {
            throw DetectorError.modelFile(
                path: path,
                reason: "missing or invalid 'threshold' metadata (a probability in 0…1): \(file.metadata["threshold"] ?? "none")")
        }
        if let problem = calibration.problem { throw DetectorError.modelFile(path: path, reason: problem) }
        let d = Discriminator(architecture: architecture)
        try loadState(d, from: file, prefix: "", path: path)
        try checkUsable(d, path: path)
        let model = DetectorModel(discriminator: d, calibration: calibration, threshold: threshold, training: training)
        model.fileVersion = file.metadata["version"] ?? "unknown"
        return model
    }
}

// MARK: - Helpers shared with checkpoints

/// Throws unless `network`'s loaded parameters and buffers are all finite and its patch logits vary on
/// the probe input: a broken model (NaN or infinite weights, or weights that make every output the
/// same) would otherwise give every frame one score and a confident verdict.
func checkUsable(_ network: Discriminator, path: String) throws {
    for (name, tensor) in network.stateDictionary().sorted(by: { $0.key < $1.key }) {
        let count = tensor.count, values = tensor.pointer
        if let bad = (0..<count).first(where: { !values[$0].isFinite }) {
            throw DetectorError.modelFile(
                path: path, reason: "tensor '\(name)' holds a non-finite value (\(values[bad])); the model is broken")
        }
    }
    network.eval()  // a training-mode forward would advance spectral norm's power iteration
    let side = network.architecture.patchSize
    let (patch, global) = network.forward(probeImages(side: side))  // (2, 1, side/8, side/8), (2, 1)
    let logits = Array(UnsafeBufferPointer(start: patch.pointer, count: patch.count))
    guard logits.allSatisfy(\.isFinite), global.array.allSatisfy(\.isFinite) else {
        throw DetectorError.modelFile(
            path: path, reason: "the model's output on a probe image is not finite; the model is broken")
    }
    guard let lowest = logits.min(), let highest = logits.max(), highest - lowest > 1e-6 * max(1, abs(highest)) else {
        throw DetectorError.modelFile(
            path: path,
            reason: "the model gives the same output for every part of two different probe images; the model is broken")
    }
}

/// Two fixed side×side probe images (2, 3, side, side): a seeded noise texture and a diagonal colour
/// ramp with a bright square, so a working detector's patch logits differ between their cells.
func probeImages(side: Int) -> Tensor {
    let probe = Tensor(shape: [2, 3, side, side])
    var rng = RandomGenerator(seed: 0x756E_6D61_736B)
    let plane = side * side
    for c in 0..<3 {
        for y in 0..<side {
            for x in 0..<side {
                let i = y * side + x
                probe.pointer[c * plane + i] = rng.uniform()
                let inSquare = (side / 4..<side / 2).contains(x) && (side / 4..<side / 2).contains(y)
                probe.pointer[(3 + c) * plane + i] = inSquare ? 1 : Float(x + c * y) / Float(2 * side)
            }
        }
    }
    return probe
}

/// Opens a safetensors file of the given kind ("model file", "checkpoint", …); errors name the file:
/// missing, a symbolic link that leads nowhere or in a loop, too large, or unreadable / corrupt / not
/// safetensors.
func openSafeTensors(
    _ path: String, kind: String, maximumFileSize: Int = SafeTensorsFile.defaultMaximumFileSize
) throws -> SafeTensorsFile {
    var status = stat()
    if stat(path, &status) != 0 {
        let code = errno
        var link = stat()
        let isLink = lstat(path, &link) == 0 && link.st_mode & S_IFMT == S_IFLNK
        switch code {
        case ELOOP:
            throw DetectorError.modelFile(path: path, reason: "\(kind) is a symbolic link in a loop (too many levels of links)")
        case ENOENT where isLink:
            throw DetectorError.modelFile(path: path, reason: "\(kind) is a symbolic link to a missing file")
        case ENOENT, ENOTDIR:
            throw DetectorError.modelFile(path: path, reason: "\(kind) does not exist")
        default:
            throw DetectorError.modelFile(path: path, reason: "cannot open \(kind): \(String(cString: strerror(code)))")
        }
    }
    do { return try SafeTensorsFile(path: path, maximumFileSize: maximumFileSize) } catch let e as SafeTensorsError {
        if case .fileTooLarge(let size, let limit) = e.reason {
            throw DetectorError.modelFile(
                path: path, reason: "\(kind) is \(size) bytes, over the limit of \(limit) bytes (\(limit >> 20) MiB); not read")
        }
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
