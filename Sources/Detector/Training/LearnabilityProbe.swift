// Owns the learnability probe: fixed pairs of patches (a real crop and the same crop with a zoo
// family's region in it, both through one re-encoding), a detector trained on them with the
// supervised loss alone, and per-family AUCs on training and held-out files. It tells whether an
// architecture can learn a family's trace at all, apart from the adversarial game and the recipe,
// and, with families held out of training, whether what it learns transfers to them. A frame's
// score is its most suspicious window, so the probe also measures each family against the tail of
// random real windows (what a scan compares a fake region with) and can mine the hardest real
// windows into training.
// Glossary: P patch side, m = P/8 logit cells per side, B pairs per batch (2B patches).
import Foundation
import MediaIO
import NeuralNet

/// What the probe draws and how it trains.
public struct LearnabilityConfig: Sendable {
    public var architecture = DetectorArchitecture.standard
    /// Zoo families or groups to draw from (every family of the zoo when empty).
    public var families: [String] = []
    /// Families or groups never trained on: drawn only on held-out files, to measure transfer.
    public var heldOutFamilies: [String] = []
    /// A folder of trained generators (Models/zoo) whose families join the built-in ones.
    public var trainedGenerators: String?
    /// Pairs drawn from the training files and from the validation files.
    public var trainingPairs = 1024
    public var validationPairs = 256
    public var batchPairs = 16
    public var learningRate: Float = 2e-4
    /// Cosine decay of the learning rate over this many steps, from `learningRate` to 1 % of it, then
    /// held there; 0 keeps it constant. Adam at a constant rate ends each run still moving over the
    /// pairs' noise; decaying it lets the last steps settle.
    public var decaySteps = 0
    public var beta1: Float = 0.5
    /// Sides of the replaced region, clamped to P − 2 (to the context side − 2 with `contextSide`).
    public var regionSide: ClosedRange<Int> = 12...62
    /// Side of the crop each fake is made in (nil = 2P). Larger contexts allow regions larger than a
    /// patch, seen through a window over part of them, as a scan's windows see a large region.
    public var contextSide: Int?
    /// The re-encoding each pair shares.
    public var encoding = EncodingConfig()
    /// Probability that the pair is flipped left-right (both patches and the mask) at each draw.
    public var flip = 0.5
    public var minimumTextureEnergy: Float = 0.01
    /// Training pairs whose window changed by less than this (mean |fake − real| under the mask, after
    /// the re-encoding; `ZooPair.regionChange`) are redrawn: a fake nobody can see teaches the detector
    /// to call unchanged real pixels fake. Held-out pairs are never filtered. 0 = off.
    public var minimumRegionChange: Float = 0
    /// Hard real negatives: `hardNegativeCandidates` real windows from random positions of the
    /// training files (every kind of content a scan sees, not only textured crops; each through a
    /// re-encoding drawn like the pairs'), re-scored every `hardNegativeEvery` steps; the
    /// `hardNegativeSelect` highest-scoring ones are kept and `hardNegativesPerBatch` of them join
    /// every batch as extra real rows. Off when `hardNegativesPerBatch` is 0.
    public var hardNegativesPerBatch = 0
    public var hardNegativeCandidates = 4096
    public var hardNegativeSelect = 256
    public var hardNegativeEvery = 250
    /// A second loss on each patch's most suspicious area (`PooledAreaLoss`); nil = off.
    public var pooledLoss: PooledAreaLoss?
    /// Random real windows of the held-out files (drawn like the hard-negative candidates) whose
    /// 99th-percentile score is the evaluation's tail threshold; none when 0.
    public var tailWindows = 0
    public var seed: UInt64 = 1

    public init() {}

