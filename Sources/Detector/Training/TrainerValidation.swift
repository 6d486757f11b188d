// Owns validation: fixed held-out patch sets (real, and fakes of every kind trained on) and the same
// kind of set from the training files, their pooled D scores, the metrics (ROC AUC overall and per
// fake kind, error rates at score 0, train/validation gap, generator diversity) and `.validation` events.
// Glossary: P patch side, m = P/8 logit cells per side.
import MediaIO
import NeuralNet

/// A fixed set of validation-style patches. Generated and partial fakes keep only what is fixed now
/// (a placeholder, or the real base and mask); their generator samples come from `latents` when scored.
struct ValidationPatchSet {
    let real: [RGBImage]
    let fake: [FakePatch]
    /// One latent per generated or partial fake, in order.
    let latents: Tensor  // (generated + partial fakes, Z)
}

/// Pooled patch scores of fake and real patches (positive = fake).
public struct PatchScores: Sendable {
    public var fake: [Double]
    public var real: [Double]
}

/// A validation set's fakes as scored (generator, partial and VAE fakes drawn) with the scores.
struct ScoredPatchSet {
    let fakes: [FakePatch]
    let scores: PatchScores
}

extension Trainer {
    /// Patch score used for validation, as the frame scorer pools a frame: (mean of the top 10 % of
    /// cell logits + global logit) / 2.
    static func pooledScore(cells: UnsafePointer<Float>, count: Int, global: Float) -> Double {
        let sorted = (0..<count).map { cells[$0] }.sorted(by: >)
        let k = max(1, Int((0.1 * Double(count)).rounded(.up)))
        let top = sorted.prefix(k).reduce(0.0) { $0 + Double($1) } / Double(k)
        return 0.5 * (top + Double(global))
    }

    /// `validationPatches` real patches and as many fakes, cycling through the kinds trained on, from
    /// the validation files (or, with `training`, the training files); seeded from the run's seed.
    func buildValidationSet(training: Bool = false) -> ValidationPatchSet {
        var rng = RandomGenerator(seed: config.seed ^ (training ? 0x7EA1_4A1D : 0x5EED_0F0A_11D8))
        let realSources = training ? data.real.training : data.real.validation
        let fakeSources = training ? data.fake?.training : data.fake?.validation
        let count = config.validationPatches
        let real = (0..<count).map { _ in realPatch(realSources, rng: &rng) }
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
        if zoo != nil && mix.zoo > 0 && config.otherFakesPerBatch > 0 { kinds.append(.zoo) }
        for i in 0..<count {
            let kind = kinds[i % kinds.count]
            switch kind {
            case .selfBlended: fake.append(FakeSynthesis.selfBlended(real: realPatch(realSources, rng: &rng), rng: &rng))
            case .zoo:
                fake.append(
                    zooFake(sources: realSources, rng: &rng)
                        ?? FakeSynthesis.selfBlended(real: realPatch(realSources, rng: &rng), rng: &rng))
            // .media is among the kinds only when fakeSources is not empty
            case .media: fake.append(mediaFake(fakeSources!, rng: &rng))
            case .generated: fake.append(FakePatch(image: RGBImage(), mask: nil, kind: .generated))
            case .vaeBlended, .vaeSample:
                // the VAE output is drawn at validation time; keep the real base now
                fake.append(FakePatch(image: realPatch(realSources, rng: &rng), mask: nil, kind: kind))
            case .partial:
                // the generated overlay is drawn at validation time; keep the base and mask now
                let base = realPatch(realSources, rng: &rng)
                fake.append(FakePatch(image: base, mask: FakeSynthesis.ellipseMask(size: P, rng: &rng), kind: .partial))
            }
        }
        let latents = Tensor(shape: [0])
        var latentRNG = rng
        generator.sampleLatents(
            latents, count: fake.filter { $0.kind == .generated || $0.kind == .partial }.count, rng: &latentRNG)
        return ValidationPatchSet(real: real, fake: fake, latents: latents)
    }

