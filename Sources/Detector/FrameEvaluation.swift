// Owns frame-level evaluation and calibration: fakes at frame scale (generator samples blended into a
// region of a real frame through a soft mask, as a face swap composites its output), scoring whole
// frames at native resolution (optionally after an H.264 round trip), metrics (AUC, accuracy,
// false-positive and true-positive rates at a threshold, region hits), Platt scaling on frame scores
// and the threshold that keeps the false-positive rate within a target.
// Glossary: P generator patch side, FPR false-positive rate (real frames called fake), TPR true-positive rate.
import Foundation
import MediaIO
import NeuralNet

/// Fakes at frame scale made with the project's generator.
public enum FrameForgery {
    /// A square region of side 64…min(192, frame side) placed uniformly inside the frame.
    public static func randomRegion(width: Int, height: Int, rng: inout RandomGenerator) -> PixelRegion {
        let maxSide = max(16, min(192, width, height))
        let side = min(maxSide, 64 + Int(rng.next() % UInt64(max(1, maxSide - 63))))
        let x = Int(rng.next() % UInt64(width - side + 1)), y = Int(rng.next() % UInt64(height - side + 1))
        return PixelRegion(x: x, y: y, width: side, height: side)
    }

    /// Generator samples for a region: a mosaic of ⌈w/P⌉ × ⌈h/P⌉ patches (row-major), drawn from `rng`.
    public static func samples(for region: PixelRegion, generator: any PatchGenerator, rng: inout RandomGenerator) -> Tensor {
        let P = generator.architecture.patchSize
        let count = ((region.width + P - 1) / P) * ((region.height + P - 1) / P)
        let z = Tensor(shape: [0])
        generator.eval()
        generator.sampleLatents(z, count: count, rng: &rng)
        let out = generator.forward(z)  // (count, 3, P, P)
        return Tensor(shape: out.shape, data: out.array)
    }

    /// Blends `samples` (from `samples(for:)`) into `image` over `region` through a soft elliptical mask
    /// that fills the region (smoothstep edge over its outer 20 %), scaled by `strength` (0…1).
    public static func blend(
        _ samples: Tensor, into image: inout RGBImage, region: PixelRegion, strength: Float = 1
    ) {
        let P = samples.shape[2], tilesX = (region.width + P - 1) / P
        let W = image.width, H = image.height, n = W * H
        let cx = Float(region.width) / 2, cy = Float(region.height) / 2
        for y in 0..<region.height where region.y + y < H {
            for x in 0..<region.width where region.x + x < W {
                let u = (Float(x) + 0.5 - cx) / cx, v = (Float(y) + 0.5 - cy) / cy
                let t = min(max((1 - (u * u + v * v).squareRoot()) / 0.2, 0), 1)
                let m = strength * t * t * (3 - 2 * t)
                guard m > 0 else { continue }
                let tile = (y / P) * tilesX + x / P
                let s = samples.pointer + tile * 3 * P * P + (y % P) * P + x % P
                let i = (region.y + y) * W + region.x + x
                for c in 0..<3 {
                    image.pixels[c * n + i] = image.pixels[c * n + i] * (1 - m) + s[c * P * P] * m
                }
            }
        }
    }
}

/// A frame to score in an evaluation.
public struct EvaluationFrame {
    /// The file it came from (the per-source breakdown key).
    public var source: String
    public var isFake: Bool
    /// "real", "partial" (generated region), "media" (a frame of a fake file).
    public var kind: String
    /// "original" or "h264-crf<N>".
    public var variant: String
    public var image: RGBImage
    /// Where the frame was manipulated, when known.
    public var region: PixelRegion?
    /// For zoo fakes: how much the manipulation changed and what it replaced (before any re-encoding).
    public var regionStatistics: RegionStatistics?
    public init(
        source: String, isFake: Bool, kind: String, variant: String, image: RGBImage, region: PixelRegion? = nil,
        regionStatistics: RegionStatistics? = nil
    ) {
        self.source = source; self.isFake = isFake; self.kind = kind; self.variant = variant
        self.image = image; self.region = region; self.regionStatistics = regionStatistics
    }
}

/// What a region fake did to its frame, to break detection results down by how visible a fake is.
public struct RegionStatistics: Codable, Equatable, Sendable {
    /// Mean |fake − real| over the pixels the mask touches (m > 0) and the three channels, in 0…1.
    public var change: Double
    /// The real frame's gradient energy over the mask's box (`PatchOps.gradientEnergy`: the mean
    /// absolute luminance step to the right and below), the measure training crops are chosen by.
    public var texture: Double

    public init(change: Double, texture: Double) { self.change = change; self.texture = texture }

    /// The statistics of `fake` against `real` under `mask` (frames of the mask's size).
    public static func measure(real: RGBImage, fake: RGBImage, mask: RegionMask) -> RegionStatistics {
        let box = mask.box
        let boxCrop = ImageFilters.crop(real, x: box.x, y: box.y, width: box.width, height: box.height)
        return RegionStatistics(
            change: change(real: real, fake: fake, mask: mask.values, box: box),
            texture: Double(PatchOps.gradientEnergy(boxCrop)))
    }

