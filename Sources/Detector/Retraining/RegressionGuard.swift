// Owns the regression guard of a retrain: the base and the retrained model scored on the same held-out
// frames — a standing set (real frames and region fakes of the replayed zoo families) and the new
// fakes — with bootstrap confidence intervals (resampling whole files), and the decision with its
// reasons: refuse a fall of the standing AUC beyond a margin, a real false-positive rate above the
// limit (on the held-out real frames, and separately on guard-only real files when there are any),
// or a gain on the new fakes that is not significant.
import Foundation
import NeuralNet

/// What the guard allows.
public struct GuardLimits: Codable, Equatable, Sendable {
    /// The standing AUC may fall by at most this much.
    public var standingAUCMargin: Double = 0.02
    /// The retrained model's false-positive rate on held-out real frames may be at most this.
    public var maximumRealFalsePositiveRate: Double = 0.05
    /// Two-sided confidence level of the intervals.
    public var confidence: Double = 0.95
    /// Bootstrap resamples.
    public var resamples: Int = 1000
    public var seed: UInt64 = 17
    public init() {}
}

/// A measured value with a bootstrap confidence interval.
public struct Estimate: Codable, Equatable, Sendable {
    public var value: Double
    public var low: Double
    public var high: Double
    public init(value: Double, low: Double, high: Double) { self.value = value; self.low = low; self.high = high }

    private enum CodingKeys: String, CodingKey { case value, low, high }

    /// A number that could not be measured (NaN) is written as null: JSON has no NaN.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        for (key, number) in [(CodingKeys.value, value), (.low, low), (.high, high)] {
            if number.isFinite { try c.encode(number, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        value = try c.decodeIfPresent(Double.self, forKey: .value) ?? .nan
        low = try c.decodeIfPresent(Double.self, forKey: .low) ?? .nan
        high = try c.decodeIfPresent(Double.self, forKey: .high) ?? .nan
    }

    /// "0.912 [0.870, 0.950]".
    public var text: String { String(format: "%.3f [%.3f, %.3f]", value, low, high) }
    /// "+0.012 [-0.004, +0.030]".
    public var signedText: String { String(format: "%+.3f [%+.3f, %+.3f]", value, low, high) }
}

/// One model's numbers on the guard's frames.
public struct GuardMetrics: Codable, Equatable, Sendable {
    /// AUC of real frames against the replayed families' region fakes.
    public var standingAUC: Estimate
    /// AUC of real frames against the held-out new fakes.
    public var newFakesAUC: Estimate
    /// Fraction of real frames at or above the model's threshold.
    public var realFalsePositiveRate: Estimate
    /// Fraction of new fake frames at or above the model's threshold.
    public var newFakesDetected: Estimate
    public var threshold: Double
    /// Standing AUC per replayed family (point values; absent when it could not be measured).
    public var standingAUCByFamily: [String: Double]
    /// Fraction of the guard-only real files' frames at or above the threshold (nil without them).
    public var guardOnlyFalsePositiveRate: Estimate?
}

/// The guard's comparison and decision.
public struct GuardReport: Codable, Equatable, Sendable {
    public var before: GuardMetrics
    public var after: GuardMetrics
    /// after − before, with intervals from the same resamples.
    public var standingAUCChange: Estimate
    public var newFakesAUCChange: Estimate
    public var realFrames: Int, replayFrames: Int, newFakeFrames: Int
    public var realFiles: Int, newFakeFiles: Int
    /// Of the real files and frames, those from guard-only real media (nil or 0 without them).
    public var guardOnlyFiles: Int?, guardOnlyFrames: Int?
    public var limits: GuardLimits
    /// Why the retrained model is refused; empty when it passes.
    public var failures: [String]
    public var passed: Bool { failures.isEmpty }

