// A training-free measure of re-synthesis: whether an area keeps the 8-pixel compression grid that the
// rest of its frame carries. Glossary: y = luma (BT.601 weights on RGB in 0…1); a step at boundary c
// (between pixels c and c + 1 along a row or column) = |Δ(c) − (Δ(c − 1) + Δ(c + 1))/2| with
// Δ(c) = y(c + 1) − y(c), how much the jump across c exceeds the slope around it; the grid phase of an
// axis = the boundary position modulo 8 with the largest mean step over the whole frame.
import Foundation
import MediaIO

/// Whether a region carries the block-compression grid of the rest of its frame.
///
/// JPEG and the common video codecs quantize 8×8 (or 4×4 inside 8×8-aligned) transform blocks, so a
/// decoded camera frame has slightly larger jumps across every eighth pixel boundary than between,
/// everywhere. A region re-synthesised by a decoder, resampled, smoothed, blended from an altered copy
/// or pasted from elsewhere after the frame was decoded does not carry the frame's grid (or carries
/// one at another phase or strength), whatever made it. Per 8-pixel block, g = ln(B + ε) − ln(I + ε),
/// where B is the mean step at the frame's grid boundaries and I the mean step at the other seven
/// positions (both axes summed); each 128-pixel area's mean g is compared with the mean over the
/// 384-pixel neighbourhood around it, and the frame's evidence is the largest departure, in either
/// direction (the block-artifact-grid idea of Li, Yuan & Yu 2009 and of Lin et al. 2009 on aligned
/// double compression, reduced to one local statistic). No training is involved. A frame that was never
/// block-compressed, or whose grid a later compression at the same alignment rewrote everywhere, gives
/// little evidence either way.
public enum GridConsistency {
    /// The codecs' transform grid, in pixels.
    public static let period = 8
    /// Block side in pixels (one grid period, so every block holds each boundary position once per line).
    public static let blockSide = 8
    /// Side of an area, and of its neighbourhood, in blocks (128 and 384 pixels).
    public static let areaBlocks = 16, contextBlocks = 48
    /// Floor added to both mean steps (1/255 units: half of one 8-bit level), so flat or clipped
    /// blocks give g ≈ 0 instead of the ratio of two rounding residues.
    static let epsilon: Float = 0.5 / 255

    /// How areas are compared with their surroundings.
    public static let comparison = ContextDeviation(
        blockSide: blockSide, areaBlocks: areaBlocks, contextBlocks: contextBlocks)

    /// g per whole 8-pixel block of the frame (⌊H/8⌋ × ⌊W/8⌋; empty when the frame is smaller than one
    /// block or under 4 pixels on a side).
    public static func blockRatios(_ image: RGBImage) -> ScoreGrid {
        let H = image.height, W = image.width, B = blockSide
        let rows = H / B, columns = W / B
        guard rows > 0, columns > 0, H >= 4, W >= 4, image.pixels.count == 3 * H * W else {
            return ScoreGrid(rows: 0, columns: 0, values: [])
        }
        let luma = ContextDeviation.luma(image)
        let horizontal = stepSums(luma, height: H, width: W, alongRows: true, rows: rows, columns: columns)
        let vertical = stepSums(luma, height: H, width: W, alongRows: false, rows: rows, columns: columns)
        var values = [Float](repeating: 0, count: rows * columns)
        for k in values.indices {
            let (gh, ih) = horizontal.split(block: k), (gv, iv) = vertical.split(block: k)
            values[k] = logf(gh + gv + epsilon) - logf(ih + iv + epsilon)
        }
        return ScoreGrid(rows: rows, columns: columns, values: values)
    }

    /// Steps of one axis summed per block and boundary position (modulo `period`), and the frame's
    /// grid phase on that axis.
    struct StepSums {
        var sums: [Float], counts: [Int32]
        var phase: Int

        /// The block's mean step at the grid phase and at the other positions.
        func split(block k: Int) -> (grid: Float, other: Float) {
            let P = GridConsistency.period
            var total: Float = 0, n: Int32 = 0
            for q in 0..<P { total += sums[k * P + q]; n += counts[k * P + q] }
            let gridSum = sums[k * P + phase], gridCount = counts[k * P + phase]
            let grid = gridCount > 0 ? gridSum / Float(gridCount) : 0
            let other = n - gridCount > 0 ? (total - gridSum) / Float(n - gridCount) : 0
            return (grid, other)
        }
    }

    /// Steps at every boundary of every row (`alongRows`) or column whose 4-pixel stencil lies inside
    /// the plane, summed into the block of the boundary's first pixel, for the rows × columns whole
    /// blocks.
    static func stepSums(_ y: [Float], height H: Int, width W: Int, alongRows: Bool, rows: Int, columns: Int)
        -> StepSums
    {
        let P = period, B = blockSide
        var sums = [Float](repeating: 0, count: rows * columns * P)
        var counts = [Int32](repeating: 0, count: rows * columns * P)
        let lines = alongRows ? rows * B : columns * B
        let length = alongRows ? W : H, limit = alongRows ? columns * B : rows * B
        let stride = alongRows ? 1 : W, lineStride = alongRows ? W : 1
        y.withUnsafeBufferPointer { p in
            for line in 0..<lines {
                let base = line * lineStride
                for c in 1..<min(length - 2, limit) {
                    let i = base + c * stride
                    let step = abs(1.5 * (p[i + stride] - p[i]) + 0.5 * (p[i - stride] - p[i + 2 * stride]))
                    let block = alongRows ? (line / B) * columns + c / B : (c / B) * columns + line / B
                    sums[block * P + c % P] += step
                    counts[block * P + c % P] += 1
                }
            }
        }
        var phaseSums = [Double](repeating: 0, count: P), phaseCounts = [Int](repeating: 0, count: P)
        for k in sums.indices { phaseSums[k % P] += Double(sums[k]); phaseCounts[k % P] += Int(counts[k]) }
        let means = (0..<P).map { phaseCounts[$0] > 0 ? phaseSums[$0] / Double(phaseCounts[$0]) : 0 }
        let phase = means.indices.max { means[$0] < means[$1] } ?? 0
        return StepSums(sums: sums, counts: counts, phase: phase)
    }

    /// The frame's evidence: the largest |deviation| over its areas; nil when the frame holds fewer than
    /// `areaBlocks` blocks on a side (no whole area to compare).
    public static func frameScore(_ image: RGBImage) -> Double? { analyse(image)?.score }

    /// The frame's evidence and where it points (`ContextDeviation.analyse`).
    public static func analyse(_ image: RGBImage) -> (score: Double, region: PixelRegion)? {
        comparison.analyse(blockRatios(image), frameWidth: image.width, frameHeight: image.height)
    }
}
