// Owns the trainer and its step loop: the D step (adversarial loss on real vs generated + BCE on real
// vs partial, self-blended and media fakes), then every `dStepsPerGStep` steps the G step (loss on D's
// logits for G's samples) and the VAE step. Reports events; never prints. Batches, losses, validation,
// the rollback guard, checkpoints and export live in the other Trainer*.swift files and Checkpoint.swift.
// Glossary: N patches in a batch, P patch side, m = P/8 logit cells per side, Nr/Ng/No real,
// generated and other-fake counts.
import Foundation
import MediaIO
import NeuralNet

/// Real (and optional fake) media for training, split by file.
public struct TrainingData: Sendable {
    public var real: MediaSplit
    public var fake: MediaSplit?
    public init(real: MediaSplit, fake: MediaSplit? = nil) { self.real = real; self.fake = fake }

    /// Loads `realFolder` (required) and `fakeFolder` (optional) with `loader`; skipped files are kept
    /// in each split's `skipped` list.
    public static func load(realFolder: String, fakeFolder: String? = nil, loader: MediaFolderLoader) throws -> TrainingData {
        let real = try loader.load(folder: realFolder, role: "real")
        let fake = try fakeFolder.map { try loader.load(folder: $0, role: "fake") }
        return TrainingData(real: real, fake: fake)
    }

    /// Every skipped-file line of both splits.
    public var skipped: [String] { real.skipped + (fake?.skipped ?? []) }
}

/// Trains the detector (D) against a patch generator (G) plus synthesized and user fakes.
public final class Trainer {
    public static let checkpointFormat = "unmask.checkpoint/1"

    public internal(set) var config: TrainingConfig
    public let data: TrainingData
    public let discriminator: Discriminator
    /// The generator kind `config.generatorKind` names (the upsampling `Generator` when nil).
    public let generator: any PatchGenerator
    public let optimizerD: Adam
    public let optimizerG: Adam
    /// The optional face-swap-like VAE (config.vae) and its optimizer (lr = G's, same betas).
    public let vae: VAE?
    public let optimizerVAE: Adam?
    /// The zoo families this run learns from (config.zoo), nil without a zoo.
    public let zoo: FakeZoo?
    /// D steps taken.
    public internal(set) var step = 0
    public internal(set) var rng: RandomGenerator
    /// Receives every event; the trainer itself never prints.
    public var observer: ((TrainingEvent) -> Void)?
    public internal(set) var augmenter: Augmenter
    public internal(set) var lastValidation: ValidationStatistics?

    let P: Int, m: Int
    let batch = Tensor(shape: [0])  // (N, 3, P, P)
    let z = Tensor(shape: [0])  // (Ng + partials, Z)
    let dPatch = Tensor(shape: [0])  // (N, 1, m, m)
    let dGlobal = Tensor(shape: [0])  // (N, 1)
    /// The state a divergence rolls back to (TrainerRollback.swift).
    var snapshot: TrainingSnapshot?
    /// Held-out patches scored by `validate()`, drawn on first use (TrainerValidation.swift).
    var validationSet: ValidationPatchSet?
    /// The same kind of set drawn from the training files (for the train/validation gap).
    var trainingProbeSet: ValidationPatchSet?
    /// The zoo pairs the D step draws from when the configuration asks for a pool (TrainerZoo.swift).
    var zooPool: [ZooPair] = []
    /// The mined hard real negatives, highest score first, their scores, and the step they were
    /// mined at (TrainerHardNegatives.swift).
    public internal(set) var hardNegativeWindows: [RGBImage] = []
    public internal(set) var hardNegativeScores: [Double] = []
    public internal(set) var hardNegativesMinedAtStep: Int?
    /// The validation set's patch scores at the last `validate()`, for calibration.
    var lastScores = PatchScores(fake: [], real: [])

    /// A new run from `config` (weights seeded from `config.seed`).
    public init(config: TrainingConfig, data: TrainingData) throws {
        try config.validate()
        guard !data.real.training.isEmpty, !data.real.validation.isEmpty else {
            throw DetectorError.trainingData(path: "<real>", reason: "no real training or validation files")
        }
        self.config = config
        self.data = data
        P = config.discriminator.patchSize
        m = P / DetectorArchitecture.stride
        discriminator = Discriminator(architecture: config.discriminator, seed: config.seed &+ 1)
        generator = (config.generatorKind ?? .upsampling).make(architecture: config.generator, seed: config.seed &+ 2)
        optimizerD = Adam(module: discriminator, learningRate: config.learningRateD, betas: (config.beta1, config.beta2))
        optimizerG = Adam(module: generator, learningRate: config.learningRateG, betas: (config.beta1, config.beta2))
        if let architecture = config.vae {
            let vae = VAE(architecture: architecture, seed: config.seed &+ 3)
            self.vae = vae
            optimizerVAE = Adam(module: vae, learningRate: config.learningRateG, betas: (0.5, 0.999))
        } else {
            vae = nil; optimizerVAE = nil
        }
        zoo = try config.zoo?.zoo()
        rng = RandomGenerator(seed: config.seed)
        augmenter = Augmenter(config: config.augmentation)
        takeSnapshot()
    }

