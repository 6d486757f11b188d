// Owns the divergence guard: an in-memory snapshot of both networks, the VAE and their optimizers
// every `snapshotEvery` steps, the health check of a loss and its gradients, and the rollback to the
// snapshot with lowered learning rates; also the loop state a checkpoint restores.
import Foundation
import NeuralNet

/// The state a divergence rolls back to: the step and every network's and optimizer's state dictionary.
struct TrainingSnapshot {
    let step: Int
    let discriminator: [String: Tensor]
    let generator: [String: Tensor]
    let optimizerD: [String: Tensor]
    let optimizerG: [String: Tensor]
    /// nil without a VAE.
    let vae: [String: Tensor]?
    let optimizerVAE: [String: Tensor]?
}

extension Trainer {
    func takeSnapshot() {
        snapshot = TrainingSnapshot(
            step: step, discriminator: discriminator.stateDictionary(), generator: generator.stateDictionary(),
            optimizerD: optimizerD.stateDictionary(), optimizerG: optimizerG.stateDictionary(),
            vae: vae?.stateDictionary(), optimizerVAE: optimizerVAE?.stateDictionary())
    }

    /// Whether `loss` is finite and within the divergence limit and every gradient of `module` is finite.
    func isHealthy(_ loss: Float, _ module: Module) -> Bool {
        guard loss.isFinite, abs(loss) <= config.divergenceLimit else { return false }
        for parameter in module.namedParameters() {
            let gradient = parameter.gradient
            var squaredNorm: Float = 0
            for i in 0..<gradient.count { squaredNorm += gradient.pointer[i] * gradient.pointer[i] }
            if !squaredNorm.isFinite { return false }
        }
        return true
    }

    /// Restores the snapshot, multiplies every learning rate by `rollbackLearningRateFactor`, reports
    /// `.rollback` and returns the statistics of the failed step.
    func rollBack(loss: Float, start: Date) -> StepStatistics {
        guard let snapshot else { preconditionFailure("Trainer: no snapshot to roll back to") }
        // The snapshot was taken from these very modules, so its dictionaries always fit them.
        try! discriminator.load(stateDictionary: snapshot.discriminator)
        try! generator.load(stateDictionary: snapshot.generator)
        try! optimizerD.load(stateDictionary: snapshot.optimizerD)
        try! optimizerG.load(stateDictionary: snapshot.optimizerG)
        if let vae, let vaeState = snapshot.vae, let optimizerVAE, let optimizerVAEState = snapshot.optimizerVAE {
            try! vae.load(stateDictionary: vaeState)
            try! optimizerVAE.load(stateDictionary: optimizerVAEState)
            optimizerVAE.learningRate *= config.rollbackLearningRateFactor
        }
        optimizerD.zeroGradients(); optimizerG.zeroGradients()
        discriminator.needsInputGradient = false
        let failedStep = step + 1
        step = snapshot.step
        optimizerD.learningRate *= config.rollbackLearningRateFactor
        optimizerG.learningRate *= config.rollbackLearningRateFactor
        observer?(
            .rollback(
                step: failedStep, loss: loss, restoredStep: snapshot.step,
                learningRateD: optimizerD.learningRate, learningRateG: optimizerG.learningRate))
        return StepStatistics(
            step: step, discriminatorLoss: loss, adversarialLoss: .nan, supervisedLoss: .nan,
            generatorLoss: nil, vaeLoss: nil, learningRateD: optimizerD.learningRate,
            learningRateG: optimizerG.learningRate, seconds: Date().timeIntervalSince(start))
    }

    /// Restores loop state after a checkpoint load (used by `init(resumingFrom:data:)`).
    func restore(step: Int, rng: RandomGenerator, learningRateD: Float, learningRateG: Float, augmentationCounts: [String: Int]) {
        self.step = step
        self.rng = rng
        optimizerD.learningRate = learningRateD
        optimizerG.learningRate = learningRateG
        augmenter.restoreCounts(augmentationCounts)
        takeSnapshot()
    }
}
