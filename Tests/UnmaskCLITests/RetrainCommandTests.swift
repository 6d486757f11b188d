// `unmask retrain` and `unmask models` as a user runs them on small folders of textured images and a
// tiny base model: the guard's refusal (and its override) with the base left untouched, the lineage
// `models` lists, Ctrl-C and --resume, and one clear line with the documented exit code for each
// bad input.
import Detector
import Foundation
import MediaIO
import NeuralNet
import XCTest

final class RetrainCommandTests: CLITestCase {
    static let tinyDetector = DetectorArchitecture(widths: [8, 16, 16], patchSize: 32, window: 64)

    /// `count` textured 96×96 PNGs (gradients plus seeded noise) in a new folder.
    func makeImages(_ name: String, count: Int, seed: UInt64) throws -> String {
        let folder = path(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var rng = RandomGenerator(seed: seed)
        for i in 0..<count {
            var image = RGBImage(width: 96, height: 96)
            let n = 96 * 96
            for p in 0..<n {
                let x = Float(p % 96) / 96, y = Float(p / 96) / 96
                for c in 0..<3 {
                    image.pixels[c * n + p] = min(1, max(0, 0.3 + 0.4 * (c == i % 3 ? x : y) + 0.08 * rng.normal()))
                }
            }
            try ImageEncoder.write(image, to: "\(folder)/image\(i).png")
        }
        return folder
    }

    func makeBase() throws -> String {
        let base = path("base.safetensors")
        try DetectorModel(architecture: Self.tinyDetector, seed: 1).save(to: base)
        return base
    }

    /// Real photographs given as the new fakes: the guard refuses (exit 3), keeps the result as
    /// OUT.rejected.safetensors with its lineage, writes the report, and leaves the base byte for byte;
    /// --accept-regression writes it as OUT and records that in the lineage; `models` lists both.
    func testADamagingRetrainIsRefusedUnlessAcceptedAndTheBaseIsUntouched() throws {
        let base = try makeBase()
        let baseBytes = try Data(contentsOf: URL(fileURLWithPath: base))
        // 32 images each: 8 in each held-out part, the minimum frames per part.
        let real = try makeImages("real", count: 32, seed: 1)
        let notFakes = try makeImages("not-fakes", count: 32, seed: 2)
        let models = path("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: base, toPath: models + "/base.safetensors")
        let arguments = [
            "retrain", "--model", models + "/base.safetensors", "--fake", notFakes, "--real", real, "--steps", "3",
            "--frames-per-file", "1", "--quiet",
        ]
        let refused = try unmask(arguments + ["--out", models + "/v2.safetensors"])
        XCTAssertEqual(refused.status, 3, refused.standardError)
        XCTAssertTrue(refused.standardOutput.contains("Refused"), refused.standardOutput)
        XCTAssertTrue(refused.standardOutput.contains("AUC on new fakes (held out)"), refused.standardOutput)
        XCTAssertTrue(refused.standardOutput.contains("No fakes.csv in"), refused.standardOutput)
        XCTAssertFalse(FileManager.default.fileExists(atPath: models + "/v2.safetensors"))
        let rejected = try DetectorModel.load(path: models + "/v2.rejected.safetensors")
        XCTAssertEqual(rejected.training.lineage?.decision, .refused)
        XCTAssertFalse(rejected.training.lineage?.reasons.isEmpty ?? true)
        XCTAssertEqual(rejected.training.lineage?.parentName, "base.safetensors")
        XCTAssertEqual(rejected.training.lineage?.parentSHA256.count, 64)
        XCTAssertEqual(rejected.training.lineage?.data.fakeFiles, 32)
        let report = try String(contentsOfFile: models + "/v2.retrain/report.html", encoding: .utf8)
        XCTAssertTrue(report.contains("Refused"), "the report says what happened")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: models + "/base.safetensors")), baseBytes)

