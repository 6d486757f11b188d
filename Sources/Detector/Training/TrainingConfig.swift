// Owns the trainer's configuration (SAGAN recipe defaults: hinge loss, Adam β = (0, 0.9), D lr 4e-4,
// G lr 1e-4, n D steps per G step) and the events a training run reports to its observer.
import NeuralNet

/// The adversarial loss between real and generated patches.
public enum AdversarialLoss: String, Codable, CaseIterable, Sendable {
    /// Hinge loss (Lim & Ye 2017; Miyato 2018; Zhang 2018).
    case hinge
    /// Wasserstein critic loss (Arjovsky 2017); the Lipschitz bound comes from spectral norm.
    case wasserstein
    /// Non-saturating binary cross-entropy (Goodfellow 2014).
    case bce
}

/// Relative frequency of each supervised fake kind in a batch (generated samples are separate).
public struct FakeMix: Codable, Equatable, Sendable {
    public var partial: Double
    public var selfBlended: Double
    /// Crops of user fake media (ignored when there is no fake folder).
    public var media: Double
    /// VAE reconstructions blended into real patches, and VAE prior samples (only with a VAE).
    public var vaeBlended: Double
    public var vaeSample: Double
    /// Regions made by the zoo's families (only with `TrainingConfig.zoo`).
    public var zoo: Double
    public init(
        partial: Double = 1, selfBlended: Double = 1, media: Double = 1, vaeBlended: Double = 1, vaeSample: Double = 0.5,
        zoo: Double = 0
    ) {
        self.partial = partial; self.selfBlended = selfBlended; self.media = media
        self.vaeBlended = vaeBlended; self.vaeSample = vaeSample; self.zoo = zoo
    }

    private enum CodingKeys: String, CodingKey { case partial, selfBlended, media, vaeBlended, vaeSample, zoo }

    /// Decodes mixes saved before the zoo existed (no `zoo` key) as zoo weight 0.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        partial = try c.decode(Double.self, forKey: .partial)
        selfBlended = try c.decode(Double.self, forKey: .selfBlended)
        media = try c.decode(Double.self, forKey: .media)
        vaeBlended = try c.decode(Double.self, forKey: .vaeBlended)
        vaeSample = try c.decode(Double.self, forKey: .vaeSample)
        zoo = try c.decodeIfPresent(Double.self, forKey: .zoo) ?? 0
    }

    /// Writes `zoo` only when it is used, so a configuration without the zoo encodes as it always did.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(partial, forKey: .partial)
        try c.encode(selfBlended, forKey: .selfBlended)
        try c.encode(media, forKey: .media)
        try c.encode(vaeBlended, forKey: .vaeBlended)
        try c.encode(vaeSample, forKey: .vaeSample)
        if zoo != 0 { try c.encode(zoo, forKey: .zoo) }
    }

    /// The supervised kinds with the weights a run draws them by: media only with fake files, the VAE's
    /// two only with a VAE, zoo regions only with a zoo (the others weigh 0 there).
    public func drawableWeights(media: Bool, vae: Bool, zoo: Bool) -> [(kind: FakeKind, weight: Double)] {
        [
            (.partial, partial), (.selfBlended, selfBlended), (.media, media ? self.media : 0),
            (.vaeBlended, vae ? vaeBlended : 0), (.vaeSample, vae ? vaeSample : 0), (.zoo, zoo ? self.zoo : 0),
        ]
    }

    /// Throws unless every weight is finite and ≥ 0.
    func validate() throws {
        for weight in [partial, selfBlended, media, vaeBlended, vaeSample, zoo] where !(weight >= 0 && weight.isFinite) {
            throw DetectorError.invalidConfiguration("fake mix weights must be finite and ≥ 0, got \(self)")
        }
    }
}

