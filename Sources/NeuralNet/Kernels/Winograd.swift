// Owns Winograd F(2×2, 3×3) (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks")
// for 3×3, stride-1, zero-padding-1 convolutions: each 2×2 output tile comes from a 4×4 input tile
// with 16 multiplies per (input, output) channel pair instead of 36, so the SGEMM work is 2.25× smaller.
// Transforms: U = G g Gᵀ (weights), V = Bᵀ d B (input tiles), Y = Aᵀ M A (output tiles), with
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
// Between them, 16 SGEMMs M[ξ] (O, T) = U[ξ] (O, C) · V[ξ] (C, T), one per tile element ξ = 4·row + column.
// Glossary: C input / O output channels, H/W the plane (output is the same size), Th = ⌈H/2⌉,
// Tw = ⌈W/2⌉ tiles per column / row, T tiles in a chunk of samples (ld of V and M), ξ tile element.

/// One Winograd algorithm F(m×m, 3×3) for 3×3, stride-1, padding-1 convolutions: its tiling, its G
/// (n = m + 2 rows; n² tile elements, one SGEMM each) and its input and output transforms. `Conv2D`
/// runs either through one generic forward; the weight transform is shared (`Winograd.transformWeights`).
protocol WinogradAlgorithm {
    /// G's rows: U = G g Gᵀ.
    static var g: [(Float, Float, Float)] { get }
    /// Tiles of one H × W plane.
    static func tiles(height H: Int, width W: Int) -> (rows: Int, columns: Int)
    /// Scratch floats `transformInput` and `transformOutput` need for an H × W plane.
    static func scratchCount(height H: Int, width W: Int) -> Int
    /// V[ξ, c, tileOffset + th·Tw + tw] = (Bᵀ d B)[ξ] for channels `channelRange` of one sample x (C, H, W).
    static func transformInput(
        _ x: UnsafePointer<Float>, channels C: Int, height H: Int, width W: Int, channelRange: Range<Int>,
        into v: UnsafeMutablePointer<Float>, ld: Int, tileOffset: Int, scratch: UnsafeMutablePointer<Float>)
    /// y[o] = Aᵀ M A per tile, plus bias, through `activation`, for output channels `channelRange`;
    /// M is followed by `Winograd.outputSlack` floats.
    static func transformOutput(
        _ m: UnsafePointer<Float>, outChannels O: Int, height H: Int, width W: Int, channelRange: Range<Int>,
        ld: Int, tileOffset: Int, bias: UnsafePointer<Float>?, activation: FusedActivation,
        into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>)
}

extension WinogradAlgorithm {
    /// Tile elements ξ (n²): one SGEMM each.
    static var elements: Int { g.count * g.count }
}

/// Winograd F(2×2, 3×3) transforms over raw pointers; callers own the buffers.
enum Winograd: WinogradAlgorithm {
    /// Tiles of one H × W plane.
    @inline(__always)
    static func tiles(height H: Int, width W: Int) -> (rows: Int, columns: Int) { ((H + 1) / 2, (W + 1) / 2) }

    /// Floats a product buffer M needs past its 16·O·ld (F(4×4): 36·O·ld) values: both
    /// `transformOutput`s read each channel's tiles four at a time, so they may read up to 3 beyond the
    /// last one (those lanes are never used).
    static let outputSlack = 3

    /// Scratch floats `transformInput` and `transformOutput` need for an H × W plane (the output's
    /// four planes of ⌈Th·Tw/4⌉·4 floats fit in it too).
    static func scratchCount(height H: Int, width W: Int) -> Int {
        let (Th, Tw) = tiles(height: H, width: W)
        return (2 * Th + 2) * (2 * (Tw + 1) + 4 * Tw)
    }

    /// G's rows for F(2×2, 3×3); `Winograd4.g` for F(4×4, 3×3).
    static let g: [(Float, Float, Float)] = [(1, 0, 0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0, 0, 1)]

