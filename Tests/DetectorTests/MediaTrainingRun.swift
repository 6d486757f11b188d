// An opt-in training run on real media (skipped unless UNMASK_TRAINING_MEDIA names a folder of real
// images/videos): loads it by file, trains the standard architecture, logs validation, writes a
// checkpoint and a model into UNMASK_RUN_DIR (default /tmp/unmask-detector-run).
import Foundation
import MediaIO
import XCTest

@testable import Detector

final class MediaTrainingRun: XCTestCase {
    func testTrainOnRealMedia() throws {
        let env = ProcessInfo.processInfo.environment
        guard let folder = env["UNMASK_TRAINING_MEDIA"] else { throw XCTSkip("set UNMASK_TRAINING_MEDIA to run") }
        let steps = Int(env["UNMASK_RUN_STEPS"] ?? "") ?? 1000
        let maxSeconds = Double(env["UNMASK_RUN_SECONDS"] ?? "") ?? 600
        let out = env["UNMASK_RUN_DIR"] ?? "/tmp/unmask-detector-run"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let log =
            FileHandle(forWritingAtPath: out + "/log.txt")
            ?? {
                FileManager.default.createFile(atPath: out + "/log.txt", contents: nil);
                return FileHandle(forWritingAtPath: out + "/log.txt")!
            }()
        func say(_ s: String) { log.write((s + "\n").data(using: .utf8)!); print(s) }
        let t0 = Date()
        let data = try TrainingData.load(
            realFolder: folder, fakeFolder: env["UNMASK_FAKE_MEDIA"],
            loader: MediaFolderLoader(framesPerFile: 2, validationFraction: 0.2, minimumSide: 64))
        say(
            "loaded \(data.real.training.count) training / \(data.real.validation.count) validation files in \(Date().timeIntervalSince(t0)) s; skipped \(data.skipped.count)"
        )
        for s in data.skipped.prefix(10) { say("skipped: \(s)") }
        var config = TrainingConfig()
        config.validateEvery = Int(env["UNMASK_RUN_VALIDATE"] ?? "") ?? 250
        let trainer = try Trainer(config: config, data: data)
        trainer.observer = { e in
            switch e {
            case .step(let s) where s.step % 50 == 0:
                say(
                    "step \(s.step) D \(s.discriminatorLoss) adv \(s.adversarialLoss) sup \(s.supervisedLoss) G \(s.generatorLoss.map { "\($0)" } ?? "-") \(String(format: "%.3f", s.seconds)) s/step"
                )
            case .validation(let v):
                say(
                    "validation step \(v.step): AUC \(v.auc) by kind \(v.aucByKind.map { "\($0.key.rawValue) \(String(format: "%.3f", $0.value))" }.sorted()) FPR \(v.falsePositiveRate) FNR \(v.falseNegativeRate)"
                )
            case .rollback(let step, let loss, let restored, let lrD, let lrG):
                say("rollback at step \(step) (loss \(loss)) to \(restored); lr D \(lrD) G \(lrG)")
            default: break
            }
        }
        let start = Date()
        while trainer.step < steps && Date().timeIntervalSince(start) < maxSeconds { trainer.trainStep() }
        try trainer.saveCheckpoint(to: out + "/checkpoint.safetensors")
        let model = try trainer.exportModel(notes: "MediaTrainingRun on \(folder)")
        try model.save(to: out + "/model.safetensors")
        say(
            "done: \(trainer.step) steps in \(Date().timeIntervalSince(start)) s; final AUC \(model.training.validationAUC ?? .nan) FPR \(model.training.validationFalsePositiveRate ?? .nan); calibration \(model.calibration)"
        )
    }
}

/// Opt-in: scores sampled frames of UNMASK_VIDEO with the model UNMASK_MODEL and prints per-frame
/// probabilities, regions and timing (a sanity check of a trained model on real footage).
final class MediaScoringRun: XCTestCase {
    func testScoreVideo() throws {
        let env = ProcessInfo.processInfo.environment
        guard let modelPath = env["UNMASK_MODEL"], let video = env["UNMASK_VIDEO"] else {
            throw XCTSkip("set UNMASK_MODEL and UNMASK_VIDEO to run")
        }
        let scorer = FrameScorer(model: try DetectorModel.load(path: modelPath))
        let decoder = try VideoDecoder(path: video, sampling: .rate(1), maxFrames: Int(env["UNMASK_FRAMES"] ?? "") ?? 10)
        var image = RGBImage()
        while let f = try decoder.nextFrame(into: &image) {
            let start = Date()
            let r = try scorer.score(image)
            print(
                String(
                    format: "frame %d t=%.2f %dx%d p=%.3f s=%.3f top=%.3f global=%.3f region=(%d,%d %dx%d) %.2f s",
                    f.index, f.time, image.width, image.height, r.probability, r.score, r.areaLogit, r.globalLogit,
                    r.region.x, r.region.y, r.region.width, r.region.height, Date().timeIntervalSince(start)))
        }
    }
}
