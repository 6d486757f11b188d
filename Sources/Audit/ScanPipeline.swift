// The scan pipeline: decode → sample → score → aggregate for one file, with decoding on its own
// thread feeding a small bounded queue of recycled frame buffers, so memory stays flat whatever the
// video's length; a batch can prepare the next file (decoding ahead) while scoring the current one. Scoring is behind the `FrameScoring` protocol (the detector implements it).
import Foundation
import MediaIO

/// What a scorer says about one frame.
public struct FrameAnalysis: Equatable, Sendable {
    /// Calibrated probability (0…1) that the frame is fake.
    public var fakeProbability: Double
    /// Patch probabilities over the frame.
    public var heatmap: Heatmap
    /// The most suspicious region, in frame pixels.
    public var region: Region

    public init(fakeProbability: Double, heatmap: Heatmap, region: Region) {
        self.fakeProbability = fakeProbability
        self.heatmap = heatmap
        self.region = region
    }
}

/// Scores frames; `DetectorScoring` is the detector's, tests use simple stand-ins.
public protocol FrameScoring: AnyObject {
    /// The model behind the scores, as the report names it.
    var model: ModelMetadata { get }
    /// The frame probability at or above which a frame counts as fake; the scan's aggregation uses it.
    var threshold: Double { get }
    /// Scores one frame. `coverage` (0…1] is the fraction of the frame's area to analyse.
    func analyse(_ image: RGBImage, coverage: Double) throws -> FrameAnalysis
    /// Frames with a side shorter than this are scored, but the report warns that the scores are
    /// unreliable (nil: no such size).
    var smallestReliableFrameSide: Int? { get }
}

extension FrameScoring {
    public var smallestReliableFrameSide: Int? { nil }
}

/// How a scan samples and judges a file.
public struct ScanOptions: Sendable {
    /// Default sampling: 1 frame per second by timestamp plus every keyframe. Scoring a 1080p frame
    /// costs ~11 GFLOP, so at this rate a 1080p scan takes under twice as long as decoding the file
    /// (`unmask bench scan`, Docs/performance.md); `--fps 2` (or more) gives denser sampling.
    public static let defaultSampling = FrameSampling.rateWithKeyframes(1)

    public var sampling: FrameSampling = ScanOptions.defaultSampling
    public var maxFrames: Int?
    public var startTime: Double?
    public var endTime: Double?
    /// Fraction of each frame's area to analyse (1 = all of it).
    public var coverage: Double = 1
    /// How frames and segments are judged; its threshold is replaced by the scorer's.
    public var policy = AggregationPolicy()
    /// Denser sampling around suspicious frames (nil: none). See `ConfirmationSampling`.
    public var confirmation: ConfirmationSampling? = ConfirmationSampling()
    /// How many thumbnails of the most suspicious frames to keep for the HTML report.
    public var thumbnailCount = 6
    /// Long side of the thumbnails, in pixels.
    public var thumbnailLongSide = 480
    /// Decoder threads (0 = FFmpeg's choice).
    public var decoderThreads = 0
    /// Frames decoded ahead of scoring (the bounded queue's capacity).
    public var queueDepth = 2
    /// Largest frame, in pixels, a file may declare or decode; a larger one is refused before it is
    /// decoded (`MediaError.Kind.tooLarge`). See `memoryBasedMaxPixels`.
    public var maxPixels = ScanOptions.memoryBasedMaxPixels()
    /// Most frames analysed per file, confirmation frames included; the scan stops there with a warning.
    public var maxAnalysedFrames = ScanOptions.defaultMaxAnalysedFrames
    /// Most frames decoded per file (sampled or not); decoding stops there with a warning.
    public var maxDecodedFrames = ScanOptions.defaultMaxDecodedFrames
    /// Most seconds of media decoded per file, from the start time; decoding stops there with a warning.
    public var maxDurationSeconds = ScanOptions.defaultMaxDurationSeconds

