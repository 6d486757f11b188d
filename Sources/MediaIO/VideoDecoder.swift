// VideoDecoder: pulls sampled frames out of a media file (video or still image) one at a time,
// converted into a reused RGBImage. Owns the demux → decode loop, frame sampling, per-frame limits,
// and the policy for damaged input (see `warnings` and the type's documentation).
import CFFmpeg

/// Which frames of a stream to return.
public enum FrameSampling: Equatable, Sendable {
    /// Every decoded frame.
    case everyFrame
    /// Frames 0, n, 2n, … in presentation order.
    case everyNth(Int)
    /// About `fps` frames per second, chosen by timestamp: the first frame in each 1/fps slot.
    /// Non-reference frames (most B-frames) that cannot be the first of their slot are not decoded
    /// at all (see `VideoDecoder.skipsUnsampledNonReferenceFrames`).
    case rate(Double)
    /// About `fps` frames per second as in `.rate`, plus every keyframe (scene cuts and encoder
    /// decisions often fall on keyframes, and they are the least degraded frames of a stream).
    case rateWithKeyframes(Double)
    /// Only keyframes; the decoder skips everything else (AVDISCARD_NONKEY), so this is fast.
    case keyframesOnly
    /// For each time (seconds from the stream start, in the given order): seek, then return the first
    /// frame at or after it. Times past the end return nothing. A seek after which the decoder has to
    /// conceal errors (it landed on a keyframe that does not reset the references, as some H.264
    /// files mark their non-IDR I-frames) is not trusted: the frame is decoded from the start
    /// instead, and later times by decoding on, so the same file always gives the same pixels.
    case timestamps([Double])
}

/// The size of converted frames.
public enum OutputSize: Equatable, Sendable {
    /// The stored size (after rotation).
    case native
    /// Downscale, keeping the aspect ratio, so that the long side is at most this many pixels; never upscale.
    case longSide(Int)
}

/// Where a returned frame sits in its stream.
public struct DecodedFrame: Equatable, Sendable {
    /// 0-based position of the frame in presentation order (the decoder's output order). In
    /// `.keyframesOnly` and `.timestamps` modes, and in rate modes when non-reference frames are
    /// skipped, it is estimated as round(time × frame rate).
    public var index: Int
    /// Presentation time in seconds, relative to the stream's start time.
    public var time: Double
    public var isKeyframe: Bool
    /// Size of the output image (after scaling and rotation).
    public var width: Int
    public var height: Int

    public init(index: Int, time: Double, isKeyframe: Bool, width: Int, height: Int) {
        self.index = index
        self.time = time
        self.isKeyframe = isKeyframe
        self.width = width
        self.height = height
    }
}

