// Owns the reference generator of NN_CONTRACT.md, which Scripts/nn_reference.py builds in PyTorch for
// the parity fixtures: z (N, 128) → SN linear → (N, G0, 4, 4), four nearest-2× + SN conv + BatchNorm +
// ReLU stages with SAGAN attention at 32×32, SN conv + tanh → (N, 3, 64, 64). Backward mirrors
// forward in reverse.
// Glossary: N batch, Z = 128 latent size, G0…G4 widths (contract: 256, 128, 64, 32, 16).
import NeuralNet

/// The reference SAGAN-style generator (Zhang 2018; SN as Miyato 2018; BN as Ioffe & Szegedy 2015).
public final class ReferenceGenerator: ModuleContainer {
    public var isTraining = true { didSet { propagateTrainingMode() } }
    public static let latentSize = 128

    /// One up stage: nearest 2×, SN conv 3×3, BN, ReLU.
    public final class UpStage: ModuleContainer, Layer {
        public var isTraining = true { didSet { propagateTrainingMode() } }
        public let upsample = Upsample2x()
        public let conv: SNConv2D
        public let bn: BatchNorm2D
        public let relu = ReLU()
        public init(_ i: Int, _ o: Int, rng: inout RandomGenerator) {
            conv = SNConv2D(inChannels: i, outChannels: o, kernelSize: 3, padding: 1, rng: &rng)
            bn = BatchNorm2D(channels: o)
        }
        public var children: [(String, Module)] { [("conv", conv), ("bn", bn)] }
        /// (N, Ci, h, w) → (N, Co, 2h, 2w)
        public func forward(_ x: Tensor) -> Tensor { relu.forward(bn.forward(conv.forward(upsample.forward(x)))) }
        public func backward(_ dy: Tensor) -> Tensor { upsample.backward(conv.backward(bn.backward(relu.backward(dy)))) }
    }

    public let fc: SNLinear
    public let bn0: BatchNorm2D
    private let relu0 = ReLU()
    public let up1: UpStage, up2: UpStage, up3: UpStage, up4: UpStage
    public let attention: SelfAttention
    public let out: SNConv2D
    private let tanh = Tanh()

    /// The contract's widths: fc channels, then the outputs of up1…up4.
    public static let referenceWidths = [256, 128, 64, 32, 16]
    /// fc channels (G0) and up1…up4 output channels (G1…G4); attention runs on G3 channels.
    public let widths: [Int]

    /// Builds G with weights drawn from `seed` (PyTorch default init, u ~ N(0,1) normalized).
    /// `widths` = (G0…G4): fc outputs G0·4·4, up_i outputs G_i; G3 must be divisible by 8 (attention).
    public init(seed: UInt64 = 0, widths: [Int] = ReferenceGenerator.referenceWidths) {
        precondition(
            widths.count == 5 && widths.allSatisfy { $0 > 0 } && widths[3] % 8 == 0,
            "ReferenceGenerator: need 5 positive widths with widths[3] divisible by 8, got \(widths)")
        self.widths = widths
        var rng = RandomGenerator(seed: seed)
        fc = SNLinear(inFeatures: ReferenceGenerator.latentSize, outFeatures: widths[0] * 4 * 4, rng: &rng)
        bn0 = BatchNorm2D(channels: widths[0])
        up1 = UpStage(widths[0], widths[1], rng: &rng)
        up2 = UpStage(widths[1], widths[2], rng: &rng)
        up3 = UpStage(widths[2], widths[3], rng: &rng)
        attention = SelfAttention(channels: widths[3], rng: &rng)
        up4 = UpStage(widths[3], widths[4], rng: &rng)
        out = SNConv2D(inChannels: widths[4], outChannels: 3, kernelSize: 3, padding: 1, rng: &rng)
    }

    /// Sub-modules under their contract key prefixes, in forward order.
    public var children: [(String, Module)] {
        [
            ("fc", fc), ("bn0", bn0), ("up1", up1), ("up2", up2), ("up3", up3), ("attn", attention), ("up4", up4),
            ("out", out),
        ]
    }

    /// Forward: z (N, 128) → images (N, 3, 64, 64) in (−1, 1).
    public func forward(_ z: Tensor) -> Tensor {
        precondition(
            z.shape.count == 2 && z.shape[1] == ReferenceGenerator.latentSize,
            "ReferenceGenerator.forward: expected (N, 128), got \(z.shape)")
        let N = z.shape[0]
        let f = fc.forward(z)  // (N, G0*16)
        f.reshape(to: [N, widths[0], 4, 4])  // (N, G0, 4, 4) same storage
        var h = relu0.forward(bn0.forward(f))  // (N, G0, 4, 4)
        h = up1.forward(h)  // (N, G1, 8, 8)
        h = up2.forward(h)  // (N, G2, 16, 16)
        h = up3.forward(h)  // (N, G3, 32, 32)
        h = attention.forward(h)  // (N, G3, 32, 32)
        h = up4.forward(h)  // (N, G4, 64, 64)
        return tanh.forward(out.forward(h))  // (N, 3, 64, 64)
    }

    /// Backward from dLoss/dImages (N, 3, 64, 64); returns dLoss/dz (N, 128).
    public func backward(_ dy: Tensor) -> Tensor {
        var d = out.backward(tanh.backward(dy))  // (N, G4, 64, 64)
        d = up4.backward(d)  // (N, G3, 32, 32)
        d = attention.backward(d)  // (N, G3, 32, 32)
        d = up3.backward(d)  // (N, G2, 16, 16)
        d = up2.backward(d)  // (N, G1, 8, 8)
        d = up1.backward(d)  // (N, G0, 4, 4)
        d = bn0.backward(relu0.backward(d))  // (N, G0, 4, 4)
        return fc.backward(d)  // (N, 128)
    }
}
