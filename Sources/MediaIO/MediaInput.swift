// Opening media for reading: pre-flight file checks, the AVFormatContext owner, classification of
// open failures into MediaError kinds, pixel limits checked before anything large is allocated,
// and MediaInfo / probeMedia built from the chosen video stream.
import CFFmpeg
import Foundation

/// Facts about a media file's best video stream, as the container and codec parameters declare them.
public struct MediaInfo: Codable, Equatable, Sendable {
    /// The path as given.
    public var path: String
    /// FFmpeg's demuxer short name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "png_pipe".
    public var container: String
    /// Container (or stream) duration; nil for still images and when unknown.
    public var durationSeconds: Double?
    /// Codec short name, e.g. "h264", "mpeg4", "png".
    public var videoCodec: String
    /// Stored (coded) frame size, before rotation. See `displayWidth`/`displayHeight`.
    public var width: Int
    public var height: Int
    /// Average frame rate as FFmpeg guesses it; nil for still images and when unknown.
    public var frameRate: Double?
    /// The container's frame count, else duration × frame rate; 1 for still images.
    public var estimatedFrameCount: Int?
    /// Clockwise rotation (0/90/180/270) needed to show the picture upright, from the display matrix.
    public var rotationDegrees: Int
    /// FFmpeg pixel format name of the coded frames, e.g. "yuv420p", "rgb24"; "unknown" if FFmpeg could not tell.
    public var pixelFormat: String
    /// Video stream bit rate, else the container's, in bits/s.
    public var bitRate: Int?
    public var hasAudio: Bool
    /// A single image read through an image demuxer (PNG, JPEG, BMP, TIFF, WebP…).
    public var isStillImage: Bool
    /// Video streams in the file, cover pictures not counted; only the best one is decoded.
    public var videoStreamCount: Int
    /// The container's metadata tags (title, encoder, creation_time, …), then the chosen stream's for
    /// keys the container lacks, as the file states them (untrusted text): at most `maximumTags`,
    /// keys cut to 64 and values to 1,024 characters.
    public var tags: [String: String]

    /// Most tags kept in `tags`.
    public static let maximumTags = 64

    public init(
        path: String, container: String, durationSeconds: Double?, videoCodec: String, width: Int, height: Int,
        frameRate: Double?, estimatedFrameCount: Int?, rotationDegrees: Int, pixelFormat: String, bitRate: Int?,
        hasAudio: Bool, isStillImage: Bool, videoStreamCount: Int = 1, tags: [String: String] = [:]
    ) {
        self.videoStreamCount = videoStreamCount
        self.tags = tags
        self.path = path
        self.container = container
        self.durationSeconds = durationSeconds
        self.videoCodec = videoCodec
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.estimatedFrameCount = estimatedFrameCount
        self.rotationDegrees = rotationDegrees
        self.pixelFormat = pixelFormat
        self.bitRate = bitRate
        self.hasAudio = hasAudio
        self.isStillImage = isStillImage
    }

    /// Width of the upright picture (what VideoDecoder returns at `.native` size).
    public var displayWidth: Int { rotationDegrees % 180 == 0 ? width : height }
    /// Height of the upright picture.
    public var displayHeight: Int { rotationDegrees % 180 == 0 ? height : width }

    /// The container as a person names it. FFmpeg names some demuxers by every format they read
    /// ("mov,mp4,m4a,3gp,3g2,mj2"); this is the one matching the file's extension, or the first.
    public var containerName: String {
        let names = container.split(separator: ",").map(String.init)
        let fileExtension = path.split(separator: ".").last.map { $0.lowercased() } ?? ""
        return names.first { $0 == fileExtension } ?? names.first ?? container
    }

    /// Probes `path` without decoding more than FFmpeg needs to learn the stream parameters.
    public static func probe(path: String, maxPixels: Int = 1 << 28) throws -> MediaInfo {
        try MediaInput(path: path, maxPixels: maxPixels).info
    }
}

/// Probes `path`: container, codec, size, rate, rotation... of its best video stream.
public func probeMedia(path: String, maxPixels: Int = 1 << 28) throws -> MediaInfo {
    try MediaInfo.probe(path: path, maxPixels: maxPixels)
}

/// Outcome of reading one packet from the demuxer.
enum ReadResult: Equatable {
    case packet, endOfFile, failed(Int32)
}

