// A training-free measure of re-synthesis: how a frame's finest detail relates to the detail one
// octave coarser, per 16-pixel block, and how far each 64-pixel area departs from its surroundings.
// Glossary: y = luma (BT.601 weights on RGB in 0…1), E1 = mean |second-difference| of y at full
// resolution, E2 = the same on y averaged over 2×2 pixels, ρ = ln(E1 + ε) − ln(E2 + ε) per block.
import Foundation
import MediaIO

/// Whether a region carries the fine-to-coarse detail of the rest of its frame.
///
/// A camera frame's finest scale holds sensor noise, demosaicing and the codec's own traces; a region
/// re-synthesised by a decoder, smoothed, resampled or blended from an altered copy has a different
/// ratio of finest detail to detail one octave coarser (usually less, sometimes more: decoders add
/// their own upsampling texture). The ratio ρ is taken per 16-pixel block, so image content, which
/// raises both scales together, largely cancels; each 64-pixel area's mean ρ is compared with the mean
/// over the 384-pixel neighbourhood around it, and the frame's evidence is the largest departure, in
/// either direction. No training is involved, so it makes no assumption about which generator made a
/// fake (the local noise-consistency idea of Lyu, Pan & Zhang 2014, with a scale ratio in place of a
/// noise level).
public enum ScaleConsistency {
    /// Block side in pixels (a multiple of 2: the coarse scale's blocks are half as large).
    public static let blockSide = 16
    /// Side of an area, and of its neighbourhood, in blocks (64 and 384 pixels).
    public static let areaBlocks = 4, contextBlocks = 24
    /// Floor added to both energies (1/255 units: 0.3 of one 8-bit level), so flat or clipped
    /// blocks, whose energies are both near zero, give ρ ≈ 0 instead of the ratio of two quantization
    /// residues.
    static let epsilon: Float = 0.3 / 255

    /// ρ per whole 16-pixel block of the frame (⌊H/16⌋ × ⌊W/16⌋; empty when the frame is smaller than
    /// one block).
    public static func blockRatios(_ image: RGBImage) -> ScoreGrid {
        let H = image.height, W = image.width, B = blockSide
        let rows = H / B, columns = W / B
        guard rows > 0, columns > 0, image.pixels.count == 3 * H * W else {
            return ScoreGrid(rows: 0, columns: 0, values: [])
        }
        let luma = ContextDeviation.luma(image)
        let half = (H / 2, W / 2)
        var coarse = [Float](repeating: 0, count: half.0 * half.1)
        for r in 0..<half.0 {
            for c in 0..<half.1 {
                let i = 2 * r * W + 2 * c
                coarse[r * half.1 + c] = 0.25 * (luma[i] + luma[i + 1] + luma[i + W] + luma[i + W + 1])
            }
        }
        let fine = blockMeanSecondDifference(luma, height: H, width: W, block: B, rows: rows, columns: columns)
        let coarseE = blockMeanSecondDifference(
            coarse, height: half.0, width: half.1, block: B / 2, rows: rows, columns: columns)
        var values = [Float](repeating: 0, count: rows * columns)
        for i in values.indices { values[i] = logf(fine[i] + epsilon) - logf(coarseE[i] + epsilon) }
        return ScoreGrid(rows: rows, columns: columns, values: values)
    }

    /// Mean |y ⊛ [1 −2 1]ᵀ[1 −2 1]| over the pixels of each block × block cell whose 3×3 neighbourhood
    /// lies inside the plane (the rows × columns cells from the top-left).
    static func blockMeanSecondDifference(
        _ y: [Float], height H: Int, width W: Int, block: Int, rows: Int, columns: Int
    ) -> [Float] {
        var sums = [Float](repeating: 0, count: rows * columns), counts = [Int](repeating: 0, count: rows * columns)
        guard H >= 3, W >= 3 else { return sums }
        y.withUnsafeBufferPointer { p in
            for r in 1..<min(H - 1, rows * block) {
                let br = r / block
                for c in 1..<min(W - 1, columns * block) {
                    let i = r * W + c
                    let rowAbove = p[i - W - 1] - 2 * p[i - W] + p[i - W + 1]
                    let row = p[i - 1] - 2 * p[i] + p[i + 1]
                    let rowBelow = p[i + W - 1] - 2 * p[i + W] + p[i + W + 1]
                    let k = br * columns + c / block
                    sums[k] += abs(rowAbove - 2 * row + rowBelow)
                    counts[k] += 1
                }
            }
        }
        for k in sums.indices where counts[k] > 0 { sums[k] /= Float(counts[k]) }
        return sums
    }

    /// How areas are compared with their surroundings: 16-pixel blocks, 64-pixel areas, 384-pixel
    /// neighbourhoods.
    public static let comparison = ContextDeviation(
        blockSide: blockSide, areaBlocks: areaBlocks, contextBlocks: contextBlocks)

    /// Mean ρ of every 64-pixel area minus the mean ρ of the 384-pixel neighbourhood centred on it.
    public static func deviations(_ ratios: ScoreGrid) -> ScoreGrid { comparison.deviations(ratios) }

    /// The frame's evidence: the largest |deviation| over its areas; nil when the frame holds fewer than
    /// `areaBlocks` blocks on a side (no whole area to compare).
    public static func frameScore(_ image: RGBImage) -> Double? { analyse(image)?.score }

    /// The frame's evidence and where it points: the largest |deviation| and the region of the areas
    /// around it that depart the same way by at least half as much (`ContextDeviation.analyse`).
    public static func analyse(_ image: RGBImage) -> (score: Double, region: PixelRegion)? {
        comparison.analyse(blockRatios(image), frameWidth: image.width, frameHeight: image.height)
    }
}
