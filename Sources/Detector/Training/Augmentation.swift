// Owns patch-level image operations for training: textured random crops at native resolution,
// and the augmentation applied to real and fake patches alike (same probabilities): flips, crop
// jitter + resize by a random factor, Gaussian noise, blur, JPEG and H.264 re-encoding via libavcodec.
// Glossary: P patch side; patches are RGBImage (planar RGB, 0…1).
import Foundation
import MediaIO
import NeuralNet

/// Probabilities and ranges of each augmentation. Applied identically to real and fake patches so
/// the detector cannot learn "augmented ⇒ fake" (or the reverse).
public struct AugmentationConfig: Codable, Equatable, Sendable {
    public var flip = 0.5
    public var resize = 0.3
    public var resizeRange: ClosedRange<Double> = 0.7...1.4
    /// Maximum crop-jitter shift in pixels (applied with the resize).
    public var jitter = 4
    public var noise = 0.2
    public var noiseSigma: ClosedRange<Double> = 0.002...0.03
    public var blur = 0.15
    public var blurSigma: ClosedRange<Double> = 0.3...1.2
    /// Re-encoding costs ~0.1–1 ms per 64×64 patch (JPEG) and more for H.264 (see tests/bench), so
    /// it is applied with a probability rather than always.
    public var jpeg = 0.2
    public var jpegQuality: ClosedRange<Int> = 30...100
    public var h264 = 0.1
    public var h264CRF: ClosedRange<Int> = 18...35

    public init() {}

    /// Throws unless every probability is in 0…1 and every range within what the operations support
    /// (a checkpoint's configuration is checked before use).
    func validate() throws {
        let probabilities = [flip, resize, noise, blur, jpeg, h264]
        guard probabilities.allSatisfy({ (0...1).contains($0) }),
            resizeRange.lowerBound >= 0.25, resizeRange.upperBound <= 4, (0...64).contains(jitter),
            noiseSigma.lowerBound >= 0, noiseSigma.upperBound <= 1, blurSigma.lowerBound >= 0, blurSigma.upperBound <= 8,
            jpegQuality.lowerBound >= 1, jpegQuality.upperBound <= 100, h264CRF.lowerBound >= 0, h264CRF.upperBound <= 51
        else {
            throw DetectorError.invalidConfiguration(
                "augmentation needs probabilities in 0…1, resize 0.25…4, jitter 0…64, noise σ 0…1, blur σ 0…8, "
                    + "JPEG quality 1…100 and H.264 CRF 0…51, got \(self)")
        }
    }

    /// No augmentation at all.
    public static let none: AugmentationConfig = {
        var c = AugmentationConfig()
        c.flip = 0; c.resize = 0; c.noise = 0; c.blur = 0; c.jpeg = 0; c.h264 = 0
        return c
    }()
}

/// Patch operations shared by the dataset, fake synthesis and augmentation.
public enum PatchOps {
    /// Mean absolute luminance gradient (x and y), a texture measure; flat crops score ≈ 0.
    public static func gradientEnergy(_ p: RGBImage) -> Float {
        let w = p.width, h = p.height, n = w * h
        guard w > 1, h > 1 else { return 0 }
        var total: Float = 0
        p.pixels.withUnsafeBufferPointer { px in
            func lum(_ i: Int) -> Float { 0.299 * px[i] + 0.587 * px[n + i] + 0.114 * px[2 * n + i] }
            for y in 0..<(h - 1) {
                for x in 0..<(w - 1) {
                    let i = y * w + x, l = lum(i)
                    total += abs(lum(i + 1) - l) + abs(lum(i + w) - l)
                }
            }
        }
        return total / Float((w - 1) * (h - 1))
    }

