// Pixel conversion between decoded AVFrames and RGBImage, both directions.
// swscale does colour matrix, chroma and scaling into packed RGB24 (RGB48 for >8-bit sources);
// a tight Swift loop then de-interleaves into planar Float32 and applies the display rotation.
import CFFmpeg

/// The deprecated yuvj* formats, which imply full (JPEG) range.
func isFullRangeYUV(_ format: AVPixelFormat) -> Bool {
    switch format {
    case AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUVJ440P, AV_PIX_FMT_YUVJ411P: return true
    default: return false
    }
}

/// Memory from av_malloc (aligned for swscale's SIMD), grown on demand, never shrunk.
final class AlignedBuffer {
    private var pointer: UnsafeMutableRawPointer
    private(set) var capacity: Int

    init(capacity: Int = 64) throws {
        guard let p = av_malloc(max(capacity, 64)) else {
            throw MediaError(
                kind: .tooLarge, path: "<memory>", operation: "cannot allocate buffer",
                message: "out of memory for \(capacity) bytes")
        }
        pointer = p
        self.capacity = max(capacity, 64)
    }

    deinit { av_free(pointer) }

    /// Makes room for at least `bytes` (contents discarded when growing).
    func reserve(_ bytes: Int) throws {
        if bytes <= capacity { return }
        guard let p = av_malloc(bytes) else {
            throw MediaError(
                kind: .tooLarge, path: "<memory>", operation: "cannot allocate buffer",
                message: "out of memory for \(bytes) bytes")
        }
        av_free(pointer)
        pointer = p
        capacity = bytes
    }

    @discardableResult
    func withPointer<R>(_ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        try body(pointer)
    }
}

/// The swscale context of the last conversion, kept while the next one has the same key.
struct ReusedScaler {
    private let path: String
    private var last: ScaleContext?

    init(path: String) { self.path = path }

    /// The scaler for `key`: the last one while the key stays the same, else a new one kept for next time.
    mutating func scaler(for key: ScaleContext.Key) throws -> ScaleContext {
        if let last, last.key == key { return last }
        let created = try ScaleContext(key, path: path)
        last = created
        return created
    }
}

/// Converts decoded frames of any pixel format into upright planar-float RGBImages.
final class FrameToRGB {
    private let path: String
    private var scalers: ReusedScaler
    private let packed: AlignedBuffer

    init(path: String) throws {
        self.path = path
        scalers = ReusedScaler(path: path)
        packed = try AlignedBuffer()
    }

    /// Output dimensions for a `width × height` frame under `size` (downscale only, aspect kept).
    static func scaledSize(width: Int, height: Int, size: OutputSize) -> (width: Int, height: Int) {
        switch size {
        case .native:
            return (width, height)
        case .longSide(let cap):
            let long = max(width, height)
            guard cap > 0, long > cap else { return (width, height) }
            let s = Double(cap) / Double(long)
            return (max(1, Int((Double(width) * s).rounded())), max(1, Int((Double(height) * s).rounded())))
        }
    }

