// Owns Winograd F(4×4, 3×3) (Lavin & Gray 2016) for 3×3, stride-1, zero-padding-1 convolutions:
// each 4×4 output tile comes from a 6×6 input tile with 36 multiplies per (input, output) channel pair
// instead of 144 — 4× fewer than direct, 1.78× fewer than F(2×2, 3×3) — and V and M are 44 % smaller.
// Interpolation points 0, ±1, ±2, ∞; transforms U = G g Gᵀ, V = Bᵀ d B, Y = Aᵀ M A with
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
//   G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1],
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
// Between them, 36 SGEMMs M[ξ] (O, T) = U[ξ] (O, C) · V[ξ] (C, T), one per tile element ξ = 6·row + column.
// The larger constants cost some accuracy: against im2col the largest error seen is 4.8e-6 of the
// output's range (F(2×2): 6.6e-7; `WinogradTests`), still far below what changes a detector score.
// Glossary: C input / O output channels, H/W the plane (output is the same size), Th = ⌈H/4⌉,
// Tw = ⌈W/4⌉ tiles per column / row, T tiles in a chunk of samples (ld of V and M), ξ tile element.

/// Winograd F(4×4, 3×3) transforms over raw pointers; callers own the buffers.
enum Winograd4: WinogradAlgorithm {
    /// Tiles of one H × W plane.
    @inline(__always)
    static func tiles(height H: Int, width W: Int) -> (rows: Int, columns: Int) { ((H + 3) / 4, (W + 3) / 4) }

    /// Scratch floats `transformInput` and `transformOutput` need for an H × W plane: a padded row
    /// (with 16 floats of slack for vector loads), its four phases (each with 4 floats of slack) and
    /// six column parts per padded row; or the output's 16 planes of ⌈Th·Tw/4⌉·4 floats.
    static func scratchCount(height H: Int, width W: Int) -> Int {
        let (Th, Tw) = tiles(height: H, width: W)
        let input = (4 * (Tw + 1) + 16) + 4 * (Tw + 5) + 6 * (4 * Th + 2) * Tw
        return max(input, 16 * ((Th * Tw + 3) / 4 * 4))
    }

    /// G's rows: U = G g Gᵀ (computed by `Winograd.transformWeights`).
    static let g: [(Float, Float, Float)] = [
        (1 / 4, 0, 0), (-1 / 6, -1 / 6, -1 / 6), (-1 / 6, 1 / 6, -1 / 6),
        (1 / 24, 1 / 12, 1 / 6), (1 / 24, -1 / 12, 1 / 6), (0, 0, 1),
    ]

