// Finite-difference gradient checks (central differences, Double loss accumulation) for every layer,
// on inputs and parameters. Tolerances are stated at each call: |a − n| ≤ atol + rtol·max(|a|, |n|).
import XCTest

@testable import NeuralNet

final class GradientCheckTests: XCTestCase {
    override func setUp() { BLASRuntime.ensureFastKernel() }

    /// Inputs bounded away from 0 so that activation kinks are not crossed by the FD step.
    func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
        let t = randomTensor(shape, seed: seed)
        for i in 0..<t.count { let v = t.pointer[i]; t.pointer[i] = v >= 0 ? v + 0.1 : v - 0.1 }
        return t
    }

    func testConv2DStride1Padding1() {
        var rng = RandomGenerator(seed: 1)
        let conv = Conv2D(inChannels: 3, outChannels: 4, kernelSize: 3, stride: 1, padding: 1, rng: &rng)
        // Linear in x and W: large step is exact up to rounding. rtol 1e-3, atol 1e-3.
        layerGradientCheck(conv, input: randomTensor([2, 3, 6, 5], seed: 2), step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 20)
    }

    func testConv2DStride2Kernel4() {
        var rng = RandomGenerator(seed: 3)
        let conv = Conv2D(inChannels: 2, outChannels: 3, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
        layerGradientCheck(conv, input: randomTensor([2, 2, 8, 6], seed: 4), step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 20)
    }

    func testConv2DStride2NoPaddingOddSize() {
        var rng = RandomGenerator(seed: 5)
        let conv = Conv2D(inChannels: 2, outChannels: 2, kernelSize: 3, stride: 2, padding: 0, bias: false, rng: &rng)
        layerGradientCheck(conv, input: randomTensor([1, 2, 7, 9], seed: 6), step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 20)
    }

    func testConv2DPointwise() {
        var rng = RandomGenerator(seed: 7)
        let conv = Conv2D(inChannels: 4, outChannels: 3, kernelSize: 1, rng: &rng)
        layerGradientCheck(conv, input: randomTensor([2, 4, 3, 3], seed: 8), step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 20)
    }

    func testConv2DChunkingAndWorkersAgree() {
        // Every execution plan (one sample or many per SGEMM; serial with threaded SGEMM or chunks
        // spread over workers with partial dW sums) gives the same forward/backward. rtol 1e-5, atol 1e-5.
        for (k, s, p) in [(3, 2, 1), (1, 1, 0), (4, 2, 1)] {
            var results: [[Float]] = []
            for (target, workers) in [(1, false), (1 << 20, false), (1, true), (1 << 20, true)] {
                var rng = RandomGenerator(seed: 9)
                let conv = Conv2D(inChannels: 3, outChannels: 5, kernelSize: k, stride: s, padding: p, rng: &rng)
                conv.setExecutionPolicy(
                    ExecutionPolicy(
                        threads: 2, targetColumns: target, workerTargetColumns: target, spreadsBatchOverWorkers: workers))
                conv.fusedActivation = .leakyReLU(0.2)
                let x = randomTensor([5, 3, 8, 8], seed: 10)
                let y = conv.forward(x).array
                let dy = randomTensor(conv.forward(x).shape, seed: 11)
                let dx = conv.backward(dy).array
                results.append(y + dx + conv.dWeight.array + conv.dBias!.array)
            }
            for r in results.dropFirst() { assertClose(results[0], r, rtol: 1e-5, atol: 1e-5, "kernel \(k)") }
        }
    }

    func testConv2DRowBlocksAgree() {
        // A single-threaded forward by blocks of output rows (one row, two, five of eleven, all) equals
        // the whole-sample forward, on one thread and with workers, with and without bias; the
        // backward after it is unchanged. Both orders sum the same K = 144 products, so they differ by
        // at most 2·γ_K·Σ|w||x| ≈ 2 · 144 · 6e-8 · (144 · 1/12 · 4) ≈ 8e-4 (|w| ≤ 1/√K, |x| ≲ 4):
        // atol 1e-3; a row read from the wrong place is off by O(0.1).
        for bias in [true, false] {
            var results: [[Float]] = []
            for (blockColumns, workers) in [(0, false), (1, false), (20, false), (45, false), (1 << 20, false), (20, true)] {
                var rng = RandomGenerator(seed: 31)
                let conv = Conv2D(inChannels: 9, outChannels: 16, kernelSize: 4, stride: 2, padding: 1, bias: bias, rng: &rng)
                conv.setExecutionPolicy(
                    ExecutionPolicy(
                        threads: workers ? 2 : 1, targetColumns: 1, workerTargetColumns: 1, spreadsBatchOverWorkers: workers,
                        rowBlockColumns: blockColumns))
                conv.fusedActivation = .leakyReLU(0.2)
                let x = randomTensor([3, 9, 22, 18], seed: 32)  // output 11 × 9 per sample
                let y = conv.forward(x).array
                let dy = randomTensor(conv.forward(x).shape, seed: 33)
                let dx = conv.backward(dy).array
                results.append(y + dx + conv.dWeight.array)
            }
            for (i, r) in results.enumerated().dropFirst() {
                assertClose(results[0], r, rtol: 0, atol: 1e-3, "plan \(i), bias \(bias)")
            }
        }
    }

    func testLinear() {
        var rng = RandomGenerator(seed: 12)
        let fc = Linear(inFeatures: 5, outFeatures: 3, rng: &rng)
        layerGradientCheck(fc, input: randomTensor([4, 5], seed: 13), step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 20)
    }

    func testActivations() {
        // Smooth or kink-free at these inputs: step 1e-2, rtol 1e-2, atol 1e-3.
        let x = awayFromZero([2, 3, 4, 4], seed: 14)
        for layer in [ReLU(), LeakyReLU(negativeSlope: 0.1), Tanh(), Sigmoid()] as [Layer] {
            layerGradientCheck(layer, input: x, step: 1e-2, rtol: 1e-2, atol: 1e-3, samples: 30)
        }
    }

    func testBatchNormTrain() {
        let bn = BatchNorm2D(channels: 3)
        var rng = RandomGenerator(seed: 15)
        Initializer.normal(bn.weight, mean: 1, std: 0.3, rng: &rng)
        Initializer.normal(bn.bias, std: 0.3, rng: &rng)
        // step 1e-2, rtol 2e-2, atol 2e-3 (Float forward, normalized outputs)
        layerGradientCheck(
            bn, input: randomTensor([3, 3, 4, 4], seed: 16, std: 2), step: 1e-2, rtol: 2e-2, atol: 2e-3, samples: 25)
    }

    func testBatchNormEval() {
        let bn = BatchNorm2D(channels: 2)
        var rng = RandomGenerator(seed: 17)
        Initializer.normal(bn.runningMean, std: 0.5, rng: &rng)
        Initializer.uniform(bn.runningVar, low: 0.5, high: 2, rng: &rng)
        Initializer.normal(bn.weight, mean: 1, std: 0.3, rng: &rng)
        bn.eval()
        layerGradientCheck(bn, input: randomTensor([2, 2, 3, 3], seed: 18), step: 1e-2, rtol: 1e-2, atol: 1e-3, samples: 20)
    }

    func testPoolingAndUpsample() {
        // Avg/upsample/global are linear (step 0.1); max pool step 1e-3 well below value gaps.
        let x = randomTensor([2, 3, 6, 4], seed: 19)
        layerGradientCheck(AvgPool2x2(), input: x, step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 30)
        layerGradientCheck(Upsample2x(), input: x, step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 30)
        layerGradientCheck(GlobalAvgPool(), input: x, step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 30)
        layerGradientCheck(MaxPool2x2(), input: x, step: 1e-3, rtol: 1e-2, atol: 2e-3, samples: 30)
    }

    func testResidualFilters() {
        // Both are linear in x: a large step is exact up to rounding. rtol 1e-3, atol 1e-3. Odd sizes
        // for SRM (reflection at both ends), even for NPR (2×2 blocks).
        layerGradientCheck(
            NearestResidual2x(), input: randomTensor([2, 3, 4, 6], seed: 30), step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 40)
        layerGradientCheck(
            SRMResidual(), input: randomTensor([2, 3, 5, 7], seed: 31), step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 40)
    }

    /// Linear in x (step 0.1, as SRM); in v the kernels are a normalization, smooth away from ‖u‖ = 0:
    /// with v moved off SRM's kernels by about 0.2, step 1e-2 changes ‖u‖ by under 3 %, and central
    /// differences are exact to second order, so rtol 1e-2 and atol 1e-3 hold with room.
    func testConstrainedHighPass() {
        let layer = ConstrainedHighPass()
        var rng = RandomGenerator(seed: 34)
        for i in 0..<layer.weight.count { layer.weight.pointer[i] += 0.2 * rng.normal() }
        layerGradientCheck(layer, input: randomTensor([2, 3, 5, 7], seed: 35), step: 1e-2, rtol: 1e-2, atol: 1e-3, samples: 75)
    }

    /// The energy contrast is nonlinear (square, box means, logarithm): step 1e-2 on inputs of spread 1,
    /// where its energies are about 1, far above ε. The loss Σ r ⊙ y over 324 values of size about 1
    /// rounds to about 2e-6, 1e-4 of a derivative after dividing by 2·step: atol 1e-3, rtol 1e-2.
    /// Radii 1 and 3 on a 6×9 plane clip boxes at every border; the default radii clip every box.
    func testEnergyContrast() {
        layerGradientCheck(
            SRMEnergyContrast(localRadius: 1, contextRadius: 3), input: randomTensor([2, 3, 6, 9], seed: 32), step: 1e-2,
            rtol: 1e-2, atol: 1e-3, samples: 60)
        layerGradientCheck(
            SRMEnergyContrast(), input: randomTensor([1, 3, 5, 7], seed: 33), step: 1e-2, rtol: 1e-2, atol: 1e-3,
            samples: 30)
    }

    func testSpectralNormConv() {
        var rng = RandomGenerator(seed: 20)
        let sn = SNConv2D(inChannels: 3, outChannels: 4, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        // u converged first so that dσ through u, v vanishes (PyTorch treats them as constants).
        convergeSpectralNorms(sn)
        layerGradientCheck(sn, input: randomTensor([2, 3, 6, 6], seed: 21), step: 1e-2, rtol: 2e-2, atol: 2e-3, samples: 20)
    }

    func testSpectralNormLinear() {
        var rng = RandomGenerator(seed: 22)
        let sn = SNLinear(inFeatures: 6, outFeatures: 4, rng: &rng)
        convergeSpectralNorms(sn)
        layerGradientCheck(sn, input: randomTensor([3, 6], seed: 23), step: 1e-2, rtol: 2e-2, atol: 2e-3, samples: 24)
    }

    func testSelfAttention() {
        var rng = RandomGenerator(seed: 24)
        let attn = SelfAttention(channels: 16, rng: &rng)
        attn.gamma.pointer[0] = 0.5
        convergeSpectralNorms(attn)
        // Max pools inside: step 1e-3; rtol 3e-2, atol 3e-3.
        layerGradientCheck(attn, input: randomTensor([2, 16, 4, 4], seed: 25), step: 1e-3, rtol: 3e-2, atol: 3e-3, samples: 12)
    }

    func testSelfAttentionWorkersAgree() {
        // Serial, one worker per sample, and a single image's query positions split in (uneven)
        // blocks over 2 or 3 workers all give the same forward/backward. rtol 1e-5, atol 1e-5.
        for batch in [1, 2, 3] {
            var results: [[Float]] = []
            for (workers, threads) in [(false, 1), (true, 2), (true, 3)] {
                var rng = RandomGenerator(seed: 26)
                let attn = SelfAttention(channels: 16, rng: &rng)
                attn.setExecutionPolicy(ExecutionPolicy(threads: threads, spreadsBatchOverWorkers: workers))
                attn.gamma.pointer[0] = 0.5
                let x = randomTensor([batch, 16, 2, 10], seed: 27)
                let y = attn.forward(x).array
                let dx = attn.backward(randomTensor(x.shape, seed: 28)).array
                results.append(y + dx + attn.namedParameters().flatMap { $0.gradient.array })
            }
            for r in results.dropFirst() { assertClose(results[0], r, rtol: 1e-5, atol: 1e-5, "batch \(batch)") }
        }
    }
}

final class Im2ColTests: XCTestCase {
    /// im2col against a direct definition, for the contiguous-block fast path and the general path.
    func testIm2ColMatchesDefinition() {
        for (H, W, k, s, p) in [
            (5, 5, 3, 1, 1), (4, 6, 3, 1, 1), (6, 5, 4, 2, 1), (7, 7, 3, 2, 0), (5, 5, 5, 1, 2), (3, 3, 1, 1, 0),
        ] {
            let B = 2, C = 2
            let Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1, P = Ho * Wo
            let x = randomTensor([B, C, H, W], seed: 60)
            let cols = Tensor(shape: [C * k * k, B * P], repeating: .nan)
            im2col(
                input: x.pointer, batch: B, channels: C, height: H, width: W, kernel: k, stride: s, padding: p,
                outHeight: Ho, outWidth: Wo, columns: cols.pointer, policy: .default)
            var expected = [Float]()
            for c in 0..<C {
                for ki in 0..<k {
                    for kj in 0..<k {
                        for n in 0..<B {
                            for oh in 0..<Ho {
                                for ow in 0..<Wo {
                                    let ih = oh * s - p + ki, iw = ow * s - p + kj
                                    expected.append(ih >= 0 && ih < H && iw >= 0 && iw < W ? x[n, c, ih, iw] : 0)
                                }
                            }
                        }
                    }
                }
            }
            XCTAssertEqual(cols.array, expected, "H \(H) W \(W) k \(k) s \(s) p \(p)")
        }
    }
}

final class GatherTests: XCTestCase {
    func testGatherStride2AllLengths() {
        for n in 0..<40 {
            let src = (0..<(2 * max(n, 1) - 1)).map { Float($0) }
            var dst = [Float](repeating: -1, count: n)
            src.withUnsafeBufferPointer { s in
                dst.withUnsafeMutableBufferPointer { d in
                    gatherStride2(from: s.baseAddress!, to: d.baseAddress!, count: n)
                }
            }
            XCTAssertEqual(dst, (0..<n).map { Float(2 * $0) }, "n \(n)")
        }
    }
}

final class ScatterTests: XCTestCase {
    func testScatterAddStride2AllLengths() {
        for n in 0..<40 {
            let src = (0..<n).map { Float($0) + 0.5 }
            var dst = (0..<(2 * max(n, 1) - 1)).map { Float($0) }
            let expected = dst.enumerated().map {
                $0.offset % 2 == 0 && $0.offset / 2 < n ? $0.element + src[$0.offset / 2] : $0.element
            }
            src.withUnsafeBufferPointer { s in
                dst.withUnsafeMutableBufferPointer { d in
                    if n > 0 { scatterAddStride2(from: s.baseAddress!, to: d.baseAddress!, count: n) }
                }
            }
            XCTAssertEqual(dst, expected, "n \(n)")
        }
    }
}
