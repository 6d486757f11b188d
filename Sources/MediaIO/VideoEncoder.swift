// VideoEncoder: writes RGBImages as a video file (encoder + muxer), used for test fixtures, demo
// output and augmentation. Owns the AVFormatContext for output and the codec choices/options.
import CFFmpeg

/// A video codec with Unmask's choice of FFmpeg encoder and settings. Check `isAvailable`.
public enum VideoCodecChoice: Equatable, Sendable {
    /// libx264; CRF 0 (lossless) … 51 (worst), 18 ≈ visually lossless.
    case h264(crf: Int)
    /// MPEG-4 part 2; quality 1 (worst) … 100 (best), mapped onto qscale 31 … 1.
    case mpeg4(quality: Int)
    /// Motion JPEG; quality 1 (worst) … 100 (best) as libjpeg defines it (`JPEGQuality`).
    case mjpeg(quality: Int)
    case mpeg2
    case vp9
    case theora
    /// Lossless.
    case ffv1

    /// The FFmpeg encoder name.
    public var encoderName: String {
        switch self {
        case .h264: return "libx264"
        case .mpeg4: return "mpeg4"
        case .mjpeg: return "mjpeg"
        case .mpeg2: return "mpeg2video"
        case .vp9: return "libvpx-vp9"
        case .theora: return "libtheora"
        case .ffv1: return "ffv1"
        }
    }

    /// Whether the local FFmpeg build has this encoder.
    public var isAvailable: Bool { avcodec_find_encoder_by_name(encoderName) != nil }

    /// qscale for a 1…100 quality.
    static func qscale(quality: Int) -> Int { 31 - (min(max(quality, 1), 100) - 1) * 30 / 99 }
}

/// An AVFormatContext for writing (avformat_alloc_output_context2 + avio_open / avio_closep + avformat_free_context).
final class OutputContext {
    private let pointer: UnsafeMutablePointer<AVFormatContext>
    let path: String

    init(path: String, container: String?) throws {
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        let rc = avformat_alloc_output_context2(&ctx, nil, container, path)
        guard rc >= 0, let ctx else {
            throw MediaError(
                kind: .invalidArgument, path: path, operation: "cannot create",
                code: rc < 0 ? rc : nil,
                message: "no muxer for \(container.map { "container \($0)" } ?? "this file extension")")
        }
        pointer = ctx
        self.path = path
        if pointer.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 {
            try ffCheck(avio_open(&pointer.pointee.pb, path, AVIO_FLAG_WRITE), "cannot create", path: path, kind: .io)
        }
    }

    deinit {
        if pointer.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 { avio_closep(&pointer.pointee.pb) }
        avformat_free_context(pointer)
    }

    @discardableResult
    func withPointer<R>(_ body: (UnsafeMutablePointer<AVFormatContext>) throws -> R) rethrows -> R {
        try body(pointer)
    }
}

/// Picks `preferred` if the encoder supports it, else its first pixel format.
func choosePixelFormat(_ codec: UnsafePointer<AVCodec>, preferred: [AVPixelFormat]) -> AVPixelFormat {
    var supported: [AVPixelFormat] = []
    if var p = codec.pointee.pix_fmts {
        while p.pointee != AV_PIX_FMT_NONE { supported.append(p.pointee); p += 1 }
    }
    return preferred.first { supported.contains($0) } ?? supported.first ?? AV_PIX_FMT_YUV420P
}

/// Encodes a sequence of equally sized RGBImages into a video file.
///
/// Call `finish()` at the end: an encoder released without it closes the file without flushing
/// the encoder or writing the trailer (an MP4 is then unreadable).
public final class VideoEncoder {
    public let path: String
    public let width: Int
    public let height: Int
    private let output: OutputContext
    private let codec: CodecContext
    private let converter: RGBToFrame
    private let frame: Frame
    private let packet: Packet
    private let streamIndex: Int32
    private let pixelFormat: AVPixelFormat
    private let globalQuality: Int32
    private var frameCount: Int64 = 0
    private var finished = false

