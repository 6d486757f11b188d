// Owns fake-patch synthesis for training: soft elliptical masks, partial fakes (a generated patch
// blended into a real one, as in face-swap compositing), self-blended pseudo-fakes (a real patch blended
// with a colour/frequency-transformed, slightly shifted copy of itself; Li 2020 Face X-ray,
// Shiohara & Yamasaki 2022 self-blended images), and the per-cell targets a mask implies.
// Glossary: P patch side, mask values 0 (real) … 1 (replaced), S = 8 output stride.
import Foundation
import MediaIO
import NeuralNet

/// Kinds of fake patches the trainer draws.
public enum FakeKind: String, Codable, CaseIterable, Sendable {
    /// A whole generator sample (trained adversarially with hinge / Wasserstein / BCE loss).
    case generated
    /// A generator sample blended into a real patch with a soft elliptical mask.
    case partial
    /// A real patch blended with a transformed copy of itself.
    case selfBlended
    /// A crop of a user-provided fake file.
    case media
    /// A VAE reconstruction of a real patch blended back into it with a soft elliptical mask.
    case vaeBlended
    /// A VAE decoding of a prior sample z ~ N(0, 1).
    case vaeSample
    /// A region made by a fake-maker zoo family inside a real patch.
    case zoo
}

/// A fake patch and where it is fake.
public struct FakePatch {
    public var image: RGBImage
    /// P×P blend mask (1 = fake); nil = fake everywhere.
    public var mask: [Float]?
    public var kind: FakeKind
}

public enum FakeSynthesis {
    /// A soft elliptical mask: random centre in the middle half, radii 0.2–0.45·P, random rotation,
    /// a smoothstep edge over 20 % of the radius.
    public static func ellipseMask(size: Int, rng: inout RandomGenerator) -> [Float] {
        let p = Float(size)
        let cx = rng.uniform(0.3 * p, 0.7 * p), cy = rng.uniform(0.3 * p, 0.7 * p)
        let rx = rng.uniform(0.2 * p, 0.45 * p), ry = rng.uniform(0.2 * p, 0.45 * p)
        let angle = rng.uniform(0, Float.pi)
        let ca = cos(angle), sa = sin(angle)
        var mask = [Float](repeating: 0, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                let dx = Float(x) + 0.5 - cx, dy = Float(y) + 0.5 - cy
                let u = (dx * ca + dy * sa) / rx, v = (-dx * sa + dy * ca) / ry
                let r = (u * u + v * v).squareRoot()  // 1 on the ellipse
                let t = min(max((1.1 - r) / 0.2, 0), 1)  // 1 inside, 0 outside
                mask[y * size + x] = t * t * (3 - 2 * t)
            }
        }
        return mask
    }

    /// out = base·(1 − m) + overlay·m.
    public static func blend(base: RGBImage, overlay: RGBImage, mask: [Float]) -> RGBImage {
        var out = base
        let n = base.width * base.height
        for c in 0..<3 {
            for i in 0..<n {
                out.pixels[c * n + i] = base.pixels[c * n + i] * (1 - mask[i]) + overlay.pixels[c * n + i] * mask[i]
            }
        }
        return out
    }

    /// A generator sample composited into a real patch.
    public static func partial(real: RGBImage, generated: RGBImage, rng: inout RandomGenerator) -> FakePatch {
        let mask = ellipseMask(size: real.width, rng: &rng)
        return FakePatch(image: blend(base: real, overlay: generated, mask: mask), mask: mask, kind: .partial)
    }

    /// A self-blended image (Shiohara 2022): the source copy gets per-channel gain/offset, a blur or
    /// sharpening, and a 0–2 px shift; it is blended back through an elliptical mask.
    public static func selfBlended(real: RGBImage, rng: inout RandomGenerator) -> FakePatch {
        var copy = real
        let n = real.width * real.height
        for c in 0..<3 {
            let gain = rng.uniform(0.85, 1.15), offset = rng.uniform(-0.06, 0.06)
            for i in 0..<n { copy.pixels[c * n + i] = copy.pixels[c * n + i] * gain + offset }
        }
        let sigma = Double(rng.uniform(0.6, 1.6))
        if rng.uniform() < 0.5 {
            PatchOps.gaussianBlur(&copy, sigma: sigma)
        } else {
            var blurred = copy
            PatchOps.gaussianBlur(&blurred, sigma: sigma)
            for i in 0..<copy.pixels.count { copy.pixels[i] += 0.8 * (copy.pixels[i] - blurred.pixels[i]) }
        }
        PatchOps.zoom(
            &copy, factor: Double(rng.uniform(0.97, 1.03)), dx: Double(rng.uniform(-2, 2)), dy: Double(rng.uniform(-2, 2)))
        PatchOps.clamp(&copy)
        let mask = ellipseMask(size: real.width, rng: &rng)
        return FakePatch(image: blend(base: real, overlay: copy, mask: mask), mask: mask, kind: .selfBlended)
    }

    /// Per-cell targets (P/8 × P/8): the mean mask over each 8×8 cell (1 everywhere without a mask).
    public static func cellTargets(mask: [Float]?, size: Int, into out: UnsafeMutablePointer<Float>) {
        let S = DetectorArchitecture.stride, m = size / S
        guard let mask else { out.update(repeating: 1, count: m * m); return }
        for r in 0..<m {
            for c in 0..<m {
                var s: Float = 0
                for y in 0..<S { for x in 0..<S { s += mask[(r * S + y) * size + c * S + x] } }
                out[r * m + c] = s / Float(S * S)
            }
        }
    }
}
