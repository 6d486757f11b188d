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

    func testConv2DChunkedBatchMatchesPerSample() {
        // Forward/backward with many samples per SGEMM equals one sample per SGEMM. rtol 1e-5, atol 1e-5.
        let saved = Conv2D.targetColumns
        defer { Conv2D.targetColumns = saved }
        var results: [[Float]] = []
        for target in [1, 1 << 20] {
            Conv2D.targetColumns = target
            var rng = RandomGenerator(seed: 9)
            let conv = Conv2D(inChannels: 3, outChannels: 5, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
            let x = randomTensor([4, 3, 8, 8], seed: 10)
            let y = conv.forward(x).array
            let dy = randomTensor(conv.forward(x).shape, seed: 11)
            let dx = conv.backward(dy).array
            results.append(y + dx + conv.dWeight.array + conv.dBias!.array)
        }
        assertClose(results[0], results[1], rtol: 1e-5, atol: 1e-5)
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
        layerGradientCheck(bn, input: randomTensor([3, 3, 4, 4], seed: 16, std: 2), step: 1e-2, rtol: 2e-2, atol: 2e-3, samples: 25)
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
}
