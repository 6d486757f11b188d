// Frame counts, timestamps, indices and keyframe flags for each FrameSampling mode, on a generated
// H.264 clip: 2 s at 10 fps, GOP 5 (keyframes exactly at frames 0, 5, 10, 15), plus streaming reuse.
import XCTest

@testable import MediaIO

final class SamplingTests: MediaTestCase {
    private func clip() throws -> String {
        try makeClip("gop5.mp4", codec: .h264(crf: 23), frameRate: 10, frames: 20, gopSize: 5)
    }

    func testProbe() throws {
        let info = try probeMedia(path: try clip())
        XCTAssertEqual(info.videoCodec, "h264")
        XCTAssertTrue(info.container.contains("mp4"), info.container)
        XCTAssertEqual(info.containerName, "mp4")
        XCTAssertEqual(info.width, 64)
        XCTAssertEqual(info.height, 48)
        XCTAssertEqual(info.frameRate ?? 0, 10, accuracy: 0.01)
        XCTAssertEqual(info.estimatedFrameCount, 20)
        XCTAssertEqual(info.durationSeconds ?? 0, 2, accuracy: 0.15)
        XCTAssertEqual(info.rotationDegrees, 0)
        XCTAssertEqual(info.pixelFormat, "yuv420p")
        XCTAssertFalse(info.hasAudio)
        XCTAssertFalse(info.isStillImage)
        XCTAssertEqual(try MediaInfo.probe(path: info.path), info)
    }

    func testEveryFrame() throws {
        let (frames, image) = try decodeAll(try clip())
        XCTAssertEqual(frames.map(\.index), Array(0..<20))
        for (i, f) in frames.enumerated() {
            XCTAssertEqual(f.time, Double(i) * 0.1, accuracy: 1e-3)
            XCTAssertEqual(f.isKeyframe, i % 5 == 0, "frame \(i)")
            XCTAssertEqual(f.width, 64)
            XCTAssertEqual(f.height, 48)
        }
        XCTAssertEqual(image.width, 64)
        XCTAssertEqual(image.pixels.count, 3 * 64 * 48)
    }

    func testEveryNth() throws {
        let (frames, _) = try decodeAll(try clip(), sampling: .everyNth(3))
        XCTAssertEqual(frames.map(\.index), [0, 3, 6, 9, 12, 15, 18])
    }

    func testRate() throws {
        let (frames, _) = try decodeAll(try clip(), sampling: .rate(2))
        XCTAssertEqual(frames.map(\.index), [0, 5, 10, 15])
        XCTAssertEqual(frames.map { ($0.time * 10).rounded() / 10 }, [0, 0.5, 1.0, 1.5])
    }

    func testRateWithKeyframes() throws {
        // GOP 3 keyframes (0, 3, 6, …) do not fall on the 1-per-second slots (0, 10): both are taken.
        let p = try makeClip("gop3.mp4", codec: .h264(crf: 23), frameRate: 10, frames: 20, gopSize: 3)
        let (frames, _) = try decodeAll(p, sampling: .rateWithKeyframes(1))
        XCTAssertEqual(frames.map(\.index), [0, 3, 6, 9, 10, 12, 15, 18])
        XCTAssertEqual(frames.map(\.isKeyframe), [true, true, true, true, false, true, true, true])
    }

    func testAKeyframeStormIsThinnedWithAWarning() throws {
        // All-intra at 100 fps: every frame is a keyframe. At 1 fps plus keyframes, keyframes are taken
        // at most every quarter second instead of all 200.
        let p = try makeClip("intra.mp4", codec: .h264(crf: 23), frameRate: 100, frames: 200, gopSize: 1)
        let decoder = try VideoDecoder(path: p, sampling: .rateWithKeyframes(1))
        var image = RGBImage()
        var frames: [DecodedFrame] = []
        while let frame = try decoder.nextFrame(into: &image) { frames.append(frame) }
        XCTAssertEqual(decoder.keyframeSpacing, 0.25)
        XCTAssertEqual(frames.map(\.index), [0, 25, 50, 75, 100, 125, 150, 175])
        XCTAssertTrue(
            decoder.warnings.contains { $0.contains("keyframe storm") && $0.hasPrefix("192 keyframes") }, "\(decoder.warnings)")
    }