    /// Mean |fake − real| over the pixels of `box` where `mask` (one value per pixel of the frames) is
    /// above 0, and the three channels; 0 when the mask touches none.
    static func change(real: RGBImage, fake: RGBImage, mask: [Float], box: PixelRegion) -> Double {
        let W = real.width, n = real.planeCount
        var total = 0.0, touched = 0
        for y in box.y..<(box.y + box.height) {
            for x in box.x..<(box.x + box.width) where mask[y * W + x] > 0 {
                let i = y * W + x
                for c in 0..<3 { total += Double(abs(fake.pixels[c * n + i] - real.pixels[c * n + i])) }
                touched += 1
            }
        }
        return touched > 0 ? total / Double(3 * touched) : 0
    }
}

/// One scored evaluation frame.
public struct ScoredFrame: Codable, Sendable {
    public var source: String
    public var isFake: Bool
    public var kind: String
    public var variant: String
    public var width: Int, height: Int
    /// Raw frame score (before Platt scaling; with the model's scale weight, `Calibration.score`) and
    /// the model's probability.
    public var score: Double
    public var probability: Double
    /// For frames with a known manipulated region: whether the reported region overlaps it.
    public var regionHit: Bool?
    /// For frames with a known manipulated region: intersection over union of the reported region's
    /// box and the manipulated region's box.
    public var regionIoU: Double?
    /// For frames with a known manipulated region: that region's box in pixels, origin top-left (to
    /// break results down by region size and by where the region lies).
    public var manipulatedWidth: Int? = nil
    public var manipulatedHeight: Int? = nil
    public var manipulatedX: Int? = nil
    public var manipulatedY: Int? = nil
    /// The median, 90th and 99th percentile of the frame's 64-pixel area means (the frame score is
    /// their maximum): how far the most suspicious area stands out from the rest of its own frame,
    /// for studying frame scores that are relative to the frame.
    public var areaLogitQuantiles: [Double]? = nil
    /// The largest area mean for square areas of other sides, keyed by the side in pixels
    /// (`FrameEvaluation.studiedAreaSides`): whether pooling evidence over more or fewer cells than the
    /// frame score's 64 pixels separates forged regions from real frames' isolated high areas.
    public var areaLogitMaxima: [String: Double]? = nil
    /// The largest 64-pixel area mean among the areas of each texture class
    /// (`FrameEvaluation.textureClassEdges`, by the area's gradient energy; nil for a class with no
    /// area): whether a real frame's highest areas are its textured ones, and whether judging each
    /// area against real areas of like texture separates forged regions from them.
    public var areaLogitByTexture: [Double?]? = nil
    /// For zoo fakes: how much the manipulation changed and what it replaced (`RegionStatistics`).
    public var regionStatistics: RegionStatistics? = nil
    /// The frame's training-free scale-consistency evidence (`ScaleConsistency.frameScore`); nil for
    /// frames under 64 pixels on a side.
    public var scaleConsistency: Double? = nil
    /// The frame's training-free grid-consistency evidence (`GridConsistency.frameScore`); nil for
    /// frames under 128 pixels on a side.
    public var gridConsistency: Double? = nil
    /// The frame's training-free lattice-consistency evidence (`LatticeConsistency.frameScore`); nil for
    /// frames under 128 pixels on a side.
    public var latticeConsistency: Double? = nil
    /// The frame's training-free channel-consistency evidence (`ChannelConsistency.frameScore`); nil for
    /// frames under 128 pixels on a side.
    public var channelConsistency: Double? = nil
    /// The frame's training-free copy-move evidence (`CopyMoveConsistency.frameScore`), recorded when
    /// asked for or weighed by the scorer's calibration (it costs seconds per frame); nil otherwise and
    /// for frames under 64 pixels on a side.
    public var copyMoveConsistency: Double? = nil
    /// The network's part of the score (`FrameScoreResult.areaLogit`): with `scaleConsistency`, what a
    /// calibration that weighs the two is fitted on. Nil for frames scored some other way.
    public var areaLogit: Double? = nil
    /// How many 64-pixel areas `areaLogit` is the largest of (`FrameScoreResult.areaCount`); nil for
    /// frames that did not record it, whose count `scoredAreaCount` takes from the frame's size.
    public var areaCount: Int? = nil
    /// The highest cell of the most suspicious area, [row, column] in 8-pixel cells from the frame's
    /// top-left (`FrameScoreResult.peakCell`): where a frame's score comes from, to tell whether real
    /// frames' highest areas gather anywhere (frame borders, the seams between scoring windows).
    public var peakCell: [Int]? = nil

