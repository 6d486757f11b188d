// Owns the detector network: a small, fully convolutional, spectrally normalized discriminator that
// maps an image window to a per-patch logit map (stride 8) and a global logit, plus its analytic FLOP
// count and receptive field. Backward mirrors forward in exact reverse order.
// Glossary: N batch, H/W input size (multiples of 16), w0/w1/w2 the three widths, H/8 × W/8 logit map.
import NeuralNet

/// Architecture hyper-parameters of the detector; stored in model files and checkpoints.
public struct DetectorArchitecture: Codable, Equatable, Sendable {
    /// Channel widths (w0, w1, w2) of the three resolution levels H/2, H/4, H/8.
    public var widths: [Int]
    /// Side of the square training patches (multiple of 16).
    public var patchSize: Int
    /// Side of the square inference windows the frame is tiled into (multiple of 16); attention is per window.
    public var window: Int
    /// Negative slope of LeakyReLU after every conv but the heads.
    public var leakySlope: Float
    /// Pixels enter as inputScale·(x − 0.5) (2 would map 0…1 to −1…1 as in SAGAN). A spectrally
    /// normalized network is ≈ 1-Lipschitz, so it can barely amplify faint pixel-level traces (noise
    /// correlation, a ±0.02 checkerboard): in the tiny test configuration scale 2 left such fakes at
    /// validation AUC ≈ 0.5–0.6 after 400–1500 steps; with scale 64 a supervised-only run reached 0.93
    /// in 400 steps and the trainer test reaches 1.0 in 800 steps.
    public var inputScale: Float

    public init(
        widths: [Int] = [16, 32, 64], patchSize: Int = 64, window: Int = 256, leakySlope: Float = 0.1,
        inputScale: Float = 64
    ) {
        self.widths = widths; self.patchSize = patchSize; self.window = window; self.leakySlope = leakySlope
        self.inputScale = inputScale
    }

    /// The default architecture: widths 16-32-64, 64×64 training patches, 256×256 windows.
    public static let standard = DetectorArchitecture()

    /// Output stride: one logit per 8×8 input pixels.
    public static let stride = 8

    /// Throws unless the configuration is buildable.
    public func validate() throws {
        guard widths.count == 3, widths.allSatisfy({ $0 > 0 }), widths[2] % 8 == 0 else {
            throw DetectorError.invalidConfiguration("widths must be 3 positive values, the last divisible by 8, got \(widths)")
        }
        guard patchSize >= 16, patchSize % 16 == 0, window >= 16, window % 16 == 0 else {
            throw DetectorError.invalidConfiguration(
                "patch size and window must be multiples of 16 (≥ 16), got \(patchSize), \(window)")
        }
        guard inputScale > 0, inputScale.isFinite else {
            throw DetectorError.invalidConfiguration("input scale must be positive, got \(inputScale)")
        }
        guard leakySlope > 0, leakySlope < 1 else {
            throw DetectorError.invalidConfiguration("leaky slope must be in (0, 1), got \(leakySlope)")
        }
    }

    /// Receptive field of one patch logit through the conv path, by r_out = r_in + (k − 1)·j_in,
    /// j_out = j_in·s over (k, s) = (4,2), (3,1), (4,2), (4,2), (3,1), (1,1): 42 pixels, jump 8.
    /// The attention block adds a window-global path (weighted by its learned γ, initially 0).
    public static var receptiveField: (size: Int, jump: Int) {
        var r = 1, j = 1
        for (k, s) in Discriminator.convKernelsAndStrides {
            r += (k - 1) * j
            j *= s
        }
        return (r, j)
    }
}

/// The detector (Miyato 2018 spectral norm on every conv, Zhang 2018 SAGAN attention at H/8,
/// small receptive field after Chai et al. 2020 "What makes fake images detectable?").
///
/// Layers (each conv SN + fused LeakyReLU except the heads):
/// conv1 3→w0 k4 s2 · conv2 w0→w0 k3 · conv3 w0→w1 k4 s2 · conv4 w1→w2 k4 s2 · attention(w2) ·
/// conv5 w2→w2 k3 · patch head w2→1 k1 · global head: average pool + SN linear w2→1.
public final class Discriminator: ModuleContainer {
    public var isTraining = true { didSet { propagateTrainingMode() } }
    public let architecture: DetectorArchitecture
    /// Whether backward computes dLoss/dImage (needed to train a generator through D).
    public var needsInputGradient: Bool {
        get { conv1.inner.needsInputGradient }
        set { conv1.inner.needsInputGradient = newValue }
    }

    /// (kernel, stride) of the conv path in order, for the receptive field.
    static let convKernelsAndStrides = [(4, 2), (3, 1), (4, 2), (4, 2), (3, 1), (1, 1)]

    public let conv1: SNConv2D, conv2: SNConv2D, conv3: SNConv2D, conv4: SNConv2D
    public let attention: SelfAttention
    public let conv5: SNConv2D
    public let patchHead: SNConv2D
    public let globalHead: SNLinear
    private let pool = GlobalAvgPool()
    private let scaled = Tensor(shape: [0])  // (N, 3, H, W) inputScale·(x − 0.5)
    private let dInput = Tensor(shape: [0])  // (N, 3, H, W)

