// Tests of retraining on the tiny architecture: a new fake family learned without losing the standing
// set, the guard refusing a damaging retrain, minimum counts, sidecar areas in the batch builder, and
// sidecar errors that name the line and the cause.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class RetrainTests: XCTestCase {
    /// `count` sources of two real textures each, seeds from `seed`.
    func realSources(_ count: Int, seed: UInt64, size: Int = 96) -> [MediaSource] {
        (0..<count).map { i in
            TestSupport.source(
                "real\(seed)-\(i).png",
                (0..<2).map { TestSupport.texture(width: size, height: size, seed: seed + UInt64(10 * i + $0)) })
        }
    }

    /// The new family of these tests: textures rendered at half size, upsampled 2× and carrying a
    /// ±0.04 checkerboard (a transposed-convolution trace) that no zoo family makes.
    func newFamilySources(_ count: Int, seed: UInt64, size: Int = 96) -> [MediaSource] {
        (0..<count).map { i in
            TestSupport.source(
                "new\(seed)-\(i).png",
                (0..<2).map {
                    TestSupport.upsampledTexture(width: size, height: size, seed: seed + UInt64(10 * i + $0), checkerboard: 0.04)
                })
        }
    }

    func settings() -> RetrainSettings {
        var settings = RetrainSettings()
        settings.generator = TestSupport.tinyGenerator
        settings.learningRateD = 1e-3
        settings.validateEvery = 0
        settings.seed = 3
        return settings
    }

    /// The tiny configuration the retrain uses, with the input scale that lets the tiny detector see
    /// faint pixel traces (see TrainingTests).
    var architecture: DetectorArchitecture {
        var a = TestSupport.tinyDetector
        a.inputScale = 64
        return a
    }

    /// A base model trained on real textures and the zoo (never on the new family).
    func trainBase(real: [MediaSource], settings: RetrainSettings, steps: Int) throws -> DetectorModel {
        var config = Retraining.configuration(architecture: architecture, settings: settings)
        config.fakeMix.media = 0
        let trainer = try Trainer(
            config: config, data: TrainingData(real: MediaSplit(training: real, validation: Array(real.prefix(4)))))
        trainer.train(steps: steps)
        return try trainer.exportModel(notes: "test base")
    }

    func retrain(base: DetectorModel, data: RetrainData, settings: RetrainSettings, steps: Int) throws -> (
        model: DetectorModel, report: GuardReport
    ) {
        var config = Retraining.configuration(architecture: base.architecture, settings: settings)
        // The tiny detector's recipe (TrainingTests): a lighter adversarial term and rarer G steps.
        config.adversarialWeight = 0.25
        config.dStepsPerGStep = 5
        let trainer = try Trainer(config: config, data: data.trainingData)
        let folder = temporaryFolder("retrain-\(steps)")
        let session = TrainingSession(
            trainer: trainer, log: try TrainingLogWriter(path: folder + "/log.jsonl", append: false),
            rules: StopRules(steps: steps, patience: 0), checkpointPath: folder + "/checkpoint.safetensors")
        try session.startFromBase(base)
        _ = try session.run()
        let model = try session.export { "retrain of step \($0)" }.model
        print("retrain patch validation: \(trainer.lastValidation.map { "\($0.auc) \($0.aucByKind)" } ?? "-")")
        let zoo = try settings.replay.zoo()
        _ = try Retraining.calibrate(model, data: data, zoo: zoo, settings: settings)
        return (model, try Retraining.compare(base: base, retrained: model, data: data, zoo: zoo, settings: settings))
    }

    /// The acceptance test, small: a base that ranks the new family well below the bar, retrained on
    /// 24 files of it, ranks held-out files of it at AUC ≥ 0.9 while the standing AUC stays within
    /// 0.02 and real frames stay under the FPR limit; the retrained model, as written, scans a real
    /// H.264 clip real with no calibration step of its own. Tiny architecture, 96×96 frames, 48 real files:
    /// about a minute in a release build on 2 shared cores.
    func testRetrainLearnsANewFamilyAndKeepsTheStandingSet() throws {
        let settings = settings()
        let real = realSources(48, seed: 100)
        let base = try trainBase(real: Array(real.prefix(24)), settings: settings, steps: 300)
        let data = RetrainData(real: RetrainSplit(real), fake: RetrainSplit(newFamilySources(24, seed: 5000)))
        try data.check(settings.minimums)
        let (model, report) = try retrain(base: base, data: data, settings: settings, steps: 800)
        print("retrain: \(report.table.map { "\($0.measure): \($0.before) → \($0.after) (\($0.change))" })")
        // The base must not know the new family already, and the retrain's gain must be more than the
        // sampling noise of 12 held-out files. The base sees upsampling in the zoo's decoders and the
        // internal generator, so it can rank this family a little above chance (0.75–0.77 measured).
        XCTAssertLessThan(report.before.newFakesAUC.value, 0.85, "the base must not know the new family already")
        XCTAssertGreaterThan(report.newFakesAUCChange.low, 0.05, "the retrain's gain must be beyond its interval's noise")
        XCTAssertGreaterThanOrEqual(report.after.newFakesAUC.value, 0.9)
        XCTAssertGreaterThanOrEqual(report.standingAUCChange.value, -0.02)
        XCTAssertLessThanOrEqual(report.after.realFalsePositiveRate.value, settings.limits.maximumRealFalsePositiveRate)
        XCTAssertTrue(report.passed, "\(report.failures)")
        XCTAssertGreaterThanOrEqual(model.threshold, 0.5)

        // A real H.264 clip the retrain never saw, scanned with the model as written to disk: its
        // decoded frames scored as `scan` scores them, by the threshold the retrain fitted.
        let folder = temporaryFolder("retrain-scan")
        try model.save(to: folder + "/retrained.safetensors")
        let written = try DetectorModel.load(path: folder + "/retrained.safetensors")
        XCTAssertEqual(written.threshold, model.threshold)
        let clip = folder + "/real.mp4"
        let encoder = try VideoEncoder(path: clip, codec: .h264(crf: 18), width: 96, height: 96, frameRate: 10)
        for seed in 0..<6 { try encoder.append(TestSupport.texture(width: 96, height: 96, seed: 77_000 + UInt64(seed))) }
        try encoder.finish()
        let decoder = try VideoDecoder(path: clip)
        let scorer = FrameScorer(model: written)
        var frame = RGBImage(width: 1, height: 1)
        var called: [Bool] = []
        while try decoder.nextFrame(into: &frame) != nil { called.append(try scorer.score(frame).isFake) }
        XCTAssertEqual(called.count, 6)
        XCTAssertEqual(called.filter { $0 }.count, 0, "real frames called fake: \(called)")
    }

    /// Real media given as the new fakes: nothing to gain and real frames pushed towards fake. The
    /// guard refuses it, and the base model is not changed.
    func testTheGuardRefusesADamagingRetrain() throws {
        let settings = settings()
        let real = realSources(48, seed: 100)
        let base = try trainBase(real: Array(real.prefix(24)), settings: settings, steps: 100)
        let baseWeights = base.discriminator.stateDictionary().mapValues(\.array)
        let data = RetrainData(real: RetrainSplit(real), fake: RetrainSplit(realSources(24, seed: 60_000)))
        let (_, report) = try retrain(base: base, data: data, settings: settings, steps: 200)
        XCTAssertFalse(report.passed)
        XCTAssertTrue(
            report.failures.contains { $0.contains("gain on the new fakes") && $0.contains("not significant") },
            "\(report.failures)")
        XCTAssertEqual(base.discriminator.stateDictionary().mapValues(\.array), baseWeights)
    }

    /// Guard-only real frames: a retrained model that calls them fake where the base did not is
    /// refused even when the held-out real frames stay clean (they are counted apart, not diluted
    /// among them); footage the base already flagged as often is no reason to refuse.
    func testGuardOnlyRealFramesAreJudgedApartFromTheHeldOutOnes() {
        func frame(_ score: Double, fake: Bool = false) -> ScoredFrame {
            ScoredFrame(
                source: "f", isFake: fake, kind: fake ? "new" : "real", variant: "original", width: 8, height: 8, score: score,
                probability: score, regionHit: nil, regionIoU: nil)
        }
        func guardFrames(guardOnlyBefore: Double, guardOnlyAfter: Double) -> [GuardFrame] {
            var frames: [GuardFrame] = []
            // 40 held-out real files, one frame each, at 0.1 for both models; each with a replay fake at 0.9.
            for file in 0..<40 {
                frames.append(GuardFrame(kind: .real, file: file, before: frame(0.1), after: frame(0.1)))
                frames.append(
                    GuardFrame(
                        kind: .replay(family: "resample"), file: file, before: frame(0.9, fake: true),
                        after: frame(0.9, fake: true)))
            }
            // 2 guard-only files with 2 frames each.
            for file in 40..<42 {
                for _ in 0..<2 {
                    frames.append(
                        GuardFrame(
                            kind: .real, file: file, before: frame(guardOnlyBefore), after: frame(guardOnlyAfter), guardOnly: true
                        ))
                }
            }
            // New fakes, caught much better after.
            for file in 0..<20 {
                frames.append(
                    GuardFrame(
                        kind: .newFake, file: file, before: frame(0.05 + 0.001 * Double(file), fake: true),
                        after: frame(0.95, fake: true)))
            }
            return frames
        }
        let flagged = RegressionGuard.compare(
            guardFrames(guardOnlyBefore: 0.1, guardOnlyAfter: 0.8), thresholds: (0.5, 0.5), limits: GuardLimits())
        XCTAssertEqual(flagged.after.realFalsePositiveRate.value, 0, "guard-only frames are not held-out frames")
        XCTAssertEqual(flagged.after.guardOnlyFalsePositiveRate?.value, 1)
        XCTAssertEqual(flagged.before.guardOnlyFalsePositiveRate?.value, 0)
        XCTAssertEqual(flagged.guardOnlyFiles, 2)
        XCTAssertEqual(flagged.guardOnlyFrames, 4)
        XCTAssertEqual(flagged.failures.count, 1, "\(flagged.failures)")
        XCTAssertTrue(flagged.failures[0].contains("guard-only real frames would be called fake"), "\(flagged.failures)")
        XCTAssertTrue(flagged.table.contains { $0.measure == "guard-only real frames called fake" })

        let alreadyFlagged = RegressionGuard.compare(
            guardFrames(guardOnlyBefore: 0.8, guardOnlyAfter: 0.8), thresholds: (0.5, 0.5), limits: GuardLimits())
        XCTAssertTrue(alreadyFlagged.passed, "\(alreadyFlagged.failures)")
        let clean = RegressionGuard.compare(
            guardFrames(guardOnlyBefore: 0.1, guardOnlyAfter: 0.2), thresholds: (0.5, 0.5), limits: GuardLimits())
        XCTAssertTrue(clean.passed, "\(clean.failures)")
        XCTAssertEqual(clean.after.guardOnlyFalsePositiveRate?.value, 0)
        let without = RegressionGuard.compare(
            guardFrames(guardOnlyBefore: 0.1, guardOnlyAfter: 0.1).filter { !$0.guardOnly }, thresholds: (0.5, 0.5),
            limits: GuardLimits())
        XCTAssertNil(without.after.guardOnlyFalsePositiveRate)
        XCTAssertNil(without.guardOnlyFiles)
        XCTAssertFalse(without.table.contains { $0.measure.contains("guard-only") })
    }

    /// A base that weighs evidence the real-frame way is recalibrated the same way, and a fitted one
    /// the fitted way.
    func testRecalibrationKeepsTheBaseModelsEvidenceWeighting() throws {
        let data = RetrainData(
            real: RetrainSplit(realSources(12, seed: 1, size: 160)), fake: RetrainSplit(newFamilySources(12, seed: 2, size: 160)))
        var settings = RetrainSettings()
        settings.minimums = RetrainMinimums(filesPerPart: 3, framesPerPart: 4)
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 3)
        model.calibration = Calibration(
            a: 1, b: 0, standardization: Standardization(network: .init(mean: 0, spread: 1), scale: .init(mean: 0, spread: 1)))
        let standardized = try Retraining.calibrate(model, data: data, zoo: nil, settings: settings)
        let s = try XCTUnwrap(standardized.calibration.standardization, "\(standardized.calibration)")
        XCTAssertNotEqual(s.scale, .init(mean: 0, spread: 1), "refitted on the calibration part")
        XCTAssertEqual(model.calibration.weighedEvidence, [.scale])

        model.calibration = Calibration(a: 1, b: 0, scaleWeight: 2)
        let fitted = try Retraining.calibrate(model, data: data, zoo: nil, settings: settings)
        XCTAssertNil(fitted.calibration.standardization)
    }

    func testTooLittleDataIsRefusedNamingTheMinimum() throws {
        let data = RetrainData(
            real: RetrainSplit(realSources(20, seed: 1, size: 64)), fake: RetrainSplit(newFamilySources(9, seed: 2, size: 64)))
        XCTAssertThrowsError(try data.check(RetrainMinimums())) { error in
            XCTAssertEqual(
                "\(error)",
                "too little data: 9 usable fake files; a retrain needs at least 12 real and 12 fake files, so that the "
                    + "calibration part and the guard part each get 3 files and 8 frames of each kind")
        }
        // Enough files, too few frames in a part: one frame per file.
        let oneFrame = (0..<12).map {
            TestSupport.source("one\($0).png", [TestSupport.texture(width: 64, height: 64, seed: UInt64($0))])
        }
        XCTAssertThrowsError(
            try RetrainData(real: RetrainSplit(oneFrame), fake: RetrainSplit(newFamilySources(12, seed: 2, size: 64))).check(
                RetrainMinimums())
        ) { error in
            XCTAssertTrue("\(error)".contains("the calibration part has 3 real files with 3 frames"), "\(error)")
            XCTAssertTrue("\(error)".contains("8 frames of each kind"), "\(error)")
        }
    }

    func testSplitIsByFileAndDisjoint() {
        let split = RetrainSplit(realSources(13, seed: 1, size: 64))
        XCTAssertEqual([split.training.count, split.calibration.count, split.guardSet.count], [6, 4, 3])
        let names = split.all.map(\.relativePath)
        XCTAssertEqual(Set(names).count, 13)
    }

    /// Fake frames that are black with a white box: after cropping and the geometric augmentations a
    /// pixel's brightness equals its fake mask, so every cell's target must equal its mean brightness —
    /// cells outside the box (black) are trained as real, never as fake.
    func testSidecarBoxesAreTheOnlyFakeCellsInTheBatch() throws {
        let size = 96, box = PixelRegion(x: 50, y: 20, width: 20, height: 40)
        var image = RGBImage(width: size, height: size)
        for c in 0..<3 {
            for y in box.y..<(box.y + box.height) {
                for x in box.x..<(box.x + box.width) { image.pixels[(c * size + y) * size + x] = 1 }
            }
        }
        let fakes = (0..<4).map {
            MediaSource(
                relativePath: "boxed\($0).png", path: "/synthetic/boxed\($0).png",
                frames: [StoredFrame(image, fakeArea: FakeArea(box: box))])
        }
        var data = TestSupport.syntheticData(files: 3, size: size)
        data.fake = MediaSplit(training: fakes, validation: fakes)
        var config = TestSupport.tinyConfig()
        config.fakeMix = FakeMix(partial: 0, selfBlended: 0, media: 1)
        config.augmentation = .none
        config.augmentation.flip = 0.5
        config.augmentation.resize = 0.5
        let trainer = try Trainer(config: config, data: data)
        let Nr = config.realPerBatch, Ng = config.generatedPerBatch, P = config.discriminator.patchSize, m = P / 8
        var checkedCells = 0, fakeCells = 0
        for _ in 0..<20 {
            let targets = trainer.buildDiscriminatorBatch()
            for j in 0..<config.otherFakesPerBatch {
                XCTAssertEqual(targets.global.pointer[Nr + j], 1)
                var rowTarget: Float = 0
                for r in 0..<m {
                    for c in 0..<m {
                        var brightness: Float = 0
                        for y in 0..<8 {
                            for x in 0..<8 {
                                brightness += trainer.batch.pointer[((Nr + Ng + j) * 3 * P + r * 8 + y) * P + c * 8 + x]
                            }
                        }
                        brightness /= 64
                        let target = targets.cells.pointer[(Nr + j) * m * m + r * m + c]
                        XCTAssertEqual(target, brightness, accuracy: 1e-3, "row \(j) cell (\(r), \(c))")
                        checkedCells += 1
                        if target > 0 { fakeCells += 1 }
                        rowTarget += target
                    }
                }
                XCTAssertGreaterThan(rowTarget, 0, "a fake patch must overlap the box")
            }
        }
        XCTAssertGreaterThan(checkedCells - fakeCells, 100, "cells outside the box were drawn and checked")
        XCTAssertGreaterThan(trainer.augmenter.counts["flip", default: 0], 0)
        XCTAssertGreaterThan(trainer.augmenter.counts["resize", default: 0], 0)
    }

    func testSidecarErrorsNameTheLineAndTheCause() throws {
        let folder = temporaryFolder("sidecar")
        let real = folder + "/real", fake = folder + "/fake"
        for dir in [real, fake] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        for i in 0..<2 {
            try ImageEncoder.write(TestSupport.texture(width: 80, height: 64, seed: UInt64(i)), to: "\(real)/r\(i).png")
            try ImageEncoder.write(TestSupport.upsampledTexture(width: 80, height: 64, seed: UInt64(i)), to: "\(fake)/f\(i).png")
        }
        let sidecar = fake + "/fakes.csv"
        func load(_ text: String) throws -> RetrainData {
            try text.write(toFile: sidecar, atomically: true, encoding: .utf8)
            return try RetrainData.load(realFolder: real, fakeFolder: fake, loader: MediaFolderLoader())
        }
        func assertError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try load(text), file: file, line: line) { error in
                XCTAssertEqual("\(error)", expected, file: file, line: line)
            }
        }
        assertError("file,x,y,w,h\nmissing.png,0,0,8,8\n", "\(sidecar):2: names missing.png, which is not in the fake folder")
        assertError(
            "file,x,y,w,h\nf0.png,70,0,20,8\n", "\(sidecar):2: box 70,0,20,8 of f0.png lies outside its 80×64 frame")
        assertError("file,x,y,w\nf0.png,1,2,3\n", "\(sidecar):2: a box needs x, y, w and h, with w and h > 0")
        assertError("file,start,end\nf0.png,3,1\n", "\(sidecar):2: end 1.0 s is not after start 3.0 s")
        assertError("file,colour\n", "\(sidecar):1: unknown column 'colour'; the columns are file, x, y, w, h, mask, start, end")

        let good = try load("# where the fakes are\nfile,x,y,w,h\nf1.png,8,8,32,16\n")
        let boxed = good.fake.all.first { $0.relativePath == "f1.png" }!
        XCTAssertEqual(boxed.frames[0].fakeArea, FakeArea(box: PixelRegion(x: 8, y: 8, width: 32, height: 16)))
        XCTAssertNil(good.fake.all.first { $0.relativePath == "f0.png" }!.frames[0].fakeArea)

        try FileManager.default.removeItem(atPath: fake + "/f0.png")
        try FileManager.default.removeItem(atPath: fake + "/f1.png")
        XCTAssertThrowsError(try load("file,x,y,w,h\n")) { error in
            XCTAssertEqual("\(error)", "\(fake): fake folder contains no media files")
        }
    }
}
