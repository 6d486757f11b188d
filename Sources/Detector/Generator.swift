// Owns the patch generator that supplies fakes while training the detector: z → SN linear →
// (N, C0, 4, 4), nearest-2× + SN conv 3×3 + BatchNorm + ReLU stages up to the patch size with one
// SAGAN attention block at half the patch size, SN conv 3×3 + tanh, mapped to 0…1.
// Glossary: N batch, Z latent size, P patch size (4·2^k), Cs channels of stage s.
import NeuralNet

/// Generator hyper-parameters; stored in checkpoints.
public struct GeneratorArchitecture: Codable, Equatable, Sendable {
    /// Latent size Z.
    public var latentSize: Int
    /// Channels of the 4×4 seed map; each up stage halves them (never below `minimumWidth`).
    public var baseWidth: Int
    public var minimumWidth: Int
    /// Output patch side (4·2^k, ≥ 16).
    public var patchSize: Int

    public init(latentSize: Int = 64, baseWidth: Int = 128, minimumWidth: Int = 16, patchSize: Int = 64) {
        self.latentSize = latentSize; self.baseWidth = baseWidth; self.minimumWidth = minimumWidth; self.patchSize = patchSize
    }

    /// Channel count after each up stage.
    var stageWidths: [Int] {
        var widths: [Int] = [], c = baseWidth, side = 4
        while side < patchSize { c = max(c / 2, minimumWidth); widths.append(c); side *= 2 }
        return widths
    }

    public func validate() throws {
        var side = 4
        while side < patchSize { side *= 2 }
        guard side == patchSize, patchSize >= 16, latentSize > 0, baseWidth >= 8, minimumWidth >= 8, minimumWidth % 8 == 0 else {
            throw DetectorError.invalidConfiguration(
                "generator needs patch size 4·2^k ≥ 16 and widths ≥ 8 (multiples of 8), got \(self)")
        }
    }
}

/// A SAGAN-style patch generator (Zhang 2018; SN after Miyato 2018; BN after Ioffe & Szegedy 2015)
/// producing (N, 3, P, P) images in 0…1.
public final class Generator: ModuleContainer {
    public var isTraining = true { didSet { propagateTrainingMode() } }
    public let architecture: GeneratorArchitecture

    /// z → SN linear → (N, C0, 4, 4) → BN → ReLU.
    public let seedMap: GeneratorSeedMap
    /// Nearest 2× + SN conv 3×3 + BN + ReLU, one per doubling from 4 to P.
    public let stages: [GeneratorUpStage]
    public let attention: SelfAttention
    /// Index of the stage after which attention runs (output side P/2).
    public let attentionAfter: Int
    public let out: SNConv2D
    private let toImage = UnitTanh()

    public init(architecture: GeneratorArchitecture = GeneratorArchitecture(), seed: UInt64 = 1) {
        precondition((try? architecture.validate()) != nil, "Generator: invalid architecture \(architecture)")
        self.architecture = architecture
        var rng = RandomGenerator(seed: seed)
        let a = architecture
        let fc = SNLinear(inFeatures: a.latentSize, outFeatures: a.baseWidth * 16, rng: &rng)
        seedMap = GeneratorSeedMap(fc: fc, latentSize: a.latentSize, channels: a.baseWidth)
        var built: [GeneratorUpStage] = [], c = a.baseWidth
        for w in a.stageWidths { built.append(.nearestConv(c, w, rng: &rng)); c = w }
        stages = built
        attentionAfter = built.count - 2
        attention = SelfAttention(channels: a.stageWidths[built.count - 2], rng: &rng)
        out = SNConv2D(inChannels: c, outChannels: 3, kernelSize: 3, padding: 1, rng: &rng)
    }

    /// Sub-modules under their checkpoint key prefixes, in forward order.
    public var children: [(String, Module)] {
        var list = seedMap.children
        for (i, s) in stages.enumerated() {
            list.append(("up\(i + 1)", s))
            if i == attentionAfter { list.append(("attn", attention)) }
        }
        list.append(("out", out))
        return list
    }

    /// Forward: z (N, Z) → images (N, 3, P, P) in 0…1 (y = (tanh + 1)/2).
    public func forward(_ z: Tensor) -> Tensor {
        var h = seedMap.forward(z)  // (N, C0, 4, 4)
        for (i, s) in stages.enumerated() {
            h = s.forward(h)  // (N, Cs, 2^(s+3), 2^(s+3))
            if i == attentionAfter { h = attention.forward(h) }  // (N, Cs, P/2, P/2)
        }
        return toImage.forward(out.forward(h))  // (N, 3, P, P) in 0…1
    }

    /// Backward from dLoss/dImages (N, 3, P, P); returns dLoss/dz (N, Z).
    public func backward(_ dy: Tensor) -> Tensor {
        var d = out.backward(toImage.backward(dy))  // (N, C_last, P, P)
        for i in stride(from: stages.count - 1, through: 0, by: -1) {
            if i == attentionAfter { d = attention.backward(d) }
            d = stages[i].backward(d)
        }  // (N, C0, 4, 4)
        return seedMap.backward(d)  // (N, Z)
    }
}