/// An AVFormatContext opened for reading (avformat_open_input / avformat_close_input).
final class FormatContext {
    private let pointer: UnsafeMutablePointer<AVFormatContext>
    let path: String

    /// Opens `path`; open failures are classified (unrecognized vs corrupt, missing, ...).
    init(path: String, maxPixels: Int) throws {
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        let rc = avformat_open_input(&ctx, path, nil, nil)
        if rc < 0 { throw MediaInput.classifyOpenFailure(rc, path: path, maxPixels: maxPixels) }
        pointer = ctx!  // avformat_open_input sets it when it succeeds
        self.path = path
    }

    deinit {
        var p: UnsafeMutablePointer<AVFormatContext>? = pointer
        avformat_close_input(&p)
    }

    @discardableResult
    func withPointer<R>(_ body: (UnsafeMutablePointer<AVFormatContext>) throws -> R) rethrows -> R {
        try body(pointer)
    }
}

/// An opened input with its chosen video stream, decoder and MediaInfo.
final class MediaInput {
    let format: FormatContext
    let path: String
    let streamIndex: Int32
    let decoder: UnsafePointer<AVCodec>
    let info: MediaInfo
    /// Stream time base in seconds per tick.
    let timeBase: Double
    /// Stream start time in ticks (0 when unknown); decoded times are relative to it.
    let startTicks: Int64

    init(path: String, maxPixels: Int) throws {
        MediaLog.ensureConfigured()
        self.path = path
        try Self.preflight(path)
        let format = try FormatContext(path: path, maxPixels: maxPixels)
        self.format = format
        let chosen = try format.withPointer { try Self.chooseVideoStream($0, path: path, maxPixels: maxPixels) }
        streamIndex = chosen.index
        decoder = chosen.decoder
        info = chosen.info
        timeBase = chosen.timeBase
        startTicks = chosen.startTicks
    }

    /// What `chooseVideoStream` found.
    private struct Choice {
        var index: Int32, decoder: UnsafePointer<AVCodec>, info: MediaInfo, timeBase: Double, startTicks: Int64
    }

    /// Checks limits, reads stream info and picks the best video stream with a decoder.
    private static func chooseVideoStream(_ ctx: UnsafeMutablePointer<AVFormatContext>, path: String, maxPixels: Int) throws
        -> Choice
    {

        // 1. Limits on what the header declares, before find_stream_info reads (and allocates) frames.
        try checkDeclaredSizes(ctx, path: path, maxPixels: maxPixels)
        // 2. Stream info, with the decoders' own pixel limit.
        // streams[0..<count] are never NULL here or below: FFmpeg allocates every stream it counts.
        let count = Int(ctx.pointee.nb_streams)
        var dicts = [OpaquePointer?](repeating: nil, count: max(count, 1))
        for i in 0..<count { av_dict_set(&dicts[i], "max_pixels", String(maxPixels), 0) }
        let rc = dicts.withUnsafeMutableBufferPointer { avformat_find_stream_info(ctx, $0.baseAddress) }
        for i in 0..<dicts.count { av_dict_free(&dicts[i]) }
        try ffCheck(rc, "cannot read stream information", path: path, kind: .corrupt)
        try checkDeclaredSizes(ctx, path: path, maxPixels: maxPixels)
        // 3. The best video stream and its decoder.
        var codec: UnsafePointer<AVCodec>? = nil
        let best = av_find_best_stream(ctx, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)
        if best == unmask_averror_stream_not_found() {
            let audio = (0..<count).contains {
                ctx.pointee.streams[$0]!.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO
            }
            throw MediaError(
                kind: .noVideoStream, path: path, operation: "cannot open",
                code: best, message: audio ? "no video stream (audio only)" : "no video stream")
        }
        if best == unmask_averror_decoder_not_found() {
            let idx =
                (0..<count).first { ctx.pointee.streams[$0]!.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO } ?? 0
            let name = String(cString: avcodec_get_name(ctx.pointee.streams[idx]!.pointee.codecpar.pointee.codec_id))
            throw MediaError(
                kind: .unsupportedCodec, path: path, operation: "cannot open", code: best,
                message: "no decoder for video codec \(name)")
        }
        try ffCheck(best, "cannot open", path: path)
        let stream = ctx.pointee.streams[Int(best)]!
        let par = stream.pointee.codecpar.pointee
        if par.width <= 0 || par.height <= 0 {
            // Image demuxers learn the size only by decoding; a decoder refusing a huge image leaves it 0.
            if let (w, h) = declaredImageSize(path: path), exceedsPixelLimit(w, h, maxPixels) {
                throw tooLarge(path: path, width: w, height: h, maxPixels: maxPixels)
            }
            throw MediaError(kind: .corrupt, path: path, operation: "cannot open", message: "cannot determine the frame size")
        }
        for i in 0..<count where i != Int(best) { ctx.pointee.streams[i]!.pointee.discard = AVDISCARD_ALL }

        let start = stream.pointee.start_time
        // av_find_best_stream sets `codec` whenever it returns a stream (no decoder is the error above).
        return Choice(
            index: best, decoder: codec!, info: makeInfo(ctx, stream: stream, path: path),
            timeBase: av_q2d(stream.pointee.time_base), startTicks: start == unmask_av_nopts_value() ? 0 : start)
    }