    func validate() throws {
        try architecture.validate()
        try pooledLoss?.validate(patchSize: architecture.patchSize)
        guard (1...100_000).contains(trainingPairs), (1...100_000).contains(validationPairs),
            (1...512).contains(batchPairs), learningRate > 0, learningRate.isFinite, (0..<1).contains(beta1),
            (0...10_000_000).contains(decaySteps),
            regionSide.lowerBound >= 4, (0...1).contains(flip), (0...512).contains(hardNegativesPerBatch),
            contextSide.map({ (2 * architecture.patchSize...8 * architecture.patchSize).contains($0) }) ?? true,
            (0...100_000).contains(tailWindows), (0...1).contains(minimumRegionChange),
            hardNegativesPerBatch == 0
                || ((1...100_000).contains(hardNegativeCandidates) && (1...hardNegativeCandidates).contains(hardNegativeSelect)
                    && hardNegativeEvery >= 1)
        else {
            throw DetectorError.invalidConfiguration(
                "learnability: pairs in 1…100000, 1…512 pairs per batch, a finite positive learning rate decayed over 0…10⁷ steps, β₁ in [0, 1), "
                    + "region sides ≥ 4, a context side of 2–8 patch sides, 0…512 hard negatives per batch chosen from 1…100000 candidates (no more than "
                    + "there are candidates), re-mined every ≥ 1 steps, 0…100000 tail windows, a minimum region change in 0…1")
        }
    }
}

/// How far a family's fakes are from their real partners, inside and outside the mask.
public struct FamilySignal: Codable, Sendable {
    public var family: String
    public var pairs: Int
    /// Mean absolute difference per value (0…1 scale) where the mask is ≥ 0.5, and where it is 0.
    public var meanDifferenceInside: Double
    public var meanDifferenceOutside: Double
    /// Mean fraction of the patch the mask covers (≥ 0.5).
    public var coverage: Double
}

/// One family's AUCs at one evaluation: patch score = its highest cell logit.
public struct FamilyLearnability: Codable, Sendable {
    public var family: String
    /// Whether the family was held out of training (its pairs come from held-out files only).
    public var heldOut: Bool
    /// Fake patches against their own real partners, on the training pairs (nil for a held-out family)
    /// and on held-out files.
    public var trainingAUC: Double?
    public var validationAUC: Double
    /// The same with the global head's logit as the patch score.
    public var validationGlobalAUC: Double
    /// Share of the family's held-out fakes scoring above the 99th percentile of random held-out real
    /// windows (nil without tail windows): how often its region would outscore an ordinary window of a
    /// real frame, the comparison a frame score makes.
    public var validationTailTPR: Double?
}

public struct LearnabilityEvaluation: Codable, Sendable {
    public var step: Int
    /// Mean supervised loss over the steps since the previous evaluation.
    public var loss: Double
    public var seconds: Double
    public var families: [FamilyLearnability]
    /// The 99th-percentile score (highest cell logit) of the random held-out real windows.
    public var tailThreshold: Double?

    public init(step: Int, loss: Double, seconds: Double, families: [FamilyLearnability], tailThreshold: Double? = nil) {
        self.step = step; self.loss = loss; self.seconds = seconds; self.families = families
        self.tailThreshold = tailThreshold
    }
}

/// Trains a detector on fixed pairs with the supervised loss only (see the file comment).
public final class LearnabilityProbe {
    public let config: LearnabilityConfig
    public let discriminator: Discriminator
    public let trainingPairs: [ZooPair]
    public let validationPairs: [ZooPair]
    public private(set) var step = 0
    /// Names of the families held out of training.
    public let heldOutNames: Set<String>
    /// Hard-negative candidates (training files) and tail windows (held-out files).
    public let hardNegativeCandidates: [RGBImage]
    public let tailWindows: [RGBImage]
    /// Indices into `hardNegativeCandidates` of the windows mined last (highest score first).
    public private(set) var hardNegatives: [Int] = []
    /// The step at which they were mined.
    public private(set) var hardNegativesMinedAtStep: Int?
    let optimizer: Adam
    var rng: RandomGenerator
    let P: Int, m: Int

