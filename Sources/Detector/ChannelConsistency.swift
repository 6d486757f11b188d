// A training-free measure of re-synthesis: whether an area's colour channels share their finest detail
// the way the rest of its frame does. Glossary: d_k = the second difference [1 −2 1]ᵀ[1 −2 1] of colour
// channel k (RGB in 0…1) at full resolution; per 16-pixel block, corr(R, G) = mean(d_R·d_G) /
// √(mean(d_R²)·mean(d_G²) + ε), likewise corr(B, G), and κ = (corr(R, G) + corr(B, G)) / 2, for blocks
// with detail (mean(d_G²) at least one 8-bit level squared).
import Foundation
import MediaIO

/// Whether a region's colour channels carry the same fine detail as each other, as the rest of its
/// frame's do.
///
/// A camera interpolates two of every three colour values from neighbours (demosaicing), and JPEG and
/// video codecs keep chroma at half resolution, so the finest detail of a camera frame is nearly the
/// same in R, G and B: the channels' high-pass residuals are strongly correlated, everywhere. A decoder
/// synthesises the three channels with separate filters, and its texture and noise differ from channel
/// to channel; a smoothed, resampled or blended region changes the mix too. Per 16-pixel block, κ is
/// the mean of the correlations of R and B with G over the blocks' second differences. Blocks with
/// hardly any detail (flat, clipped, or flattened by a codec) have no meaningful correlation and are
/// left out. Each 128-pixel area's mean κ (over at least half its blocks) is compared with the mean
/// over the 384-pixel neighbourhood around it, and the frame's
/// evidence is the largest departure, in either direction (the colour-filter-array idea of Popescu &
/// Farid 2005, reduced to one local statistic that needs no model of the camera's pattern). No training
/// is involved. A re-encoding with 4:2:0 chroma rewrites the finest chroma detail of the whole frame,
/// real and fake alike, and leaves little of this evidence.
public enum ChannelConsistency {
    /// Block side in pixels.
    public static let blockSide = 16
    /// Side of an area, and of its neighbourhood, in blocks (128 and 384 pixels).
    public static let areaBlocks = 8, contextBlocks = 24
    /// Floor added to the product of the two mean squares under the square root: 0.1 in units of an
    /// 8-bit level to the fourth power, so a block with detail in G but none in R or B (a clipped
    /// channel) gets a correlation near 0 for that pair instead of 0 / 0.
    static let epsilon = 0.1 / (255.0 * 255.0 * 255.0 * 255.0)
    /// Least mean(d_G²) of a block with a measure: one 8-bit level squared. Below it the residual is
    /// mostly rounding, and κ would compare the content's flatness rather than its channels (on the
    /// training packages' frames 1 level² separated best among 0, 0.25, 1, 4 and more levels² on
    /// original frames, and among 0, 0.25 and 1 after JPEG or H.264; Docs/generalization.md).
    static let minimumDetail = 1 / (255.0 * 255.0)

    /// How areas are compared with their surroundings.
    public static let comparison = ContextDeviation(
        blockSide: blockSide, areaBlocks: areaBlocks, contextBlocks: contextBlocks)

    /// κ per whole 16-pixel block of the frame (⌊H/16⌋ × ⌊W/16⌋; empty when the frame is smaller than
    /// one block), NaN for blocks under `minimumDetail`. A block's residuals are those of its pixels
    /// whose 3×3 neighbourhood lies inside the frame.
    public static func blockCorrelations(_ image: RGBImage) -> ScoreGrid {
        let H = image.height, W = image.width, B = blockSide
        let rows = H / B, columns = W / B
        guard rows > 0, columns > 0, H >= 3, W >= 3, image.pixels.count == 3 * H * W else {
            return ScoreGrid(rows: 0, columns: 0, values: [])
        }
        // Per block: Σ r·g, Σ b·g, Σ r², Σ g², Σ b² of the residuals.
        var sums = [Double](repeating: 0, count: rows * columns * 5)
        let plane = H * W
        image.pixels.withUnsafeBufferPointer { p in
            func residual(_ i: Int) -> Float {
                let above = p[i - W - 1] - 2 * p[i - W] + p[i - W + 1]
                let row = p[i - 1] - 2 * p[i] + p[i + 1]
                let below = p[i + W - 1] - 2 * p[i + W] + p[i + W + 1]
                return above - 2 * row + below
            }
            for r in 1..<min(H - 1, rows * B) {
                let br = r / B
                for bc in 0..<columns {
                    // Accumulate one block's row in Float (at most 16 terms), then add it in Double.
                    var acc: (Float, Float, Float, Float, Float) = (0, 0, 0, 0, 0)
                    for c in max(1, bc * B)..<min(W - 1, (bc + 1) * B) {
                        let i = r * W + c
                        let red = residual(i), green = residual(plane + i), blue = residual(2 * plane + i)
                        acc.0 += red * green; acc.1 += blue * green
                        acc.2 += red * red; acc.3 += green * green; acc.4 += blue * blue
                    }
                    let k = (br * columns + bc) * 5
                    sums[k] += Double(acc.0); sums[k + 1] += Double(acc.1)
                    sums[k + 2] += Double(acc.2); sums[k + 3] += Double(acc.3); sums[k + 4] += Double(acc.4)
                }
            }
        }
        var values = [Float](repeating: 0, count: rows * columns)
        for b in values.indices {
            // Pixels of the block with a whole 3×3 neighbourhood.
            let r0 = max(1, (b / columns) * B), r1 = min(H - 1, (b / columns + 1) * B)
            let c0 = max(1, (b % columns) * B), c1 = min(W - 1, (b % columns + 1) * B)
            let n = Double(max(0, r1 - r0) * max(0, c1 - c0))
            let k = b * 5
            guard n > 0, sums[k + 3] / n >= minimumDetail else {
                values[b] = .nan
                continue
            }
            let rg = sums[k] / n, bg = sums[k + 1] / n, rr = sums[k + 2] / n, gg = sums[k + 3] / n, bb = sums[k + 4] / n
            values[b] = Float(0.5 * (rg / (rr * gg + epsilon).squareRoot() + bg / (bb * gg + epsilon).squareRoot()))
        }
        return ScoreGrid(rows: rows, columns: columns, values: values)
    }

    /// The frame's evidence: the largest |deviation| over its areas; nil when the frame holds fewer than
    /// `areaBlocks` blocks on a side (no whole area to compare), 0 when no area has enough detail.
    public static func frameScore(_ image: RGBImage) -> Double? { analyse(image)?.score }

    /// The frame's evidence and where it points (`ContextDeviation.analyse`).
    public static func analyse(_ image: RGBImage) -> (score: Double, region: PixelRegion)? {
        comparison.analyse(blockCorrelations(image), frameWidth: image.width, frameHeight: image.height)
    }
}
