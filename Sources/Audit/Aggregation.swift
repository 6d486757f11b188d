// Audit — video-level aggregation: turns per-frame fake probabilities into one file score,
// a verdict and the suspicious segments. The rule is documented on `Aggregator` and in
// Docs/report-format.md; keep the three in step.
import Foundation

/// The knobs of the aggregation rule. Defaults are the documented ones.
public struct AggregationPolicy: Equatable, Sendable {
    /// Calibrated decision threshold: a score at or above it leans fake.
    public var threshold: Double = 0.5
    /// Half-width of the uncertain band, stated at threshold 0.5 (margin 0.1 → 0.4…0.6) and kept the
    /// same width in log-odds at any other threshold (threshold 0.89 → 0.85…0.93): a calibrated threshold
    /// far from 0.5 must not push "fake" to the edge of 0…1.
    public var uncertainMargin: Double = 0.1
    /// Width in seconds of the centred moving-median window (frames within ± half of it are used).
    public var smoothingWindowSeconds: Double = 1.0
    /// The smoothing window always reaches at least this many neighbouring frames on each side.
    public var minimumSmoothingRadiusFrames: Int = 1
    /// A smoothed score strictly above this (or above the uncertain band's upper edge, when that is
    /// higher) counts as a confidently fake frame.
    public var confidentFakeProbability: Double = 0.8
    /// Confident frames decide the file score when they make up at least this fraction of all frames …
    public var minimumConfidentFraction: Double = 0.25
    /// … or when there are at least this many of them.
    public var minimumConfidentFrames: Int = 10
    /// Runs over the threshold separated by at most this many seconds are merged into one segment.
    public var segmentMergeGapSeconds: Double = 0.5
    /// Segments with fewer frames are dropped (blips), unless the input is a single frame.
    public var minimumSegmentFrames: Int = 2

    /// The documented default policy.
    public init() {}

    /// A policy with some knobs changed; the others keep their defaults.
    public init(
        threshold: Double = 0.5, uncertainMargin: Double = 0.1, smoothingWindowSeconds: Double = 1.0,
        minimumSmoothingRadiusFrames: Int = 1, confidentFakeProbability: Double = 0.8,
        minimumConfidentFraction: Double = 0.25, minimumConfidentFrames: Int = 10,
        segmentMergeGapSeconds: Double = 0.5, minimumSegmentFrames: Int = 2
    ) {
        self.threshold = threshold
        self.uncertainMargin = uncertainMargin
        self.smoothingWindowSeconds = smoothingWindowSeconds
        self.minimumSmoothingRadiusFrames = minimumSmoothingRadiusFrames
        self.confidentFakeProbability = confidentFakeProbability
        self.minimumConfidentFraction = minimumConfidentFraction
        self.minimumConfidentFrames = minimumConfidentFrames
        self.segmentMergeGapSeconds = segmentMergeGapSeconds
        self.minimumSegmentFrames = minimumSegmentFrames
    }

    /// The verdict for one probability: uncertain inside the band (|logit p − logit threshold| <
    /// logit(0.5 + uncertainMargin)), otherwise fake when p ≥ threshold and real when p < threshold.
    public func verdict(for probability: Double) -> Verdict {
        if abs(Self.logit(probability) - Self.logit(threshold)) < Self.logit(0.5 + uncertainMargin) { return .uncertain }
        return probability >= threshold ? .fake : .real
    }

    /// The uncertain band's edges in probability.
    public var uncertainBand: ClosedRange<Double> {
        let t = Self.logit(threshold), d = Self.logit(0.5 + uncertainMargin)
        return Self.sigmoid(t - d)...Self.sigmoid(t + d)
    }

    /// The smoothed score above which a frame is confidently fake.
    public var confidentLevel: Double { max(confidentFakeProbability, uncertainBand.upperBound) }

