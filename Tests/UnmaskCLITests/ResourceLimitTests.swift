// The scan's resource limits as a user meets them: a frame over the pixel limit is refused before it is
// decoded (exit 65, naming the file), and a keyframe storm or the analysed-frame cap is a warning in
// the report rather than hours of scoring.
import Detector
import Foundation
import MediaIO
import XCTest

final class ResourceLimitTests: CLITestCase {
    func pinnedModel() throws -> String {
        let model = DetectorModel(architecture: .standard, seed: 7)
        model.calibration = Calibration(a: 0, b: -4)
        let path = self.path("model.safetensors")
        try model.save(to: path)
        return path
    }

    func report(_ run: Run) throws -> [String: Any] {
        XCTAssertEqual(run.status, 0, run.standardError)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
    }

    func testAFrameOverThePixelLimitIsRefusedBeforeDecoding() throws {
        let model = try pinnedModel()
        let huge = path("huge.png")
        XCTAssertTrue(FileManager.default.createFile(atPath: huge, contents: Self.pngHeader(width: 16_000, height: 16_000)))
        let started = Date()
        let run = try unmask(["scan", huge, "--model", model, "--max-frame-pixels", "1000000"])
        XCTAssertEqual(run.status, 65, run.standardError)
        XCTAssertTrue(
            run.standardError.contains("16000×16000") && run.standardError.contains("1000000-pixel limit"), run.standardError)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(try unmask(["scan", huge, "--model", model, "--max-frame-pixels", "0"]).status, 64)
    }

    func testAKeyframeStormIsThinnedAndTheAnalysedFrameCapIsAWarning() throws {
        // The clip: all-intra 64×64 at 1000 fps (here 1 s of it). Default sampling took every keyframe.
        let clip = path("storm.mp4")
        let encoder = try VideoEncoder(path: clip, codec: .h264(crf: 30), width: 64, height: 64, frameRate: 1000, gopSize: 1)
        for index in 0..<1000 {
            var image = RGBImage(width: 64, height: 64)
            for pixel in 0..<(64 * 64) { image.pixels[pixel] = Float((pixel + index) % 64) / 64 }
            try encoder.append(image)
        }
        try encoder.finish()
        let model = try pinnedModel()
        let storm = try report(try unmask(["scan", clip, "--model", model, "--format", "json", "--no-confirmation"]))
        let frames = try XCTUnwrap(storm["frames"] as? [[String: Any]])
        XCTAssertLessThanOrEqual(frames.count, 10, "1 per second plus keyframes at most every 0.25 s")
        let warnings = try XCTUnwrap(storm["warnings"] as? [String])
        XCTAssertTrue(warnings.contains { $0.contains("keyframe storm") }, "\(warnings)")

        let capped = try report(
            try unmask(["scan", clip, "--model", model, "--format", "json", "--all-frames", "--max-analysed-frames", "30"]))
        XCTAssertEqual((capped["frames"] as? [Any])?.count, 30)
        let cappedWarnings = try XCTUnwrap(capped["warnings"] as? [String])
        XCTAssertTrue(cappedWarnings.contains { $0.contains("limit of 30 analysed frames") }, "\(cappedWarnings)")
    }
}
