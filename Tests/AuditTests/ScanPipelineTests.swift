// The scan pipeline on generated clips with a stand-in scorer that calls a frame fake where it
// finds a pure-red block: which frames are analysed, where segments and regions land, what happens
// to a file that breaks mid-way, cancellation, and the bounded set of frame buffers.
import Foundation
import MediaIO
import ReportSchemaChecking
import XCTest

@testable import Audit

/// Scores a frame by how much pure red it holds, locating the red block as the region. The
/// heatmap is a 4×4 grid of the red fraction per cell.
final class RedBlockScorer: FrameScoring {
    let model = ModelMetadata(name: "red-block-stand-in", sha256: nil, version: "test")
    var threshold = 0.5
    var bufferAddresses = Set<UnsafeRawPointer>()
    var framesSeen = 0
    var cancelAfter: Int?
    var onFrame: (() -> Void)?

    func analyse(_ image: RGBImage, coverage: Double) throws -> FrameAnalysis {
        framesSeen += 1
        onFrame?()
        _ = image.pixels.withUnsafeBufferPointer { bufferAddresses.insert(UnsafeRawPointer($0.baseAddress!)) }
        let plane = image.width * image.height
        var minX = image.width, minY = image.height, maxX = -1, maxY = -1
        var cells = [Float](repeating: 0, count: 16)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let i = y * image.width + x
                let isRed = image.pixels[i] > 0.8 && image.pixels[plane + i] < 0.25 && image.pixels[2 * plane + i] < 0.25
                guard isRed else { continue }
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
                cells[(y * 4 / image.height) * 4 + x * 4 / image.width] += 1
            }
        }
        let cellArea = Float(plane) / 16
        let heatmap = Heatmap(rows: 4, columns: 4, values: cells.map { min(1, $0 / cellArea) })
        guard maxX >= 0 else {
            return FrameAnalysis(fakeProbability: 0.05, heatmap: heatmap, region: Region(x: 0, y: 0, w: 0, h: 0))
        }
        return FrameAnalysis(
            fakeProbability: 0.95, heatmap: heatmap,
            region: Region(x: minX, y: minY, w: maxX - minX + 1, h: maxY - minY + 1))
    }
}

