// Still-image encoding (PNG, JPEG, BMP, TIFF, WebP) of RGBImages, and in-memory re-encoding round
// trips (JPEG, H.264) for training augmentation. Both go through the same CodecContext and
// FrameToRGB conversion that VideoDecoder uses for real media.
import CFFmpeg
import Foundation

/// Encodes RGBImages as still-image files or bytes.
public enum ImageEncoder {
    /// PNG bytes (lossless, 8-bit RGB).
    public static func pngData(_ image: RGBImage) throws -> Data { try pngData(image, path: "<png>") }

    static func pngData(_ image: RGBImage, path: String) throws -> Data {
        try encodeStill(image, encoder: "png", preferred: [AV_PIX_FMT_RGB24], path: path)
    }

    /// Baseline JPEG bytes; `quality` 1 (worst) … 100 (best) as libjpeg defines it (`JPEGQuality`), 4:2:0 chroma.
    public static func jpegData(_ image: RGBImage, quality: Int) throws -> Data {
        try jpegData(image, quality: quality, path: "<jpeg>")
    }

    static func jpegData(_ image: RGBImage, quality: Int, path: String) throws -> Data {
        try encodeStill(image, encoder: "mjpeg", preferred: [AV_PIX_FMT_YUVJ420P], path: path) { c, _ in
            try JPEGQuality.install(c, quality: quality, path: path)
            c.pointee.color_range = AVCOL_RANGE_JPEG
        }
    }

    /// Writes `image` to `path`, format from the extension (.png, .jpg/.jpeg, .bmp, .tif/.tiff, .webp),
    /// via a temporary file renamed into place. `quality` (1…100) applies to JPEG and WebP.
    public static func write(_ image: RGBImage, to path: String, quality: Int = 90) throws {
        MediaLog.ensureConfigured()
        let ext = (path as NSString).pathExtension.lowercased()
        let data: Data
        switch ext {
        case "png": data = try pngData(image, path: path)
        case "jpg", "jpeg": data = try jpegData(image, quality: quality, path: path)
        case "bmp": data = try encodeStill(image, encoder: "bmp", preferred: [AV_PIX_FMT_BGR24], path: path)
        case "tif", "tiff": data = try encodeStill(image, encoder: "tiff", preferred: [AV_PIX_FMT_RGB24], path: path)
        case "webp":
            data = try encodeStill(image, encoder: "libwebp", preferred: [AV_PIX_FMT_YUV420P], path: path) { _, options in
                options["quality"] = String(min(max(quality, 1), 100))  // libwebp's private option, 0…100
            }
        default:
            throw MediaError(
                kind: .invalidArgument, path: path, operation: "cannot write image",
                message: "unsupported extension '.\(ext)' (use .png, .jpg, .bmp, .tiff or .webp)")
        }
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
        do {
            try data.write(to: temp)
            guard rename(temp.path, path) == 0 else {
                throw MediaError(
                    kind: .io, path: path, operation: "cannot write image", message: String(cString: strerror(errno)))
            }
        } catch let error as MediaError {
            try? FileManager.default.removeItem(at: temp)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw MediaError(kind: .io, path: path, operation: "cannot write image", message: "\(error.localizedDescription)")
        }
    }