/// Everything that defines a training run; saved in checkpoints.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var discriminator: DetectorArchitecture
    public var generator: GeneratorArchitecture
    /// Which generator architecture G is; nil means `.upsampling`. Optional so that configurations
    /// saved before the field existed (checkpoints of running trainings) still decode, unchanged.
    public var generatorKind: GeneratorKind? = nil
    /// The face-swap-like VAE whose outputs are extra fakes; nil = no VAE (the default, cheaper).
    public var vae: VAEArchitecture? = nil
    /// The fake-maker zoo families learned from (drawn with `fakeMix.zoo`); nil = no zoo.
    public var zoo: ZooTrainingConfig? = nil
    /// Mined hard real negatives among the real rows; nil = off (and in configurations saved before
    /// the field existed).
    public var hardNegatives: HardNegativeConfig? = nil
    /// A second supervised loss on each patch's most suspicious area; nil = off (and in
    /// configurations saved before the field existed).
    public var pooledLoss: PooledAreaLoss? = nil
    /// Real patches per D step.
    public var realPerBatch: Int
    /// Generator samples per D step (and per G step).
    public var generatedPerBatch: Int
    /// Supervised fakes (partial / self-blended / media) per D step.
    public var otherFakesPerBatch: Int
    public var dStepsPerGStep: Int
    public var learningRateD: Float
    public var learningRateG: Float
    public var beta1: Float
    public var beta2: Float
    public var loss: AdversarialLoss
    /// Weight of the adversarial term (real vs generated) in D's loss.
    public var adversarialWeight: Float = 1
    /// Weight of the supervised BCE term (real vs partial/self-blended/media fakes).
    public var supervisedWeight: Float
    public var fakeMix: FakeMix
    public var augmentation: AugmentationConfig
    /// Crops with mean luminance-gradient below this are re-drawn (up to 6 tries).
    public var minimumTextureEnergy: Float
    /// Validate every this many D steps (0 = never automatically).
    public var validateEvery: Int
    /// Validation patches per class (real, and fake split over the kinds).
    public var validationPatches: Int
    /// Keep an in-memory rollback state every this many steps.
    public var snapshotEvery: Int
    /// A loss whose magnitude exceeds this (or is not finite) triggers a rollback.
    public var divergenceLimit: Float
    /// Learning rates are multiplied by this after a rollback.
    public var rollbackLearningRateFactor: Float
    public var seed: UInt64

    public init(
        discriminator: DetectorArchitecture = .standard, generator: GeneratorArchitecture = GeneratorArchitecture(),
        realPerBatch: Int = 16, generatedPerBatch: Int = 8, otherFakesPerBatch: Int = 8, dStepsPerGStep: Int = 2,
        learningRateD: Float = 4e-4, learningRateG: Float = 1e-4, beta1: Float = 0, beta2: Float = 0.9,
        loss: AdversarialLoss = .hinge, supervisedWeight: Float = 1, fakeMix: FakeMix = FakeMix(),
        augmentation: AugmentationConfig = AugmentationConfig(), minimumTextureEnergy: Float = 0.01,
        validateEvery: Int = 200, validationPatches: Int = 64, snapshotEvery: Int = 25,
        divergenceLimit: Float = 1e4, rollbackLearningRateFactor: Float = 0.5, seed: UInt64 = 1
    ) {
        self.discriminator = discriminator; self.generator = generator
        self.realPerBatch = realPerBatch; self.generatedPerBatch = generatedPerBatch
        self.otherFakesPerBatch = otherFakesPerBatch; self.dStepsPerGStep = dStepsPerGStep
        self.learningRateD = learningRateD; self.learningRateG = learningRateG
        self.beta1 = beta1; self.beta2 = beta2; self.loss = loss; self.supervisedWeight = supervisedWeight
        self.fakeMix = fakeMix; self.augmentation = augmentation; self.minimumTextureEnergy = minimumTextureEnergy
        self.validateEvery = validateEvery; self.validationPatches = validationPatches
        self.snapshotEvery = snapshotEvery; self.divergenceLimit = divergenceLimit
        self.rollbackLearningRateFactor = rollbackLearningRateFactor; self.seed = seed
    }

    /// Most patches of one kind per D step (real, generated, other fakes each).
    public static let maximumPerBatch = 256
    /// D steps per G step that a configuration (and so a checkpoint) may hold; the largest,
    /// `frozenGenerator`, means no G step at all. Nothing is allocated from it. `validate`,
    /// `Trainer.adjustSchedule` and the CLI all check against this one range.
    public static let dStepsPerGStepRange = 1...1_000_000
    /// The D steps per G step that keep the generator fixed: a detector-only phase, as
    /// `Scripts/lofo.sh` runs after the game (`unmask train --freeze-generator`).
    public static let frozenGenerator = dStepsPerGStepRange.upperBound
    /// Whether the generator takes no steps (`dStepsPerGStep` is `frozenGenerator`).
    public var generatorIsFrozen: Bool { dStepsPerGStep == Self.frozenGenerator }
    /// Most validation patches per class.
    public static let maximumValidationPatches = 8192
    /// Largest `estimatedBytes` of a run (4 GiB): checkpoints carry their configuration, so a file can
    /// ask for any batch; this keeps a resumed run within what a laptop holds.
    public static let maximumEstimatedBytes = 4.0 * 1024 * 1024 * 1024

    /// Bytes a run needs, an upper estimate: a D step's forward and backward over the whole batch
    /// (three times `DetectorArchitecture.estimatedForwardBytes`, for the retained activations and their
    /// gradients) plus the validation and training-probe patch sets (real and fake, 3·P² floats each).
    public var estimatedBytes: Double {
        let batch = realPerBatch + generatedPerBatch + otherFakesPerBatch
        let step = 3 * discriminator.estimatedForwardBytes(side: discriminator.patchSize, batch: batch)
        let patchBytes = 4 * 3 * Double(discriminator.patchSize) * Double(discriminator.patchSize)
        let mined = Double(hardNegatives.map { $0.select + 256 } ?? 0) * patchBytes
        return step + 2 * 2 * Double(validationPatches) * patchBytes + mined
    }

    /// Throws unless the configuration is buildable and every size in it is within the limits above
    /// (a checkpoint's configuration is checked before anything is allocated from it).
    public func validate() throws {
        try discriminator.validate()
        try generator.validateWithinLimits()
        guard generator.patchSize == discriminator.patchSize else {
            throw DetectorError.invalidConfiguration(
                "generator patch size \(generator.patchSize) ≠ detector patch size \(discriminator.patchSize)")
        }
        if let vae {
            try ZooGeneratorFile.validateWithinLimits(vae)
            guard vae.patchSize == discriminator.patchSize else {
                throw DetectorError.invalidConfiguration(
                    "VAE patch size \(vae.patchSize) ≠ detector patch size \(discriminator.patchSize)")
            }
        }
        try fakeMix.validate()
        try augmentation.validate()
        guard (1...Self.maximumPerBatch).contains(realPerBatch), (1...Self.maximumPerBatch).contains(generatedPerBatch),
            (0...Self.maximumPerBatch).contains(otherFakesPerBatch),
            Self.dStepsPerGStepRange.contains(dStepsPerGStep)
        else {
            throw DetectorError.invalidConfiguration(
                "batch counts must be 1…\(Self.maximumPerBatch) (other fakes 0…\(Self.maximumPerBatch)) and D steps "
                    + "per G step \(Self.dStepsPerGStepRange.lowerBound)…\(Self.dStepsPerGStepRange.upperBound), got real \(realPerBatch), generated "
                    + "\(generatedPerBatch), other \(otherFakesPerBatch), D steps \(dStepsPerGStep)")
        }
        guard learningRateD > 0, learningRateD.isFinite, learningRateG > 0, learningRateG.isFinite,
            (2...Self.maximumValidationPatches).contains(validationPatches), snapshotEvery >= 1, validateEvery >= 0
        else {
            throw DetectorError.invalidConfiguration(
                "learning rates must be finite and > 0, validation patches 2…\(Self.maximumValidationPatches), "
                    + "snapshot interval ≥ 1, validation interval ≥ 0; got D \(learningRateD), G \(learningRateG), "
                    + "\(validationPatches) validation patches")
        }
        guard beta1 >= 0, beta1 < 1, beta2 >= 0, beta2 < 1, adversarialWeight.isFinite, supervisedWeight.isFinite,
            minimumTextureEnergy.isFinite, divergenceLimit > 0, divergenceLimit.isFinite,
            rollbackLearningRateFactor > 0, rollbackLearningRateFactor < 1
        else {
            throw DetectorError.invalidConfiguration(
                "Adam betas must be in 0…1, loss weights and the texture threshold finite, the divergence limit "
                    + "finite and > 0, the rollback factor in (0, 1)")
        }
        guard estimatedBytes <= Self.maximumEstimatedBytes else {
            throw DetectorError.invalidConfiguration(
                "the run would need about \(Int(estimatedBytes / 1_048_576)) MiB (limit "
                    + "\(Int(Self.maximumEstimatedBytes / 1_048_576)) MiB): lower the batch or validation sizes")
        }
        try zoo?.validate()
        if let context = zoo?.contextSide {
            let P = discriminator.patchSize
            guard (2 * P...8 * P).contains(context) else {
                throw DetectorError.invalidConfiguration(
                    "the zoo's context side must be 2…8 patch sides (\(2 * P)…\(8 * P) px), got \(context)")
            }
        }
        try hardNegatives?.validate(realPerBatch: realPerBatch)
        try pooledLoss?.validate(patchSize: discriminator.patchSize)
    }
}

