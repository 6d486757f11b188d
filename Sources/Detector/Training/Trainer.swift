// Owns the training loop: batches of real / generated / supervised-fake patches, the D step
// (adversarial loss on real vs generated + BCE on real vs partial, self-blended and media fakes),
// the G step (loss on D's logits for G's samples), the divergence guard, validation AUC / FPR,
// checkpoints with exact resume, and export of a DetectorModel. Reports events; never prints.
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

    public private(set) var config: TrainingConfig
    public let data: TrainingData
    public let discriminator: Discriminator
    /// The generator kind `config.generatorKind` names (the upsampling `Generator` when nil).
    public let generator: any PatchGenerator
    public let optimizerD: Adam
    public let optimizerG: Adam
    /// The optional face-swap-like VAE (config.vae) and its optimizer (lr = G's, same betas).
    public let vae: VAE?
    public let optimizerVAE: Adam?
    /// D steps taken.
    public private(set) var step = 0
    public private(set) var rng: RandomGenerator
    /// Receives every event; the trainer itself never prints.
    public var observer: ((TrainingEvent) -> Void)?
    public private(set) var augmenter: Augmenter
    public private(set) var lastValidation: ValidationStatistics?

    private let P: Int, m: Int
    private let batch = Tensor(shape: [0])  // (N, 3, P, P)
    private let z = Tensor(shape: [0])  // (Ng + partials, Z)
    private let dPatch = Tensor(shape: [0])  // (N, 1, m, m)
    private let dGlobal = Tensor(shape: [0])  // (N, 1)
    private var snapshot:
        (
            step: Int, d: [String: Tensor], g: [String: Tensor], optD: [String: Tensor], optG: [String: Tensor],
            vae: [String: Tensor]?, optVAE: [String: Tensor]?
        )?
    private var validationSet: (real: [RGBImage], fake: [FakePatch], latents: Tensor)?
    /// The same kind of set drawn from the training files (for the train/validation gap).
    private var trainingProbeSet: (real: [RGBImage], fake: [FakePatch], latents: Tensor)?
    private var lastScores: (fake: [Double], real: [Double]) = ([], [])

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
        if let a = config.vae {
            let v = VAE(architecture: a, seed: config.seed &+ 3)
            vae = v
            optimizerVAE = Adam(module: v, learningRate: config.learningRateG, betas: (0.5, 0.999))
        } else {
            vae = nil; optimizerVAE = nil
        }
        rng = RandomGenerator(seed: config.seed)
        augmenter = Augmenter(config: config.augmentation)
        takeSnapshot()
    }

    // MARK: Batches

    private func randomSource(_ sources: [MediaSource], _ r: inout RandomGenerator) -> StoredFrame {
        let s = sources[Int(r.next() % UInt64(sources.count))]
        return s.frames[Int(r.next() % UInt64(s.frames.count))]
    }

    private func realPatch(_ sources: [MediaSource], _ r: inout RandomGenerator) -> RGBImage {
        PatchOps.texturedCrop(randomSource(sources, &r), size: P, minimumEnergy: config.minimumTextureEnergy, rng: &r)
    }

    /// Copies image i of a (N, 3, P, P) tensor into an RGBImage.
    private func image(from t: Tensor, index i: Int) -> RGBImage {
        let n = 3 * P * P
        return RGBImage(width: P, height: P, pixels: Array(UnsafeBufferPointer(start: t.pointer + i * n, count: n)))
    }

    private func write(_ p: RGBImage, into t: Tensor, index i: Int) {
        let n = 3 * P * P
        p.pixels.withUnsafeBufferPointer { (t.pointer + i * n).update(from: $0.baseAddress!, count: n) }
    }

    private func drawKind(_ r: inout RandomGenerator) -> FakeKind {
        let mix = config.fakeMix
        let media = (data.fake?.training.isEmpty == false) ? mix.media : 0
        let vb = vae != nil ? mix.vaeBlended : 0, vs = vae != nil ? mix.vaeSample : 0
        let weights: [(FakeKind, Double)] = [
            (.partial, mix.partial), (.selfBlended, mix.selfBlended), (.media, media),
            (.vaeBlended, vb), (.vaeSample, vs),
        ]
        let total = weights.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return .selfBlended }
        var u = Double(r.uniform()) * total
        for (kind, w) in weights where w > 0 {
            if u < w { return kind }
            u -= w
        }
        return weights.last { $0.1 > 0 }!.0
    }

    // MARK: Losses on slices

    /// Writes loss gradients for samples lo..<hi of `logits` (N, k) into `grad`, scaled by `weight`;
    /// `compute` gets a copy of the slice and returns (loss, dSlice).
    private func sliceLoss(
        _ logits: Tensor, _ grad: Tensor, _ lo: Int, _ hi: Int, weight: Float,
        _ compute: (Tensor, Tensor) -> Float
    ) -> Float {
        let per = logits.count / logits.shape[0]
        let slice = Tensor(shape: [(hi - lo) * per]), d = Tensor(shape: [(hi - lo) * per])
        slice.pointer.update(from: logits.pointer + lo * per, count: slice.count)
        let loss = compute(slice, d)
        for i in 0..<d.count { grad.pointer[lo * per + i] += weight * d.pointer[i] }
        return loss
    }

    /// D's adversarial loss: logits are "fakeness" (positive = fake), so for hinge real samples are
    /// pushed below −1 and generated ones above +1.
    private func adversarialLoss(_ logits: Tensor, _ grad: Tensor, real: Range<Int>, generated: Range<Int>, weight: Float)
        -> Float
    {
        switch config.loss {
        case .hinge:
            return sliceLoss(logits, grad, real.lowerBound, real.upperBound, weight: weight) {
                Losses.hinge($0, isReal: false, dLogits: $1)
            }
                + sliceLoss(logits, grad, generated.lowerBound, generated.upperBound, weight: weight) {
                    Losses.hinge($0, isReal: true, dLogits: $1)
                }
        case .wasserstein:
            // mean(f_real) − mean(f_generated)
            return sliceLoss(logits, grad, real.lowerBound, real.upperBound, weight: weight) { x, d in
                d.resize(to: x.shape); d.fill(1 / Float(x.count)); return sum(x.pointer, count: x.count) / Float(x.count)
            }
                + sliceLoss(logits, grad, generated.lowerBound, generated.upperBound, weight: weight) { x, d in
                    d.resize(to: x.shape); d.fill(-1 / Float(x.count)); return -sum(x.pointer, count: x.count) / Float(x.count)
                }
        case .bce:
            return sliceLoss(logits, grad, real.lowerBound, real.upperBound, weight: weight) { x, d in
                Losses.bceWithLogits(logits: x, targets: Tensor(shape: x.shape, repeating: 0), dLogits: d)
            }
                + sliceLoss(logits, grad, generated.lowerBound, generated.upperBound, weight: weight) { x, d in
                    Losses.bceWithLogits(logits: x, targets: Tensor(shape: x.shape, repeating: 1), dLogits: d)
                }
        }
    }

    /// G's loss on D's logits for generated samples (gradient written into `grad`): hinge and
    /// Wasserstein −mean(realness) = mean(f); BCE non-saturating −log σ(−f) (target "real" = 0).
    func generatorLoss(_ logits: Tensor, _ grad: Tensor, weight: Float) -> Float {
        grad.resize(to: logits.shape)
        grad.zero()
        switch config.loss {
        case .hinge, .wasserstein:
            return sliceLoss(logits, grad, 0, logits.shape[0], weight: weight) { x, d in
                d.resize(to: x.shape); d.fill(1 / Float(x.count)); return sum(x.pointer, count: x.count) / Float(x.count)
            }
        case .bce:
            return sliceLoss(logits, grad, 0, logits.shape[0], weight: weight) { x, d in
                Losses.bceWithLogits(logits: x, targets: Tensor(shape: x.shape, repeating: 0), dLogits: d)
            }
        }
    }

    // MARK: Steps

    /// One D step (and a G step every `dStepsPerGStep` D steps); reports `.step`, and `.validation`
    /// every `validateEvery` steps. A non-finite or exploding loss rolls back (reported) instead.
    @discardableResult
    public func trainStep() -> StepStatistics {
        let start = Date()
        let c = config
        let Nr = c.realPerBatch, Ng = c.generatedPerBatch, No = c.otherFakesPerBatch, N = Nr + Ng + No
        // Decide the supervised fake kinds first (partials need extra generator samples).
        let kinds = (0..<No).map { _ in drawKind(&rng) }
        let partials = kinds.filter { $0 == .partial }.count

        // Generator samples (no gradient needed in the D step).
        generator.train()
        generator.sampleLatents(z, count: Ng + partials, rng: &rng)
        let generated = generator.forward(z)  // (Ng + partials, 3, P, P)

        batch.resize(to: [N, 3, P, P])
        let cellTargets = Tensor(shape: [Nr + No, 1, m, m])  // supervised patch targets, real first
        let globalTargets = Tensor(shape: [Nr + No, 1])
        for i in 0..<Nr {
            var p = realPatch(data.real.training, &rng)
            augmenter.apply(&p, rng: &rng)
            write(p, into: batch, index: i)
        }
        for i in 0..<Ng {
            var p = image(from: generated, index: i)
            augmenter.apply(&p, rng: &rng)
            write(p, into: batch, index: Nr + i)
        }
        var nextPartial = Ng
        for (j, kind) in kinds.enumerated() {
            var fake: FakePatch
            switch kind {
            case .partial:
                fake = FakeSynthesis.partial(
                    real: realPatch(data.real.training, &rng), generated: image(from: generated, index: nextPartial), rng: &rng)
                nextPartial += 1
            case .media:
                fake = FakePatch(image: realPatch(data.fake!.training, &rng), mask: nil, kind: .media)
            case .vaeBlended, .vaeSample:
                fake = vaeFake(kind, real: realPatch(data.real.training, &rng), rng: &rng)
            case .selfBlended, .generated:
                fake = FakeSynthesis.selfBlended(real: realPatch(data.real.training, &rng), rng: &rng)
            }
            augmenter.apply(&fake.image, rng: &rng)
            write(fake.image, into: batch, index: Nr + Ng + j)
            FakeSynthesis.cellTargets(mask: fake.mask, size: P, into: cellTargets.pointer + (Nr + j) * m * m)
            globalTargets.pointer[Nr + j] = 1
        }

        // D step.
        discriminator.train()
        discriminator.needsInputGradient = false
        optimizerD.zeroGradients()
        let (patch, global) = discriminator.forward(batch)  // (N, 1, m, m), (N, 1)
        dPatch.resize(to: patch.shape); dPatch.zero()
        dGlobal.resize(to: global.shape); dGlobal.zero()
        let wa = 0.5 * c.adversarialWeight
        let adv =
            adversarialLoss(patch, dPatch, real: 0..<Nr, generated: Nr..<(Nr + Ng), weight: wa)
            + adversarialLoss(global, dGlobal, real: 0..<Nr, generated: Nr..<(Nr + Ng), weight: wa)
        var sup: Float = 0
        if No > 0 {
            // supervised rows: real 0..<Nr and other fakes Nr+Ng..<N, gathered into contiguous tensors
            let w = 0.5 * c.supervisedWeight
            let sp = Tensor(shape: [Nr + No, 1, m, m]), sg = Tensor(shape: [Nr + No, 1])
            let dsp = Tensor(shape: [0]), dsg = Tensor(shape: [0])
            sp.pointer.update(from: patch.pointer, count: Nr * m * m)
            (sp.pointer + Nr * m * m).update(from: patch.pointer + (Nr + Ng) * m * m, count: No * m * m)
            sg.pointer.update(from: global.pointer, count: Nr)
            (sg.pointer + Nr).update(from: global.pointer + Nr + Ng, count: No)
            sup =
                Losses.bceWithLogits(logits: sp, targets: cellTargets, dLogits: dsp)
                + Losses.bceWithLogits(logits: sg, targets: globalTargets, dLogits: dsg)
            for i in 0..<(Nr * m * m) { dPatch.pointer[i] += w * dsp.pointer[i] }
            for i in 0..<(No * m * m) { dPatch.pointer[(Nr + Ng) * m * m + i] += w * dsp.pointer[Nr * m * m + i] }
            for i in 0..<Nr { dGlobal.pointer[i] += w * dsg.pointer[i] }
            for i in 0..<No { dGlobal.pointer[Nr + Ng + i] += w * dsg.pointer[Nr + i] }
        }
        let lossD = c.adversarialWeight * adv + c.supervisedWeight * sup
        _ = discriminator.backward(dPatch: dPatch, dGlobal: dGlobal)
        if !isHealthy(lossD, discriminator) { return rollBack(loss: lossD, start: start) }
        optimizerD.step()
        step += 1

        // G step.
        var lossG: Float?, lossVAE: Float?
        if step % c.dStepsPerGStep == 0 {
            optimizerG.zeroGradients()
            generator.sampleLatents(z, count: Ng, rng: &rng)
            let x = generator.forward(z)  // (Ng, 3, P, P)
            discriminator.needsInputGradient = true
            let (fp, fg) = discriminator.forward(x)  // (Ng, 1, m, m), (Ng, 1)
            let dfp = Tensor(shape: [0]), dfg = Tensor(shape: [0])
            let l = generatorLoss(fp, dfp, weight: 0.5) * 0.5 + generatorLoss(fg, dfg, weight: 0.5) * 0.5
            let dx = discriminator.backward(dPatch: dfp, dGlobal: dfg)  // (Ng, 3, P, P)
            _ = generator.backward(dx)
            discriminator.zeroGradients()
            discriminator.needsInputGradient = false
            if !isHealthy(l, generator) { return rollBack(loss: l, start: start) }
            optimizerG.step()
            lossG = l
            if vae != nil { lossVAE = vaeStep(count: Ng) }
        }
        if step % c.snapshotEvery == 0 { takeSnapshot() }
        let stats = StepStatistics(
            step: step, discriminatorLoss: lossD, adversarialLoss: adv, supervisedLoss: sup,
            generatorLoss: lossG, vaeLoss: lossVAE, learningRateD: optimizerD.learningRate,
            learningRateG: optimizerG.learningRate, seconds: Date().timeIntervalSince(start))
        observer?(.step(stats))
        if c.validateEvery > 0 && step % c.validateEvery == 0 { _ = validate() }
        return stats
    }

    /// Changes the schedule of a run in progress (for a second phase after `init(resumingFrom:)`, e.g.
    /// a lower discriminator learning rate with rare generator steps); the change is saved in later
    /// checkpoints.
    public func adjustSchedule(learningRateD: Float? = nil, learningRateG: Float? = nil, dStepsPerGStep: Int? = nil) {
        if let lr = learningRateD, lr > 0 { optimizerD.learningRate = lr; config.learningRateD = lr }
        if let lr = learningRateG, lr > 0 { optimizerG.learningRate = lr; config.learningRateG = lr }
        if let n = dStepsPerGStep, n >= 1 { config.dStepsPerGStep = n }
    }

    /// Runs `steps` D steps.
    public func train(steps: Int) { for _ in 0..<max(0, steps) { trainStep() } }

    // MARK: VAE

    /// A VAE fake: a reconstruction of `real` blended back through an elliptical mask, or a prior sample.
    private func vaeFake(_ kind: FakeKind, real: RGBImage, rng r: inout RandomGenerator) -> FakePatch {
        guard let v = vae else { return FakeSynthesis.selfBlended(real: real, rng: &r) }
        let x = Tensor(shape: [1, 3, P, P])
        write(real, into: x, index: 0)
        if kind == .vaeSample {
            let zs = Tensor(shape: [1, v.architecture.latentSize])
            for i in 0..<zs.count { zs.pointer[i] = r.normal() }
            return FakePatch(image: image(from: v.decode(zs), index: 0), mask: nil, kind: .vaeSample)
        }
        let recon = image(from: v.forward(x, rng: &r), index: 0)
        let mask = FakeSynthesis.ellipseMask(size: P, rng: &r)
        return FakePatch(image: FakeSynthesis.blend(base: real, overlay: recon, mask: mask), mask: mask, kind: .vaeBlended)
    }

    /// One VAE update on `count` real patches: L1(recon, x) + β·KL + λ·mean(D fakeness of recon).
    private func vaeStep(count: Int) -> Float? {
        guard let v = vae, let opt = optimizerVAE else { return nil }
        let a = v.architecture
        let x = Tensor(shape: [count, 3, P, P])  // (N, 3, P, P)
        for i in 0..<count { write(realPatch(data.real.training, &rng), into: x, index: i) }
        opt.zeroGradients()
        let recon = v.forward(x, rng: &rng)  // (N, 3, P, P)
        let dRecon = Tensor(shape: [0])
        let l1 = Losses.l1(prediction: recon, target: x, dPrediction: dRecon)
        discriminator.needsInputGradient = true
        let (fp, fg) = discriminator.forward(recon)  // (N, 1, m, m), (N, 1)
        let dfp = Tensor(shape: [0]), dfg = Tensor(shape: [0])
        let adv = 0.5 * (generatorLoss(fp, dfp, weight: 0.5) + generatorLoss(fg, dfg, weight: 0.5))
        let dx = discriminator.backward(dPatch: dfp, dGlobal: dfg)  // (N, 3, P, P)
        discriminator.zeroGradients()
        discriminator.needsInputGradient = false
        for i in 0..<dRecon.count { dRecon.pointer[i] += a.adversarialWeight * dx.pointer[i] }
        let kl = v.backward(dRecon, klWeight: a.klWeight)
        let loss = l1 + a.klWeight * kl + a.adversarialWeight * adv
        guard isHealthy(loss, v) else { opt.zeroGradients(); return .nan }
        opt.step()
        return loss
    }

    // MARK: Divergence guard

    private func isHealthy(_ loss: Float, _ module: Module) -> Bool {
        guard loss.isFinite, abs(loss) <= config.divergenceLimit else { return false }
        for p in module.namedParameters() {
            let g = p.gradient
            var s: Float = 0
            for i in 0..<g.count { s += g.pointer[i] * g.pointer[i] }
            if !s.isFinite { return false }
        }
        return true
    }

    private func takeSnapshot() {
        snapshot = (
            step, discriminator.stateDictionary(), generator.stateDictionary(),
            optimizerD.stateDictionary(), optimizerG.stateDictionary(),
            vae?.stateDictionary(), optimizerVAE?.stateDictionary()
        )
    }

    private func rollBack(loss: Float, start: Date) -> StepStatistics {
        guard let s = snapshot else { preconditionFailure("Trainer: no snapshot to roll back to") }
        try! discriminator.load(stateDictionary: s.d)
        try! generator.load(stateDictionary: s.g)
        try! optimizerD.load(stateDictionary: s.optD)
        try! optimizerG.load(stateDictionary: s.optG)
        if let v = vae, let sv = s.vae, let o = optimizerVAE, let so = s.optVAE {
            try! v.load(stateDictionary: sv); try! o.load(stateDictionary: so);
            o.learningRate *= config.rollbackLearningRateFactor
        }
        optimizerD.zeroGradients(); optimizerG.zeroGradients()
        discriminator.needsInputGradient = false
        let failedStep = step + 1
        step = s.step
        optimizerD.learningRate *= config.rollbackLearningRateFactor
        optimizerG.learningRate *= config.rollbackLearningRateFactor
        observer?(
            .rollback(
                step: failedStep, loss: loss, restoredStep: s.step,
                learningRateD: optimizerD.learningRate, learningRateG: optimizerG.learningRate))
        return StepStatistics(
            step: step, discriminatorLoss: loss, adversarialLoss: .nan, supervisedLoss: .nan,
            generatorLoss: nil, vaeLoss: nil, learningRateD: optimizerD.learningRate,
            learningRateG: optimizerG.learningRate, seconds: Date().timeIntervalSince(start))
    }

    // MARK: Validation

    /// Patch score used for validation, as the frame scorer pools a frame: (mean of the top 10 % of
    /// cell logits + global logit) / 2.
    static func pooledScore(cells: UnsafePointer<Float>, count: Int, global: Float) -> Double {
        let sorted = (0..<count).map { cells[$0] }.sorted(by: >)
        let k = max(1, Int((0.1 * Double(count)).rounded(.up)))
        let top = sorted.prefix(k).reduce(0.0) { $0 + Double($1) } / Double(k)
        return 0.5 * (top + Double(global))
    }

    private func buildValidationSet(training: Bool = false) -> (real: [RGBImage], fake: [FakePatch], latents: Tensor) {
        var r = RandomGenerator(seed: config.seed ^ (training ? 0x7EA1_4A1D : 0x5EED_0F0A_11D8))
        let realSources = training ? data.real.training : data.real.validation
        let fakeSources = training ? data.fake?.training : data.fake?.validation
        let n = config.validationPatches
        let real = (0..<n).map { _ in realPatch(realSources, &r) }
        var fake: [FakePatch] = []
        // the kinds trained on: generated always, the others when their mix weight is positive
        let mix = config.fakeMix
        var kinds: [FakeKind] = [.generated]
        if mix.partial > 0 && config.otherFakesPerBatch > 0 { kinds.append(.partial) }
        if mix.selfBlended > 0 && config.otherFakesPerBatch > 0 { kinds.append(.selfBlended) }
        if mix.media > 0 && config.otherFakesPerBatch > 0 && fakeSources?.isEmpty == false { kinds.append(.media) }
        if vae != nil && config.otherFakesPerBatch > 0 {
            if mix.vaeBlended > 0 { kinds.append(.vaeBlended) }
            if mix.vaeSample > 0 { kinds.append(.vaeSample) }
        }
        for i in 0..<n {
            let kind = kinds[i % kinds.count]
            switch kind {
            case .selfBlended: fake.append(FakeSynthesis.selfBlended(real: realPatch(realSources, &r), rng: &r))
            case .media: fake.append(FakePatch(image: realPatch(fakeSources!, &r), mask: nil, kind: .media))
            case .generated: fake.append(FakePatch(image: RGBImage(), mask: nil, kind: .generated))
            case .vaeBlended, .vaeSample:
                // the VAE output is drawn at validation time; keep the real base now
                fake.append(FakePatch(image: realPatch(realSources, &r), mask: nil, kind: kind))
            case .partial:
                // the generated overlay is drawn at validation time; keep the base and mask now
                let base = realPatch(realSources, &r)
                fake.append(FakePatch(image: base, mask: FakeSynthesis.ellipseMask(size: P, rng: &r), kind: .partial))
            }
        }
        let latents = Tensor(shape: [0])
        var lr = r
        generator.sampleLatents(latents, count: fake.filter { $0.kind == .generated || $0.kind == .partial }.count, rng: &lr)
        return (real, fake, latents)
    }

    /// Scores the held-out patches with D in eval mode: AUC (overall and per kind) and error rates at
    /// score 0; the same AUC on patches from the training files; generator diversity. Generated fakes
    /// come from G (eval mode) with fixed latents. Reports `.validation`.
    @discardableResult
    public func validate() -> ValidationStatistics {
        if validationSet == nil { validationSet = buildValidationSet() }
        if trainingProbeSet == nil { trainingProbeSet = buildValidationSet(training: true) }
        discriminator.eval(); generator.eval()
        defer { discriminator.train(); generator.train() }
        discriminator.needsInputGradient = false
        let (fakes, fakeScores, realScores) = scoreSet(validationSet!)
        let probe = scoreSet(trainingProbeSet!)
        lastScores = (fakeScores, realScores)
        var byKind: [FakeKind: Double] = [:]
        for kind in FakeKind.allCases {
            let s = zip(fakes, fakeScores).filter { $0.0.kind == kind }.map(\.1)
            if !s.isEmpty { byKind[kind] = Trainer.auc(positives: s, negatives: realScores) }
        }
        let generated = fakes.filter { $0.kind == .generated }.map(\.image)
        let diversity = Trainer.meanPairwiseDistance(generated) / max(1e-12, Trainer.meanPairwiseDistance(validationSet!.real))
        let stats = ValidationStatistics(
            step: step, auc: Trainer.auc(positives: fakeScores, negatives: realScores), aucByKind: byKind,
            falsePositiveRate: Double(realScores.filter { $0 >= 0 }.count) / Double(realScores.count),
            falseNegativeRate: Double(fakeScores.filter { $0 < 0 }.count) / Double(max(1, fakeScores.count)),
            realCount: realScores.count, fakeCount: fakeScores.count,
            trainingAUC: Trainer.auc(positives: probe.fakeScores, negatives: probe.realScores), diversity: diversity)
        lastValidation = stats
        observer?(.validation(stats))
        return stats
    }

    /// Materializes a validation-style set's fakes (generated, partial and VAE ones drawn now) and
    /// scores them and its real patches.
    private func scoreSet(_ set: (real: [RGBImage], fake: [FakePatch], latents: Tensor)) -> (
        fakes: [FakePatch], fakeScores: [Double], realScores: [Double]
    ) {
        let samples = set.latents.shape[0] > 0 ? generator.forward(set.latents) : Tensor(shape: [0, 3, P, P])
        var fakes: [FakePatch] = []
        var g = 0
        for f in set.fake {
            switch f.kind {
            case .generated: fakes.append(FakePatch(image: image(from: samples, index: g), mask: nil, kind: .generated)); g += 1
            case .partial:
                fakes.append(
                    FakePatch(
                        image: FakeSynthesis.blend(base: f.image, overlay: image(from: samples, index: g), mask: f.mask!),
                        mask: f.mask, kind: .partial));
                g += 1
            case .vaeBlended, .vaeSample:
                var vr = RandomGenerator(seed: config.seed ^ UInt64(fakes.count + 1))
                vae?.eval()
                fakes.append(vaeFake(f.kind, real: f.image, rng: &vr))
                vae?.train()
            default: fakes.append(f)
            }
        }
        return (fakes, scores(fakes.map(\.image)), scores(set.real))
    }

    /// Mean L2 distance over all pairs of images (0 for fewer than two).
    static func meanPairwiseDistance(_ images: [RGBImage]) -> Double {
        guard images.count >= 2 else { return 0 }
        var total = 0.0, pairs = 0
        for i in 0..<images.count {
            for j in (i + 1)..<images.count {
                var d = 0.0
                for (a, b) in zip(images[i].pixels, images[j].pixels) { d += Double((a - b) * (a - b)) }
                total += d.squareRoot(); pairs += 1
            }
        }
        return total / Double(pairs)
    }

    /// Pooled D scores of patches, in batches.
    func scores(_ patches: [RGBImage]) -> [Double] {
        var out: [Double] = []
        let t = Tensor(shape: [0]), chunk = 32
        var i = 0
        while i < patches.count {
            let n = min(chunk, patches.count - i)
            t.resize(to: [n, 3, P, P])
            for j in 0..<n { write(patches[i + j], into: t, index: j) }
            let (patch, global) = discriminator.forward(t)
            for j in 0..<n {
                out.append(Trainer.pooledScore(cells: patch.pointer + j * m * m, count: m * m, global: global.pointer[j]))
            }
            i += n
        }
        return out
    }

    /// ROC AUC by the Mann–Whitney U statistic (ties count ½).
    public static func auc(positives: [Double], negatives: [Double]) -> Double {
        guard !positives.isEmpty, !negatives.isEmpty else { return .nan }
        let all = (positives.map { ($0, true) } + negatives.map { ($0, false) }).sorted { $0.0 < $1.0 }
        var rankSum = 0.0, i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count && all[j + 1].0 == all[i].0 { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where all[k].1 { rankSum += rank }
            i = j + 1
        }
        let np = Double(positives.count), nn = Double(negatives.count)
        return (rankSum - np * (np + 1) / 2) / (np * nn)
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

    // MARK: Calibration

    /// Platt scaling (Platt 1999): fits p = σ(a·s + b) to labelled scores by Newton's method on the
    /// regularized log-likelihood, with Platt's smoothed targets (N₊+1)/(N₊+2) and 1/(N₋+2).
    public static func fitPlatt(positives: [Double], negatives: [Double], iterations: Int = 50) -> Calibration {
        guard !positives.isEmpty, !negatives.isEmpty else { return .identity }
        let tp = (Double(positives.count) + 1) / (Double(positives.count) + 2), tn = 1 / (Double(negatives.count) + 2)
        let data = positives.map { ($0, tp) } + negatives.map { ($0, tn) }
        var a = 1.0, b = 0.0
        for _ in 0..<iterations {
            var ga = 0.0, gb = 0.0, haa = 1e-9, hab = 0.0, hbb = 1e-9
            for (s, t) in data {
                let p = 1 / (1 + exp(-(a * s + b)))
                let w = max(p * (1 - p), 1e-12)
                ga += (p - t) * s; gb += p - t
                haa += w * s * s; hab += w * s; hbb += w
            }
            let det = haa * hbb - hab * hab
            guard det.isFinite, abs(det) > 1e-18 else { break }
            let da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det
            a -= da; b -= db
            if abs(da) + abs(db) < 1e-9 { break }
        }
        return a.isFinite && b.isFinite && a > 0 ? Calibration(a: a, b: b) : .identity
    }

    /// Validation scores (fake, real) with the current D, for calibration.
    public func validationScores() -> (fake: [Double], real: [Double]) {
        _ = validate()
        return lastScores
    }

    // MARK: Export

    /// A model with a copy of D, Platt calibration fitted on the validation patch scores (the frame
    /// score pools cells the same way), threshold 0.5, and a training summary.
    public func exportModel(notes: String = "") throws -> DetectorModel {
        let d = Discriminator(architecture: config.discriminator)
        try d.load(stateDictionary: discriminator.stateDictionary())
        let v = validate()
        let calibration = Trainer.fitPlatt(positives: lastScores.fake, negatives: lastScores.real)
        let summary = TrainingSummary(
            realFiles: data.real.training.count + data.real.validation.count,
            fakeFiles: (data.fake?.training.count ?? 0) + (data.fake?.validation.count ?? 0),
            steps: step, validationAUC: v.auc, validationFalsePositiveRate: v.falsePositiveRate,
            notes: notes)
        return DetectorModel(discriminator: d, calibration: calibration, threshold: 0.5, training: summary)
    }
}