/// Decodes one video stream (or a still image, as a one-frame stream) into upright RGB frames.
///
/// Damaged input: packets the decoder rejects as invalid are skipped and recorded in `warnings`
/// (as the ffmpeg CLI does). If the demuxer fails mid-file (truncated or corrupt container),
/// the frames still buffered in the decoder are returned first, then `nextFrame` throws once
/// (`.truncated` if the file's end was reached, `.corrupt` for invalid data, `.io` otherwise) and
/// returns nil afterwards. When a file simply ends early
/// (FFmpeg reports a normal end of file, as its MP4 and Matroska demuxers do for cut files), decoding
/// ends cleanly and a warning says how many of the declared frames were decoded. A stream that yields
/// no frame at all throws `.corrupt` instead of ending silently.
public final class VideoDecoder {
    public let info: MediaInfo
    public let path: String
    /// Problems that did not stop decoding (skipped packets, missing frames, limits reached), at most
    /// 100 kept, plus one line for keyframes left out of `.rateWithKeyframes` sampling.
    public var warnings: [String] {
        guard skippedKeyframes > 0 else { return recordedWarnings }
        return recordedWarnings + [
            "\(skippedKeyframes) keyframes were not analysed: they came less than "
                + String(format: "%.3g", keyframeSpacing) + " s after the previous analysed keyframe (a keyframe storm)"
        ]
    }
    private var recordedWarnings: [String] = []
    /// In `.rateWithKeyframes` sampling, a keyframe off the rate is taken only this long (a quarter of
    /// the rate's interval) after the previous one taken: an all-intra stream, where every frame is a
    /// keyframe, would otherwise be analysed frame by frame.
    public let keyframeSpacing: Double
    private var skippedKeyframes = 0
    private var lastKeyframeTime = -Double.infinity
    /// Frames decoded so far (returned or skipped by sampling), in presentation order. Frames the
    /// decoder was told not to decode (`skipsUnsampledNonReferenceFrames`) are not counted.
    public var decodedFrameCount: Int { outputCount }
    /// In `.rate` and `.rateWithKeyframes` sampling of a stream with a known frame rate, the packets
    /// of frames that cannot be sampled are decoded with AVDISCARD_NONREF: if nothing is predicted
    /// from such a frame (most B-frames), the decoder drops it without decoding. A packet is kept when
    /// it is a keyframe, has no timestamp, or lies within 1.5 frame durations after the start of its
    /// 1/fps slot or of a time range's start (it may be the slot's first frame). On a constant-rate stream
    /// the returned frames are exactly those of a full decode; an H.264 stream with B-frames then
    /// costs about half the decoding work (`ffmpeg -skip_frame noref` on a 60-s 1080p x264 clip:
    /// 7.1 vs 13.3 CPU-seconds).
    public let skipsUnsampledNonReferenceFrames: Bool
    private let samplingRate: Double
    private let frameDuration: Double
    private var discardsNonReference = false
    private var sentPackets = 0

    private let input: MediaInput
    private let codec: CodecContext
    private let packet: Packet
    private let frame: Frame
    private let converter: FrameToRGB
    private let sampling: FrameSampling
    private let maxFrames: Int?
    private let maxDecodedFrames: Int?
    private let maxDuration: Double?
    private let outputSize: OutputSize
    private let maxPixels: Int

    private var inputEnded = false
    private var finished = false
    private var pendingError: MediaError?
    private var outputCount = 0
    private var returnedCount = 0
    private var nextRateTime = -Double.infinity
    private var nextTarget = 0
    /// In `.timestamps` sampling, set once a seek was followed by concealed errors.
    private var seeksUnreliable = false
    /// Time of the last frame decoded, in `.timestamps` sampling.
    private var lastDecodedTime = -Double.infinity
    private var consecutiveErrors = 0
    private var skippedPackets = 0
    /// The time ranges frames are returned from: ascending and disjoint; one range [startTime, endTime]
    /// unless `ranges` was given.
    private let ranges: [ClosedRange<Double>]
    /// The range the decoder is in.
    private var rangeIndex = 0
    /// The first range's start.
    private var startTime: Double { ranges[0].lowerBound }
    /// Whether frames before a range's start may go undecoded (a seek, or more than one range):
    /// positions are then estimated from times.
    private var skipsAhead: Bool { startTime > 0 || ranges.count > 1 }