    /// out_k[i] = (Bᵀ (d0[i], …, d5[i]))_k for i < count, four at a time; writes only out_k[0 ..< count].
    @inline(__always)
    private static func bTransform(
        _ d0: UnsafePointer<Float>, _ d1: UnsafePointer<Float>, _ d2: UnsafePointer<Float>,
        _ d3: UnsafePointer<Float>, _ d4: UnsafePointer<Float>, _ d5: UnsafePointer<Float>, count: Int,
        into o: (
            UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
            UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>
        )
    ) {
        typealias V4 = SIMD4<Float>
        @inline(__always) func b(_ a: V4, _ b: V4, _ c: V4, _ d: V4, _ e: V4, _ f: V4) -> (V4, V4, V4, V4, V4, V4) {
            (
                4 * a - 5 * c + e, d + e - 4 * (b + c), e - d + 4 * (b - c), e - c + 2 * (d - b), e - c + 2 * (b - d),
                4 * b - 5 * d + f
            )
        }
        var i = 0
        while i + 4 <= count {
            @inline(__always) func l(_ p: UnsafePointer<Float>) -> V4 { UnsafeRawPointer(p + i).loadUnaligned(as: V4.self) }
            @inline(__always) func s(_ v: V4, _ p: UnsafeMutablePointer<Float>) {
                UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V4.self)
            }
            let r = b(l(d0), l(d1), l(d2), l(d3), l(d4), l(d5))
            s(r.0, o.0); s(r.1, o.1); s(r.2, o.2); s(r.3, o.3); s(r.4, o.4); s(r.5, o.5)
            i += 4
        }
        while i < count {
            let r = b(
                V4(repeating: d0[i]), V4(repeating: d1[i]), V4(repeating: d2[i]), V4(repeating: d3[i]),
                V4(repeating: d4[i]), V4(repeating: d5[i]))
            o.0[i] = r.0[0]; o.1[i] = r.1[0]; o.2[i] = r.2[0]; o.3[i] = r.3[0]; o.4[i] = r.4[0]; o.5[i] = r.5[0]
            i += 1
        }
    }

    /// V[ξ, c, tileOffset + th·Tw + tw] = (Bᵀ d B)[ξ] for channels `channelRange` of one sample
    /// x (C, H, W); `ld` is the row length T of V. `scratch` holds `scratchCount(height:width:)` floats.
    /// Per channel: Bᵀ over the columns of every padded row once (the row split into its four phases
    /// mod 4, so every tile's six columns are contiguous runs), then Bᵀ over the rows of each tile row.
    static func transformInput(
        _ x: UnsafePointer<Float>, channels C: Int, height H: Int, width W: Int, channelRange: Range<Int>,
        into v: UnsafeMutablePointer<Float>, ld: Int, tileOffset: Int, scratch: UnsafeMutablePointer<Float>
    ) {
        let (Th, Tw) = tiles(height: H, width: W)
        let rows = 4 * Th + 2  // padded rows: padded row r is input row r − 1
        let n = Tw + 1  // phases of a padded row: P_k[q] = padded[4q + k] = x[4q + k − 1]
        let padded = scratch  // 4n + 16 floats
        let ps = n + 4  // phase stride: the vector stores below may write 3 past a phase's n values
        let p0 = padded + 4 * n + 16, p1 = p0 + ps, p2 = p1 + ps, p3 = p2 + ps
        let columnParts = p3 + ps  // (6, rows, Tw)
        let part = rows * Tw
        padded.update(repeating: 0, count: 4 * n + 16)
        for c in channelRange {
            let plane = x + c * H * W
            for r in 0..<rows {
                let ih = r - 1
                if ih < 0 || ih >= H {
                    p0.update(repeating: 0, count: 4 * ps)
                } else {
                    (padded + 1).update(from: plane + ih * W, count: W)  // padded[W + 1 ...] stays 0
                    var q = 0
                    while q < n {
                        let v = UnsafeRawPointer(padded + 4 * q).loadUnaligned(as: SIMD16<Float>.self)
                        let even = v.evenHalf, odd = v.oddHalf
                        UnsafeMutableRawPointer(p0 + q).storeBytes(of: even.evenHalf, as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(p1 + q).storeBytes(of: odd.evenHalf, as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(p2 + q).storeBytes(of: even.oddHalf, as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(p3 + q).storeBytes(of: odd.oddHalf, as: SIMD4<Float>.self)
                        q += 4
                    }
                }
                // columns d0…d5 of tile i are P0[i], P1[i], P2[i], P3[i], P0[i+1], P1[i+1]
                let c0 = columnParts + r * Tw
                bTransform(
                    p0, p1, p2, p3, p0 + 1, p1 + 1, count: Tw,
                    into: (c0, c0 + part, c0 + 2 * part, c0 + 3 * part, c0 + 4 * part, c0 + 5 * part))
            }
            // rows d0…d5 of tile row th are padded rows 4th…4th+5; Bᵀ over them per column part k
            for k in 0..<6 {
                let p = columnParts + k * part
                @inline(__always) func vp(_ i: Int) -> UnsafeMutablePointer<Float> {
                    v + ((6 * i + k) * C + c) * ld + tileOffset
                }
                let v0 = vp(0), v1 = vp(1), v2 = vp(2), v3 = vp(3), v4 = vp(4), v5 = vp(5)
                for th in 0..<Th {
                    let r0 = p + 4 * th * Tw, t = th * Tw
                    bTransform(
                        r0, r0 + Tw, r0 + 2 * Tw, r0 + 3 * Tw, r0 + 4 * Tw, r0 + 5 * Tw, count: Tw,
                        into: (v0 + t, v1 + t, v2 + t, v3 + t, v4 + t, v5 + t))
                }
            }
        }
    }

    /// y[o] (H, W) of one sample = Aᵀ M A per tile, plus bias, through `activation`, for output channels
    /// `channelRange`; M is (36, O, ld) with this sample's tiles at `tileOffset`, followed by
    /// `Winograd.outputSlack` floats. All tiles of a channel are one contiguous run per ξ, so the
    /// transform runs over them four at a time (SIMD4; the last block's extra lanes are ignored). When
    /// the plane is whole tiles in rows of a multiple of four, each block is written straight into the
    /// output rows; otherwise into 16 planes of tile outputs that are then interleaved into the rows.
    static func transformOutput(
        _ m: UnsafePointer<Float>, outChannels O: Int, height H: Int, width W: Int, channelRange: Range<Int>,
        ld: Int, tileOffset: Int, bias: UnsafePointer<Float>?, activation: FusedActivation,
        into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let (Th, Tw) = tiles(height: H, width: W)
        let count = Th * Tw, lanes = (count + 3) / 4 * 4
        let out = scratch  // 16 planes (Th, Tw): out + (4a + b)·lanes is output (4th + a, 4tw + b)
        let xiStride = O * ld
        typealias V4 = SIMD4<Float>
        // Aᵀ applied to six values: rows (1 1 1 1 1 0), (0 1 −1 2 −2 0), (0 1 1 4 4 0), (0 1 −1 8 −8 1)
        @inline(__always) func at(_ a: V4, _ b: V4, _ c: V4, _ d: V4, _ e: V4, _ f: V4) -> (V4, V4, V4, V4) {
            let s1 = b + c, d1 = b - c, s2 = d + e, d2 = d - e
            return (a + s1 + s2, d1 + 2 * d2, s1 + 4 * s2, d1 + 8 * d2 + f)
        }
        // Whole planes of whole tiles with rows of tiles in fours: each group of four tiles is four
        // output rows of 16 floats, written straight from registers (a 4×4 transpose per row).
        let direct = Tw % 4 == 0 && W == 4 * Tw && H == 4 * Th
        @inline(__always) func transpose(_ a: V4, _ b: V4, _ c: V4, _ d: V4) -> (V4, V4, V4, V4) {
            (V4(a[0], b[0], c[0], d[0]), V4(a[1], b[1], c[1], d[1]), V4(a[2], b[2], c[2], d[2]), V4(a[3], b[3], c[3], d[3]))
        }
        for o in channelRange {
            let bv = V4(repeating: bias?[o] ?? 0)
            let base = m + o * ld + tileOffset
            let plane = y + o * H * W
            var i = 0
            while i < count {
                @inline(__always) func ld4(_ xi: Int) -> V4 {
                    UnsafeRawPointer(base + xi * xiStride + i).loadUnaligned(as: V4.self)
                }
                // Aᵀ over rows, per column j: t_j = (t_j.0 … t_j.3) for tile rows a = 0…3
                @inline(__always) func column(_ j: Int) -> (V4, V4, V4, V4) {
                    at(ld4(j), ld4(6 + j), ld4(12 + j), ld4(18 + j), ld4(24 + j), ld4(30 + j))
                }
                let t0 = column(0), t1 = column(1), t2 = column(2), t3 = column(3), t4 = column(4), t5 = column(5)
                // then A over columns: row a of the four tiles
                @inline(__always) func row(_ a: Int) -> (V4, V4, V4, V4) {
                    switch a {
                    case 0: return at(t0.0, t1.0, t2.0, t3.0, t4.0, t5.0)
                    case 1: return at(t0.1, t1.1, t2.1, t3.1, t4.1, t5.1)
                    case 2: return at(t0.2, t1.2, t2.2, t3.2, t4.2, t5.2)
                    default: return at(t0.3, t1.3, t2.3, t3.3, t4.3, t5.3)
                    }
                }
                if direct {
                    let th = i / Tw, tw = i - th * Tw
                    for a in 0..<4 {
                        let r = row(a)
                        let (q0, q1, q2, q3) = transpose(r.0 + bv, r.1 + bv, r.2 + bv, r.3 + bv)
                        let dst = UnsafeMutableRawPointer(plane + (4 * th + a) * W + 4 * tw)
                        dst.storeBytes(of: q0, as: V4.self)
                        dst.storeBytes(of: q1, toByteOffset: 16, as: V4.self)
                        dst.storeBytes(of: q2, toByteOffset: 32, as: V4.self)
                        dst.storeBytes(of: q3, toByteOffset: 48, as: V4.self)
                    }
                } else {
                    for a in 0..<4 {
                        let r = row(a)
                        UnsafeMutableRawPointer(out + (4 * a) * lanes + i).storeBytes(of: r.0 + bv, as: V4.self)
                        UnsafeMutableRawPointer(out + (4 * a + 1) * lanes + i).storeBytes(of: r.1 + bv, as: V4.self)
                        UnsafeMutableRawPointer(out + (4 * a + 2) * lanes + i).storeBytes(of: r.2 + bv, as: V4.self)
                        UnsafeMutableRawPointer(out + (4 * a + 3) * lanes + i).storeBytes(of: r.3 + bv, as: V4.self)
                    }
                }
                i += 4
            }
            if direct {
                activation.apply(plane, count: H * W)
                continue
            }
            // interleave tile columns into output rows 4th + a
            let quads = W / 4, rest = W - 4 * quads
            for th in 0..<Th {
                for a in 0..<4 where 4 * th + a < H {
                    let dst = plane + (4 * th + a) * W
                    let q0 = out + (4 * a) * lanes + th * Tw, q1 = q0 + lanes, q2 = q1 + lanes, q3 = q2 + lanes
                    for j in 0..<quads {
                        dst[4 * j] = q0[j]; dst[4 * j + 1] = q1[j]; dst[4 * j + 2] = q2[j]; dst[4 * j + 3] = q3[j]
                    }
                    if rest > 0 { dst[4 * quads] = q0[quads] }
                    if rest > 1 { dst[4 * quads + 1] = q1[quads] }
                    if rest > 2 { dst[4 * quads + 2] = q2[quads] }
                    activation.apply(dst, count: W)
                }
            }
        }
    }
}