    /// Draws the pairs from `data`'s training and validation files (a family that fails on a crop is
    /// drawn again with the next seed).
    public init(config: LearnabilityConfig, data: MediaSplit) throws {
        try config.validate()
        guard !data.training.isEmpty, !data.validation.isEmpty else {
            throw DetectorError.trainingData(path: "<real>", reason: "no real training or validation files")
        }
        let side = config.architecture.patchSize
        let all = try FakeZoo.standard(trainedGenerators: config.trainedGenerators)
        let selected = config.families.isEmpty ? all : try all.selecting(config.families)
        let heldOut = config.heldOutFamilies.isEmpty ? nil : try all.selecting(config.heldOutFamilies)
        let heldOutNames = Set(heldOut?.names ?? [])
        let trained = selected.families.filter { !heldOutNames.contains($0.name) }
        guard !trained.isEmpty else {
            throw DetectorError.invalidConfiguration(
                "learnability: holding out \(config.heldOutFamilies) leaves no family to train on")
        }
        let zoo = try FakeZoo(families: trained)
        self.heldOutNames = heldOutNames
        var options = ZooOptions()
        let largest = max(4, (config.contextSide ?? side) - 2)
        options.mask.side = min(config.regionSide.lowerBound, largest)...min(config.regionSide.upperBound, largest)
        var random = RandomGenerator(seed: config.seed)
        func draw(_ count: Int, _ sources: [MediaSource], _ zoo: FakeZoo, minimumChange: Float = 0) throws -> [ZooPair] {
            try (0..<count).map { _ in
                try ZooPair.draw(
                    from: sources, zoo: zoo, options: options, encoding: config.encoding, side: side,
                    context: config.contextSide, minimumTextureEnergy: config.minimumTextureEnergy,
                    minimumRegionChange: minimumChange, rng: &random)
            }
        }
        func windows(_ count: Int, _ sources: [MediaSource]) throws -> [RGBImage] {
            try (0..<count).map { _ in
                try LearnabilityProbe.randomWindow(from: sources, side: side, encoding: config.encoding, rng: &random)
            }
        }
        trainingPairs = try draw(config.trainingPairs, data.training, zoo, minimumChange: config.minimumRegionChange)
        validationPairs =
            try draw(config.validationPairs, data.validation, zoo)
            + (heldOut.map { try draw(config.validationPairs, data.validation, $0) } ?? [])
        hardNegativeCandidates =
            config.hardNegativesPerBatch > 0 ? try windows(config.hardNegativeCandidates, data.training) : []
        tailWindows = try windows(config.tailWindows, data.validation)
        self.config = config
        P = side
        m = side / DetectorArchitecture.stride
        rng = random
        discriminator = Discriminator(architecture: config.architecture, seed: config.seed &+ 1)
        optimizer = Adam(module: discriminator, learningRate: config.learningRate, betas: (config.beta1, 0.999))
    }

    /// Family names in the order they first appear in the training pairs.
    public var families: [String] {
        var seen = Set<String>()
        return (trainingPairs + validationPairs).map(\.family).filter { seen.insert($0).inserted }
    }

    /// Per family: how much the fake differs from its real partner inside and outside the mask (on
    /// the training pairs, or the held-out ones for a family held out of training).
    public func signal() -> [FamilySignal] {
        families.map { family in
            var inside = 0.0, insideCount = 0, outside = 0.0, outsideCount = 0, coverage = 0.0
            let chosen = (heldOutNames.contains(family) ? validationPairs : trainingPairs).filter { $0.family == family }
            for pair in chosen {
                var covered = 0
                for c in 0..<3 {
                    for i in 0..<(P * P) {
                        let d = Double(abs(pair.fake.pixels[c * P * P + i] - pair.real.pixels[c * P * P + i]))
                        if pair.mask[i] >= 0.5 {
                            inside += d; insideCount += 1
                            if c == 0 { covered += 1 }
                        } else if pair.mask[i] == 0 {
                            outside += d; outsideCount += 1
                        }
                    }
                }
                coverage += Double(covered) / Double(P * P)
            }
            return FamilySignal(
                family: family, pairs: chosen.count, meanDifferenceInside: inside / Double(max(1, insideCount)),
                meanDifferenceOutside: outside / Double(max(1, outsideCount)),
                coverage: coverage / Double(max(1, chosen.count)))
        }
    }

