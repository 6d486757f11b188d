// Owns hard-negative mining in training: every few steps the detector scores fresh random crops of
// the real training files, keeps the highest-scoring ones, and those replace some of the plain real
// crops of each D batch. A frame is judged by its most fake-looking window, so what a scan needs is
// real windows in the tail scored low, and random crops rarely show the detector its own tail.
import MediaIO
import NeuralNet

/// Hard real negatives of a training run; nil in `TrainingConfig.hardNegatives` = off.
public struct HardNegativeConfig: Codable, Equatable, Sendable {
    /// Real rows of each D batch that are mined windows instead of plain crops (at most half).
    public var perBatch: Int
    /// Fresh random real crops scored at each mining.
    public var candidates: Int
    /// The highest-scoring candidates kept; each batch draws its mined rows from these.
    public var select: Int
    /// Mine again every this many D steps, and at the first step of a run or of a resumed run (the
    /// mined windows are not in checkpoints: a resumed run mines with its weights at that step, so it
    /// is not bit-identical to an uninterrupted one, as it is with hard negatives off).
    public var every: Int

    public init(perBatch: Int, candidates: Int = 4096, select: Int = 256, every: Int = 250) {
        self.perBatch = perBatch; self.candidates = candidates; self.select = select; self.every = every
    }

    /// Most candidates scored at one mining (a mining scores them in batches; only the kept ones stay
    /// in memory).
    public static let maximumCandidates = 65_536
    /// Most windows kept (each 3·P² floats: 4096 at 128 px are 768 MiB).
    public static let maximumSelect = 4096

    /// Throws unless every count is within the limits and `perBatch` is at most half of `realPerBatch`.
    func validate(realPerBatch: Int) throws {
        guard (1...max(1, realPerBatch / 2)).contains(perBatch), (1...Self.maximumCandidates).contains(candidates),
            (1...min(candidates, Self.maximumSelect)).contains(select), (1...1_000_000).contains(every)
        else {
            throw DetectorError.invalidConfiguration(
                "hard negatives: per batch must be 1…\(max(1, realPerBatch / 2)) (half the real rows), candidates "
                    + "1…\(Self.maximumCandidates), kept 1…min(candidates, \(Self.maximumSelect)), every 1…1000000 steps; "
                    + "got \(perBatch), \(candidates), \(select), \(every)")
        }
    }
}

extension Trainer {
    /// Scores `candidates` fresh crops of the real training files with D in eval mode (the pooled
    /// validation score) and keeps the `select` highest, highest first. The crops come from an RNG of
    /// their own seeded by the run's seed and the step, so mining leaves the batch RNG untouched.
    func mineHardNegatives(_ settings: HardNegativeConfig) {
        var mineRNG = hardNegativeCandidateRNG()
        discriminator.eval()
        defer { discriminator.train() }
        discriminator.needsInputGradient = false
        var kept: [(score: Double, window: RGBImage)] = []
        var remaining = settings.candidates
        while remaining > 0 {
            let count = min(256, remaining)
            remaining -= count
            let windows = (0..<count).map { _ in realPatch(data.real.training, rng: &mineRNG) }
            kept += zip(scores(windows), windows).map { (score: $0, window: $1) }
            kept.sort { $0.score > $1.score }
            kept.removeLast(max(0, kept.count - settings.select))
        }
        hardNegativeWindows = kept.map(\.window)
        hardNegativeScores = kept.map(\.score)
        hardNegativesMinedAtStep = step
    }

    /// The RNG the candidates of a mining at this step are cropped with.
    func hardNegativeCandidateRNG() -> RandomGenerator {
        RandomGenerator(seed: config.seed ^ 0x4A8D_0E6A ^ (UInt64(step) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// The mined windows for this step's batch (mining first when due), `perBatch` of them drawn with
    /// the batch RNG; [] when hard negatives are off.
    func hardNegativeRows() -> [RGBImage] {
        guard let settings = config.hardNegatives else { return [] }
        if hardNegativeWindows.isEmpty || (step % settings.every == 0 && hardNegativesMinedAtStep != step) {
            mineHardNegatives(settings)
        }
        guard !hardNegativeWindows.isEmpty else { return [] }
        return (0..<settings.perBatch).map { _ in
            hardNegativeWindows[Int(rng.next() % UInt64(hardNegativeWindows.count))]
        }
    }
}