    /// For frames with a known manipulated region: the largest 64-pixel area mean among the areas that
    /// overlap the region's box, the most a scan could find on the region itself.
    public var regionAreaLogit: Double? = nil
    /// For frames with a known manipulated region: the largest 64-pixel area mean among the areas that
    /// do not overlap its box (nil when every area does), what the rest of the frame scores.
    public var outsideAreaLogit: Double? = nil
    /// For frames with a known manipulated region made from a real frame scored just before (as
    /// `EvaluationFrames` emits them): the largest 64-pixel area mean of that real frame, in the same
    /// variant, among the same areas. Against `regionAreaLogit` it says whether the network sees the
    /// manipulation where it is, apart from how the rest of the frame scores.
    public var realRegionAreaLogit: Double? = nil

    /// The network's part of the score (`score` for frames that did not record it).
    public var networkScore: Double { areaLogit ?? score }

    /// `areaCount`, or for frames without it every area position of a frame of this size.
    public var scoredAreaCount: Int {
        if let areaCount { return areaCount }
        let A = FrameScorer.areaCells
        let (rows, columns) = FrameScorer.cellGrid(height: height, width: width)
        return max(1, rows - min(A, rows) + 1) * max(1, columns - min(A, columns) + 1)
    }

    /// The frame's recorded value of one evidence.
    public func evidence(_ e: FrameEvidence) -> Double? {
        switch e {
        case .scale: return scaleConsistency
        case .grid: return gridConsistency
        case .lattice: return latticeConsistency
        case .channel: return channelConsistency
        case .copyMove: return copyMoveConsistency
        }
    }
}

/// Classification metrics at one threshold.
public struct FrameMetrics: Codable, Sendable {
    public var realFrames: Int, fakeFrames: Int
    /// ROC AUC of the score (fake positive); NaN without both classes.
    public var auc: Double
    public var accuracy: Double
    public var falsePositiveRate: Double
    public var truePositiveRate: Double
    /// Fraction of fake frames with a known region whose reported region overlaps it.
    public var regionHitRate: Double?
    /// Of the fake frames with a known region that reach the threshold, the fraction whose reported
    /// region has IoU ≥ 0.3 with it.
    public var localizedRate: Double?
}

/// The logit grid of the latest real frame scored in each variant, so that a fake made from it can be
/// compared with it at the fake's region (`ScoredFrame.realRegionAreaLogit`).
public struct RealFramePairing {
    private var latest: [String: (source: String, logits: ScoreGrid)] = [:]

    public init() {}

    /// Keeps `logits` when `frame` is real.
    mutating func record(_ frame: EvaluationFrame, logits: ScoreGrid) {
        if !frame.isFake { latest[frame.variant] = (frame.source, logits) }
    }

    /// The grid of the latest real frame of `frame`'s source and variant, when it has `logits`'s size.
    func realLogits(pairedWith frame: EvaluationFrame, logits: ScoreGrid) -> ScoreGrid? {
        guard let real = latest[frame.variant], real.source == frame.source, real.logits.rows == logits.rows,
            real.logits.columns == logits.columns
        else { return nil }
        return real.logits
    }
}

public enum FrameEvaluation {
    /// The evidences recorded for every frame whether weighed or not: each costs a few passes over the
    /// frame. The copy-move evidence, a search over every shift, is recorded only when asked for.
    public static let evidenceRecordedAlways: Set<FrameEvidence> = [.scale, .grid, .lattice, .channel]

    /// Scores every frame with `scorer` (its model's calibration and threshold).
    public static func score(
        _ frames: [EvaluationFrame], scorer: FrameScorer, recording evidence: Set<FrameEvidence> = evidenceRecordedAlways,
        progress: ((Int) -> Void)? = nil
    ) throws -> [ScoredFrame] {
        var pairing = RealFramePairing()
        return try score(frames, scorer: scorer, pairing: &pairing, recording: evidence, progress: progress)
    }

