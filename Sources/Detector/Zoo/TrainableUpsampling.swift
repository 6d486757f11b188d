// Owns the 2× upsampling layers the zoo's trained autoencoders need and NeuralNet lacks, each a
// forward/backward pair: bilinear 2× (pixel centres aligned, edges clamped, as ZooUpsampling.bilinear2x)
// and pixel shuffle (sub-pixel convolution's rearrangement, Shi et al. 2016).
// Glossary: N batch, C channels, H/W input size, r = 2 the upscale factor.
import NeuralNet

/// Bilinear 2× upsampling (PyTorch's `interpolate(scale_factor=2, mode="bilinear", align_corners=False)`):
/// along each axis out[2i] = ¼·x[i−1] + ¾·x[i], out[2i+1] = ¾·x[i] + ¼·x[i+1], indices clamped to the edge.
final class Bilinear2x: Layer {
    var isTraining = true
    private let rows = Tensor(shape: [0])  // (N, C, H, 2W) after the horizontal pass
    private let output = Tensor(shape: [0])  // (N, C, 2H, 2W)
    private let dRows = Tensor(shape: [0])  // (N, C, H, 2W)
    private let dInput = Tensor(shape: [0])  // (N, C, H, W)
    private var inputShape: [Int] = []

    func forward(_ x: Tensor) -> Tensor {  // (N, C, H, W) → (N, C, 2H, 2W)
        x.expect4D("Bilinear2x.forward")
        inputShape = x.shape
        let planes = x.shape[0] * x.shape[1], H = x.shape[2], W = x.shape[3]
        rows.resize(to: [x.shape[0], x.shape[1], H, 2 * W])
        output.resize(to: [x.shape[0], x.shape[1], 2 * H, 2 * W])
        for p in 0..<planes {
            let source = x.pointer + p * H * W, middle = rows.pointer + p * H * 2 * W
            for y in 0..<H { Bilinear2x.double(source + y * W, step: 1, count: W, into: middle + y * 2 * W, step: 1) }
            let target = output.pointer + p * 4 * H * W
            for column in 0..<2 * W {
                Bilinear2x.double(middle + column, step: 2 * W, count: H, into: target + column, step: 2 * W)
            }
        }
        return output
    }

    func backward(_ dy: Tensor) -> Tensor {  // (N, C, 2H, 2W) → (N, C, H, W)
        precondition(inputShape.count == 4, "Bilinear2x.backward before forward")
        let planes = inputShape[0] * inputShape[1], H = inputShape[2], W = inputShape[3]
        dy.expectShape([inputShape[0], inputShape[1], 2 * H, 2 * W], "Bilinear2x.backward")
        dRows.resize(to: [inputShape[0], inputShape[1], H, 2 * W])
        dInput.resize(to: inputShape)
        dRows.zero()
        dInput.zero()
        for p in 0..<planes {
            let gradient = dy.pointer + p * 4 * H * W, middle = dRows.pointer + p * H * 2 * W
            for column in 0..<2 * W {
                Bilinear2x.doubleAdjoint(gradient + column, step: 2 * W, count: H, into: middle + column, step: 2 * W)
            }
            let target = dInput.pointer + p * H * W
            for y in 0..<H {
                Bilinear2x.doubleAdjoint(middle + y * 2 * W, step: 1, count: W, into: target + y * W, step: 1)
            }
        }
        return dInput
    }

    /// One line of `count` values (every `step`) → 2·count values (every `outStep`).
    private static func double(
        _ s: UnsafeMutablePointer<Float>, step: Int, count n: Int, into d: UnsafeMutablePointer<Float>, step outStep: Int
    ) {
        for i in 0..<n {
            let previous = s[max(i - 1, 0) * step], here = s[i * step], next = s[min(i + 1, n - 1) * step]
            d[2 * i * outStep] = 0.25 * previous + 0.75 * here
            d[(2 * i + 1) * outStep] = 0.75 * here + 0.25 * next
        }
    }

    /// The transpose of `double`: accumulates the gradient of 2·count outputs into `count` inputs.
    private static func doubleAdjoint(
        _ g: UnsafeMutablePointer<Float>, step: Int, count n: Int, into d: UnsafeMutablePointer<Float>, step outStep: Int
    ) {
        for i in 0..<n {
            let even = g[2 * i * step], odd = g[(2 * i + 1) * step]
            d[max(i - 1, 0) * outStep] += 0.25 * even
            d[i * outStep] += 0.75 * even + 0.75 * odd
            d[min(i + 1, n - 1) * outStep] += 0.25 * odd
        }
    }
}

/// Pixel shuffle with r = 2: y[n, c, 2h + i, 2w + j] = x[n, 4c + 2i + j, h, w] (a permutation, so
/// backward is the inverse permutation).
final class PixelShuffle2x: Layer {
    var isTraining = true
    private let output = Tensor(shape: [0])  // (N, C, 2H, 2W)
    private let dInput = Tensor(shape: [0])  // (N, 4C, H, W)
    private var inputShape: [Int] = []

    func forward(_ x: Tensor) -> Tensor {  // (N, 4C, H, W) → (N, C, 2H, 2W)
        x.expect4D("PixelShuffle2x.forward")
        precondition(x.shape[1] % 4 == 0, "PixelShuffle2x: \(x.shape[1]) channels are not a multiple of 4")
        inputShape = x.shape
        output.resize(to: [x.shape[0], x.shape[1] / 4, 2 * x.shape[2], 2 * x.shape[3]])
        permute(from: x, to: output, shuffling: true)
        return output
    }

    func backward(_ dy: Tensor) -> Tensor {  // (N, C, 2H, 2W) → (N, 4C, H, W)
        precondition(inputShape.count == 4, "PixelShuffle2x.backward before forward")
        dy.expectShape([inputShape[0], inputShape[1] / 4, 2 * inputShape[2], 2 * inputShape[3]], "PixelShuffle2x.backward")
        dInput.resize(to: inputShape)
        permute(from: dy, to: dInput, shuffling: false)
        return dInput
    }

    /// Copies between the (N, 4C, H, W) and (N, C, 2H, 2W) layouts in the direction asked.
    private func permute(from source: Tensor, to target: Tensor, shuffling: Bool) {
        let N = inputShape[0], C = inputShape[1] / 4, H = inputShape[2], W = inputShape[3]
        for n in 0..<N {
            for c in 0..<C {
                let large = (shuffling ? target : source).pointer + (n * C + c) * 4 * H * W
                for i in 0..<2 {
                    for j in 0..<2 {
                        let small = (shuffling ? source : target).pointer + ((n * C + c) * 4 + i * 2 + j) * H * W
                        for h in 0..<H {
                            for w in 0..<W {
                                let wide = (2 * h + i) * 2 * W + 2 * w + j
                                if shuffling { large[wide] = small[h * W + w] } else { small[h * W + w] = large[wide] }
                            }
                        }
                    }
                }
            }
        }
    }
}
