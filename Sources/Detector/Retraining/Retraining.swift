// Owns the parts of a retrain between training and the decision: the fine-tuning configuration taken
// from the base model, whole held-out frames scored by one or two models (real frames, one region fake
// of each by a replayed zoo family, and the new fakes), frame calibration on the calibration part, and
// the guard's comparison on the guard part.
import Foundation
import MediaIO
import NeuralNet

/// Settings of a retrain that are not the data.
public struct RetrainSettings: Sendable {
    public var learningRateD: Float = 1e-4
    public var learningRateG: Float = 1e-4
    public var dStepsPerGStep = 2
    public var validateEvery = 100
    public var seed: UInt64 = 1
    /// The adversarial generator; nil = the default one at the detector's patch size.
    public var generator: GeneratorArchitecture?
    /// The zoo families replayed (those the base model was trained on).
    public var replay = ZooTrainingConfig()
    /// Largest false-positive rate on held-out real frames the calibrated threshold allows.
    public var calibrationFalsePositiveRate = 0.02
    public var minimums = RetrainMinimums()
    public var limits = GuardLimits()
    public init() {}
}

public enum Retraining {
    /// Fine-tuning from a base model of `architecture`: a lower D learning rate than training from
    /// scratch (1e-4 instead of 4e-4), the adversarial generator still running, and supervised fakes
    /// drawn 3 : 3 : 1 : ½ from the new fakes, the replayed zoo families, generated partial fakes and
    /// self-blended ones, beside 16 real patches per step.
    public static func configuration(architecture: DetectorArchitecture, settings: RetrainSettings) -> TrainingConfig {
        var generator = settings.generator ?? GeneratorArchitecture()
        generator.patchSize = architecture.patchSize
        var config = TrainingConfig(
            discriminator: architecture, generator: generator, otherFakesPerBatch: 12,
            dStepsPerGStep: settings.dStepsPerGStep, learningRateD: settings.learningRateD,
            learningRateG: settings.learningRateG, validateEvery: settings.validateEvery, validationPatches: 192,
            seed: settings.seed)
        config.fakeMix = FakeMix(partial: 1, selfBlended: 0.5, media: 3, vaeBlended: 0, vaeSample: 0, zoo: 3)
        config.zoo = settings.replay
        return config
    }

    /// Scores whole frames of `real` and `fake` sources with each scorer: every real frame, one region
    /// fake of it by a replayed family (`zoo`, nil = none; the donor is a frame of the next real
    /// file), and every frame of the fake sources. One frame is made at a time. Returns, per scorer,
    /// the scored frames with their kinds and file indices in the same order.
    public static func scoreFrames(
        real: [MediaSource], fake: [MediaSource], zoo: FakeZoo?, scorers: [FrameScorer], seed: UInt64,
        progress: ((Int) -> Void)? = nil
    ) throws -> [(kind: GuardFrame.Kind, file: Int, scored: [ScoredFrame])] {
        var out: [(kind: GuardFrame.Kind, file: Int, scored: [ScoredFrame])] = []
        func score(_ frame: EvaluationFrame, kind: GuardFrame.Kind, file: Int) throws {
            let scored = try scorers.map { try FrameEvaluation.score([frame], scorer: $0)[0] }
            out.append((kind, file, scored))
            progress?(out.count)
        }
        for (fileIndex, source) in real.enumerated() {
            for (frameIndex, stored) in source.frames.enumerated() {
                let image = stored.rgbImage
                try score(
                    EvaluationFrame(source: source.relativePath, isFake: false, kind: "real", variant: "original", image: image),
                    kind: .real, file: fileIndex)
                guard let zoo else { continue }
                let donorSource = real[(fileIndex + 1) % real.count]
                let donor = donorSource.frames[frameIndex % donorSource.frames.count].rgbImage
                let fakeSeed = seed &+ UInt64(fileIndex) &* 1_000_003 &+ UInt64(frameIndex) &* 1009
                let made = try zoo.makeFake(real: image, donor: donor, seed: fakeSeed)
                try score(
                    EvaluationFrame(
                        source: source.relativePath, isFake: true, kind: "zoo:" + made.family, variant: "original",
                        image: made.image, region: made.mask.box),
                    kind: .replay(family: made.family), file: fileIndex)
            }
        }
        for (fileIndex, source) in fake.enumerated() {
            for stored in source.frames {
                try score(
                    EvaluationFrame(
                        source: source.relativePath, isFake: true, kind: "new", variant: "original", image: stored.rgbImage,
                        region: stored.fakeArea?.box),
                    kind: .newFake, file: fileIndex)
            }
        }
        return out
    }

    /// Fits the retrained model's frame calibration and threshold on the calibration part (real
    /// frames, their replay fakes and the new fakes) and writes them into `model`. Throws
    /// `CalibrationError` below the minimum frame counts.
    public static func calibrate(
        _ model: DetectorModel, data: RetrainData, zoo: FakeZoo?, settings: RetrainSettings,
        progress: ((Int) -> Void)? = nil
    ) throws -> Calibrator.Fit {
        let scored = try scoreFrames(
            real: data.real.calibration, fake: data.fake.calibration, zoo: zoo, scorers: [FrameScorer(model: model)],
            seed: settings.seed ^ 0xCA11_B8A7E, progress: progress)
        // A model that weighs training-free evidence (its base did) keeps weighing the same evidence the same way.
        let calibrator = Calibrator(
            falsePositiveRate: settings.calibrationFalsePositiveRate, minimumRealFrames: settings.minimums.framesPerPart,
            minimumFakeFrames: settings.minimums.framesPerPart, fusedEvidence: model.calibration.weighedEvidence,
            evidenceWeighting: model.calibration.standardization == nil ? .fitted : .realFrames)
        let fit = try calibrator.fit(scored.map { $0.scored[0] })
        calibrator.apply(fit, to: model, realFiles: data.real.calibration.count)
        return fit
    }

    /// The guard's comparison of `base` and `retrained` on the guard part and the guard-only real files.
    public static func compare(
        base: DetectorModel, retrained: DetectorModel, data: RetrainData, zoo: FakeZoo?, settings: RetrainSettings,
        progress: ((Int) -> Void)? = nil
    ) throws -> GuardReport {
        let scored = try scoreFrames(
            real: data.real.guardSet + data.guardReal, fake: data.fake.guardSet, zoo: zoo,
            scorers: [FrameScorer(model: base), FrameScorer(model: retrained)], seed: settings.seed ^ 0x6A4D, progress: progress)
        let firstGuardOnly = data.real.guardSet.count
        let frames = scored.map {
            GuardFrame(
                kind: $0.kind, file: $0.file, before: $0.scored[0], after: $0.scored[1],
                guardOnly: $0.kind != .newFake && $0.file >= firstGuardOnly)
        }
        return RegressionGuard.compare(
            frames, thresholds: (before: base.threshold, after: retrained.threshold), limits: settings.limits)
    }
}