    /// Creates `path` (container guessed from the extension unless `container` names an FFmpeg muxer).
    ///
    /// - Parameters:
    ///   - rotationDegrees: clockwise rotation a player should apply (display matrix), 0/90/180/270.
    ///   - gopSize: keyframe interval; for H.264 scene-cut keyframes are then disabled, so keyframes fall exactly every `gopSize` frames.
    ///   - pixelFormat: FFmpeg pixel format name for the encoder (default: 4:2:0, or 4:4:4 for odd sizes, when supported).
    ///   - muxerOptions: passed to avformat_write_header, e.g. ["movflags": "+faststart"].
    public init(
        path: String, codec choice: VideoCodecChoice, width: Int, height: Int, frameRate: Int,
        container: String? = nil, rotationDegrees: Int = 0, gopSize: Int? = nil,
        pixelFormat: String? = nil, muxerOptions: [String: String] = [:]
    ) throws {
        MediaLog.ensureConfigured()
        guard (1...32768).contains(width), (1...32768).contains(height), (1...1000).contains(frameRate),
            [0, 90, 180, 270].contains(rotationDegrees), (gopSize ?? 1) >= 1
        else {
            throw MediaError(
                kind: .invalidArgument, path: path, operation: "cannot create",
                message: "invalid size \(width)×\(height), frame rate \(frameRate) or rotation \(rotationDegrees)")
        }
        guard let encoder = avcodec_find_encoder_by_name(choice.encoderName) else {
            throw MediaError(
                kind: .encoder, path: path, operation: "cannot create",
                message: "this FFmpeg has no \(choice.encoderName) encoder")
        }
        self.path = path
        self.width = width
        self.height = height
        output = try OutputContext(path: path, container: container)
        codec = try CodecContext(codec: encoder, path: path)
        converter = try RGBToFrame(path: path)
        frame = try Frame()
        packet = try Packet()

        let odd = width % 2 == 1 || height % 2 == 1
        var preferred: [AVPixelFormat] =
            odd ? [AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUV420P] : [AV_PIX_FMT_YUV420P]
        if case .mjpeg = choice { preferred = odd ? [AV_PIX_FMT_YUVJ444P] : [AV_PIX_FMT_YUVJ420P] }
        if let pixelFormat {
            let requested = av_get_pix_fmt(pixelFormat)
            guard requested != AV_PIX_FMT_NONE else {
                throw MediaError(
                    kind: .invalidArgument, path: path, operation: "cannot create", message: "unknown pixel format \(pixelFormat)"
                )
            }
            preferred = [requested]
        }
        let format = choosePixelFormat(encoder, preferred: preferred)
        if let pixelFormat, format != preferred[0] {
            throw MediaError(
                kind: .invalidArgument, path: path, operation: "cannot create",
                message: "\(choice.encoderName) does not support pixel format \(pixelFormat)")
        }
        self.pixelFormat = format
        let globalHeader = output.withPointer { $0.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 }

        var options: [String: String] = [:]
        try codec.withPointer { c in
            c.pointee.width = Int32(width)
            c.pointee.height = Int32(height)
            c.pointee.time_base = AVRational(num: 1, den: Int32(frameRate))
            c.pointee.framerate = AVRational(num: Int32(frameRate), den: 1)
            c.pointee.pix_fmt = format
            c.pointee.thread_count = 0
            if let gopSize { c.pointee.gop_size = Int32(clamping: gopSize) }
            if globalHeader { c.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
            if format == AV_PIX_FMT_YUVJ420P || format == AV_PIX_FMT_YUVJ444P { c.pointee.color_range = AVCOL_RANGE_JPEG }
            func qscale(_ q: Int) {
                c.pointee.flags |= AV_CODEC_FLAG_QSCALE
                c.pointee.global_quality = Int32(q) * FF_QP2LAMBDA
            }
            switch choice {
            case .h264(let crf):
                options["crf"] = String(min(max(crf, 0), 51))
                options["preset"] = "veryfast"
                if gopSize != nil { options["x264-params"] = "scenecut=0" }
            case .mpeg4(let quality):
                qscale(VideoCodecChoice.qscale(quality: quality))
            case .mjpeg(let quality):
                try JPEGQuality.install(c, quality: quality, path: path)
            case .mpeg2:
                qscale(3)
                c.pointee.strict_std_compliance = FF_COMPLIANCE_UNOFFICIAL  // allow non-standard frame rates
            case .vp9:
                options["crf"] = "30"
                options["b"] = "0"
                options["deadline"] = "realtime"
                options["cpu-used"] = "8"
            case .theora:
                qscale(8)
            case .ffv1:
                break
            }
        }
        try codec.open(options: options, kind: .encoder, operation: "cannot open encoder")
        globalQuality = codec.withPointer { $0.pointee.global_quality }

        let codec = self.codec, output = self.output
        streamIndex = try output.withPointer { ctx in
            guard let stream = avformat_new_stream(ctx, nil) else {
                throw MediaError(kind: .encoder, path: path, operation: "cannot create", message: "cannot add a stream")
            }
            try codec.withPointer { c in
                try ffCheck(
                    avcodec_parameters_from_context(stream.pointee.codecpar, c), "cannot create", path: path, kind: .encoder)
                stream.pointee.time_base = c.pointee.time_base
                stream.pointee.avg_frame_rate = c.pointee.framerate
            }
            if rotationDegrees != 0 {
                guard let side = av_stream_new_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, 9 * 4) else {
                    throw MediaError(
                        kind: .encoder, path: path, operation: "cannot create", message: "cannot set the display matrix")
                }
                // av_display_rotation_set takes a clockwise angle (av_display_rotation_get answers counter-clockwise).
                side.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_set($0, Double(rotationDegrees)) }
            }
            return stream.pointee.index
        }
        try output.withPointer { ctx in
            var dict: OpaquePointer? = nil
            for (key, value) in muxerOptions { av_dict_set(&dict, key, value, 0) }
            defer { av_dict_free(&dict) }
            try ffCheck(avformat_write_header(ctx, &dict), "cannot write header", path: path, kind: .encoder)
        }
    }

    /// Encodes one frame; `image` must be `width × height`.
    public func append(_ image: RGBImage) throws {
        guard !finished else {
            throw MediaError(kind: .invalidArgument, path: path, operation: "cannot encode", message: "append after finish")
        }
        guard image.width == width, image.height == height else {
            throw MediaError(
                kind: .invalidArgument, path: path, operation: "cannot encode",
                message: "image is \(image.width)×\(image.height), encoder expects \(width)×\(height)")
        }
        try converter.convert(image, to: pixelFormat, into: frame)
        frame.withPointer {
            $0.pointee.pts = frameCount; $0.pointee.quality = globalQuality
        }  // qscale encoders read the frame's quality
        frameCount += 1
        try codec.sendFrame(frame)
        frame.unref()
        try drain()
    }

    /// Flushes the encoder and writes the trailer. Further calls do nothing.
    public func finish() throws {
        if finished { return }
        finished = true
        try codec.sendFrame(nil)
        try drain()
        try output.withPointer { ctx in
            try ffCheck(av_write_trailer(ctx), "cannot write trailer", path: path, kind: .io)
        }
    }

    private func drain() throws {
        let codecTimeBase = codec.withPointer { $0.pointee.time_base }
        while try codec.receivePacket(packet) == .ready {
            try output.withPointer { ctx in
                try packet.withPointer { p in
                    // the stream this encoder added: below nb_streams, never NULL
                    av_packet_rescale_ts(p, codecTimeBase, ctx.pointee.streams[Int(streamIndex)]!.pointee.time_base)
                    p.pointee.stream_index = streamIndex
                    try ffCheck(av_interleaved_write_frame(ctx, p), "cannot write", path: path, kind: .io)
                }
            }
            packet.unref()
        }
    }
}
