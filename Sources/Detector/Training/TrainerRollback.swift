// Owns the divergence guard: an in-memory snapshot of both networks, the VAE and their optimizers
// every `snapshotEvery` steps, the health check of a loss and its gradients, and the rollback to the
// snapshot with lowered learning rates; also the loop state a checkpoint restores.
import Foundation
import NeuralNet

/// The state a divergence rolls back to: the step, every network's state dictionary and every
/// optimizer's snapshot.
struct TrainingSnapshot {
    let step: Int
    let discriminator: [String: Tensor]
    let generator: [String: Tensor]
    let optimizerD: Adam.Snapshot
    let optimizerG: Adam.Snapshot
    /// nil without a VAE.
    let vae: [String: Tensor]?
    let optimizerVAE: Adam.Snapshot?
}

extension Trainer {
    func takeSnapshot() {
        snapshot = TrainingSnapshot(
            step: step, discriminator: discriminator.stateDictionary(), generator: generator.stateDictionary(),
            optimizerD: optimizerD.snapshot(), optimizerG: optimizerG.snapshot(),
            vae: vae?.stateDictionary(), optimizerVAE: optimizerVAE?.snapshot())
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
        // The dictionaries were taken from these very modules, so their keys and shapes always fit
        // (`load` checks nothing else).
        try! discriminator.load(stateDictionary: snapshot.discriminator)
        try! generator.load(stateDictionary: snapshot.generator)
        optimizerD.restore(snapshot.optimizerD)
        optimizerG.restore(snapshot.optimizerG)
        if let vae, let vaeState = snapshot.vae, let optimizerVAE, let optimizerVAEState = snapshot.optimizerVAE {
            try! vae.load(stateDictionary: vaeState)  // taken from `vae` itself, as above
            optimizerVAE.restore(optimizerVAEState)
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