    /// Runs `body` with the chosen video stream.
    func withStream<R>(_ body: (UnsafeMutablePointer<AVStream>) throws -> R) rethrows -> R {
        try format.withPointer { try body($0.pointee.streams[Int(streamIndex)]!) }  // an index below nb_streams
    }

    /// av_read_frame into `packet` (which must be unreferenced).
    func read(into packet: Packet) -> ReadResult {
        let rc = format.withPointer { ctx in packet.withPointer { av_read_frame(ctx, $0) } }
        if rc >= 0 { return .packet }
        if rc == unmask_averror_eof() { return .endOfFile }
        return .failed(rc)
    }

    /// Whether reading has hit the end of the underlying file.
    var reachedEndOfFile: Bool { format.withPointer { $0.pointee.pb.map { $0.pointee.eof_reached != 0 } ?? false } }

    /// Seeks the video stream to the keyframe at or before `seconds` (relative to the stream start).
    func seek(toSeconds seconds: Double) -> Int32 {
        let ticks = ticks(seconds: seconds)
        return format.withPointer { av_seek_frame($0, streamIndex, ticks, AVSEEK_FLAG_BACKWARD) }
    }

    /// Stream ticks for seconds from the stream start, clamped to 0…1e9 s (callers filter NaN; 1e9 s
    /// keeps the tick count in range).
    private func ticks(seconds: Double) -> Int64 {
        let clamped = min(max(0, seconds), 1e9)
        return startTicks &+ Int64((clamped / timeBase).rounded(.down).clamped(to: 0...9e18))
    }

    /// Seconds relative to the stream start for a timestamp in stream ticks.
    func seconds(ticks: Int64) -> Double { Double(ticks - startTicks) * timeBase }

    /// Time of the last keyframe at or before `seconds` in the demuxer's index (where a seek there
    /// would land), or nil when the container keeps no index for the stream.
    func keyframeSeconds(atOrBefore seconds: Double) -> Double? {
        let ticks = ticks(seconds: seconds)
        return withStream { stream -> Double? in
            let i = av_index_search_timestamp(stream, ticks, AVSEEK_FLAG_BACKWARD)
            guard i >= 0, let entry = avformat_index_get_entry(stream, i) else { return nil }
            return self.seconds(ticks: entry.pointee.timestamp)
        }
    }
}

// MARK: - Checks and classification

