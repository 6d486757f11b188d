// A training-free measure of re-synthesis in frames that were JPEG-compressed: whether an area's 8×8
// DCT coefficients still sit on the quantization lattice the rest of the frame sits on. Glossary:
// y = luma (BT.601 weights) in 8-bit units; a block = 8×8 pixels at the frame's grid phase (the
// blocking's, `GridConsistency`, or the origin, whichever shows the stronger lattice); c_k = the block's orthonormal 2-D DCT-II coefficient at frequency k (JPEG's own
// transform); q_k = the frame's lattice step at k (1 when there is none); an informative coefficient =
// |c_k| > q_k / 2 in a block with no clipped channel; fit = cos(2π c_k / q_k), 1 on the lattice.
import Foundation
import MediaIO

/// Whether a region keeps the JPEG quantization of the rest of its frame.
///
/// Decoding a JPEG leaves every 8×8 block's DCT coefficients at multiples of that frequency's
/// quantization step, up to the decoder's rounding. A region re-synthesised, resampled, smoothed,
/// blended or pasted after decoding leaves the lattice, whatever made it (the quantization-table and
/// double-quantization traces of Lin et al. 2009 and Bianchi & Piva 2012, reduced to one statistic).
/// Per frequency, q_k is the largest step whose lattice the frame's coefficients fit clearly; per area of
/// 16 × 16 blocks (128 pixels), the informative coefficients' fits are compared with each frequency's
/// mean fit over the frame, summed, and divided by the standard deviation the sum would have by chance:
/// z. The frame's evidence is ln(1 + max z): 0 for a frame with no lattice (never JPEG-compressed, or
/// re-encoded by a video codec), large where an area's coefficients left the lattice. A later, coarser
/// JPEG compression lays its own lattice over every block and hides the region.
public enum LatticeConsistency {
    /// Transform block side in pixels.
    public static let blockSide = 8
    /// Side of an area in blocks (128 pixels).
    public static let areaBlocks = 16
    /// The frequencies read: the first 27 AC coefficients in JPEG's zig-zag order (row, column), where
    /// the steps are small enough to leave many coefficients off zero.
    static let frequencies: [(Int, Int)] = [
        (0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0), (4, 0), (3, 1), (2, 2), (1, 3),
        (0, 4), (0, 5), (1, 4), (2, 3), (3, 2), (4, 1), (5, 0), (6, 0), (5, 1), (4, 2), (3, 3), (2, 4), (1, 5),
        (0, 6),
    ]
    /// Steps tried, in 8-bit units (JPEG's tables at qualities from about 50 upwards, at these frequencies).
    static let candidateSteps = 2...40
    /// A step's lattice is clear when the mean fit of the coefficients over half of it reaches this level
    /// (decoder rounding keeps it near 0.35–0.7 at steps 4–6; coefficients off any lattice give 0 ± 0.02).
    static let latticeLevel: Float = 0.2
    /// At most this many coefficients per frequency estimate the step (every n-th block), and at least
    /// this many informative ones must be seen at a step, or at a frequency, for it to count.
    static let estimateSample = 4_000, minimumPerStep = 100, minimumPerFrequency = 50
    /// An area is compared only with at least this many informative coefficients, and a frame only with
    /// at least `minimumPerFrame` in all.
    static let minimumPerArea = 64, minimumPerFrame = 500
    /// Smallest Rayleigh statistic m·P² a lattice needs (with no lattice, 2m·P² follows χ² with two
    /// degrees of freedom: 25 has probability e⁻²⁵).
    static let minimumRayleigh = 25.0

    /// The region rule over area positions (`ContextDeviation.region`): the component's centres widened
    /// by a quarter area on each side (half an area would cover the whole area of every edge position,
    /// most of it outside the region when the region is about one area in size).
    static let regionRule = ContextDeviation(blockSide: blockSide, areaBlocks: areaBlocks / 2, contextBlocks: areaBlocks)

    /// Per block: the summed excess of its informative coefficients' fits over their frequencies' frame
    /// means, the variance that sum has by chance, and the count; and the steps found.
    public struct BlockFits: Sendable {
        public var rows: Int, columns: Int
        public var excess: [Float], variance: [Float], count: [Float]
        /// q_k per frequency in `frequencies` order (1 = no lattice).
        public var steps: [Int]
        /// The blocks' top-left pixel (row, column): the frame's grid phase.
        public var origin: (row: Int, column: Int)
    }

    /// The orthonormal 8-point DCT-II matrix, row u = frequency.
    static let basis: [Float] = (0..<64).map { i in
        let u = i / 8, x = i % 8
        let scale = u == 0 ? (1.0 / 8).squareRoot() : (2.0 / 8).squareRoot()
        return Float(scale * cos(Double((2 * x + 1) * u) * Double.pi / 16))
    }