    /// log(p / (1 − p)), with p kept 1e-9 inside 0…1 so that the ends stay finite.
    static func logit(_ p: Double) -> Double {
        let q = min(max(p, 1e-9), 1 - 1e-9)
        return log(q / (1 - q))
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// Problems that make the policy unusable; empty when it is valid.
    public var violations: [String] {
        var problems: [String] = []
        func check(_ ok: Bool, _ message: String) { if !ok { problems.append(message) } }
        check(threshold.isFinite && (0...1).contains(threshold), "threshold must be in 0…1 (got \(threshold))")
        check(
            uncertainMargin.isFinite && (0...0.5).contains(uncertainMargin),
            "uncertain margin must be in 0…0.5 (got \(uncertainMargin))")
        check(
            smoothingWindowSeconds.isFinite && smoothingWindowSeconds >= 0,
            "smoothing window must be ≥ 0 seconds (got \(smoothingWindowSeconds))")
        check(minimumSmoothingRadiusFrames >= 0, "minimum smoothing radius must be ≥ 0 frames")
        check(
            confidentFakeProbability.isFinite && (0...1).contains(confidentFakeProbability),
            "confident-fake probability must be in 0…1 (got \(confidentFakeProbability))")
        check(
            minimumConfidentFraction.isFinite && minimumConfidentFraction > 0 && minimumConfidentFraction <= 1,
            "minimum confident fraction must be in (0, 1] (got \(minimumConfidentFraction))")
        check(minimumConfidentFrames >= 1, "minimum confident frames must be ≥ 1")
        check(segmentMergeGapSeconds.isFinite && segmentMergeGapSeconds >= 0, "segment merge gap must be ≥ 0 seconds")
        check(minimumSegmentFrames >= 1, "minimum segment frames must be ≥ 1")
        return problems
    }
}

/// Which branch of the aggregation rule produced the file score.
public enum AggregationRule: String, Codable, CaseIterable, Sendable {
    /// Enough confidently fake frames: the file score is their mean smoothed score.
    case confidentFrames = "confident_frames"
    /// Otherwise: the file score is the mean smoothed score over all frames.
    case smoothedMean = "smoothed_mean"
    /// A suspicious segment scored higher than either branch: the file score is the segment's mean
    /// smoothed score over its frames above the threshold, so a report never calls a file real while
    /// it lists a segment of fake frames.
    case segment = "segment"
}

/// The video-level result of aggregating frame scores.
public struct VideoAssessment: Equatable, Sendable {
    /// The frames, sorted by time (then index); every per-frame array below is aligned with it.
    public var frames: [FrameScore]
    /// Moving-median smoothed fake probability of each frame.
    public var smoothed: [Double]
    /// File-level fake probability (0…1).
    public var fakeProbability: Double
    public var verdict: Verdict
    /// The branch of the rule that produced `fakeProbability`.
    public var rule: AggregationRule
    /// Frames whose smoothed score is above `policy.confidentFakeProbability`.
    public var confidentFrameCount: Int
    public var segments: [Segment]
    /// The policy the assessment was made with (written into reports for reproducibility).
    public var policy: AggregationPolicy

    public init(
        frames: [FrameScore], smoothed: [Double], fakeProbability: Double, verdict: Verdict,
        rule: AggregationRule, confidentFrameCount: Int, segments: [Segment], policy: AggregationPolicy
    ) {
        self.frames = frames
        self.smoothed = smoothed
        self.fakeProbability = fakeProbability
        self.verdict = verdict
        self.rule = rule
        self.confidentFrameCount = confidentFrameCount
        self.segments = segments
        self.policy = policy
    }

    /// The per-frame label: the policy's verdict rule applied to the frame's raw probability.
    public func label(of frame: FrameScore) -> Verdict {
        policy.verdict(for: frame.fakeProbability)
    }

    /// The frames worth a thumbnail: highest raw probability first (earlier first on ties), skipping
    /// any frame within `minimumSeparationSeconds` of one already chosen, so a single suspicious
    /// moment does not fill every slot. At most `count` frames.
    public func thumbnailCandidates(count: Int, minimumSeparationSeconds: Double = 1.0) -> [FrameScore] {
        guard count > 0 else { return [] }
        let ranked = frames.sorted { ($0.fakeProbability, -$0.time) > ($1.fakeProbability, -$1.time) }
        var chosen: [FrameScore] = []
        for frame in ranked where chosen.count < count {
            if chosen.allSatisfy({ abs($0.time - frame.time) >= minimumSeparationSeconds }) {
                chosen.append(frame)
            }
        }
        return chosen
    }
}

/// Why frames could not be aggregated.
public enum AggregationError: Error, Equatable, CustomStringConvertible {
    /// No frame was analysed: there is nothing to base a verdict on.
    case noFrames
    /// A frame has a non-finite time, a probability or heatmap value outside 0…1, a malformed
    /// heatmap or a region of negative size.
    case invalidFrame(index: Int, reason: String)
    /// The policy's knobs are out of range.
    case invalidPolicy([String])

