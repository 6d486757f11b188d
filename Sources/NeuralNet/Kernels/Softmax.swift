// Owns the row softmax kernel and the 8-lane exp it uses (Cephes expf polynomial, ≈1–2 ulp), so the
// attention softmax is not bound by scalar libm calls. Free functions; no allocation.
#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// e^x for 8 lanes: x = n·ln2 + r, e^r by a degree-6 polynomial, scaled by 2ⁿ through the exponent
/// bits (n rounded with the 1.5·2²³ trick, no int conversion). Inputs are clamped to [−87.3, 88.7].
@inline(__always)
public func exp8(_ xIn: SIMD8<Float>) -> SIMD8<Float> {
    let x = pointwiseMin(pointwiseMax(xIn, SIMD8(repeating: -87.3)), SIMD8(repeating: 88.7))
    let magic = SIMD8<Float>(repeating: 12_582_912)        // 1.5·2²³
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic                                // round(x·log2 e)
    var r = x - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * r * r + r + 1
    // low mantissa bits of `shifted` hold n (two's complement); 2ⁿ = (n + 127) << 23
    let nBits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: SIMD8<Float>.self)
    return p * scale
}

/// Row-wise softmax in place on a (rows, cols) matrix, max-subtracted.
public func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let row = x + r * cols
        var m = -Float.infinity
        for c in 0..<cols { m = max(m, row[c]) }
        var s: Float = 0
        var c = 0
        var acc = SIMD8<Float>(repeating: 0)
        let mv = SIMD8<Float>(repeating: m)
        while c + 8 <= cols {
            let e = exp8(UnsafeRawPointer(row + c).loadUnaligned(as: SIMD8<Float>.self) - mv)
            UnsafeMutableRawPointer(row + c).storeBytes(of: e, as: SIMD8<Float>.self)
            acc += e
            c += 8
        }
        s = acc.sum()
        while c < cols { let e = expf(row[c] - m); row[c] = e; s += e; c += 1 }
        let inv = 1 / s
        for c in 0..<cols { row[c] *= inv }
    }
}