    /// Scores every frame with `scorer`, pairing each region fake with the real frame of its source and
    /// variant last scored here or in an earlier call with the same `pairing`. Each frame records the
    /// evidences in `evidence` and those the scorer's calibration weighs.
    public static func score(
        _ frames: [EvaluationFrame], scorer: FrameScorer, pairing: inout RealFramePairing,
        recording evidence: Set<FrameEvidence> = evidenceRecordedAlways, progress: ((Int) -> Void)? = nil
    ) throws -> [ScoredFrame] {
        var out: [ScoredFrame] = []
        for (i, f) in frames.enumerated() {
            let r = try scorer.score(f.image)
            func record(_ e: FrameEvidence) -> Double? { evidence.contains(e) ? e.analyse(f.image)?.score : nil }
            let hit = f.region.map { overlaps($0, r.region) }
            pairing.record(f, logits: r.logits)
            let onRegion = f.region.map { regionAreaLogits(r.logits, box: $0) }
            var realOnRegion: Double?
            if let box = f.region, let real = pairing.realLogits(pairedWith: f, logits: r.logits) {
                realOnRegion = regionAreaLogits(real, box: box).region
            }
            out.append(
                ScoredFrame(
                    source: f.source, isFake: f.isFake, kind: f.kind, variant: f.variant, width: f.image.width,
                    height: f.image.height, score: r.score, probability: r.probability, regionHit: hit,
                    regionIoU: f.region.map { intersectionOverUnion($0, r.region) }, manipulatedWidth: f.region?.width,
                    manipulatedHeight: f.region?.height, manipulatedX: f.region?.x, manipulatedY: f.region?.y,
                    areaLogitQuantiles: areaLogitQuantiles(r.logits),
                    areaLogitMaxima: areaLogitMaxima(r.logits),
                    areaLogitByTexture: areaLogitByTexture(r.logits, texture: cellTexture(f.image)),
                    regionStatistics: f.regionStatistics,
                    scaleConsistency: r.scaleEvidence ?? record(.scale),
                    gridConsistency: r.gridEvidence ?? record(.grid),
                    latticeConsistency: r.latticeEvidence ?? record(.lattice),
                    channelConsistency: r.channelEvidence ?? record(.channel),
                    copyMoveConsistency: r.copyMoveEvidence ?? record(.copyMove),
                    areaLogit: r.areaLogit, areaCount: r.areaCount, peakCell: [r.peakCell.row, r.peakCell.column],
                    regionAreaLogit: onRegion?.region, outsideAreaLogit: onRegion?.outside,
                    realRegionAreaLogit: realOnRegion))
            progress?(i + 1)
        }
        return out
    }

    /// The median, 90th and 99th percentile (nearest rank) of a logit grid's 64-pixel area means; nil
    /// when no area has a scored cell.
    static func areaLogitQuantiles(_ logits: ScoreGrid) -> [Double]? {
        let means = FrameScorer.areaMeans(logits, side: FrameScorer.areaCells).means.filter { !$0.isNaN }.sorted()
        guard !means.isEmpty else { return nil }
        return [0.5, 0.9, 0.99].map { means[min(means.count - 1, Int(($0 * Double(means.count)).rounded(.down)))] }
    }

    /// The largest `FrameScorer.areaCells`-side area mean of `logits` among the areas that overlap
    /// `box` (pixels) and among those that do not; nil where there is no such scored area.
    static func regionAreaLogits(_ logits: ScoreGrid, box: PixelRegion) -> (region: Double?, outside: Double?) {
        let areas = FrameScorer.areaMeans(logits, side: FrameScorer.areaCells), S = FrameScorer.stride
        var region: Double?, outside: Double?
        for r in 0..<areas.rows {
            for c in 0..<areas.columns {
                let mean = areas.means[r * areas.columns + c]
                guard !mean.isNaN else { continue }
                let area = PixelRegion(x: c * S, y: r * S, width: areas.side.columns * S, height: areas.side.rows * S)
                if overlaps(area, box) {
                    region = max(region ?? -.infinity, mean)
                } else {
                    outside = max(outside ?? -.infinity, mean)
                }
            }
        }
        return (region, outside)
    }

    /// Square area sides, in cells, whose maximum mean each scored frame records.
    public static let studiedAreaSides = [2, 4, 12, 16, 24, 32]

    /// The largest area mean of `logits` for each of `studiedAreaSides` (an area larger than the grid
    /// shrinks to it), keyed by the side in pixels; nil when no cell was scored.
    static func areaLogitMaxima(_ logits: ScoreGrid) -> [String: Double]? {
        var out: [String: Double] = [:]
        for side in studiedAreaSides {
            guard let best = FrameScorer.areaMeans(logits, side: side).means.filter({ !$0.isNaN }).max() else { return nil }
            out[String(side * FrameScorer.stride)] = best
        }
        return out
    }

    /// Upper edges of the texture classes of `areaLogitByTexture`, in gradient energy (the mean
    /// absolute luminance step to the right and below, `PatchOps.gradientEnergy`); the last class is
    /// open. The edges are those `Scripts/evaluation-breakdown.py` bins a fake's region by.
    public static let textureClassEdges = [0.005, 0.01, 0.02, 0.04, 0.08]

    /// Per 8 × 8-pixel cell of `image` (⌈H/8⌉ × ⌈W/8⌉, as the logit grid), the mean absolute luminance
    /// step to the right and below over the cell's pixels that have both neighbours; NaN for a cell
    /// with none (a last row or column one pixel wide).
    static func cellTexture(_ image: RGBImage) -> ScoreGrid {
        let W = image.width, H = image.height, S = FrameScorer.stride, n = image.planeCount
        let (rows, columns) = FrameScorer.cellGrid(height: H, width: W)
        var sum = [Float](repeating: 0, count: rows * columns), count = [Int](repeating: 0, count: rows * columns)
        image.pixels.withUnsafeBufferPointer { px in
            func luminance(_ i: Int) -> Float { 0.299 * px[i] + 0.587 * px[n + i] + 0.114 * px[2 * n + i] }
            for y in 0..<max(0, H - 1) {
                for x in 0..<(W - 1) {
                    let i = y * W + x, l = luminance(i), cell = (y / S) * columns + x / S
                    sum[cell] += abs(luminance(i + 1) - l) + abs(luminance(i + W) - l)
                    count[cell] += 1
                }
            }
        }
        return ScoreGrid(
            rows: rows, columns: columns, values: zip(sum, count).map { $1 > 0 ? $0 / Float($1) : .nan })
    }

