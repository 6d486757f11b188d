// Containers × codecs written by VideoEncoder and read back by VideoDecoder, still images through
// the same decoder, ImageEncoder's outputs, and the in-memory Reencoder round trips.
import Foundation
import XCTest

@testable import MediaIO

final class FormatTests: MediaTestCase {
    func testContainersAndCodecs() throws {
        let cases: [(String, VideoCodecChoice, String, Float)] = [
            ("h264.mp4", .h264(crf: 20), "h264", 0.05),
            ("h264.mkv", .h264(crf: 20), "h264", 0.05),
            ("h264.mov", .h264(crf: 20), "h264", 0.05),
            ("mpeg4.mov", .mpeg4(quality: 90), "mpeg4", 0.06),
            ("mpeg4.avi", .mpeg4(quality: 90), "mpeg4", 0.06),
            ("mjpeg.avi", .mjpeg(quality: 90), "mjpeg", 0.06),
            ("mpeg2.mpg", .mpeg2, "mpeg2video", 0.06),
            ("theora.ogv", .theora, "theora", 0.08),
            ("vp9.webm", .vp9, "vp9", 0.08),
            ("ffv1.mkv", .ffv1, "ffv1", 0.04),
        ]
        var tested = 0
        for (name, codec, codecName, tolerance) in cases {
            guard codec.isAvailable else { continue }  // reported below if none at all
            let p = try makeClip(name, codec: codec, width: 64, height: 48, frameRate: 25, frames: 10)
            let info = try probeMedia(path: p)
            XCTAssertEqual(info.videoCodec, codecName, name)
            XCTAssertEqual(info.width, 64, name)
            XCTAssertEqual(info.frameRate ?? 0, 25, accuracy: 0.1, name)
            XCTAssertFalse(info.isStillImage, name)
            let decoder = try VideoDecoder(path: p)
            var image = RGBImage()
            var frames: [DecodedFrame] = []
            while let f = try decoder.nextFrame(into: &image) { frames.append(f) }
            XCTAssertEqual(frames.count, 10, name)
            XCTAssertEqual(frames.first?.time ?? -1, 0, accuracy: 1e-3, name)
            XCTAssertEqual(frames.last?.time ?? -1, 0.36, accuracy: 1e-3, name)
            XCTAssertEqual(frames.first?.isKeyframe, true, name)
            XCTAssertLessThan(worstBarError(image), tolerance, name)
            XCTAssertTrue(decoder.warnings.isEmpty, "\(name): \(decoder.warnings)")
            tested += 1
        }
        if tested == 0 { throw XCTSkip("no video encoders available") }
    }

    func testStillImages() throws {
        let bars = colourBars(width: 80, height: 40)
        let cases: [(String, String, Float)] = [
            ("bars.png", "png", 0.01), ("bars.jpg", "mjpeg", 0.05), ("bars.bmp", "bmp", 0.01),
            ("bars.tiff", "tiff", 0.01), ("bars.webp", "webp", 0.06),
        ]
        for (name, codec, tolerance) in cases {
            do { try ImageEncoder.write(bars, to: path(name), quality: 95) } catch let error as MediaError
                where error.kind == .encoder
            {
                continue  // encoder missing in this FFmpeg (webp is optional)
            }
            let info = try probeMedia(path: path(name))
            XCTAssertTrue(info.isStillImage, "\(name): \(info.container)")
            XCTAssertEqual(info.videoCodec, codec, name)
            XCTAssertEqual(info.estimatedFrameCount, 1, name)
            XCTAssertNil(info.frameRate, name)
            let (frames, image) = try decodeAll(path(name))
            XCTAssertEqual(frames.count, 1, name)
            XCTAssertEqual(frames.first?.time ?? -1, 0, accuracy: 1e-6, name)
            XCTAssertEqual(image.width, 80, name)
            XCTAssertEqual(image.height, 40, name)
            XCTAssertLessThan(worstBarError(image), tolerance, name)
            // Timestamp sampling on a still returns its only frame.
            XCTAssertEqual(try decodeAll(path(name), sampling: .timestamps([0])).frames.count, 1, name)
            XCTAssertEqual(try decodeAll(path(name), sampling: .keyframesOnly).frames.count, 1, name)
        }
    }

    func testImageEncoderData() throws {
        let bars = colourBars(width: 33, height: 17)
        let png = try ImageEncoder.pngData(bars)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let jpeg = try ImageEncoder.jpegData(bars, quality: 90)
        XCTAssertEqual(Array(jpeg.prefix(2)), [0xFF, 0xD8])
        let small = try ImageEncoder.jpegData(bars, quality: 5)
        XCTAssertLessThan(small.count, jpeg.count)
        // Overwriting an existing file works (temp file + rename) and leaves no temp files behind.
        try ImageEncoder.write(bars, to: path("a.png"))
        try ImageEncoder.write(colourBars(width: 8, height: 8), to: path("a.png"))
        XCTAssertEqual(try probeMedia(path: path("a.png")).width, 8)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a.png"])
        assertMediaError(.invalidArgument, path: path("a.gif")) { try ImageEncoder.write(bars, to: self.path("a.gif")) }
        XCTAssertThrowsError(try ImageEncoder.pngData(RGBImage()))
    }

