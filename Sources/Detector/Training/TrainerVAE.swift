// Owns the trainer's optional face-swap-like VAE: the fakes it makes (a reconstruction blended into
// the real patch, or a prior sample) and its update step, which also pulls its reconstructions
// towards what D calls real.
// Glossary: N patches, P patch side, m = P/8 logit cells per side, Z latent size.
import MediaIO
import NeuralNet

extension Trainer {
    /// A VAE fake: a reconstruction of `real` blended back through an elliptical mask, or a prior sample.
    func vaeFake(_ kind: FakeKind, real: RGBImage, rng: inout RandomGenerator) -> FakePatch {
        guard let vae else { return FakeSynthesis.selfBlended(real: real, rng: &rng) }
        let input = Tensor(shape: [1, 3, P, P])
        write(real, into: input, index: 0)
        if kind == .vaeSample {
            let latent = Tensor(shape: [1, vae.architecture.latentSize])  // (1, Z)
            for i in 0..<latent.count { latent.pointer[i] = rng.normal() }
            return FakePatch(image: image(from: vae.decode(latent), index: 0), mask: nil, kind: .vaeSample)
        }
        let reconstruction = image(from: vae.forward(input, rng: &rng), index: 0)
        let mask = FakeSynthesis.ellipseMask(size: P, rng: &rng)
        return FakePatch(
            image: FakeSynthesis.blend(base: real, overlay: reconstruction, mask: mask), mask: mask, kind: .vaeBlended)
    }

    /// One VAE update on `count` real patches: L1(recon, x) + β·KL + λ·mean(D fakeness of recon).
    /// NaN (and no update) when the loss or a gradient is not finite; nil without a VAE.
    func vaeStep(count: Int) -> Float? {
        guard let vae, let optimizer = optimizerVAE else { return nil }
        let architecture = vae.architecture
        let realPatches = Tensor(shape: [count, 3, P, P])  // (N, 3, P, P)
        for i in 0..<count { write(realPatch(data.real.training, rng: &rng), into: realPatches, index: i) }
        optimizer.zeroGradients()
        let reconstructions = vae.forward(realPatches, rng: &rng)  // (N, 3, P, P)
        let dReconstructions = Tensor(shape: [0])
        let l1 = Losses.l1(prediction: reconstructions, target: realPatches, dPrediction: dReconstructions)
        discriminator.needsInputGradient = true
        let (patchLogits, globalLogits) = discriminator.forward(reconstructions)  // (N, 1, m, m), (N, 1)
        let dPatchLogits = Tensor(shape: [0]), dGlobalLogits = Tensor(shape: [0])
        let adversarial =
            0.5
            * (generatorLoss(patchLogits, dPatchLogits, weight: 0.5) + generatorLoss(globalLogits, dGlobalLogits, weight: 0.5))
        let dInput = discriminator.backward(dPatch: dPatchLogits, dGlobal: dGlobalLogits)  // (N, 3, P, P)
        discriminator.zeroGradients()
        discriminator.needsInputGradient = false
        for i in 0..<dReconstructions.count { dReconstructions.pointer[i] += architecture.adversarialWeight * dInput.pointer[i] }
        let kl = vae.backward(dReconstructions, klWeight: architecture.klWeight)
        let loss = l1 + architecture.klWeight * kl + architecture.adversarialWeight * adversarial
        guard isHealthy(loss, vae) else { optimizer.zeroGradients(); return .nan }
        optimizer.step()
        return loss
    }
}
