// Owns the transposed-convolution patch generator, a DCGAN-style network (Radford et al. 2016) for
// testing the detector on an architecture it was not trained against: z → linear → (N, C0, 4, 4) →
// BN + ReLU → [ConvTranspose k4 s2 p1 + BN + ReLU] per up stage but the last → ConvTranspose k4 s2
// p1 to 3 channels → tanh, mapped to 0…1. No nearest-neighbour upsampling, spectral norm or
// attention, so its traces (e.g. checkerboards, Odena et al. 2016) differ from `Generator`'s.
// Glossary: N batch, Z latent size, P patch size (4·2^k), Cs channels of stage s.
import NeuralNet

/// A DCGAN-style patch generator producing (N, 3, P, P) images in 0…1; widths from `GeneratorArchitecture`.
public final class TransposedConvGenerator: PatchGenerator {
    public var isTraining = true { didSet { for (_, m) in children { m.isTraining = isTraining } } }
    public let architecture: GeneratorArchitecture

    /// One up stage: ConvTranspose k4 s2 p1 (doubles the side), BN, ReLU.
    public final class UpStage: Layer {
        public var isTraining = true { didSet { deconv.isTraining = isTraining; bn.isTraining = isTraining } }
        public let deconv: ConvTranspose2D
        public let bn: BatchNorm2D
        private let relu = ReLU()
        public init(_ i: Int, _ o: Int, rng: inout RandomGenerator) {
            // No bias: BN right after removes it anyway.
            deconv = ConvTranspose2D(inChannels: i, outChannels: o, kernelSize: 4, stride: 2, padding: 1, bias: false, rng: &rng)
            bn = BatchNorm2D(channels: o)
        }
        public func namedParameters() -> [NamedParameter] {
            prefixed("deconv", deconv.namedParameters()) + prefixed("bn", bn.namedParameters())
        }
        public func namedBuffers() -> [NamedBuffer] { prefixed("bn", bn.namedBuffers()) }
        /// (N, Ci, h, w) → (N, Co, 2h, 2w)
        public func forward(_ x: Tensor) -> Tensor { relu.forward(bn.forward(deconv.forward(x))) }
        public func backward(_ dy: Tensor) -> Tensor { deconv.backward(bn.backward(relu.backward(dy))) }
    }

    public let fc: Linear
    public let bn0: BatchNorm2D
    private let relu0 = ReLU()
    /// Every up stage but the last (which is `out`).
    public let stages: [UpStage]
    /// The last up stage, straight to RGB.
    public let out: ConvTranspose2D
    private let toImage = UnitTanh()

    public init(architecture: GeneratorArchitecture = GeneratorArchitecture(), seed: UInt64 = 1) {
        precondition((try? architecture.validate()) != nil, "TransposedConvGenerator: invalid architecture \(architecture)")
        self.architecture = architecture
        var rng = RandomGenerator(seed: seed)
        let a = architecture
        fc = Linear(inFeatures: a.latentSize, outFeatures: a.baseWidth * 16, rng: &rng)
        bn0 = BatchNorm2D(channels: a.baseWidth)
        var built: [UpStage] = [], c = a.baseWidth
        for w in a.stageWidths.dropLast() { built.append(UpStage(c, w, rng: &rng)); c = w }
        stages = built
        out = ConvTranspose2D(inChannels: c, outChannels: 3, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
    }

    public var children: [(String, Module)] {
        var list: [(String, Module)] = [("fc", fc), ("bn0", bn0)]
        for (i, s) in stages.enumerated() { list.append(("up\(i + 1)", s)) }
        list.append(("out", out))
        return list
    }

    public func namedParameters() -> [NamedParameter] { children.flatMap { prefixed($0.0, $0.1.namedParameters()) } }
    public func namedBuffers() -> [NamedBuffer] { children.flatMap { prefixed($0.0, $0.1.namedBuffers()) } }

    /// Forward: z (N, Z) → images (N, 3, P, P) in 0…1 (y = (tanh + 1)/2).
    public func forward(_ z: Tensor) -> Tensor {
        precondition(
            z.shape.count == 2 && z.shape[1] == architecture.latentSize,
            "TransposedConvGenerator.forward: expected (N, \(architecture.latentSize)), got \(z.shape)")
        let N = z.shape[0]
        let f = fc.forward(z)  // (N, C0·16)
        f.reshape(to: [N, architecture.baseWidth, 4, 4])  // (N, C0, 4, 4)
        var h = relu0.forward(bn0.forward(f))  // (N, C0, 4, 4)
        for s in stages { h = s.forward(h) }  // (N, Cs, 2^(s+3), 2^(s+3))
        return toImage.forward(out.forward(h))  // (N, 3, P, P) in 0…1
    }

    /// Backward from dLoss/dImages (N, 3, P, P); returns dLoss/dz (N, Z).
    public func backward(_ dy: Tensor) -> Tensor {
        var d = out.backward(toImage.backward(dy))  // (N, C_last, P/2, P/2)
        for s in stages.reversed() { d = s.backward(d) }  // (N, C0, 4, 4)
        d = bn0.backward(relu0.backward(d))  // (N, C0, 4, 4)
        return fc.backward(d)  // (N, Z)
    }
}
