// Owns the pieces both patch generators are built from: the seed map (z → linear → 4×4 map →
// BatchNorm → ReLU), the up stage (a side-doubling layer → BatchNorm → ReLU) and the image head
// (tanh mapped to 0…1). Each is a forward/backward pair; backward runs forward's steps in reverse.
// Glossary: N batch, Z latent size, C0 seed-map channels, Ci/Co a stage's input/output channels, h/w its input size.
import NeuralNet

/// A generator's first step: z (N, Z) → linear → (N, C0, 4, 4) → BatchNorm → ReLU. Its layers are
/// saved as the generator's `fc` and `bn0`.
public final class GeneratorSeedMap: ModuleContainer, Layer {
    public var isTraining = true { didSet { propagateTrainingMode() } }
    /// Z → C0·16: an SN linear layer (`Generator`) or a plain one (`TransposedConvGenerator`).
    public let fc: Layer
    public let bn0: BatchNorm2D
    private let relu = ReLU()
    public let latentSize: Int
    public let channels: Int

    public init(fc: Layer, latentSize: Int, channels: Int) {
        self.fc = fc
        self.latentSize = latentSize
        self.channels = channels
        bn0 = BatchNorm2D(channels: channels)
    }

    public var children: [(String, Module)] { [("fc", fc), ("bn0", bn0)] }

    /// z (N, Z) → (N, C0, 4, 4)
    public func forward(_ z: Tensor) -> Tensor {
        precondition(
            z.shape.count == 2 && z.shape[1] == latentSize, "generator: expected latents (N, \(latentSize)), got \(z.shape)")
        let f = fc.forward(z)  // (N, C0·16)
        f.reshape(to: [z.shape[0], channels, 4, 4])  // (N, C0, 4, 4), same storage
        return relu.forward(bn0.forward(f))  // (N, C0, 4, 4)
    }

    /// dLoss/d(seed map) (N, C0, 4, 4) → dLoss/dz (N, Z)
    public func backward(_ dy: Tensor) -> Tensor { fc.backward(bn0.backward(relu.backward(dy))) }
}

/// One up stage: a layer that doubles the side, BatchNorm, ReLU. The side-doubling layer is nearest
/// 2× + SN conv 3×3 (`Generator`, saved as `conv`) or a transposed conv k4 s2 p1 (`TransposedConvGenerator`,
/// saved as `deconv`; Radford et al. 2016).
public final class GeneratorUpStage: ModuleContainer, Layer {
    public var isTraining = true { didSet { propagateTrainingMode() } }
    /// Nearest-neighbour 2× before `conv`, or nil when `conv` doubles the side itself.
    private let nearest: Upsample2x?
    public let conv: Layer
    private let convKey: String
    public let bn: BatchNorm2D
    private let relu = ReLU()

    private init(nearest: Upsample2x?, conv: Layer, convKey: String, outChannels: Int) {
        self.nearest = nearest
        self.conv = conv
        self.convKey = convKey
        bn = BatchNorm2D(channels: outChannels)
    }

    /// Nearest 2×, SN conv 3×3 padding 1 (Ci → Co), BN, ReLU.
    public static func nearestConv(_ i: Int, _ o: Int, rng: inout RandomGenerator) -> GeneratorUpStage {
        let conv = SNConv2D(inChannels: i, outChannels: o, kernelSize: 3, padding: 1, rng: &rng)
        return GeneratorUpStage(nearest: Upsample2x(), conv: conv, convKey: "conv", outChannels: o)
    }

    /// ConvTranspose k4 s2 p1 (Ci → Co) without bias (the BN right after removes it anyway), BN, ReLU.
    public static func transposedConv(_ i: Int, _ o: Int, rng: inout RandomGenerator) -> GeneratorUpStage {
        let deconv = ConvTranspose2D(inChannels: i, outChannels: o, kernelSize: 4, stride: 2, padding: 1, bias: false, rng: &rng)
        return GeneratorUpStage(nearest: nil, conv: deconv, convKey: "deconv", outChannels: o)
    }

    public var children: [(String, Module)] { [(convKey, conv), ("bn", bn)] }

    /// (N, Ci, h, w) → (N, Co, 2h, 2w)
    public func forward(_ x: Tensor) -> Tensor {
        let doubled = conv.forward(nearest?.forward(x) ?? x)  // (N, Co, 2h, 2w)
        return relu.forward(bn.forward(doubled))
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dDoubled = conv.backward(bn.backward(relu.backward(dy)))  // (N, Ci, 2h, 2w) or (N, Ci, h, w)
        return nearest?.backward(dDoubled) ?? dDoubled  // (N, Ci, h, w)
    }
}

/// The generators' last step, images in 0…1 from tanh's range: y = (tanh x + 1) / 2.
final class UnitTanh: Layer {
    var isTraining = true
    private let tanh = Tanh()
    private let image = Tensor(shape: [0])  // (N, 3, P, P) in 0…1
    private let dTanh = Tensor(shape: [0])  // (N, 3, P, P)

    func forward(_ x: Tensor) -> Tensor {
        let t = tanh.forward(x)  // (−1, 1)
        image.resize(to: t.shape)
        for i in 0..<t.count { image.pointer[i] = 0.5 * (t.pointer[i] + 1) }
        return image
    }

    func backward(_ dy: Tensor) -> Tensor {
        dTanh.resize(to: dy.shape)
        for i in 0..<dy.count { dTanh.pointer[i] = 0.5 * dy.pointer[i] }
        return tanh.backward(dTanh)
    }
}
