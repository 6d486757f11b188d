// Owns im2col / col2im for square kernels with stride and zero padding, over a chunk of samples at
// once so that a single SGEMM covers the chunk (columns ordered (n, oh, ow)).
// Glossary: C channels, H/W input size, k kernel, s stride, p padding, Ho/Wo output size, P = Ho*Wo,
// B samples in the chunk, K = C*k*k rows of the column matrix.

/// Valid output-column range [lo, hi) for kernel column `kj`: those with 0 ≤ ow*s − p + kj < W.
@inline(__always)
func validRange(extent: Int, outExtent: Int, offset: Int, stride s: Int) -> (Int, Int) {
    // want 0 ≤ o*s + offset ≤ extent-1
    let lo = offset >= 0 ? 0 : (-offset + s - 1) / s
    let top = extent - 1 - offset
    let hi = top < 0 ? 0 : min(outExtent, top / s + 1)
    return (min(lo, hi), hi)
}

/// im2col for the 4×4, stride-2, padding-1 convolutions (every downsampling layer here). Each input row
/// is split once into its even and odd columns, E[j] = x[2j] and D[j] = x[2j − 1] (zero outside the
/// row); the four kernel columns kj = 0…3 of output row oh are then the contiguous runs D[0..<Wo],
/// E[0..<Wo], D[1...Wo], E[1...Wo]. Every column entry is written once, by plain copies, instead of
/// one strided gather per (kernel tap, output row). Only output rows `outRows` are unfolded (all by
/// default), into columns (K, B·R·Wo) for R = outRows.count: a block of rows whose columns stay in
/// cache for the SGEMM that reads them.
func im2colKernel4Stride2(
    input: UnsafePointer<Float>, batch B: Int, channels C: Int, height H: Int, width W: Int,
    outHeight Ho: Int, outWidth Wo: Int, outRows: Range<Int>? = nil, columns: UnsafeMutablePointer<Float>,
    channelRange: Range<Int>
) {
    let rows = outRows ?? 0..<Ho
    precondition(rows.lowerBound >= 0 && rows.upperBound <= Ho, "im2colKernel4Stride2: rows \(rows) outside 0..<\(Ho)")
    let P = rows.count * Wo, ld = B * P
    let evenCount = min(Wo + 1, (W + 1) / 2), oddCount = min(Wo, W / 2)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * (Wo + 1)) { buffer in
        let even = buffer.baseAddress!, odd = even + (Wo + 1)  // capacity 2·(Wo + 1) > 0: never nil
        for c in channelRange {
            for n in 0..<B {
                let plane = input + (n * C + c) * H * W
                let out = columns + n * P
                // input row ih feeds output rows oh with ki = ih + 1 − 2·oh in 0…3; rows −1 and H are zero
                let first = 2 * rows.lowerBound - 1, last = min(H, 2 * rows.upperBound)
                guard first <= last else { continue }
                for ih in first...last {
                    let inside = ih >= 0 && ih < H
                    if inside {
                        let row = plane + ih * W
                        gatherStride2(from: row, to: even, count: evenCount)
                        for j in evenCount..<(Wo + 1) { even[j] = 0 }
                        odd[0] = 0
                        gatherStride2(from: row + 1, to: odd + 1, count: oddCount)
                        for j in (oddCount + 1)..<(Wo + 1) { odd[j] = 0 }
                    }
                    for ki in stride(from: (ih + 1) % 2, through: 3, by: 2) {
                        let oh = (ih + 1 - ki) / 2
                        guard rows.contains(oh) else { continue }
                        let base = out + ((c * 4 + ki) * 4) * ld + (oh - rows.lowerBound) * Wo
                        if inside {
                            (base).update(from: odd, count: Wo)
                            (base + ld).update(from: even, count: Wo)
                            (base + 2 * ld).update(from: odd + 1, count: Wo)
                            (base + 3 * ld).update(from: even + 1, count: Wo)
                        } else {
                            for kj in 0..<4 { (base + kj * ld).update(repeating: 0, count: Wo) }
                        }
                    }
                }
            }
        }
    }
}

