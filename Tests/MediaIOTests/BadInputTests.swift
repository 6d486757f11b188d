// Bad input: each case must give a clear, one-line MediaError of the right kind (naming the file),
// or for damaged-but-partly-readable files, the frames before the damage and then an error or warning.
import CFFmpeg
import Foundation
import XCTest

@testable import MediaIO

final class BadInputTests: MediaTestCase {
    private func write(_ data: Data, _ name: String) throws -> String {
        let p = path(name)
        try data.write(to: URL(fileURLWithPath: p))
        return p
    }

    func testMissingPath() {
        let p = path("nope.mp4")
        assertMediaError(.notFound, path: p) { _ = try probeMedia(path: p) }
        assertMediaError(.notFound, path: p) { _ = try VideoDecoder(path: p) }
    }

    func testDirectory() throws {
        let p = path("folder.mp4")
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        assertMediaError(.notAFile, path: p) { _ = try VideoDecoder(path: p) }
    }

    func testFIFO() throws {
        let p = path("pipe.mp4")
        XCTAssertEqual(mkfifo(p, 0o644), 0)
        assertMediaError(.notAFile, path: p) { _ = try VideoDecoder(path: p) }  // must not block
    }

    /// An empty still (an encoder that produced nothing) is a decode error, not a crash on its
    /// missing bytes.
    func testEmptyStillIsADecodeError() {
        assertMediaError(.corrupt, path: "<jpeg>") {
            _ = try Reencoder.decodeStill(Data(), decoder: AV_CODEC_ID_MJPEG, path: "<jpeg>")
        }
    }

    func testEmptyFile() throws {
        let p = try write(Data(), "empty.mp4")
        assertMediaError(.emptyFile, path: p) { _ = try VideoDecoder(path: p) }
    }

    func testRandomBytesNamedMP4() throws {
        // Deterministic pseudo-random bytes (xorshift), so the test cannot flake on a lucky probe match.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<20000).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let p = try write(Data(bytes), "random.mp4")
        assertMediaError(.unrecognizedFormat, path: p) { _ = try VideoDecoder(path: p) }
    }

    func testTextNamedAVI() throws {
        let text = String(repeating: "This is not a video, just some text.\n", count: 50)
        let p = try write(Data(text.utf8), "notes.avi")
        assertMediaError(.unrecognizedFormat, path: p) { _ = try VideoDecoder(path: p) }
    }

    func testAudioOnlyWAV() throws {
        let p = try write(wavFile(), "sound.wav")
        assertMediaError(.noVideoStream, path: p) { _ = try probeMedia(path: p) }
    }

    func testHugePNGDeclaration() throws {
        let p = try write(pngHeader(width: 100_000, height: 100_000), "huge.png")
        assertMediaError(.tooLarge, path: p) { _ = try VideoDecoder(path: p) }
        do { _ = try probeMedia(path: p) } catch let error as MediaError {
            XCTAssertTrue(error.description.contains("100000×100000"), error.description)
            XCTAssertTrue(error.description.contains("268435456-pixel limit"), error.description)
        }
    }

    func testAbsurdHeaderValuesDoNotOverflow() throws {
        let png = try write(pngHeader(width: 0xFFFF_FFFF, height: 0xFFFF_FFFF), "max.png")
        assertMediaError(.tooLarge, path: png) { _ = try VideoDecoder(path: png) }
        let y4m = try write(Data("YUV4MPEG2 W99999999999 H99999999999 F25:1 C420jpeg\nFRAME\n".utf8), "max.y4m")
        XCTAssertThrowsError(try VideoDecoder(path: y4m))
    }

    func testNonFiniteTimestamps() throws {
        let p = try makeClip("t.mp4", codec: .h264(crf: 30), frames: 5)
        let (frames, _) = try decodeAll(p, sampling: .timestamps([.nan, .infinity, 1e30, -5, 0.2]))
        XCTAssertEqual(frames.map(\.index), [0, 2])  // -5 → first frame; 1e30 → past the end
    }

    /// Under FFmpeg's own limit but over ours: the decoder's max_pixels refuses it, the header names the size.
    func testPNGOverOurLimit() throws {
        let p = try write(pngHeader(width: 20_000, height: 20_000), "big.png")
        assertMediaError(.tooLarge, path: p) { _ = try VideoDecoder(path: p) }
    }

    func testPixelLimitOnRealFile() throws {
        let p = try makeClip("small.mp4", codec: .h264(crf: 30), frames: 2)
        assertMediaError(.tooLarge, path: p) { _ = try VideoDecoder(path: p, maxPixels: 1000) }
    }

    func testHugeY4M() throws {
        var bytes = Array("YUV4MPEG2 W60000 H60000 F25:1 Ip C420jpeg\nFRAME\n".utf8)
        bytes += [UInt8](repeating: 0x80, count: 1000)
        let p = try write(Data(bytes), "huge.y4m")
        assertMediaError(.tooLarge, path: p) { _ = try VideoDecoder(path: p) }
    }

    /// Matroska cut in half: the frames before the cut come back, then (FFmpeg reports a plain end of
    /// file) decoding ends cleanly with a warning about the missing frames.
    func testTruncatedMKV() throws {
        let full = try makeClip(
            "full.mkv", codec: .h264(crf: 18), width: 160, height: 120, frameRate: 25, frames: 50, gopSize: 10)
        let cut = try truncatedCopy(of: full, fraction: 0.5, name: "cut.mkv")
        try checkTruncated(cut, expectAtLeast: 3, atMost: 49)
    }

