// Owns the random-weight decoder families of the fake-maker zoo (group "upsampling-decoder"): a region
// re-synthesised from a 4/8/16× bottleneck by an untrained decoder whose output is added to the enlarged
// bottleneck, so colours match and the upsampler's architectural fingerprint is the texture left.
// Glossary: N = 1 batch, C decoder width, F bottleneck factor, h/w bottleneck size, Hp = F·h and
// Wp = F·w the region padded to multiples of F.
import Foundation
import MediaIO
import NeuralNet

/// Upsampling stages of `RandomDecoderFamily`.
public enum DecoderUpsampler: String, Codable, CaseIterable, Sendable {
    /// Nearest-neighbour 2× then a 3×3 conv (resize-convolution, Odena et al. 2016).
    case nearest
    /// Bilinear 2× then a 3×3 conv.
    case bilinear
    /// A 3×3 conv to 4C channels then pixel shuffle (sub-pixel convolution, Shi et al. 2016).
    case pixelShuffle = "pixelshuffle"
    /// Transposed conv k4 s2 p1 (DCGAN, Radford et al. 2016).
    case transposedConv = "transposed-conv"

    /// The family name of decoders with this upsampler.
    public var familyName: String { self == .transposedConv ? "transposed-conv-random" : "upsampler-\(rawValue)-random" }
}

/// "upsampler-…-random" / "transposed-conv-random": a region re-synthesised by a freshly initialized
/// decoder (weights drawn from the fake's seed), imitating the upsampling traces of autoencoder face
/// swaps and GAN decoders without training one.
public struct RandomDecoderFamily: FakeFamily {
    public let upsampler: DecoderUpsampler
    public var name: String { upsampler.familyName }
    public var group: String { "upsampling-decoder" }
    /// Bottleneck factors F (powers of two: one upsampling stage per doubling).
    public var bottleneckFactors = [4, 8, 16]
    /// Decoder widths C.
    public var widths = [16, 24]
    /// The decoder's output is scaled to this multiple of the region's own detail (std of region −
    /// enlarged bottleneck).
    public var detailGain: ClosedRange<Float> = 0.5...1.5

    public init(upsampler: DecoderUpsampler) { self.upsampler = upsampler }

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        let box = mask.box
        let factor = try randomElement(bottleneckFactors, &rng, "bottleneck factors")
        let width = try randomElement(widths, &rng, "widths")
        guard factor >= 2, factor & (factor - 1) == 0, width > 0 else {
            throw DetectorError.invalidConfiguration(
                "decoder bottleneck factor \(factor) is not a power of two ≥ 2 or width \(width) ≤ 0")
        }
        let Wp = (box.width + factor - 1) / factor * factor, Hp = (box.height + factor - 1) / factor * factor
        let region = ImageFilters.crop(frame, x: box.x, y: box.y, width: Wp, height: Hp)  // (3, Hp, Wp)
        let bottleneck = Resampler.resize(region, width: Wp / factor, height: Hp / factor, kernel: .area)  // (3, h, w)
        let base = Resampler.resize(bottleneck, width: Wp, height: Hp, kernel: .bilinear)  // (3, Hp, Wp)

        let decoder = RandomDecoder(
            upsampler: upsampler, stages: factor.trailingZeroBitCount, width: width, rng: &rng)
        let input = Tensor(shape: [1, 3, Hp / factor, Wp / factor])  // (1, 3, h, w) centred on 0
        for i in 0..<input.count { input.pointer[i] = 2 * bottleneck.pixels[i] - 1 }
        let residual = decoder.forward(input)  // (1, 3, Hp, Wp)

        var detail: Double = 0
        for i in 0..<region.pixels.count {
            detail += Double((region.pixels[i] - base.pixels[i]) * (region.pixels[i] - base.pixels[i]))
        }
        let gain = rng.uniform(detailGain.lowerBound, detailGain.upperBound)
        let target = max(Float((detail / Double(region.pixels.count)).squareRoot()) * gain, 0.01)
        let scale = target / max(standardDeviationAfterCentring(residual, planes: 3), 1e-12)
        var out = base
        for i in 0..<out.pixels.count { out.pixels[i] += scale * residual.pointer[i] }
        return RegionSynthesis(
            patch: ImageFilters.crop(out, x: 0, y: 0, width: box.width, height: box.height),
            parameters: ["factor": String(factor), "width": String(width), "detailGain": parameterText(gain)])
    }

    /// Centres each plane of `t` on 0 in place and returns the standard deviation of all its values.
    private func standardDeviationAfterCentring(_ t: Tensor, planes: Int) -> Float {
        let n = t.count / planes
        var squares: Double = 0
        for p in 0..<planes {
            let plane = t.pointer + p * n
            var mean: Double = 0
            for i in 0..<n { mean += Double(plane[i]) }
            mean /= Double(n)
            for i in 0..<n {
                plane[i] -= Float(mean)
                squares += Double(plane[i] * plane[i])
            }
        }
        return Float((squares / Double(t.count)).squareRoot())
    }
}