    /// A size×size crop of `frame` at (x0, y0) (reflecting beyond the edges).
    public static func crop(_ frame: StoredFrame, x0: Int, y0: Int, size: Int, into p: inout RGBImage) {
        if p.width != size || p.height != size { p = RGBImage(width: size, height: size) }
        let n = size * size
        for c in 0..<3 {
            for y in 0..<size {
                let sy = FrameTiling.reflect(y0 + y, frame.height)
                for x in 0..<size {
                    p.pixels[c * n + y * size + x] = frame.value(c, FrameTiling.reflect(x0 + x, frame.width), sy)
                }
            }
        }
    }

    /// A random native-resolution crop preferring texture: up to `attempts` crops, the first with
    /// gradient energy ≥ `minimumEnergy`, else the most textured one. Crops start at even frame
    /// coordinates, so the frame's 2×2 grid (4:2:0 chroma, the blocks of an NPR residual input) falls
    /// on the patch as it falls on every inference window (FrameTiling starts them at multiples of 16).
    public static func texturedCrop(
        _ frame: StoredFrame, size: Int, minimumEnergy: Float, attempts: Int = 6,
        rng: inout RandomGenerator
    ) -> RGBImage {
        var best = RGBImage(), bestEnergy: Float = -1, p = RGBImage(width: size, height: size)
        for _ in 0..<max(1, attempts) {
            let x0 = 2 * Int(rng.next() % UInt64(max(1, (frame.width - size) / 2 + 1)))
            let y0 = 2 * Int(rng.next() % UInt64(max(1, (frame.height - size) / 2 + 1)))
            crop(frame, x0: x0, y0: y0, size: size, into: &p)
            let e = gradientEnergy(p)
            if e > bestEnergy { best = p; bestEnergy = e }
            if e >= minimumEnergy { break }
        }
        return best
    }

    /// Separable Gaussian blur with σ (kernel radius ⌈2σ⌉, reflect edges), in place.
    public static func gaussianBlur(_ p: inout RGBImage, sigma: Double) {
        let r = max(1, Int((2 * sigma).rounded(.up)))
        var k = (-r...r).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let s = k.reduce(0, +)
        k = k.map { $0 / s }
        let w = p.width, h = p.height, n = w * h
        var tmp = [Float](repeating: 0, count: n)
        for c in 0..<3 {
            let base = c * n
            for y in 0..<h {
                for x in 0..<w {
                    var acc: Float = 0
                    for j in -r...r { acc += k[j + r] * p.pixels[base + y * w + FrameTiling.reflect(x + j, w)] }
                    tmp[y * w + x] = acc
                }
            }
            for y in 0..<h {
                for x in 0..<w {
                    var acc: Float = 0
                    for j in -r...r { acc += k[j + r] * tmp[FrameTiling.reflect(y + j, h) * w + x] }
                    p.pixels[base + y * w + x] = acc
                }
            }
        }
    }

    /// Resamples `p` zoomed by `factor` about its centre shifted by (dx, dy) (bilinear, reflect edges).
    public static func zoom(_ p: inout RGBImage, factor: Double, dx: Double, dy: Double) {
        let w = p.width, h = p.height, n = w * h, src = p.pixels
        let cx = Double(w - 1) / 2 + dx, cy = Double(h - 1) / 2 + dy
        for y in 0..<h {
            let sy = (Double(y) - Double(h - 1) / 2) / factor + cy
            let y0 = Int(sy.rounded(.down)), fy = Float(sy - Double(y0))
            let ya = FrameTiling.reflect(y0, h), yb = FrameTiling.reflect(y0 + 1, h)
            for x in 0..<w {
                let sx = (Double(x) - Double(w - 1) / 2) / factor + cx
                let x0 = Int(sx.rounded(.down)), fx = Float(sx - Double(x0))
                let xa = FrameTiling.reflect(x0, w), xb = FrameTiling.reflect(x0 + 1, w)
                for c in 0..<3 {
                    let b = c * n
                    let top = src[b + ya * w + xa] * (1 - fx) + src[b + ya * w + xb] * fx
                    let bottom = src[b + yb * w + xa] * (1 - fx) + src[b + yb * w + xb] * fx
                    p.pixels[b + y * w + x] = top * (1 - fy) + bottom * fy
                }
            }
        }
    }

