// Pixel correctness: decoded colours vs encoded colour bars, odd sizes, rotation from the display
// matrix, output-size capping, and pixel formats beyond 8-bit 4:2:0 (gray, pal8, rgba, 10-bit).
import XCTest

@testable import MediaIO

final class PictureTests: MediaTestCase {
    /// H.264 CRF 18 on flat bars: mean abs error < 0.04 per channel per bar (inner half of each bar).
    func testColourBarsH264() throws {
        let p = try makeClip("bars.mp4", codec: .h264(crf: 18), width: 128, height: 64, frames: 3)
        let (frames, image) = try decodeAll(p)
        XCTAssertEqual(frames.count, 3)
        XCTAssertLessThan(worstBarError(image), 0.04)
        XCTAssertTrue(image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// Lossless FFV1 in 4:4:4 must return the 8-bit-quantized input almost exactly.
    func testColourBarsLossless() throws {
        let p = try makeClip("bars.mkv", codec: .ffv1, width: 96, height: 48, frames: 2, pixelFormat: "yuv444p")
        XCTAssertLessThan(worstBarError(try decodeAll(p).last), 0.01)
    }

    func testOddSizes() throws {
        for (name, codec) in [("odd.mp4", VideoCodecChoice.h264(crf: 18)), ("odd.mkv", .ffv1), ("odd.avi", .mjpeg(quality: 90))] {
            let p = try makeClip(name, codec: codec, width: 97, height: 61, frames: 2)
            let info = try probeMedia(path: p)
            XCTAssertEqual(info.width, 97, name)
            XCTAssertEqual(info.height, 61, name)
            let (frames, image) = try decodeAll(p)
            XCTAssertEqual(frames.count, 2, name)
            XCTAssertEqual(image.width, 97, name)
            XCTAssertEqual(image.height, 61, name)
            XCTAssertLessThan(worstBarError(image), 0.05, name)
        }
    }

    func testRotation() throws {
        // Source 64×48 with a red top-left quadrant. Upright output after clockwise rotation r:
        let expectations: [(Int, Int, Int, (Int, Int))] = [
            (0, 64, 48, (2, 2)),  // red stays top-left
            (90, 48, 64, (45, 2)),  // red moves to top-right
            (180, 64, 48, (61, 45)),  // bottom-right
            (270, 48, 64, (2, 61)),  // bottom-left
        ]
        for (rotation, w, h, red) in expectations {
            let p = try makeClip(
                "rot\(rotation).mp4", codec: .h264(crf: 18), frames: 2, rotation: rotation,
                image: cornerMarker(width: 64, height: 48))
            let info = try probeMedia(path: p)
            XCTAssertEqual(info.rotationDegrees, rotation)
            XCTAssertEqual(info.width, 64)
            XCTAssertEqual(info.displayWidth, w)
            let (frames, image) = try decodeAll(p)
            XCTAssertEqual(frames.first?.width, w, "rotation \(rotation)")
            XCTAssertEqual(frames.first?.height, h, "rotation \(rotation)")
            XCTAssertEqual(image.width, w)
            XCTAssertEqual(image.height, h)
            XCTAssertTrue(isRed(image.pixel(x: red.0, y: red.1)), "rotation \(rotation): \(image.pixel(x: red.0, y: red.1))")
            // Exactly one quadrant is red.
            let corners = [(2, 2), (w - 3, 2), (w - 3, h - 3), (2, h - 3)].filter { isRed(image.pixel(x: $0.0, y: $0.1)) }
            XCTAssertEqual(corners.count, 1, "rotation \(rotation)")
        }
    }

    /// Cross-check with FFmpeg's own convention: a file with a display matrix must decode to the same
    /// upright picture as `ffmpeg` (autorotate) produces from it.
    func testRotationMatchesFFmpegCLI() throws {
        try runFFmpeg([
            "-f", "lavfi", "-i", "color=blue:size=64x48:rate=10", "-vf", "drawbox=x=0:y=0:w=32:h=24:color=red:t=fill",
            "-frames:v", "2", "-c:v", "mpeg4", "-q:v", "2", path("plain.mp4"),
        ])
        for tag in [90, 180, 270] {
            let tagged = path("cli-rot\(tag).mp4"), upright = path("cli-rot\(tag).png")
            try runFFmpeg(["-i", path("plain.mp4"), "-c", "copy", "-metadata:s:v", "rotate=\(tag)", tagged])
            try runFFmpeg(["-i", tagged, "-frames:v", "1", upright])
            let info = try probeMedia(path: tagged)
            // FFmpeg 5.1's CLI turns the legacy tag into a matrix of the opposite sign (ffprobe prints
            // "rotation of 90.00 degrees" = counter-clockwise), so only the picture is compared, not the tag.
            XCTAssertEqual(info.rotationDegrees % 180, tag % 180)
            let ours = try decodeAll(tagged).last, theirs = try decodeAll(upright).last
            XCTAssertEqual(ours.width, theirs.width)
            XCTAssertEqual(ours.height, theirs.height)
            for (x, y) in [(2, 2), (ours.width - 3, 2), (ours.width - 3, ours.height - 3), (2, ours.height - 3)] {
                XCTAssertEqual(isRed(ours.pixel(x: x, y: y)), isRed(theirs.pixel(x: x, y: y)), "rotate=\(tag) at \(x),\(y)")
            }
        }
    }

    func testOutputSizeCap() throws {
        let p = try makeClip("big.mp4", codec: .h264(crf: 18), width: 128, height: 64, frames: 2)
        var (frames, image) = try decodeAll(p, outputSize: .longSide(64))
        XCTAssertEqual(frames.first?.width, 64)
        XCTAssertEqual(frames.first?.height, 32)
        XCTAssertEqual(image.width, 64)
        XCTAssertLessThan(worstBarError(image), 0.05)
        // Never upscale.
        (frames, image) = try decodeAll(p, outputSize: .longSide(1000))
        XCTAssertEqual(image.width, 128)
        // Cap applies to the upright picture.
        let r = try makeClip("rot.mp4", codec: .h264(crf: 18), width: 128, height: 64, frames: 1, rotation: 90)
        (frames, image) = try decodeAll(r, outputSize: .longSide(32))
        XCTAssertEqual(image.width, 16)
        XCTAssertEqual(image.height, 32)
    }

    /// Pixel formats other than yuv420p: produced by our encoders where possible, else by the ffmpeg CLI.
    func testPixelFormats() throws {
        var cases: [(String, String)] = []  // (file, expected pixel format)
        if VideoCodecChoice.ffv1.isAvailable {
            for fmt in ["yuv422p10le", "gray", "yuv444p"] {
                let name = "fmt-\(fmt).mkv"
                try makeClip(name, codec: .ffv1, width: 64, height: 48, frames: 1, pixelFormat: fmt)
                cases.append((name, fmt))
            }
        }
        try runFFmpeg(["-f", "lavfi", "-i", "testsrc=size=64x48:rate=1", "-frames:v", "1", "-pix_fmt", "pal8", path("pal8.png")])
        try runFFmpeg(["-f", "lavfi", "-i", "testsrc=size=64x48:rate=1", "-frames:v", "1", "-pix_fmt", "rgba", path("rgba.png")])
        try runFFmpeg([
            "-f", "lavfi", "-i", "testsrc=size=64x48:rate=1", "-frames:v", "1", "-pix_fmt", "yuvj422p", path("j422.jpg"),
        ])
        try runFFmpeg([
            "-f", "lavfi", "-i", "testsrc=size=64x48:rate=1", "-frames:v", "1", "-pix_fmt", "rgb48be", path("rgb48.png"),
        ])
        cases += [("pal8.png", "pal8"), ("rgba.png", "rgba"), ("j422.jpg", "yuvj422p"), ("rgb48.png", "rgb48be")]
        for (name, fmt) in cases {
            let info = try probeMedia(path: path(name))
            XCTAssertEqual(info.pixelFormat, fmt, name)
            let (frames, image) = try decodeAll(path(name))
            XCTAssertEqual(frames.count, 1, name)
            XCTAssertEqual(image.width, 64, name)
            XCTAssertEqual(image.height, 48, name)
            XCTAssertTrue(image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, name)
            if name.hasSuffix(".mkv") {
                // Encoded from colour bars; gray keeps only luma, so check that it is not all black instead.
                if fmt == "gray" {
                    XCTAssertGreaterThan(image.pixels.reduce(0, +) / Float(image.pixels.count), 0.1, name)
                } else {
                    XCTAssertLessThan(worstBarError(image), 0.02, name)
                }
            } else {
                XCTAssertGreaterThan(image.pixels.reduce(0, +) / Float(image.pixels.count), 0.05, name)
            }
        }
    }
}
