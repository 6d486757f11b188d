// Owns Winograd F(2×2, 3×3) (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks")
// for 3×3, stride-1, zero-padding-1 convolutions: each 2×2 output tile comes from a 4×4 input tile
// with 16 multiplies per (input, output) channel pair instead of 36, so the SGEMM work is 2.25× smaller.
// Transforms: U = G g Gᵀ (weights), V = Bᵀ d B (input tiles), Y = Aᵀ M A (output tiles), with
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
// Between them, 16 SGEMMs M[ξ] (O, T) = U[ξ] (O, C) · V[ξ] (C, T), one per tile element ξ = 4·row + column.
// Glossary: C input / O output channels, H/W the plane (output is the same size), Th = ⌈H/2⌉,
// Tw = ⌈W/2⌉ tiles per column / row, T tiles in a chunk of samples (ld of V and M), ξ tile element.

/// Winograd F(2×2, 3×3) transforms over raw pointers; callers own the buffers.
enum Winograd {
    /// Tiles of one H × W plane.
    @inline(__always)
    static func tiles(height H: Int, width W: Int) -> (rows: Int, columns: Int) { ((H + 1) / 2, (W + 1) / 2) }

    /// Scratch floats `transformInput` and `transformOutput` need for a plane of width W.
    static func scratchCount(width W: Int) -> Int { 10 * ((W + 1) / 2 + 1) }

    /// U (16, O, C) = G g Gᵀ for every 3×3 kernel g of weights (O, C, 3, 3).
    static func transformWeights(_ w: UnsafePointer<Float>, outChannels O: Int, inChannels C: Int, into u: UnsafeMutablePointer<Float>) {
        let plane = O * C
        for oc in 0..<plane {
            let g = w + 9 * oc
            for i in 0..<4 {
                // row i of G·g (G's row i applied to g's three rows), then that row times Gᵀ
                let a0: Float, a1: Float, a2: Float
                switch i {
                case 0: (a0, a1, a2) = (g[0], g[1], g[2])
                case 1: (a0, a1, a2) = (0.5 * (g[0] + g[3] + g[6]), 0.5 * (g[1] + g[4] + g[7]), 0.5 * (g[2] + g[5] + g[8]))
                case 2: (a0, a1, a2) = (0.5 * (g[0] - g[3] + g[6]), 0.5 * (g[1] - g[4] + g[7]), 0.5 * (g[2] - g[5] + g[8]))
                default: (a0, a1, a2) = (g[6], g[7], g[8])
                }
                u[(4 * i + 0) * plane + oc] = a0
                u[(4 * i + 1) * plane + oc] = 0.5 * (a0 + a1 + a2)
                u[(4 * i + 2) * plane + oc] = 0.5 * (a0 - a1 + a2)
                u[(4 * i + 3) * plane + oc] = a2
            }
        }
    }

    /// V[ξ, c, tileOffset + th·Tw + tw] = (Bᵀ d B)[ξ] for channels `channels` of one sample x (C, H, W);
    /// `ld` is the row length T of V. `scratch` holds `scratchCount(width:)` floats.
    static func transformInput(
        _ x: UnsafePointer<Float>, channels C: Int, height H: Int, width W: Int, channelRange: Range<Int>,
        into v: UnsafeMutablePointer<Float>, ld: Int, tileOffset: Int, scratch: UnsafeMutablePointer<Float>
    ) {
        let (Th, Tw) = tiles(height: H, width: W)
        let n = Tw + 1  // even / odd columns of the padded row: E[q] = x[2q − 1], O[q] = x[2q]
        let padded = scratch  // 2n: a zero-padded input row
        let even = scratch + 2 * n, odd = even + 4 * n  // 4 rows × n each
        for c in channelRange {
            let plane = x + c * H * W
            for th in 0..<Th {
                for i in 0..<4 {
                    let ih = 2 * th - 1 + i
                    padded.update(repeating: 0, count: 2 * n)
                    if ih >= 0 && ih < H { (padded + 1).update(from: plane + ih * W, count: W) }
                    gatherStride2(from: padded, to: even + i * n, count: n)
                    gatherStride2(from: padded + 1, to: odd + i * n, count: n)
                }
                // Bᵀ over rows, in place per parity: t0 = d0 − d2, t1 = d1 + d2, t2 = d2 − d1, t3 = d1 − d3
                for parity in 0..<2 {
                    let d0 = parity == 0 ? even : odd, d1 = d0 + n, d2 = d0 + 2 * n, d3 = d0 + 3 * n
                    for q in 0..<n {
                        let a = d0[q], b = d1[q], cc = d2[q], d = d3[q]
                        d0[q] = a - cc; d1[q] = b + cc; d2[q] = cc - b; d3[q] = b - d
                    }
                }
                // B over columns: c0 = E[i], c1 = O[i], c2 = E[i+1], c3 = O[i+1]
                let row = tileOffset + th * Tw
                for k in 0..<4 {
                    let e = even + k * n, o = odd + k * n
                    let v0 = v + ((4 * k + 0) * C + c) * ld + row, v1 = v + ((4 * k + 1) * C + c) * ld + row
                    let v2 = v + ((4 * k + 2) * C + c) * ld + row, v3 = v + ((4 * k + 3) * C + c) * ld + row
                    for i in 0..<Tw {
                        let e0 = e[i], e1 = e[i + 1], o0 = o[i], o1 = o[i + 1]
                        v0[i] = e0 - e1; v1[i] = o0 + e1; v2[i] = e1 - o0; v3[i] = o0 - o1
                    }
                }
            }
        }
    }