/// Statistics of one D step (and the G step that followed it, if any).
public struct StepStatistics: Sendable {
    public var step: Int
    public var discriminatorLoss: Float
    public var adversarialLoss: Float
    public var supervisedLoss: Float
    /// nil when this step had no G update.
    public var generatorLoss: Float?
    /// VAE loss (L1 + β·KL + λ·adversarial) when a VAE is trained and this step had a G update.
    public var vaeLoss: Float?
    public var learningRateD: Float, learningRateG: Float
    public var seconds: Double
}

/// Validation results on the held-out files.
public struct ValidationStatistics: Sendable {
    public var step: Int
    /// ROC AUC of the patch score (fake positive) over all validation patches.
    public var auc: Double
    /// Per fake kind AUC against the same real patches.
    public var aucByKind: [FakeKind: Double]
    /// Fraction of real patches with score ≥ 0 (probability ≥ 0.5 uncalibrated).
    public var falsePositiveRate: Double
    /// Fraction of fake patches with score < 0.
    public var falseNegativeRate: Double
    public var realCount: Int, fakeCount: Int
    /// The same AUC on a fixed set of patches from the training files: a growing gap to `auc` is
    /// overfitting.
    public var trainingAUC: Double
    /// Generator sample diversity: mean pairwise distance between generated validation samples over
    /// the same measure between real validation patches (≈ 1 healthy; a fall towards 0 is mode collapse).
    public var diversity: Double
}

/// What a training run reports (the library never prints).
public enum TrainingEvent: Sendable {
    case step(StepStatistics)
    case validation(ValidationStatistics)
    /// A non-finite or exploding loss: state rolled back to `restoredStep`, learning rates lowered.
    case rollback(step: Int, loss: Float, restoredStep: Int, learningRateD: Float, learningRateG: Float)
    case checkpoint(path: String, step: Int)
    case warning(String)
}
