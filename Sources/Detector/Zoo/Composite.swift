// Owns compositing for the fake-maker zoo: fake = real·(1 − m) + synthetic·m on whole frames, with
// pixels where m = 0 copied from the real frame bit for bit, and the colour correction face-swap
// tools apply first (the mask-weighted low-pass of real − synthetic added back to the synthetic).
// Glossary: m mask value, box the mask's bounding box; a "patch" is box-sized synthetic content.
import Foundation
import MediaIO

/// Blending synthetic content into real frames through a region mask.
public enum Compositor {
    /// fake = real·(1 − m) + synthetic·m for a whole-frame `synthetic`; exactly `real` where m = 0.
    public static func composite(real: RGBImage, synthetic: RGBImage, mask: RegionMask) throws -> RGBImage {
        try checkSizes(real, mask, synthetic)
        return composite(real: real, patch: patch(of: synthetic, in: mask.box), mask: mask)
    }

    /// `synthetic` after colour correction towards `real` over the mask's region (whole frames; the
    /// result differs from `synthetic` only inside the mask's box).
    public static func colourCorrected(synthetic: RGBImage, real: RGBImage, mask: RegionMask) throws -> RGBImage {
        try checkSizes(real, mask, synthetic)
        let corrected = colourCorrected(patch: patch(of: synthetic, in: mask.box), real: real, mask: mask)
        var out = synthetic
        paste(corrected, into: &out, at: mask.box)
        return out
    }

    /// fake = real·(1 − m) + patch·m where `patch` covers `mask.box`; exactly `real` where m = 0.
    public static func composite(real: RGBImage, patch: RGBImage, mask: RegionMask) -> RGBImage {
        let box = mask.box
        precondition(patch.width == box.width && patch.height == box.height, "patch does not cover the mask's box")
        var out = real
        let n = real.planeCount, m = patch.planeCount
        for y in 0..<box.height {
            for x in 0..<box.width {
                let i = (box.y + y) * real.width + box.x + x, weight = mask.values[i]
                guard weight > 0 else { continue }
                let j = y * box.width + x
                for c in 0..<3 {
                    out.pixels[c * n + i] = real.pixels[c * n + i] * (1 - weight) + patch.pixels[c * m + j] * weight
                }
            }
        }
        return out
    }

    /// patch + low-pass(real − patch) over the region: the low-pass is a normalized convolution
    /// blur(m·d)/blur(m) (three box passes, radius ≈ ⅙ of the box's shorter side, 3…24 px), so
    /// only differences inside the region count, as face-swap tools' colour transfer does.
    public static func colourCorrected(patch: RGBImage, real: RGBImage, mask: RegionMask) -> RGBImage {
        let box = mask.box, w = box.width, h = box.height, m = w * h
        precondition(patch.width == w && patch.height == h, "patch does not cover the mask's box")
        let radius = min(max(min(w, h) / 6, 3), 24)
        var weights = mask.boxValues  // (h, w)
        for _ in 0..<3 { ImageFilters.boxBlur(&weights, width: w, height: h, radius: radius) }
        let original = ImageFilters.crop(real, x: box.x, y: box.y, width: w, height: h)
        let maskValues = mask.boxValues
        var out = patch
        for c in 0..<3 {
            var difference = (0..<m).map { i in maskValues[i] * (original.pixels[c * m + i] - patch.pixels[c * m + i]) }
            for _ in 0..<3 { ImageFilters.boxBlur(&difference, width: w, height: h, radius: radius) }
            for i in 0..<m where weights[i] > 1e-6 { out.pixels[c * m + i] += difference[i] / weights[i] }
        }
        ImageFilters.clamp(&out)
        return out
    }

    /// The box-sized part of a whole frame.
    static func patch(of frame: RGBImage, in box: PixelRegion) -> RGBImage {
        ImageFilters.crop(frame, x: box.x, y: box.y, width: box.width, height: box.height)
    }

    /// Writes `patch` over `frame` at `box`.
    static func paste(_ patch: RGBImage, into frame: inout RGBImage, at box: PixelRegion) {
        let n = frame.planeCount, m = patch.planeCount
        for c in 0..<3 {
            for y in 0..<box.height {
                for x in 0..<box.width {
                    frame.pixels[c * n + (box.y + y) * frame.width + box.x + x] = patch.pixels[c * m + y * box.width + x]
                }
            }
        }
    }

    private static func checkSizes(_ real: RGBImage, _ mask: RegionMask, _ synthetic: RGBImage) throws {
        guard real.width == mask.width, real.height == mask.height, synthetic.width == real.width,
            synthetic.height == real.height, real.pixels.count == 3 * real.planeCount,
            synthetic.pixels.count == 3 * synthetic.planeCount
        else {
            throw DetectorError.invalidInput(
                "cannot composite: real \(real.width)×\(real.height), synthetic \(synthetic.width)×\(synthetic.height), "
                    + "mask \(mask.width)×\(mask.height)")
        }
    }
}