extension MediaInput {
    /// Missing, directory/FIFO/device, empty, unreadable: caught here with a plain message before FFmpeg sees the path.
    static func preflight(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR {
                // Swift decodes command-line arguments as UTF-8 and replaces invalid bytes with U+FFFD,
                // so a name holding such bytes reaches here as a different name that does not exist.
                let message =
                    path.contains("\u{FFFD}")
                    ? "no such file: the name has bytes that are not UTF-8 (shown as \u{FFFD}), which cannot be "
                        + "passed on; rename the file, or give its folder to `unmask audit`, which reads such names"
                    : "no such file"
                throw MediaError(kind: .notFound, path: path, operation: "cannot open", message: message)
            }
            throw MediaError(kind: .io, path: path, operation: "cannot open", message: String(cString: strerror(code)))
        }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR {
            throw MediaError(kind: .notAFile, path: path, operation: "cannot open", message: "is a directory, not a media file")
        }
        if type != S_IFREG {
            throw MediaError(kind: .notAFile, path: path, operation: "cannot open", message: "not a regular file")
        }
        if access(path, R_OK) != 0 {
            throw MediaError(kind: .io, path: path, operation: "cannot open", message: "permission denied")
        }
        if info.st_size == 0 {
            throw MediaError(kind: .emptyFile, path: path, operation: "cannot open", message: "file is empty (0 bytes)")
        }
    }

    /// Turns an avformat_open_input failure into a MediaError: content FFmpeg recognizes but cannot read
    /// is `.corrupt`, content it does not recognize at all is `.unrecognizedFormat`, and a header
    /// declaring more than `maxPixels` (FFmpeg refuses absurd sizes with unhelpful codes) is `.tooLarge`.
    static func classifyOpenFailure(_ code: Int32, path: String, maxPixels: Int) -> MediaError {
        let message = ffErrorMessage(code)
        if let (w, h) = declaredImageSize(path: path), exceedsPixelLimit(w, h, maxPixels) {
            return tooLarge(path: path, width: w, height: h, maxPixels: maxPixels)
        }
        switch code {
        case unmask_averror_enoent():
            return MediaError(kind: .notFound, path: path, operation: "cannot open", code: code, message: message)
        case unmask_averror_eacces(), unmask_averror_eio():
            return MediaError(kind: .io, path: path, operation: "cannot open", code: code, message: message)
        default:
            if let name = probeContent(path: path) {
                return MediaError(
                    kind: .corrupt, path: path, operation: "cannot open", code: code,
                    message: "\(message) (content looks like \(name))")
            }
            return MediaError(
                kind: .unrecognizedFormat, path: path, operation: "cannot open", code: code,
                message: "\(message) (not a recognized media format)")
        }
    }

    /// The demuxer FFmpeg would pick from the first bytes alone (ignoring the file name), if it is confident.
    static func probeContent(path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 1 << 16), !head.isEmpty else { return nil }
        var bytes = [UInt8](head)
        let size = Int32(bytes.count)
        bytes += [UInt8](repeating: 0, count: Int(AVPROBE_PADDING_SIZE))
        var score: Int32 = 0
        let format: UnsafePointer<AVInputFormat>? = bytes.withUnsafeMutableBufferPointer { buf in
            "".withCString { empty in
                var probe = AVProbeData(filename: empty, buf: buf.baseAddress, buf_size: size, mime_type: nil)
                return av_probe_input_format3(&probe, 1, &score)
            }
        }
        guard let format, score > AVPROBE_SCORE_MAX / 4 else { return nil }
        return String(cString: format.pointee.name)
    }

    /// width × height > limit, without overflow for absurd header values.
    static func exceedsPixelLimit(_ width: Int, _ height: Int, _ limit: Int) -> Bool {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        return overflow || pixels > limit
    }

    static func tooLarge(path: String, width: Int, height: Int, maxPixels: Int) -> MediaError {
        MediaError(
            kind: .tooLarge, path: path, operation: "cannot open",
            message: "declares \(width)×\(height) pixels, over the \(maxPixels)-pixel limit")
    }

    /// Throws `.tooLarge` if any video stream declares more than `maxPixels`.
    static func checkDeclaredSizes(_ ctx: UnsafeMutablePointer<AVFormatContext>, path: String, maxPixels: Int) throws {
        for i in 0..<Int(ctx.pointee.nb_streams) {  // streams[i] below nb_streams is never NULL
            let par = ctx.pointee.streams[i]!.pointee.codecpar.pointee
            guard par.codec_type == AVMEDIA_TYPE_VIDEO else { continue }
            let w = Int(par.width), h = Int(par.height)
            if w > 0, h > 0, exceedsPixelLimit(w, h, maxPixels) {
                throw tooLarge(path: path, width: w, height: h, maxPixels: maxPixels)
            }
        }
    }

    /// Width and height declared in a PNG (IHDR), BMP or YUV4MPEG2 header, read directly: image
    /// demuxers only learn the size by decoding, and FFmpeg refuses huge sizes without saying why.
    static func declaredImageSize(path: String) -> (Int, Int)? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 256), data.count >= 26 else { return nil }
        let b = [UInt8](data)
        if b.starts(with: Array("YUV4MPEG2 ".utf8)) {
            let header = String(decoding: b.prefix { $0 != 0x0A }, as: UTF8.self).split(separator: " ")
            let w = header.first { $0.hasPrefix("W") }.flatMap { Int($0.dropFirst().prefix(12)) }
            let h = header.first { $0.hasPrefix("H") }.flatMap { Int($0.dropFirst().prefix(12)) }
            if let w, let h { return (w, h) }
            return nil
        }
        func be32(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        func le32(_ o: Int) -> Int32 {
            Int32(bitPattern: UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24)
        }
        if b.count >= 24, b[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], b[12..<16] == [0x49, 0x48, 0x44, 0x52] {
            return (be32(16), be32(20))
        }
        if b[0] == 0x42, b[1] == 0x4D {
            return (Int(le32(18).magnitude), Int(le32(22).magnitude))
        }
        return nil
    }

    /// MediaInfo for `stream` of an opened context.
    static func makeInfo(_ ctx: UnsafeMutablePointer<AVFormatContext>, stream: UnsafeMutablePointer<AVStream>, path: String)
        -> MediaInfo
    {
        let par = stream.pointee.codecpar.pointee
        let container = String(cString: ctx.pointee.iformat.pointee.name)
        let still = container == "image2" || (container.hasSuffix("_pipe") && container != "yuv4mpegpipe")
        let nopts = unmask_av_nopts_value()

        var duration: Double? = nil
        if ctx.pointee.duration != nopts, ctx.pointee.duration > 0 {
            duration = Double(ctx.pointee.duration) / Double(unmask_av_time_base())
        } else if stream.pointee.duration != nopts, stream.pointee.duration > 0 {
            duration = Double(stream.pointee.duration) * av_q2d(stream.pointee.time_base)
        }
        let rate = av_guess_frame_rate(ctx, stream, nil)
        var frameRate: Double? = (rate.num > 0 && rate.den > 0) ? av_q2d(rate) : nil
        var frames: Int? = stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : nil
        if frames == nil, let duration, let frameRate { frames = Int((duration * frameRate).rounded()) }
        if still { duration = nil; frameRate = nil; frames = 1 }

        var rotation = 0
        if let side = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nil) {
            let angle = side.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
            if angle.isFinite {
                let clockwise = Int((-angle / 90).rounded()) * 90
                rotation = ((clockwise % 360) + 360) % 360
            }
        }
        let pixelFormat = av_get_pix_fmt_name(AVPixelFormat(rawValue: par.format)).map { String(cString: $0) } ?? "unknown"
        let bitRate = par.bit_rate > 0 ? Int(par.bit_rate) : (ctx.pointee.bit_rate > 0 ? Int(ctx.pointee.bit_rate) : nil)
        let streams = (0..<Int(ctx.pointee.nb_streams)).compactMap { ctx.pointee.streams[$0] }
        let hasAudio = streams.contains { $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO }
        let videoStreams = streams.filter {
            $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO
                && $0.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0
        }
        var tags = readTags(ctx.pointee.metadata)
        for (key, value) in readTags(stream.pointee.metadata) where tags[key] == nil && tags.count < MediaInfo.maximumTags {
            tags[key] = value
        }
        return MediaInfo(
            path: path, container: container, durationSeconds: duration,
            videoCodec: String(cString: avcodec_get_name(par.codec_id)),
            width: Int(par.width), height: Int(par.height), frameRate: frameRate,
            estimatedFrameCount: frames, rotationDegrees: rotation, pixelFormat: pixelFormat,
            bitRate: bitRate, hasAudio: hasAudio, isStillImage: still, videoStreamCount: max(1, videoStreams.count),
            tags: tags)
    }

    /// The entries of an AVDictionary, bounded as `MediaInfo.tags` describes.
    static func readTags(_ dictionary: OpaquePointer?) -> [String: String] {
        var tags: [String: String] = [:]
        var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while tags.count < MediaInfo.maximumTags {
            entry = av_dict_get(dictionary, "", entry, AV_DICT_IGNORE_SUFFIX)
            guard let current = entry?.pointee, let key = current.key, let value = current.value else { break }
            tags[String(String(cString: key).prefix(64))] = String(String(cString: value).prefix(1024))
        }
        return tags
    }
}

extension Double {
    func clamped(to range: ClosedRange<Double>) -> Double { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
