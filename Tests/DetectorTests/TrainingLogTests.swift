// Tests of the training log: every entry kind through the writer and back through the reader,
// non-finite numbers as null (never a sentinel) read back as NaN or nil, a resumed run's appended log
// read as one history, a cut last line skipped and counted, the step interval of trainer events,
// and lines in the form logs already on disk have.
import Foundation
import XCTest

@testable import Detector

final class TrainingLogTests: XCTestCase {
    /// One entry of every kind, all numbers finite, times exactly representable.
    func everyKind() -> [TrainingLogEntry] {
        let events: [TrainingLogEntry.Event] = [
            .start(
                .init(command: "unmask train --real r --out o", files: "4 real training files", step: 0, config: "{\"seed\":1}")),
            .step(
                .init(
                    step: 10, discriminatorLoss: 1.25, adversarialLoss: 0.5, supervisedLoss: 0.75, generatorLoss: -0.25,
                    vaeLoss: 0.125, learningRateD: 4e-4, learningRateG: 1e-4, seconds: 0.5)),
            .step(
                .init(
                    step: 11, discriminatorLoss: 1, adversarialLoss: 0.5, supervisedLoss: 0.5, generatorLoss: nil, vaeLoss: nil,
                    learningRateD: 4e-4, learningRateG: 1e-4, seconds: 0.25)),
            .validation(
                .init(
                    step: 20, auc: 0.875, trainingAUC: 0.9, falsePositiveRate: 0.0625, falseNegativeRate: 0.125, diversity: 1.5,
                    aucByKind: ["generated": 0.5, "media": 1])),
            .rollback(.init(step: 21, loss: 2e4, restoredStep: 15, learningRateD: 2e-4, learningRateG: 5e-5)),
            .checkpoint(path: "/tmp/run/checkpoint.safetensors", step: 25),
            .warning(message: "generator diversity fell"),
            .stop(.init(reason: "step limit", step: 30, seconds: 12.5)),
            .model(
                .init(
                    path: "/tmp/run/model.safetensors", auc: 0.875, falsePositiveRate: 0.0625, calibrationA: 1.5,
                    calibrationB: -0.25)),
            .baseModel(auc: 0.75),
            .rejected(auc: 0.625, baseAUC: 0.75),
        ]
        return events.enumerated().map {
            TrainingLogEntry(time: Date(timeIntervalSince1970: 1_800_000_000 + Double($0) / 4), event: $1)
        }
    }

    func write(_ entries: [TrainingLogEntry], to path: String, append: Bool) throws {
        let writer = try TrainingLogWriter(path: path, append: append)
        for entry in entries { try writer.append(entry) }
    }