    /// Scores the held-out patches with D in eval mode: AUC (overall and per kind) and error rates at
    /// score 0; the same AUC on patches from the training files; generator diversity. Generated fakes
    /// come from G (eval mode) with fixed latents. Reports `.validation`.
    @discardableResult
    public func validate() -> ValidationStatistics {
        let validationSet = self.validationSet ?? buildValidationSet()
        let trainingProbeSet = self.trainingProbeSet ?? buildValidationSet(training: true)
        self.validationSet = validationSet
        self.trainingProbeSet = trainingProbeSet
        discriminator.eval(); generator.eval()
        defer { discriminator.train(); generator.train() }
        discriminator.needsInputGradient = false
        let validation = scoreSet(validationSet)
        let trainingProbe = scoreSet(trainingProbeSet)
        let heldOut = validation.scores
        lastScores = heldOut
        var aucByKind: [FakeKind: Double] = [:]
        for kind in FakeKind.allCases {
            let kindScores = zip(validation.fakes, heldOut.fake).filter { $0.0.kind == kind }.map(\.1)
            if !kindScores.isEmpty { aucByKind[kind] = Trainer.auc(positives: kindScores, negatives: heldOut.real) }
        }
        let generated = validation.fakes.filter { $0.kind == .generated }.map(\.image)
        let diversity =
            Trainer.meanPairwiseDistance(generated) / max(1e-12, Trainer.meanPairwiseDistance(validationSet.real))
        let stats = ValidationStatistics(
            step: step, auc: Trainer.auc(positives: heldOut.fake, negatives: heldOut.real), aucByKind: aucByKind,
            falsePositiveRate: Double(heldOut.real.filter { $0 >= 0 }.count) / Double(heldOut.real.count),
            falseNegativeRate: Double(heldOut.fake.filter { $0 < 0 }.count) / Double(max(1, heldOut.fake.count)),
            realCount: heldOut.real.count, fakeCount: heldOut.fake.count,
            trainingAUC: Trainer.auc(positives: trainingProbe.scores.fake, negatives: trainingProbe.scores.real),
            diversity: diversity)
        lastValidation = stats
        observer?(.validation(stats))
        return stats
    }

    /// Materializes a validation-style set's fakes (generated, partial and VAE ones drawn now) and
    /// scores them and its real patches.
    func scoreSet(_ set: ValidationPatchSet) -> ScoredPatchSet {
        let samples = set.latents.shape[0] > 0 ? generator.forward(set.latents) : Tensor(shape: [0, 3, P, P])
        var fakes: [FakePatch] = []
        var nextSample = 0
        for held in set.fake {
            switch held.kind {
            case .generated:
                fakes.append(FakePatch(image: image(from: samples, index: nextSample), mask: nil, kind: .generated))
                nextSample += 1
            case .partial:
                // buildValidationSet gives every partial fake its mask
                fakes.append(
                    FakePatch(
                        image: FakeSynthesis.blend(
                            base: held.image, overlay: image(from: samples, index: nextSample), mask: held.mask!),
                        mask: held.mask, kind: .partial))
                nextSample += 1
            case .vaeBlended, .vaeSample:
                var vaeRNG = RandomGenerator(seed: config.seed ^ UInt64(fakes.count + 1))
                vae?.eval()
                fakes.append(vaeFake(held.kind, real: held.image, rng: &vaeRNG))
                vae?.train()
            default: fakes.append(held)
            }
        }
        return ScoredPatchSet(fakes: fakes, scores: PatchScores(fake: scores(fakes.map(\.image)), real: scores(set.real)))
    }

    /// Mean L2 distance over all pairs of images (0 for fewer than two).
    static func meanPairwiseDistance(_ images: [RGBImage]) -> Double {
        guard images.count >= 2 else { return 0 }
        var total = 0.0, pairs = 0
        for i in 0..<images.count {
            for j in (i + 1)..<images.count {
                var squaredDistance = 0.0
                for (a, b) in zip(images[i].pixels, images[j].pixels) { squaredDistance += Double((a - b) * (a - b)) }
                total += squaredDistance.squareRoot(); pairs += 1
            }
        }
        return total / Double(pairs)
    }

    /// Pooled D scores of patches, in batches of 32.
    func scores(_ patches: [RGBImage]) -> [Double] {
        var out: [Double] = []
        let input = Tensor(shape: [0]), batchSize = 32
        var first = 0
        while first < patches.count {
            let count = min(batchSize, patches.count - first)
            input.resize(to: [count, 3, P, P])
            for j in 0..<count { write(patches[first + j], into: input, index: j) }
            let (patchLogits, globalLogits) = discriminator.forward(input)  // (count, 1, m, m), (count, 1)
            for j in 0..<count {
                out.append(
                    Trainer.pooledScore(cells: patchLogits.pointer + j * m * m, count: m * m, global: globalLogits.pointer[j]))
            }
            first += count
        }
        return out
    }

    /// ROC AUC by the Mann–Whitney U statistic (ties count ½).
    public static func auc(positives: [Double], negatives: [Double]) -> Double {
        guard !positives.isEmpty, !negatives.isEmpty else { return .nan }
        let ranked = (positives.map { (score: $0, isPositive: true) } + negatives.map { (score: $0, isPositive: false) })
            .sorted { $0.score < $1.score }
        var rankSum = 0.0, i = 0
        while i < ranked.count {
            var j = i
            while j + 1 < ranked.count && ranked[j + 1].score == ranked[i].score { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where ranked[k].isPositive { rankSum += rank }
            i = j + 1
        }
        let positiveCount = Double(positives.count), negativeCount = Double(negatives.count)
        return (rankSum - positiveCount * (positiveCount + 1) / 2) / (positiveCount * negativeCount)
    }
}