    /// The frame's per-block fits; nil when it holds no whole block. The blocks start at whichever of
    /// two phases shows the stronger lattice (the larger sum over frequencies of the step's Rayleigh
    /// statistic, `step`): one pixel after the boundary with the largest luma steps on each axis (the
    /// blocking of a cropped JPEG), or the frame's origin (an uncropped JPEG at high quality, whose
    /// blocking is too faint to read and whose lattice is still there).
    public static func blockFits(_ image: RGBImage) -> BlockFits? {
        let H = image.height, W = image.width, B = blockSide
        guard H >= 4, W >= 4, image.pixels.count == 3 * H * W else { return nil }
        let luma = ContextDeviation.luma(image)
        let gridRows = H / B, gridColumns = W / B
        guard gridRows > 0, gridColumns > 0 else { return nil }
        let blocking = (
            row:
                (GridConsistency.stepSums(
                    luma, height: H, width: W, alongRows: false, rows: gridRows, columns: gridColumns
                ).phase + 1) % B,
            column:
                (GridConsistency.stepSums(
                    luma, height: H, width: W, alongRows: true, rows: gridRows, columns: gridColumns
                ).phase + 1) % B
        )
        let candidates = blocking == (0, 0) ? [blocking] : [blocking, (row: 0, column: 0)]
        var chosen: (origin: (row: Int, column: Int), steps: [(step: Int, statistic: Double)])?
        for origin in candidates {
            let rows = (H - origin.row) / B, columns = (W - origin.column) / B
            guard rows > 0, columns > 0 else { continue }
            let stride = max(1, rows * columns / estimateSample)
            let sample = transform(
                image, luma: luma, origin: origin, columns: columns,
                blocks: Array(Swift.stride(from: 0, to: rows * columns, by: stride)))
            let steps = (0..<frequencies.count).map { step(sample.coefficients, frequency: $0, of: frequencies.count) }
            func strength(_ s: [(step: Int, statistic: Double)]) -> Double {
                s.reduce(0) { $0 + ($1.step >= 2 ? $1.statistic : 0) }
            }
            if chosen == nil || strength(steps) > strength(chosen!.steps) { chosen = (origin, steps) }
        }
        guard let (origin, estimated) = chosen else { return nil }
        let rows = (H - origin.row) / B, columns = (W - origin.column) / B
        let K = frequencies.count, n = rows * columns
        let (coefficients, clipped) = transform(image, luma: luma, origin: origin, columns: columns, blocks: Array(0..<n))
        var excess = [Float](repeating: 0, count: n), variance = excess, count = excess
        let steps = estimated.map(\.step)
        for k in 0..<K {
            let q = steps[k]
            guard q >= 2 else { continue }
            // Mean and variance of the fit at this frequency over the frame's informative coefficients.
            var fits = [Float](repeating: .nan, count: n)
            var sum = 0.0, sumSquares = 0.0, m = 0
            let w = 2 * Float.pi / Float(q)
            for b in 0..<n where !clipped[b] {
                let c = coefficients[b * K + k]
                guard abs(c) > Float(q) / 2 else { continue }
                let f = cos(w * c)
                fits[b] = f; sum += Double(f); sumSquares += Double(f * f); m += 1
            }
            guard m >= minimumPerFrequency else { continue }
            let mean = sum / Double(m)
            let chance = Float(max(sumSquares / Double(m) - mean * mean, 0) + 1e-3)
            for b in 0..<n where !fits[b].isNaN {
                excess[b] += fits[b] - Float(mean); variance[b] += chance; count[b] += 1
            }
        }
        return BlockFits(
            rows: rows, columns: columns, excess: excess, variance: variance, count: count, steps: steps,
            origin: origin)
    }

    /// The `frequencies` coefficients (blocks × frequencies, in `blocks` order) of the given blocks
    /// (row-major indices of a grid `columns` wide starting at `origin`), and whether each block has a
    /// clipped channel.
    static func transform(
        _ image: RGBImage, luma: [Float], origin: (row: Int, column: Int), columns: Int, blocks: [Int]
    ) -> (coefficients: [Float], clipped: [Bool]) {
        let W = image.width, B = blockSide, K = frequencies.count, plane = image.height * W
        var coefficients = [Float](repeating: 0, count: blocks.count * K)
        var clipped = [Bool](repeating: false, count: blocks.count)
        image.pixels.withUnsafeBufferPointer { px in
            luma.withUnsafeBufferPointer { y in
                var block = [Float](repeating: 0, count: 64), half = [Float](repeating: 0, count: 64)
                for (i, b) in blocks.enumerated() {
                    let br = b / columns, bc = b % columns
                    var cut = false
                    for r in 0..<B {
                        let row = (origin.row + br * B + r) * W + origin.column + bc * B
                        for c in 0..<B {
                            block[r * B + c] = 255 * y[row + c] - 128
                            for channel in 0..<3 {
                                let v = px[channel * plane + row + c]
                                if v <= 0.5 / 255 || v >= 254.5 / 255 { cut = true }
                            }
                        }
                    }
                    clipped[i] = cut
                    // half[u][x] = Σ_r basis[u][r] · block[r][x]; c[u][v] = Σ_x half[u][x] · basis[v][x].
                    for u in 0..<B {
                        for x in 0..<B {
                            var s: Float = 0
                            for r in 0..<B { s += basis[u * B + r] * block[r * B + x] }
                            half[u * B + x] = s
                        }
                    }
                    for (k, (u, v)) in frequencies.enumerated() {
                        var s: Float = 0
                        for x in 0..<B { s += half[u * B + x] * basis[v * B + x] }
                        coefficients[i * K + k] = s
                    }
                }
            }
        }
        return (coefficients, clipped)
    }

