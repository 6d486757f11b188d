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
        let plane = H * W
        var luma = [Float](repeating: 0, count: plane)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<plane { luma[i] = 0.299 * p[i] + 0.587 * p[plane + i] + 0.114 * p[2 * plane + i] }
        }
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

    /// Mean ρ of every `areaBlocks`-square area minus the mean ρ of the `contextBlocks`-square
    /// neighbourhood centred on it (both clipped to the grid), one value per block position.
    public static func deviations(_ ratios: ScoreGrid) -> ScoreGrid {
        let area = centredBoxMeans(ratios, side: areaBlocks), context = centredBoxMeans(ratios, side: contextBlocks)
        return ScoreGrid(
            rows: ratios.rows, columns: ratios.columns, values: zip(area, context).map { $0 - $1 })
    }

    /// The frame's evidence: the largest |deviation| over its areas; nil when the frame holds fewer than
    /// `areaBlocks` blocks on a side (no whole area to compare).
    public static func frameScore(_ image: RGBImage) -> Double? { analyse(image)?.score }

    /// The frame's evidence and where it points: the largest |deviation| and the region of the areas
    /// around it that depart the same way by at least half as much (`region(_:)`); nil as `frameScore`.
    public static func analyse(_ image: RGBImage) -> (score: Double, region: PixelRegion)? {
        let ratios = blockRatios(image)
        guard ratios.rows >= areaBlocks, ratios.columns >= areaBlocks else { return nil }
        let d = deviations(ratios)
        guard let peak = d.values.indices.max(by: { abs(d.values[$0]) < abs(d.values[$1]) }) else { return nil }
        return (Double(abs(d.values[peak])), region(d, peak: peak, frameWidth: image.width, frameHeight: image.height))
    }

    /// The 4-connected component of area positions around `peak` whose deviation has the peak's sign
    /// and at least half its size, as the box of those areas' pixels (each position stands for the
    /// 64-pixel area centred on its block: blocks r − 2 …< r + 2), clipped to the frame.
    static func region(_ d: ScoreGrid, peak: Int, frameWidth: Int, frameHeight: Int) -> PixelRegion {
        let peakValue = d.values[peak], level = abs(peakValue) / 2
        var seen = [Bool](repeating: false, count: d.values.count)
        var stack = [peak]
        seen[peak] = true
        var minR = peak / d.columns, maxR = minR, minC = peak % d.columns, maxC = minC
        while let i = stack.popLast() {
            let r = i / d.columns, c = i % d.columns
            minR = min(minR, r); maxR = max(maxR, r); minC = min(minC, c); maxC = max(maxC, c)
            for (rr, cc) in [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)]
            where rr >= 0 && rr < d.rows && cc >= 0 && cc < d.columns && !seen[rr * d.columns + cc] {
                let j = rr * d.columns + cc, v = d.values[j]
                if (v > 0) == (peakValue > 0) && abs(v) >= level { seen[j] = true; stack.append(j) }
            }
        }
        let B = blockSide, half = areaBlocks / 2
        let x0 = max(0, (minC - half) * B), y0 = max(0, (minR - half) * B)
        let x1 = min(frameWidth, (maxC + half) * B), y1 = min(frameHeight, (maxR + half) * B)
        return PixelRegion(x: x0, y: y0, width: max(1, x1 - x0), height: max(1, y1 - y0))
    }

    /// Mean over the side × side box around each cell (rows r − side/2 …< r − side/2 + side, likewise
    /// for columns), clipped to the grid, by a summed-area table.
    static func centredBoxMeans(_ g: ScoreGrid, side: Int) -> [Float] {
        let R = g.rows, C = g.columns, w = C + 1
        var sum = [Double](repeating: 0, count: (R + 1) * w)
        for r in 0..<R {
            for c in 0..<C {
                sum[(r + 1) * w + c + 1] = Double(g[r, c]) + sum[r * w + c + 1] + sum[(r + 1) * w + c] - sum[r * w + c]
            }
        }
        var out = [Float](repeating: 0, count: R * C)
        for r in 0..<R {
            let r0 = max(0, r - side / 2), r1 = min(R, r - side / 2 + side)
            for c in 0..<C {
                let c0 = max(0, c - side / 2), c1 = min(C, c - side / 2 + side)
                let total = sum[r1 * w + c1] - sum[r0 * w + c1] - sum[r1 * w + c0] + sum[r0 * w + c0]
                out[r * C + c] = Float(total / Double((r1 - r0) * (c1 - c0)))
            }
        }
        return out
    }
}
