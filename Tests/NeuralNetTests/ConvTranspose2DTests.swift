// ConvTranspose2D: output shapes, finite-difference gradients (input, weight, bias), the adjoint
// relation to Conv2D, and one forward against PyTorch's conv_transpose2d (values inline, computed
// once with torch 2 CPU: x = sin(0.37 i), W = 0.5 cos(0.11 i), b = (0.1, −0.2, 0.3), k4 s2 p1).
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

    func testForwardMatchesPyTorch() {
        var rng = RandomGenerator(seed: 15)
        let up = ConvTranspose2D(inChannels: 2, outChannels: 3, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
        for i in 0..<up.weight.count { up.weight.pointer[i] = 0.5 * Float(cos(0.11 * Double(i))) }
        up.bias!.copy(from: Tensor(shape: [3], data: [0.1, -0.2, 0.3]))
        let x = Tensor(shape: [1, 2, 2, 3], data: (0..<12).map { Float(sin(0.37 * Double($0))) })
        let expected: [Float] = [
            0.458079, 0.860199, 0.877219, 0.870964, 0.853341, 0.451374, 0.884680, 1.597861, 1.530314, 1.310844,
            1.186244, 0.528151, 0.760161, 1.228235, 1.098454, 0.740460, 0.573861, 0.190689, 0.252091, 0.264287,
            0.174768, -0.028875, -0.120068, -0.080443, -0.096078, -0.149596, -0.235930, -0.460976, -0.540086,
            -0.439263, -0.462365, -1.005045, -1.150676, -1.477018, -1.577794, -0.964630, -0.756275, -1.512293,
            -1.602881, -1.776342, -1.805263, -1.015113, -0.597550, -1.022916, -1.019006, -0.998608, -0.962588,
            -0.548759, -0.097170, -0.479159, -0.463704, -0.372796, -0.325417, 0.038626, -0.385990, -0.895041,
            -0.772714, -0.430489, -0.267982, 0.159467, -0.150916, -0.334611, -0.170756, 0.252486, 0.429965,
            0.515919, 0.297449, 0.445256, 0.533304, 0.729274, 0.806918, 0.611630,
        ]
        let y = up.forward(x)
        XCTAssertEqual(y.shape, [1, 3, 4, 6])
        // Printed with 6 decimals: atol 2e-6 covers the rounding.
        assertClose(y.array, expected, rtol: 1e-5, atol: 2e-6)
    }
}