    public static let defaultMaxAnalysedFrames = 10_000
    /// 4.6 hours at 60 frames per second.
    public static let defaultMaxDecodedFrames = 1_000_000
    /// 12 hours.
    public static let defaultMaxDurationSeconds = 43_200.0
    /// Bytes a scan holds per frame pixel, an upper estimate: the decoded picture (up to 8 bytes a pixel
    /// for 16-bit RGBA), its conversion, and the planar Float32 RGB buffers in the decode queue and
    /// being scored (12 bytes a pixel each, `queueDepth` + 1 of them).
    public static let bytesPerFramePixel = 64

    /// The default pixel limit: a quarter of physical memory at `bytesPerFramePixel`, within 2²² (a
    /// 1-GB machine still scans 1080p) and 2²⁸ (MediaIO's own cap). 16 GB of memory gives 67 million
    /// pixels (8K is 33 million).
    public static func memoryBasedMaxPixels(physicalMemory: UInt64 = ProcessInfo.processInfo.physicalMemory) -> Int {
        let pixels = physicalMemory / 4 / UInt64(bytesPerFramePixel)
        return Int(min(max(pixels, 1 << 22), 1 << 28))
    }

    /// The frame limit for the decoder: the user's `maxFrames` or the analysed-frame cap, the lower.
    var analysedFrameLimit: Int { min(maxFrames ?? Int.max, maxAnalysedFrames) }

    public init() {}
}

/// A second look around suspicious frames. At a sparse default rate a forged stretch of one second
/// holds one or two analysed frames, too few for the smoothing and segment rules to tell it from a
/// single false alarm; decoding a few more frames on each side of every frame that reaches the
/// uncertain band lets a real stretch of forged frames show as one, and an isolated alarm fall back.
/// A frame whose analysed neighbours on both sides reach the band too is inside a run that the
/// smoothing keeps by itself, so only the run's ends are confirmed, which places its edges.
/// Applied only when the scan samples more sparsely than `rate`.
public struct ConfirmationSampling: Equatable, Sendable {
    /// Frames per second taken around a suspicious frame.
    public var rate: Double = 5
    /// Seconds on each side of a suspicious frame.
    public var radius: Double = 0.5
    /// The most suspicious frames confirmed per file, at most.
    public var maximumFrames: Int = 16

    public init() {}
}

/// Progress of a running scan.
public struct ScanProgress: Sendable {
    public var framesAnalysed: Int
    /// Media time of the last analysed frame, seconds.
    public var mediaTime: Double
    /// The file's duration, when known.
    public var duration: Double?
}

/// A scan that could not produce a report.
public enum ScanError: Error, Equatable, CustomStringConvertible {
    case cancelled(path: String)
    case noFrames(path: String)
    case scoring(path: String, message: String)
    /// The file's identity at the end of the scan differs from the one it had when it was hashed.
    case fileChanged(path: String)

    public var description: String {
        switch self {
        case .cancelled(let path): return "\(path): scan interrupted; no report written"
        case .noFrames(let path): return "\(path): no frame could be analysed in the requested range"
        case .scoring(let path, let message): return "\(path): cannot score: \(message)"
        case .fileChanged(let path):
            return "\(path): the file changed during the scan (its size, times or inode differ from when it was "
                + "hashed), so the report could not say which bytes were scored; no report written"
        }
    }
}

/// Scans one file at a time with a given scorer and options.
public final class ScanPipeline {
    public let scorer: FrameScoring
    public let options: ScanOptions

    public init(scorer: FrameScoring, options: ScanOptions = ScanOptions()) {
        self.scorer = scorer
        self.options = options
    }