    /// y[o] (H, W) of one sample = Aᵀ M A per tile, plus bias, through `activation`, for output channels
    /// `channelRange`; M is (16, O, ld) with this sample's tiles at `tileOffset`.
    static func transformOutput(
        _ m: UnsafePointer<Float>, outChannels O: Int, height H: Int, width W: Int, channelRange: Range<Int>,
        ld: Int, tileOffset: Int, bias: UnsafePointer<Float>?, activation: FusedActivation,
        into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let (Th, Tw) = tiles(height: H, width: W)
        let top = scratch, bottom = scratch + 2 * Tw  // two output rows of 2·Tw
        for o in channelRange {
            let b = bias?[o] ?? 0
            let plane = y + o * H * W
            for th in 0..<Th {
                let row = tileOffset + th * Tw
                @inline(__always) func mp(_ xi: Int) -> UnsafePointer<Float> { m + (xi * O + o) * ld + row }
                let m00 = mp(0), m01 = mp(1), m02 = mp(2), m03 = mp(3)
                let m10 = mp(4), m11 = mp(5), m12 = mp(6), m13 = mp(7)
                let m20 = mp(8), m21 = mp(9), m22 = mp(10), m23 = mp(11)
                let m30 = mp(12), m31 = mp(13), m32 = mp(14), m33 = mp(15)
                // Aᵀ over rows: s = m0 + m1 + m2, d = m1 − m2 − m3 (per column j); then A over
                // columns. Four tiles at a time in SIMD4 lanes; the tile pairs are interleaved on store.
                let bv = SIMD4<Float>(repeating: b)
                var i = 0
                while i < Tw {
                    if i + 4 > Tw { i = max(Tw - 4, 0) }  // last block overlaps (recomputes) the previous one
                    if Tw < 4 { break }
                    @inline(__always) func ld(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
                        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD4<Float>.self)
                    }
                    let s0 = ld(m00) + ld(m10) + ld(m20), s1 = ld(m01) + ld(m11) + ld(m21)
                    let s2 = ld(m02) + ld(m12) + ld(m22), s3 = ld(m03) + ld(m13) + ld(m23)
                    let d0 = ld(m10) - ld(m20) - ld(m30), d1 = ld(m11) - ld(m21) - ld(m31)
                    let d2 = ld(m12) - ld(m22) - ld(m32), d3 = ld(m13) - ld(m23) - ld(m33)
                    let y00 = s0 + s1 + s2 + bv, y01 = s1 - s2 - s3 + bv
                    let y10 = d0 + d1 + d2 + bv, y11 = d1 - d2 - d3 + bv
                    UnsafeMutableRawPointer(top + 2 * i).storeBytes(
                        of: SIMD8(y00[0], y01[0], y00[1], y01[1], y00[2], y01[2], y00[3], y01[3]), as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(bottom + 2 * i).storeBytes(
                        of: SIMD8(y10[0], y11[0], y10[1], y11[1], y10[2], y11[2], y10[3], y11[3]), as: SIMD8<Float>.self)
                    i += 4
                }
                if Tw < 4 {
                    for i in 0..<Tw {
                        let s0 = m00[i] + m10[i] + m20[i], s1 = m01[i] + m11[i] + m21[i]
                        let s2 = m02[i] + m12[i] + m22[i], s3 = m03[i] + m13[i] + m23[i]
                        let d0 = m10[i] - m20[i] - m30[i], d1 = m11[i] - m21[i] - m31[i]
                        let d2 = m12[i] - m22[i] - m32[i], d3 = m13[i] - m23[i] - m33[i]
                        top[2 * i] = s0 + s1 + s2 + b; top[2 * i + 1] = s1 - s2 - s3 + b
                        bottom[2 * i] = d0 + d1 + d2 + b; bottom[2 * i + 1] = d1 - d2 - d3 + b
                    }
                }
                activation.apply(top, count: W)
                (plane + 2 * th * W).update(from: top, count: W)
                if 2 * th + 1 < H {
                    activation.apply(bottom, count: W)
                    (plane + (2 * th + 1) * W).update(from: bottom, count: W)
                }
            }
        }
    }
}