    /// Opens `path` and prepares its best video stream for decoding.
    ///
    /// - Parameters:
    ///   - maxFrames: stop after this many returned frames.
    ///   - threads: decoder threads, 0 = FFmpeg's automatic choice.
    ///   - maxPixels: frames (declared or decoded) larger than this throw `.tooLarge`.
    ///   - maxDecodedFrames, maxDuration: decoding stops, with a warning, after this many decoded frames
    ///     (sampled or not) or this many seconds of media after the start time.
    ///   - startTime, endTime: only frames with start ≤ time ≤ end (seconds from the stream start)
    ///     are returned; a start after 0 seeks there first, and frame indices are then estimated as
    ///     round(time × frame rate). Ignored by `.timestamps`.
    ///   - ranges: instead of startTime and endTime, several such ranges (ascending, disjoint), each
    ///     sampled as a decoder opened on it alone would sample it (rate sampling starts afresh at
    ///     each range's start). Between two ranges the decoder seeks only when the demuxer's index has
    ///     a keyframe before the next range that lies after the current frame; otherwise it decodes
    ///     on (reference frames only, in rate sampling), which costs less than seeking back to a
    ///     keyframe already passed. Without an index it seeks.
    public init(
        path: String, sampling: FrameSampling = .everyFrame, maxFrames: Int? = nil,
        outputSize: OutputSize = .native, threads: Int = 0, maxPixels: Int = 1 << 28,
        maxDecodedFrames: Int? = nil, maxDuration: Double? = nil, startTime: Double? = nil, endTime: Double? = nil,
        ranges: [ClosedRange<Double>]? = nil
    ) throws {
        if let startTime, !(startTime >= 0 && startTime.isFinite) {
            throw MediaError(
                kind: .invalidArgument, path: path, operation: "cannot decode",
                message: "start time must be ≥ 0, got \(startTime)")
        }
        if let endTime, !(endTime >= (startTime ?? 0)) || endTime.isNaN {
            throw MediaError(
                kind: .invalidArgument, path: path, operation: "cannot decode",
                message: "end time must not be before the start time, got \(endTime)")
        }
        if let ranges {
            if startTime != nil || endTime != nil {
                throw MediaError(
                    kind: .invalidArgument, path: path, operation: "cannot decode",
                    message: "give time ranges or a start and end time, not both")
            }
            guard let first = ranges.first, first.lowerBound >= 0, ranges.allSatisfy({ $0.lowerBound.isFinite }),
                zip(ranges, ranges.dropFirst()).allSatisfy({ $0.upperBound < $1.lowerBound })
            else {
                throw MediaError(
                    kind: .invalidArgument, path: path, operation: "cannot decode",
                    message: "time ranges must be non-empty, ≥ 0, finite at their start, ascending and disjoint")
            }
            self.ranges = ranges
        } else {
            self.ranges = [(startTime ?? 0)...(endTime ?? .infinity)]
        }
        switch sampling {
        case .everyNth(let n) where n < 1:
            throw MediaError(
                kind: .invalidArgument, path: path, operation: "cannot decode", message: "everyNth needs n ≥ 1, got \(n)")
        case .rate(let fps) where !(fps > 0 && fps.isFinite), .rateWithKeyframes(let fps) where !(fps > 0 && fps.isFinite):
            throw MediaError(
                kind: .invalidArgument, path: path, operation: "cannot decode", message: "rate needs fps > 0, got \(fps)")
        default: break
        }
        if case .longSide(let side) = outputSize, side < 1 {
            throw MediaError(
                kind: .invalidArgument, path: path, operation: "cannot decode", message: "longSide needs ≥ 1, got \(side)")
        }
        self.path = path
        self.sampling = sampling
        self.maxFrames = maxFrames
        self.maxDecodedFrames = maxDecodedFrames
        self.maxDuration = maxDuration
        self.outputSize = outputSize
        self.maxPixels = maxPixels
        input = try MediaInput(path: path, maxPixels: maxPixels)
        info = input.info
        codec = try CodecContext(codec: input.decoder, path: path)
        packet = try Packet()
        frame = try Frame()
        converter = try FrameToRGB(path: path)

        switch sampling {
        case .rate(let fps), .rateWithKeyframes(let fps): samplingRate = fps
        default: samplingRate = 0
        }
        keyframeSpacing = samplingRate > 0 ? 1 / (4 * samplingRate) : 0
        let streamRate = info.frameRate ?? 0
        frameDuration = streamRate > 0 ? 1 / streamRate : 0
        skipsUnsampledNonReferenceFrames = samplingRate > 0 && streamRate > 0 && !info.isStillImage
        let keyOnly = sampling == .keyframesOnly
        try input.withStream { stream in
            try codec.withPointer { c in
                try ffCheck(avcodec_parameters_to_context(c, stream.pointee.codecpar), "cannot open decoder", path: path)
                c.pointee.thread_count = Int32(clamping: max(0, threads))
                c.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
                c.pointee.pkt_timebase = stream.pointee.time_base
                if keyOnly { c.pointee.skip_frame = AVDISCARD_NONKEY }
                _ = av_opt_set_int(UnsafeMutableRawPointer(c), "max_pixels", Int64(maxPixels), 0)
            }
        }
        try codec.open(kind: .unsupportedCodec, operation: "cannot open decoder")
        if self.startTime > 0, !isTimestampSampling, input.seek(toSeconds: self.startTime) < 0 {
            warn("cannot seek to \(self.startTime) s; decoding from the start")
        }
    }

