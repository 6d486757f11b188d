// Owns what the Trainer needs from a patch generator (`PatchGenerator`) and which generator a run
// trains against (`GeneratorKind`, kept in TrainingConfig; older checkpoints lack it and mean
// `.upsampling`, the SAGAN-style `Generator`).
import NeuralNet

/// A generator of (N, 3, P, P) patches in 0…1 from latents (N, Z), trainable through `backward`.
public protocol PatchGenerator: Module {
    /// Latent size, width and patch size.
    var architecture: GeneratorArchitecture { get }
    /// z (N, Z) → images (N, 3, P, P) in 0…1, owned by the generator until its next forward.
    func forward(_ z: Tensor) -> Tensor
    /// dLoss/dImages (N, 3, P, P) → dLoss/dz (N, Z); accumulates parameter gradients.
    func backward(_ dy: Tensor) -> Tensor
    /// Draws `count` latents z ~ N(0, 1) into `z` (count, Z).
    func sampleLatents(_ z: Tensor, count: Int, rng: inout RandomGenerator)
}

extension PatchGenerator {
    public func sampleLatents(_ z: Tensor, count: Int, rng: inout RandomGenerator) {
        z.resize(to: [count, architecture.latentSize])
        for i in 0..<z.count { z.pointer[i] = rng.normal() }
    }
}

extension Generator: PatchGenerator {}

/// The generator architectures a run can train against.
public enum GeneratorKind: String, Codable, CaseIterable, Sendable {
    /// `Generator`: nearest 2× + SN conv stages with self-attention (the default).
    case upsampling
    /// `TransposedConvGenerator`: DCGAN-style transposed convolutions.
    case transposedConv

    /// A new generator of this kind, weights drawn from `seed`.
    public func make(architecture: GeneratorArchitecture, seed: UInt64) -> any PatchGenerator {
        switch self {
        case .upsampling: return Generator(architecture: architecture, seed: seed)
        case .transposedConv: return TransposedConvGenerator(architecture: architecture, seed: seed)
        }
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
