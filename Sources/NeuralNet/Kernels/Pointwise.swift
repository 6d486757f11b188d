// Owns small pointer kernels shared by layers: bias add, row sums, axpy-style accumulation.
// Free functions over raw pointers and sizes; they never allocate.

/// y[r, c] += bias[r] for a (rows, cols) matrix.
@inline(__always)
public func addRowBias(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>) {
    for r in 0..<rows {
        let b = bias[r], row = y + r * cols
        for c in 0..<cols { row[c] += b }
    }
}

/// out[r] += Σ_c x[r, c] for a (rows, cols) matrix (Float accumulation in 8 lanes).
@inline(__always)
public func accumulateRowSums(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
    for r in 0..<rows { out[r] += sum(x + r * cols, count: cols) }
}

/// Σ x[i] with 8 independent accumulators, then reduced in Double.
@inline(__always)
public func sum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= n {
        acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var total = 0.0
    for l in 0..<8 { total += Double(acc[l]) }
    while i < n { total += Double(x[i]); i += 1 }
    return Float(total)
}

/// y[i] += x[i].
@inline(__always)
public func accumulate(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
    for i in 0..<n { y[i] += x[i] }
}

/// Σ a[i]·b[i] with 8 independent Float lanes (vectorized), then reduced in Double.
@inline(__always)
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
    var acc0 = SIMD4<Float>(repeating: 0), acc1 = SIMD4<Float>(repeating: 0)
    var i = 0
    while i + 8 <= n {
        acc0 +=
            UnsafeRawPointer(a + i).loadUnaligned(as: SIMD4<Float>.self)
            * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD4<Float>.self)
        acc1 +=
            UnsafeRawPointer(a + i + 4).loadUnaligned(as: SIMD4<Float>.self)
            * UnsafeRawPointer(b + i + 4).loadUnaligned(as: SIMD4<Float>.self)
        i += 8
    }
    var total = 0.0
    for l in 0..<4 { total += Double(acc0[l]) + Double(acc1[l]) }
    while i < n { total += Double(a[i]) * Double(b[i]); i += 1 }
    return Float(total)
}