    public var description: String {
        switch self {
        case .noFrames:
            return "no frames were analysed, so there is no verdict"
        case let .invalidFrame(index, reason):
            return "frame \(index): \(reason)"
        case let .invalidPolicy(problems):
            return "invalid aggregation policy: " + problems.joined(separator: "; ")
        }
    }
}

/// Aggregates per-frame fake probabilities into a file score, a verdict and segments.
///
/// The rule, exactly (n = number of frames, p_i raw probabilities, times t_i):
/// 1. **Order.** Frames are sorted by time, ties by index. A frame with a non-finite time, a
///    probability (or heatmap value) outside 0…1, a heatmap whose value count is not rows × columns,
///    or a region of negative size is an error (`AggregationError.invalidFrame`); values within 1e-6
///    outside 0…1 are clamped. No frames is an error (`AggregationError.noFrames`).
/// 2. **Smoothing.** s_i = median of p_j over the window of frame i: every frame j with
///    |t_j − t_i| ≤ smoothingWindowSeconds / 2, widened when needed to reach
///    `minimumSmoothingRadiusFrames` neighbours on each side (where they exist). The median of
///    an even count is the mean of the two middle values. An isolated spike among low
///    neighbours therefore disappears; a run longer than half the window survives.
/// 3. **File score.** C = frames with s_i > max(confidentFakeProbability, upper edge of the uncertain
///    band). If |C| ≥ minimumConfidentFrames
///    or |C| ≥ minimumConfidentFraction × n, the score is the mean of s_i over C (rule
///    `confident_frames`); otherwise it is the mean of s_i over all frames (rule `smoothed_mean`).
///    A single frame's score is its own probability.
/// 4. **Verdict.** `uncertain` when |logit(score) − logit(threshold)| < logit(0.5 + uncertainMargin)
///    (at threshold 0.5: |score − 0.5| < uncertainMargin), else `fake` when score ≥ threshold, else `real`.
/// 5. **Segments.** Maximal runs of consecutive frames with s_i > threshold; two runs are merged
///    when the time from the last frame of one to the first frame of the next is ≤
///    segmentMergeGapSeconds (the frames between count towards `frameCount`). Segments with fewer
///    than minimumSegmentFrames frames are dropped, unless n == 1. A segment runs from its first
///    to its last frame's time; its peak is the highest s_i (earliest on ties).
/// 6. **Segments decide too.** A segment's score is the mean s_i of its frames with s_i > threshold.
///    When the highest segment score exceeds the file score of step 3, it becomes the file score
///    (rule `segment`) and the verdict of step 4 is taken on it: a file with a listed segment is
///    never `real`.
public enum Aggregator {
    /// Tolerance for probabilities that a Float → Double round trip pushed just outside 0…1.
    static let probabilityTolerance = 1e-6

    /// Assesses the frames with the policy; see the type's documentation for the exact rule.
    public static func assess(_ frames: [FrameScore], policy: AggregationPolicy = AggregationPolicy()) throws -> VideoAssessment {
        let problems = policy.violations
        guard problems.isEmpty else { throw AggregationError.invalidPolicy(problems) }
        guard !frames.isEmpty else { throw AggregationError.noFrames }

        var ordered = try frames.map(validated)
        ordered.sort { ($0.time, $0.index) < ($1.time, $1.index) }

        let smoothed = smooth(ordered, policy: policy)
        let confident = smoothed.filter { $0 > policy.confidentLevel }
        let confidentEnough =
            !confident.isEmpty
            && (confident.count >= policy.minimumConfidentFrames
                || Double(confident.count) >= policy.minimumConfidentFraction * Double(ordered.count))
        var rule: AggregationRule = confidentEnough ? .confidentFrames : .smoothedMean
        var score = mean(confidentEnough ? confident : smoothed)
        let found = segments(ordered, smoothed: smoothed, policy: policy)
        if let strongest = found.map({ segmentScore($0, frames: ordered, smoothed: smoothed, policy: policy) }).max(),
            strongest > score
        {
            rule = .segment
            score = strongest
        }
        score = min(max(score, 0), 1)

        return VideoAssessment(
            frames: ordered,
            smoothed: smoothed,
            fakeProbability: score,
            verdict: policy.verdict(for: score),
            rule: rule,
            confidentFrameCount: confident.count,
            segments: found,
            policy: policy
        )
    }