        let accepted = try unmask(arguments + ["--out", models + "/v3.safetensors", "--accept-regression"])
        XCTAssertEqual(accepted.status, 0, accepted.standardError)
        XCTAssertEqual(
            try DetectorModel.load(path: models + "/v3.safetensors").training.lineage?.decision, .acceptedDespiteRegression)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: models + "/base.safetensors")), baseBytes)

        let listing = try unmask(["models", models])
        XCTAssertEqual(listing.status, 0, listing.standardError)
        XCTAssertTrue(listing.standardOutput.contains("v3.safetensors"), listing.standardOutput)
        XCTAssertTrue(
            listing.standardOutput.contains("retrained from base.safetensors (base.safetensors, sha256"), listing.standardOutput)
        XCTAssertTrue(listing.standardOutput.contains("accepted-despite-regression"), listing.standardOutput)
        XCTAssertTrue(listing.standardOutput.contains("guard objected"), listing.standardOutput)
    }

    func testRetrainBadInputsAreOneLineWithTheirExitCodes() throws {
        let base = try makeBase()
        let baseBytes = try Data(contentsOf: URL(fileURLWithPath: base))
        let real = try makeImages("real", count: 32, seed: 1)
        let fakes = try makeImages("fakes", count: 32, seed: 2)
        let out = path("new.safetensors")
        func retrain(_ extra: [String], model: String = base, fake: String = fakes, out: String = out) -> [String] {
            ["retrain", "--model", model, "--fake", fake, "--real", real, "--out", out, "--steps", "1"] + extra
        }

        // A fake folder with no media.
        let empty = path("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try assertOneLineError(retrain([], fake: empty), naming: empty, status: 65)
        // A base that is not a detector model (a generator), and a checkpoint of another architecture.
        let generator = path("generator.safetensors")
        try GeneratorFile.save(Generator(architecture: GeneratorArchitecture(patchSize: 32), seed: 1), to: generator)
        try assertOneLineError(retrain([], model: generator), naming: generator, status: 66)
        // A detector file whose weights are not of the architecture its metadata declares.
        let mismatched = path("mismatched.safetensors")
        var mismatchedFile = try DetectorModel(architecture: Self.tinyDetector, seed: 1).safeTensorsFile()
        mismatchedFile.metadata["architecture"] =
            try DetectorModel(architecture: DetectorArchitecture(widths: [8, 16, 32], patchSize: 32, window: 64), seed: 1)
            .safeTensorsFile().metadata["architecture"]
        try mismatchedFile.write(toPath: mismatched)
        try assertOneLineError(retrain([], model: mismatched), naming: mismatched, status: 66)
        try FileManager.default.createDirectory(atPath: path("new.retrain"), withIntermediateDirectories: true)
        let checkpoint = path("new.retrain/checkpoint.safetensors")
        var config = TrainingConfig(
            discriminator: DetectorArchitecture(widths: [8, 16, 32], patchSize: 32, window: 64),
            generator: GeneratorArchitecture(latentSize: 16, baseWidth: 32, minimumWidth: 8, patchSize: 32))
        config.validationPatches = 4
        let source = MediaSource(
            relativePath: "a.png", path: "/a.png", frames: [StoredFrame(RGBImage(width: 64, height: 64))])
        try Trainer(config: config, data: TrainingData(real: MediaSplit(training: [source], validation: [source])))
            .saveCheckpoint(to: checkpoint)
        try assertOneLineError(retrain(["--resume", "--quiet"]), naming: checkpoint, status: 66)
        let stale = try unmask(retrain(["--quiet"]))
        XCTAssertEqual(stale.status, 73, "an earlier checkpoint is never silently replaced: \(stale.standardError)")
        XCTAssertTrue(stale.standardError.contains("--resume"), stale.standardError)
        try FileManager.default.removeItem(atPath: path("new.retrain"))
        // Outputs: in a missing folder, the base itself, an existing file.
        try assertOneLineError(retrain([], out: path("missing/new.safetensors")), naming: path("missing"), status: 73)
        let same = try unmask(retrain([], out: base))
        XCTAssertEqual(same.status, 64, same.standardError)
        XCTAssertTrue(same.standardError.contains("base model"), same.standardError)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path("taken.safetensors")))
        try assertOneLineError(retrain([], out: path("taken.safetensors")), naming: path("taken.safetensors"), status: 73)
        XCTAssertEqual(try String(contentsOfFile: path("taken.safetensors"), encoding: .utf8), "keep me")
        // Sidecars naming a missing file or a box outside the frame.
        let sidecar = fakes + "/fakes.csv"
        try "file,x,y,w,h\nnot-there.png,0,0,8,8\n".write(toFile: sidecar, atomically: true, encoding: .utf8)
        let missing = try unmask(retrain([]))
        XCTAssertEqual(missing.status, 65, missing.standardError)
        XCTAssertEqual(missing.errorLines, ["unmask: \(sidecar):2: names not-there.png, which is not in the fake folder"])
        try "file,x,y,w,h\nimage3.png,90,0,20,20\n".write(toFile: sidecar, atomically: true, encoding: .utf8)
        let outside = try unmask(retrain([]))
        XCTAssertEqual(outside.status, 65, outside.standardError)
        XCTAssertTrue(outside.standardError.contains("\(sidecar):2: box 90,0,20,20 of image3.png lies outside its 96×96 frame"))
        try FileManager.default.removeItem(atPath: sidecar)
        // Guard-only real media: a missing folder, an empty one, and one sharing a file with --real.
        try assertOneLineError(retrain(["--guard-real", path("no-guard")]), naming: path("no-guard"), status: 65)
        try assertOneLineError(retrain(["--guard-real", empty]), naming: empty, status: 65)
        let shared = try unmask(retrain(["--guard-real", real]))
        XCTAssertEqual(shared.status, 65, shared.standardError)
        XCTAssertEqual(shared.errorLines.count, 1, shared.standardError)
        XCTAssertTrue(shared.standardError.contains("in both the real folder and the guard-only folder"), shared.standardError)
        // Too little data: 11 fakes.
        let few = try unmask(retrain([], fake: try makeImages("few", count: 11, seed: 3)))
        XCTAssertEqual(few.status, 3, few.standardError)
        XCTAssertEqual(few.errorLines.count, 1, few.standardError)
        XCTAssertTrue(
            few.standardError.contains("11 usable fake files; a retrain needs at least 12 real and 12 fake files"),
            few.standardError)

        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: base)), baseBytes)
        XCTAssertEqual(try unmask(["models", path("no-such-folder")]).status, 65)
    }

    /// Ctrl-C on the running binary once its first checkpoint is on disk: exit 130 with the checkpoint
    /// kept and nothing written as the model; the same command with --resume starts from the
    /// checkpoint's step (the log's second start), not from 0, and finishes the remaining steps.
    func testCtrlCKeepsTheCheckpointAndResumeContinuesFromItsStep() throws {
        let base = try makeBase()
        let real = try makeImages("real", count: 32, seed: 1)
        let fakes = try makeImages("fakes", count: 32, seed: 2)
        let out = path("new.safetensors")
        let checkpoint = path("new.retrain/checkpoint.safetensors")
        let steps = 40
        // A checkpoint after every step (6 ms apart at least), so the first one exists after step 1.
        let arguments = [
            "retrain", "--model", base, "--fake", fakes, "--real", real, "--out", out, "--steps", "\(steps)",
            "--frames-per-file", "1", "--checkpoint-minutes", "0.0001", "--patience", "0", "--accept-regression", "--quiet",
        ]
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let errorPipe = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errorPipe
        try process.run()
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: checkpoint), process.isRunning, Date() < deadline { usleep(2_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint), "no checkpoint before the run ended")
        kill(process.processIdentifier, SIGINT)
        let errorOutput = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, errorOutput)
        XCTAssertTrue(errorOutput.contains("checkpoint saved to \(checkpoint)"), errorOutput)
        XCTAssertTrue(errorOutput.contains("with --resume to continue"), errorOutput)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let interrupted = try TrainingLog(contentsOfFile: path("new.retrain/log.jsonl")).entries.compactMap { entry in
            if case .stop(let stop) = entry.event { return stop } else { return nil }
        }
        XCTAssertEqual(interrupted.map(\.reason), ["interrupted"])
        let stoppedAt = try XCTUnwrap(interrupted.first?.step)
        XCTAssertGreaterThan(stoppedAt, 0, "the signal came after a checkpoint, so after a step")
        XCTAssertLessThan(stoppedAt, steps, "the run was stopped, not finished")

        let resumed = try unmask(arguments + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.standardError)
        XCTAssertTrue(resumed.standardOutput.contains("for \(steps) steps"), resumed.standardOutput)
        let entries = try TrainingLog(contentsOfFile: path("new.retrain/log.jsonl")).entries
        let starts = entries.compactMap { entry -> Int? in
            if case .start(let start) = entry.event { return start.step } else { return nil }
        }
        XCTAssertEqual(starts, [0, stoppedAt], "the resumed run starts at the checkpoint's step")
        let stops = entries.compactMap { entry -> TrainingLogEntry.Stop? in
            if case .stop(let stop) = entry.event { return stop } else { return nil }
        }
        XCTAssertEqual(stops.map(\.reason), ["interrupted", "step limit"])
        XCTAssertEqual(stops.last?.step, steps)
        XCTAssertEqual(try DetectorModel.load(path: out).training.lineage?.steps, steps)
    }
}
