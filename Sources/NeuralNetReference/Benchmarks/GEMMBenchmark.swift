// Measures OpenBLAS SGEMM throughput at square and convolution-shaped sizes, so that a slow kernel
// (or a slow machine) shows up as a number next to the kernel's name. Used by `unmask bench gemm`.
import Foundation
import NeuralNet

/// SGEMM throughput at one matrix shape.
public struct GEMMMeasurement: Sendable, Codable {
    /// Human label, e.g. "square 1024" or "conv 3x3 64→128 @32x32".
    public var label: String
    public var m: Int
    public var n: Int
    public var k: Int
    /// Median over the runs, in GFLOP/s (2·m·n·k floating-point operations per product).
    public var gflops: Double
    public var runs: Int
}

/// SGEMM throughput measurements (C = A·B, row-major, single precision).
public enum GEMMBenchmark {
    /// A shape to measure.
    public struct Shape: Sendable {
        public var label: String
        public var m: Int
        public var n: Int
        public var k: Int
        public init(label: String, m: Int, n: Int, k: Int) {
            self.label = label
            self.m = m
            self.n = n
            self.k = k
        }
    }

    /// Square sizes 256–2048 and the shapes the detector's convolutions produce with im2col
    /// (M = output channels, K = input channels × kernel area, N = output positions × batch).
    public static let standardShapes: [Shape] = [
        Shape(label: "square 256", m: 256, n: 256, k: 256),
        Shape(label: "square 512", m: 512, n: 512, k: 512),
        Shape(label: "square 1024", m: 1024, n: 1024, k: 1024),
        Shape(label: "square 2048", m: 2048, n: 2048, k: 2048),
        Shape(label: "conv 3x3 32→64 @64x64 ×8", m: 64, n: 64 * 64 * 8, k: 32 * 9),
        Shape(label: "conv 4x4 64→64 s2 @32x32 ×8", m: 64, n: 32 * 32 * 8, k: 64 * 16),
        Shape(label: "conv 3x3 64→128 @32x32 ×8", m: 128, n: 32 * 32 * 8, k: 64 * 9),
        Shape(label: "conv 3x3 128→256 @16x16 ×8", m: 256, n: 16 * 16 * 8, k: 128 * 9),
        Shape(label: "conv 4x4 256→256 @16x16 ×4", m: 256, n: 16 * 16 * 4, k: 256 * 16),
    ]

    /// Measures each shape: one warm-up product, then `runs` timed products (at least `minimumSeconds`
    /// in all per shape, repeating the product within a run when it is short); the median is kept.
    public static func measure(shapes: [Shape] = standardShapes, runs: Int = 5, minimumSeconds: Double = 0.2) -> [GEMMMeasurement]
    {
        shapes.map { shape in
            let a = Tensor(shape: [shape.m, shape.k], repeating: 0.5)  // (M, K)
            let b = Tensor(shape: [shape.k, shape.n], repeating: 0.25)  // (K, N)
            let c = Tensor(shape: [shape.m, shape.n])  // (M, N)
            func multiply() {
                sgemm(
                    m: shape.m, n: shape.n, k: shape.k, a: a.pointer, lda: shape.k, b: b.pointer, ldb: shape.n, beta: 0,
                    c: c.pointer, ldc: shape.n)
            }
            multiply()
            let flops = 2.0 * Double(shape.m) * Double(shape.n) * Double(shape.k)
            let repeatsPerRun = max(1, Int((minimumSeconds / Double(max(runs, 1))) / max(flops / 100e9, 1e-6)))
            var rates: [Double] = []
            for _ in 0..<max(runs, 1) {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<repeatsPerRun { multiply() }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                rates.append(flops * Double(repeatsPerRun) / seconds / 1e9)
            }
            rates.sort()
            return GEMMMeasurement(
                label: shape.label, m: shape.m, n: shape.n, k: shape.k, gflops: rates[rates.count / 2], runs: rates.count)
        }
    }
}
