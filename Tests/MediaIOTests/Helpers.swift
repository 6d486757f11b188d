// Shared fixtures for MediaIO tests: a per-test temp directory, colour-bar images with known
// content, clip generation through MediaIO's own VideoEncoder, and byte-level file writers.
import Foundation
import XCTest

@testable import MediaIO

/// Eight flat vertical bars (classic colour-bar colours), values in 0...1.
let barColours: [(Float, Float, Float)] = [
    (0.75, 0.75, 0.75), (0.75, 0.75, 0), (0, 0.75, 0.75), (0, 0.75, 0),
    (0.75, 0, 0.75), (0.75, 0, 0), (0, 0, 0.75), (0.1, 0.1, 0.1),
]

func colourBars(width: Int, height: Int) -> RGBImage {
    var image = RGBImage(width: width, height: height)
    for y in 0..<height {
        for x in 0..<width { image.setPixel(x: x, y: y, barColours[x * barColours.count / width]) }
    }
    return image
}

/// Mean absolute error per channel over the inner half of each bar; returns the worst bar/channel.
func worstBarError(_ image: RGBImage) -> Float {
    var worst: Float = 0
    let n = barColours.count
    for (bar, colour) in barColours.enumerated() {
        let x0 = bar * image.width / n, x1 = (bar + 1) * image.width / n
        let inner = (x0 + (x1 - x0) / 4)..<(x1 - (x1 - x0) / 4)
        guard !inner.isEmpty else { continue }
        var sum: (Float, Float, Float) = (0, 0, 0)
        var count: Float = 0
        for y in (image.height / 8)..<(image.height - image.height / 8) {
            for x in inner {
                let p = image.pixel(x: x, y: y)
                sum.0 += abs(p.r - colour.0); sum.1 += abs(p.g - colour.1); sum.2 += abs(p.b - colour.2)
                count += 1
            }
        }
        worst = max(worst, sum.0 / count, sum.1 / count, sum.2 / count)
    }
    return worst
}

/// An image whose top-left quadrant is red and the rest blue (to check orientation).
func cornerMarker(width: Int, height: Int) -> RGBImage {
    var image = RGBImage(width: width, height: height)
    for y in 0..<height {
        for x in 0..<width {
            image.setPixel(x: x, y: y, (x < width / 2 && y < height / 2) ? (0.9, 0.1, 0.1) : (0.1, 0.1, 0.9))
        }
    }
    return image
}

func isRed(_ p: (r: Float, g: Float, b: Float)) -> Bool { p.r > 0.6 && p.b < 0.4 }

/// A temp directory removed at the end of the test.
class MediaTestCase: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mediaio-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Writes `frames` frames of colour bars with `VideoEncoder`; skips the test if the encoder is missing.
    @discardableResult
    func makeClip(
        _ name: String, codec: VideoCodecChoice, width: Int = 64, height: Int = 48, frameRate: Int = 10,
        frames: Int = 20, gopSize: Int? = nil, rotation: Int = 0, image: RGBImage? = nil,
        muxerOptions: [String: String] = [:], pixelFormat: String? = nil
    ) throws -> String {
        guard codec.isAvailable else { throw XCTSkip("no \(codec.encoderName) encoder in this FFmpeg") }
        let p = path(name)
        let encoder = try VideoEncoder(
            path: p, codec: codec, width: width, height: height, frameRate: frameRate,
            rotationDegrees: rotation, gopSize: gopSize, pixelFormat: pixelFormat,
            muxerOptions: muxerOptions)
        var picture = image ?? colourBars(width: width, height: height)
        for i in 0..<frames {
            // A white block moving along the top rows (outside what worstBarError measures), so frames
            // differ: some encoders (Theora) drop exact duplicates.
            if image == nil {
                picture = colourBars(width: width, height: height)
                for y in 0..<max(1, height / 8) {
                    for x in 0..<min(4, width) { picture.setPixel(x: (i * 4 + x) % width, y: y, (1, 1, 1)) }
                }
            }
            try encoder.append(picture)
        }
        try encoder.finish()
        return p
    }

    /// Decodes everything, returning frame descriptions (and the last image).
    func decodeAll(
        _ path: String, sampling: FrameSampling = .everyFrame, maxFrames: Int? = nil,
        outputSize: OutputSize = .native
    ) throws -> (frames: [DecodedFrame], last: RGBImage) {
        let decoder = try VideoDecoder(path: path, sampling: sampling, maxFrames: maxFrames, outputSize: outputSize)
        var image = RGBImage()
        var frames: [DecodedFrame] = []
        while let frame = try decoder.nextFrame(into: &image) { frames.append(frame) }
        return (frames, image)
    }

    /// Asserts `body` throws a MediaError of `kind` whose description is one line naming the file.
    func assertMediaError(
        _ kind: MediaError.Kind, path: String, file: StaticString = #filePath, line: UInt = #line,
        _ body: () throws -> Void
    ) {
        do {
            try body()
            XCTFail("expected MediaError.\(kind) for \(path)", file: file, line: line)
        } catch let error as MediaError {
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description, file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), error.description, file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    /// Writes the first `fraction` of `source`'s bytes to `name`.
    func truncatedCopy(of source: String, fraction: Double, name: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        let p = path(name)
        try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: p))
        return p
    }
}

// MARK: - Byte-level writers

func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
}

func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

/// A PNG signature + IHDR chunk (correct CRC) declaring `width × height`, followed by a tiny IDAT and IEND.
func pngHeader(width: UInt32, height: UInt32) -> Data {
    func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be32(UInt32(body.count)) + typed + be32(crc32(typed))
    }
    let ihdr = be32(width) + be32(height) + [8, 2, 0, 0, 0]  // 8-bit RGB
    let idat: [UInt8] = [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]
    return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", []))
}

/// A 1-second mono 8 kHz 16-bit PCM WAV file of silence.
func wavFile(seconds: Int = 1) -> Data {
    let rate: UInt32 = 8000, samples = Int(rate) * seconds
    let dataBytes = UInt32(samples * 2)
    var bytes: [UInt8] = Array("RIFF".utf8) + le32(36 + dataBytes) + Array("WAVE".utf8)
    bytes += Array("fmt ".utf8) + le32(16) + le16(1) + le16(1) + le32(rate) + le32(rate * 2) + le16(2) + le16(16)
    bytes += Array("data".utf8) + le32(dataBytes) + [UInt8](repeating: 0, count: samples * 2)
    return Data(bytes)
}

/// Runs the ffmpeg CLI if installed (used only to make pixel formats our encoders cannot produce).
func runFFmpeg(_ arguments: [String]) throws {
    let candidates = ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"]
    guard let exe = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw XCTSkip("ffmpeg CLI not installed")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: exe)
    process.arguments = ["-hide_banner", "-loglevel", "error", "-y"] + arguments
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw XCTSkip("ffmpeg \(arguments.joined(separator: " ")) failed") }
}