final class ScanPipelineTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("scan-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// 4 s at 10 fps, 96×64, GOP 10; frames `red` (default 15…24, 1.5–2.4 s) carry a red 24×16 block
    /// at (48, 24).
    func makeClip(frames: Int = 40, name: String = "clip.mp4", red: ClosedRange<Int> = 15...24) throws -> String {
        let path = folder.appendingPathComponent(name).path
        let encoder = try VideoEncoder(path: path, codec: .h264(crf: 16), width: 96, height: 64, frameRate: 10, gopSize: 10)
        for index in 0..<frames {
            var image = RGBImage(width: 96, height: 64)
            for y in 0..<64 {
                for x in 0..<96 {
                    // A grey gradient background that moves a little, so frames differ.
                    image.setPixel(x: x, y: y, (0.3 + 0.2 * Float((x + index) % 96) / 96, 0.4, 0.5))
                }
            }
            if red.contains(index) {
                for y in 24..<40 { for x in 48..<72 { image.setPixel(x: x, y: y, (1, 0, 0)) } }
            }
            try encoder.append(image)
        }
        try encoder.finish()
        return path
    }

    func testManipulatedSecondsGiveASegmentAndRegionWhereTheyBelong() throws {
        let clip = try makeClip()
        var options = ScanOptions()
        options.sampling = .everyFrame
        let scorer = RedBlockScorer()
        let report = try ScanPipeline(scorer: scorer, options: options).scan(path: clip)

        XCTAssertEqual(report.frames.count, 40)
        XCTAssertEqual(report.segments.count, 1)
        let segment = try XCTUnwrap(report.segments.first)
        // Tolerance: one frame (0.1 s) at each end, for the moving-median smoothing.
        XCTAssertEqual(segment.start, 1.5, accuracy: 0.11)
        XCTAssertEqual(segment.end, 2.4, accuracy: 0.11)
        let flagged = report.frames.filter { $0.fakeProbability > 0.5 }
        XCTAssertEqual(flagged.map(\.index), Array(15...24))
        for frame in flagged {
            // H.264 blurs the block's edges a little: ±2 pixels.
            XCTAssertEqual(frame.region.x, 48, accuracy: 2)
            XCTAssertEqual(frame.region.y, 24, accuracy: 2)
            XCTAssertEqual(frame.region.w, 24, accuracy: 3)
            XCTAssertEqual(frame.region.h, 16, accuracy: 3)
        }
        XCTAssertEqual(report.file.width, 96)
        XCTAssertEqual(report.file.sha256?.count, 64)
        XCTAssertEqual(report.model.name, "red-block-stand-in")
        XCTAssertFalse(report.thumbnails.isEmpty)
        XCTAssertTrue(report.thumbnails.count <= options.thumbnailCount)
        XCTAssertTrue(flagged.map(\.index).contains(report.thumbnails[0].frameIndex), "most suspicious thumbnail first")

        let json = try ReportWriter.json(report)
        let object = try JSONSerialization.jsonObject(with: json)
        XCTAssertEqual(ReportSchema.validate(jsonObject: object), [])
        let csvRows = String(decoding: try ReportWriter.csv(report), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(csvRows.count, 41, "header + one row per frame")
    }

    func testTheScorersThresholdDecidesNotThePolicyDefault() throws {
        let clip = try makeClip()
        var options = ScanOptions()
        options.sampling = .everyFrame
        options.policy.threshold = 0.5
        let strict = RedBlockScorer()
        strict.threshold = 0.99  // the red frames' 0.95 is below it
        let report = try ScanPipeline(scorer: strict, options: options).scan(path: clip)
        XCTAssertEqual(report.assessment.policy.threshold, 0.99)
        XCTAssertEqual(report.segments, [])
        XCTAssertNotEqual(report.verdict, .fake)

        let lenient = try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: clip)
        XCTAssertEqual(lenient.segments.count, 1)
    }

    func testDefaultSamplingIsOnePerSecondPlusKeyframes() throws {
        let clip = try makeClip()
        var options = ScanOptions()
        options.confirmation = nil
        let report = try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: clip)
        // 1 per second gives 0, 10, 20, 30; the keyframes (every 10 frames) are the same frames.
        XCTAssertEqual(report.frames.map(\.index), [0, 10, 20, 30])
        var twice = ScanOptions()
        twice.confirmation = nil
        twice.sampling = .rateWithKeyframes(2)
        let denser = try ScanPipeline(scorer: RedBlockScorer(), options: twice).scan(path: clip)
        XCTAssertEqual(denser.frames.map(\.index), [0, 5, 10, 15, 20, 25, 30, 35])
    }

    func testASecondOfForgedFramesAtDefaultSamplingIsConfirmedIntoASegment() throws {
        // Frames 15…24 (1.5–2.4 s) are red; at 1 frame per second only frame 20 is analysed.
        let clip = try makeClip()
        var sparse = ScanOptions()
        sparse.confirmation = nil
        let unconfirmed = try ScanPipeline(scorer: RedBlockScorer(), options: sparse).scan(path: clip)
        XCTAssertEqual(unconfirmed.segments, [], "one red frame among four is smoothed away")

        let report = try ScanPipeline(scorer: RedBlockScorer()).scan(path: clip)
        let indices = report.frames.map(\.index)
        XCTAssertEqual(indices, indices.sorted())
        XCTAssertEqual(Set(indices).count, indices.count, "no frame analysed twice")
        XCTAssertTrue(Set([0, 10, 20, 30]).isSubset(of: Set(indices)))
        let added = Set(indices).subtracting([0, 10, 20, 30])
        XCTAssertFalse(added.isEmpty)
        XCTAssertTrue(added.allSatisfy { (15...25).contains($0) }, "only around the suspicious frame: \(added.sorted())")
        XCTAssertEqual(report.segments.count, 1)
        let segment = try XCTUnwrap(report.segments.first)
        XCTAssertEqual(segment.start, 1.5, accuracy: 0.21)
        XCTAssertEqual(segment.end, 2.4, accuracy: 0.21)
        XCTAssertEqual(report.verdict, .fake)
    }

    func testOnlyTheEndsOfARunOfSuspiciousFramesAreConfirmed() throws {
        // Frames 10…49 (1.0–4.9 s) are red: the 1-per-second frames 10, 20, 30 and 40 all are, so 20
        // and 30 lie inside the run, whose smoothing keeps them without a second look.
        let clip = try makeClip(frames: 60, red: 10...49)
        let report = try ScanPipeline(scorer: RedBlockScorer()).scan(path: clip)
        let sparse: Set = [0, 10, 20, 30, 40, 50]
        let indices = Set(report.frames.map(\.index))
        XCTAssertTrue(sparse.isSubset(of: indices))
        let added = indices.subtracting(sparse)
        XCTAssertTrue(added.contains { (5..<10).contains($0) }, "the run's start is confirmed: \(added.sorted())")
        XCTAssertTrue(added.contains { (41...45).contains($0) }, "the run's end is confirmed: \(added.sorted())")
        XCTAssertTrue(added.allSatisfy { (5...15).contains($0) || (35...45).contains($0) }, "\(added.sorted())")
        XCTAssertEqual(report.segments.count, 1)
        let segment = try XCTUnwrap(report.segments.first)
        XCTAssertEqual(segment.start, 1.0, accuracy: 0.21)
        // ±0.5 s around the sparse frame at 4.0 s reaches 4.4 s; the run goes on to 4.9 s, before the
        // next sparse frame (5.0 s, real)
        XCTAssertEqual(segment.end, 4.4, accuracy: 0.01)
        XCTAssertEqual(report.verdict, .fake)
    }

    func testNoConfirmationWithoutSuspiciousFramesOrWhenSamplingIsDense() throws {
        let clip = try makeClip()
        var options = ScanOptions()
        options.endTime = 1.2  // before the red frames
        XCTAssertEqual(
            try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: clip).frames.map(\.index), [0, 10])
        options = ScanOptions()
        options.sampling = .rate(10)
        let dense = try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: clip)
        XCTAssertEqual(dense.frames.count, 40, "every frame once, nothing added")
        options = ScanOptions()
        options.maxFrames = 5
        XCTAssertEqual(try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: clip).frames.count, 5)
    }

    func testSamplingOptionsChooseTheFrames() throws {
        let clip = try makeClip()
        var options = ScanOptions()
        options.sampling = .everyNth(4)
        options.maxFrames = 3
        XCTAssertEqual(
            try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: clip).frames.map(\.index), [0, 4, 8])

        options = ScanOptions()
        options.sampling = .everyFrame
        options.startTime = 1.0
        options.endTime = 1.45
        XCTAssertEqual(
            try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: clip).frames.map(\.index),
            [10, 11, 12, 13, 14])
    }

    func testTheFrameFeederAndItsDecoderAreFreedAfterTheScan() throws {
        weak var releasedFeeder: FrameFeeder?
        weak var releasedDecoder: VideoDecoder?
        do {
            let decoder = try VideoDecoder(path: try makeClip(frames: 5))
            let feeder = FrameFeeder(source: decoder, depth: 2)
            releasedFeeder = feeder
            releasedDecoder = decoder
            feeder.start(isCancelled: { false })
            var frames = 0
            while let item = feeder.next() {
                if case .frame(_, let buffer) = item {
                    frames += 1
                    feeder.recycle(buffer)
                }
            }
            feeder.stop()
            XCTAssertEqual(frames, 5)
        }
        // The decoding thread has ended; nothing else may hold the feeder (and with it FFmpeg's contexts).
        XCTAssertNil(releasedFeeder)
        XCTAssertNil(releasedDecoder)
    }

    func testConfirmationFramesDecodeThroughTheMainPassBuffersWithinTheFrameLimit() throws {
        let clip = try makeClip()
        var options = ScanOptions()
        options.queueDepth = 2
        let scorer = RedBlockScorer()
        let report = try ScanPipeline(scorer: scorer, options: options).scan(path: clip)
        XCTAssertGreaterThan(report.frames.count, 4, "confirmation added frames around the red one")
        XCTAssertEqual(scorer.framesSeen, report.frames.count)
        XCTAssertLessThanOrEqual(scorer.bufferAddresses.count, 2, "the confirmation pass reuses the main pass's buffers")

        options.maxAnalysedFrames = 6
        let capped = try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: clip)
        XCTAssertEqual(capped.frames.count, 6, "four sampled frames and two confirmation frames")
        XCTAssertTrue(Set([0, 10, 20, 30]).isSubset(of: Set(capped.frames.map(\.index))))
    }

    func testConfirmationFramesSkipKnownFramesAndOpenOneDecoderOnlyWhenNeeded() throws {
        let clip = try makeClip()
        let intervals = [0.45...0.95, 1.95...2.45]
        var opened: [[ClosedRange<Double>]] = []
        func frames(limit: Int) throws -> [DecodedFrame] {
            opened = []
            let source = ConfirmationFrames(intervals: intervals, known: [20], limit: limit) { intervals, limit in
                opened.append(intervals)
                return try VideoDecoder(path: clip, sampling: .rate(5), maxFrames: limit, ranges: intervals)
            }
            var image = RGBImage()
            var result: [DecodedFrame] = []
            while let frame = try source.nextFrame(into: &image) { result.append(frame) }
            XCTAssertNil(try source.nextFrame(into: &image), "the end stays the end")
            return result
        }
        let all = try frames(limit: 100)
        XCTAssertEqual(opened, [intervals], "one decoder for both intervals")
        XCTAssertFalse(all.contains { $0.index == 20 }, "a frame already analysed is not decoded for scoring again")
        XCTAssertEqual(Set(all.map(\.index)).count, all.count)
        // the same frames as a decoder opened on each interval alone, less the known one
        var separate: [Int] = []
        for interval in intervals {
            let decoder = try VideoDecoder(
                path: clip, sampling: .rate(5), startTime: interval.lowerBound, endTime: interval.upperBound)
            while let frame = try decoder.nextFrameWithoutConversion() { separate.append(frame.index) }
        }
        XCTAssertEqual(all.map(\.index), separate.filter { $0 != 20 })
        XCTAssertTrue(all.contains { $0.time > 1.9 } && all.contains { $0.time < 1 }, "both intervals give frames")

        let two = try frames(limit: 2)
        XCTAssertEqual(two.map(\.index), Array(all.prefix(2).map(\.index)))
        XCTAssertEqual(opened.count, 1)

        XCTAssertTrue(try frames(limit: 0).isEmpty)
        XCTAssertEqual(opened, [], "no decoder is opened for no frames")
    }

    func testBuffersAreRecycledSoMemoryStaysFlat() throws {
        let clip = try makeClip(frames: 60)
        var options = ScanOptions()
        options.sampling = .everyFrame
        options.queueDepth = 2
        let scorer = RedBlockScorer()
        _ = try ScanPipeline(scorer: scorer, options: options).scan(path: clip)
        XCTAssertEqual(scorer.framesSeen, 60)
        XCTAssertLessThanOrEqual(scorer.bufferAddresses.count, 2, "60 frames went through at most 2 buffers")
    }

    func testFileBrokenMidwayIsReportedOverTheDecodedFramesWithAWarning() throws {
        // A Matroska file cut at 60%: the frames before the cut decode, then the file ends early.
        let clip = try makeClip(name: "clip.mkv")
        let data = try Data(contentsOf: URL(fileURLWithPath: clip))
        let cut = folder.appendingPathComponent("cut.mkv").path
        try data.prefix(data.count * 6 / 10).write(to: URL(fileURLWithPath: cut))
        var options = ScanOptions()
        options.sampling = .everyFrame
        let report = try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: cut)
        XCTAssertGreaterThan(report.frames.count, 0)
        XCTAssertLessThan(report.frames.count, 40)
        XCTAssertFalse(report.warnings.isEmpty, "a cut file must be flagged in the report")
    }

    func testUnreadableFileThrowsItsMediaError() throws {
        let text = folder.appendingPathComponent("notes.mp4").path
        try Data(String(repeating: "hello\n", count: 100).utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertThrowsError(try ScanPipeline(scorer: RedBlockScorer()).scan(path: text)) { error in
            XCTAssertTrue(error is MediaError, "\(error)")
            XCTAssertTrue(String(describing: error).contains(text))
        }
    }

    func testTheReportDescribesTheBytesThatWereScored() throws {
        let clip = try makeClip()
        let report = try ScanPipeline(scorer: RedBlockScorer()).scan(path: clip)
        let attributes = try FileManager.default.attributesOfItem(atPath: clip)
        XCTAssertEqual(report.file.sha256, try FileDigest.sha256Hex(path: clip))
        XCTAssertEqual(report.file.sizeBytes, (attributes[.size] as? NSNumber)?.int64Value)
    }

    func testAFileReplacedOrAppendedToMidScanGetsNoReport() throws {
        let clip = try makeClip()
        let other = try makeClip(frames: 20, name: "other.mp4")
        // Replaced by rename while the first frame is scored (what a second process saving over it does).
        let replacing = RedBlockScorer()
        replacing.onFrame = {
            guard replacing.framesSeen == 1 else { return }
            XCTAssertEqual(rename(other, clip), 0)
        }
        XCTAssertThrowsError(try ScanPipeline(scorer: replacing).scan(path: clip)) { error in
            XCTAssertEqual(error as? ScanError, .fileChanged(path: clip))
            XCTAssertTrue("\(error)".contains("changed during the scan"), "\(error)")
        }
        // Appended to in place (what a recorder still writing the file does).
        let growing = try makeClip(name: "growing.mp4")
        let appending = RedBlockScorer()
        appending.onFrame = {
            guard appending.framesSeen == 1, let handle = FileHandle(forWritingAtPath: growing) else { return }
            handle.seekToEndOfFile()
            handle.write(Data(repeating: 0, count: 16))
            handle.closeFile()
        }
        XCTAssertThrowsError(try ScanPipeline(scorer: appending).scan(path: growing)) { error in
            XCTAssertEqual(error as? ScanError, .fileChanged(path: growing))
        }
    }

    func testContentIdentityComparesInodeSizeAndModificationTime() throws {
        let file = folder.appendingPathComponent("identity.bin").path
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data([1, 2, 3])))
        let fingerprint = try FileDigest.fingerprint(path: file)
        XCTAssertEqual(fingerprint.identity, try ContentIdentity.of(path: file))
        XCTAssertEqual(fingerprint.identity.size, 3)
        var other = fingerprint.identity
        other.inode &+= 1
        XCTAssertNotEqual(other, fingerprint.identity)
        other = fingerprint.identity
        other.modifiedNanoseconds &+= 1
        XCTAssertNotEqual(other, fingerprint.identity)
        usleep(10_000)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: file))
        handle.write(Data([9]))
        handle.closeFile()
        XCTAssertNotEqual(try ContentIdentity.of(path: file), fingerprint.identity, "a write changes the identity")
    }

    func testAnalysedFramesPerFileAreCappedWithAWarning() throws {
        let clip = try makeClip()
        var options = ScanOptions()
        options.sampling = .everyFrame
        options.maxAnalysedFrames = 12
        let report = try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: clip)
        XCTAssertEqual(report.frames.count, 12)
        XCTAssertTrue(
            report.warnings.contains { $0.contains("limit of 12 analysed frames") && $0.contains("after 1.1 s") },
            "\(report.warnings)")
        // The user's own, lower --max-frames is a choice, not a limit reached: no warning.
        options.maxFrames = 5
        let chosen = try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: clip)
        XCTAssertEqual(chosen.frames.count, 5)
        XCTAssertFalse(chosen.warnings.contains { $0.contains("analysed frames") }, "\(chosen.warnings)")
    }

    func testFramesOverThePixelLimitAreRefusedBeforeDecoding() throws {
        let clip = try makeClip()
        var options = ScanOptions()
        options.maxPixels = 96 * 64 - 1
        XCTAssertThrowsError(try ScanPipeline(scorer: RedBlockScorer(), options: options).scan(path: clip)) { error in
            XCTAssertEqual((error as? MediaError)?.kind, .tooLarge, "\(error)")
        }
        XCTAssertEqual(ScanOptions.memoryBasedMaxPixels(physicalMemory: 16 << 30), 1 << 26, "16 GB: 67 million pixels")
        XCTAssertEqual(ScanOptions.memoryBasedMaxPixels(physicalMemory: 1 << 30), 1 << 22, "at least 4 million")
        XCTAssertEqual(ScanOptions.memoryBasedMaxPixels(physicalMemory: 1 << 40), 1 << 28, "at most MediaIO's cap")
    }

    func testCancellationStopsPromptly() throws {
        let clip = try makeClip()
        var options = ScanOptions()
        options.sampling = .everyFrame
        let scorer = RedBlockScorer()
        let framesPastFour = SharedCount()
        scorer.onFrame = { [unowned scorer] in if scorer.framesSeen >= 5 { framesPastFour.increment() } }
        XCTAssertThrowsError(
            try ScanPipeline(scorer: scorer, options: options).scan(path: clip, isCancelled: { framesPastFour.value > 0 })
        ) {
            error in
            XCTAssertEqual(error as? ScanError, .cancelled(path: clip))
        }
        XCTAssertLessThanOrEqual(scorer.framesSeen, 6)
    }

    func testThumbnailDownscaleKeepsAspectAndAverages() {
        var image = RGBImage(width: 8, height: 4)
        for y in 0..<4 { for x in 0..<8 { image.setPixel(x: x, y: y, x < 4 ? (1, 0, 0) : (0, 0, 1)) } }
        var small = RGBImage()
        ThumbnailKeeper.downscale(image, longSide: 4, into: &small)
        XCTAssertEqual(small.width, 4)
        XCTAssertEqual(small.height, 2)
        XCTAssertEqual(small.pixels[0], 1, accuracy: 1e-6)  // red plane, left
        XCTAssertEqual(small.pixels[3], 0, accuracy: 1e-6)  // red plane, right
        XCTAssertEqual(small.pixels[2 * 8 + 3], 1, accuracy: 1e-6)  // blue plane, right
    }
}