    /// For each texture class, the largest `FrameScorer.areaCells`-side area mean of `logits` among the
    /// areas whose mean cell texture (`texture`, a grid of the same size) falls in it; nil when the
    /// grids differ in size or no area was scored.
    static func areaLogitByTexture(_ logits: ScoreGrid, texture: ScoreGrid) -> [Double?]? {
        guard logits.rows == texture.rows, logits.columns == texture.columns else { return nil }
        let areas = FrameScorer.areaMeans(logits, side: FrameScorer.areaCells).means
        let textures = FrameScorer.areaMeans(texture, side: FrameScorer.areaCells).means
        var best = [Double?](repeating: nil, count: textureClassEdges.count + 1)
        for (logit, energy) in zip(areas, textures) where !logit.isNaN && !energy.isNaN {
            let k = textureClassEdges.firstIndex { energy < $0 } ?? textureClassEdges.count
            best[k] = max(best[k] ?? -.infinity, logit)
        }
        return best.contains { $0 != nil } ? best : nil
    }

    /// Intersection over union of two boxes (0 when either is empty).
    public static func intersectionOverUnion(_ a: PixelRegion, _ b: PixelRegion) -> Double {
        let w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x), h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
        let intersection = Double(max(0, w) * max(0, h))
        let union = Double(a.width * a.height + b.width * b.height) - intersection
        return union > 0 ? intersection / union : 0
    }

    static func overlaps(_ a: PixelRegion, _ b: PixelRegion) -> Bool {
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
    }

    /// Metrics of `frames` at `threshold` on their probabilities.
    public static func metrics(_ frames: [ScoredFrame], threshold: Double) -> FrameMetrics {
        let real = frames.filter { !$0.isFake }, fake = frames.filter(\.isFake)
        let fp = real.filter { $0.probability >= threshold }.count, tp = fake.filter { $0.probability >= threshold }.count
        let withRegion = fake.compactMap(\.regionHit)
        let detectedIoU = fake.filter { $0.probability >= threshold }.compactMap(\.regionIoU)
        return FrameMetrics(
            realFrames: real.count, fakeFrames: fake.count,
            auc: Trainer.auc(positives: fake.map(\.score), negatives: real.map(\.score)),
            accuracy: frames.isEmpty ? .nan : Double(tp + real.count - fp) / Double(frames.count),
            falsePositiveRate: real.isEmpty ? .nan : Double(fp) / Double(real.count),
            truePositiveRate: fake.isEmpty ? .nan : Double(tp) / Double(fake.count),
            regionHitRate: withRegion.isEmpty ? nil : Double(withRegion.filter { $0 }.count) / Double(withRegion.count),
            localizedRate: detectedIoU.isEmpty ? nil : Double(detectedIoU.filter { $0 >= 0.3 }.count) / Double(detectedIoU.count))
    }

    /// Platt scaling on the network's part of the frames' scores (all variants together; no scale
    /// weight).
    public static func fitCalibration(_ frames: [ScoredFrame]) -> Calibration {
        Trainer.fitPlatt(
            positives: frames.filter(\.isFake).map(\.networkScore),
            negatives: frames.filter { !$0.isFake }.map(\.networkScore))
    }

    /// A calibration that weighs the network's area logit L and training-free evidences E₁…Eₖ (0 where
    /// a frame has none): a logistic regression of fake on (L, E₁…Eₖ), by Newton's method on
    /// standardized features with the classes weighted equally and Platt's smoothed targets, rewritten
    /// as σ(a·(L + Σ wᵢ·Eᵢ) + b). Evidence whose fitted weight is not positive (each measure's evidence
    /// of a fake is a departure from the surroundings, so a negative weight is not what it measures) is
    /// dropped, the most negative first, and the rest refitted; when the network's weight is not
    /// positive or a fit fails, it is Platt scaling on L alone. Each wᵢ is capped at
    /// `Calibration.maximumScaleWeight`.
    public static func fitEvidenceFusion(_ frames: [ScoredFrame], evidence: [FrameEvidence]) -> Calibration {
        let fallback = fitCalibration(frames)
        var kept = evidence
        while !kept.isEmpty {
            guard let w = logisticWeights(frames, evidence: kept) else { return fallback }
            guard w.network > 0 else { return fallback }
            if let worst = w.evidence.indices.min(by: { w.evidence[$0] < w.evidence[$1] }), w.evidence[worst] <= 0 {
                kept.remove(at: worst)
                continue
            }
            var calibration = Calibration(a: w.network, b: 0)
            var b = w.bias
            for (e, weight) in zip(kept, w.evidence) {
                let capped = min(weight / w.network, Calibration.maximumScaleWeight)
                calibration.setWeight(e, capped)
                b -= w.network * capped * w.means[e]!
            }
            calibration.b = b - w.network * w.networkMean
            guard calibration.b.isFinite else { return fallback }
            return calibration
        }
        return fallback
    }

    /// A calibration whose fusion uses no fakes (`Standardization`): the network's area logit and each
    /// evidence standardized by their mean and spread over the real frames (an evidence over those where
    /// it applies, value > 0), the frame score the largest. A logistic regression on fakes of the
    /// families the network trained on trusts the network as it does on those families; this cannot
    /// learn that, which is what a family it never saw needs. The fakes only set Platt's a and b on the
    /// combined score. An evidence that applies to fewer than `minimumStandardizingFrames` real frames,
    /// or is constant on them, is left out; with a constant network score, none of the evidence kept,
    /// no real or no fake frames, or a Platt slope that is not positive, it is Platt scaling on the
    /// logit alone.
    public static func fitRealFrameFusion(_ frames: [ScoredFrame], evidence: [FrameEvidence]) -> Calibration {
        let fallback = fitCalibration(frames)
        let real = frames.filter { !$0.isFake }
        guard real.count >= minimumStandardizingFrames, real.count < frames.count,
            let network = moments(real.map(\.networkScore))
        else { return fallback }
        var standardization = Standardization(network: network)
        for e in evidence {
            let applying = real.compactMap { $0.evidence(e) }.filter { $0 > 0 }
            if applying.count >= minimumStandardizingFrames { standardization.setMoments(e, moments(applying)) }
        }
        guard FrameEvidence.allCases.contains(where: { standardization.moments($0) != nil }) else { return fallback }
        func combined(_ f: ScoredFrame) -> Double { standardization.score(areaLogit: f.networkScore, evidence: f.evidence) }
        let platt = Trainer.fitPlatt(positives: frames.filter(\.isFake).map(combined), negatives: real.map(combined))
        guard platt.a > 0, platt.a.isFinite, platt.b.isFinite else { return fallback }
        return Calibration(a: platt.a, b: platt.b, standardization: standardization)
    }

    /// Fewest real frames a score is standardized over.
    public static let minimumStandardizingFrames = 5

    /// Mean and population standard deviation; nil when the values are (nearly) constant or not finite.
    static func moments(_ values: [Double]) -> Standardization.Moments? {
        guard !values.isEmpty else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        let spread = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
        let m = Standardization.Moments(mean: mean, spread: spread)
        return spread > 1e-9 * max(1, abs(mean)) && m.problem == nil ? m : nil
    }

    /// The logistic regression behind `fitEvidenceFusion`, in the features' own units: weight of L,
    /// weight of each evidence, and the bias with every feature centred (so the bias of the uncentred
    /// fit is bias − Σ weight·mean). Nil when a feature is constant, a class is missing or Newton's
    /// step is singular or not finite.
    static func logisticWeights(_ frames: [ScoredFrame], evidence: [FrameEvidence]) -> (
        network: Double, evidence: [Double], bias: Double, networkMean: Double, means: [FrameEvidence: Double]
    )? {
        let positives = frames.filter(\.isFake).count, negatives = frames.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let n = 1 + evidence.count
        let rows = frames.map { f in [f.networkScore] + evidence.map { f.evidence($0) ?? 0 } }
        var mean = [Double](repeating: 0, count: n), spread = [Double](repeating: 1, count: n)
        for k in 0..<n {
            mean[k] = rows.reduce(0) { $0 + $1[k] } / Double(rows.count)
            let variance = rows.reduce(0) { $0 + ($1[k] - mean[k]) * ($1[k] - mean[k]) } / Double(rows.count)
            guard variance.isFinite, variance > 1e-24 else { return nil }
            spread[k] = variance.squareRoot()
        }
        let positiveTarget = (Double(positives) + 1) / (Double(positives) + 2), negativeTarget = 1 / (Double(negatives) + 2)
        let positiveWeight = 0.5 * Double(frames.count) / Double(positives)
        let negativeWeight = 0.5 * Double(frames.count) / Double(negatives)
        var w = [Double](repeating: 0, count: n + 1)  // standardized features, then the bias
        for _ in 0..<50 {
            var gradient = [Double](repeating: 0, count: n + 1)
            var hessian = (0...n).map { i in (0...n).map { $0 == i ? 1e-9 : 0.0 } }
            for (row, frame) in zip(rows, frames) {
                let x = (0..<n).map { (row[$0] - mean[$0]) / spread[$0] } + [1]
                let p = 1 / (1 + exp(-zip(w, x).reduce(0) { $0 + $1.0 * $1.1 }))
                let (target, weight) = frame.isFake ? (positiveTarget, positiveWeight) : (negativeTarget, negativeWeight)
                let curvature = weight * max(p * (1 - p), 1e-12)
                for i in 0...n {
                    gradient[i] += weight * (p - target) * x[i]
                    for j in 0...n { hessian[i][j] += curvature * x[i] * x[j] }
                }
            }
            guard let step = solve(hessian, gradient) else { return nil }
            for i in 0...n { w[i] -= step[i] }
            if step.reduce(0, { $0 + abs($1) }) < 1e-9 { break }
        }
        let unscaled = (0..<n).map { w[$0] / spread[$0] }
        guard unscaled.allSatisfy(\.isFinite), w[n].isFinite else { return nil }
        var means: [FrameEvidence: Double] = [:]
        for (i, e) in evidence.enumerated() { means[e] = mean[i + 1] }
        return (unscaled[0], Array(unscaled.dropFirst()), w[n], mean[0], means)
    }

    /// The solution of the square system m·x = v by Gaussian elimination with partial pivoting; nil
    /// when m is singular.
    static func solve(_ m: [[Double]], _ v: [Double]) -> [Double]? {
        let n = v.count
        var rows = (0..<n).map { m[$0] + [v[$0]] }
        for i in 0..<n {
            let pivot = (i..<n).max { abs(rows[$0][i]) < abs(rows[$1][i]) }!
            rows.swapAt(i, pivot)
            guard abs(rows[i][i]) > 1e-300 else { return nil }
            for r in 0..<n where r != i {
                let factor = rows[r][i] / rows[i][i]
                for k in i...n { rows[r][k] -= factor * rows[i][k] }
            }
        }
        let x = (0..<n).map { rows[$0][n] / rows[$0][$0] }
        return x.allSatisfy(\.isFinite) ? x : nil
    }

    /// The one-sided Clopper–Pearson upper bound on a false-positive rate after `exceeding` of `realFrames`
    /// independent real frames reached the threshold: the rate p at which seeing so few has probability
    /// 1 − `confidence` (P(Binomial(n, p) ≤ k) = 1 − confidence). 1 when there are no frames or all exceeded.
    /// With none exceeding it is 1 − (1 − confidence)^(1/n): 13.3 % for 21 frames at 95 %.
    public static func falsePositiveRateBound(exceeding k: Int, of n: Int, confidence: Double = 0.95) -> Double {
        precondition(k >= 0 && n >= 0 && confidence > 0 && confidence < 1)
        guard n > 0, k < n else { return 1 }
        if k == 0 { return 1 - pow(1 - confidence, 1 / Double(n)) }
        // P(X ≤ k) falls as p rises; bisection on it, each term in logarithms so large n stays finite
        let logChoose = (0...k).map { i in
            lgamma(Double(n) + 1) - lgamma(Double(i) + 1) - lgamma(Double(n - i) + 1)
        }
        func cdf(_ p: Double) -> Double {
            (0...k).reduce(0) { $0 + exp(logChoose[$1] + Double($1) * log(p) + Double(n - $1) * log1p(-p)) }
        }
        var low = Double(k) / Double(n), high = 1.0
        for _ in 0..<100 where high - low > 1e-13 {
            let mid = (low + high) / 2
            if cdf(mid) > 1 - confidence { low = mid } else { high = mid }
        }
        return high
    }

    /// The fewest independent real frames, none reaching the threshold, that bound the false-positive
    /// rate by `target` at `confidence` (`falsePositiveRateBound`): 299 for 1 % at 95 %.
    public static func realFramesNeeded(forFalsePositiveRate target: Double, confidence: Double = 0.95) -> Int {
        precondition(target > 0 && target < 1 && confidence > 0 && confidence < 1)
        var n = Int((log(1 - confidence) / log(1 - target)).rounded(.up))
        // the closed form's rounding can land one either side
        while n > 1 && falsePositiveRateBound(exceeding: 0, of: n - 1, confidence: confidence) <= target { n -= 1 }
        while falsePositiveRateBound(exceeding: 0, of: n, confidence: confidence) > target { n += 1 }
        return n
    }

    /// The smallest threshold ≥ `minimum` at which, in every group of real probabilities, at most
    /// ⌊target·n⌋ frames reach it (a probability equal to the threshold counts as fake).
    public static func threshold(forFalsePositiveRate target: Double, realGroups: [[Double]], minimum: Double = 0.5)
        -> Double
    {
        var t = minimum
        for group in realGroups where !group.isEmpty {
            let sorted = group.sorted(by: >)
            let allowed = Int((target * Double(sorted.count)).rounded(.down))
            if allowed < sorted.count { t = max(t, sorted[allowed].nextUp) }
        }
        return min(t, 1)
    }
}

