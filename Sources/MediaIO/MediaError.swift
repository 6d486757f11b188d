// MediaError: the one error type of MediaIO, and `ffCheck`, the single funnel through which
// every FFmpeg return code passes. Also MediaLog, which owns FFmpeg's global log level
// (silent by default: the library never prints).
import CFFmpeg

/// A failure to read, decode or encode media, with FFmpeg's own message when there is one.
public struct MediaError: Error, CustomStringConvertible, Equatable {
    /// What went wrong, coarse enough for a CLI to map onto exit codes and hints.
    public enum Kind: String, Sendable {
        case notFound, notAFile, emptyFile, unrecognizedFormat, noVideoStream, unsupportedCodec
        case tooLarge, corrupt, truncated, io, encoder, invalidArgument
    }

    public var kind: Kind
    /// The file concerned (as given by the caller), or a pseudo-path such as "<memory>".
    public var path: String
    /// What was being attempted, e.g. "cannot open", "cannot decode".
    public var operation: String
    /// FFmpeg's (negative) return code, when the error came from FFmpeg.
    public var code: Int32?
    /// The cause: FFmpeg's message (av_strerror) or our own explanation.
    public var message: String

    public init(kind: Kind, path: String, operation: String, code: Int32? = nil, message: String) {
        self.kind = kind
        self.path = path
        self.operation = operation
        self.code = code
        self.message = message
    }

    /// One line: "<path>: <operation>: <message>".
    public var description: String {
        let line = operation.isEmpty ? "\(path): \(message)" : "\(path): \(operation): \(message)"
        return line.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

extension MediaError.Kind {
    /// The default kind for an FFmpeg error code when the call site has no better idea.
    init(ffmpegCode code: Int32) {
        switch code {
        case unmask_averror_enoent(): self = .notFound
        case unmask_averror_invaliddata(): self = .corrupt
        case unmask_averror_eof(): self = .truncated
        case unmask_averror_stream_not_found(): self = .noVideoStream
        case unmask_averror_decoder_not_found(): self = .unsupportedCodec
        case unmask_averror_demuxer_not_found(): self = .unrecognizedFormat
        case unmask_averror_encoder_not_found(), unmask_averror_muxer_not_found(): self = .encoder
        case unmask_averror_einval(): self = .invalidArgument
        default: self = .io
        }
    }
}

/// FFmpeg's message for `code` (av_strerror).
func ffErrorMessage(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(AV_ERROR_MAX_STRING_SIZE) + 1)
    let count = buffer.count
    return buffer.withUnsafeMutableBufferPointer { buf in
        String(cString: unmask_av_err2str(code, buf.baseAddress, count))
    }
}

/// The funnel for FFmpeg return codes: returns non-negative codes, throws a MediaError otherwise.
///
/// EAGAIN and EOF of the send/receive loops never get here; the codec wrappers turn them into states.
@discardableResult
func ffCheck(_ code: Int32, _ operation: String, path: String, kind: MediaError.Kind? = nil) throws -> Int32 {
    if code >= 0 { return code }
    throw MediaError(
        kind: kind ?? MediaError.Kind(ffmpegCode: code), path: path, operation: operation,
        code: code, message: ffErrorMessage(code))
}

/// FFmpeg's global log level. Silent (AV_LOG_QUIET) unless `setVerbose(true)`.
public enum MediaLog {
    private static let configured: Void = { av_log_set_level(AV_LOG_QUIET) }()

    /// Called by every MediaIO entry point so FFmpeg stays quiet unless asked otherwise.
    static func ensureConfigured() { _ = configured }

    /// Lets FFmpeg log warnings and information to stderr (verbose) or nothing at all.
    public static func setVerbose(_ verbose: Bool) {
        ensureConfigured()
        av_log_set_level(verbose ? AV_LOG_INFO : AV_LOG_QUIET)
    }
}