    /// One supervised step on B random training pairs (2B patches: the real ones all-zero targets, the
    /// fake ones the mask's mean over each cell) and H mined hard real windows (all-zero targets,
    /// re-mined every `hardNegativeEvery` steps); returns the loss (cell BCE + global BCE, plus the
    /// weighted pooled loss).
    @discardableResult
    public func trainStep() -> Float {
        let B = config.batchPairs, H = config.hardNegativesPerBatch, n = 3 * P * P
        if H > 0 && (hardNegatives.isEmpty || step % config.hardNegativeEvery == 0) { mineHardNegatives() }
        let batch = Tensor(shape: [2 * B + H, 3, P, P])
        let cellTargets = Tensor(shape: [2 * B + H, 1, m, m]), globalTargets = Tensor(shape: [2 * B + H, 1])
        for h in 0..<H {
            var window = hardNegativeCandidates[hardNegatives[Int(rng.next() % UInt64(hardNegatives.count))]]
            if Double(rng.uniform()) < config.flip { window = LearnabilityProbe.flipped(window) }
            window.pixels.withUnsafeBufferPointer {
                (batch.pointer + (2 * B + h) * n).update(from: $0.baseAddress!, count: n)
            }
        }
        for b in 0..<B {
            var pair = trainingPairs[Int(rng.next() % UInt64(trainingPairs.count))]
            if Double(rng.uniform()) < config.flip {
                pair.real = LearnabilityProbe.flipped(pair.real)
                pair.fake = LearnabilityProbe.flipped(pair.fake)
                pair.mask = LearnabilityProbe.flipped(pair.mask, side: P)
            }
            pair.real.pixels.withUnsafeBufferPointer { (batch.pointer + b * n).update(from: $0.baseAddress!, count: n) }
            pair.fake.pixels.withUnsafeBufferPointer {
                (batch.pointer + (B + b) * n).update(from: $0.baseAddress!, count: n)
            }
            FakeSynthesis.cellTargets(mask: pair.mask, size: P, into: cellTargets.pointer + (B + b) * m * m)
            globalTargets.pointer[B + b] = 1
        }
        discriminator.train()
        discriminator.needsInputGradient = false
        optimizer.zeroGradients()
        optimizer.learningRate = learningRate(atStep: step)
        let (patchLogits, globalLogits) = discriminator.forward(batch)
        let dPatch = Tensor(shape: [0]), dGlobal = Tensor(shape: [0])
        var loss =
            Losses.bceWithLogits(logits: patchLogits, targets: cellTargets, dLogits: dPatch)
            + Losses.bceWithLogits(logits: globalLogits, targets: globalTargets, dLogits: dGlobal)
        if let pooled = config.pooledLoss {
            loss += pooled.add(patchLogits: patchLogits, cellTargets: cellTargets, rowTargets: globalTargets, into: dPatch)
        }
        _ = discriminator.backward(dPatch: dPatch, dGlobal: dGlobal)
        optimizer.step()
        step += 1
        return loss
    }

    /// The learning rate of the step after `step` steps: `config.learningRate`, or with `decaySteps`
    /// its cosine decay to 1 % of it at step `decaySteps` and after.
    public func learningRate(atStep step: Int) -> Float {
        let T = config.decaySteps
        guard T > 0 else { return config.learningRate }
        let progress = Double(min(step, T)) / Double(T)
        return config.learningRate * Float(0.01 + 0.99 * 0.5 * (1 + cos(Double.pi * progress)))
    }

    /// Scores every hard-negative candidate and keeps the `hardNegativeSelect` highest.
    public func mineHardNegatives() {
        discriminator.eval()
        defer { discriminator.train() }
        let scores = highestCellLogits(hardNegativeCandidates)
        hardNegatives = Array(scores.indices.sorted { scores[$0] > scores[$1] }.prefix(config.hardNegativeSelect))
        hardNegativesMinedAtStep = step
    }

    /// The 99th-percentile score of the tail windows (nil without them).
    public func tailThreshold() -> Double? {
        guard !tailWindows.isEmpty else { return nil }
        discriminator.eval()
        defer { discriminator.train() }
        let sorted = highestCellLogits(tailWindows).sorted()
        return sorted[min(sorted.count - 1, Int((0.99 * Double(sorted.count)).rounded(.down)))]
    }