/// Which files of a folder an evaluation uses. The validation split (files the trainer held out) is
/// halved by a second hash of the path: calibration fits on one half and is reported on the other.
public enum EvaluationSplit: String, CaseIterable, Codable, Sendable {
    case all, validation, calibration, test

    /// The sources of `split` in this folder split.
    public func sources(_ s: MediaSplit) -> [MediaSource] {
        switch self {
        case .all: return s.training + s.validation
        case .validation: return s.validation
        case .calibration: return s.validation.filter { EvaluationSplit.isCalibrationHalf($0.relativePath) }
        case .test: return s.validation.filter { !EvaluationSplit.isCalibrationHalf($0.relativePath) }
        }
    }

    static func isCalibrationHalf(_ relativePath: String) -> Bool {
        MediaFolderLoader.stableHash("calibration:" + relativePath) % 2 == 0
    }
}

/// Produces evaluation frames one at a time (frames can be large; nothing is kept): each real frame,
/// a copy with a generated region blended in (when there is a generator), one region fake of the frame
/// per zoo family (when there is a zoo), each fake-media frame, and each of those again after every
/// re-encoding in `encodings` (real and fake frames alike).
public struct EvaluationFrames {
    public var generator: (any PatchGenerator)?
    /// Families whose region fakes are made from every real frame, at native resolution.
    public var zoo: FakeZoo?
    /// Re-encodings applied to every frame besides the original, each reported as its own variant.
    public var encodings: [ZooEncoding]
    public var seed: UInt64
    /// How the zoo's fakes are drawn: region sizes, feathers, colour correction.
    public var zooOptions: ZooOptions

