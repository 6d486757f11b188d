// JPEG quality as libjpeg defines it, for FFmpeg's MJPEG encoder. FFmpeg scales MPEG-1's intra matrix
// by its qscale, so its "quality 90" (qscale 5) quantizes the first AC frequencies with steps 10–11,
// where a camera's or an editor's quality 90 uses 2–3: what users, the zoo and the evaluation call a
// JPEG quality must mean libjpeg's tables, or every figure named "q90" describes a much coarser file.
import CFFmpeg

/// The quantization tables libjpeg writes for a quality 1…100 (Annex K tables scaled as in
/// `jpeg_set_quality`), and their installation into an MJPEG encoder.
public enum JPEGQuality {
    /// JPEG Annex K luminance table, natural (row-major) order.
    static let annexKLuminance: [Int] = [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ]
    /// JPEG Annex K chrominance table, natural order.
    static let annexKChrominance: [Int] =
        [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66]
        + [Int](repeating: 99, count: 38)

    /// The luminance steps for `quality` (clamped to 1…100), natural order, each 1…255 (baseline).
    public static func luminanceTable(quality: Int) -> [Int] { scaled(annexKLuminance, quality: quality) }

    /// The chrominance steps for `quality`, natural order, each 1…255.
    public static func chrominanceTable(quality: Int) -> [Int] { scaled(annexKChrominance, quality: quality) }

    /// libjpeg's `jpeg_quality_scaling` and `jpeg_add_quant_table` with baseline clamping.
    static func scaled(_ table: [Int], quality: Int) -> [Int] {
        let q = min(max(quality, 1), 100)
        let percent = q < 50 ? 5000 / q : 200 - 2 * q
        return table.map { min(max(($0 * percent + 50) / 100, 1), 255) }
    }

    /// Makes an MJPEG encoder write and use libjpeg's tables for `quality`. FFmpeg's encoder writes
    /// matrix × qscale / 8 as each AC step, so the matrices go in at qscale 8; its DC step stays 8
    /// (the encoder accepts no other DC precision), which the lattice and every AC statistic ignore.
    /// The matrices are av_malloc'ed and freed with the context (`CodecContext`).
    static func install(_ c: UnsafeMutablePointer<AVCodecContext>, quality: Int, path: String) throws {
        c.pointee.flags |= AV_CODEC_FLAG_QSCALE
        c.pointee.global_quality = 8 * FF_QP2LAMBDA
        c.pointee.intra_matrix = try matrix(luminanceTable(quality: quality), path: path)
        c.pointee.chroma_intra_matrix = try matrix(chrominanceTable(quality: quality), path: path)
    }

    private static func matrix(_ table: [Int], path: String) throws -> UnsafeMutablePointer<UInt16> {
        guard let raw = av_malloc(64 * MemoryLayout<UInt16>.stride) else {
            throw MediaError(kind: .encoder, path: path, operation: "cannot encode", message: "out of memory")
        }
        let p = raw.bindMemory(to: UInt16.self, capacity: 64)
        for (i, step) in table.enumerated() { p[i] = UInt16(step) }
        return p
    }
}
