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