    public init(
        generator: (any PatchGenerator)? = nil, zoo: FakeZoo? = nil, encodings: [ZooEncoding] = [], seed: UInt64 = 7,
        zooOptions: ZooOptions = ZooOptions()
    ) {
        self.generator = generator; self.zoo = zoo; self.encodings = encodings; self.seed = seed
        self.zooOptions = zooOptions
    }

    /// How many frames `forEach` produces for these sources.
    public func count(real: [MediaSource], fake: [MediaSource]) -> Int {
        let perReal = 1 + (generator == nil ? 0 : 1) + (zoo?.families.count ?? 0)
        let frames = real.reduce(0) { $0 + $1.frames.count } * perReal + fake.reduce(0) { $0 + $1.frames.count }
        return frames * (1 + encodings.count)
    }

    /// The variant name of a re-encoding: "original", "jpeg-q90", "h264-crf23".
    public static func variantName(_ encoding: ZooEncoding) -> String {
        switch encoding {
        case .none: return "original"
        case .jpeg(let quality): return "jpeg-q\(quality)"
        case .h264(let crf): return "h264-crf\(crf)"
        }
    }

    public func forEach(real: [MediaSource], fake: [MediaSource], _ body: (EvaluationFrame) throws -> Void) throws {
        var rng = RandomGenerator(seed: seed)
        func emit(_ f: EvaluationFrame) throws {
            try body(f)
            for encoding in encodings {
                var g = f
                g.image = try encoding.apply(f.image)
                g.variant = EvaluationFrames.variantName(encoding)
                try body(g)
            }
        }
        for (sourceIndex, s) in real.enumerated() {
            for (frameIndex, stored) in s.frames.enumerated() {
                let image = stored.rgbImage
                try emit(EvaluationFrame(source: s.relativePath, isFake: false, kind: "real", variant: "original", image: image))
                if let generator {
                    var forged = image
                    let region = FrameForgery.randomRegion(width: image.width, height: image.height, rng: &rng)
                    FrameForgery.blend(
                        FrameForgery.samples(for: region, generator: generator, rng: &rng), into: &forged, region: region)
                    try emit(
                        EvaluationFrame(
                            source: s.relativePath, isFake: true, kind: "partial", variant: "original", image: forged,
                            region: region))
                }
                guard let zoo else { continue }
                // The donor of splices: a frame of another source (the same one when there is only one).
                let donorSource = real[(sourceIndex + 1) % real.count]
                let donor = donorSource.frames[frameIndex % donorSource.frames.count].rgbImage
                for (familyIndex, family) in zoo.families.enumerated() {
                    let fakeSeed = seed &+ UInt64(sourceIndex) &* 1_000_003 &+ UInt64(frameIndex) &* 1009 &+ UInt64(familyIndex)
                    let made = try family.makeFake(real: image, donor: donor, seed: fakeSeed, options: zooOptions)
                    try emit(
                        EvaluationFrame(
                            source: s.relativePath, isFake: true, kind: "zoo:" + family.name, variant: "original",
                            image: made.image, region: made.mask.box,
                            regionStatistics: RegionStatistics.measure(real: image, fake: made.image, mask: made.mask)))
                }
            }
        }
        for s in fake {
            for stored in s.frames {
                try emit(
                    EvaluationFrame(
                        source: s.relativePath, isFake: true, kind: "media", variant: "original", image: stored.rgbImage))
            }
        }
    }
}

extension StoredFrame {
    /// The frame as 0…1 planar floats.
    public var rgbImage: RGBImage {
        RGBImage(width: width, height: height, pixels: bytes.map { Float($0) * (1 / 255) })
    }
}