/// A small untrained decoder: 3×3 conv 3 → C, `stages` × (2× upsampling with conv, LeakyReLU 0.2),
/// 3×3 conv C → 3. Weights Kaiming-normal (He et al. 2015) for LeakyReLU 0.2, no biases, so signals
/// neither vanish nor explode through the random layers.
final class RandomDecoder {
    private enum Stage {
        case resizeConvolution(Upsample2x?, Conv2D)  // nil upsampler = bilinear
        case subPixel(Conv2D)
        case transposed(ConvTranspose2D)
    }
    private let stem: Conv2D, head: Conv2D
    private let stages: [Stage]

    init(upsampler: DecoderUpsampler, stages count: Int, width C: Int, rng: inout RandomGenerator) {
        func conv(_ i: Int, _ o: Int, gainSlope: Float = 0.2) -> Conv2D {
            let c = Conv2D(inChannels: i, outChannels: o, kernelSize: 3, padding: 1, bias: false, rng: &rng)
            Initializer.kaimingNormal(c.weight, negativeSlope: gainSlope, rng: &rng)
            return c
        }
        stem = conv(3, C)
        stages = (0..<count).map { _ in
            switch upsampler {
            case .nearest: return .resizeConvolution(Upsample2x(), conv(C, C))
            case .bilinear: return .resizeConvolution(nil, conv(C, C))
            case .pixelShuffle: return .subPixel(conv(C, 4 * C))
            case .transposedConv:
                let t = ConvTranspose2D(
                    inChannels: C, outChannels: C, kernelSize: 4, stride: 2, padding: 1, bias: false, rng: &rng)
                Initializer.kaimingNormal(t.weight, negativeSlope: 0.2, rng: &rng)
                return .transposed(t)
            }
        }
        head = conv(C, 3, gainSlope: 1)
    }

    /// (1, 3, h, w) → (1, 3, h·2^stages, w·2^stages), owned by the decoder until its next forward.
    func forward(_ x: Tensor) -> Tensor {
        var h = leakyReLU(stem.forward(x))  // (1, C, h, w)
        for stage in stages {
            switch stage {
            case .resizeConvolution(let nearest, let conv):
                h = leakyReLU(conv.forward(nearest?.forward(h) ?? ZooUpsampling.bilinear2x(h)))
            case .subPixel(let conv):
                h = leakyReLU(ZooUpsampling.pixelShuffle(conv.forward(h), factor: 2))
            case .transposed(let deconv):
                h = leakyReLU(deconv.forward(h))
            }
        }
        return head.forward(h)
    }

    private func leakyReLU(_ t: Tensor) -> Tensor {
        for i in 0..<t.count where t.pointer[i] < 0 { t.pointer[i] *= 0.2 }
        return t
    }
}

/// Forward-only upsampling operations NeuralNet does not have (no gradients: the zoo never trains them).
enum ZooUpsampling {
    /// Bilinear 2× of every (H, W) map, pixel centres aligned (PyTorch's align_corners = false), edges clamped.
    static func bilinear2x(_ x: Tensor) -> Tensor {  // (N, C, H, W) → (N, C, 2H, 2W)
        let N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
        let y = Tensor(shape: [N, C, 2 * H, 2 * W])
        Resampler.resizePlanes(
            x.pointer, planes: N * C, width: W, height: H, into: y.pointer, width: 2 * W, height: 2 * H, kernel: .bilinear)
        return y
    }

    /// Pixel shuffle (Shi et al. 2016): y[n, c, h·r + i, w·r + j] = x[n, c·r² + i·r + j, h, w].
    static func pixelShuffle(_ x: Tensor, factor r: Int) -> Tensor {  // (N, C·r², H, W) → (N, C, rH, rW)
        let N = x.shape[0], C = x.shape[1] / (r * r), H = x.shape[2], W = x.shape[3]
        precondition(C * r * r == x.shape[1], "pixelShuffle: \(x.shape[1]) channels are not a multiple of \(r * r)")
        let y = Tensor(shape: [N, C, r * H, r * W])
        for n in 0..<N {
            for c in 0..<C {
                let output = y.pointer + (n * C + c) * r * H * r * W
                for i in 0..<r {
                    for j in 0..<r {
                        let input = x.pointer + ((n * C + c) * r * r + i * r + j) * H * W
                        for h in 0..<H {
                            for w in 0..<W { output[(h * r + i) * r * W + w * r + j] = input[h * W + w] }
                        }
                    }
                }
            }
        }
        return y
    }
}
