// Winograd F(4×4, 3×3) and F(2×2, 3×3) forwards against the im2col + SGEMM forward of the same Conv2D:
// odd and even plane sizes (partial edge tiles, and whole planes of whole tiles that F(4×4) writes
// straight from registers), one and many samples, every execution plan (serial, per-sample workers,
// one image split over cores), with and without bias and fused activation, and a weight change between
// calls (the cached transformed weight must follow it, and a change of tile size).
import XCTest

@testable import NeuralNet

final class WinogradTests: XCTestCase {
    override func setUp() { BLASRuntime.ensureFastKernel() }

    /// Forward of `conv` on x with Winograd (output tile 2 or 4) or without (tile nil), its
    /// threads and batch workers as they were.
    private func forward(_ conv: Conv2D, _ x: Tensor, tile: Int?) -> [Float] {
        var policy = conv.executionPolicy
        policy.winogradMinimumChannels = tile == nil ? Int.max : 1
        policy.winogradTile = tile == 4 ? .fourByFour : .twoByTwo
        conv.setExecutionPolicy(policy)
        return conv.forward(x).array
    }

    /// Largest relative error allowed: F(2×2) keeps errors near rounding; F(4×4)'s larger transform
    /// constants (up to 8 in Aᵀ, 5 in Bᵀ) amplify it (largest seen over these cases: 6.6e-7 and 4.8e-6).
    private static let tolerance: [Int: Float] = [2: 1e-5, 4: 2e-5]

    /// max |a − b| relative to max |b| (Winograd reorders sums).
    private func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        let scale = max(b.map(abs).max() ?? 0, 1e-6)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    func testMatchesIm2colForward() {
        let shapes: [(n: Int, c: Int, o: Int, h: Int, w: Int)] = [
            (1, 1, 1, 1, 1), (1, 3, 5, 7, 9), (2, 8, 4, 6, 10), (3, 16, 8, 5, 5), (4, 32, 24, 16, 16),
            (1, 20, 12, 33, 18), (5, 16, 16, 130, 66), (2, 7, 13, 21, 3), (3, 16, 16, 32, 48), (2, 64, 64, 16, 32),
        ]
        var largest: [Int: Float] = [:]
        for (i, s) in shapes.enumerated() {
            for (workers, threads) in [(false, 1), (true, 2), (false, 2)] {
                for activation in [FusedActivation.none, .leakyReLU(0.1)] {
                    for hasBias in [true, false] {
                        var rng = RandomGenerator(seed: UInt64(40 + i))
                        let conv = Conv2D(
                            inChannels: s.c, outChannels: s.o, kernelSize: 3, stride: 1, padding: 1, bias: hasBias,
                            rng: &rng)
                        conv.setExecutionPolicy(ExecutionPolicy(threads: threads, spreadsBatchOverWorkers: workers))
                        conv.fusedActivation = activation
                        let x = randomTensor([s.n, s.c, s.h, s.w], seed: UInt64(60 + i))
                        let reference = forward(conv, x, tile: nil)
                        for tile in [4, 2] {
                            let e = relativeError(forward(conv, x, tile: tile), reference)
                            largest[tile] = max(largest[tile] ?? 0, e)
                            XCTAssertLessThan(
                                e, Self.tolerance[tile]!,
                                "F(\(tile)) shape \(s) workers \(workers) threads \(threads) \(activation) bias \(hasBias)")
                        }
                    }
                }
            }
        }
        print("largest relative error: F(2×2) \(largest[2]!), F(4×4) \(largest[4]!)")
    }

    func testFollowsWeightChanges() {
        var rng = RandomGenerator(seed: 7)
        let conv = Conv2D(inChannels: 4, outChannels: 3, kernelSize: 3, stride: 1, padding: 1, rng: &rng)
        let x = randomTensor([2, 4, 8, 8], seed: 8)
        for tile in [4, 2] {
            let before = forward(conv, x, tile: tile)
            for i in 0..<conv.weight.count { conv.weight.pointer[i] *= -2 }
            let after = forward(conv, x, tile: tile)
            XCTAssertLessThan(relativeError(after, forward(conv, x, tile: nil)), Self.tolerance[tile]!)
            XCTAssertGreaterThan(relativeError(after, before), 0.5, "the transformed weight was not recomputed")
        }
        // the other tile size right after: U is recomputed for it, not reused
        XCTAssertLessThan(relativeError(forward(conv, x, tile: 4), forward(conv, x, tile: nil)), Self.tolerance[4]!)
    }

    func testOtherConvolutionsNeverUseWinograd() {
        // Stride 2, padding 0 and 4×4 kernels keep im2col even with the threshold at 1: same bits.
        for (k, s, p) in [(3, 2, 1), (3, 1, 0), (4, 2, 1)] {
            var rng = RandomGenerator(seed: 9)
            let conv = Conv2D(inChannels: 4, outChannels: 3, kernelSize: k, stride: s, padding: p, rng: &rng)
            let x = randomTensor([2, 4, 9, 9], seed: 10)
            XCTAssertEqual(forward(conv, x, tile: 4), forward(conv, x, tile: nil))
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
                    outHeight: Ho, outWidth: Wo, columns: out.baseAddress!, policy: .default)
            }
            XCTAssertEqual(columns, expected, "B \(B) C \(C) H \(H) W \(W)")
        }
    }
}