/// Unfolds B samples (B, C, H, W) into columns (K, B*P): columns[(c,ki,kj), (n,oh,ow)] =
/// x[n, c, oh*s−p+ki, ow*s−p+kj] or 0 outside the image. Channels are split over `policy.threads`
/// when the work is large enough.
public func im2col(
    input: UnsafePointer<Float>, batch B: Int, channels C: Int, height H: Int, width W: Int,
    kernel k: Int, stride s: Int, padding p: Int, outHeight Ho: Int, outWidth Wo: Int,
    columns: UnsafeMutablePointer<Float>, policy: ExecutionPolicy
) {
    parallelRanges(C, work: C * k * k * B * Ho * Wo, policy: policy) { cs in
        im2colChannels(
            input: input, batch: B, channels: C, height: H, width: W, kernel: k, stride: s, padding: p,
            outHeight: Ho, outWidth: Wo, columns: columns, channelRange: cs)
    }
}

@inline(__always)
func im2colChannels(
    input: UnsafePointer<Float>, batch B: Int, channels C: Int, height H: Int, width W: Int,
    kernel k: Int, stride s: Int, padding p: Int, outHeight Ho: Int, outWidth Wo: Int,
    columns: UnsafeMutablePointer<Float>, channelRange: Range<Int>
) {
    if k == 4 && s == 2 && p == 1 {
        im2colKernel4Stride2(
            input: input, batch: B, channels: C, height: H, width: W, outHeight: Ho, outWidth: Wo, columns: columns,
            channelRange: channelRange)
        return
    }
    let P = Ho * Wo, ld = B * P
    for c in channelRange {
        for ki in 0..<k {
            let (ohLo, ohHi) = validRange(extent: H, outExtent: Ho, offset: ki - p, stride: s)
            for kj in 0..<k {
                let row = (c * k + ki) * k + kj
                let (owLo, owHi) = validRange(extent: W, outExtent: Wo, offset: kj - p, stride: s)
                for n in 0..<B {
                    let src = input + (n * C + c) * H * W
                    let dstMap = columns + row * ld + n * P  // (Ho, Wo)
                    if ohLo > 0 { dstMap.update(repeating: 0, count: ohLo * Wo) }
                    if ohHi < Ho { (dstMap + ohHi * Wo).update(repeating: 0, count: (Ho - ohHi) * Wo) }
                    if ohLo >= ohHi { continue }
                    if s == 1 && Wo == W {
                        // "same" width, stride 1: the valid rows are one shifted contiguous block of the
                        // source plane (one memmove), then the 0–p edge columns per row are zeroed.
                        let shift = (ki - p) * W + (kj - p)
                        let lo = max(ohLo * Wo, -shift), hi = min(ohHi * Wo, H * W - shift)
                        if lo < hi { (dstMap + lo).update(from: src + (lo + shift), count: hi - lo) }
                        for oh in ohLo..<ohHi {
                            let dst = dstMap + oh * Wo
                            var ow = 0
                            while ow < owLo { dst[ow] = 0; ow += 1 }
                            ow = max(owHi, owLo)
                            while ow < Wo { dst[ow] = 0; ow += 1 }
                        }
                        continue
                    }
                    for oh in ohLo..<ohHi {
                        // short rows: plain loops beat memset/memmove calls
                        let dst = dstMap + oh * Wo
                        let srcRow = src + (oh * s - p + ki) * W
                        var ow = 0
                        while ow < owLo { dst[ow] = 0; ow += 1 }
                        if owLo < owHi {
                            if s == 1 {
                                let shifted = srcRow + (kj - p)
                                for o in owLo..<owHi { dst[o] = shifted[o] }
                            } else if s == 2 {
                                gatherStride2(from: srcRow + (owLo * 2 - p + kj), to: dst + owLo, count: owHi - owLo)
                            } else {
                                var iw = owLo * s - p + kj
                                for o in owLo..<owHi { dst[o] = srcRow[iw]; iw += s }
                            }
                        }
                        ow = max(owHi, owLo)
                        while ow < Wo { dst[ow] = 0; ow += 1 }
                    }
                }
            }
        }
    }
}