    private var isTimestampSampling: Bool {
        if case .timestamps = sampling { return true }
        return false
    }

    /// Next sampled frame converted into `image` (buffer reused: no per-frame allocation once sized),
    /// rotation applied. nil at the end.
    public func nextFrame(into image: inout RGBImage) throws -> DecodedFrame? {
        guard var decoded = try nextSampled() else { return nil }
        defer { frame.unref() }
        try converter.convert(frame, size: outputSize, rotation: info.rotationDegrees, into: &image)
        decoded.width = image.width
        decoded.height = image.height
        return decoded
    }

    /// Next sampled frame, decoded but not converted (for decode benchmarks). nil at the end.
    public func nextFrameWithoutConversion() throws -> DecodedFrame? {
        guard let decoded = try nextSampled() else { return nil }
        frame.unref()
        return decoded
    }

    // MARK: - Sampling

    private func nextSampled() throws -> DecodedFrame? {
        if finished { return nil }
        if let maxFrames, returnedCount >= maxFrames { return nil }
        if case .timestamps(let targets) = sampling { return try nextAtTimestamp(targets) }
        while try decodeNext() {
            let position = outputCount
            outputCount += 1
            if let maxDecodedFrames, outputCount > maxDecodedFrames {
                warn("stopped after decoding \(maxDecodedFrames) frames (the decoded-frame limit); the rest was not analysed")
                frame.unref()
                finished = true
                return nil
            }
            let (time, index) = try describeFrame(position: position)
            if let maxDuration, time > startTime + maxDuration + 1e-4 {
                warn(
                    "stopped at \(String(format: "%.0f", startTime + maxDuration)) s (the duration limit of "
                        + "\(String(format: "%.0f", maxDuration)) s); the rest was not analysed")
                frame.unref()
                finished = true
                return nil
            }
            if time > ranges[rangeIndex].upperBound + 1e-4 {
                // past the current range: on to the first range that has not ended, sampled afresh
                while rangeIndex < ranges.count && time > ranges[rangeIndex].upperBound + 1e-4 { rangeIndex += 1 }
                guard rangeIndex < ranges.count else {
                    frame.unref()
                    finished = true
                    return nil
                }
                nextRateTime = -Double.infinity
                let start = ranges[rangeIndex].lowerBound
                if time < start - 1e-4, !inputEnded, seekSaves(from: time, to: start) {
                    frame.unref()
                    seekAhead(to: start)
                    continue
                }
            }
            if time < ranges[rangeIndex].lowerBound - 1e-4 {
                frame.unref()
                continue
            }
            var selected = true
            switch sampling {
            case .everyNth(let n): selected = position % n == 0
            case .rate(let fps):
                selected = time >= nextRateTime - 1e-6
                if selected { nextRateTime = ((time * fps + 1e-6).rounded(.down) + 1) / fps }
            case .rateWithKeyframes(let fps):
                let onRate = time >= nextRateTime - 1e-6
                if onRate { nextRateTime = ((time * fps + 1e-6).rounded(.down) + 1) / fps }
                let keyframeDue = frame.isKeyframe && time >= lastKeyframeTime + keyframeSpacing - 1e-6
                if frame.isKeyframe && !onRate && !keyframeDue { skippedKeyframes += 1 }
                if keyframeDue { lastKeyframeTime = time }
                selected = onRate || keyframeDue
            default: break
            }
            if selected { return made(time: time, index: index) }
            frame.unref()
        }
        return try end()
    }

    private func nextAtTimestamp(_ targets: [Double]) throws -> DecodedFrame? {
        while nextTarget < targets.count {
            let target = targets[nextTarget]
            nextTarget += 1
            guard target.isFinite else {
                warn("ignored timestamp \(target)")
                continue
            }
            if let found = try decode(at: target) { return found }
        }
        finished = true
        return nil
    }