    /// U (n², O, C) = G g Gᵀ for every 3×3 kernel g of weights (O, C, 3, 3), G given by its n rows
    /// (`Winograd.g` or `Winograd4.g`); U[n·i + j] is element (i, j) of the n × n transformed kernel.
    static func transformWeights(
        _ w: UnsafePointer<Float>, outChannels O: Int, inChannels C: Int, g G: [(Float, Float, Float)],
        into u: UnsafeMutablePointer<Float>
    ) {
        let plane = O * C, n = G.count
        for oc in 0..<plane {
            let k = w + 9 * oc
            for i in 0..<n {
                // row i of G·g (G's row i applied to g's three rows), then that row times Gᵀ
                let (a, b, c) = G[i]
                let r0 = a * k[0] + b * k[3] + c * k[6]
                let r1 = a * k[1] + b * k[4] + c * k[7]
                let r2 = a * k[2] + b * k[5] + c * k[8]
                for j in 0..<n {
                    let (p, q, s) = G[j]
                    u[(n * i + j) * plane + oc] = p * r0 + q * r1 + s * r2
                }
            }
        }
    }

    /// V[ξ, c, tileOffset + th·Tw + tw] = (Bᵀ d B)[ξ] for channels `channelRange` of one sample
    /// x (C, H, W); `ld` is the row length T of V. `scratch` holds `scratchCount(height:width:)` floats.
    /// Per channel: B over the columns of every padded row once (each input row is read once, not once
    /// per tile row it belongs to), then Bᵀ over rows for all tiles of a column component at a time.
    static func transformInput(
        _ x: UnsafePointer<Float>, channels C: Int, height H: Int, width W: Int, channelRange: Range<Int>,
        into v: UnsafeMutablePointer<Float>, ld: Int, tileOffset: Int, scratch: UnsafeMutablePointer<Float>
    ) {
        let (Th, Tw) = tiles(height: H, width: W)
        let rows = 2 * Th + 2  // padded rows: padded row r is input row r − 1
        let n = Tw + 1  // even / odd columns of a padded row: E[q] = x[2q − 1], O[q] = x[2q]
        let even = scratch, odd = scratch + n
        let columnParts = scratch + 2 * n  // (4, rows, Tw): B over columns of each padded row
        let part = rows * Tw
        let evenCount = min(n - 1, W / 2), oddCount = min(n, (W + 1) / 2)
        for c in channelRange {
            let plane = x + c * H * W
            for r in 0..<rows {
                let ih = r - 1
                if ih < 0 || ih >= H {
                    even.update(repeating: 0, count: n); odd.update(repeating: 0, count: n)
                } else {
                    let src = plane + ih * W
                    even[0] = 0
                    gatherStride2(from: src + 1, to: even + 1, count: evenCount)
                    for q in (1 + evenCount)..<n { even[q] = 0 }
                    gatherStride2(from: src, to: odd, count: oddCount)
                    for q in oddCount..<n { odd[q] = 0 }
                }
                // columns c0 = E[i], c1 = O[i], c2 = E[i+1], c3 = O[i+1] of each tile
                let p0 = columnParts + r * Tw, p1 = p0 + part, p2 = p1 + part, p3 = p2 + part
                for i in 0..<Tw {
                    let e0 = even[i], e1 = even[i + 1], o0 = odd[i], o1 = odd[i + 1]
                    p0[i] = e0 - e1; p1[i] = o0 + e1; p2[i] = e1 - o0; p3[i] = o0 - o1
                }
            }
            // rows d0…d3 of tile row th are padded rows 2th…2th+3: Bᵀ gives d0 − d2, d1 + d2, d2 − d1, d1 − d3
            for k in 0..<4 {
                let p = columnParts + k * part
                let v0 = v + ((0 + k) * C + c) * ld + tileOffset, v1 = v + ((4 + k) * C + c) * ld + tileOffset
                let v2 = v + ((8 + k) * C + c) * ld + tileOffset, v3 = v + ((12 + k) * C + c) * ld + tileOffset
                for th in 0..<Th {
                    let d0 = p + 2 * th * Tw, d1 = d0 + Tw, d2 = d1 + Tw, d3 = d2 + Tw
                    let t = th * Tw
                    for i in 0..<Tw {
                        let a = d0[i], b = d1[i], cc = d2[i], d = d3[i]
                        v0[t + i] = a - cc; v1[t + i] = b + cc; v2[t + i] = cc - b; v3[t + i] = b - d
                    }
                }
            }
        }
    }

