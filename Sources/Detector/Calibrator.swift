// Owns frame calibration of a detector model: Platt scaling fitted on scored held-out frames, the
// threshold that keeps the false-positive rate within a target on the real frames of every variant,
// the minimum counts below which a fit is refused, and writing both into the model.
import Foundation

/// Too few frames to fit a calibration: what was there and what is needed.
public struct CalibrationError: Error, Equatable, CustomStringConvertible {
    public var realFrames: Int, fakeFrames: Int
    public var minimumRealFrames: Int, minimumFakeFrames: Int

    public var description: String {
        "too few held-out frames to calibrate: \(realFrames) real and \(fakeFrames) fake, the minimum is "
            + "\(minimumRealFrames) real and \(minimumFakeFrames) fake"
    }
}

/// Fits a model's frame probability and threshold on scored held-out frames.
public struct Calibrator: Sendable {
    /// Largest false-positive rate allowed on the real frames of each variant at the threshold.
    public var falsePositiveRate: Double
    /// Fewer real or fake frames than these is a `CalibrationError` (0 = any count).
    public var minimumRealFrames: Int
    public var minimumFakeFrames: Int
    /// The training-free evidences the frame score may also weigh (`FrameEvaluation.fitEvidenceFusion`,
    /// which keeps those that help); empty = the network alone, whatever weights the model had before.
    public var fusedEvidence: [FrameEvidence]
    /// How the evidence weights are chosen.
    public var evidenceWeighting: EvidenceWeighting
    /// Whether to fit a size prior (`Calibration.areaCountSlope`) on the real frames first: the
    /// least-squares slope of their network score on ln(areas scored), kept within
    /// 0…`Calibration.maximumAreaCountSlope`.
    public var sizePrior: Bool
    /// A calibration to keep (a model's own): its probabilities, evidence weighing and size prior stay,
    /// and only the threshold is set on the frames, so frames rank exactly as before. Nil: fit all.
    public var keptCalibration: Calibration?

    /// How `fusedEvidence` is weighed beside the network.
    public enum EvidenceWeighting: String, CaseIterable, Sendable {
        /// A logistic regression on the real and fake frames (`FrameEvaluation.fitEvidenceFusion`):
        /// keeps only the evidence that helps on the fakes given.
        case fitted
        /// Each score standardized on the real frames alone, the largest counting
        /// (`FrameEvaluation.fitRealFrameFusion`): the fakes given do not decide how much the network is
        /// trusted.
        case realFrames = "real-frames"
    }

    public init(
        falsePositiveRate: Double = 0.02, minimumRealFrames: Int = 0, minimumFakeFrames: Int = 0,
        fusedEvidence: [FrameEvidence] = [], evidenceWeighting: EvidenceWeighting = .fitted, sizePrior: Bool = false,
        keptCalibration: Calibration? = nil
    ) {
        precondition(
            keptCalibration == nil || (fusedEvidence.isEmpty && !sizePrior),
            "Calibrator: a kept calibration fixes its own evidence and size prior")
        self.falsePositiveRate = falsePositiveRate
        self.minimumRealFrames = minimumRealFrames; self.minimumFakeFrames = minimumFakeFrames
        self.fusedEvidence = fusedEvidence
        self.evidenceWeighting = evidenceWeighting
        self.sizePrior = sizePrior
        self.keptCalibration = keptCalibration
    }

    /// A fitted calibration and the frames it was fitted on, their probabilities recomputed with it.
    public struct Fit {
        public var calibration: Calibration
        public var threshold: Double
        /// The variants the frames came in ("original", "h264-crf28", …), sorted.
        public var variants: [String]
        public var frames: [ScoredFrame]

        /// What the threshold promises on new real frames like these, per variant: how many real frames
        /// it was set on, how many reach it, and the false-positive rate that bounds at 95 % confidence.
        public var guarantees: [ThresholdGuarantee] {
            variants.map { v in
                let real = frames.filter { !$0.isFake && $0.variant == v }
                return ThresholdGuarantee(
                    variant: v, realFrames: real.count, exceeding: real.filter { $0.probability >= threshold }.count)
            }
        }

        /// The variant whose guarantee is weakest (largest bound); nil without variants.
        public var weakestGuarantee: ThresholdGuarantee? {
            guarantees.max { $0.falsePositiveRateBound < $1.falsePositiveRateBound }
        }
    }

    /// The false-positive rate a threshold set on `realFrames` real frames can promise: the frames are a
    /// sample, so the rate on new frames is bounded only as tightly as their count allows
    /// (`FrameEvaluation.falsePositiveRateBound`). Frames of one video count as independent here, which
    /// they are not quite: the bound is then optimistic.
    public struct ThresholdGuarantee: Equatable, Sendable {
        public var variant: String
        public var realFrames: Int
        /// Real frames at or above the threshold.
        public var exceeding: Int
        public static let confidence = 0.95

        public var falsePositiveRateBound: Double {
            FrameEvaluation.falsePositiveRateBound(exceeding: exceeding, of: realFrames, confidence: Self.confidence)
        }