    func testDecodedFrameAndDurationLimitsStopWithAWarning() throws {
        let p = try clip()
        var image = RGBImage()
        let counted = try VideoDecoder(path: p, maxDecodedFrames: 7)
        var indices: [Int] = []
        while let frame = try counted.nextFrame(into: &image) { indices.append(frame.index) }
        XCTAssertEqual(indices, Array(0..<7))
        XCTAssertTrue(counted.warnings.contains { $0.contains("decoded-frame limit") }, "\(counted.warnings)")

        let timed = try VideoDecoder(path: p, sampling: .everyNth(2), maxDuration: 0.45)
        indices = []
        while let frame = try timed.nextFrame(into: &image) { indices.append(frame.index) }
        XCTAssertEqual(indices, [0, 2, 4])
        XCTAssertTrue(timed.warnings.contains { $0.contains("duration limit") }, "\(timed.warnings)")

        let unlimited = try VideoDecoder(path: p, maxDecodedFrames: 20, maxDuration: 10)
        while try unlimited.nextFrame(into: &image) != nil {}
        XCTAssertEqual(unlimited.decodedFrameCount, 20)
        XCTAssertEqual(unlimited.warnings, [], "a file within the limits gets no warning")
    }

    func testTimeRange() throws {
        let p = try clip()
        let decoder = try VideoDecoder(path: p, sampling: .everyNth(2), startTime: 0.5, endTime: 1.2)
        var image = RGBImage()
        var frames: [DecodedFrame] = []
        while let frame = try decoder.nextFrame(into: &image) { frames.append(frame) }
        // Seeking lands on the keyframe at 0.5 s; frames 5…12 are in range, every 2nd of those kept.
        XCTAssertEqual(frames.map(\.index), [5, 7, 9, 11])
        XCTAssertEqual(frames.first?.time ?? -1, 0.5, accuracy: 1e-3)
        XCTAssertThrowsError(try VideoDecoder(path: p, startTime: -1))
        XCTAssertThrowsError(try VideoDecoder(path: p, startTime: 2, endTime: 1))
    }

    func testTimeRangesGiveWhatEachRangeAloneGivesAndSeekOnlyWhenThatSavesDecoding() throws {
        // Keyframes every 5 frames: between 0.2–0.4 s and 1.6–1.8 s a seek skips to the keyframe at
        // 1.5 s. One keyframe for the whole clip: a seek would go back to frame 0, so it decodes on.
        let ranges = [0.2...0.4, 1.6...1.8]
        for (name, gop, most) in [("gop5.mp4", 5, 12), ("gop40.mp4", 40, 20)] {
            let p = try makeClip(name, codec: .h264(crf: 23), frameRate: 10, frames: 20, gopSize: gop)
            for sampling in [FrameSampling.everyFrame, .rate(5)] {
                var separate: [DecodedFrame] = []
                var decodedSeparately = 0
                for range in ranges {
                    let alone = try VideoDecoder(
                        path: p, sampling: sampling, startTime: range.lowerBound, endTime: range.upperBound)
                    while let f = try alone.nextFrameWithoutConversion() { separate.append(f) }
                    decodedSeparately += alone.decodedFrameCount
                }
                let decoder = try VideoDecoder(path: p, sampling: sampling, ranges: ranges)
                var frames: [DecodedFrame] = []
                while let f = try decoder.nextFrameWithoutConversion() { frames.append(f) }
                XCTAssertEqual(frames, separate, "\(name) \(sampling)")
                XCTAssertFalse(frames.isEmpty)
                XCTAssertLessThanOrEqual(decoder.decodedFrameCount, most, "\(name) \(sampling)")
                if gop == 40 {
                    XCTAssertLessThan(decoder.decodedFrameCount, decodedSeparately, "decoding on beats seeking back")
                }
                XCTAssertTrue(decoder.warnings.isEmpty, "\(decoder.warnings)")
            }
        }
        let p = try clip()
        var image = RGBImage()
        let pixels = try VideoDecoder(path: p, ranges: [0.5...0.5, 1.2...1.3])
        var indices: [Int] = []
        while let f = try pixels.nextFrame(into: &image) { indices.append(f.index) }
        XCTAssertEqual(indices, [5, 12, 13])
        func assertRefused(_ make: @autoclosure () throws -> VideoDecoder, _ cause: String, _ label: String) {
            XCTAssertThrowsError(try make(), label) { error in
                let e = error as? MediaError
                XCTAssertEqual(e?.kind, .invalidArgument, label)
                XCTAssertEqual(
                    e.map(String.init(describing:)), "\(p): cannot decode: \(cause)", "one line naming the file and the cause")
            }
        }
        let order = "time ranges must be non-empty, ≥ 0, finite at their start, ascending and disjoint"
        for bad in [[], [1.0...2.0, 1.5...3.0], [1.0...2.0, 0.0...0.5], [-1.0...1.0], [Double.infinity...Double.infinity]] {
            assertRefused(try VideoDecoder(path: p, ranges: bad), order, "\(bad)")
        }
        assertRefused(
            try VideoDecoder(path: p, startTime: 1, ranges: [1.0...2.0]), "give time ranges or a start and end time, not both",
            "both")
    }

