// ConvTranspose2D: output shapes, finite-difference gradients (input, weight, bias), accumulation and
// the adjoint relation to Conv2D. Forward and backward against PyTorch's conv_transpose2d are in
// PyTorchParityTests (fixture conv_transpose).
import XCTest

@testable import NeuralNet

final class ConvTranspose2DTests: XCTestCase {
    override func setUp() { BLASRuntime.ensureFastKernel() }

    func testOutputShape() {
        var rng = RandomGenerator(seed: 1)
        let up = ConvTranspose2D(inChannels: 3, outChannels: 4, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
        XCTAssertEqual(up.forward(randomTensor([2, 3, 5, 7], seed: 2)).shape, [2, 4, 10, 14], "k4 s2 p1 doubles")
        XCTAssertEqual(up.forward(randomTensor([1, 3, 4, 4], seed: 3)).shape, [1, 4, 8, 8])
        let plain = ConvTranspose2D(inChannels: 2, outChannels: 5, kernelSize: 3, rng: &rng)
        XCTAssertEqual(plain.forward(randomTensor([1, 2, 4, 4], seed: 4)).shape, [1, 5, 6, 6], "(H − 1)·1 + 3")
        XCTAssertEqual(up.weight.shape, [3, 4, 4, 4], "PyTorch layout (in, out, k, k)")
    }

    func testGradientsStride2Kernel4Padding1() {
        var rng = RandomGenerator(seed: 5)
        let up = ConvTranspose2D(inChannels: 3, outChannels: 2, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
        // Linear in x and W: a large step is exact up to rounding. rtol 1e-3, atol 1e-3 (as Conv2D's checks).
        layerGradientCheck(up, input: randomTensor([2, 3, 4, 5], seed: 6), step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 20)
    }

    func testGradientsOddGeometryWithoutBias() {
        var rng = RandomGenerator(seed: 7)
        let up = ConvTranspose2D(inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, padding: 0, bias: false, rng: &rng)
        layerGradientCheck(up, input: randomTensor([1, 2, 3, 4], seed: 8), step: 0.1, rtol: 1e-3, atol: 1e-3, samples: 20)
    }

    func testGradientsAccumulate() {
        var rng = RandomGenerator(seed: 9)
        let up = ConvTranspose2D(inChannels: 2, outChannels: 2, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
        let x = randomTensor([2, 2, 3, 3], seed: 10)
        let dy = randomTensor(up.forward(x).shape, seed: 11)
        _ = up.backward(dy)
        let once = up.dWeight.array + up.dBias!.array
        _ = up.forward(x)
        _ = up.backward(dy)
        assertClose(up.dWeight.array + up.dBias!.array, once.map { 2 * $0 }, rtol: 1e-5, atol: 1e-6)
    }

    /// The transposed convolution is the adjoint of Conv2D with the same (C, O, k, k) weight: its
    /// forward equals Conv2D's input gradient.
    func testForwardIsConv2DInputGradient() {
        var rng = RandomGenerator(seed: 12)
        let up = ConvTranspose2D(inChannels: 4, outChannels: 3, kernelSize: 4, stride: 2, padding: 1, bias: false, rng: &rng)
        let conv = Conv2D(inChannels: 3, outChannels: 4, kernelSize: 4, stride: 2, padding: 1, bias: false, rng: &rng)
        conv.weight.copy(from: up.weight)
        let y = randomTensor([2, 4, 5, 6], seed: 13)
        _ = conv.forward(randomTensor([2, 3, 10, 12], seed: 14))
        assertClose(up.forward(y).array, conv.backward(y).array, rtol: 1e-5, atol: 1e-5)
    }
}
