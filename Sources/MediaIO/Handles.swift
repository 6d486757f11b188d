// Owning wrappers for FFmpeg's C handles: one final class per handle, freed in deinit.
// Raw pointers leave these types only through `withPointer` closures. The codec wrapper also
// turns EAGAIN/EOF of the send/receive API into `CodecState` values instead of errors.
import CFFmpeg

/// Outcome of a receive call on a codec: a result is ready, more input is needed, or fully drained.
enum CodecState: Equatable {
    case ready, needsInput, drained
}

/// An AVPacket (av_packet_alloc / av_packet_free).
final class Packet {
    private let pointer: UnsafeMutablePointer<AVPacket>

    init() throws {
        guard let p = av_packet_alloc() else {
            throw MediaError(kind: .io, path: "<memory>", operation: "cannot allocate packet", message: "out of memory")
        }
        pointer = p
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
    }

    @discardableResult
    func withPointer<R>(_ body: (UnsafeMutablePointer<AVPacket>) throws -> R) rethrows -> R {
        try body(pointer)
    }

    func unref() { av_packet_unref(pointer) }
    var streamIndex: Int32 { pointer.pointee.stream_index }
    var isKey: Bool { pointer.pointee.flags & AV_PKT_FLAG_KEY != 0 }
    /// Presentation timestamp in stream ticks, or nil when the demuxer gives none.
    var presentationTimestamp: Int64? {
        let ts = pointer.pointee.pts
        return ts == unmask_av_nopts_value() ? nil : ts
    }
    /// The demuxer marked the packet incomplete (e.g. MP4 "partial file" at a cut).
    var isCorrupt: Bool { pointer.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 }
    var size: Int { Int(pointer.pointee.size) }
}

/// An AVFrame (av_frame_alloc / av_frame_free).
final class Frame {
    private let pointer: UnsafeMutablePointer<AVFrame>

    init() throws {
        guard let p = av_frame_alloc() else {
            throw MediaError(kind: .io, path: "<memory>", operation: "cannot allocate frame", message: "out of memory")
        }
        pointer = p
    }

    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&p)
    }

    @discardableResult
    func withPointer<R>(_ body: (UnsafeMutablePointer<AVFrame>) throws -> R) rethrows -> R {
        try body(pointer)
    }

    func unref() { av_frame_unref(pointer) }
    var width: Int { Int(pointer.pointee.width) }
    var height: Int { Int(pointer.pointee.height) }
    var isKeyframe: Bool { pointer.pointee.key_frame != 0 }
    /// The decoder concealed errors in this frame or marked it corrupt (references it lacked, a damaged
    /// slice).
    var hasDecodeErrors: Bool {
        pointer.pointee.decode_error_flags != 0 || (pointer.pointee.flags & AV_FRAME_FLAG_CORRUPT) != 0
    }
    /// best_effort_timestamp, or nil when FFmpeg has none.
    var timestamp: Int64? {
        let ts = pointer.pointee.best_effort_timestamp
        return ts == unmask_av_nopts_value() ? nil : ts
    }
}

/// An AVCodecContext (avcodec_alloc_context3 / avcodec_free_context), for decoding or encoding.
final class CodecContext {
    private let pointer: UnsafeMutablePointer<AVCodecContext>
    let codec: UnsafePointer<AVCodec>
    let path: String

    init(codec: UnsafePointer<AVCodec>, path: String) throws {
        guard let p = avcodec_alloc_context3(codec) else {
            throw MediaError(kind: .io, path: path, operation: "cannot allocate codec context", message: "out of memory")
        }
        pointer = p
        self.codec = codec
        self.path = path
    }

