// The training-recipe options of `train`: network widths, patch side, the batch's make-up and the
// weights of the adversarial, supervised and pooled-area terms. Defaults keep `TrainingConfig`'s
// recipe; each value is bounded here because a checkpoint records it and every later run allocates
// from it.
import ArgumentParser
import Detector

/// How a training run's batches and loss are made up (a new run; --resume keeps the checkpoint's).
struct TrainingRecipeOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Channel widths of the detector's three resolution levels, e.g. 16,32,64 (the last divisible by 8).",
            valueName: "w0,w1,w2"),
        transform: TrainingRecipeOptions.widthList)
    var widths: [Int]?

    @Option(help: "Side of the square training patches: 64 or 128 (the generator's samples follow).")
    var patchSize: Int?

    @Option(help: "Generator samples in each discriminator batch (default 8).")
    var generatedPerBatch: Int?

    @Option(help: "Supervised fakes (zoo regions, partial and self-blended fakes) in each discriminator batch.")
    var fakesPerBatch: Int?

    @Option(help: "Real patches in each discriminator batch (default 16).")
    var realPerBatch: Int?

    @Option(help: "Weight of the supervised term (real vs supervised fakes) in the detector's loss (default 1).")
    var supervisedWeight: Float?

    @Option(help: "Weight of the adversarial term (real vs generator samples) in the detector's loss (default 1).")
    var adversarialWeight: Float?

    @Option(
        help: ArgumentHelp(
            "Relative weights of the supervised fake kinds, e.g. partial=0,self-blended=0 for zoo regions only. Kinds: "
                + "zoo, partial (generator samples blended in), self-blended, media (--fake crops), vae-blended, "
                + "vae-sample; each 0…100. Kinds not named keep theirs: zoo 3, partial 1, self-blended 0.5, media 1, "
                + "vae-blended 1, vae-sample 0.5.", valueName: "kind=weight,…"),
        transform: TrainingRecipeOptions.fakeMixWeights)
    var fakeMix: [FakeMixKind: Double]?

    @Option(
        help: ArgumentHelp(
            "Sides of the zoo's regions inside a training patch in pixels, e.g. 12-64 (capped at the patch side − 2).",
            valueName: "min-max"),
        transform: { try RangeArgument.parse($0, example: "12-64") })
    var zooRegionSides: ClosedRange<Int>?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Keep this many zoo fakes ready, each with its real partner (the same window without the region) as a "
                + "real row of the batch, instead of making every zoo fake fresh (0 = off; 112 KiB per pair at 64 px).",
            valueName: "pairs"))
    var zooPool: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Zoo pool entries redrawn per step (default 4).", valueName: "pairs"))
    var zooPoolRefresh: Int?

    @Option(
        help: ArgumentHelp(
            "Make the pool's fakes in crops of this side (default twice the patch side, at most 8×), so that "
                + "--zoo-region-sides may exceed the patch, which then sees part of a region. Needs --zoo-pool.",
            valueName: "pixels"))
    var zooContextSide: Int?

    @Option(
        help: ArgumentHelp(
            "Real rows of each batch that are mined hard negatives: the real crops the detector scores highest "
                + "(0 = off; at most half of --real-per-batch).", valueName: "N"))
    var hardNegatives: Int?

    @Option(help: ArgumentHelp("Random real crops scored at each mining (default 4096).", valueName: "N"))
    var hardNegativeCandidates: Int?

    @Option(help: ArgumentHelp("Highest-scoring crops kept at each mining (default 256).", valueName: "N"))
    var hardNegativeSelect: Int?

    @Option(help: ArgumentHelp("Mine again every this many steps (default 250).", valueName: "steps"))
    var hardNegativeEvery: Int?

    @Option(help: "Adam β₁ of the detector and generator (default 0, the GAN recipe; 0.9 is the supervised one).")
    var beta1: Float?

    @Option(
        help: ArgumentHelp(
            "Augmentation of real and fake patches alike: full (flips, resizing, noise, blur, JPEG, H.264) or codecs "
                + "(flips, JPEG, H.264: no whole-patch resampling, blurring or noise, which are what resampled and "
                + "denoised regions look like inside).", valueName: "set"))
    var augmentation: AugmentationSet?

    @OptionGroup var pooled: PooledLossOptions

    /// Largest batch part: 256 patches of 128² at 3 channels are 50 MB of input before activations.
    static let batchLimit = 256

    func validate() throws {
        if let widths {
            guard widths.count == 3, widths.allSatisfy({ (1...256).contains($0) }), widths[2] % 8 == 0 else {
                throw ValidationError("--widths needs three values in 1…256, the last divisible by 8 (got \(widths)).")
            }
        }
        if let patchSize, ![64, 128].contains(patchSize) {
            throw ValidationError("--patch-size must be 64 or 128 (got \(patchSize)).")
        }
        for (name, count, minimum) in [
            ("--generated-per-batch", generatedPerBatch, 1), ("--fakes-per-batch", fakesPerBatch, 0),
            ("--real-per-batch", realPerBatch, 1),
        ] {
            if let count, !(minimum...TrainingRecipeOptions.batchLimit).contains(count) {
                throw ValidationError("\(name) must be in \(minimum)…\(TrainingRecipeOptions.batchLimit) (got \(count)).")
            }
        }
        for (name, weight) in [("--supervised-weight", supervisedWeight), ("--adversarial-weight", adversarialWeight)] {
            if let weight, !(weight >= 0 && weight <= 100) {
                throw ValidationError("\(name) must be a number in 0…100 (got \(weight)).")
            }
        }
        if let zooPool, !(0...ZooTrainingConfig.maximumPool).contains(zooPool) {
            throw ValidationError("--zoo-pool must be in 0…\(ZooTrainingConfig.maximumPool) (got \(zooPool)).")
        }
        if let zooContextSide {
            let P = patchSize ?? TrainingConfig().discriminator.patchSize
            guard (zooPool ?? 0) > 0 else { throw ValidationError("--zoo-context-side needs --zoo-pool N (N ≥ 1).") }
            guard (2 * P...8 * P).contains(zooContextSide) else {
                throw ValidationError(
                    "--zoo-context-side must be in \(2 * P)…\(8 * P), 2 to 8 patch sides (got \(zooContextSide)).")
            }
        }
        if let zooPoolRefresh, !(0...max(1, zooPool ?? 0)).contains(zooPoolRefresh) {
            throw ValidationError("--zoo-pool-refresh must be in 0…--zoo-pool (got \(zooPoolRefresh)).")
        }
        if let beta1, !(beta1 >= 0 && beta1 < 1) { throw ValidationError("--beta1 must be in [0, 1) (got \(beta1)).") }
        let realRows = realPerBatch ?? TrainingConfig().realPerBatch
        if let hardNegatives, !(0...max(1, realRows / 2)).contains(hardNegatives) {
            throw ValidationError(
                "--hard-negatives must be in 0…\(max(1, realRows / 2)), half of the real rows (got \(hardNegatives)).")
        }
        if let hardNegativeCandidates, !(1...HardNegativeConfig.maximumCandidates).contains(hardNegativeCandidates) {
            throw ValidationError(
                "--hard-negative-candidates must be in 1…\(HardNegativeConfig.maximumCandidates) (got \(hardNegativeCandidates))."
            )
        }
        let candidates = hardNegativeCandidates ?? HardNegativeConfig(perBatch: 1).candidates
        if let hardNegativeSelect, !(1...min(candidates, HardNegativeConfig.maximumSelect)).contains(hardNegativeSelect) {
            throw ValidationError(
                "--hard-negative-select must be in 1…\(min(candidates, HardNegativeConfig.maximumSelect)) (got \(hardNegativeSelect))."
            )
        }
        if let hardNegativeEvery, !(1...1_000_000).contains(hardNegativeEvery) {
            throw ValidationError("--hard-negative-every must be in 1…1000000 (got \(hardNegativeEvery)).")
        }
        if hardNegatives ?? 0 == 0, hardNegativeCandidates != nil || hardNegativeSelect != nil || hardNegativeEvery != nil {
            throw ValidationError("--hard-negative-candidates, -select and -every need --hard-negatives N (N ≥ 1).")
        }
        if let zooRegionSides, zooRegionSides.lowerBound < 8 || zooRegionSides.upperBound > 512 {
            throw ValidationError("--zoo-region-sides must lie in 8…512 (got \(zooRegionSides)).")
        }
        _ = try pooled.loss(patchSize: patchSize ?? TrainingConfig().discriminator.patchSize)
    }

    /// `config` with these options applied.
    func applied(to config: TrainingConfig) -> TrainingConfig {
        var c = config
        if let widths { c.discriminator.widths = widths }
        if let patchSize {
            c.discriminator.patchSize = patchSize
            c.generator.patchSize = patchSize
            c.vae?.patchSize = patchSize
        }
        if let generatedPerBatch { c.generatedPerBatch = generatedPerBatch }
        if let fakesPerBatch { c.otherFakesPerBatch = fakesPerBatch }
        if let realPerBatch { c.realPerBatch = realPerBatch }
        if let supervisedWeight { c.supervisedWeight = supervisedWeight }
        if let adversarialWeight { c.adversarialWeight = adversarialWeight }
        if let zooRegionSides { c.zoo?.regionSide = zooRegionSides }
        for (kind, weight) in fakeMix ?? [:] { kind.set(weight, in: &c.fakeMix) }
        if let zooPool { c.zoo?.pool = zooPool }
        if let zooPoolRefresh { c.zoo?.poolRefresh = zooPoolRefresh }
        if let zooContextSide { c.zoo?.contextSide = zooContextSide }
        if let beta1 { c.beta1 = beta1 }
        if let hardNegatives {
            var mining = HardNegativeConfig(perBatch: hardNegatives)
            if let hardNegativeCandidates { mining.candidates = hardNegativeCandidates }
            if let hardNegativeSelect { mining.select = hardNegativeSelect }
            if let hardNegativeEvery { mining.every = hardNegativeEvery }
            c.hardNegatives = hardNegatives > 0 ? mining : nil
        }
        if pooled.poolLossWeight != nil {  // checked by validate()
            c.pooledLoss = try? pooled.loss(patchSize: c.discriminator.patchSize)
        }
        if augmentation == .codecs {
            c.augmentation.resize = 0
            c.augmentation.noise = 0
            c.augmentation.blur = 0
        }
        return c
    }

    /// Parses "16,32,64".
    static func widthList(_ text: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw ValidationError("expected comma-separated whole numbers, e.g. 16,32,64 (got '\(text)').")
        }
        return values.compactMap { $0 }
    }

    /// Parses "zoo=3,partial=0": known kinds, each named once, weights in 0…100.
    static func fakeMixWeights(_ text: String) throws -> [FakeMixKind: Double] {
        var weights: [FakeMixKind: Double] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let kind = FakeMixKind(rawValue: parts[0]) else {
                let kinds = FakeMixKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("expected KIND=WEIGHT with KIND one of \(kinds) (got '\(item)').")
            }
            guard let weight = Double(parts[1]), weight >= 0, weight <= 100 else {
                throw ValidationError("the weight of \(kind.rawValue) must be a number in 0…100 (got '\(parts[1])').")
            }
            guard weights[kind] == nil else { throw ValidationError("\(kind.rawValue) is named twice in '\(text)'.") }
            weights[kind] = weight
        }
        return weights
    }
}

/// The supervised fake kinds `train --fake-mix` weighs, named as on the command line.
enum FakeMixKind: String, CaseIterable {
    case zoo, partial, selfBlended = "self-blended", media, vaeBlended = "vae-blended", vaeSample = "vae-sample"

    /// Sets this kind's weight in `mix`.
    func set(_ weight: Double, in mix: inout FakeMix) {
        switch self {
        case .zoo: mix.zoo = weight
        case .partial: mix.partial = weight
        case .selfBlended: mix.selfBlended = weight
        case .media: mix.media = weight
        case .vaeBlended: mix.vaeBlended = weight
        case .vaeSample: mix.vaeSample = weight
        }
    }
}

/// The augmentation sets `train --augmentation` offers.
enum AugmentationSet: String, ExpressibleByArgument, CaseIterable {
    case full, codecs
}
