// `unmask bench learn` as a user runs it: per-family signal lines, then one evaluation per
// --evaluate-every steps with AUCs in 0…1 (JSON lines), a held-out family without a training AUC;
// bad options, unknown families and a missing folder are refused with their exit codes.
import Detector
import Foundation
import MediaIO
import NeuralNet
import XCTest

final class LearnBenchCommandTests: CLITestCase {
    /// Six textured 160×160 PNGs in a new folder (large enough for the 128-pixel context crops).
    func makeFolder() throws -> String {
        let folder = path("real")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var rng = RandomGenerator(seed: 4)
        for i in 0..<6 {
            var image = RGBImage(width: 160, height: 160)
            let n = 160 * 160
            for p in 0..<n {
                let x = Float(p % 160) / 160, y = Float(p / 160) / 160
                for c in 0..<3 { image.pixels[c * n + p] = min(1, max(0, 0.2 + 0.5 * (c == i % 3 ? x : y) + 0.1 * rng.normal())) }
            }
            try ImageEncoder.write(image, to: "\(folder)/image\(i).png")
        }
        return folder
    }

    func testPrintsSignalThenEvaluationsAsJSONLines() throws {
        let folder = try makeFolder()
        let run = try unmask([
            "bench", "learn", "--real", folder, "--family", "resample,copy-move", "--held-out-family", "denoise", "--pairs", "8",
            "--validation-pairs", "4", "--tail-windows", "16", "--hard-negatives", "2", "--hard-negative-candidates", "8",
            "--hard-negative-select", "4", "--pool-loss-weight", "0.5", "--pool-temperature", "0.5",
            "--pool-area-cells", "4",
            "--steps", "2", "--evaluate-every", "1", "--batch-pairs", "2", "--json",
        ])
        XCTAssertEqual(run.status, 0, run.standardError)
        let objects = try run.standardOutput.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let signals = objects.filter { $0["meanDifferenceInside"] != nil }
        let evaluations = objects.filter { $0["step"] != nil }
        XCTAssertFalse(signals.isEmpty)
        for signal in signals {
            XCTAssertTrue(["resample", "copy-move", "denoise"].contains(signal["family"] as? String), "\(signal)")
            XCTAssertGreaterThan(signal["meanDifferenceInside"] as? Double ?? 0, signal["meanDifferenceOutside"] as? Double ?? 1)
        }
        XCTAssertEqual(evaluations.compactMap { $0["step"] as? Int }, [1, 2])
        for evaluation in evaluations { XCTAssertNotNil(evaluation["tailThreshold"] as? Double, "\(evaluation)") }
        for evaluation in evaluations {
            let families = try XCTUnwrap(evaluation["families"] as? [[String: Any]])
            XCTAssertEqual(families.count, signals.count)
            XCTAssertEqual(families.filter { $0["heldOut"] as? Bool == true }.compactMap { $0["family"] as? String }, ["denoise"])
            for family in families {
                let heldOut = family["heldOut"] as? Bool == true
                // a held-out family has no training pairs, so no training AUC
                for key in heldOut ? ["validationAUC"] : ["trainingAUC", "validationAUC"] {
                    XCTAssertTrue((0...1).contains(family[key] as? Double ?? -1), "\(key) in \(family)")
                }
                if heldOut { XCTAssertNil(family["trainingAUC"], "\(family)") }
                XCTAssertTrue((0...1).contains(family["validationTailTPR"] as? Double ?? -1), "\(family)")
            }
        }
    }

