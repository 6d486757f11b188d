// Owns the reference discriminator of NN_CONTRACT.md, which Scripts/nn_reference.py builds in PyTorch
// for the parity fixtures and `bench nn`: SN convs with LeakyReLU(0.1), SAGAN self-attention at 1/4
// resolution, a 1×1 patch-logit head (N, 1, H/8, W/8) and a global logit (N, 1) from the global
// average pool. Backward mirrors forward in reverse.
// Glossary: N batch, H/W input size (divisible by 8), W1…W4 block widths (contract: 32, 64, 128, 256).
import NeuralNet

/// The reference patch + global discriminator (Miyato 2018 SN, Zhang 2018 SAGAN attention).
public final class ReferenceDiscriminator: ModuleContainer {
    public var isTraining = true { didSet { propagateTrainingMode() } }
    /// Whether backward computes dLoss/dImage (needed to train a generator through D; not for D steps).
    public var needsInputGradient: Bool {
        get { block1Conv1.inner.needsInputGradient }
        set { block1Conv1.inner.needsInputGradient = newValue }
    }
    public static let leakySlope: Float = 0.1

    public let block1Conv1: SNConv2D, block1Conv2: SNConv2D
    public let block2Conv1: SNConv2D, block2Conv2: SNConv2D
    public let attention: SelfAttention
    public let block3Conv1: SNConv2D, block3Conv2: SNConv2D
    public let block4Conv1: SNConv2D
    public let patchLogits: SNConv2D
    public let globalLogit: SNLinear
    private let pool = GlobalAvgPool()
    private var inputShape: [Int] = []
    /// The contract's channel widths of blocks 1–4.
    public static let referenceWidths = [32, 64, 128, 256]
    /// Output channels of blocks 1–4 (the contract's are `referenceWidths`; the parity fixture uses 8, 16, 32, 64).
    public let widths: [Int]

    /// Builds D with weights drawn from `seed` (PyTorch default init, u ~ N(0,1) normalized).
    /// `widths` are the channels of blocks 1–4 (W1…W4); W2 must be divisible by 8 (attention).
    public init(seed: UInt64 = 0, widths: [Int] = ReferenceDiscriminator.referenceWidths) {
        precondition(
            widths.count == 4 && widths.allSatisfy { $0 > 0 } && widths[1] % 8 == 0,
            "ReferenceDiscriminator: need 4 positive widths with widths[1] divisible by 8, got \(widths)")
        self.widths = widths
        var rng = RandomGenerator(seed: seed)
        func conv(_ i: Int, _ o: Int, _ k: Int, _ s: Int, _ p: Int) -> SNConv2D {
            SNConv2D(inChannels: i, outChannels: o, kernelSize: k, stride: s, padding: p, rng: &rng)
        }
        let w1 = widths[0], w2 = widths[1], w3 = widths[2], w4 = widths[3]
        block1Conv1 = conv(3, w1, 3, 1, 1); block1Conv2 = conv(w1, w1, 4, 2, 1)
        block2Conv1 = conv(w1, w2, 3, 1, 1); block2Conv2 = conv(w2, w2, 4, 2, 1)
        attention = SelfAttention(channels: w2, rng: &rng)
        block3Conv1 = conv(w2, w3, 3, 1, 1); block3Conv2 = conv(w3, w3, 4, 2, 1)
        block4Conv1 = conv(w3, w4, 3, 1, 1)
        patchLogits = conv(w4, 1, 1, 1, 0)
        globalLogit = SNLinear(inFeatures: w4, outFeatures: 1, rng: &rng)
        // LeakyReLU(0.1) after every conv but the patch head, fused into the conv's output pass.
        for c in [block1Conv1, block1Conv2, block2Conv1, block2Conv2, block3Conv1, block3Conv2, block4Conv1] {
            c.inner.fusedActivation = .leakyReLU(ReferenceDiscriminator.leakySlope)
        }
    }

    /// Sub-modules under their contract key prefixes, in forward order.
    public var children: [(String, Module)] {
        [
            ("block1.conv1", block1Conv1), ("block1.conv2", block1Conv2), ("block2.conv1", block2Conv1),
            ("block2.conv2", block2Conv2), ("attn", attention), ("block3.conv1", block3Conv1),
            ("block3.conv2", block3Conv2), ("block4.conv1", block4Conv1), ("patch_logits", patchLogits),
            ("global_logit", globalLogit),
        ]
    }