    /// Scans `path` and returns its report. A file that breaks mid-way is reported over the frames
    /// that decoded, with a warning; a file with no decodable frame throws its `MediaError`.
    /// `isCancelled` is polled between frames; when it turns true the scan stops promptly and throws
    /// `ScanError.cancelled`.
    public func scan(
        path: String,
        progress: ((ScanProgress) -> Void)? = nil,
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> ScanReport {
        try scan(prepare(path: path, isCancelled: isCancelled), progress: progress, isCancelled: isCancelled)
    }

    /// Opens `path`, hashes it (unless the caller did: `content`) and starts decoding its first frames
    /// on the decoding thread, without scoring: a batch caller prepares the next file while the current
    /// one is scored. The file is hashed before any frame is decoded; its identity when opened must be
    /// the hashed one, and the scan checks at its end that it still is, so the report's SHA-256 and size
    /// are those of the bytes that were scored. Decoding stops early when `isCancelled` turns true, and
    /// when the returned value is released.
    public func prepare(
        path: String, content: FileFingerprint? = nil, isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> PreparedScan {
        // Opening first gives missing, unreadable and non-media files their own errors; the identity
        // taken before it must match the hashed one, or the decoder may hold other bytes.
        let opened = try? ContentIdentity.of(path: path)
        let decoder = try VideoDecoder(
            path: path, sampling: options.sampling, maxFrames: options.analysedFrameLimit, threads: options.decoderThreads,
            maxPixels: options.maxPixels, maxDecodedFrames: options.maxDecodedFrames, maxDuration: options.maxDurationSeconds,
            startTime: options.startTime, endTime: options.endTime)
        let content = try content ?? FileDigest.fingerprint(path: path)
        guard content.identity == opened else { throw ScanError.fileChanged(path: path) }
        let feeder = FrameFeeder(source: decoder, depth: max(1, options.queueDepth))
        feeder.start(isCancelled: isCancelled)
        return PreparedScan(path: path, content: content, decoder: decoder, feeder: feeder)
    }

    /// Scores a prepared file and returns its report, as `scan(path:progress:isCancelled:)` does.
    public func scan(
        _ prepared: PreparedScan,
        progress: ((ScanProgress) -> Void)? = nil,
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> ScanReport {
        let started = DispatchTime.now().uptimeNanoseconds
        let path = prepared.path
        let decoder = prepared.decoder
        let info = decoder.info
        let feeder = prepared.feeder
        defer { feeder.stop() }

        var scores: [FrameScore] = []
        var thumbnails = ThumbnailKeeper(count: options.thumbnailCount, longSide: options.thumbnailLongSide)
        var warnings: [String] = []
        var scoreSeconds = 0.0
        var confirmationDecodeSeconds = 0.0
        var decodeFailure: Error?
        /// Scores one decoded frame into `scores`, `thumbnails` and `scoreSeconds`.
        func score(_ frame: DecodedFrame, _ image: RGBImage) throws {
            let scoreStart = DispatchTime.now().uptimeNanoseconds
            let analysis: FrameAnalysis
            do {
                analysis = try scorer.analyse(image, coverage: options.coverage)
            } catch {
                throw ScanError.scoring(path: path, message: String(describing: error))
            }
            scoreSeconds += Double(DispatchTime.now().uptimeNanoseconds - scoreStart) / 1e9
            scores.append(
                FrameScore(
                    index: frame.index, time: frame.time, fakeProbability: analysis.fakeProbability,
                    heatmap: analysis.heatmap, region: analysis.region, isKeyframe: frame.isKeyframe))
            thumbnails.consider(
                frameIndex: frame.index, time: frame.time, probability: analysis.fakeProbability, image: image)
        }
        while true {
            if isCancelled() { throw ScanError.cancelled(path: path) }
            guard let item = feeder.next() else { break }
            switch item {
            case .failed(let error):
                decodeFailure = error
            case .frame(let frame, let buffer):
                defer { feeder.recycle(buffer) }
                try score(frame, buffer.image)
                progress?(ScanProgress(framesAnalysed: scores.count, mediaTime: frame.time, duration: info.durationSeconds))
            }
        }
        if isCancelled() { throw ScanError.cancelled(path: path) }
        var policy = options.policy
        policy.threshold = scorer.threshold
        if decodeFailure == nil, !info.isStillImage, let confirmation = options.confirmation {
            let intervals = confirmationIntervals(
                scores, policy: policy, confirmation: confirmation, duration: info.durationSeconds)
            let limit = options.analysedFrameLimit - scores.count
            if !intervals.isEmpty, limit > 0 {
                // The frames around suspicious ones decode on their own thread, through the main pass's
                // buffers, while the ones before them are scored.
                let options = options
                let source = ConfirmationFrames(intervals: intervals, known: Set(scores.map(\.index)), limit: limit) {
                    intervals, limit in
                    try VideoDecoder(
                        path: path, sampling: .rate(confirmation.rate), maxFrames: limit, threads: options.decoderThreads,
                        maxPixels: options.maxPixels, ranges: intervals)
                }
                let confirming = FrameFeeder(source: source, buffers: feeder.stopAndTakeBuffers())
                defer { confirming.stop() }
                confirming.start(isCancelled: isCancelled)
                while let item = confirming.next() {
                    if isCancelled() { throw ScanError.cancelled(path: path) }
                    switch item {
                    case .failed(let error):
                        throw error
                    case .frame(let frame, let buffer):
                        defer { confirming.recycle(buffer) }
                        try score(frame, buffer.image)
                    }
                }
                confirmationDecodeSeconds = confirming.decodeSeconds
            }
        }
        if let decodeFailure {
            guard !scores.isEmpty else { throw decodeFailure }
            warnings.append(
                "file breaks mid-way: \(decodeFailure); the report covers the \(scores.count) frames analysed before it")
        }
        guard !scores.isEmpty else { throw ScanError.noFrames(path: path) }
        warnings += decoder.warnings
        if scores.count >= options.maxAnalysedFrames, options.maxAnalysedFrames < options.maxFrames ?? Int.max {
            let last = scores.map(\.time).max() ?? 0
            warnings.append(
                "stopped at the limit of \(options.maxAnalysedFrames) analysed frames per file; nothing after "
                    + String(format: "%.1f", last) + " s was analysed")
        }
        if info.videoStreamCount > 1 {
            warnings.append(
                "the file has \(info.videoStreamCount) video streams; only one (\(info.videoCodec), "
                    + "\(info.displayWidth)×\(info.displayHeight)) was analysed")
        }
        if let side = scorer.smallestReliableFrameSide, min(info.displayWidth, info.displayHeight) < side {
            warnings.append(
                "frames are \(info.displayWidth)×\(info.displayHeight) pixels, smaller than the model's "
                    + "\(side)×\(side) patch: its scores are unreliable for frames this small")
        }
        if options.coverage < 1 {
            warnings.append(String(format: "partial coverage: %.0f%% of each frame's area was analysed", options.coverage * 100))
        }

        guard (try? ContentIdentity.of(path: path)) == prepared.content.identity else { throw ScanError.fileChanged(path: path) }
        let assessment = try Aggregator.assess(scores, policy: policy)
        let total = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let fileMetadata = FileMetadata(
            path: path, sha256: prepared.content.sha256, container: info.containerName, codec: info.videoCodec,
            sizeBytes: prepared.content.identity.size, width: info.displayWidth, height: info.displayHeight,
            durationSeconds: info.durationSeconds, frameRate: info.frameRate, tags: info.tags)
        return ScanReport(
            file: fileMetadata, model: scorer.model, assessment: assessment, warnings: warnings,
            timings: Timings(
                decodeSeconds: feeder.decodeSeconds + confirmationDecodeSeconds, scoreSeconds: scoreSeconds, totalSeconds: total),
            coverage: Coverage(fraction: options.coverage),
            thumbnails: thumbnails.encoded())
    }

    /// The time ranges to sample densely: ± `radius` around the most suspicious frames (probability at
    /// or above the uncertain band's lower edge) that are not inside a run of such frames (both
    /// neighbours in time suspicious too), clipped to the scan's range, overlapping ranges merged.
    /// None when the scan already samples at least as densely.
    func confirmationIntervals(
        _ scores: [FrameScore], policy: AggregationPolicy, confirmation: ConfirmationSampling, duration: Double?
    ) -> [ClosedRange<Double>] {
        let sparse: Bool
        switch options.sampling {
        case .rate(let rate), .rateWithKeyframes(let rate): sparse = rate < confirmation.rate
        case .keyframesOnly: sparse = true
        case .everyNth(let n): sparse = n > 1
        case .everyFrame, .timestamps: sparse = false
        }
        guard sparse, confirmation.rate > 0, confirmation.radius > 0, confirmation.maximumFrames > 0 else { return [] }
        let ordered = scores.sorted { ($0.time, $0.index) < ($1.time, $1.index) }
        func isSuspicious(_ i: Int) -> Bool { ordered[i].fakeProbability >= policy.uncertainBand.lowerBound }
        let suspicious = ordered.indices
            .filter { i in
                isSuspicious(i) && !(i > 0 && i < ordered.count - 1 && isSuspicious(i - 1) && isSuspicious(i + 1))
            }
            .map { ordered[$0] }
            .sorted { ($0.fakeProbability, -$0.time) > ($1.fakeProbability, -$1.time) }
            .prefix(confirmation.maximumFrames)
        let lowest = options.startTime ?? 0
        let highest = min(options.endTime ?? .infinity, duration ?? .infinity)
        var intervals: [ClosedRange<Double>] = []
        for time in suspicious.map(\.time).sorted() {
            let start = max(lowest, time - confirmation.radius), end = min(highest, time + confirmation.radius)
            guard start < end else { continue }
            if let last = intervals.last, start <= last.upperBound {
                intervals[intervals.count - 1] = last.lowerBound...max(last.upperBound, end)
            } else {
                intervals.append(start...end)
            }
        }
        return intervals
    }
}

/// A file opened for scanning, its first frames decoding on the decoding thread (see `prepare`).
public final class PreparedScan {
    let path: String
    /// The digest and identity of the file when it was hashed, before decoding.
    let content: FileFingerprint
    let decoder: VideoDecoder
    let feeder: FrameFeeder

    init(path: String, content: FileFingerprint, decoder: VideoDecoder, feeder: FrameFeeder) {
        self.path = path
        self.content = content
        self.decoder = decoder
        self.feeder = feeder
    }

    /// The file's probed properties.
    public var info: MediaInfo { decoder.info }

    deinit { feeder.stop() }
}

// MARK: - Decoding on its own thread

/// A frame buffer that travels between the decoding thread and the scorer and back.
final class FrameBuffer {
    var image = RGBImage()
}

/// Runs the decoder on a background thread, handing frames over through a bounded queue of
/// recycled buffers: at most `depth` frames exist at once, however long the video.
final class FrameFeeder: @unchecked Sendable {
    // Safe to share between the two threads: every mutable field is read and written under `condition`,
    // and the source is used by the background thread only.
    enum Item {
        case frame(DecodedFrame, FrameBuffer)
        case failed(Error)
    }

    private let source: FrameSource
    private let condition = NSCondition()
    private var ready: [Item] = []
    private var free: [FrameBuffer]
    private var finished = false
    private var stopped = false
    private var thread: Thread?
    private var decodeNanoseconds: UInt64 = 0

    convenience init(source: FrameSource, depth: Int) {
        self.init(source: source, buffers: (0..<depth).map { _ in FrameBuffer() })
    }

    /// A feeder that decodes into `buffers` (at least one), for instance those another feeder gave up.
    init(source: FrameSource, buffers: [FrameBuffer]) {
        precondition(!buffers.isEmpty, "a feeder needs a buffer to decode into")
        self.source = source
        free = buffers
    }

    var decodeSeconds: Double {
        condition.lock()
        defer { condition.unlock() }
        return Double(decodeNanoseconds) / 1e9
    }

    func start(isCancelled: @escaping @Sendable () -> Bool) {
        // Weak: Foundation's Thread keeps its closure after it ends, and a strong capture would make
        // feeder → thread → closure → feeder a cycle that keeps every file's decoder (and FFmpeg's
        // codec threads) alive until the process exits. The call itself holds the feeder while it runs.
        let thread = Thread { [weak self] in self?.run(isCancelled: isCancelled) }
        thread.name = "unmask-decode"
        self.thread = thread
        thread.start()
    }

    private func run(isCancelled: @escaping @Sendable () -> Bool) {
        while true {
            condition.lock()
            while free.isEmpty && !stopped { condition.wait() }
            if stopped {
                condition.unlock()
                break
            }
            let buffer = free.removeLast()
            condition.unlock()

            let start = DispatchTime.now().uptimeNanoseconds
            let item: Item?
            do {
                item = try source.nextFrame(into: &buffer.image).map { .frame($0, buffer) }
            } catch {
                item = .failed(error)
            }
            let elapsed = DispatchTime.now().uptimeNanoseconds - start

            condition.lock()
            decodeNanoseconds += elapsed
            if let item { ready.append(item) }
            let done: Bool
            if case .frame = item { done = isCancelled() } else { done = true }
            if done { finished = true }
            condition.broadcast()
            condition.unlock()
            if done { break }
        }
    }

    /// The next decoded frame (or the decoder's failure); nil when decoding has ended.
    func next() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished && !stopped { condition.wait() }
        return ready.isEmpty ? nil : ready.removeFirst()
    }

    func recycle(_ buffer: FrameBuffer) {
        condition.lock()
        free.append(buffer)
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the decoding thread (it finishes the frame it is on) and waits for it.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
        while thread?.isFinished == false { usleep(1000) }
    }

    /// Stops the decoding thread and hands over every buffer: the free ones and those of frames
    /// decoded but not taken. Buffers still out with the caller are not among them.
    func stopAndTakeBuffers() -> [FrameBuffer] {
        stop()
        condition.lock()
        defer { condition.unlock() }
        var buffers = free
        for case .frame(_, let buffer) in ready { buffers.append(buffer) }
        free = []
        ready = []
        return buffers
    }
}

/// Where a `FrameFeeder` takes its frames from.
protocol FrameSource: AnyObject {
    func nextFrame(into image: inout RGBImage) throws -> DecodedFrame?
}

extension VideoDecoder: FrameSource {}

/// The frames of confirmation sampling: the intervals' frames in time order, through one decoder
/// over all of them (opened at the first frame asked for; it seeks between intervals only where that
/// saves decoding), skipping frames already analysed, `limit` at most.
final class ConfirmationFrames: FrameSource {
    private let intervals: [ClosedRange<Double>]
    private var known: Set<Int>
    private var remaining: Int
    private let open: ([ClosedRange<Double>], _ limit: Int) throws -> FrameSource
    private var decoder: FrameSource?
    private var ended = false

    /// `intervals` ascending and disjoint, as `ScanPipeline.confirmationIntervals` makes them.
    init(
        intervals: [ClosedRange<Double>], known: Set<Int>, limit: Int,
        open: @escaping ([ClosedRange<Double>], _ limit: Int) throws -> FrameSource
    ) {
        self.intervals = intervals
        self.known = known
        self.remaining = limit
        self.open = open
    }

    func nextFrame(into image: inout RGBImage) throws -> DecodedFrame? {
        guard !ended, !intervals.isEmpty else { return nil }
        while remaining > 0 {
            let source = try decoder ?? open(intervals, remaining)
            decoder = source
            guard let frame = try source.nextFrame(into: &image) else { break }
            guard known.insert(frame.index).inserted else { continue }
            remaining -= 1
            return frame
        }
        ended = true
        decoder = nil
        return nil
    }
}