    /// The tables a JPEG declares (DQT segments), natural order, by table id.
    private func quantizationTables(_ jpeg: Data) -> [Int: [Int]] {
        let zigzag = [
            0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
            21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53,
            60, 61, 54, 47, 55, 62, 63,
        ]
        let bytes = [UInt8](jpeg)
        var tables: [Int: [Int]] = [:]
        var i = 2
        while i + 4 <= bytes.count, bytes[i] == 0xFF, bytes[i + 1] != 0xDA {
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            if bytes[i + 1] == 0xDB {
                var j = i + 4
                while j + 65 <= i + 2 + length {
                    var table = [Int](repeating: 0, count: 64)
                    for k in 0..<64 { table[zigzag[k]] = Int(bytes[j + 1 + k]) }
                    tables[Int(bytes[j] & 0x0F)] = table
                    j += 65
                }
            }
            i += 2 + length
        }
        return tables
    }

    func testJPEGQualityWritesLibjpegTables() throws {
        let bars = colourBars(width: 64, height: 32)
        // libjpeg's quality 50 is Annex K itself; 90 and 100 are its scaled tables (100: every step 1).
        XCTAssertEqual(JPEGQuality.luminanceTable(quality: 50), JPEGQuality.annexKLuminance)
        XCTAssertEqual(JPEGQuality.luminanceTable(quality: 90).prefix(4), [3, 2, 2, 3])
        XCTAssertEqual(JPEGQuality.chrominanceTable(quality: 90).prefix(4), [3, 4, 5, 9])
        XCTAssertEqual(JPEGQuality.luminanceTable(quality: 1).max(), 255)
        XCTAssertEqual(Set(JPEGQuality.luminanceTable(quality: 100)), [1])
        for quality in [1, 50, 75, 90, 100] {
            let tables = quantizationTables(try ImageEncoder.jpegData(bars, quality: quality))
            // FFmpeg's MJPEG encoder keeps the DC step at 8; every AC step is libjpeg's.
            XCTAssertEqual(tables[0]?[0], 8, "quality \(quality)")
            let luma = tables[0].map { Array($0.dropFirst()) }
            // One table serves both planes where the two are equal (quality 1 and 100).
            let chroma = (tables[1] ?? tables[0]).map { Array($0.dropFirst()) }
            XCTAssertEqual(luma, Array(JPEGQuality.luminanceTable(quality: quality).dropFirst()), "quality \(quality)")
            XCTAssertEqual(chroma, Array(JPEGQuality.chrominanceTable(quality: quality).dropFirst()), "quality \(quality)")
        }
    }

    func testReencoderRoundTrips() throws {
        let bars = colourBars(width: 64, height: 32)
        let jpeg = try Reencoder.jpegRoundTrip(bars, quality: 90)
        XCTAssertEqual(jpeg.width, 64)
        XCTAssertEqual(jpeg.height, 32)
        XCTAssertLessThan(worstBarError(jpeg), 0.05)
        XCTAssertNotEqual(jpeg, bars)
        let worse = try Reencoder.jpegRoundTrip(bars, quality: 2)
        XCTAssertGreaterThan(meanAbsDiff(worse, bars), meanAbsDiff(jpeg, bars))

        guard VideoCodecChoice.h264(crf: 0).isAvailable else { throw XCTSkip("no libx264") }
        let h264 = try Reencoder.h264RoundTrip(bars, crf: 18)
        XCTAssertEqual(h264.width, 64)
        XCTAssertLessThan(worstBarError(h264), 0.05)
        let odd = try Reencoder.h264RoundTrip(colourBars(width: 31, height: 17), crf: 30)
        XCTAssertEqual(odd.width, 31)
        XCTAssertEqual(odd.height, 17)
    }

    func testJPEGEncodingIsReproducibleAtEverySize() throws {
        // Widths and heights that are not multiples of 16 leave padding in swscale's input and the
        // encoder's planes; nothing uninitialised may reach the encoded bytes.
        for (width, height) in [(82, 52), (84, 58), (97, 81), (31, 17), (64, 48)] {
            var noise = RGBImage(width: width, height: height)
            var state: UInt32 = 12345
            for i in 0..<noise.pixels.count {
                state = state &* 1_664_525 &+ 1_013_904_223
                noise.pixels[i] = Float(state >> 8) / Float(1 << 24)
            }
            // A larger picture first, so the conversion buffer holds old bytes past this one's end.
            _ = try ImageEncoder.jpegData(RGBImage(width: 160, height: 120), quality: 70)
            let encoded = try (0..<4).map { _ in try ImageEncoder.jpegData(noise, quality: 70) }
            XCTAssertTrue(encoded.allSatisfy { $0 == encoded[0] }, "JPEG bytes \(width)×\(height)")
        }
    }

    func testVideoEncoderArguments() throws {
        assertMediaError(.invalidArgument, path: path("x.mp4")) {
            _ = try VideoEncoder(path: self.path("x.mp4"), codec: .mpeg4(quality: 50), width: 0, height: 10, frameRate: 10)
        }
        assertMediaError(.invalidArgument, path: path("x.nosuchext")) {
            _ = try VideoEncoder(path: self.path("x.nosuchext"), codec: .mpeg4(quality: 50), width: 16, height: 16, frameRate: 10)
        }
        let encoder = try VideoEncoder(path: path("x.avi"), codec: .mpeg4(quality: 50), width: 16, height: 16, frameRate: 10)
        assertMediaError(.invalidArgument, path: path("x.avi")) { try encoder.append(RGBImage(width: 8, height: 8)) }
        try encoder.append(RGBImage(width: 16, height: 16))
        try encoder.finish()
        try encoder.finish()
        XCTAssertEqual(try decodeAll(path("x.avi")).frames.count, 1)
    }

    private func meanAbsDiff(_ a: RGBImage, _ b: RGBImage) -> Float {
        zip(a.pixels, b.pixels).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(a.pixels.count)
    }
}
