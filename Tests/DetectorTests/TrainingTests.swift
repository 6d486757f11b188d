// Tests of the training building blocks: learning on generated data (validation AUC), exact resume,
// the generator loss on D's logits, the divergence rollback, augmentation parity, and bad training input.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class TrainingTests: XCTestCase {
    /// Learning shown, not assumed: real = synthetic natural-like textures; fakes = the generator's
    /// samples (adversarial) and "fake media" textures rendered at half size, upsampled 2× and carrying
    /// a faint ±0.02 checkerboard. An untrained D ranks the media fakes at AUC ≈ 0.64; after 800 D steps
    /// (≈ 15–25 s release on 2 shared cores) validation AUC is > 0.9 (1.0 in our runs).
    func testTinyConfigurationLearnsQuickly() throws {
        var config = TestSupport.tinyConfig()
        config.fakeMix = FakeMix(partial: 0, selfBlended: 0, media: 1)
        config.discriminator.inputScale = 64
        config.dStepsPerGStep = 5
        config.adversarialWeight = 0.25
        config.learningRateD = 1e-3
        let trainer = try Trainer(config: config, data: TestSupport.syntheticDataWithFakes(files: 40))
        var events: [TrainingEvent] = []
        trainer.observer = { events.append($0) }
        let before = trainer.validate()
        let steps = 800
        trainer.train(steps: steps)
        let after = trainer.validate()
        print(
            "tiny training: AUC \(before.auc) → \(after.auc), by kind \(before.aucByKind) → \(after.aucByKind), FPR \(after.falsePositiveRate), augmentations \(trainer.augmenter.counts)"
        )
        XCTAssertGreaterThan(after.auc, 0.9)
        XCTAssertGreaterThan(after.aucByKind[.media]!, 0.9)
        XCTAssertLessThan(before.aucByKind[.media]!, 0.8)
        XCTAssertEqual(
            events.filter {
                if case .step = $0 { return true }; return false
            }.count, steps)
        // the exported model scores frames
        let model = try trainer.exportModel()
        XCTAssertEqual(model.training.steps, steps)
        _ = try FrameScorer(model: model).score(TestSupport.texture(width: 80, height: 80, seed: 5))
    }

    func testTheBestEarlierDetectorIsExportedOnlyWhenItStillWinsAgainstTheFinalGenerator() throws {
        var config = TestSupport.tinyConfig()
        config.fakeMix = FakeMix(partial: 0, selfBlended: 0, media: 1)
        config.discriminator.inputScale = 64
        config.learningRateD = 1e-3
        let trainer = try Trainer(config: config, data: TestSupport.syntheticDataWithFakes(files: 40))
        trainer.train(steps: 300)
        let trained = trainer.discriminator.stateDictionary()
        let trainedAUC = trainer.validate().auc
        // A worse detector: an untrained one of the same architecture (it ranks these fakes near 0.64).
        let untrained = Discriminator(architecture: config.discriminator, seed: 99).stateDictionary()
        XCTAssertGreaterThan(trainedAUC, 0.7, "the test needs a detector that learned something")

        // The final detector is the untrained one; the earlier, trained one wins and is loaded.
        try trainer.discriminator.load(stateDictionary: untrained)
        let untrainedAUC = trainer.validate().auc
        XCTAssertLessThan(untrainedAUC, trainedAUC)
        XCTAssertEqual(try trainer.keepBetterDetector(finalAUC: untrainedAUC, earlier: (step: 100, state: trained)), 100)
        XCTAssertEqual(trainer.validate().auc, trainedAUC, accuracy: 1e-12)

        // The final detector is the trained one; the earlier, untrained one loses and the final stays.
        XCTAssertEqual(
            try trainer.keepBetterDetector(finalAUC: trainedAUC, earlier: (step: 100, state: untrained)), trainer.step)
        XCTAssertEqual(trainer.validate().auc, trainedAUC, accuracy: 1e-12)
        // No earlier state, or one from the final step: the final detector.
        XCTAssertEqual(try trainer.keepBetterDetector(finalAUC: trainedAUC, earlier: nil), trainer.step)
        XCTAssertEqual(
            try trainer.keepBetterDetector(finalAUC: trainedAUC, earlier: (step: trainer.step, state: untrained)),
            trainer.step)
        XCTAssertEqual(trainer.validate().auc, trainedAUC, accuracy: 1e-12)
    }

    func testResumeEqualsUninterrupted() throws {
        let data = TestSupport.syntheticData(files: 3, size: 64)
        let dir = temporaryFolder("resume")
        let a = try Trainer(config: TestSupport.tinyConfig(seed: 11), data: data)
        a.train(steps: 3)
        try a.saveCheckpoint(to: dir + "/c.safetensors")
        a.train(steps: 2)  // crosses a G step
        let b = try Trainer(resumingFrom: dir + "/c.safetensors", data: data)
        XCTAssertEqual(b.step, 3)
        b.train(steps: 2)
        let sa = a.discriminator.stateDictionary(), sb = b.discriminator.stateDictionary()
        for (k, t) in sa { XCTAssertEqual(t.array.map(\.bitPattern), sb[k]!.array.map(\.bitPattern), k) }
        let ga = a.generator.stateDictionary(), gb = b.generator.stateDictionary()
        for (k, t) in ga { XCTAssertEqual(t.array.map(\.bitPattern), gb[k]!.array.map(\.bitPattern), k) }
        XCTAssertEqual(a.rng, b.rng)
    }

    /// A detector-only phase (the generator held fixed by a D-step count above the run's steps) saves
    /// checkpoints that load again, and its generator's weights do not move; out-of-range counts are ignored.
    func testFrozenGeneratorPhaseCheckpointResumes() throws {
        let data = TestSupport.syntheticData(files: 3, size: 64)
        let dir = temporaryFolder("frozen-resume")
        let a = try Trainer(config: TestSupport.tinyConfig(seed: 12), data: data)
        a.train(steps: 2)
        a.adjustSchedule(dStepsPerGStep: 0)
        a.adjustSchedule(dStepsPerGStep: TrainingConfig.dStepsPerGStepRange.upperBound + 1)
        XCTAssertEqual(a.config.dStepsPerGStep, 2, "out-of-range counts leave the schedule as it was")
        a.adjustSchedule(dStepsPerGStep: 100_000)
        let generatorBefore = a.generator.stateDictionary()
        a.train(steps: 3)
        // Its weights stay; the buffers of a forward pass in training mode (batch-norm statistics and the
        // spectral-norm power-iteration vectors) still update, as the generator keeps making fakes.
        let weights = generatorBefore.keys.filter { !$0.hasSuffix(".u") && !$0.contains("running_") }
        XCTAssertGreaterThan(weights.count, 10)
        let after = a.generator.stateDictionary()
        for k in weights { XCTAssertEqual(generatorBefore[k]!.array, after[k]!.array, "generator \(k) moved") }
        try a.saveCheckpoint(to: dir + "/c.safetensors")
        let b = try Trainer(resumingFrom: dir + "/c.safetensors", data: data)
        XCTAssertEqual(b.config.dStepsPerGStep, 100_000)
        XCTAssertEqual(b.step, 5)
    }

    func testGeneratorLossIsComputedOnDiscriminatorLogits() throws {
        let trainer = try Trainer(config: TestSupport.tinyConfig(), data: TestSupport.syntheticData(files: 2, size: 48))
        let logits = Tensor(shape: [2, 1, 4, 4], data: (0..<32).map { Float($0) / 8 - 2 })
        let grad = Tensor(shape: [0])
        let loss = trainer.generatorLoss(logits, grad, weight: 1)
        // hinge generator loss = −mean(realness) = mean(fake logit)
        XCTAssertEqual(loss, logits.array.reduce(0, +) / 32, accuracy: 1e-6)
        XCTAssertTrue(grad.array.allSatisfy { abs($0 - 1 / 32) < 1e-7 })
        // and a G step moves G's weights through D
        let before = trainer.generator.stateDictionary()
        trainer.train(steps: 2)  // dStepsPerGStep = 2 → one G step
        let after = trainer.generator.stateDictionary()
        XCTAssertNotEqual(before["out.weight"]!.array, after["out.weight"]!.array)
    }

    func testRollbackOnNonFiniteLoss() throws {
        let trainer = try Trainer(config: TestSupport.tinyConfig(), data: TestSupport.syntheticData(files: 2, size: 48))
        var rollbacks = 0
        trainer.observer = { if case .rollback = $0 { rollbacks += 1 } }
        trainer.train(steps: 1)
        let lr = trainer.optimizerD.learningRate
        trainer.discriminator.conv5.weight.pointer[0] = .nan
        trainer.trainStep()
        XCTAssertEqual(rollbacks, 1)
        XCTAssertEqual(trainer.step, 0)
        XCTAssertEqual(trainer.optimizerD.learningRate, lr * 0.5)
        XCTAssertTrue(trainer.discriminator.conv5.weight.array.allSatisfy { $0.isFinite })
        let s = trainer.trainStep()
        XCTAssertTrue(s.discriminatorLoss.isFinite)
        XCTAssertEqual(rollbacks, 1)
    }

    func testOtherLossesRun() throws {
        for loss in [AdversarialLoss.wasserstein, .bce] {
            var c = TestSupport.tinyConfig()
            c.loss = loss
            let trainer = try Trainer(config: c, data: TestSupport.syntheticData(files: 2, size: 48))
            let s = trainer.trainStep(), s2 = trainer.trainStep()
            XCTAssertTrue(s.discriminatorLoss.isFinite && s2.generatorLoss?.isFinite == true, "\(loss)")
        }
    }

    /// Real and fake patches are augmented alike: what the augmenter does depends on its config and
    /// the random generator's state, never on which kind of patch it holds. From one seed, a real patch
    /// and a fake one go through the same operations with the same parameters (the same decisions and
    /// the same random draws, so the generators end in the same state), equal inputs give bit-equal
    /// outputs, and every operation keeps the patch's size and 0…1 range. Each operation has chance
    /// 0.5, so over 16 seeds every one is both applied and skipped.
    func testAugmentationSameForRealAndFake() {
        var config = AugmentationConfig()
        config.flip = 0.5; config.resize = 0.5; config.noise = 0.5; config.blur = 0.5; config.jpeg = 0.5; config.h264 = 0.5
        let real = TestSupport.texture(width: 64, height: 64, seed: 8)
        var fakeRNG = RandomGenerator(seed: 9)
        let fake = FakeSynthesis.selfBlended(real: TestSupport.texture(width: 64, height: 64, seed: 10), rng: &fakeRNG).image
        XCTAssertNotEqual(real.pixels, fake.pixels)
        var forReal = Augmenter(config: config), forFake = Augmenter(config: config), again = Augmenter(config: config)
        let seeds: ClosedRange<UInt64> = 1...16
        for seed in seeds {
            var realRNG = RandomGenerator(seed: seed), fakeRNG = realRNG, againRNG = realRNG
            var realPatch = real, fakePatch = fake, realAgain = real
            forReal.apply(&realPatch, rng: &realRNG)
            forFake.apply(&fakePatch, rng: &fakeRNG)
            again.apply(&realAgain, rng: &againRNG)
            XCTAssertEqual(forFake.counts, forReal.counts, "seed \(seed): the same operations")
            XCTAssertEqual(fakeRNG, realRNG, "seed \(seed): the same random draws")
            XCTAssertEqual(realAgain.pixels, realPatch.pixels, "seed \(seed): equal inputs, equal outputs")
            for patch in [realPatch, fakePatch] {
                XCTAssertEqual(patch.width, 64); XCTAssertEqual(patch.height, 64)
                XCTAssertTrue(patch.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, "seed \(seed)")
            }
        }
        for name in ["flip", "resize", "blur", "noise", "jpeg", "h264"] {
            XCTAssertTrue((1..<seeds.count).contains(forReal.counts[name] ?? 0), "\(name): \(forReal.counts)")
        }
    }

    /// Flips and resizing move a fake's mask with its pixels: a patch whose red channel is its own mask
    /// (a bright block in the left half) still has red == mask after every geometric augmentation, and
    /// the block does end up mirrored on some seeds.
    func testGeometricAugmentationMovesTheMaskWithThePixels() {
        var config = AugmentationConfig.none
        config.flip = 0.5; config.resize = 0.5
        var augmenter = Augmenter(config: config)
        let P = 32
        var mask = [Float](repeating: 0, count: P * P)
        for y in 8..<20 { for x in 2..<12 { mask[y * P + x] = 1 } }
        let image = RGBImage(width: P, height: P, pixels: mask + [Float](repeating: 0.5, count: 2 * P * P))
        var mirrored = 0
        for seed in UInt64(1)...12 {
            var rng = RandomGenerator(seed: seed)
            var patch = image, moved: [Float]? = mask
            augmenter.apply(&patch, mask: &moved, rng: &rng)
            let result = moved ?? []
            XCTAssertEqual(result.count, P * P)
            XCTAssertEqual(Array(patch.pixels.prefix(P * P)), result, "seed \(seed): the mask is where its pixels went")
            if result[14 * P + 29] > 0.5 { mirrored += 1 }
        }
        XCTAssertGreaterThan(mirrored, 0, "some seeds flip the patch")
        XCTAssertGreaterThan(augmenter.counts["resize"] ?? 0, 0, "some seeds resize the patch")
    }

    func testFakeSynthesisMasks() {
        var rng = RandomGenerator(seed: 2)
        let real = TestSupport.texture(width: 32, height: 32, seed: 3)
        let f = FakeSynthesis.selfBlended(real: real, rng: &rng)
        XCTAssertNotEqual(f.image.pixels, real.pixels)
        let targets = UnsafeMutablePointer<Float>.allocate(capacity: 16)
        defer { targets.deallocate() }
        FakeSynthesis.cellTargets(mask: f.mask, size: 32, into: targets)
        XCTAssertTrue((0..<16).allSatisfy { targets[$0] >= 0 && targets[$0] <= 1 })
        XCTAssertGreaterThan((0..<16).map { targets[$0] }.max()!, 0.5)
    }

    func testPlattFit() {
        var rng = RandomGenerator(seed: 4)
        // Scores from the logistic model p = σ(2s − 1), whose classes come out unequal (about 42 %
        // positive): the fit recovers a ≈ 2, and b ≈ −1 moved by ln(N₋/N₊), the correction to equal
        // priors.
        var pos: [Double] = [], neg: [Double] = []
        for _ in 0..<4000 {
            let s = Double(rng.uniform(-3, 3))
            if Double(rng.uniform()) < 1 / (1 + exp(-(2 * s - 1))) { pos.append(s) } else { neg.append(s) }
        }
        let c = Trainer.fitPlatt(positives: pos, negatives: neg)
        XCTAssertGreaterThan(
            log(Double(neg.count) / Double(pos.count)), 0.2, "the classes must be unequal for the test to mean anything")
        XCTAssertEqual(c.a, 2, accuracy: 0.2)
        XCTAssertEqual(c.b, -1 + log(Double(neg.count) / Double(pos.count)), accuracy: 0.2)
    }

    /// The same two score distributions calibrated with 4× more fakes than reals and with 4× more
    /// reals than fakes: the probability halfway between the classes stays near 0.5 both times, so
    /// what a frame is reported as does not depend on how many fakes the user collected.
    func testPlattFitDoesNotDependOnTheClassRatio() {
        var rng = RandomGenerator(seed: 9)
        func draw(_ count: Int, around centre: Double) -> [Double] {
            (0..<count).map { _ in centre + Double(rng.uniform(-1, 1)) + Double(rng.uniform(-1, 1)) }
        }
        let manyFakes = Trainer.fitPlatt(positives: draw(500, around: 1), negatives: draw(125, around: -1))
        let manyReals = Trainer.fitPlatt(positives: draw(125, around: 1), negatives: draw(500, around: -1))
        for c in [manyFakes, manyReals] {
            XCTAssertEqual(c.probability(score: 0), 0.5, accuracy: 0.1)
        }
        XCTAssertEqual(manyFakes.probability(score: -1), manyReals.probability(score: -1), accuracy: 0.1)
    }

    /// Separable scores far from 0 (reals near 400, fakes near 460, as a long-trained detector can
    /// give): the fit must put the boundary between the classes, not saturate everything at 1.
    func testPlattFitOnLargeSeparableScoresSeparates() {
        let negatives = (0..<12).map { 400 + Double($0) }, positives = (0..<12).map { 460 + Double($0) }
        let c = Trainer.fitPlatt(positives: positives, negatives: negatives)
        for s in negatives { XCTAssertLessThan(c.probability(score: s), 0.5, "real score \(s)") }
        for s in positives { XCTAssertGreaterThan(c.probability(score: s), 0.5, "fake score \(s)") }
        XCTAssertLessThan(c.probability(score: 411), 0.2, "smoothed targets keep reals near 1/(12+2)")
    }

    func testVAEReconstructionImproves() {
        let arch = VAEArchitecture(latentSize: 16, widths: [8, 16, 16], patchSize: 32)
        let v = VAE(architecture: arch, seed: 1)
        let opt = Adam(module: v, learningRate: 2e-3, betas: (0.5, 0.999))
        var rng = RandomGenerator(seed: 2)
        let x = Tensor(shape: [8, 3, 32, 32])
        for i in 0..<8 {
            let p = TestSupport.texture(width: 32, height: 32, seed: UInt64(i))
            for j in 0..<p.pixels.count { x.pointer[i * 3 * 32 * 32 + j] = p.pixels[j] }
        }
        var first: Float = 0, last: Float = 0
        for step in 0..<60 {
            opt.zeroGradients()
            let r = v.forward(x, rng: &rng)
            XCTAssertEqual(r.shape, [8, 3, 32, 32])
            let d = Tensor(shape: [0])
            let l1 = Losses.l1(prediction: r, target: x, dPrediction: d)
            let kl = v.backward(d, klWeight: arch.klWeight)
            XCTAssertTrue(kl.isFinite && kl >= 0)
            opt.step()
            if step == 0 { first = l1 }
            last = l1
        }
        XCTAssertLessThan(last, first * 0.7, "L1 \(first) → \(last)")
    }

    func testTrainerWithVAEFakesAndResume() throws {
        var config = TestSupport.tinyConfig(seed: 5)
        config.vae = VAEArchitecture(latentSize: 16, widths: [8, 16, 16], patchSize: 32)
        config.fakeMix = FakeMix(partial: 0, selfBlended: 0, media: 0, vaeBlended: 1, vaeSample: 1)
        let data = TestSupport.syntheticData(files: 3, size: 64)
        let dir = temporaryFolder("vae-resume")
        let a = try Trainer(config: config, data: data)
        a.train(steps: 2)
        try a.saveCheckpoint(to: dir + "/c.safetensors")
        let s = a.trainStep(), s2 = a.trainStep()
        XCTAssertTrue([s, s2].contains { $0.vaeLoss?.isFinite == true })
        let v = a.validate()
        XCTAssertNotNil(v.aucByKind[.vaeBlended]); XCTAssertNotNil(v.aucByKind[.vaeSample])
        let b = try Trainer(resumingFrom: dir + "/c.safetensors", data: data)
        b.train(steps: 2)
        for (k, t) in a.vae!.stateDictionary() {
            XCTAssertEqual(t.array.map(\.bitPattern), b.vae!.stateDictionary()[k]!.array.map(\.bitPattern), k)
        }
        for (k, t) in a.discriminator.stateDictionary() {
            XCTAssertEqual(t.array.map(\.bitPattern), b.discriminator.stateDictionary()[k]!.array.map(\.bitPattern), k)
        }
    }

    func testAUC() {
        XCTAssertEqual(Trainer.auc(positives: [3, 4], negatives: [1, 2]), 1)
        XCTAssertEqual(Trainer.auc(positives: [1], negatives: [1]), 0.5)
        XCTAssertEqual(Trainer.auc(positives: [1, 4], negatives: [2, 3]), 0.5)
    }
}