    func testOutWritesAnUncalibratedModelAndNeverOverwrites() throws {
        let folder = try makeFolder()
        let out = path("probe.safetensors")
        let base = [
            "bench", "learn", "--real", folder, "--family", "copy-move", "--pairs", "4", "--validation-pairs", "2",
            "--steps", "2", "--batch-pairs", "2", "--tail-windows", "0",
        ]
        let run = try unmask(base + ["--out", out])
        XCTAssertEqual(run.status, 0, run.standardError)
        let model = try DetectorModel.load(path: out)
        XCTAssertEqual(model.training.steps, 2)
        XCTAssertEqual(model.calibration.a, 1); XCTAssertEqual(model.calibration.b, 0)
        XCTAssertTrue(model.training.notes.contains("uncalibrated"), model.training.notes)
        XCTAssertFalse(model.training.notes.contains("cosine"), model.training.notes)
        let decayed = path("decayed.safetensors")
        let withDecay = try unmask(base + ["--cosine-decay", "--out", decayed])
        XCTAssertEqual(withDecay.status, 0, withDecay.standardError)
        let decayedNotes = try DetectorModel.load(path: decayed).training.notes
        XCTAssertTrue(decayedNotes.contains("with cosine decay"), decayedNotes)
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let again = try unmask(base + ["--out", out])
        XCTAssertEqual(again.status, 73)
        XCTAssertTrue(again.standardError.contains("already exists"), again.standardError)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before, "an existing file was replaced")
        let missing = try unmask(base + ["--out", path("no-such-folder/m.safetensors")])
        XCTAssertEqual(missing.status, 73)
        XCTAssertTrue(missing.standardError.contains("does not exist"), missing.standardError)
        XCTAssertFalse(missing.standardOutput.contains("step"), "trained before refusing the output")
    }

    /// Patches as large as the inference window train, from frames smaller than their 512-pixel
    /// context crops (reflected at the frame's edges, as a scan's padded windows are).
    func testTrainsOnPatchesOfTheInferenceWindow() throws {
        let folder = try makeFolder()
        let out = path("window.safetensors")
        let run = try unmask([
            "bench", "learn", "--real", folder, "--family", "copy-move", "--pairs", "2", "--validation-pairs", "2",
            "--steps", "1", "--batch-pairs", "2", "--tail-windows", "0", "--patch-size", "256", "--out", out,
        ])
        XCTAssertEqual(run.status, 0, run.standardError)
        let model = try DetectorModel.load(path: out)
        XCTAssertEqual(model.architecture.patchSize, 256)
        XCTAssertEqual(model.architecture.window, 256)
        XCTAssertEqual(model.training.steps, 1)
    }

    func testBadInputIsRefused() throws {
        let folder = try makeFolder()
        let base = [
            "bench", "learn", "--real", folder, "--pairs", "4", "--validation-pairs", "2", "--steps", "1", "--tail-windows", "0",
        ]
        let oddPatch = try unmask(base + ["--patch-size", "96"])
        XCTAssertEqual(oddPatch.status, 64)
        XCTAssertTrue(oddPatch.standardError.contains("--patch-size must be 64, 128 or 256"), oddPatch.standardError)
        for (arguments, named) in [
            (["--pairs", "0"], "--pairs"), (["--pairs", "many"], "many"), (["--family", "no-such-family"], "no-such-family"),
            (["--held-out-family", "no-such-family"], "no-such-family"),
        ] {
            let refused = try unmask(base + arguments)
            XCTAssertEqual(refused.status, 64, "\(arguments)")
            XCTAssertTrue(refused.standardError.contains(named), "\(arguments): \(refused.standardError)")
        }
        XCTAssertEqual(try unmask(base + ["--hard-negatives", "1", "--hard-negative-select", "9000"]).status, 64)
        for side in ["100", "1024"] {  // under 2 or over 8 patch sides of 64
            let context = try unmask(base + ["--context-side", side])
            XCTAssertEqual(context.status, 64, context.standardError)
            XCTAssertTrue(context.standardError.contains("--context-side must be in 128…512"), context.standardError)
        }
        for change in ["-0.1", "2", "nan"] {
            let filtered = try unmask(base + ["--minimum-region-change", change])
            XCTAssertEqual(filtered.status, 64, filtered.standardError)
        }
        for (option, value) in [
            ("--pool-loss-weight", "-1"), ("--pool-loss-weight", "nan"), ("--pool-temperature", "0"),
            ("--pool-temperature", "inf"), ("--pool-area-cells", "0"), ("--pool-area-cells", "9"),
        ] {
            let weight = option == "--pool-loss-weight" ? [] : ["--pool-loss-weight", "1"]
            let pooled = try unmask(base + weight + [option, value])
            XCTAssertEqual(pooled.status, 64, pooled.standardError)
            XCTAssertTrue(pooled.standardError.contains("\(option) must be in"), pooled.standardError)
        }
        let unweighted = try unmask(base + ["--pool-area-cells", "2"])
        XCTAssertEqual(unweighted.status, 64, unweighted.standardError)
        XCTAssertTrue(unweighted.standardError.contains("need --pool-loss-weight"), unweighted.standardError)
        XCTAssertEqual(try unmask(["bench", "learn", "--real", path("missing")]).status, 65)
    }
}