    func testKeyframesOnly() throws {
        let (frames, _) = try decodeAll(try clip(), sampling: .keyframesOnly)
        XCTAssertEqual(frames.map(\.index), [0, 5, 10, 15])
        XCTAssertTrue(frames.allSatisfy(\.isKeyframe))
    }

    func testMaxFrames() throws {
        let p = try clip()
        XCTAssertEqual(try decodeAll(p, maxFrames: 3).frames.map(\.index), [0, 1, 2])
        XCTAssertEqual(try decodeAll(p, sampling: .everyNth(4), maxFrames: 2).frames.map(\.index), [0, 4])
        XCTAssertEqual(try decodeAll(p, maxFrames: 0).frames.count, 0)
    }

    func testTimestamps() throws {
        let (frames, _) = try decodeAll(try clip(), sampling: .timestamps([0.35, 1.0, 5.0, 0.0, 1.93]))
        XCTAssertEqual(frames.map(\.index), [4, 10, 0])
        XCTAssertEqual(frames[0].time, 0.4, accuracy: 1e-3)
        XCTAssertEqual(frames[1].time, 1.0, accuracy: 1e-3)
        XCTAssertEqual(frames[2].time, 0.0, accuracy: 1e-3)
    }

    /// Samples/cockatoo.mp4 marks non-IDR I-frames (3.8 s, 7.25 s) as keyframes; the P-frames after
    /// the one at 3.8 s reference frames before it. A seek to 7 s lands there and the decoder conceals
    /// the missing references, differently from run to run with frame threads. The frame at 7 s must
    /// be the one a decode from the start gives (frame 140 of 20 fps), every time, and a later time
    /// after it must match too (decoded on, not sought).
    func testTimestampAfterAKeyframeThatKeepsOldReferencesIsDecodedFromTheStart() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Samples/cockatoo.mp4").path
        let full = try VideoDecoder(path: path, sampling: .everyFrame)
        var image = RGBImage(), reference: [Int: RGBImage] = [:]
        while let f = try full.nextFrame(into: &image), f.index <= 200 {
            if f.index == 140 || f.index == 200 { reference[f.index] = image }
        }
        XCTAssertTrue(full.warnings.isEmpty, "a decode from the start needs no repair: \(full.warnings)")
        for run in 0..<3 {
            let decoder = try VideoDecoder(path: path, sampling: .timestamps([7.0, 10.0]))
            var frame = RGBImage()
            let first = try XCTUnwrap(try decoder.nextFrame(into: &frame))
            XCTAssertEqual(first.index, 140)
            XCTAssertEqual(frame.pixels, reference[140]?.pixels, "run \(run): the frame at 7 s")
            let second = try XCTUnwrap(try decoder.nextFrame(into: &frame))
            XCTAssertEqual(second.index, 200)
            XCTAssertEqual(frame.pixels, reference[200]?.pixels, "run \(run): the frame at 10 s")
            XCTAssertTrue(decoder.warnings.contains { $0.contains("decoding from the start") }, "\(decoder.warnings)")
        }
    }

    func testInvalidSamplingArguments() throws {
        let p = try clip()
        assertMediaError(.invalidArgument, path: p) { _ = try VideoDecoder(path: p, sampling: .everyNth(0)) }
        assertMediaError(.invalidArgument, path: p) { _ = try VideoDecoder(path: p, sampling: .rate(0)) }
        assertMediaError(.invalidArgument, path: p) { _ = try VideoDecoder(path: p, outputSize: .longSide(0)) }
    }

    func testDecodeWithoutConversion() throws {
        let decoder = try VideoDecoder(path: try clip(), outputSize: .longSide(32))
        var count = 0
        while let f = try decoder.nextFrameWithoutConversion() {
            XCTAssertEqual(f.index, count)
            XCTAssertEqual(f.width, 32)
            XCTAssertEqual(f.height, 24)
            count += 1
        }
        XCTAssertEqual(count, 20)
        XCTAssertNil(try decoder.nextFrameWithoutConversion())
    }

    /// A few hundred small frames: the RGBImage storage is reused, never regrown.
    func testStreamingReusesBuffer() throws {
        let p = try makeClip("long.mkv", codec: .mpeg4(quality: 60), width: 32, height: 24, frameRate: 25, frames: 300)
        let decoder = try VideoDecoder(path: p)
        var image = RGBImage()
        XCTAssertNotNil(try decoder.nextFrame(into: &image))
        let base = image.pixels.withUnsafeBufferPointer { $0.baseAddress }
        let count = image.pixels.count
        var frames = 1
        while try decoder.nextFrame(into: &image) != nil {
            frames += 1
            XCTAssertEqual(image.pixels.count, count)
            XCTAssertEqual(image.pixels.withUnsafeBufferPointer { $0.baseAddress }, base, "buffer reallocated at frame \(frames)")
        }
        XCTAssertEqual(frames, 300)
        XCTAssertEqual(decoder.decodedFrameCount, 300)
        XCTAssertTrue(decoder.warnings.isEmpty, "\(decoder.warnings)")
    }

    /// Rate sampling tells the decoder to drop non-reference frames that cannot be sampled
    /// (`skipsUnsampledNonReferenceFrames`): on a constant-rate H.264 clip with B-frames it must return
    /// exactly the frames the documented rule picks from a full decode (times, indices, keyframe
    /// flags), with and without a start time, while decoding fewer frames.
    func testRateSamplingSkipsNonReferenceFramesButReturnsTheSameFrames() throws {
        let p = try makeClip("bframes.mp4", codec: .h264(crf: 23), frameRate: 25, frames: 100, gopSize: 30)
        var image = RGBImage()
        let full = try VideoDecoder(path: p, sampling: .everyFrame)
        var frames: [DecodedFrame] = []
        while let f = try full.nextFrame(into: &image) { frames.append(f) }
        XCTAssertEqual(frames.count, 100)
        let cases: [(FrameSampling, Double?)] = [
            (.rate(1), nil), (.rate(2), nil), (.rate(7), nil), (.rateWithKeyframes(1), nil),
            (.rateWithKeyframes(3), nil), (.rate(2), 0.7), (.rateWithKeyframes(1), 1.3),
        ]
        for (sampling, start) in cases {
            let fps: Double
            switch sampling {
            case .rate(let r), .rateWithKeyframes(let r): fps = r
            default: fps = 0
            }
            var expected: [DecodedFrame] = []
            var nextRateTime = -Double.infinity
            for f in frames where f.time >= (start ?? 0) - 1e-4 {
                let onRate = f.time >= nextRateTime - 1e-6
                if onRate { nextRateTime = ((f.time * fps + 1e-6).rounded(.down) + 1) / fps }
                var keyframes = false
                if case .rateWithKeyframes = sampling { keyframes = true }
                if onRate || (keyframes && f.isKeyframe) { expected.append(f) }
            }
            let decoder = try VideoDecoder(path: p, sampling: sampling, startTime: start)
            var returned: [DecodedFrame] = []
            while let f = try decoder.nextFrame(into: &image) { returned.append(f) }
            XCTAssertTrue(decoder.skipsUnsampledNonReferenceFrames)
            XCTAssertEqual(returned, expected, "\(sampling) start \(start ?? 0)")
            XCTAssertLessThan(decoder.decodedFrameCount, start == nil ? 100 : 90, "\(sampling): no frame was skipped")
            XCTAssertTrue(decoder.warnings.isEmpty, "\(decoder.warnings)")
        }
    }
}