    deinit {
        // avcodec_free_context frees intra_matrix and inter_matrix, but FFmpeg 5.1's leaves
        // chroma_intra_matrix (JPEGQuality sets it; AddressSanitizer reported 128 bytes per JPEG).
        // Taken out of the context first and freed after it, the matrix is freed exactly once
        // whether or not a version's avcodec_free_context frees it.
        let chromaIntraMatrix = pointer.pointee.chroma_intra_matrix
        pointer.pointee.chroma_intra_matrix = nil
        var p: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&p)
        av_free(chromaIntraMatrix)
    }

    @discardableResult
    func withPointer<R>(_ body: (UnsafeMutablePointer<AVCodecContext>) throws -> R) rethrows -> R {
        try body(pointer)
    }

    /// avcodec_open2, with optional codec-private or generic options.
    func open(options: [String: String] = [:], kind: MediaError.Kind, operation: String) throws {
        var dict: OpaquePointer? = nil
        for (key, value) in options { av_dict_set(&dict, key, value, 0) }
        defer { av_dict_free(&dict) }
        try ffCheck(avcodec_open2(pointer, codec, &dict), operation, path: path, kind: kind)
    }

    // MARK: Decoding

    /// Sends a packet (nil = flush). Returns false if the decoder rejected it as invalid data
    /// (callers record a warning and go on, as the ffmpeg CLI does); other errors throw.
    func send(_ packet: Packet?) throws -> Bool {
        let rc: Int32
        if let packet {
            rc = packet.withPointer { avcodec_send_packet(pointer, $0) }
        } else {
            rc = avcodec_send_packet(pointer, nil)
        }
        if rc >= 0 || rc == unmask_averror_eof() { return true }
        if rc == unmask_averror_invaliddata() { return false }
        try ffCheck(rc, "cannot decode", path: path, kind: .corrupt)
        return true
    }

    /// Receives a decoded frame. Invalid-data errors throw `.corrupt` so callers can count them.
    func receive(_ frame: Frame) throws -> CodecState {
        let rc = frame.withPointer { avcodec_receive_frame(pointer, $0) }
        if rc >= 0 { return .ready }
        if rc == unmask_averror_eagain() { return .needsInput }
        if rc == unmask_averror_eof() { return .drained }
        try ffCheck(rc, "cannot decode", path: path, kind: .corrupt)
        return .needsInput
    }

    func flush() { avcodec_flush_buffers(pointer) }

    // MARK: Encoding

    /// Sends a frame to the encoder (nil = flush).
    func sendFrame(_ frame: Frame?) throws {
        let rc: Int32
        if let frame { rc = frame.withPointer { avcodec_send_frame(pointer, $0) } } else { rc = avcodec_send_frame(pointer, nil) }
        if rc == unmask_averror_eof() { return }
        try ffCheck(rc, "cannot encode", path: path, kind: .encoder)
    }

    /// Receives an encoded packet.
    func receivePacket(_ packet: Packet) throws -> CodecState {
        let rc = packet.withPointer { avcodec_receive_packet(pointer, $0) }
        if rc >= 0 { return .ready }
        if rc == unmask_averror_eagain() { return .needsInput }
        if rc == unmask_averror_eof() { return .drained }
        try ffCheck(rc, "cannot encode", path: path, kind: .encoder)
        return .needsInput
    }
}

/// A SwsContext (sws_getContext / sws_freeContext) for one fixed conversion.
final class ScaleContext {
    private let pointer: OpaquePointer
    let key: Key

    struct Key: Equatable {
        var srcWidth: Int32, srcHeight: Int32, srcFormat: Int32
        var dstWidth: Int32, dstHeight: Int32, dstFormat: Int32
        var colorspace: Int32, srcFullRange: Bool, dstFullRange: Bool
    }

    init(_ key: Key, path: String) throws {
        let flags = (key.srcWidth == key.dstWidth && key.srcHeight == key.dstHeight) ? SWS_BILINEAR : SWS_AREA
        guard
            let p = sws_getContext(
                key.srcWidth, key.srcHeight, AVPixelFormat(rawValue: key.srcFormat),
                key.dstWidth, key.dstHeight, AVPixelFormat(rawValue: key.dstFormat),
                flags, nil, nil, nil)
        else {
            let name =
                av_get_pix_fmt_name(AVPixelFormat(rawValue: key.srcFormat)).map { String(cString: $0) } ?? "\(key.srcFormat)"
            throw MediaError(
                kind: .unsupportedCodec, path: path, operation: "cannot convert pixels",
                message: "no conversion from \(name) at \(key.srcWidth)×\(key.srcHeight)")
        }
        pointer = p
        self.key = key
        // Colour matrix and range from the frame (swscale assumes BT.601 limited range otherwise).
        // Returns -1 for RGB/gray sources, where it does not apply; that is fine.
        let table = sws_getCoefficients(key.colorspace)
        _ = sws_setColorspaceDetails(p, table, key.srcFullRange ? 1 : 0, table, key.dstFullRange ? 1 : 0, 0, 1 << 16, 1 << 16)
    }

    deinit { sws_freeContext(pointer) }

    @discardableResult
    func withPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try body(pointer)
    }
}