    /// Builds D with weights drawn from `seed` (PyTorch default init, u ~ N(0,1) normalized).
    public init(architecture: DetectorArchitecture = .standard, seed: UInt64 = 0) {
        precondition((try? architecture.validate()) != nil, "Discriminator: invalid architecture \(architecture)")
        self.architecture = architecture
        var rng = RandomGenerator(seed: seed)
        let w = architecture.widths
        func conv(_ i: Int, _ o: Int, _ k: Int, _ s: Int, _ p: Int) -> SNConv2D {
            SNConv2D(inChannels: i, outChannels: o, kernelSize: k, stride: s, padding: p, rng: &rng)
        }
        conv1 = conv(3, w[0], 4, 2, 1)
        conv2 = conv(w[0], w[0], 3, 1, 1)
        conv3 = conv(w[0], w[1], 4, 2, 1)
        conv4 = conv(w[1], w[2], 4, 2, 1)
        attention = SelfAttention(channels: w[2], rng: &rng)
        conv5 = conv(w[2], w[2], 3, 1, 1)
        patchHead = conv(w[2], 1, 1, 1, 0)
        globalHead = SNLinear(inFeatures: w[2], outFeatures: 1, rng: &rng)
        for c in [conv1, conv2, conv3, conv4, conv5] { c.inner.fusedActivation = .leakyReLU(architecture.leakySlope) }
    }

    /// Sub-modules under their state-dictionary prefixes, in forward order.
    public var children: [(String, Module)] {
        [
            ("conv1", conv1), ("conv2", conv2), ("conv3", conv3), ("conv4", conv4), ("attn", attention),
            ("conv5", conv5), ("patch_head", patchHead), ("global_head", globalHead),
        ]
    }

    /// Forward: images (N, 3, H, W) in 0…1, H and W multiples of 16 → patch logits (N, 1, H/8, W/8)
    /// and global logits (N, 1). Pixels 0…1 are first mapped to inputScale·(x − 0.5).
    public func forward(_ x: Tensor) -> (patch: Tensor, global: Tensor) {
        x.expect4D("Discriminator.forward")
        precondition(
            x.shape[1] == 3 && x.shape[2] % 16 == 0 && x.shape[3] % 16 == 0 && x.shape[2] > 0 && x.shape[3] > 0,
            "Discriminator.forward: need (N, 3, H, W) with H, W multiples of 16, got \(x.shape)")
        scaled.resize(to: x.shape)
        let k = architecture.inputScale
        for i in 0..<x.count { scaled.pointer[i] = k * (x.pointer[i] - 0.5) }  // (N, 3, H, W)
        var h = conv1.forward(scaled)  // (N, w0, H/2, W/2)
        h = conv2.forward(h)  // (N, w0, H/2, W/2)
        h = conv3.forward(h)  // (N, w1, H/4, W/4)
        h = conv4.forward(h)  // (N, w2, H/8, W/8)
        h = attention.forward(h)  // (N, w2, H/8, W/8)
        h = conv5.forward(h)  // (N, w2, H/8, W/8)
        let patch = patchHead.forward(h)  // (N, 1, H/8, W/8)
        let global = globalHead.forward(pool.forward(h))  // (N, 1)
        return (patch, global)
    }

    /// Backward from dLoss/dPatch (N, 1, H/8, W/8) and dLoss/dGlobal (N, 1); returns dLoss/dImages
    /// (zero-size when `needsInputGradient` is false). Accumulates into parameter gradients.
    public func backward(dPatch: Tensor, dGlobal: Tensor) -> Tensor {
        let dPooled = globalHead.backward(dGlobal)  // (N, w2)
        let dh = pool.backward(dPooled)  // (N, w2, H/8, W/8)
        let dhPatch = patchHead.backward(dPatch)  // (N, w2, H/8, W/8)
        accumulate(dhPatch.pointer, into: dh.pointer, count: dh.count)
        var d = conv5.backward(dh)  // (N, w2, H/8, W/8)
        d = attention.backward(d)  // (N, w2, H/8, W/8)
        d = conv4.backward(d)  // (N, w1, H/4, W/4)
        d = conv3.backward(d)  // (N, w0, H/2, W/2)
        d = conv2.backward(d)  // (N, w0, H/2, W/2)
        d = conv1.backward(d)  // (N, 3, H, W) or zero-size
        dInput.resize(to: d.shape)
        let k = architecture.inputScale
        for i in 0..<d.count { dInput.pointer[i] = k * d.pointer[i] }
        return dInput
    }

    /// Analytic FLOPs (2 × multiply–adds) of one forward at input (N, 3, H, W): input scaling, convs,
    /// attention (its 1×1 convs and both batched products), heads. Per input pixel for widths
    /// 16-32-64 and 256² windows: 6 + 384 + 1152 + 1024 + 1024 + 480 + 1152 + 2 ≈ 5,224.
    public func forwardFLOPs(inputShape s: [Int]) -> Double {
        let N = s[0], H = s[2], W = s[3], w = architecture.widths
        var f = 2.0 * Double(N * 3 * H * W)  // input scaling
        f += conv1.inner.forwardFLOPs(inputShape: [N, 3, H, W])
        f += conv2.inner.forwardFLOPs(inputShape: [N, w[0], H / 2, W / 2])
        f += conv3.inner.forwardFLOPs(inputShape: [N, w[0], H / 2, W / 2])
        f += conv4.inner.forwardFLOPs(inputShape: [N, w[1], H / 4, W / 4])
        f += attention.forwardFLOPs(inputShape: [N, w[2], H / 8, W / 8])
        f += conv5.inner.forwardFLOPs(inputShape: [N, w[2], H / 8, W / 8])
        f += patchHead.inner.forwardFLOPs(inputShape: [N, w[2], H / 8, W / 8])
        f += globalHead.inner.forwardFLOPs(batch: N)
        return f
    }

    /// FLOPs per input pixel of one window (attention cost depends on the window size).
    public var flopsPerPixel: Double {
        let n = architecture.window
        return forwardFLOPs(inputShape: [1, 3, n, n]) / Double(n * n)
    }
}