    // MARK: Steps

    /// One D step (and a G step every `dStepsPerGStep` D steps, none with a frozen generator); reports `.step`, and `.validation`
    /// every `validateEvery` steps. A non-finite or exploding loss rolls back (reported) instead.
    @discardableResult
    public func trainStep() -> StepStatistics {
        let start = Date()
        let Nr = config.realPerBatch, Ng = config.generatedPerBatch

        // D step.
        let targets = buildDiscriminatorBatch()  // fills `batch`: real, generated, other fakes
        discriminator.train()
        discriminator.needsInputGradient = false
        optimizerD.zeroGradients()
        let (patchLogits, globalLogits) = discriminator.forward(batch)  // (N, 1, m, m), (N, 1)
        dPatch.resize(to: patchLogits.shape); dPatch.zero()
        dGlobal.resize(to: globalLogits.shape); dGlobal.zero()
        // In the gradient each of D's two heads (patch map, global) gets half of a term's weight.
        let adversarialHeadWeight = 0.5 * config.adversarialWeight
        let adversarialTerm =
            adversarialLoss(patchLogits, dPatch, real: 0..<Nr, generated: Nr..<(Nr + Ng), weight: adversarialHeadWeight)
            + adversarialLoss(globalLogits, dGlobal, real: 0..<Nr, generated: Nr..<(Nr + Ng), weight: adversarialHeadWeight)
        let supervisedTerm = supervisedLoss(patchLogits: patchLogits, globalLogits: globalLogits, targets: targets)
        let lossD = config.adversarialWeight * adversarialTerm + config.supervisedWeight * supervisedTerm
        _ = discriminator.backward(dPatch: dPatch, dGlobal: dGlobal)
        if !isHealthy(lossD, discriminator) { return rollBack(loss: lossD, start: start) }
        optimizerD.step()
        step += 1

        // G step.
        var lossG: Float?, lossVAE: Float?
        if !config.generatorIsFrozen && step % config.dStepsPerGStep == 0 {
            optimizerG.zeroGradients()
            generator.sampleLatents(z, count: Ng, rng: &rng)
            let samples = generator.forward(z)  // (Ng, 3, P, P)
            discriminator.needsInputGradient = true
            let (generatedPatchLogits, generatedGlobalLogits) = discriminator.forward(samples)  // (Ng, 1, m, m), (Ng, 1)
            let dGeneratedPatchLogits = Tensor(shape: [0]), dGeneratedGlobalLogits = Tensor(shape: [0])
            let generatorStepLoss =
                generatorLoss(generatedPatchLogits, dGeneratedPatchLogits, weight: 0.5) * 0.5
                + generatorLoss(generatedGlobalLogits, dGeneratedGlobalLogits, weight: 0.5) * 0.5
            // (Ng, 3, P, P)
            let dSamples = discriminator.backward(dPatch: dGeneratedPatchLogits, dGlobal: dGeneratedGlobalLogits)
            _ = generator.backward(dSamples)
            discriminator.zeroGradients()
            discriminator.needsInputGradient = false
            if !isHealthy(generatorStepLoss, generator) { return rollBack(loss: generatorStepLoss, start: start) }
            optimizerG.step()
            lossG = generatorStepLoss
            if vae != nil { lossVAE = vaeStep(count: Ng) }
        }
        if step % config.snapshotEvery == 0 { takeSnapshot() }
        let stats = StepStatistics(
            step: step, discriminatorLoss: lossD, adversarialLoss: adversarialTerm, supervisedLoss: supervisedTerm,
            generatorLoss: lossG, vaeLoss: lossVAE, learningRateD: optimizerD.learningRate,
            learningRateG: optimizerG.learningRate, seconds: Date().timeIntervalSince(start))
        observer?(.step(stats))
        if config.validateEvery > 0 && step % config.validateEvery == 0 { _ = validate() }
        return stats
    }

    /// Changes the schedule of a run in progress (for a second phase after `init(resumingFrom:)`, e.g.
    /// a lower discriminator learning rate with rare generator steps); the change is saved in later
    /// checkpoints. Values outside what `TrainingConfig.validate` accepts are ignored, so a checkpoint
    /// saved after the change always loads again.
    public func adjustSchedule(learningRateD: Float? = nil, learningRateG: Float? = nil, dStepsPerGStep: Int? = nil) {
        if let lr = learningRateD, lr > 0 { optimizerD.learningRate = lr; config.learningRateD = lr }
        if let lr = learningRateG, lr > 0 { optimizerG.learningRate = lr; config.learningRateG = lr }
        if let n = dStepsPerGStep, TrainingConfig.dStepsPerGStepRange.contains(n) { config.dStepsPerGStep = n }
    }

    /// Runs `steps` D steps.
    public func train(steps: Int) { for _ in 0..<max(0, steps) { trainStep() } }
}
