// Owns turning a run into a shippable detector: Platt calibration fitted on the validation patch
// scores and the export of a DetectorModel (a copy of D, its calibration and a training summary).
import Foundation
import NeuralNet

extension Trainer {
    /// Platt scaling (Platt 1999): fits p = σ(a·s + b) to labelled scores by Newton's method on the
    /// regularized log-likelihood, with Platt's smoothed targets (N₊+1)/(N₊+2) and 1/(N₋+2). Each
    /// class carries half the weight whatever its count, so p is the probability under equal priors:
    /// an unweighted fit moves b by ln(N₊/N₋), and a user who calibrates with four times as many fakes
    /// as real files would see every real frame reported near 0.8. Newton
    /// runs on standardized scores z = (s − mean)/spread and the result is mapped back: started at
    /// a = 1 on raw scores in the hundreds, every σ saturates, the Hessian vanishes and the steps
    /// diverge (a ≈ 6·10⁹ was seen), which saturated real frames at probability 1.
    public static func fitPlatt(positives: [Double], negatives: [Double], iterations: Int = 50) -> Calibration {
        guard !positives.isEmpty, !negatives.isEmpty else { return .identity }
        let positiveTarget = (Double(positives.count) + 1) / (Double(positives.count) + 2)
        let negativeTarget = 1 / (Double(negatives.count) + 2)
        let all = positives + negatives
        let mean = all.reduce(0, +) / Double(all.count)
        let variance = all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(all.count)
        let spread = variance > 1e-24 ? variance.squareRoot() : 1
        let positiveWeight = 0.5 * Double(all.count) / Double(positives.count)
        let negativeWeight = 0.5 * Double(all.count) / Double(negatives.count)
        let labelled =
            positives.map { (score: ($0 - mean) / spread, target: positiveTarget, weight: positiveWeight) }
            + negatives.map { (score: ($0 - mean) / spread, target: negativeTarget, weight: negativeWeight) }
        var a = 1.0, b = 0.0
        for _ in 0..<iterations {
            // Gradient and Hessian of the negative log-likelihood in (a, b), the Hessian's diagonal
            // nudged so that it stays invertible.
            var gradientA = 0.0, gradientB = 0.0, hessianAA = 1e-9, hessianAB = 0.0, hessianBB = 1e-9
            for (score, target, weight) in labelled {
                let p = 1 / (1 + exp(-(a * score + b)))
                let curvature = weight * max(p * (1 - p), 1e-12)
                gradientA += weight * (p - target) * score; gradientB += weight * (p - target)
                hessianAA += curvature * score * score; hessianAB += curvature * score; hessianBB += curvature
            }
            let determinant = hessianAA * hessianBB - hessianAB * hessianAB
            guard determinant.isFinite, abs(determinant) > 1e-18 else { break }
            let stepA = (hessianBB * gradientA - hessianAB * gradientB) / determinant
            let stepB = (hessianAA * gradientB - hessianAB * gradientA) / determinant
            a -= stepA; b -= stepB
            if abs(stepA) + abs(stepB) < 1e-9 { break }
        }
        // σ(a·z + b) with z = (s − mean)/spread is σ((a/spread)·s + b − a·mean/spread).
        let rawA = a / spread, rawB = b - a * mean / spread
        return rawA.isFinite && rawB.isFinite && rawA > 0 ? Calibration(a: rawA, b: rawB) : .identity
    }

    /// Validation scores (fake, real) with the current D, for calibration.
    public func validationScores() -> PatchScores {
        _ = validate()
        return lastScores
    }

    /// A model with a copy of D, Platt calibration fitted on the validation patch scores (the frame
    /// score pools cells the same way), threshold 0.5, and a training summary.
    public func exportModel(notes: String = "") throws -> DetectorModel {
        let exported = Discriminator(architecture: config.discriminator)
        try exported.load(stateDictionary: discriminator.stateDictionary())
        let validation = validate()
        let calibration = Trainer.fitPlatt(positives: lastScores.fake, negatives: lastScores.real)
        let summary = TrainingSummary(
            realFiles: data.real.training.count + data.real.validation.count,
            fakeFiles: (data.fake?.training.count ?? 0) + (data.fake?.validation.count ?? 0),
            steps: step, validationAUC: validation.auc, validationFalsePositiveRate: validation.falsePositiveRate,
            notes: notes)
        return DetectorModel(discriminator: exported, calibration: calibration, threshold: 0.5, training: summary)
    }
}

extension Trainer {
    /// Leaves in the discriminator the better of its current (final) state and an earlier state, and
    /// returns the step of the one kept. Validation fakes come from the generator of the moment, so an
    /// AUC measured at an earlier step was against an easier (or another) generator: the earlier state
    /// is scored again against the current generator and must beat `finalAUC` to be kept.
    public func keepBetterDetector(finalAUC: Double, earlier: (step: Int, state: [String: Tensor])?) throws -> Int {
        guard let earlier, earlier.step != step else { return step }
        let finalState = discriminator.stateDictionary()
        try discriminator.load(stateDictionary: earlier.state)
        if validate().auc > finalAUC { return earlier.step }
        try discriminator.load(stateDictionary: finalState)
        return step
    }
}