    /// The before/after table, one row per measure, for the terminal and the report.
    public var table: [(measure: String, before: String, after: String, change: String)] {
        var rows: [(String, String, String, String)] = [
            ("AUC on new fakes (held out)", before.newFakesAUC.text, after.newFakesAUC.text, newFakesAUCChange.signedText),
            ("AUC on the standing set", before.standingAUC.text, after.standingAUC.text, standingAUCChange.signedText),
            (
                "real frames called fake (FPR)", before.realFalsePositiveRate.text, after.realFalsePositiveRate.text,
                String(format: "%+.3f", after.realFalsePositiveRate.value - before.realFalsePositiveRate.value)
            ),
        ]
        if let b = before.guardOnlyFalsePositiveRate, let a = after.guardOnlyFalsePositiveRate {
            rows.append(("guard-only real frames called fake", b.text, a.text, String(format: "%+.3f", a.value - b.value)))
        }
        rows += [
            (
                "new fakes called fake", before.newFakesDetected.text, after.newFakesDetected.text,
                String(format: "%+.3f", after.newFakesDetected.value - before.newFakesDetected.value)
            ),
            (
                "threshold", String(format: "%.3f", before.threshold), String(format: "%.3f", after.threshold), ""
            ),
        ]
        for family in before.standingAUCByFamily.keys.sorted() {
            let b = before.standingAUCByFamily[family] ?? .nan, a = after.standingAUCByFamily[family] ?? .nan
            rows.append(
                (
                    "  standing AUC, " + family, String(format: "%.3f", b), String(format: "%.3f", a),
                    String(format: "%+.3f", a - b)
                ))
        }
        return rows
    }
}

/// A scored frame of the guard, tagged with its file (the bootstrap resamples files, not frames).
public struct GuardFrame: Sendable {
    public enum Kind: Equatable, Sendable {
        case real
        /// A region fake of a real frame by a replayed family (same file as the real frame).
        case replay(family: String)
        case newFake
    }
    public var kind: Kind
    /// Index of the file among the real files (real and replay frames) or among the new-fake files.
    public var file: Int
    public var before: ScoredFrame
    public var after: ScoredFrame
    /// A frame of a guard-only real file (or a replay fake of one): never trained or calibrated on.
    public var guardOnly: Bool
    public init(kind: Kind, file: Int, before: ScoredFrame, after: ScoredFrame, guardOnly: Bool = false) {
        self.kind = kind; self.file = file; self.before = before; self.after = after; self.guardOnly = guardOnly
    }
}

public enum RegressionGuard {
    /// Compares the base (`before`) and retrained (`after`) scores of the same frames. Each resample
    /// draws the real files (with their replay fakes) and the new-fake files with replacement, so the
    /// intervals reflect how few files there are, not how many frames each has.
    public static func compare(
        _ frames: [GuardFrame], thresholds: (before: Double, after: Double), limits: GuardLimits
    ) -> GuardReport {
        let realFiles = Set(frames.filter { $0.kind != .newFake }.map(\.file)).sorted()
        let fakeFiles = Set(frames.filter { $0.kind == .newFake }.map(\.file)).sorted()
        let byRealFile = Dictionary(grouping: frames.filter { $0.kind != .newFake }, by: \.file)
        let byFakeFile = Dictionary(grouping: frames.filter { $0.kind == .newFake }, by: \.file)

        struct Sample {
            var standing: (Double, Double); var new: (Double, Double); var fpr: (Double, Double); var tpr: (Double, Double)
            var guardOnlyFPR: (Double, Double)
        }
        func measure(_ chosenReal: [Int], _ chosenFake: [Int]) -> Sample {
            let realSide = chosenReal.flatMap { byRealFile[$0] ?? [] }, fakeSide = chosenFake.flatMap { byFakeFile[$0] ?? [] }
            let real = realSide.filter { $0.kind == .real }, replay = realSide.filter { $0.kind != .real }
            let heldOutReal = real.filter { !$0.guardOnly }, guardOnlyReal = real.filter(\.guardOnly)
            func pair(_ f: (GuardFrame) -> ScoredFrame, _ threshold: Double) -> (Double, Double, Double, Double, Double) {
                let realScores = real.map { f($0).score }
                return (
                    Trainer.auc(positives: replay.map { f($0).score }, negatives: realScores),
                    Trainer.auc(positives: fakeSide.map { f($0).score }, negatives: realScores),
                    rate(heldOutReal.map { f($0).probability >= threshold }),
                    rate(fakeSide.map { f($0).probability >= threshold }),
                    rate(guardOnlyReal.map { f($0).probability >= threshold })
                )
            }
            let b = pair(\.before, thresholds.before), a = pair(\.after, thresholds.after)
            return Sample(
                standing: (b.0, a.0), new: (b.1, a.1), fpr: (b.2, a.2), tpr: (b.3, a.3), guardOnlyFPR: (b.4, a.4))
        }
        let point = measure(realFiles, fakeFiles)
        var rng = RandomGenerator(seed: limits.seed)
        var samples: [Sample] = []
        for _ in 0..<max(1, limits.resamples) {
            let r = realFiles.map { _ in realFiles[Int(rng.next() % UInt64(max(1, realFiles.count)))] }
            let f = fakeFiles.map { _ in fakeFiles[Int(rng.next() % UInt64(max(1, fakeFiles.count)))] }
            samples.append(measure(r, f))
        }
        func estimate(_ value: Double, _ values: [Double]) -> Estimate {
            let finite = values.filter(\.isFinite).sorted()
            guard !finite.isEmpty else { return Estimate(value: value, low: .nan, high: .nan) }
            let tail = (1 - limits.confidence) / 2
            func quantile(_ q: Double) -> Double {
                finite[min(finite.count - 1, max(0, Int((q * Double(finite.count - 1)).rounded())))]
            }
            return Estimate(value: value, low: quantile(tail), high: quantile(1 - tail))
        }
        let guardOnlyReal = frames.filter { $0.guardOnly && $0.kind == .real }, hasGuardOnly = !guardOnlyReal.isEmpty
        func metrics(
            _ side: (Sample) -> (Double, Double, Double, Double, Double), threshold: Double,
            scored: (GuardFrame) -> ScoredFrame
        ) -> GuardMetrics {
            let p = side(point)
            let real = frames.filter { $0.kind == .real }.map { scored($0).score }
            var byFamily: [String: Double] = [:]
            let families = Set(
                frames.compactMap { frame -> String? in
                    if case .replay(let family) = frame.kind { return family }
                    return nil
                })
            for family in families {
                let fakes = frames.filter { $0.kind == .replay(family: family) }.map { scored($0).score }
                let auc = Trainer.auc(positives: fakes, negatives: real)
                if auc.isFinite { byFamily[family] = auc }  // NaN without real frames; JSON has no NaN
            }
            return GuardMetrics(
                standingAUC: estimate(p.0, samples.map { side($0).0 }), newFakesAUC: estimate(p.1, samples.map { side($0).1 }),
                realFalsePositiveRate: estimate(p.2, samples.map { side($0).2 }),
                newFakesDetected: estimate(p.3, samples.map { side($0).3 }), threshold: threshold,
                standingAUCByFamily: byFamily,
                guardOnlyFalsePositiveRate: hasGuardOnly ? estimate(p.4, samples.map { side($0).4 }) : nil)
        }
        let before = metrics(
            { ($0.standing.0, $0.new.0, $0.fpr.0, $0.tpr.0, $0.guardOnlyFPR.0) }, threshold: thresholds.before,
            scored: \.before)
        let after = metrics(
            { ($0.standing.1, $0.new.1, $0.fpr.1, $0.tpr.1, $0.guardOnlyFPR.1) }, threshold: thresholds.after,
            scored: \.after)
        let standingChange = estimate(point.standing.1 - point.standing.0, samples.map { $0.standing.1 - $0.standing.0 })
        let newChange = estimate(point.new.1 - point.new.0, samples.map { $0.new.1 - $0.new.0 })

        var failures: [String] = []
        if !(standingChange.value >= -limits.standingAUCMargin) {
            failures.append(
                String(
                    format: "the AUC on the standing set (old fakes and real frames) fell by %.3f, more than the allowed %.3f",
                    -standingChange.value, limits.standingAUCMargin))
        }
        if !(after.realFalsePositiveRate.value <= limits.maximumRealFalsePositiveRate) {
            failures.append(
                String(
                    format: "%.1f %% of held-out real frames would be called fake, above the limit of %.1f %%",
                    100 * after.realFalsePositiveRate.value, 100 * limits.maximumRealFalsePositiveRate))
        }
        // The guard-only files may be footage the base model already flags; what is refused is a
        // retrained model that flags more of it than the base, beyond the limit.
        if let a = after.guardOnlyFalsePositiveRate?.value, let b = before.guardOnlyFalsePositiveRate?.value,
            !(a <= limits.maximumRealFalsePositiveRate || a <= b)
        {
            failures.append(
                String(
                    format:
                        "%.1f %% of the guard-only real frames would be called fake (the base model: %.1f %%), above the limit of %.1f %%",
                    100 * a, 100 * b, 100 * limits.maximumRealFalsePositiveRate))
        }
        if !(newChange.low > 0) {
            failures.append(
                String(
                    format: "the gain on the new fakes (AUC %+.3f, %.0f %% interval %+.3f to %+.3f) is not significant%@",
                    newChange.value, 100 * limits.confidence, newChange.low, newChange.high,
                    before.newFakesAUC.value >= 0.98 ? " (the base model already catches them)" : ""))
        }
        return GuardReport(
            before: before, after: after, standingAUCChange: standingChange, newFakesAUCChange: newChange,
            realFrames: frames.filter { $0.kind == .real }.count,
            replayFrames: frames.filter {
                if case .replay = $0.kind { return true }; return false
            }.count,
            newFakeFrames: frames.filter { $0.kind == .newFake }.count, realFiles: realFiles.count,
            newFakeFiles: fakeFiles.count,
            guardOnlyFiles: hasGuardOnly ? Set(guardOnlyReal.map(\.file)).count : nil,
            guardOnlyFrames: hasGuardOnly ? guardOnlyReal.count : nil,
            limits: limits, failures: failures)
    }

    private static func rate(_ flags: [Bool]) -> Double {
        flags.isEmpty ? .nan : Double(flags.filter { $0 }.count) / Double(flags.count)
    }
}
