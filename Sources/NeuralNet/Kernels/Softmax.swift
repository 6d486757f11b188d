// Owns the row softmax kernel and the 4-lane exp it uses (Cephes expf polynomial, ≈1–2 ulp), so the
// attention softmax is not bound by scalar libm calls. 4 lanes = one SSE register, which the default
// (non-AVX) target compiles to straight-line vector code. Free functions; no allocation.
#if canImport(Glibc)
    import Glibc
#else
    import Foundation
#endif

/// e^x for 4 lanes: x = n·ln2 + r, e^r by a degree-6 polynomial, scaled by 2ⁿ through the exponent
/// bits (n rounded with the 1.5·2²³ trick, no int conversion). Inputs below −87.3 are clamped
/// (e^x ≈ 1.2e-38 there); inputs must be ≤ 88.7.
@inline(__always)
public func exp4(_ xIn: SIMD4<Float>) -> SIMD4<Float> {
    let lo = SIMD4<Float>(repeating: -87.3)
    let x = xIn.replacing(with: lo, where: xIn .< lo)
    let magic = SIMD4<Float>(repeating: 12_582_912)  // 1.5·2²³
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic  // round(x·log2 e)
    var r = x - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = SIMD4<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * r * r + r + 1
    // the low mantissa bits of `shifted` hold n (two's complement); 2ⁿ = (n + 127) << 23
    let nBits = unsafeBitCast(shifted, to: SIMD4<Int32>.self) &- 0x4B40_0000
    return p * unsafeBitCast((nBits &+ 127) &<< 23, to: SIMD4<Float>.self)
}

/// Row-wise softmax in place on a (rows, cols) matrix, max-subtracted.
public func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    let vectorCols = cols & ~3
    for r in 0..<rows {
        let row = x + r * cols
        // max
        var m = -Float.infinity
        if vectorCols > 0 {
            var mv = SIMD4<Float>(repeating: -.infinity)
            var c = 0
            while c < vectorCols {
                let v = UnsafeRawPointer(row + c).loadUnaligned(as: SIMD4<Float>.self)
                mv = mv.replacing(with: v, where: v .> mv)
                c += 4
            }
            m = mv.max()
        }
        for c in vectorCols..<cols { m = max(m, row[c]) }
        // exp and sum
        let mv = SIMD4<Float>(repeating: m)
        var acc = SIMD4<Float>(repeating: 0)
        var c = 0
        while c < vectorCols {
            let e = exp4(UnsafeRawPointer(row + c).loadUnaligned(as: SIMD4<Float>.self) - mv)
            UnsafeMutableRawPointer(row + c).storeBytes(of: e, as: SIMD4<Float>.self)
            acc += e
            c += 4
        }
        var s = acc.sum()
        for c in vectorCols..<cols { let e = expf(row[c] - m); row[c] = e; s += e }
        let inv = 1 / s
        for c in 0..<cols { row[c] *= inv }
    }
}