/// Folds columns (K, B*P) back onto B samples (B, C, H, W), ACCUMULATING (+=) into `output`
/// (the adjoint of `im2col`). Channels are split over `policy.threads` when the work is large enough.
public func col2im(
    columns: UnsafePointer<Float>, batch B: Int, channels C: Int, height H: Int, width W: Int,
    kernel k: Int, stride s: Int, padding p: Int, outHeight Ho: Int, outWidth Wo: Int,
    output: UnsafeMutablePointer<Float>, policy: ExecutionPolicy
) {
    parallelRanges(C, work: C * k * k * B * Ho * Wo, policy: policy) { cs in
        col2imChannels(
            columns: columns, batch: B, channels: C, height: H, width: W, kernel: k, stride: s, padding: p,
            outHeight: Ho, outWidth: Wo, output: output, channelRange: cs)
    }
}

@inline(__always)
func col2imChannels(
    columns: UnsafePointer<Float>, batch B: Int, channels C: Int, height H: Int, width W: Int,
    kernel k: Int, stride s: Int, padding p: Int, outHeight Ho: Int, outWidth Wo: Int,
    output: UnsafeMutablePointer<Float>, channelRange: Range<Int>
) {
    let P = Ho * Wo, ld = B * P
    for c in channelRange {
        for ki in 0..<k {
            let (ohLo, ohHi) = validRange(extent: H, outExtent: Ho, offset: ki - p, stride: s)
            if ohLo >= ohHi { continue }
            for kj in 0..<k {
                let row = (c * k + ki) * k + kj
                let (owLo, owHi) = validRange(extent: W, outExtent: Wo, offset: kj - p, stride: s)
                if owLo >= owHi { continue }
                for n in 0..<B {
                    let dst = output + (n * C + c) * H * W
                    let srcMap = columns + row * ld + n * P
                    for oh in ohLo..<ohHi {
                        let src = srcMap + oh * Wo
                        let dstRow = dst + (oh * s - p + ki) * W
                        if s == 1 {
                            let d = dstRow + (kj - p)
                            for ow in owLo..<owHi { d[ow] += src[ow] }
                        } else {
                            if s == 2 {
                                scatterAddStride2(from: src + owLo, to: dstRow + (owLo * 2 - p + kj), count: owHi - owLo)
                            } else {
                                var iw = owLo * s - p + kj
                                for ow in owLo..<owHi { dstRow[iw] += src[ow]; iw += s }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// dst[i] = src[2i] for i < count, 8 at a time with an even-lane shuffle. Reads stay within
/// src[0 ... 2(count−1)]: the last full block is placed to overlap the previous one.
@inline(__always)
func gatherStride2(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count n: Int) {
    @inline(__always) func block(_ i: Int) {
        let v = UnsafeRawPointer(src + 2 * i).loadUnaligned(as: SIMD16<Float>.self)  // src[2i ... 2i+15]
        UnsafeMutableRawPointer(dst + i).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
    }
    guard n >= 9 else {
        for i in 0..<max(n, 0) { dst[i] = src[2 * i] }
        return
    }
    var i = 0
    while i + 9 <= n { block(i); i += 8 }  // 2i+15 ≤ 2(n−1)
    if i < n - 1 { block(n - 9) }  // covers dst[n−9 ... n−2]
    dst[n - 1] = src[2 * (n - 1)]
}

/// dst[2i] += src[i] for i < count, 8 at a time (odd lanes get +0). Touches only
/// dst[0 ... 2(count−1)], so neighbouring planes owned by other threads are never written.
@inline(__always)
func scatterAddStride2(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count n: Int) {
    var i = 0
    while i + 9 <= n {  // 2i+15 ≤ 2(n−1)
        var v = UnsafeRawPointer(dst + 2 * i).loadUnaligned(as: SIMD16<Float>.self)
        v.evenHalf += UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(dst + 2 * i).storeBytes(of: v, as: SIMD16<Float>.self)
        i += 8
    }
    while i < n { dst[2 * i] += src[i]; i += 1 }
}
