// Tests of the training session (stop rules, checkpoints, the log, interruption and resume) and of
// the calibrator (threshold, minimum counts), on the tiny architecture.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class TrainingSessionTests: XCTestCase {
    func makeSession(_ folder: String, trainer: Trainer, rules: StopRules, append: Bool = false) throws -> TrainingSession {
        TrainingSession(
            trainer: trainer, log: try TrainingLogWriter(path: folder + "/log.jsonl", append: append), rules: rules,
            checkpointPath: folder + "/checkpoint.safetensors")
    }

    func testStepLimitStopsTheRunAndLeavesACheckpointAndALog() throws {
        let folder = temporaryFolder("session-steps")
        var config = TestSupport.tinyConfig()
        config.validateEvery = 2
        let session = try makeSession(
            folder, trainer: try Trainer(config: config, data: TestSupport.syntheticData(files: 3, size: 64)),
            rules: StopRules(steps: 4))
        var events: [TrainingEvent] = []
        session.observer = { events.append($0) }
        try session.logStart(command: "test", files: "3 files")
        let stop = try session.run()
        XCTAssertEqual(stop.step, 4)
        XCTAssertEqual(session.stopReason, .stepLimit)
        XCTAssertEqual(
            events.filter {
                if case .validation = $0 { return true }; return false
            }.count, 2)
        let export = try session.export { "step \($0)" }
        XCTAssertNil(export.baseAUC)
        XCTAssertFalse(export.isWorseThanBase)
        try session.logOutcome(export, path: folder + "/model.safetensors")
        let kinds = try TrainingLog(contentsOfFile: folder + "/log.jsonl").entries.map(\.kind)
        XCTAssertEqual(kinds.first, .start)
        XCTAssertEqual(kinds.filter { $0 == .validation }.count, 3, "two in the run, one at the export: \(kinds)")
        XCTAssertEqual(Array(kinds.suffix(3)), [.stop, .validation, .model])
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/checkpoint.safetensors"))
    }

    /// With the frozen-generator schedule the detector still trains but the generator takes no step:
    /// its parameters stay bit-identical and no step reports a generator loss; the schedule of two D
    /// steps per G step changes them at every second step.
    func testFrozenGeneratorTakesNoSteps() throws {
        let data = TestSupport.syntheticData(files: 3, size: 64)
        var config = TestSupport.tinyConfig()
        config.dStepsPerGStep = TrainingConfig.frozenGenerator
        XCTAssertTrue(config.generatorIsFrozen)
        XCTAssertNoThrow(try config.validate())
        let frozen = try Trainer(config: config, data: data)
        let generatorBefore = frozen.generator.namedParameters().map(\.value.array)
        let detectorBefore = frozen.discriminator.namedParameters().map(\.value.array)
        let stats = (0..<3).map { _ in frozen.trainStep() }
        XCTAssertTrue(stats.allSatisfy { $0.generatorLoss == nil }, "\(stats.map(\.generatorLoss))")
        XCTAssertEqual(frozen.generator.namedParameters().map(\.value.array), generatorBefore)
        XCTAssertNotEqual(frozen.discriminator.namedParameters().map(\.value.array), detectorBefore)

        config.dStepsPerGStep = 2
        XCTAssertFalse(config.generatorIsFrozen)
        let playing = try Trainer(config: config, data: data)
        let before = playing.generator.namedParameters().map(\.value.array)
        let steps = (0..<2).map { _ in playing.trainStep() }
        XCTAssertNil(steps[0].generatorLoss)
        XCTAssertNotNil(steps[1].generatorLoss)
        XCTAssertNotEqual(playing.generator.namedParameters().map(\.value.array), before)
    }

    func testTimeLimitAndEarlyStopEndTheRun() throws {
        let data = TestSupport.syntheticData(files: 3, size: 64)
        let timed = try makeSession(
            temporaryFolder("session-time"), trainer: try Trainer(config: TestSupport.tinyConfig(), data: data),
            rules: StopRules(steps: 1000, minutes: 1))
        // A clock that advances 20 s per reading: the minute is over after a few steps.
        var clock = Date(timeIntervalSince1970: 0)
        timed.now = {
            clock += 20
            return clock
        }
        let timedStop = try timed.run()
        XCTAssertEqual(timed.stopReason, .timeLimit)
        XCTAssertLessThan(timedStop.step, 5)

        var config = TestSupport.tinyConfig()
        config.validateEvery = 1
        let patient = try makeSession(
            temporaryFolder("session-patience"), trainer: try Trainer(config: config, data: data),
            rules: StopRules(steps: 200, patience: 1))
        let patientStop = try patient.run()
        XCTAssertEqual(patient.stopReason, .earlyStop(patience: 1))
        XCTAssertLessThan(patientStop.step, 200)
    }

    /// An interrupted run saves a checkpoint; resuming it ends where an uninterrupted run ends, bit
    /// for bit, and the base model the run started from is not changed by either.
    func testInterruptionSavesACheckpointAndResumingEqualsAnUninterruptedRun() throws {
        let data = TestSupport.syntheticData(files: 3, size: 64)
        let base = DetectorModel(architecture: TestSupport.tinyDetector, seed: 5)
        let baseWeights = base.discriminator.stateDictionary().mapValues(\.array)

        let straightFolder = temporaryFolder("session-straight")
        let straight = try makeSession(
            straightFolder, trainer: try Trainer(config: TestSupport.tinyConfig(), data: data), rules: StopRules(steps: 6))
        try straight.startFromBase(base)
        _ = try straight.run()

        let folder = temporaryFolder("session-interrupted")
        let first = try makeSession(
            folder, trainer: try Trainer(config: TestSupport.tinyConfig(), data: data), rules: StopRules(steps: 6))
        try first.startFromBase(base)
        first.isInterrupted = { [unowned first] in first.trainer.step >= 3 }  // a strong capture is a cycle
        let interrupted = try first.run()
        XCTAssertEqual(first.stopReason, .interrupted)
        XCTAssertEqual(interrupted.step, 3)

        let resumed = try makeSession(
            folder, trainer: try Trainer(resumingFrom: folder + "/checkpoint.safetensors", data: data),
            rules: StopRules(steps: 6), append: true)
        XCTAssertEqual(resumed.trainer.step, 3)
        _ = try resumed.run()
        XCTAssertEqual(resumed.trainer.step, 6)
        let expected = straight.trainer.discriminator.stateDictionary()
        for (name, tensor) in resumed.trainer.discriminator.stateDictionary() {
            XCTAssertEqual(tensor.array, expected[name]?.array, name)
        }
        XCTAssertEqual(base.discriminator.stateDictionary().mapValues(\.array), baseWeights)
        let kinds = try TrainingLog(contentsOfFile: folder + "/log.jsonl").entries.map(\.kind)
        XCTAssertEqual(kinds.filter { $0 == .stop }.count, 2, "\(kinds)")
        XCTAssertEqual(kinds.first, .baseModel)
    }

    func testAnUnwritableCheckpointIsAnErrorNamingIt() throws {
        let folder = temporaryFolder("session-log")
        let session = try makeSession(
            folder, trainer: try Trainer(config: TestSupport.tinyConfig(), data: TestSupport.syntheticData(files: 3, size: 64)),
            rules: StopRules(steps: 1), append: false)
        try FileManager.default.removeItem(atPath: folder)
        // The checkpoint folder is gone: the final checkpoint cannot be written.
        XCTAssertThrowsError(try session.run()) { error in
            XCTAssertEqual((error as? TrainingSessionError)?.path, folder + "/checkpoint.safetensors", "\(error)")
        }
    }

    func testCalibratorFitsAThresholdWithinTheTargetAndRefusesTooFewFrames() throws {
        func frame(_ score: Double, fake: Bool, variant: String = "original") -> ScoredFrame {
            ScoredFrame(
                source: "s", isFake: fake, kind: fake ? "media" : "real", variant: variant, width: 8, height: 8, score: score,
                probability: 0, regionHit: nil, regionIoU: nil)
        }
        let real = (0..<50).map { frame(Double($0) / 25 - 2, fake: false) }
        let fake = (0..<50).map { frame(Double($0) / 25, fake: true) }
        let calibrator = Calibrator(falsePositiveRate: 0.04, minimumRealFrames: 50, minimumFakeFrames: 10)
        let fit = try calibrator.fit(real + fake)
        let falsePositives = fit.frames.filter { !$0.isFake && $0.probability >= fit.threshold }.count
        XCTAssertLessThanOrEqual(falsePositives, 2, "at most 4 % of 50 real frames")
        XCTAssertGreaterThanOrEqual(fit.threshold, 0.5)
        XCTAssertGreaterThan(fit.calibration.a, 0)
        XCTAssertEqual(fit.variants, ["original"])

        XCTAssertThrowsError(try calibrator.fit(Array(real.prefix(49)) + fake)) { error in
            XCTAssertEqual(
                "\(error)", "too few held-out frames to calibrate: 49 real and 50 fake, the minimum is 50 real and 10 fake")
        }
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 1)
        calibrator.apply(fit, to: model, realFiles: 7)
        XCTAssertEqual(model.threshold, fit.threshold)
        XCTAssertTrue(model.training.notes.contains("frame calibration on 7 held-out real files"), model.training.notes)
    }
}