    /// Clamps every value to 0…1.
    public static func clamp(_ p: inout RGBImage) {
        for i in 0..<p.pixels.count { p.pixels[i] = min(max(p.pixels[i], 0), 1) }
    }
}

/// Applies `AugmentationConfig` to patches with a seeded generator; counts what it did.
public struct Augmenter {
    public var config: AugmentationConfig
    /// How many times each augmentation ran (for reports and tests).
    public private(set) var counts: [String: Int] = [:]

    public init(config: AugmentationConfig) { self.config = config }

    mutating func restoreCounts(_ c: [String: Int]) { counts = c }

    private mutating func chance(_ p: Double, _ name: String, _ rng: inout RandomGenerator) -> Bool {
        let hit = Double(rng.uniform()) < p
        if hit { counts[name, default: 0] += 1 }
        return hit
    }

    /// Augments one patch in place. Re-encoding failures leave the patch unchanged (never fatal).
    public mutating func apply(_ p: inout RGBImage, rng: inout RandomGenerator) {
        var mask: [Float]? = nil
        apply(&p, mask: &mask, rng: &rng)
    }

    /// Augments one patch in place and moves its P×P fake mask with the geometric operations (flip,
    /// resize and jitter), so a mask keeps marking the pixels it marked; draws exactly what
    /// `apply(_:rng:)` draws.
    public mutating func apply(_ p: inout RGBImage, mask: inout [Float]?, rng: inout RandomGenerator) {
        let c = config
        if chance(c.flip, "flip", &rng) {
            let w = p.width
            for row in 0..<(3 * p.height) {
                let b = row * w
                for x in 0..<(w / 2) { p.pixels.swapAt(b + x, b + w - 1 - x) }
            }
            if var flipped = mask {
                for row in 0..<p.height {
                    let b = row * w
                    for x in 0..<(w / 2) { flipped.swapAt(b + x, b + w - 1 - x) }
                }
                mask = flipped
            }
        }
        if chance(c.resize, "resize", &rng) {
            let f = Double(rng.uniform(Float(c.resizeRange.lowerBound), Float(c.resizeRange.upperBound)))
            let j = Float(c.jitter)
            let dx = Double(rng.uniform(-j, j)), dy = Double(rng.uniform(-j, j))
            PatchOps.zoom(&p, factor: f, dx: dx, dy: dy)
            if let values = mask {
                var plane = RGBImage(width: p.width, height: p.height, pixels: values + values + values)
                PatchOps.zoom(&plane, factor: f, dx: dx, dy: dy)
                mask = Array(plane.pixels.prefix(values.count))
            }
        }
        if chance(c.blur, "blur", &rng) {
            PatchOps.gaussianBlur(&p, sigma: Double(rng.uniform(Float(c.blurSigma.lowerBound), Float(c.blurSigma.upperBound))))
        }
        if chance(c.noise, "noise", &rng) {
            let s = rng.uniform(Float(c.noiseSigma.lowerBound), Float(c.noiseSigma.upperBound))
            for i in 0..<p.pixels.count { p.pixels[i] += s * rng.normal() }
            PatchOps.clamp(&p)
        }
        if chance(c.jpeg, "jpeg", &rng) {
            let q = c.jpegQuality.lowerBound + Int(rng.next() % UInt64(c.jpegQuality.count))
            if let out = try? Reencoder.jpegRoundTrip(p, quality: q), out.width == p.width, out.height == p.height { p = out }
        }
        if chance(c.h264, "h264", &rng) {
            let crf = c.h264CRF.lowerBound + Int(rng.next() % UInt64(c.h264CRF.count))
            if let out = try? Reencoder.h264RoundTrip(p, crf: crf), out.width == p.width, out.height == p.height { p = out }
        }
    }
}
