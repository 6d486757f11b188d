// Messages a user can act on where unmask used to be vague or silent: names that are not UTF-8,
// negative numbers given to options, a report path naming a folder, an empty training folder, an
// unreadable subfolder, the container's tags in the report, frames smaller than the model's patch,
// and a file with a second video stream.
import Detector
import Foundation
import MediaIO
import XCTest

final class ClearMessageTests: CLITestCase {
    func pinnedModel() throws -> String {
        let model = DetectorModel(architecture: .standard, seed: 7)
        model.calibration = Calibration(a: 0, b: -4)
        let path = self.path("model.safetensors")
        try model.save(to: path)
        return path
    }

    func report(_ run: Run, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(run.status, 0, run.standardError, file: file, line: line)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
    }

    func testANameThatIsNotUTF8SaysSo() throws {
        let clip = try makeClip()
        // The name's bytes: "bad", 0xFF, ".mp4". Swift hands the argument over as "bad\u{FFFD}.mp4".
        let folder = workFolder.path
        let rawName = Array("\(folder)/bad".utf8) + [0xFF] + Array(".mp4".utf8) + [0]
        XCTAssertEqual(
            rawName.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: rawName.count) { link(clip, $0) }
            }, 0)
        let run = try unmask(["scan", "\(folder)/bad\u{FFFD}.mp4", "--model", try pinnedModel()])
        XCTAssertEqual(run.status, 65, run.standardError)
        XCTAssertTrue(run.standardError.contains("not UTF-8"), run.standardError)
        XCTAssertEqual(run.errorLines.count, 1, run.standardError)
    }

    func testNegativeNumbersReachTheOptionsCheck() throws {
        let clip = try makeClip()
        for (arguments, option) in [
            (["scan", clip, "--fps", "-1"], "--fps"), (["scan", clip, "--start", "-2"], "--start"),
            (["train", "--real", workFolder.path, "--out", path("run"), "--minutes", "-1"], "--minutes"),
        ] {
            let run = try unmask(arguments)
            XCTAssertEqual(run.status, 64, run.standardError)
            XCTAssertTrue(run.standardError.contains("\(option) must be"), "\(arguments): \(run.standardError)")
            XCTAssertFalse(run.standardError.contains("Missing value"), run.standardError)
        }
    }

    func testAReportPathEndingInASlashIsAFolderNotAFile() throws {
        let clip = try makeClip()
        let target = path("newdir") + "/"
        try assertOneLineError(
            ["scan", clip, "--model", try pinnedModel(), "--format", "json", "--output", target], naming: target, status: 73)
        let run = try unmask(["scan", clip, "--model", try pinnedModel(), "--format", "json", "--output", target])
        XCTAssertTrue(run.standardError.contains("is a folder; give a file name"), run.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("newdir")), "nothing is created")
    }

    func testAnEmptyTrainingFolderLeavesNoEmptyLog() throws {
        let empty = path("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try assertOneLineError(["train", "--real", empty, "--out", path("run"), "--steps", "1"], naming: empty, status: 65)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("run/log.jsonl")))
    }

    func testAnUnreadableSubfolderIsNamed() throws {
        try XCTSkipIf(getuid() == 0, "root reads every folder; run the suite as a user to check this")
        let real = path("real")
        try FileManager.default.createDirectory(atPath: real + "/locked", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: real + "/locked/a.png"))
        XCTAssertEqual(chmod(real + "/locked", 0), 0)
        defer { chmod(real + "/locked", 0o755) }
        let run = try unmask(["train", "--real", real, "--out", path("run"), "--steps", "1"])
        XCTAssertEqual(run.status, 65, run.standardError)
        XCTAssertTrue(run.standardError.contains("locked: cannot read"), run.standardError)
        XCTAssertFalse(run.standardError.contains("contains no files"), run.standardError)
    }

    func testTagsASecondVideoStreamAndSmallFramesAreInTheReport() throws {
        let fixture = Self.repositoryRoot.appendingPathComponent("Tests/UnmaskCLITests/Fixtures/two-video-streams.mkv").path
        let scanned = try report(
            try unmask(["scan", fixture, "--model", try pinnedModel(), "--format", "json", "--no-confirmation"]))
        let file = try XCTUnwrap(scanned["file"] as? [String: Any])
        XCTAssertEqual((file["tags"] as? [String: String])?["title"], "two streams")
        let warnings = try XCTUnwrap(scanned["warnings"] as? [String])
        XCTAssertTrue(warnings.contains { $0.contains("2 video streams") }, "\(warnings)")
        let small = try report(
            try unmask(["scan", try makeClip(), "--model", try pinnedModel(), "--format", "json", "--no-confirmation"]))
        let smallWarnings = try XCTUnwrap(small["warnings"] as? [String])
        XCTAssertTrue(
            smallWarnings.contains { $0.contains("64×48 pixels, smaller than the model's 64×64 patch") }, "\(smallWarnings)")

        // A 128×128 single-stream clip: neither warning.
        let large = path("large.mp4")
        let encoder = try VideoEncoder(path: large, codec: .h264(crf: 20), width: 128, height: 128, frameRate: 10, gopSize: 5)
        for index in 0..<10 {
            var image = RGBImage(width: 128, height: 128)
            for pixel in 0..<(128 * 128) { image.pixels[pixel] = Float((pixel + index) % 128) / 128 }
            try encoder.append(image)
        }
        try encoder.finish()
        let plain = try report(try unmask(["scan", large, "--model", try pinnedModel(), "--format", "json"]))
        let plainWarnings = try XCTUnwrap(plain["warnings"] as? [String])
        XCTAssertFalse(plainWarnings.contains { $0.contains("video streams") || $0.contains("patch") }, "\(plainWarnings)")
        let plainTags = try XCTUnwrap((plain["file"] as? [String: Any])?["tags"] as? [String: String])
        XCTAssertNotNil(plainTags["encoder"], "the muxer's encoder tag: \(plainTags)")
    }
}
