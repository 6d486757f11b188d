// `unmask scan` as a user runs it: reports on standard output and in files, exit codes for
// pipelines, and one clear line for a bad model, bad media or an unwritable report. The model is an
// untrained detector whose calibration is pinned, so the verdict is known in advance.
import Audit
import Detector
import Foundation
import MediaIO
import ReportSchemaChecking
import XCTest

final class ScanCommandTests: CLITestCase {
    /// An untrained detector whose calibration maps every frame to p ≈ σ(bias).
    func makeModel(bias: Double, name: String = "model.safetensors") throws -> String {
        let model = DetectorModel(architecture: .standard, seed: 7)
        model.calibration = Calibration(a: 0, b: bias)
        let path = self.path(name)
        try model.save(to: path)
        return path
    }

    func testJSONOnStandardOutputIsTheReportAndNothingElse() throws {
        let clip = try makeClip()
        let model = try makeModel(bias: 6)
        let run = try unmask(["scan", clip, "--model", model, "--format", "json"])
        XCTAssertEqual(run.status, 0, run.standardError)
        let object = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8))
        XCTAssertEqual(ReportSchema.validate(jsonObject: object), [])
        let report = try XCTUnwrap(object as? [String: Any])
        XCTAssertEqual(report["schema"] as? String, "unmask.report/1")
        XCTAssertEqual(report["verdict"] as? String, "fake")
        // Default sampling on a 2 s, 10 fps clip with keyframes every 5 frames: 1 per second plus
        // keyframes (0, 5, 10, 15); every one of them is fake, one run, so confirmation sampling adds
        // 5 per second (the even frames) within ±0.5 s of its two ends, 0 and 15, and none around 5
        // and 10 inside it.
        let frames = try XCTUnwrap(report["frames"] as? [[String: Any]])
        XCTAssertEqual(frames.compactMap { $0["index"] as? Int }, [0, 2, 4, 5, 10, 12, 14, 15, 16, 18])
        let sampledOnly = try unmask(["scan", clip, "--model", model, "--format", "json", "--no-confirmation"])
        XCTAssertEqual(sampledOnly.status, 0, sampledOnly.standardError)
        let sampledReport = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(sampledOnly.standardOutput.utf8)) as? [String: Any])
        let sampledFrames = try XCTUnwrap(sampledReport["frames"] as? [[String: Any]])
        XCTAssertEqual(sampledFrames.compactMap { $0["index"] as? Int }, [0, 5, 10, 15])
        XCTAssertTrue(run.standardError.isEmpty, "no progress bar when stderr is not a terminal: \(run.standardError)")
    }

    func testReportFilesByExtensionAndTheSummary() throws {
        let clip = try makeClip()
        let model = try makeModel(bias: -6)
        let run = try unmask([
            "scan", clip, "--model", model, "--every", "2",
            "--output", path("r.json"), "--output", path("r.csv"), "--output", path("r.html"),
        ])
        XCTAssertEqual(run.status, 0, run.standardError)
        XCTAssertTrue(run.standardOutput.lowercased().contains("real"), run.standardOutput)
        let csv = try String(contentsOfFile: path("r.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 11, "header + 10 frames (every 2nd of 20)")
        let html = try String(contentsOfFile: path("r.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("<svg"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("r.json"))))
        XCTAssertEqual(ReportSchema.validate(jsonObject: json), [])
    }

    func testFailOnGivesExitCode10ForPipelines() throws {
        let clip = try makeClip()
        let fake = try makeModel(bias: 6, name: "fake.safetensors")
        let real = try makeModel(bias: -6, name: "real.safetensors")
        XCTAssertEqual(try unmask(["scan", clip, "--model", fake, "--quiet", "--fail-on", "fake"]).status, 10)
        XCTAssertEqual(try unmask(["scan", clip, "--model", real, "--quiet", "--fail-on", "fake"]).status, 0)
        XCTAssertEqual(try unmask(["scan", clip, "--model", fake, "--quiet", "--fail-on", "uncertain"]).status, 10)
    }

    func testMissingOrCorruptModelIsOneLineAndExit66() throws {
        let clip = try makeClip()
        let missing = path("nowhere.safetensors")
        try assertOneLineError(["scan", clip, "--model", missing], naming: missing, status: 66)
        let corrupt = try write(Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }), to: "corrupt.safetensors")
        try assertOneLineError(["scan", clip, "--model", corrupt], naming: corrupt, status: 66)
    }

    func testBadMediaIsOneLineAndExit65() throws {
        let model = try makeModel(bias: 0)
        let text = try write(Data(String(repeating: "plain text\n", count: 50).utf8), to: "notes.mp4")
        try assertOneLineError(["scan", text, "--model", model], naming: text, status: 65)
        let missing = path("gone.mov")
        try assertOneLineError(["scan", missing, "--model", model], naming: missing, status: 65)
    }

    func testUnwritableReportIsExit73AndLeavesNothingHalfWritten() throws {
        let clip = try makeClip()
        let model = try makeModel(bias: 0)
        let target = path("no-such-folder/report.json")
        let run = try unmask(["scan", clip, "--model", model, "--output", target])
        XCTAssertEqual(run.status, 73, run.standardError)
        XCTAssertTrue(run.standardError.contains(target), run.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("no-such-folder")))
    }

    func testJSONReportToAFullStandardOutputIsExit73NotACrash() throws {
        let clip = try makeClip()
        let model = try makeModel(bias: 0)
        let full = try XCTUnwrap(FileHandle(forWritingAtPath: "/dev/full"))
        let run = try unmask(["scan", clip, "--model", model, "--format", "json"], standardOutput: full)
        XCTAssertEqual(run.status, 73, run.standardError)
        XCTAssertTrue(run.standardError.hasPrefix("unmask: standard output: cannot write"), run.standardError)
    }

    func testAReportNeverReplacesTheScannedFileAndBadDestinationsFailBeforeScanning() throws {
        let clip = try makeClip()
        let model = try makeModel(bias: 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: clip))
        try assertOneLineError(["scan", clip, "--model", model, "--output", clip, "--format", "json"], naming: clip, status: 73)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: clip)), before, "the input is untouched")
        try assertOneLineError(
            ["scan", clip, "--model", model, "--output", model, "--format", "json"], naming: model, status: 73)

        let fifo = path("report-pipe")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        try assertOneLineError(["scan", clip, "--model", model, "--output", fifo, "--format", "json"], naming: fifo, status: 73)

        // Two outputs, the second impossible: neither is written.
        let first = path("first.json"), second = path("no-folder/second.json")
        let run = try unmask(["scan", clip, "--model", model, "--output", first, "--output", second])
        XCTAssertEqual(run.status, 73, run.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: first))
    }

    func testScanUsageErrors() throws {
        let clip = try makeClip()
        let model = try makeModel(bias: 0)
        XCTAssertEqual(try unmask(["scan", clip, "--model", model, "--coverage", "0"]).status, 64)
        XCTAssertEqual(try unmask(["scan", clip, "--model", model, "--format", "json", "--format", "csv"]).status, 64)
        XCTAssertEqual(try unmask(["scan", clip, "--model", model, "--fps", "2", "--every", "3"]).status, 64)
        XCTAssertEqual(try unmask(["scan", clip, "--model", model, "--keyframes", "--all-frames"]).status, 64)
        XCTAssertEqual(try unmask(["scan", clip, "--model", model, "--at", "1,x"]).status, 64)
        XCTAssertEqual(try unmask(["scan", clip, "--model", model, "--start", "3", "--end", "2"]).status, 64)
        XCTAssertEqual(try unmask(["scan", clip, "--model", model, "--output", path("report.pdf")]).status, 64)
    }

    // MARK: bench scan

    func testBenchScanComparesScanWithDecodeOnTheSameFile() throws {
        let clip = try makeClip()
        let model = try makeModel(bias: -6)  // every frame clearly real: no confirmation frames
        let run = try unmask(["bench", "scan", clip, "--model", model, "--runs", "2", "--json"])
        XCTAssertEqual(run.status, 0, run.standardError)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
        XCTAssertEqual(result["framesDecoded"] as? Int, 20)
        // what `unmask scan` analyses by default on this clip: frames 0, 5, 10 and 15
        XCTAssertEqual(result["framesAnalysed"] as? Int, 4)
        let scan = try XCTUnwrap(result["scanSeconds"] as? Double), decode = try XCTUnwrap(result["decodeSeconds"] as? Double)
        XCTAssertGreaterThan(scan, 0)
        XCTAssertGreaterThan(decode, 0)
        XCTAssertNotNil(result["ratioScanToDecode"] as? Double)
        XCTAssertNotNil(result["scanSecondsPerMinuteOfVideo"] as? Double)

        let table = try unmask(["bench", "scan", clip, "--model", model, "--runs", "1"])
        XCTAssertEqual(table.status, 0, table.standardError)
        XCTAssertTrue(table.standardOutput.contains("scan / decode"), table.standardOutput)
        XCTAssertTrue(table.standardOutput.contains("4 frames analysed"), table.standardOutput)

        // The sampling options mean what they mean for `scan`: --fps alone is a rate, --keyframes adds keyframes.
        let denser = try unmask(["bench", "scan", clip, "--model", model, "--runs", "1", "--fps", "5", "--keyframes", "--json"])
        XCTAssertEqual(denser.status, 0, denser.standardError)
        let dense = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(denser.standardOutput.utf8)) as? [String: Any])
        XCTAssertEqual(dense["framesAnalysed"] as? Int, 12, "frames 0, 2, …, 18 by time, and keyframes 5 and 15")
        let rateOnly = try unmask(["bench", "scan", clip, "--model", model, "--runs", "1", "--fps", "5", "--json"])
        XCTAssertEqual(rateOnly.status, 0, rateOnly.standardError)
        let rate = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(rateOnly.standardOutput.utf8)) as? [String: Any])
        XCTAssertEqual(rate["framesAnalysed"] as? Int, 10, "frames 0, 2, …, 18 by time")
    }

    func testBenchScanBadInputsAreOneLineErrors() throws {
        let model = try makeModel(bias: 0)
        let missing = path("gone.mp4")
        try assertOneLineError(["bench", "scan", missing, "--model", model], naming: missing, status: 65)
        let text = try write(Data(String(repeating: "plain text\n", count: 50).utf8), to: "notes.mp4")
        try assertOneLineError(["bench", "scan", text, "--model", model], naming: text, status: 65)
        let clip = try makeClip()
        let noModel = path("no-model.safetensors")
        try assertOneLineError(["bench", "scan", clip, "--model", noModel], naming: noModel, status: 66)
        XCTAssertEqual(try unmask(["bench", "scan", clip, "--model", model, "--runs", "0"]).status, 64)
        XCTAssertEqual(try unmask(["bench", "scan", clip, "--model", model, "--fps", "0"]).status, 64)
    }
}