    /// Encodes one frame with `encoder` and returns the concatenated packets (a complete image file for image codecs).
    static func encodeStill(
        _ image: RGBImage, encoder name: String, preferred: [AVPixelFormat], path: String,
        configure: (UnsafeMutablePointer<AVCodecContext>, inout [String: String]) throws -> Void = { _, _ in }
    ) throws -> Data {
        MediaLog.ensureConfigured()
        guard (1...32768).contains(image.width), (1...32768).contains(image.height) else {
            throw MediaError(
                kind: .invalidArgument, path: path, operation: "cannot encode",
                message: "image size \(image.width)×\(image.height) outside 1…32768")
        }
        guard let encoder = avcodec_find_encoder_by_name(name) else {
            throw MediaError(
                kind: .encoder, path: path, operation: "cannot encode", message: "this FFmpeg has no \(name) encoder")
        }
        let codec = try CodecContext(codec: encoder, path: path)
        let format = choosePixelFormat(encoder, preferred: preferred)
        var options: [String: String] = [:]
        try codec.withPointer { c in
            c.pointee.width = Int32(image.width)
            c.pointee.height = Int32(image.height)
            c.pointee.time_base = AVRational(num: 1, den: 25)
            c.pointee.pix_fmt = format
            try configure(c, &options)
        }
        try codec.open(options: options, kind: .encoder, operation: "cannot open encoder")
        let frame = try Frame()
        try RGBToFrame(path: path).convert(image, to: format, into: frame)
        let quality = codec.withPointer { $0.pointee.global_quality }
        frame.withPointer {
            $0.pointee.pts = 0; $0.pointee.quality = quality
        }  // qscale encoders read the frame's quality
        try codec.sendFrame(frame)
        try codec.sendFrame(nil)
        let packet = try Packet()
        var data = Data()
        while try codec.receivePacket(packet) == .ready {
            packet.withPointer { p in
                if let bytes = p.pointee.data, p.pointee.size > 0 { data.append(bytes, count: Int(p.pointee.size)) }
            }
            packet.unref()
        }
        guard !data.isEmpty else {
            throw MediaError(kind: .encoder, path: path, operation: "cannot encode", message: "\(name) produced no data")
        }
        return data
    }
}

/// In-memory re-encoding, for augmentation: the image comes back with the codec's artefacts.
public enum Reencoder {
    /// JPEG-compresses `image` at `quality` (1…100) and decodes it again.
    public static func jpegRoundTrip(_ image: RGBImage, quality: Int) throws -> RGBImage {
        let data = try ImageEncoder.jpegData(image, quality: quality)
        return try decodeStill(data, decoder: AV_CODEC_ID_MJPEG, path: "<jpeg>")
    }

    /// H.264-compresses `image` as one intra frame at `crf` (0…51) and decodes it again.
    /// 4:2:0 chroma for even sizes; odd sizes use 4:4:4 (H.264 4:2:0 needs even dimensions).
    public static func h264RoundTrip(_ image: RGBImage, crf: Int) throws -> RGBImage {
        let odd = image.width % 2 == 1 || image.height % 2 == 1
        let data = try ImageEncoder.encodeStill(
            image, encoder: "libx264", preferred: [odd ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P],
            path: "<h264>"
        ) { c, options in
            options["crf"] = String(min(max(crf, 0), 51))
            options["preset"] = "veryfast"
            options["tune"] = "zerolatency"
            c.pointee.thread_count = 1
        }
        return try decodeStill(data, decoder: AV_CODEC_ID_H264, path: "<h264>")
    }

    /// Decodes one elementary-stream packet into an RGBImage with the media decode path.
    static func decodeStill(_ data: Data, decoder id: AVCodecID, path: String) throws -> RGBImage {
        guard !data.isEmpty else {
            throw MediaError(kind: .corrupt, path: path, operation: "cannot decode", message: "no data")
        }
        guard let decoder = avcodec_find_decoder(id) else {
            throw MediaError(
                kind: .unsupportedCodec, path: path, operation: "cannot decode",
                message: "no decoder for \(String(cString: avcodec_get_name(id)))")
        }
        let codec = try CodecContext(codec: decoder, path: path)
        codec.withPointer { $0.pointee.thread_count = 1 }
        try codec.open(kind: .unsupportedCodec, operation: "cannot open decoder")
        let packet = try Packet()
        try packet.withPointer { p in
            try ffCheck(av_new_packet(p, Int32(data.count)), "cannot decode", path: path)
            data.withUnsafeBytes { raw in
                p.pointee.data.update(from: raw.bindMemory(to: UInt8.self).baseAddress!, count: data.count)  // not empty
            }
        }
        if try !codec.send(packet) {
            throw MediaError(kind: .corrupt, path: path, operation: "cannot decode", message: "decoder rejected the data")
        }
        _ = try codec.send(nil)
        let frame = try Frame()
        guard try codec.receive(frame) == .ready else {
            throw MediaError(kind: .corrupt, path: path, operation: "cannot decode", message: "no frame decoded")
        }
        var image = RGBImage()
        try FrameToRGB(path: path).convert(frame, size: .native, rotation: 0, into: &image)
        return image
    }
}