    /// The first frame at or after `target`, after a seek there. When the frames after the seek needed
    /// repairs (the seek skipped frames they depend on), that frame and every later target's are
    /// decoded on from the start instead, never from a seek.
    private func decode(at target: Double) throws -> DecodedFrame? {
        if seeksUnreliable {
            if target <= lastDecodedTime { restart(at: 0) }
        } else {
            restart(at: target)
            let (found, damaged) = try decodeOn(to: target)
            guard found != nil, damaged, target > 0 else { return found.map { made(time: $0.time, index: $0.index) } }
            frame.unref()
            warn("a seek to \(target) s gave frames the decoder had to repair; decoding from the start")
            seeksUnreliable = true
            restart(at: 0)
        }
        return try decodeOn(to: target).found.map { made(time: $0.time, index: $0.index) }
    }

    /// Decodes on from where the decoder is to the first frame at or after `target` (left in `frame`),
    /// and whether any frame decoded on the way needed repairs.
    private func decodeOn(to target: Double) throws -> (found: (time: Double, index: Int)?, damaged: Bool) {
        var damaged = false
        while try decodeNext() {
            outputCount += 1
            let (time, index) = try describeFrame(position: outputCount - 1)
            lastDecodedTime = time
            damaged = damaged || frame.hasDecodeErrors
            if time >= target - 1e-4 { return ((time, index), damaged) }
            frame.unref()
        }
        if let error = pendingError { warn("no frame for \(target) s: \(error.message)") }
        return (nil, damaged)
    }

    /// Seeks to `seconds` (0: the start) and empties the decoder, for `.timestamps` sampling.
    private func restart(at seconds: Double) {
        if input.seek(toSeconds: seconds) < 0 { warn("cannot seek to \(seconds) s; decoding forward") }
        codec.flush()
        inputEnded = false
        pendingError = nil
        lastDecodedTime = -Double.infinity
    }

    /// Whether seeking to `start` skips decoding: the keyframe a seek would land on lies after the
    /// frame at `time`. Without an index, a seek (the decoder cannot tell).
    private func seekSaves(from time: Double, to start: Double) -> Bool {
        guard let keyframe = input.keyframeSeconds(atOrBefore: start) else { return true }
        return keyframe > time + 1e-4
    }

    /// Seeks forward to the next range's `start` and empties the decoder.
    private func seekAhead(to start: Double) {
        if input.seek(toSeconds: start) < 0 {
            warn("cannot seek to \(start) s; decoding forward")
            return
        }
        codec.flush()
    }

    private func made(time: Double, index: Int) -> DecodedFrame {
        returnedCount += 1
        let (w, h) = FrameToRGB.scaledSize(width: frame.width, height: frame.height, size: outputSize)
        let rotated = info.rotationDegrees % 180 != 0
        return DecodedFrame(
            index: index, time: time, isKeyframe: frame.isKeyframe,
            width: rotated ? h : w, height: rotated ? w : h)
    }

    /// Checks the decoded frame's size and computes its time and reported index.
    private func describeFrame(position: Int) throws -> (Double, Int) {
        let w = frame.width, h = frame.height
        if MediaInput.exceedsPixelLimit(w, h, maxPixels) {
            throw MediaInput.tooLarge(path: path, width: w, height: h, maxPixels: maxPixels)
        }
        let rate = info.frameRate ?? 0
        let time: Double
        if let ticks = frame.timestamp {
            time = input.seconds(ticks: ticks)
        } else {
            time = rate > 0 ? Double(position) / rate : 0
        }
        if (skipsAhead && !isTimestampSampling) || skipsUnsampledNonReferenceFrames {
            return (time, rate > 0 ? Int((time * rate).rounded().clamped(to: 0...1e15)) : position)
        }
        switch sampling {
        case .keyframesOnly, .timestamps:
            return (time, rate > 0 ? Int((time * rate).rounded().clamped(to: 0...1e15)) : position)
        default:
            return (time, position)
        }
    }