    /// Throws unless `shape` is (N ≥ 1, 3, H, W) with H, W positive multiples of 8.
    public static func validate(inputShape s: [Int]) throws {
        guard s.count == 4, s[0] >= 1, s[1] == 3, s[2] >= 8, s[3] >= 8, s[2] % 8 == 0, s[3] % 8 == 0 else {
            throw NeuralNetError.invalidInputShape("discriminator needs (N, 3, H, W) with H, W multiples of 8, got \(s)")
        }
    }

    /// Forward: images (N, 3, H, W) → patch logits (N, 1, H/8, W/8) and global logit (N, 1).
    public func forward(_ x: Tensor) -> (patch: Tensor, global: Tensor) {
        precondition(
            (try? ReferenceDiscriminator.validate(inputShape: x.shape)) != nil,
            "ReferenceDiscriminator.forward: need (N, 3, H, W) with H, W multiples of 8, got \(x.shape)")
        if inputShape != x.shape { inputShape = x.shape }
        // each convN here is SN conv + fused LeakyReLU(0.1)
        var h = block1Conv1.forward(x)  // (N, W1, H, W)
        h = block1Conv2.forward(h)  // (N, W1, H/2, W/2)
        h = block2Conv1.forward(h)  // (N, W2, H/2, W/2)
        h = block2Conv2.forward(h)  // (N, W2, H/4, W/4)
        h = attention.forward(h)  // (N, W2, H/4, W/4)
        h = block3Conv1.forward(h)  // (N, W3, H/4, W/4)
        h = block3Conv2.forward(h)  // (N, W3, H/8, W/8)
        h = block4Conv1.forward(h)  // (N, W4, H/8, W/8)
        let patch = patchLogits.forward(h)  // (N, 1, H/8, W/8)
        let global = globalLogit.forward(pool.forward(h))  // (N, 1)
        return (patch, global)
    }

    /// Backward from dLoss/dPatch (N, 1, H/8, W/8) and dLoss/dGlobal (N, 1); returns dLoss/dImages
    /// (zero-size when `needsInputGradient` is false). Accumulates into parameter gradients.
    public func backward(dPatch: Tensor, dGlobal: Tensor) -> Tensor {
        let dPooled = globalLogit.backward(dGlobal)  // (N, W4)
        let dh = pool.backward(dPooled)  // (N, W4, H/8, W/8), owned by pool
        let dhPatch = patchLogits.backward(dPatch)  // (N, W4, H/8, W/8)
        accumulate(dhPatch.pointer, into: dh.pointer, count: dh.count)
        var d = block4Conv1.backward(dh)  // (N, W3, H/8, W/8)
        d = block3Conv2.backward(d)  // (N, W3, H/4, W/4)
        d = block3Conv1.backward(d)  // (N, W2, H/4, W/4)
        d = attention.backward(d)  // (N, W2, H/4, W/4)
        d = block2Conv2.backward(d)  // (N, W2, H/2, W/2)
        d = block2Conv1.backward(d)  // (N, W1, H/2, W/2)
        d = block1Conv2.backward(d)  // (N, W1, H, W)
        d = block1Conv1.backward(d)  // (N, 3, H, W)
        return d
    }

    /// Analytic FLOPs of one forward at input shape (N, 3, H, W) (convs, linear, attention).
    public func forwardFLOPs(inputShape s: [Int]) -> Double {
        let N = s[0], H = s[2], W = s[3]
        let w1 = widths[0], w2 = widths[1], w3 = widths[2], w4 = widths[3]
        var f = 0.0
        f += block1Conv1.inner.forwardFLOPs(inputShape: [N, 3, H, W])
        f += block1Conv2.inner.forwardFLOPs(inputShape: [N, w1, H, W])
        f += block2Conv1.inner.forwardFLOPs(inputShape: [N, w1, H / 2, W / 2])
        f += block2Conv2.inner.forwardFLOPs(inputShape: [N, w2, H / 2, W / 2])
        f += attention.forwardFLOPs(inputShape: [N, w2, H / 4, W / 4])
        f += block3Conv1.inner.forwardFLOPs(inputShape: [N, w2, H / 4, W / 4])
        f += block3Conv2.inner.forwardFLOPs(inputShape: [N, w3, H / 4, W / 4])
        f += block4Conv1.inner.forwardFLOPs(inputShape: [N, w3, H / 8, W / 8])
        f += patchLogits.inner.forwardFLOPs(inputShape: [N, w4, H / 8, W / 8])
        f += globalLogit.inner.forwardFLOPs(batch: N)
        return f
    }
}
