// Winograd F(2×2, 3×3) forward against the im2col + SGEMM forward of the same Conv2D: odd and even
// plane sizes (partial edge tiles), one and many samples, every execution plan (serial, per-sample
// workers, one image split over cores), with and without bias and fused activation, and a weight
// change between calls (the cached transformed weight must follow it).
import XCTest

@testable import NeuralNet

final class WinogradTests: XCTestCase {
    override func setUp() { BLASRuntime.ensureFastKernel() }

    /// Forward of `conv` on x with Winograd on or off.
    private func forward(_ conv: Conv2D, _ x: Tensor, winograd: Bool) -> [Float] {
        let saved = Conv2D.winogradMinimumChannels
        defer { Conv2D.winogradMinimumChannels = saved }
        Conv2D.winogradMinimumChannels = winograd ? 1 : Int.max
        return conv.forward(x).array
    }

    /// max |a − b| relative to max |b| (Winograd reorders sums; F(2,3) keeps errors near rounding).
    private func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        let scale = max(b.map(abs).max() ?? 0, 1e-6)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    func testMatchesIm2colForward() {
        let saved = (Conv2D.workerParallel, KernelThreads.count)
        defer { (Conv2D.workerParallel, KernelThreads.count) = saved }
        let shapes: [(n: Int, c: Int, o: Int, h: Int, w: Int)] = [
            (1, 1, 1, 1, 1), (1, 3, 5, 7, 9), (2, 8, 4, 6, 10), (3, 16, 8, 5, 5), (4, 32, 24, 16, 16),
            (1, 20, 12, 33, 18), (5, 16, 16, 130, 66), (2, 7, 13, 21, 3),
        ]
        for (i, s) in shapes.enumerated() {
            for (workers, threads) in [(false, 1), (true, 2), (false, 2)] {
                for activation in [FusedActivation.none, .leakyReLU(0.1)] {
                    for hasBias in [true, false] {
                        Conv2D.workerParallel = workers; KernelThreads.count = threads
                        var rng = RandomGenerator(seed: UInt64(40 + i))
                        let conv = Conv2D(
                            inChannels: s.c, outChannels: s.o, kernelSize: 3, stride: 1, padding: 1, bias: hasBias,
                            rng: &rng)
                        conv.fusedActivation = activation
                        let x = randomTensor([s.n, s.c, s.h, s.w], seed: UInt64(60 + i))
                        let reference = forward(conv, x, winograd: false)
                        let fast = forward(conv, x, winograd: true)
                        let e = relativeError(fast, reference)
                        XCTAssertLessThan(
                            e, 1e-5, "shape \(s) workers \(workers) threads \(threads) \(activation) bias \(hasBias)")
                    }
                }
            }
        }
    }

    func testFollowsWeightChanges() {
        var rng = RandomGenerator(seed: 7)
        let conv = Conv2D(inChannels: 4, outChannels: 3, kernelSize: 3, stride: 1, padding: 1, rng: &rng)
        let x = randomTensor([2, 4, 8, 8], seed: 8)
        let before = forward(conv, x, winograd: true)
        for i in 0..<conv.weight.count { conv.weight.pointer[i] *= -2 }
        let after = forward(conv, x, winograd: true)
        XCTAssertLessThan(relativeError(after, forward(conv, x, winograd: false)), 1e-5)
        XCTAssertGreaterThan(relativeError(after, before), 0.5, "the transformed weight was not recomputed")
    }

    func testOtherConvolutionsNeverUseWinograd() {
        // Stride 2, padding 0 and 4×4 kernels keep im2col even with the threshold at 1: same bits.
        for (k, s, p) in [(3, 2, 1), (3, 1, 0), (4, 2, 1)] {
            var rng = RandomGenerator(seed: 9)
            let conv = Conv2D(inChannels: 4, outChannels: 3, kernelSize: k, stride: s, padding: p, rng: &rng)
            let x = randomTensor([2, 4, 9, 9], seed: 10)
            XCTAssertEqual(forward(conv, x, winograd: true), forward(conv, x, winograd: false))
        }
    }
}

/// The 4×4 stride-2 im2col (split even / odd columns, contiguous copies) against the definition
/// columns[(c,ki,kj), (n,oh,ow)] = x[n, c, 2oh−1+ki, 2ow−1+kj] (0 outside), on even and odd sizes.
final class Im2ColKernel4Stride2Tests: XCTestCase {
    func testMatchesDefinition() {
        for (B, C, H, W) in [(1, 1, 2, 2), (2, 3, 8, 6), (1, 2, 7, 9), (3, 2, 5, 4), (1, 4, 33, 17), (2, 1, 3, 3)] {
            let Ho = (H + 2 - 4) / 2 + 1, Wo = (W + 2 - 4) / 2 + 1, P = Ho * Wo
            let x = randomTensor([B, C, H, W], seed: UInt64(H * 100 + W))
            var expected = [Float](repeating: 0, count: C * 16 * B * P)
            for c in 0..<C {
                for ki in 0..<4 {
                    for kj in 0..<4 {
                        for n in 0..<B {
                            for oh in 0..<Ho {
                                for ow in 0..<Wo {
                                    let ih = 2 * oh - 1 + ki, iw = 2 * ow - 1 + kj
                                    let inside = ih >= 0 && ih < H && iw >= 0 && iw < W
                                    expected[((c * 4 + ki) * 4 + kj) * B * P + n * P + oh * Wo + ow] =
                                        inside ? x.pointer[((n * C + c) * H + ih) * W + iw] : 0
                                }
                            }
                        }
                    }
                }
            }
            // NaN-filled output: every entry must be written
            var columns = [Float](repeating: .nan, count: expected.count)
            columns.withUnsafeMutableBufferPointer { out in
                im2col(
                    input: x.pointer, batch: B, channels: C, height: H, width: W, kernel: 4, stride: 2, padding: 1,
                    outHeight: Ho, outWidth: Wo, columns: out.baseAddress!)
            }
            XCTAssertEqual(columns, expected, "B \(B) C \(C) H \(H) W \(W)")
        }
    }
}