    /// q_k for frequency k of `coefficients` (blocks × frequencyCount), and its statistic: among candidate steps whose mean
    /// fit P over the m coefficients beyond half of them reaches `latticeLevel`, the one with the largest
    /// Rayleigh statistic m·P² (how unlikely that fit is by chance), provided m·P² ≥ `minimumRayleigh`;
    /// 1 (statistic 0) when none qualifies. Weighing by m keeps a large step that only a few coefficients reach, at a
    /// handful of multiples, from winning on a chance alignment; a lattice at q fits 2q only on its even
    /// multiples (P about E[(−1)ⁿ]) and q/2 more loosely (rounding weighs twice as much), so the true step
    /// has the largest statistic.
    static func step(_ coefficients: [Float], frequency k: Int, of frequencyCount: Int) -> (step: Int, statistic: Double) {
        let n = coefficients.count / frequencyCount
        let stride = max(1, n / estimateSample)
        var values: [Float] = []
        values.reserveCapacity(min(n, estimateSample + 1))
        for b in Swift.stride(from: 0, to: n, by: stride) {
            let c = coefficients[b * frequencyCount + k]
            if abs(c) > 0.75 { values.append(c) }
        }
        var best = 1, bestStatistic = minimumRayleigh
        for s in candidateSteps {
            let w = 2 * Float.pi / Float(s), half = Float(s) / 2
            var sum: Float = 0, m = 0
            for c in values where abs(c) > half { sum += cos(w * c); m += 1 }
            guard m >= minimumPerStep else { break }  // larger steps see fewer still
            let p = sum / Float(m), statistic = Double(m) * Double(p * p)
            if p > latticeLevel && statistic >= bestStatistic { best = s; bestStatistic = statistic }
        }
        return (best, best >= 2 ? bestStatistic : 0)
    }

    /// Per area position (the 16 × 16 blocks centred on each block, clipped to the grid): z, the area's
    /// summed excess fit negated over its chance standard deviation; 0 where the area holds fewer than
    /// `minimumPerArea` informative coefficients. Positive = the area fits the lattice worse than the frame.
    public static func areaDepartures(_ fits: BlockFits) -> ScoreGrid {
        let R = fits.rows, C = fits.columns
        func sums(_ a: [Float]) -> [(total: Double, cells: Int)] {
            ContextDeviation.centredBoxSums(a, rows: R, columns: C, side: areaBlocks)
        }
        let e = sums(fits.excess), v = sums(fits.variance), n = sums(fits.count)
        let z = (0..<(R * C)).map { i in
            n[i].total >= Double(minimumPerArea) ? Float(-e[i].total / v[i].total.squareRoot()) : 0
        }
        return ScoreGrid(rows: R, columns: C, values: z)
    }

    /// The frame's evidence: ln(1 + the largest area z, floored at 0); nil when the frame holds fewer
    /// than `areaBlocks` blocks on a side (no whole area to compare).
    public static func frameScore(_ image: RGBImage) -> Double? { analyse(image)?.score }

    /// The frame's evidence and where it points: the area positions around the peak whose z is at least
    /// half the peak's, as a pixel box (zero-sized when no area departs).
    public static func analyse(_ image: RGBImage) -> (score: Double, region: PixelRegion)? {
        guard image.height / blockSide >= areaBlocks, image.width / blockSide >= areaBlocks,
            let fits = blockFits(image), fits.rows >= areaBlocks, fits.columns >= areaBlocks
        else { return nil }
        let none = PixelRegion(x: 0, y: 0, width: 0, height: 0)
        guard fits.count.reduce(0, +) >= Float(minimumPerFrame) else { return (0, none) }
        let z = areaDepartures(fits)
        guard let peak = z.values.indices.max(by: { z.values[$0] < z.values[$1] }), z.values[peak] > 0 else {
            return (0, none)
        }
        var box = regionRule.region(z, peak: peak, frameWidth: image.width, frameHeight: image.height)
        box.x = min(image.width - 1, box.x + fits.origin.column)
        box.y = min(image.height - 1, box.y + fits.origin.row)
        box.width = min(box.width, image.width - box.x); box.height = min(box.height, image.height - box.y)
        return (Double(log1p(z.values[peak])), box)
    }
}
