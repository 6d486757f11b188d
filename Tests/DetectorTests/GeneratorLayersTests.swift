// The generators' shared layers against independent compositions, bit for bit in forward, dInput,
// parameter gradients and state-dictionary keys: the nearest-conv up stage against the reference
// generator's stage (itself checked against PyTorch and finite differences in NeuralNetTests), the
// transposed-conv stage and the seed map against their layers run one after another by hand.
import NeuralNet
import NeuralNetReference
import XCTest

@testable import Detector

final class GeneratorLayersTests: XCTestCase {
    /// A (shape) tensor of N(0, 1) values from `seed`.
    func normalTensor(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.normal() })
    }

    func bits(_ t: Tensor) -> [UInt32] { t.array.map(\.bitPattern) }

    func gradientBits(_ module: Module) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: module.namedParameters().map { ($0.name, bits($0.gradient)) })
    }

    func testNearestConvStageEqualsTheReferenceGeneratorsStage() {
        var rng = RandomGenerator(seed: 41), referenceRNG = rng
        let stage = GeneratorUpStage.nearestConv(8, 4, rng: &rng)
        let reference = ReferenceGenerator.UpStage(8, 4, rng: &referenceRNG)
        XCTAssertEqual(stage.namedParameters().map(\.name), reference.namedParameters().map(\.name))
        XCTAssertEqual(stage.namedBuffers().map(\.name), reference.namedBuffers().map(\.name))
        XCTAssertEqual(stage.namedParameters().map(\.name), ["conv.weight", "conv.bias", "bn.weight", "bn.bias"])
        let x = normalTensor([2, 8, 4, 4], seed: 42), dy = normalTensor([2, 4, 8, 8], seed: 43)
        XCTAssertEqual(bits(stage.forward(x)), bits(reference.forward(x)))
        XCTAssertEqual(bits(stage.backward(dy)), bits(reference.backward(dy)))
        XCTAssertEqual(gradientBits(stage), gradientBits(reference))
        XCTAssertEqual(bits(stage.bn.runningMean), bits(reference.bn.runningMean), "both updated their statistics alike")
    }

    func testTransposedConvStageIsDeconvThenBatchNormThenReLU() {
        var rng = RandomGenerator(seed: 44), byHandRNG = rng
        let stage = GeneratorUpStage.transposedConv(6, 3, rng: &rng)
        let deconv = ConvTranspose2D(
            inChannels: 6, outChannels: 3, kernelSize: 4, stride: 2, padding: 1, bias: false, rng: &byHandRNG)
        let bn = BatchNorm2D(channels: 3), relu = ReLU()
        XCTAssertEqual(stage.namedParameters().map(\.name), ["deconv.weight", "bn.weight", "bn.bias"])
        XCTAssertEqual(stage.namedBuffers().map(\.name), ["bn.running_mean", "bn.running_var"])
        let x = normalTensor([2, 6, 3, 5], seed: 45), dy = normalTensor([2, 3, 6, 10], seed: 46)
        XCTAssertEqual(bits(stage.forward(x)), bits(relu.forward(bn.forward(deconv.forward(x)))))
        XCTAssertEqual(bits(stage.backward(dy)), bits(deconv.backward(bn.backward(relu.backward(dy)))))
        XCTAssertEqual(bits(stage.conv.namedParameters()[0].gradient), bits(deconv.dWeight))
        XCTAssertEqual(bits(stage.bn.dWeight), bits(bn.dWeight))
    }

    func testSeedMapIsLinearThenBatchNormThenReLUOnA4x4Map() {
        var rng = RandomGenerator(seed: 47), byHandRNG = rng
        let seedMap = GeneratorSeedMap(fc: Linear(inFeatures: 5, outFeatures: 4 * 16, rng: &rng), latentSize: 5, channels: 4)
        let fc = Linear(inFeatures: 5, outFeatures: 4 * 16, rng: &byHandRNG)
        let bn = BatchNorm2D(channels: 4), relu = ReLU()
        XCTAssertEqual(seedMap.namedParameters().map(\.name), ["fc.weight", "fc.bias", "bn0.weight", "bn0.bias"])
        let z = normalTensor([3, 5], seed: 48), dy = normalTensor([3, 4, 4, 4], seed: 49)
        let map = seedMap.forward(z)
        XCTAssertEqual(map.shape, [3, 4, 4, 4])
        let linear = fc.forward(z)
        linear.reshape(to: [3, 4, 4, 4])
        XCTAssertEqual(bits(map), bits(relu.forward(bn.forward(linear))))
        XCTAssertEqual(bits(seedMap.backward(dy)), bits(fc.backward(bn.backward(relu.backward(dy)))))
        XCTAssertEqual(bits(seedMap.namedParameters()[0].gradient), bits(fc.dWeight))
    }
}