    func testEveryEntryKindRoundTrips() throws {
        let path = temporaryFolder("log-kinds") + "/log.jsonl"
        let entries = everyKind()
        XCTAssertEqual(Set(entries.map(\.kind)), Set(TrainingLogEntry.Kind.allCases), "the sample covers every kind")
        try write(entries, to: path, append: false)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").count, entries.count, "one line per entry")
        XCTAssertTrue(text.hasSuffix("\n"))
        let log = try TrainingLog(contentsOfFile: path)
        XCTAssertEqual(log.skippedLines, 0)
        XCTAssertEqual(log.entries, entries)
        // The keys logs have always had.
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("{\"command\":"), "keys sorted: \(lines[0])")
        XCTAssertTrue(lines[1].contains("\"d_loss\":1.25") && lines[1].contains("\"g_loss\":-0.25"), lines[1])
        XCTAssertTrue(lines[1].contains("\"event\":\"step\"") && lines[1].contains("\"lr_d\":0.0004"), lines[1])
        XCTAssertFalse(lines[2].contains("g_loss") || lines[2].contains("vae_loss"), "no G step, no key: \(lines[2])")
        XCTAssertTrue(lines[3].contains("\"auc_by_kind\":{\"generated\":0.5,\"media\":1}"), lines[3])
        XCTAssertTrue(lines[9].contains("\"event\":\"base_model\""), lines[9])
        XCTAssertTrue(lines[10].contains("\"base_auc\":0.75"), lines[10])
        XCTAssertTrue(lines[0].hasSuffix("\"time\":1800000000}"), lines[0])
    }

    func testNonFiniteNumbersAreNullAndReadBackAsNaN() throws {
        let path = temporaryFolder("log-nan") + "/log.jsonl"
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        try write(
            [
                TrainingLogEntry(
                    time: time,
                    event: .step(
                        .init(
                            step: 10, discriminatorLoss: .nan, adversarialLoss: .nan, supervisedLoss: 0.5,
                            generatorLoss: .infinity,
                            vaeLoss: -.infinity, learningRateD: 4e-4, learningRateG: 1e-4, seconds: 0.5))),
                TrainingLogEntry(
                    time: time,
                    event: .validation(
                        .init(
                            step: 20, auc: .nan, trainingAUC: 0.5, falsePositiveRate: 0, falseNegativeRate: 1, diversity: .nan,
                            aucByKind: ["media": .nan, "partial": 0.75]))),
                TrainingLogEntry(time: time, event: .rejected(auc: .nan, baseAUC: 0.5)),
            ], to: path, append: false)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for key in ["d_loss", "adversarial_loss", "g_loss", "vae_loss", "auc", "diversity", "media"] {
            XCTAssertTrue(text.contains("\"\(key)\":null"), "\(key) written as null: \(text)")
        }
        XCTAssertFalse(text.contains("-1") || text.lowercased().contains("nan") || text.contains("inf"), text)

        let log = try TrainingLog(contentsOfFile: path)
        XCTAssertEqual(log.skippedLines, 0)
        XCTAssertEqual(log.entries.map(\.kind), [.step, .validation, .rejected])
        guard case .step(let step) = log.entries[0].event, case .validation(let validation) = log.entries[1].event,
            case .rejected(let auc, let baseAUC) = log.entries[2].event
        else { return XCTFail("kinds \(log.entries.map(\.kind))") }
        XCTAssertTrue(step.discriminatorLoss.isNaN && step.adversarialLoss.isNaN)
        XCTAssertEqual(step.supervisedLoss, 0.5)
        XCTAssertTrue(step.generatorLoss?.isNaN == true, "null g_loss is a G step whose loss was not finite")
        XCTAssertTrue(step.vaeLoss?.isNaN == true)
        XCTAssertTrue(validation.auc.isNaN && validation.diversity.isNaN)
        XCTAssertEqual(validation.trainingAUC, 0.5)
        XCTAssertTrue(validation.aucByKind["media"]?.isNaN == true)
        XCTAssertEqual(validation.aucByKind["partial"], 0.75)
        XCTAssertTrue(auc.isNaN)
        XCTAssertEqual(baseAUC, 0.5)
    }

    /// A resumed run opens the log with `append: true`; both runs read back as one history. A new run
    /// (`append: false`) starts the file over.
    func testResumedLogReadsAsOneHistory() throws {
        let path = temporaryFolder("log-resume") + "/log.jsonl"
        let entries = everyKind()
        let first = Array(entries[0..<4]), second = Array(entries[4...])
        try write(first, to: path, append: false)
        try write(second, to: path, append: true)
        let log = try TrainingLog(contentsOfFile: path)
        XCTAssertEqual(log.entries, first + second)
        XCTAssertEqual(log.skippedLines, 0)

        try write(second, to: path, append: false)
        XCTAssertEqual(try TrainingLog(contentsOfFile: path).entries, second)
    }

    /// A run killed mid-write leaves a cut last line: it is skipped and counted, as is any other line
    /// that is not an entry; the lines around it still read.
    func testCutLastLineIsSkippedAndCounted() throws {
        let path = temporaryFolder("log-cut") + "/log.jsonl"
        let entries = everyKind()
        try write(Array(entries[0..<3]), to: path, append: false)
        let next = try JSONEncoder().encode(entries[3])
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(next.prefix(next.count / 2))
        try handle.close()
        var log = try TrainingLog(contentsOfFile: path)
        XCTAssertEqual(log.entries, Array(entries[0..<3]))
        XCTAssertEqual(log.skippedLines, 1)

        let lines = [
            "{\"event\":\"step\",\"time\":1800000000}",  // no step
            "{\"event\":\"retrain\",\"time\":1800000000,\"step\":3}",  // unknown kind
            "not json", "",
        ]
        log = TrainingLog(decoding: Data((lines.joined(separator: "\n") + "\n").utf8) + (try JSONEncoder().encode(entries[5])))
        XCTAssertEqual(log.entries, [entries[5]])
        XCTAssertEqual(log.skippedLines, 3, "the empty line is not counted")

        XCTAssertThrowsError(try TrainingLog(contentsOfFile: path + ".missing")) { error in
            XCTAssertEqual(
                error as? TrainingLogError, TrainingLogError(path: path + ".missing", reason: "cannot read the log file"))
        }
    }

    /// Trainer events: steps only every `stepInterval`, every other event always, numbers widened to Double.
    func testRecordedTrainerEvents() throws {
        let path = temporaryFolder("log-record") + "/log.jsonl"
        let writer = try TrainingLogWriter(path: path, append: false, stepInterval: 10)
        for step in 1...20 {
            try writer.record(
                .step(
                    StepStatistics(
                        step: step, discriminatorLoss: 0.1, adversarialLoss: 0.25, supervisedLoss: 0.5,
                        generatorLoss: step % 2 == 0 ? 0.75 : nil, vaeLoss: nil, learningRateD: 4e-4, learningRateG: 1e-4,
                        seconds: 0.5)))
        }
        try writer.record(
            .validation(
                ValidationStatistics(
                    step: 20, auc: 0.75, aucByKind: [.media: 0.5, .partial: .nan], falsePositiveRate: 0.25,
                    falseNegativeRate: 0.5,
                    realCount: 8, fakeCount: 8, trainingAUC: 0.875, diversity: 1)))
        try writer.record(.rollback(step: 21, loss: .infinity, restoredStep: 20, learningRateD: 2e-4, learningRateG: 5e-5))
        try writer.record(.checkpoint(path: "c.safetensors", step: 20))
        try writer.record(.warning("careful"))
        let log = try TrainingLog(contentsOfFile: path)
        XCTAssertEqual(log.entries.map(\.kind), [.step, .step, .validation, .rollback, .checkpoint, .warning])
        XCTAssertEqual(log.entries.map(\.step), [10, 20, 20, 21, 20, nil])
        guard case .step(let step) = log.entries[0].event, case .validation(let validation) = log.entries[2].event,
            case .rollback(let rollback) = log.entries[3].event
        else { return XCTFail("kinds \(log.entries.map(\.kind))") }
        XCTAssertEqual(step.discriminatorLoss, Double(Float(0.1)), "the Float widened exactly")
        XCTAssertEqual(step.generatorLoss, 0.75)
        XCTAssertEqual(step.learningRateD, Double(Float(4e-4)))
        XCTAssertEqual(validation.aucByKind["media"], 0.5)
        XCTAssertTrue(validation.aucByKind["partial"]?.isNaN == true)
        XCTAssertTrue(rollback.loss.isNaN, "an infinite loss is null in the log")
        XCTAssertEqual(rollback.restoredStep, 20)
        XCTAssertEqual(log.entries[5].event, .warning(message: "careful"))
    }

    /// Lines as logs already on disk have them (from a run of `unmask train` before the log was typed;
    /// one AUC per kind replaced by −1, the "undefined" marker those logs used in `auc_by_kind`).
    func testLinesOfExistingLogsRead() throws {
        let lines = [
            #"{"adversarial_loss":0.7112184762954712,"d_loss":1.6489940881729126,"event":"step","g_loss":1.686549186706543,"#
                + #""lr_d":0.00039999998989515007,"lr_g":9.999999747378752e-05,"seconds":0.613371729850769,"step":10,"#
                + #""supervised_loss":0.9377756118774414,"time":1796145705.824349}"#,
            #"{"auc":0.6216634114583334,"auc_by_kind":{"generated":0.7194010416666666,"partial":-1,"#
                + #""selfBlended":0.5486653645833334},"diversity":0.15295140665770998,"event":"validation","#
                + #""false_negative_rate":0.6822916666666666,"false_positive_rate":0.2552083333333333,"step":10,"#
                + #""time":1796145712.71541,"training_auc":0.7577853732638888}"#,
            #"{"event":"checkpoint","path":"\/tmp\/run\/checkpoint.safetensors","step":20,"time":1796145733.406267}"#,
        ]
        let log = TrainingLog(decoding: Data(lines.joined(separator: "\n").utf8))
        XCTAssertEqual(log.skippedLines, 0)
        guard log.entries.count == 3, case .step(let step) = log.entries[0].event,
            case .validation(let validation) = log.entries[1].event
        else { return XCTFail("\(log.entries)") }
        XCTAssertEqual(step.step, 10)
        XCTAssertEqual(step.discriminatorLoss, 1.6489940881729126)
        XCTAssertEqual(step.generatorLoss, 1.686549186706543)
        XCTAssertEqual(step.learningRateD, Double(Float(4e-4)))
        XCTAssertNil(step.vaeLoss)
        XCTAssertEqual(log.entries[0].time.timeIntervalSince1970, 1796145705.824349, accuracy: 1e-6)
        XCTAssertEqual(validation.auc, 0.6216634114583334)
        XCTAssertEqual(validation.aucByKind["generated"], 0.7194010416666666)
        XCTAssertTrue(validation.aucByKind["partial"]?.isNaN == true, "the −1 marker reads as NaN")
        XCTAssertEqual(validation.trainingAUC, 0.7577853732638888)
        XCTAssertEqual(log.entries[2].event, .checkpoint(path: "/tmp/run/checkpoint.safetensors", step: 20))
    }
}
