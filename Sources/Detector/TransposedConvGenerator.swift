// Owns the transposed-convolution patch generator, a DCGAN-style network (Radford et al. 2016) for
// testing the detector on an architecture it was not trained against: z → linear → (N, C0, 4, 4) →
// BN + ReLU → [ConvTranspose k4 s2 p1 + BN + ReLU] per up stage but the last → ConvTranspose k4 s2
// p1 to 3 channels → tanh, mapped to 0…1. No nearest-neighbour upsampling, spectral norm or
// attention, so its traces (e.g. checkerboards, Odena et al. 2016) differ from `Generator`'s.
// Glossary: N batch, Z latent size, P patch size (4·2^k), Cs channels of stage s.
import NeuralNet

/// A DCGAN-style patch generator producing (N, 3, P, P) images in 0…1; widths from `GeneratorArchitecture`.
public final class TransposedConvGenerator: PatchGenerator, ModuleContainer {
    public var isTraining = true { didSet { propagateTrainingMode() } }
    public let architecture: GeneratorArchitecture

    /// z → linear → (N, C0, 4, 4) → BN → ReLU.
    public let seedMap: GeneratorSeedMap
    /// ConvTranspose k4 s2 p1 + BN + ReLU: every up stage but the last (which is `out`).
    public let stages: [GeneratorUpStage]
    /// The last up stage, straight to RGB.
    public let out: ConvTranspose2D
    private let toImage = UnitTanh()

    public init(architecture: GeneratorArchitecture = GeneratorArchitecture(), seed: UInt64 = 1) {
        precondition((try? architecture.validate()) != nil, "TransposedConvGenerator: invalid architecture \(architecture)")
        self.architecture = architecture
        var rng = RandomGenerator(seed: seed)
        let a = architecture
        let fc = Linear(inFeatures: a.latentSize, outFeatures: a.baseWidth * 16, rng: &rng)
        seedMap = GeneratorSeedMap(fc: fc, latentSize: a.latentSize, channels: a.baseWidth)
        var built: [GeneratorUpStage] = [], c = a.baseWidth
        for w in a.stageWidths.dropLast() { built.append(.transposedConv(c, w, rng: &rng)); c = w }
        stages = built
        out = ConvTranspose2D(inChannels: c, outChannels: 3, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
    }

    /// Sub-modules under their checkpoint key prefixes, in forward order.
    public var children: [(String, Module)] {
        seedMap.children + stages.enumerated().map { ("up\($0.offset + 1)", $0.element) } + [("out", out)]
    }

    /// Forward: z (N, Z) → images (N, 3, P, P) in 0…1 (y = (tanh + 1)/2).
    public func forward(_ z: Tensor) -> Tensor {
        var h = seedMap.forward(z)  // (N, C0, 4, 4)
        for s in stages { h = s.forward(h) }  // (N, Cs, 2^(s+3), 2^(s+3))
        return toImage.forward(out.forward(h))  // (N, 3, P, P) in 0…1
    }

    /// Backward from dLoss/dImages (N, 3, P, P); returns dLoss/dz (N, Z).
    public func backward(_ dy: Tensor) -> Tensor {
        var d = out.backward(toImage.backward(dy))  // (N, C_last, P/2, P/2)
        for s in stages.reversed() { d = s.backward(d) }  // (N, C0, 4, 4)
        return seedMap.backward(d)  // (N, Z)
    }
}