final class TrainingDataTests: XCTestCase {
    let loader = MediaFolderLoader(framesPerFile: 2, validationFraction: 0.3, minimumSide: 32)

    func testEmptyFolderIsAnError() {
        let dir = temporaryFolder("empty")
        XCTAssertThrowsError(try loader.load(folder: dir, role: "real")) { e in
            XCTAssertTrue("\(e)".contains(dir) && "\(e)".contains("no files"), "\(e)")
        }
        XCTAssertThrowsError(try loader.load(folder: dir + "/missing", role: "real")) { e in
            XCTAssertTrue("\(e)".contains("does not exist"), "\(e)")
        }
    }

    func testNonMediaFolderIsAnError() throws {
        let dir = temporaryFolder("nonmedia")
        try "hello".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        try Data((0..<300).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: dir + "/blob.bin"))
        XCTAssertThrowsError(try loader.load(folder: dir, role: "fake")) { e in
            XCTAssertTrue("\(e)".contains(dir) && "\(e)".contains("no readable media"), "\(e)")
        }
    }

    func testCorruptFileAmongGoodOnesIsSkippedAndReported() throws {
        let dir = temporaryFolder("mixed")
        for i in 0..<4 {
            try ImageEncoder.write(TestSupport.texture(width: 64, height: 48, seed: UInt64(i)), to: dir + "/img\(i).png")
        }
        let good = try Data(contentsOf: URL(fileURLWithPath: dir + "/img0.png"))
        try good.prefix(40).write(to: URL(fileURLWithPath: dir + "/broken.png"))
        let split = try loader.load(folder: dir, role: "real")
        XCTAssertEqual(split.training.count + split.validation.count, 4)
        XCTAssertFalse(split.training.isEmpty); XCTAssertFalse(split.validation.isEmpty)
        XCTAssertEqual(split.skipped.count, 1)
        XCTAssertTrue(split.skipped[0].contains("broken.png"), split.skipped[0])
        // the split is by file and deterministic
        let again = try loader.load(folder: dir, role: "real")
        XCTAssertEqual(again.validation.map(\.relativePath), split.validation.map(\.relativePath))
        XCTAssertTrue(Set(split.training.map(\.relativePath)).isDisjoint(with: split.validation.map(\.relativePath)))
        XCTAssertEqual(split.training[0].frames[0].width, 64)  // native size, never resized
    }

    func testVideoFramesAreSampled() throws {
        let dir = temporaryFolder("video")
        let path = dir + "/clip.mp4"
        let encoder = try VideoEncoder(path: path, codec: .h264(crf: 20), width: 64, height: 48, frameRate: 10)
        for i in 0..<10 { try encoder.append(TestSupport.texture(width: 64, height: 48, seed: UInt64(i))) }
        try encoder.finish()
        let frames = try loader.loadFrames(path)
        XCTAssertEqual(frames.count, 2)
    }

    func testFakeFolderWithoutReadableFramesIsAnError() throws {
        let real = temporaryFolder("real-ok")
        for i in 0..<2 {
            try ImageEncoder.write(TestSupport.texture(width: 64, height: 64, seed: UInt64(i)), to: real + "/r\(i).png")
        }
        let fake = temporaryFolder("fake-bad")
        try "not an image".write(toFile: fake + "/f.jpg", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingData.load(realFolder: real, fakeFolder: fake, loader: loader)) { e in
            XCTAssertTrue("\(e)".contains(fake) && "\(e)".contains("fake folder"), "\(e)")
        }
        // tiny images below the patch size count as unreadable for training
        let small = temporaryFolder("fake-small")
        try ImageEncoder.write(TestSupport.texture(width: 16, height: 16, seed: 1), to: small + "/tiny.png")
        XCTAssertThrowsError(try TrainingData.load(realFolder: real, fakeFolder: small, loader: loader))
    }
}