        /// One line for a report: the bound, what it rests on, and how many frames a `target` needs.
        public func summary(target: Double) -> String {
            var line = String(
                format: "false-positive rate on new real frames at most %.1f %% (95 %% confidence; %d of %d real %@ "
                    + "frames at or over the threshold)", 100 * falsePositiveRateBound, exceeding, realFrames, variant)
            if target > 0 && falsePositiveRateBound > target {
                line += String(
                    format: "; bounding it by %.1f %% needs at least %d real frames per variant", 100 * target,
                    FrameEvaluation.realFramesNeeded(forFalsePositiveRate: target, confidence: Self.confidence))
            }
            return line
        }
    }

    /// With `keptCalibration`, the frames' scores and probabilities recomputed with it and only the
    /// threshold set. Otherwise, with `sizePrior`, the size prior fitted on the real frames and taken
    /// off every network score; then Platt scaling on the frames' network scores (all variants together; with
    /// `fusedEvidence`, a fusion with their training-free evidence weighed by `evidenceWeighting`), the frames' scores and probabilities
    /// recomputed with it, then the smallest threshold at or above 0.5 that keeps the false-positive
    /// rate within `falsePositiveRate` on every variant's real frames. Throws `CalibrationError` below
    /// the minimum counts.
    public func fit(_ scored: [ScoredFrame]) throws -> Fit {
        let realCount = scored.filter { !$0.isFake }.count, fakeCount = scored.count - realCount
        guard realCount >= minimumRealFrames, fakeCount >= minimumFakeFrames else {
            throw CalibrationError(
                realFrames: realCount, fakeFrames: fakeCount, minimumRealFrames: minimumRealFrames,
                minimumFakeFrames: minimumFakeFrames)
        }
        var frames = scored
        let slope =
            keptCalibration?.areaCountSlope ?? (sizePrior ? Calibrator.areaCountSlope(scored.filter { !$0.isFake }) : 0)
        let prior = Calibration(areaCountSlope: slope)
        let adjusted = scored.map { f in
            var f = f
            f.areaLogit = prior.sizeAdjusted(f.networkScore, areaCount: f.scoredAreaCount)
            return f
        }
        var calibration: Calibration
        switch (keptCalibration, fusedEvidence.isEmpty, evidenceWeighting) {
        case (let kept?, _, _): calibration = kept
        case (nil, true, _): calibration = FrameEvaluation.fitCalibration(adjusted)
        case (nil, false, .fitted): calibration = FrameEvaluation.fitEvidenceFusion(adjusted, evidence: fusedEvidence)
        case (nil, false, .realFrames): calibration = FrameEvaluation.fitRealFrameFusion(adjusted, evidence: fusedEvidence)
        }
        calibration.areaCountSlope = slope
        for i in frames.indices {
            frames[i].score = calibration.score(areaLogit: adjusted[i].networkScore, evidence: frames[i].evidence)
            frames[i].probability = calibration.probability(score: frames[i].score)
        }
        let variants = Set(frames.map(\.variant)).sorted()
        let threshold = FrameEvaluation.threshold(
            forFalsePositiveRate: falsePositiveRate,
            realGroups: variants.map { v in frames.filter { !$0.isFake && $0.variant == v }.map(\.probability) })
        return Fit(calibration: calibration, threshold: threshold, variants: variants, frames: frames)
    }

    /// The least-squares slope of `real`'s network scores on ln(areas scored), within
    /// 0…`Calibration.maximumAreaCountSlope`; 0 when fewer than 2 frame sizes make a slope.
    static func areaCountSlope(_ real: [ScoredFrame]) -> Double {
        let x = real.map { log(Double(max(1, $0.scoredAreaCount))) }, y = real.map(\.networkScore)
        guard x.count >= 2 else { return 0 }
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        guard sxx > 1e-9 else { return 0 }
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let slope = sxy / sxx
        return slope.isFinite ? min(max(0, slope), Calibration.maximumAreaCountSlope) : 0
    }

    /// Writes `fit` into `model` and adds a note on what it was fitted on: `realFiles` files of
    /// `split` (files the trainer held out, or a whole folder the model never trained on).
    public func apply(_ fit: Fit, to model: DetectorModel, realFiles: Int, split: EvaluationSplit = .calibration) {
        model.calibration = fit.calibration
        model.threshold = fit.threshold
        let files =
            switch split {
            case .all: "\(realFiles) real files (every file of the folder)"
            case .validation: "\(realFiles) held-out real files (both halves)"
            case .calibration, .test: "\(realFiles) held-out real files"
            }
        model.training.notes +=
            (model.training.notes.isEmpty ? "" : "; ")
            + (keptCalibration == nil ? "frame calibration" : "threshold (calibration kept)")
            + " on \(files) (FPR ≤ \(falsePositiveRate), variants "
            + "\(fit.variants.joined(separator: ", "))"
            + fit.calibration.evidenceSummary + fit.calibration.sizePriorSummary
            + (fit.weakestGuarantee.map { String(format: "; FPR bound %.3f", $0.falsePositiveRateBound) } ?? "")
            + ")"
    }
}