    /// Checks one frame and clamps a probability that is only rounding noise outside 0…1.
    static func validated(_ frame: FrameScore) throws -> FrameScore {
        guard frame.time.isFinite else {
            throw AggregationError.invalidFrame(index: frame.index, reason: "time is not a finite number")
        }
        let p = frame.fakeProbability
        guard p.isFinite, p >= -probabilityTolerance, p <= 1 + probabilityTolerance else {
            throw AggregationError.invalidFrame(index: frame.index, reason: "fake probability \(p) is outside 0…1")
        }
        let heatmap = frame.heatmap
        guard heatmap.rows >= 0, heatmap.columns >= 0, heatmap.values.count == heatmap.rows * heatmap.columns else {
            throw AggregationError.invalidFrame(
                index: frame.index,
                reason: "heatmap has \(heatmap.values.count) values"
                    + " for \(heatmap.rows) × \(heatmap.columns) patches")
        }
        let tolerance = Float(probabilityTolerance)
        guard heatmap.values.allSatisfy({ $0.isFinite && $0 >= -tolerance && $0 <= 1 + tolerance }) else {
            throw AggregationError.invalidFrame(index: frame.index, reason: "heatmap has a value outside 0…1")
        }
        guard frame.region.w >= 0, frame.region.h >= 0 else {
            throw AggregationError.invalidFrame(index: frame.index, reason: "region has a negative width or height")
        }
        var clamped = frame
        clamped.fakeProbability = min(max(p, 0), 1)
        clamped.heatmap.values = heatmap.values.map { min(max($0, 0), 1) }
        return clamped
    }

    /// The centred moving median of each frame's probability (step 2 of the rule).
    static func smooth(_ frames: [FrameScore], policy: AggregationPolicy) -> [Double] {
        let halfWindow = policy.smoothingWindowSeconds / 2 + 1e-9
        let radius = policy.minimumSmoothingRadiusFrames
        return frames.indices.map { i in
            var lower = i
            while lower > 0, frames[i].time - frames[lower - 1].time <= halfWindow || i - (lower - 1) <= radius {
                lower -= 1
            }
            var upper = i
            while upper < frames.count - 1,
                frames[upper + 1].time - frames[i].time <= halfWindow || (upper + 1) - i <= radius
            {
                upper += 1
            }
            return median(frames[lower...upper].map(\.fakeProbability))
        }
    }

    /// Runs over the threshold, merged across short gaps, blips dropped (step 5 of the rule).
    static func segments(_ frames: [FrameScore], smoothed: [Double], policy: AggregationPolicy) -> [Segment] {
        var runs: [ClosedRange<Int>] = []
        var runStart: Int?
        for i in smoothed.indices {
            if smoothed[i] > policy.threshold {
                if runStart == nil { runStart = i }
            } else if let start = runStart {
                runs.append(start...(i - 1))
                runStart = nil
            }
        }
        if let start = runStart { runs.append(start...(smoothed.count - 1)) }

        var merged: [ClosedRange<Int>] = []
        for run in runs {
            if let last = merged.last,
                frames[run.lowerBound].time - frames[last.upperBound].time <= policy.segmentMergeGapSeconds + 1e-9
            {
                merged[merged.count - 1] = last.lowerBound...run.upperBound
            } else {
                merged.append(run)
            }
        }

        let minimumFrames = frames.count == 1 ? 1 : policy.minimumSegmentFrames
        return merged.filter { $0.count >= minimumFrames }.map { range in
            var peak = range.lowerBound
            for i in range where smoothed[i] > smoothed[peak] { peak = i }
            return Segment(
                start: frames[range.lowerBound].time, end: frames[range.upperBound].time,
                peakProbability: smoothed[peak], peakTime: frames[peak].time, frameCount: range.count)
        }
    }

    /// The mean smoothed score of a segment's frames above the threshold (step 6 of the rule).
    static func segmentScore(_ segment: Segment, frames: [FrameScore], smoothed: [Double], policy: AggregationPolicy)
        -> Double
    {
        let inside = frames.indices.filter {
            frames[$0].time >= segment.start && frames[$0].time <= segment.end && smoothed[$0] > policy.threshold
        }
        return inside.isEmpty ? 0 : mean(inside.map { smoothed[$0] })
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func mean(_ values: [Double]) -> Double {
        values.reduce(0, +) / Double(values.count)
    }
}