    /// Per family: AUC of fake patches against their real partners, on the training pairs and on the
    /// held-out files' pairs, and the share of held-out fakes above `tail` (see `tailThreshold`).
    public func evaluate(tail: Double? = nil) -> [FamilyLearnability] {
        discriminator.eval()
        defer { discriminator.train() }
        let training = scores(trainingPairs), validation = scores(validationPairs)
        return families.map { family in
            func auc(_ pairs: [ZooPair], _ s: [(cell: (Double, Double), global: (Double, Double))], global: Bool)
                -> Double
            {
                let indices = pairs.indices.filter { pairs[$0].family == family }
                let fake = indices.map { global ? s[$0].global.1 : s[$0].cell.1 }
                let real = indices.map { global ? s[$0].global.0 : s[$0].cell.0 }
                return Trainer.auc(positives: fake, negatives: real)
            }
            let held = heldOutNames.contains(family)
            let fakeScores = validationPairs.indices.filter { validationPairs[$0].family == family }.map { validation[$0].cell.1 }
            return FamilyLearnability(
                family: family, heldOut: held, trainingAUC: held ? nil : auc(trainingPairs, training, global: false),
                validationAUC: auc(validationPairs, validation, global: false),
                validationGlobalAUC: auc(validationPairs, validation, global: true),
                validationTailTPR: tail.map { t in Double(fakeScores.filter { $0 > t }.count) / Double(max(1, fakeScores.count)) }
            )
        }
    }

    /// (real, fake) scores of each pair: the highest cell logit, and the global logit.
    func scores(_ pairs: [ZooPair]) -> [(cell: (Double, Double), global: (Double, Double))] {
        let real = logits(pairs.map(\.real)), fake = logits(pairs.map(\.fake))
        return zip(real, fake).map { (cell: ($0.cell, $1.cell), global: ($0.global, $1.global)) }
    }

    /// Each image's highest cell logit (eval mode is the caller's).
    func highestCellLogits(_ images: [RGBImage]) -> [Double] {
        logits(images).map(\.cell)
    }

    /// Each image's highest cell logit and global logit, scored in batches of 64; in eval mode every
    /// image's scores are independent of the others in its batch.
    func logits(_ images: [RGBImage]) -> [(cell: Double, global: Double)] {
        let chunk = 64, n = 3 * P * P
        var out: [(cell: Double, global: Double)] = []
        out.reserveCapacity(images.count)
        for start in stride(from: 0, to: images.count, by: chunk) {
            let part = images[start..<min(images.count, start + chunk)]
            let batch = Tensor(shape: [part.count, 3, P, P])
            for (k, image) in part.enumerated() {
                image.pixels.withUnsafeBufferPointer { (batch.pointer + k * n).update(from: $0.baseAddress!, count: n) }
            }
            let (patch, global) = discriminator.forward(batch)
            for k in 0..<part.count {
                let cell = UnsafeBufferPointer(start: patch.pointer + k * m * m, count: m * m).max() ?? 0
                out.append((cell: Double(cell), global: Double(global.pointer[k])))
            }
        }
        return out
    }

    /// A P×P real window from a random position of a random frame of `sources`: a 2P context (its
    /// origin even, on the frame's 2×2 and chroma grid) through a re-encoding drawn from `encoding`,
    /// then a window at an even offset inside it — the pairs' path without the texture filter.
    static func randomWindow(
        from sources: [MediaSource], side P: Int, encoding: EncodingConfig, rng: inout RandomGenerator
    ) throws -> RGBImage {
        let C = 2 * P
        let source = sources[Int(rng.next() % UInt64(sources.count))]
        let frame = source.frames[Int(rng.next() % UInt64(source.frames.count))]
        let x0 = 2 * Int(rng.next() % UInt64(max(1, (frame.width - C) / 2 + 1)))
        let y0 = 2 * Int(rng.next() % UInt64(max(1, (frame.height - C) / 2 + 1)))
        var context = RGBImage(width: C, height: C)
        PatchOps.crop(frame, x0: x0, y0: y0, size: C, into: &context)
        let encoded = try SharedEncoding.choice(seed: rng.next(), config: encoding).apply(context)
        let wx = 2 * Int(rng.next() % UInt64(P / 2 + 1)), wy = 2 * Int(rng.next() % UInt64(P / 2 + 1))
        return ImageFilters.crop(encoded, x: wx, y: wy, width: P, height: P)
    }

    static func flipped(_ image: RGBImage) -> RGBImage {
        var out = image
        let w = image.width
        for row in 0..<(3 * image.height) {
            for x in 0..<w { out.pixels[row * w + x] = image.pixels[row * w + w - 1 - x] }
        }
        return out
    }

    static func flipped(_ mask: [Float], side: Int) -> [Float] {
        var out = mask
        for y in 0..<side { for x in 0..<side { out[y * side + x] = mask[y * side + side - 1 - x] } }
        return out
    }
}