    /// Converts `frame` into `image` (reshaped in place), scaled per `size`, rotated clockwise by `rotation` (0/90/180/270).
    func convert(_ frame: Frame, size: OutputSize, rotation: Int, into image: inout RGBImage) throws {
        let (srcW, srcH, srcFormat, colorspace, fullRange) = frame.withPointer { f -> (Int32, Int32, Int32, Int32, Bool) in
            let fmt = f.pointee.format
            let jpegRange = f.pointee.color_range == AVCOL_RANGE_JPEG || isFullRangeYUV(AVPixelFormat(rawValue: fmt))
            return (f.pointee.width, f.pointee.height, fmt, Int32(bitPattern: f.pointee.colorspace.rawValue), jpegRange)
        }
        guard srcW > 0, srcH > 0, srcFormat >= 0 else {
            throw MediaError(
                kind: .corrupt, path: path, operation: "cannot convert pixels", message: "decoder returned an empty frame")
        }
        let deep = (av_pix_fmt_desc_get(AVPixelFormat(rawValue: srcFormat))?.pointee.comp.0.depth ?? 8) > 8
        let dstFormat = deep ? AV_PIX_FMT_RGB48LE : AV_PIX_FMT_RGB24
        let (dstW, dstH) = Self.scaledSize(
            width: Int(srcW), height: Int(srcH),
            size: size)  // the long side is the same before and after rotation
        let key = ScaleContext.Key(
            srcWidth: srcW, srcHeight: srcH, srcFormat: srcFormat,
            dstWidth: Int32(dstW), dstHeight: Int32(dstH), dstFormat: dstFormat.rawValue,
            colorspace: colorspace, srcFullRange: fullRange, dstFullRange: true)
        let scaler = try scalers.scaler(for: key)
        let bytesPerSample = deep ? 2 : 1
        let stride = (dstW * 3 * bytesPerSample + 63) & ~63
        try packed.reserve(stride * dstH + 64)

        try packed.withPointer { buffer in
            let rc: Int32 = scaler.withPointer { sws in
                frame.withPointer { f in
                    withUnsafePointer(to: &f.pointee.data) { dataTuple in
                        dataTuple.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { srcData in
                            withUnsafePointer(to: &f.pointee.linesize) { lineTuple in
                                lineTuple.withMemoryRebound(to: Int32.self, capacity: 8) { srcStride in
                                    // swscale copies 4 plane pointers/strides even for packed output: pass 4 (on the stack).
                                    var dst:
                                        (
                                            UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?,
                                            UnsafeMutablePointer<UInt8>?,
                                            UnsafeMutablePointer<UInt8>?
                                        ) = (buffer.assumingMemoryBound(to: UInt8.self), nil, nil, nil)
                                    var dstStride: (Int32, Int32, Int32, Int32) = (Int32(stride), 0, 0, 0)
                                    return withUnsafeMutablePointer(to: &dst) { d in
                                        withUnsafeMutablePointer(to: &dstStride) { ds in
                                            d.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 4) { dp in
                                                ds.withMemoryRebound(to: Int32.self, capacity: 4) { dsp in
                                                    sws_scale(sws, srcData, srcStride, 0, srcH, dp, dsp)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            try ffCheck(rc, "cannot convert pixels", path: path, kind: .corrupt)
            let rotated = rotation == 90 || rotation == 270
            image.reshape(width: rotated ? dstH : dstW, height: rotated ? dstW : dstH)
            if deep {
                Self.deinterleave(
                    UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt16.self), strideElements: stride / 2,
                    width: dstW, height: dstH, rotation: rotation, scale: 1 / 65535, into: &image.pixels)
            } else {
                Self.deinterleave(
                    UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), strideElements: stride,
                    width: dstW, height: dstH, rotation: rotation, scale: 1 / 255, into: &image.pixels)
            }
        }
    }

    /// Packed RGB (8 or 16 bit) → planar Float32, rotating clockwise by `rotation` on the way.
    @inline(__always)
    private static func deinterleave<T: PackedSample>(
        _ src: UnsafePointer<T>, strideElements: Int, width w: Int, height h: Int,
        rotation: Int, scale: Float, into pixels: inout [Float]
    ) {
        let n = w * h
        pixels.withUnsafeMutableBufferPointer { out in
            let r = out.baseAddress!, g = r + n, b = r + 2 * n  // 3·w·h > 0 values (empty frames are refused)
            if rotation == 0 {
                for y in 0..<h {
                    let row = src + y * strideElements
                    let o = y * w
                    for x in 0..<w {
                        r[o + x] = row[3 * x].floatValue * scale
                        g[o + x] = row[3 * x + 1].floatValue * scale
                        b[o + x] = row[3 * x + 2].floatValue * scale
                    }
                }
                return
            }
            // Destination index = origin + x*dx + y*dy for source pixel (x, y) of a w×h source.
            let origin: Int, dx: Int, dy: Int
            switch rotation {
            case 90: origin = h - 1; dx = h; dy = -1  // output is h wide: (x, y) → (h-1-y, x)
            case 180: origin = n - 1; dx = -1; dy = -w  // (x, y) → (w-1-x, h-1-y)
            default: origin = (w - 1) * h; dx = -h; dy = 1  // 270: (x, y) → (y, w-1-x)
            }
            for y in 0..<h {
                let row = src + y * strideElements
                var d = origin + y * dy
                for x in 0..<w {
                    r[d] = row[3 * x].floatValue * scale
                    g[d] = row[3 * x + 1].floatValue * scale
                    b[d] = row[3 * x + 2].floatValue * scale
                    d += dx
                }
            }
        }
    }
}

/// A sample of packed RGB24/RGB48 (concrete conversions keep the de-interleave loop fast once specialized).
protocol PackedSample { var floatValue: Float { get } }
extension UInt8: PackedSample { @inline(__always) var floatValue: Float { Float(self) } }
extension UInt16: PackedSample { @inline(__always) var floatValue: Float { Float(self) } }

/// Converts RGBImages into AVFrames of an encoder's pixel format.
final class RGBToFrame {
    private let path: String
    private var scalers: ReusedScaler
    private let packed: AlignedBuffer

    init(path: String) throws {
        self.path = path
        scalers = ReusedScaler(path: path)
        packed = try AlignedBuffer()
    }

    /// Fills `frame` (allocating its buffers) with `image` converted to `format`, same size.
    func convert(_ image: RGBImage, to format: AVPixelFormat, into frame: Frame) throws {
        guard image.width > 0, image.height > 0 else {
            throw MediaError(kind: .invalidArgument, path: path, operation: "cannot encode", message: "empty image")
        }
        let w = image.width, h = image.height, n = w * h
        let stride = (w * 3 + 63) & ~63
        try packed.reserve(stride * h + 64)
        packed.withPointer { raw in
            let dst = raw.assumingMemoryBound(to: UInt8.self)
            // swscale's SIMD reads past the last pixel of a row and past the last row: everything it
            // may read must be defined, so the same picture always converts to the same bytes.
            dst.update(repeating: 0, count: packed.capacity)
            image.pixels.withUnsafeBufferPointer { px in
                let r = px.baseAddress!, g = r + n, b = r + 2 * n  // not empty: refused above
                for y in 0..<h {
                    let row = dst + y * stride
                    for x in 0..<w {
                        let i = y * w + x
                        row[3 * x] = Self.quantize(r[i])
                        row[3 * x + 1] = Self.quantize(g[i])
                        row[3 * x + 2] = Self.quantize(b[i])
                    }
                }
            }
        }
        let fullRange = isFullRangeYUV(format)
        let key = ScaleContext.Key(
            srcWidth: Int32(w), srcHeight: Int32(h), srcFormat: AV_PIX_FMT_RGB24.rawValue,
            dstWidth: Int32(w), dstHeight: Int32(h), dstFormat: format.rawValue,
            colorspace: SWS_CS_DEFAULT, srcFullRange: true, dstFullRange: fullRange)
        let scaler = try scalers.scaler(for: key)
        frame.unref()
        try frame.withPointer { f in
            f.pointee.format = format.rawValue
            f.pointee.width = Int32(w)
            f.pointee.height = Int32(h)
            if fullRange { f.pointee.color_range = AVCOL_RANGE_JPEG }
            try ffCheck(av_frame_get_buffer(f, 0), "cannot allocate frame", path: path, kind: .encoder)
            // Encoders read the planes' padding (whole macroblocks past the picture's edge): zero it,
            // so that the same picture always encodes to the same bytes.
            withUnsafePointer(to: &f.pointee.buf) { buffers in
                buffers.withMemoryRebound(to: UnsafeMutablePointer<AVBufferRef>?.self, capacity: 8) { refs in
                    for plane in 0..<8 {
                        guard let ref = refs[plane], let data = ref.pointee.data else { continue }
                        data.update(repeating: 0, count: Int(ref.pointee.size))
                    }
                }
            }
        }
        let rc: Int32 = packed.withPointer { raw in
            scaler.withPointer { sws in
                frame.withPointer { f in
                    withUnsafeMutablePointer(to: &f.pointee.data) { dataTuple in
                        dataTuple.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dstData in
                            withUnsafePointer(to: &f.pointee.linesize) { lineTuple in
                                lineTuple.withMemoryRebound(to: Int32.self, capacity: 8) { dstStride in
                                    // swscale copies 4 plane pointers/strides even for packed input: pass 4 (on the stack).
                                    var src:
                                        (
                                            UnsafePointer<UInt8>?, UnsafePointer<UInt8>?, UnsafePointer<UInt8>?,
                                            UnsafePointer<UInt8>?
                                        ) =
                                            (UnsafePointer(raw.assumingMemoryBound(to: UInt8.self)), nil, nil, nil)
                                    var srcStride: (Int32, Int32, Int32, Int32) = (Int32(stride), 0, 0, 0)
                                    return withUnsafeMutablePointer(to: &src) { sp in
                                        withUnsafeMutablePointer(to: &srcStride) { ssp in
                                            sp.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 4) { s in
                                                ssp.withMemoryRebound(to: Int32.self, capacity: 4) { ss in
                                                    sws_scale(sws, s, ss, 0, Int32(h), dstData, dstStride)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        try ffCheck(rc, "cannot convert pixels", path: path, kind: .encoder)
    }

    @inline(__always)
    private static func quantize(_ v: Float) -> UInt8 {
        let s = v * 255 + 0.5
        return s <= 0 ? 0 : (s >= 255 ? 255 : UInt8(s))
    }
}
