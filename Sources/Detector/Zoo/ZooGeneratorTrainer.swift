// Owns the short training runs of the zoo's autoencoders and VAE on real patches: seeded random crops
// (with horizontal flips) of real frames, L1 reconstruction loss (+ β·KL for the VAE; no adversarial
// term), Adam, stopping after a number of steps or an amount of time. Crude generators are the point:
// they are what new fakes look like.
// Glossary: N batch, P patch side, k the autoencoder's stages this step (bottleneck factor 2^k).
import Foundation
import NeuralNet

/// Length and shape of a zoo training run.
public struct ZooTrainingOptions: Sendable {
    /// Stop after this many steps (nil: no step limit).
    public var maximumSteps: Int?
    /// Stop after this much time (nil: no time limit); a run needs at least one of the two limits.
    public var maximumSeconds: Double?
    public var batchSize = 8
    /// Side of the autoencoder's training patches (a multiple of 2^maximumStages); the VAE uses its own.
    public var patchSize = 64
    public var learningRate: Float = 1e-3
    /// Seeds the weights, the patches and the bottleneck factor of each step.
    public var seed: UInt64 = 1

    public init(maximumSteps: Int? = nil, maximumSeconds: Double? = nil, seed: UInt64 = 1) {
        self.maximumSteps = maximumSteps; self.maximumSeconds = maximumSeconds; self.seed = seed
    }
}

/// Where a zoo training run is, for progress lines.
public struct ZooTrainingProgress: Sendable {
    public var step: Int
    public var seconds: Double
    /// Mean L1 loss over the last up to 50 steps.
    public var recentL1: Double
}

/// Trains the zoo's autoencoders and VAE on patches of real frames.
public struct ZooGeneratorTrainer {
    public let frames: [StoredFrame]
    public var options: ZooTrainingOptions

    /// A trainer over `frames`; throws unless a limit is set and some frame fits a patch.
    public init(frames: [StoredFrame], options: ZooTrainingOptions) throws {
        guard options.maximumSteps != nil || options.maximumSeconds != nil else {
            throw DetectorError.invalidConfiguration("a zoo training run needs a step or time limit")
        }
        guard options.batchSize > 0, options.patchSize >= 16, options.learningRate > 0 else {
            throw DetectorError.invalidConfiguration(
                "zoo training needs batch ≥ 1, patch ≥ 16 and a positive learning rate, got \(options)")
        }
        self.frames = frames
        self.options = options
    }

    /// Trains a new autoencoder with `architecture`; `progress` is called every 25 steps.
    public func trainAutoencoder(
        _ architecture: AutoencoderArchitecture, progress: ((ZooTrainingProgress) -> Void)? = nil
    ) throws -> (RegionAutoencoder, ZooTrainingSummary) {
        try architecture.validate()
        let P = options.patchSize
        guard P % (1 << architecture.maximumStages) == 0 else {
            throw DetectorError.invalidConfiguration(
                "patch size \(P) is not a multiple of the autoencoder's largest factor \(1 << architecture.maximumStages)")
        }
        let network = RegionAutoencoder(architecture: architecture, seed: options.seed)
        let optimizer = Adam(module: network, learningRate: options.learningRate)
        let stageCount = architecture.maximumStages - architecture.minimumStages + 1
        let summary = try run(patchSize: P, progress: progress) { batch, rng in
            let stages = architecture.minimumStages + RegionMask.randomIndex(stageCount, &rng)
            optimizer.zeroGradients()
            let output = network.forward(batch, stages: stages)  // (N, 3, P, P)
            let dOutput = Tensor(shape: [0])
            let l1 = Losses.l1(prediction: output, target: batch, dPrediction: dOutput)
            guard l1.isFinite else { return l1 }
            network.backward(dOutput)
            optimizer.step()
            return l1
        }
        network.eval()
        return (network, summary)
    }

    /// Trains a new VAE with `architecture` (L1 + β·KL with β = `architecture.klWeight`).
    public func trainVAE(
        _ architecture: VAEArchitecture, progress: ((ZooTrainingProgress) -> Void)? = nil
    ) throws -> (VAE, ZooTrainingSummary) {
        try ZooGeneratorFile.validateWithinLimits(architecture)
        let network = VAE(architecture: architecture, seed: options.seed)
        let optimizer = Adam(module: network, learningRate: options.learningRate)
        let summary = try run(patchSize: architecture.patchSize, progress: progress) { batch, rng in
            optimizer.zeroGradients()
            let output = network.forward(batch, rng: &rng)  // (N, 3, P, P)
            let dOutput = Tensor(shape: [0])
            let l1 = Losses.l1(prediction: output, target: batch, dPrediction: dOutput)
            guard l1.isFinite else { return l1 }
            network.backward(dOutput, klWeight: architecture.klWeight)
            optimizer.step()
            return l1
        }
        network.eval()
        return (network, summary)
    }

    /// Runs `step` on fresh batches of real patches until a limit is reached; returns the summary.
    private func run(
        patchSize P: Int, progress: ((ZooTrainingProgress) -> Void)?,
        step: (Tensor, inout RandomGenerator) -> Float
    ) throws -> ZooTrainingSummary {
        let usable = frames.filter { $0.width >= P && $0.height >= P }
        guard !usable.isEmpty else {
            throw DetectorError.invalidConfiguration("no real frame is at least \(P)×\(P) pixels")
        }
        var rng = RandomGenerator(seed: options.seed ^ 0x5A00)
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        var recent: [Double] = [], steps = 0
        let batch = Tensor(shape: [options.batchSize, 3, P, P])  // (N, 3, P, P)
        while steps < (options.maximumSteps ?? .max) && elapsed() < (options.maximumSeconds ?? .infinity) {
            for n in 0..<options.batchSize { writePatch(of: usable, side: P, into: batch, index: n, rng: &rng) }
            let l1 = step(batch, &rng)
            steps += 1
            if l1.isFinite { recent.append(Double(l1)) }
            if recent.count > 50 { recent.removeFirst() }
            if steps % 25 == 0 {
                progress?(ZooTrainingProgress(step: steps, seconds: elapsed(), recentL1: mean(recent)))
            }
        }
        return ZooTrainingSummary(
            steps: steps, seconds: elapsed(), seed: options.seed, batchSize: options.batchSize, patchSize: P,
            finalL1: mean(recent), frames: usable.count)
    }

    /// A random P×P crop of a random frame, flipped horizontally half the time, into batch item `index`.
    private func writePatch(
        of frames: [StoredFrame], side P: Int, into batch: Tensor, index: Int, rng: inout RandomGenerator
    ) {
        let frame = frames[RegionMask.randomIndex(frames.count, &rng)]
        let x0 = RegionMask.randomIndex(frame.width - P + 1, &rng), y0 = RegionMask.randomIndex(frame.height - P + 1, &rng)
        let flip = rng.uniform() < 0.5
        let target = batch.pointer + index * 3 * P * P
        for c in 0..<3 {
            for y in 0..<P {
                for x in 0..<P { target[(c * P + y) * P + x] = frame.value(c, x0 + (flip ? P - 1 - x : x), y0 + y) }
            }
        }
    }

    private func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
}