    /// End of the stream: throw a pending demuxer error once, note missing frames, then nil forever.
    private func end() throws -> DecodedFrame? {
        finished = true
        if let error = pendingError {
            pendingError = nil
            throw error
        }
        if outputCount == 0 {
            throw MediaError(
                kind: .corrupt, path: path, operation: "cannot decode",
                message: "no decodable video frame (file truncated or damaged?)")
        }
        // Every frame was decoded (not keyframes only): compare with what the container declares.
        // (With non-reference frames skipped, the packets sent stand for the frames; after a seek to
        // the start time, part of the file was never read, so there is nothing to compare.)
        let seen = skipsUnsampledNonReferenceFrames ? sentPackets : outputCount
        if sampling != .keyframesOnly, !info.isStillImage, !skipsAhead, let declared = info.estimatedFrameCount,
            seen < declared * 9 / 10
        {
            warn("decoded \(seen) of about \(declared) declared frames (file truncated?)")
        }
        return nil
    }

    // MARK: - Demux/decode loop

    /// Decodes the next frame of the video stream into `frame`; false when the stream is exhausted.
    private func decodeNext() throws -> Bool {
        while true {
            let state: CodecState
            do {
                state = try codec.receive(frame)
                consecutiveErrors = 0
            } catch let error as MediaError where error.code == unmask_averror_invaliddata() {
                consecutiveErrors += 1
                warn("skipped an undecodable frame: \(error.message)")
                if consecutiveErrors > 100 {
                    throw MediaError(
                        kind: .corrupt, path: path, operation: "cannot decode", code: error.code,
                        message: "too many undecodable frames in a row (\(error.message))")
                }
                continue
            }
            switch state {
            case .ready: return true
            case .drained: return false
            case .needsInput:
                if inputEnded { return false }
                try feed()
            }
        }
    }

    /// Reads packets until one of the video stream is sent to the decoder, or the input ends.
    private func feed() throws {
        while true {
            switch input.read(into: packet) {
            case .packet:
                defer { packet.unref() }
                guard packet.streamIndex == input.streamIndex else { continue }
                if sampling == .keyframesOnly && !packet.isKey { continue }
                if packet.isCorrupt { warn("an incomplete packet at frame \(outputCount) (file truncated?)") }
                if skipsUnsampledNonReferenceFrames { discardNonReference(!mayBeSampled(packet)) }
                sentPackets += 1
                if try !codec.send(packet) {
                    skippedPackets += 1
                    warn("skipped an invalid packet (\(skippedPackets) so far)")
                }
                return
            case .endOfFile:
                inputEnded = true
                _ = try codec.send(nil)
                return
            case .failed(let code):
                inputEnded = true
                let kind: MediaError.Kind =
                    input.reachedEndOfFile
                    ? .truncated
                    : (code == unmask_averror_invaliddata() ? .corrupt : .io)
                pendingError = MediaError(
                    kind: kind, path: path, operation: "cannot read", code: code,
                    message:
                        "\(ffErrorMessage(code)) after \(outputCount) frames (file \(kind == .truncated ? "truncated" : "damaged")?)"
                )
                _ = try codec.send(nil)
                return
            }
        }
    }

    /// Whether the packet's frame could be returned by rate sampling (see
    /// `skipsUnsampledNonReferenceFrames`).
    private func mayBeSampled(_ packet: Packet) -> Bool {
        guard !packet.isKey, let pts = packet.presentationTimestamp else { return true }
        let time = input.seconds(ticks: pts)
        guard let range = ranges[rangeIndex...].first(where: { time <= $0.upperBound + 1e-4 }),
            time >= range.lowerBound - 1e-4
        else { return false }
        let margin = 1.5 * frameDuration
        if time - range.lowerBound < margin { return true }  // the first frame at or after a range's start is taken
        let slotStart = (time * samplingRate + 1e-6).rounded(.down) / samplingRate
        return time - slotStart < margin
    }

    /// Sets the decoder's skip_frame for the next packet: AVDISCARD_NONREF or AVDISCARD_DEFAULT.
    private func discardNonReference(_ discard: Bool) {
        guard discard != discardsNonReference else { return }
        discardsNonReference = discard
        codec.withPointer { $0.pointee.skip_frame = discard ? AVDISCARD_NONREF : AVDISCARD_DEFAULT }
    }

    private func warn(_ message: String) {
        if recordedWarnings.count < 100 { recordedWarnings.append(message) }
    }
}