    /// The same cut file under rate sampling, where non-reference frames are not decoded: the missing
    /// half is still reported (the warning counts packets, not decoded frames).
    func testTruncatedMKVUnderRateSampling() throws {
        let full = try makeClip(
            "full.mkv", codec: .h264(crf: 18), width: 160, height: 120, frameRate: 25, frames: 50, gopSize: 10)
        let cut = try truncatedCopy(of: full, fraction: 0.5, name: "cut.mkv")
        let decoder = try checkTruncated(cut, sampling: .rateWithKeyframes(4), expectAtLeast: 2, atMost: 12)
        XCTAssertTrue(decoder.skipsUnsampledNonReferenceFrames)
    }

    /// A demuxer error mid-file (a YUV4MPEG2 frame header overwritten): frames before it, then `.corrupt` once.
    func testDemuxerErrorMidFile() throws {
        var bytes = Array("YUV4MPEG2 W16 H16 F25:1 Ip C420jpeg\n".utf8)
        for i in 0..<6 {
            bytes += Array((i == 4 ? "FRAMX\n" : "FRAME\n").utf8)
            bytes += [UInt8](repeating: 0x80, count: 16 * 16 * 3 / 2)
        }
        let p = try write(Data(bytes), "damaged.y4m")
        let decoder = try VideoDecoder(path: p)
        var image = RGBImage()
        var count = 0
        assertMediaError(.corrupt, path: p) { while try decoder.nextFrame(into: &image) != nil { count += 1 } }
        XCTAssertEqual(count, 4)
        XCTAssertNil(try decoder.nextFrame(into: &image))
    }

    /// Cut before the first frame is complete: no frame, a clear error rather than a silent empty stream.
    func testTruncatedBeforeFirstFrame() throws {
        let full = try makeClip(
            "full.mkv", codec: .h264(crf: 18), width: 160, height: 120, frameRate: 25, frames: 50, gopSize: 10)
        let cut = try truncatedCopy(of: full, fraction: 0.3, name: "early.mkv")
        var image = RGBImage()
        let decoder = try VideoDecoder(path: cut)
        assertMediaError(.corrupt, path: cut) { _ = try decoder.nextFrame(into: &image) }
        XCTAssertNil(try decoder.nextFrame(into: &image))
    }

    /// MP4 with the index at the front (faststart) cut in half: frames before the cut, then error/warning.
    func testTruncatedFaststartMP4() throws {
        let full = try makeClip(
            "fast.mp4", codec: .h264(crf: 18), width: 160, height: 120, frameRate: 25, frames: 50, gopSize: 10,
            muxerOptions: ["movflags": "+faststart"])
        let cut = try truncatedCopy(of: full, fraction: 0.5, name: "fastcut.mp4")
        let decoder = try checkTruncated(cut, expectAtLeast: 3, atMost: 49)
        XCTAssertTrue(decoder.warnings.contains { $0.contains("incomplete packet") }, "\(decoder.warnings)")
    }

    /// MP4 with its index (moov) at the end, cut in half: nothing is decodable, a clear error at open.
    func testTruncatedMP4WithIndexAtEnd() throws {
        let full = try makeClip("moovend.mp4", codec: .h264(crf: 23), frameRate: 25, frames: 50)
        let cut = try truncatedCopy(of: full, fraction: 0.5, name: "moovcut.mp4")
        assertMediaError(.corrupt, path: cut) { _ = try VideoDecoder(path: cut) }
    }

    /// Decodes `path` expecting some frames, then either a thrown `.truncated`/`.corrupt` or a warning.
    @discardableResult
    private func checkTruncated(
        _ path: String, sampling: FrameSampling = .everyFrame, expectAtLeast low: Int, atMost high: Int
    ) throws -> VideoDecoder {
        let decoder = try VideoDecoder(path: path, sampling: sampling)
        var image = RGBImage()
        var count = 0
        var thrown: MediaError?
        do {
            while try decoder.nextFrame(into: &image) != nil { count += 1 }
        } catch let error as MediaError {
            thrown = error
        }
        XCTAssertGreaterThanOrEqual(count, low, "\(path)")
        XCTAssertLessThanOrEqual(count, high, "\(path)")
        if let thrown {
            XCTAssertTrue([.truncated, .corrupt].contains(thrown.kind), thrown.description)
            XCTAssertTrue(thrown.description.hasPrefix(path + ": "), thrown.description)
            XCTAssertNil(try decoder.nextFrame(into: &image), "after the error the decoder is finished")
        } else {
            XCTAssertTrue(decoder.warnings.contains { $0.contains("declared frames") }, "\(decoder.warnings)")
        }
        // Frames returned before the cut are intact.
        if count > 0 { XCTAssertLessThan(worstBarError(image), 0.06) }
        return decoder
    }

    func testVerboseLoggingToggle() throws {
        MediaLog.setVerbose(true)
        MediaLog.setVerbose(false)
        let p = try write(Data("garbage".utf8), "g.mp4")
        assertMediaError(.unrecognizedFormat, path: p) { _ = try probeMedia(path: p) }
    }

    func testErrorDescriptionIsOneLine() {
        let error = MediaError(
            kind: .corrupt, path: "clip.mp4", operation: "cannot open", code: -1094995529,
            message: "Invalid data found\nwhen processing input")
        XCTAssertEqual(error.description, "clip.mp4: cannot open: Invalid data found when processing input")
    }
}