    /// y[o] (H, W) of one sample = Aᵀ M A per tile, plus bias, through `activation`, for output channels
    /// `channelRange`; M is (16, O, ld) with this sample's tiles at `tileOffset`, followed by
    /// `outputSlack` floats. All tiles of a channel are one contiguous run per ξ, so the transform runs
    /// over them four at a time (SIMD4; the last block's extra lanes are ignored), into four planes of
    /// tile outputs that are then interleaved into the output rows.
    static func transformOutput(
        _ m: UnsafePointer<Float>, outChannels O: Int, height H: Int, width W: Int, channelRange: Range<Int>,
        ld: Int, tileOffset: Int, bias: UnsafePointer<Float>?, activation: FusedActivation,
        into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let (Th, Tw) = tiles(height: H, width: W)
        let count = Th * Tw, lanes = (count + 3) / 4 * 4
        let y00 = scratch, y01 = y00 + lanes, y10 = y01 + lanes, y11 = y10 + lanes  // (Th, Tw) each
        let xiStride = O * ld
        for o in channelRange {
            let b = bias?[o] ?? 0
            let base = m + o * ld + tileOffset
            @inline(__always) func mp(_ xi: Int) -> UnsafePointer<Float> { base + xi * xiStride }
            let m00 = mp(0), m01 = mp(1), m02 = mp(2), m03 = mp(3)
            let m10 = mp(4), m11 = mp(5), m12 = mp(6), m13 = mp(7)
            let m20 = mp(8), m21 = mp(9), m22 = mp(10), m23 = mp(11)
            let m30 = mp(12), m31 = mp(13), m32 = mp(14), m33 = mp(15)
            // Aᵀ over rows: s = m0 + m1 + m2, d = m1 − m2 − m3 (per column j); then A over columns.
            let bv = SIMD4<Float>(repeating: b)
            var i = 0
            while i < count {
                @inline(__always) func ld4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
                    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD4<Float>.self)
                }
                @inline(__always) func st4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
                    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD4<Float>.self)
                }
                let s0 = ld4(m00) + ld4(m10) + ld4(m20), s1 = ld4(m01) + ld4(m11) + ld4(m21)
                let s2 = ld4(m02) + ld4(m12) + ld4(m22), s3 = ld4(m03) + ld4(m13) + ld4(m23)
                let d0 = ld4(m10) - ld4(m20) - ld4(m30), d1 = ld4(m11) - ld4(m21) - ld4(m31)
                let d2 = ld4(m12) - ld4(m22) - ld4(m32), d3 = ld4(m13) - ld4(m23) - ld4(m33)
                st4(s0 + s1 + s2 + bv, y00); st4(s1 - s2 - s3 + bv, y01)
                st4(d0 + d1 + d2 + bv, y10); st4(d1 - d2 - d3 + bv, y11)
                i += 4
            }
            // interleave tile columns into output rows 2th (y00, y01) and 2th + 1 (y10, y11)
            let plane = y + o * H * W
            let pairs = W / 2
            for th in 0..<Th {
                for half in 0..<2 where 2 * th + half < H {
                    let dst = plane + (2 * th + half) * W
                    let a = (half == 0 ? y00 : y10) + th * Tw, bb = (half == 0 ? y01 : y11) + th * Tw
                    for j in 0..<pairs { dst[2 * j] = a[j]; dst[2 * j + 1] = bb[j] }
                    if W % 2 == 1 { dst[W - 1] = a[Tw - 1] }
                    activation.apply(dst, count: W)
                }
            }
        }
    }
}
