// Tests of the learnability probe: each pair's fake differs from its real partner only where its mask
// says (the pipeline check behind the probe's figures), the split keeps held-out files out of
// training, and bad configurations are refused before anything is drawn.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class LearnabilityProbeTests: XCTestCase {
    private func data() -> MediaSplit {
        let training = (0..<3).map { i in
            TestSupport.source("train\(i).png", [TestSupport.texture(width: 192, height: 160, seed: UInt64(i))])
        }
        let validation = [TestSupport.source("held-out.png", [TestSupport.texture(width: 160, height: 192, seed: 99)])]
        return MediaSplit(training: training, validation: validation)
    }

    /// A dark training file and a bright held-out one: every patch drawn shows which side it came from.
    private func darkTrainingBrightHeldOut() -> MediaSplit {
        let dark = RGBImage(width: 160, height: 160, pixels: (0..<(3 * 160 * 160)).map { Float($0 % 7) * 0.01 })
        let bright = RGBImage(width: 160, height: 160, pixels: (0..<(3 * 160 * 160)).map { 0.9 + Float($0 % 7) * 0.01 })
        return MediaSplit(
            training: [TestSupport.source("dark.png", [dark])], validation: [TestSupport.source("bright.png", [bright])])
    }

    func testFakesDifferFromTheirRealPartnersOnlyInsideTheirMasks() throws {
        var config = LearnabilityConfig()
        config.families = ["classical", "self-blend", "upsampler-bilinear-random"]
        config.trainingPairs = 40; config.validationPairs = 8
        config.encoding = .none  // with a re-encoding, 8×8 blocks that touch the region change too
        let probe = try LearnabilityProbe(config: config, data: data())
        XCTAssertEqual(probe.trainingPairs.count, 40); XCTAssertEqual(probe.validationPairs.count, 8)
        let P = 64
        for (k, pair) in (probe.trainingPairs + probe.validationPairs).enumerated() {
            XCTAssertEqual(pair.mask.count, P * P)
            var inside = 0.0, outside = 0.0
            for c in 0..<3 {
                for i in 0..<(P * P) {
                    let d = Double(abs(pair.fake.pixels[c * P * P + i] - pair.real.pixels[c * P * P + i]))
                    if pair.mask[i] == 0 { outside = max(outside, d) } else { inside += d }
                }
            }
            XCTAssertEqual(outside, 0, "pair \(k) (\(pair.family)) changed pixels outside its mask")
            XCTAssertGreaterThan(inside, 0, "pair \(k) (\(pair.family)) changed nothing inside its mask")
            XCTAssertGreaterThan(pair.mask.reduce(0, +), 16, "pair \(k): the region is not in the window")
        }
        let signal = probe.signal()
        XCTAssertEqual(Set(signal.map(\.family)), Set(probe.families))
        for s in signal {
            XCTAssertEqual(s.meanDifferenceOutside, 0, s.family)
            XCTAssertGreaterThan(s.meanDifferenceInside, 0, s.family)
        }
    }

    /// A minimum region change redraws faint training pairs and not held-out ones; a threshold no pair
    /// can reach keeps the eighth attempt, and one outside 0…1 is refused.
    func testFaintTrainingPairsAreRedrawnAndHeldOutPairsAreNot() throws {
        var config = LearnabilityConfig()
        config.families = ["classical", "self-blend", "upsampler-bilinear-random"]
        config.trainingPairs = 60; config.validationPairs = 60
        config.minimumRegionChange = 0.02
        let probe = try LearnabilityProbe(config: config, data: data())
        let trainingChanges = probe.trainingPairs.map(\.regionChange)
        let validationChanges = probe.validationPairs.map(\.regionChange)
        // 8 attempts below 0.02 in a row are possible but rare; most pairs must reach it.
        XCTAssertGreaterThan(trainingChanges.filter { $0 >= 0.02 }.count, 55, "\(trainingChanges)")
        XCTAssertTrue(validationChanges.contains { $0 < 0.02 }, "held-out pairs were filtered: \(validationChanges)")
        config.minimumRegionChange = 1
        config.trainingPairs = 4
        XCTAssertEqual(try LearnabilityProbe(config: config, data: data()).trainingPairs.count, 4)
        config.minimumRegionChange = 1.5
        XCTAssertThrowsError(try LearnabilityProbe(config: config, data: data()))
    }

    func testRegionChangeIsTheMeanDifferenceUnderTheMask() {
        let real = RGBImage(width: 4, height: 4, pixels: [Float](repeating: 0.5, count: 48))
        var fake = real
        for c in 0..<3 { fake.pixels[c * 16 + 5] = 0.7; fake.pixels[c * 16 + 6] = 0.6 }
        var mask = [Float](repeating: 0, count: 16)
        mask[5] = 1; mask[6] = 0.5; mask[9] = 0.25
        let pair = ZooPair(real: real, fake: fake, mask: mask, family: "test")
        XCTAssertEqual(pair.regionChange, (0.2 + 0.1 + 0) / 3, accuracy: 1e-6)
        XCTAssertEqual(ZooPair(real: real, fake: fake, mask: [Float](repeating: 0, count: 16), family: "test").regionChange, 0)
    }

    /// With a context larger than 2P, regions larger than the patch are made in it and the window
    /// shows part of one: its centre over the region, so some windows lie wholly inside the region
    /// and some across its edge; the fake still differs from its partner only inside the mask.
    func testRegionsLargerThanThePatchAreSeenThroughAWindowOverThem() throws {
        var config = LearnabilityConfig()
        config.families = ["classical", "upsampler-bilinear-random"]
        config.trainingPairs = 40; config.validationPairs = 8
        config.encoding = .none
        config.contextSide = 160
        config.regionSide = 96...150
        let probe = try LearnabilityProbe(config: config, data: data())
        let P = 64
        var wholly = 0, across = 0
        for (k, pair) in (probe.trainingPairs + probe.validationPairs).enumerated() {
            XCTAssertEqual(pair.real.width, P); XCTAssertEqual(pair.fake.height, P)
            for c in 0..<3 {
                for i in 0..<(P * P) where pair.mask[i] == 0 {
                    XCTAssertEqual(pair.fake.pixels[c * P * P + i], pair.real.pixels[c * P * P + i], "pair \(k) (\(pair.family))")
                }
            }
            let covered = pair.mask.filter { $0 > 0 }.count
            XCTAssertGreaterThan(covered, P * P / 8, "pair \(k): the window's centre is not over the region")
            if covered == P * P { wholly += 1 } else { across += 1 }
        }
        XCTAssertGreaterThan(wholly, 0, "no window wholly inside a region")
        XCTAssertGreaterThan(across, 0, "no window across a region's edge")

        // The window rule on one axis: a 100-px box from 30 in a 160-px frame, a 64-px window.
        var rng = RandomGenerator(seed: 1)
        for _ in 0..<200 {
            let (x, _) = Trainer.windowOrigin(
                containing: PixelRegion(x: 30, y: 0, width: 100, height: 10), width: 160, height: 64, side: 64, rng: &rng)
            XCTAssertTrue((0...96).contains(x) && x % 2 == 0, "origin \(x)")
            XCTAssertTrue((30...130).contains(x + 32), "centre \(x + 32) not over the box")
        }
    }

    func testHeldOutPairsComeOnlyFromHeldOutFiles() throws {
        let split = darkTrainingBrightHeldOut()
        var config = LearnabilityConfig()
        config.families = ["denoise"]; config.trainingPairs = 6; config.validationPairs = 6; config.encoding = .none
        config.minimumTextureEnergy = 0
        let probe = try LearnabilityProbe(config: config, data: split)
        for pair in probe.trainingPairs { XCTAssertLessThan(pair.real.pixels.max() ?? 1, 0.5) }
        for pair in probe.validationPairs { XCTAssertGreaterThan(pair.real.pixels.min() ?? 0, 0.5) }
    }

    func testTrainingStepsMoveTheLossAndEvaluationGivesEveryFamily() throws {
        var config = LearnabilityConfig()
        config.families = ["resample", "copy-move"]; config.trainingPairs = 16; config.validationPairs = 8
        config.batchPairs = 4
        let probe = try LearnabilityProbe(config: config, data: data())
        let first = probe.trainStep()
        XCTAssertTrue(first.isFinite); XCTAssertGreaterThan(first, 0)
        XCTAssertEqual(probe.step, 1)
        let evaluation = probe.evaluate()
        XCTAssertEqual(Set(evaluation.map(\.family)), Set(probe.families))
        for family in evaluation {
            XCTAssertFalse(family.heldOut)
            XCTAssertTrue((0...1).contains(family.trainingAUC ?? -1), "\(family)")
            XCTAssertTrue((0...1).contains(family.validationAUC), "\(family)")
        }
    }

    func testThePooledLossAddsToTheFirstStepsLoss() throws {
        var config = LearnabilityConfig()
        config.families = ["resample"]; config.trainingPairs = 8; config.validationPairs = 4; config.batchPairs = 4
        let plain = try LearnabilityProbe(config: config, data: data()).trainStep()
        config.pooledLoss = PooledAreaLoss(weight: 1)
        let pooled = try LearnabilityProbe(config: config, data: data()).trainStep()
        // Same seed, so the same batch and weights: the difference is the pooled BCE, which is positive.
        XCTAssertGreaterThan(pooled, plain)
        XCTAssertTrue(pooled.isFinite)
    }

    func testCosineDecayTakesTheLearningRateToOnePercentAndHoldsIt() throws {
        var config = LearnabilityConfig()
        config.families = ["resample"]; config.trainingPairs = 4; config.validationPairs = 4; config.batchPairs = 2
        config.learningRate = 1e-3
        let constant = try LearnabilityProbe(config: config, data: data())
        XCTAssertEqual(constant.learningRate(atStep: 0), 1e-3)
        XCTAssertEqual(constant.learningRate(atStep: 5000), 1e-3)
        config.decaySteps = 4
        let probe = try LearnabilityProbe(config: config, data: data())
        // lr · (0.01 + 0.99 · (1 + cos(π s / 4)) / 2) at s = 0, 1, 2, 4 and past the end; Float rounding only
        let expected: [(Int, Float)] = [(0, 1e-3), (1, 8.55018e-4), (2, 5.05e-4), (4, 1e-5), (9, 1e-5)]
        for (step, rate) in expected {
            XCTAssertEqual(probe.learningRate(atStep: step), rate, accuracy: 1e-8, "step \(step)")
        }
        probe.trainStep(); probe.trainStep()
        XCTAssertEqual(probe.optimizer.learningRate, probe.learningRate(atStep: 1), "the second step ran at step 1's rate")
        config.decaySteps = -1
        XCTAssertThrowsError(try LearnabilityProbe(config: config, data: data()))
    }

    func testHeldOutFamiliesAreNeverTrainedOnAndComeOnlyFromHeldOutFiles() throws {
        let split = darkTrainingBrightHeldOut()
        var config = LearnabilityConfig()
        config.families = ["denoise", "resample"]
        config.heldOutFamilies = ["resample"]  // named in both: holding out wins
        config.trainingPairs = 24; config.validationPairs = 8; config.batchPairs = 4
        config.encoding = .none; config.minimumTextureEnergy = 0
        let probe = try LearnabilityProbe(config: config, data: split)
        XCTAssertEqual(probe.heldOutNames, ["resample"])
        XCTAssertEqual(Set(probe.trainingPairs.map(\.family)), ["denoise"])
        for pair in probe.trainingPairs { XCTAssertLessThan(pair.real.pixels.max() ?? 1, 0.5) }
        let heldOutPairs = probe.validationPairs.filter { $0.family == "resample" }
        XCTAssertEqual(heldOutPairs.count, 8)
        XCTAssertEqual(probe.validationPairs.count, 16)
        for pair in probe.validationPairs { XCTAssertGreaterThan(pair.real.pixels.min() ?? 0, 0.5) }
        probe.trainStep()
        let evaluation = probe.evaluate()
        XCTAssertEqual(Set(evaluation.map(\.family)), ["denoise", "resample"])
        for family in evaluation {
            XCTAssertEqual(family.heldOut, family.family == "resample", family.family)
            XCTAssertEqual(family.trainingAUC == nil, family.heldOut, family.family)
            XCTAssertTrue((0...1).contains(family.validationAUC), family.family)
        }
        var everything = config
        everything.heldOutFamilies = ["denoise", "resample"]
        XCTAssertThrowsError(try LearnabilityProbe(config: everything, data: split)) {
            XCTAssertTrue("\($0)".contains("no family to train on"), "\($0)")
        }
    }

    func testHardNegativesAreTheHighestScoringTrainingWindowsAndTailWindowsComeFromHeldOutFiles() throws {
        let split = darkTrainingBrightHeldOut()
        var config = LearnabilityConfig()
        config.families = ["denoise"]; config.trainingPairs = 8; config.validationPairs = 8; config.batchPairs = 2
        config.minimumTextureEnergy = 0
        config.hardNegativesPerBatch = 2; config.hardNegativeCandidates = 12; config.hardNegativeSelect = 3
        config.hardNegativeEvery = 2; config.tailWindows = 20
        let probe = try LearnabilityProbe(config: config, data: split)
        XCTAssertEqual(probe.hardNegativeCandidates.count, 12); XCTAssertEqual(probe.tailWindows.count, 20)
        for w in probe.hardNegativeCandidates {
            XCTAssertEqual(w.width, 64); XCTAssertLessThan(w.pixels.max() ?? 1, 0.5)
        }
        for w in probe.tailWindows { XCTAssertGreaterThan(w.pixels.min() ?? 0, 0.5) }

        XCTAssertTrue(probe.trainStep().isFinite)  // mines first, then trains on 2·2 + 2 rows
        XCTAssertEqual(probe.hardNegatives.count, 3)
        XCTAssertEqual(probe.hardNegativesMinedAtStep, 0)
        probe.trainStep()
        XCTAssertEqual(probe.hardNegativesMinedAtStep, 0)
        probe.trainStep()  // every 2 steps: re-mined before step 3
        XCTAssertEqual(probe.hardNegativesMinedAtStep, 2)
        probe.mineHardNegatives()
        probe.discriminator.eval()
        let scores = probe.highestCellLogits(probe.hardNegativeCandidates)
        probe.discriminator.train()
        let kept = probe.hardNegatives.map { scores[$0] }
        XCTAssertEqual(kept, kept.sorted(by: >))
        let lowestKept = try XCTUnwrap(kept.last)
        for i in scores.indices where !probe.hardNegatives.contains(i) {
            XCTAssertLessThanOrEqual(scores[i], lowestKept, "candidate \(i) scores above a kept one")
        }

        let tail = try XCTUnwrap(probe.tailThreshold())
        probe.discriminator.eval()
        let tailScores = probe.highestCellLogits(probe.tailWindows).sorted()
        probe.discriminator.train()
        XCTAssertEqual(tail, tailScores[19])  // the 99th percentile of 20 windows is the highest
        for family in probe.evaluate(tail: tail) { XCTAssertTrue((0...1).contains(family.validationTailTPR ?? -1)) }
        for family in probe.evaluate(tail: -.infinity) { XCTAssertEqual(family.validationTailTPR, 1) }
        for family in probe.evaluate(tail: .infinity) { XCTAssertEqual(family.validationTailTPR, 0) }
        for family in probe.evaluate() { XCTAssertNil(family.validationTailTPR) }
    }

    func testBadConfigurationsAreRefused() {
        for change in [
            { (c: inout LearnabilityConfig) in c.trainingPairs = 0 }, { $0.batchPairs = 0 }, { $0.learningRate = .nan },
            { $0.beta1 = 1 }, { $0.families = ["no-such-family"] }, { $0.heldOutFamilies = ["no-such-family"] },
            {
                $0.hardNegativesPerBatch = 1; $0.hardNegativeSelect = 5000
            },
            {
                $0.hardNegativesPerBatch = 1; $0.hardNegativeEvery = 0
            }, { $0.tailWindows = -1 }, { $0.contextSide = 100 }, { $0.contextSide = 1024 },
            { $0.pooledLoss = PooledAreaLoss(weight: -1) }, { $0.pooledLoss = PooledAreaLoss(weight: .nan) },
            { $0.pooledLoss = PooledAreaLoss(weight: 1, temperature: 0) },
            { $0.pooledLoss = PooledAreaLoss(weight: 1, areaCells: 0) },
            { $0.pooledLoss = PooledAreaLoss(weight: 1, areaCells: 9) },
        ] {
            var config = LearnabilityConfig()
            config.trainingPairs = 2; config.validationPairs = 2
            change(&config)
            XCTAssertThrowsError(try LearnabilityProbe(config: config, data: data()))
        }
        XCTAssertThrowsError(try LearnabilityProbe(config: LearnabilityConfig(), data: MediaSplit(training: [], validation: [])))
    }
}
