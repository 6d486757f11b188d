// A plane's correlation with itself at every shift, by a radix-2 FFT (no FFT library is among the
// packages the project may use, and Glibc has none). Glossary: for a real plane z of h × w values
// zero-padded to P × Q (powers of two), r(dy, dx) = Σ z(y, x)·z((y + dy) mod P, (x + dx) mod Q).
import Foundation

/// An in-place complex FFT of one power-of-two length, on split real and imaginary arrays.
struct RadixTwoFFT {
    let count: Int
    private let cosines: [Float], sines: [Float]
    private let reversed: [Int]

    /// nil unless `count` is a power of two of at least 2.
    init?(count: Int) {
        guard count >= 2, count & (count - 1) == 0 else { return nil }
        self.count = count
        let half = count / 2
        cosines = (0..<half).map { Float(cos(-2 * Double.pi * Double($0) / Double(count))) }
        sines = (0..<half).map { Float(sin(-2 * Double.pi * Double($0) / Double(count))) }
        let bits = count.trailingZeroBitCount
        reversed = (0..<count).map { i in
            var r = 0
            for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            return r
        }
    }

    /// X[k] = Σ x[n]·e^(−2πi·kn/N) of the `count` values at `re` and `im` (unnormalized, forward).
    func transform(_ re: UnsafeMutablePointer<Float>, _ im: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let j = reversed[i]
            if j > i { swap(&re[i], &re[j]); swap(&im[i], &im[j]) }
        }
        cosines.withUnsafeBufferPointer { cs in
            sines.withUnsafeBufferPointer { sn in
                var span = 1
                while span < count {
                    let step = count / (2 * span)
                    var start = 0
                    while start < count {
                        for k in 0..<span {
                            let wr = cs[k * step], wi = sn[k * step]
                            let a = start + k, b = a + span
                            let tr = wr * re[b] - wi * im[b], ti = wr * im[b] + wi * re[b]
                            re[b] = re[a] - tr; im[b] = im[a] - ti
                            re[a] += tr; im[a] += ti
                        }
                        start += 2 * span
                    }
                    span *= 2
                }
            }
        }
    }
}

enum SelfCorrelation {
    /// The smallest power of two ≥ n (1 for n ≤ 1).
    static func paddedLength(_ n: Int) -> Int { n <= 1 ? 1 : 1 << (Int.bitWidth - (n - 1).leadingZeroBitCount) }

    /// r over every circular shift of `plane` (h × w, row-major) zero-padded to P × Q =
    /// `paddedLength(h)` × `paddedLength(w)`, row-major P × Q (row dy, column dx); nil for planes under
    /// 2 × 2 or whose count does not match. Values are in Float: a shift's error is of the order of
    /// log₂(PQ)·2⁻²⁴ times Σ z², far below the gap between a copy and its surroundings.
    static func circular(_ plane: [Float], height h: Int, width w: Int) -> (values: [Float], rows: Int, columns: Int)? {
        guard h >= 2, w >= 2, plane.count == h * w else { return nil }
        let P = paddedLength(h), Q = paddedLength(w)
        guard let rowFFT = RadixTwoFFT(count: Q), let columnFFT = RadixTwoFFT(count: P) else { return nil }
        var re = [Float](repeating: 0, count: P * Q), im = [Float](repeating: 0, count: P * Q)
        for y in 0..<h { for x in 0..<w { re[y * Q + x] = plane[y * w + x] } }
        re.withUnsafeMutableBufferPointer { rp in
            im.withUnsafeMutableBufferPointer { ip in
                let R = rp.baseAddress!, I = ip.baseAddress!
                // Forward: rows (only the h that hold data; the padding rows stay 0), then columns.
                for y in 0..<h { rowFFT.transform(R + y * Q, I + y * Q) }
                columns(R, I, rows: P, columns: Q, fft: columnFFT)
                // |F|², then the inverse: since |F|² is real and even, its inverse transform is the
                // forward one divided by PQ, and real.
                let scale = 1 / Float(P * Q)
                for i in 0..<(P * Q) { R[i] = (R[i] * R[i] + I[i] * I[i]) * scale; I[i] = 0 }
                columns(R, I, rows: P, columns: Q, fft: columnFFT)
                for y in 0..<P { rowFFT.transform(R + y * Q, I + y * Q) }
            }
        }
        return (re, P, Q)
    }

    /// Transforms every column of the P × Q split planes, gathering 16 columns at a time into
    /// contiguous buffers (a column read straight from the planes touches one cache line per value).
    private static func columns(
        _ R: UnsafeMutablePointer<Float>, _ I: UnsafeMutablePointer<Float>, rows P: Int, columns Q: Int,
        fft: RadixTwoFFT
    ) {
        let group = min(16, Q)
        var cr = [Float](repeating: 0, count: P * group), ci = [Float](repeating: 0, count: P * group)
        cr.withUnsafeMutableBufferPointer { crp in
            ci.withUnsafeMutableBufferPointer { cip in
                let a = crp.baseAddress!, b = cip.baseAddress!
                for x0 in stride(from: 0, to: Q, by: group) {
                    for y in 0..<P {
                        for k in 0..<group { a[k * P + y] = R[y * Q + x0 + k]; b[k * P + y] = I[y * Q + x0 + k] }
                    }
                    for k in 0..<group { fft.transform(a + k * P, b + k * P) }
                    for y in 0..<P {
                        for k in 0..<group { R[y * Q + x0 + k] = a[k * P + y]; I[y * Q + x0 + k] = b[k * P + y] }
                    }
                }
            }
        }
    }
}
