// The transposed-convolution generator: shapes and range, its parameter names, training a tiny
// detector against it (finite losses) with an exact checkpoint resume, and configurations from
// before `generatorKind` existed (absent field = the upsampling generator).
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class TransposedConvGeneratorTests: XCTestCase {
    func testForwardShapeRangeAndBackward() {
        let g = TransposedConvGenerator(architecture: TestSupport.tinyGenerator, seed: 3)
        let z = Tensor(shape: [0])
        var rng = RandomGenerator(seed: 4)
        g.sampleLatents(z, count: 3, rng: &rng)
        let images = g.forward(z)
        XCTAssertEqual(images.shape, [3, 3, 32, 32])
        XCTAssertTrue(images.array.allSatisfy { $0 >= 0 && $0 <= 1 })
        let dz = g.backward(Tensor(shape: images.shape, repeating: 0.01))
        XCTAssertEqual(dz.shape, [3, 16])
        XCTAssertTrue(dz.array.allSatisfy(\.isFinite))
        XCTAssertTrue(dz.array.contains { $0 != 0 }, "gradient reaches the latents")
        // tiny: base 32, 4 → 8 → 16 → 32: two BN stages, then the RGB layer
        let names = Set(g.namedParameters().map(\.name))
        XCTAssertTrue(names.isSuperset(of: ["fc.weight", "up1.deconv.weight", "up2.bn.weight", "out.weight", "out.bias"]))
        XCTAssertEqual(g.stages.count, 2)
        XCTAssertEqual(g.out.weight.shape, [8, 3, 4, 4])
    }

    func testTrainerRunsWithTransposedConvGeneratorAndResumesExactly() throws {
        var config = TestSupport.tinyConfig(seed: 13)
        config.generatorKind = .transposedConv
        let data = TestSupport.syntheticData(files: 3, size: 64)
        let dir = temporaryFolder("transposed-resume")
        let a = try Trainer(config: config, data: data)
        XCTAssertTrue(a.generator is TransposedConvGenerator)
        var losses: [Float] = []
        a.observer = { event in
            if case .step(let s) = event { losses += [s.discriminatorLoss] + (s.generatorLoss.map { [$0] } ?? []) }
            if case .rollback = event { XCTFail("no rollback expected") }
        }
        a.train(steps: 3)
        try a.saveCheckpoint(to: dir + "/c.safetensors")
        a.train(steps: 3)  // crosses G steps
        XCTAssertEqual(losses.count, 6 + 3, "6 D steps, 3 G steps")
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        XCTAssertTrue(a.validate().auc.isFinite)

        let b = try Trainer(resumingFrom: dir + "/c.safetensors", data: data)
        XCTAssertEqual(b.config.generatorKind, .transposedConv)
        XCTAssertTrue(b.generator is TransposedConvGenerator)
        b.train(steps: 3)
        for (k, t) in a.discriminator.stateDictionary() {
            XCTAssertEqual(t.array.map(\.bitPattern), b.discriminator.stateDictionary()[k]!.array.map(\.bitPattern), k)
        }
        let gb = b.generator.stateDictionary()
        for (k, t) in a.generator.stateDictionary() {
            XCTAssertEqual(t.array.map(\.bitPattern), gb[k]!.array.map(\.bitPattern), k)
        }
        XCTAssertEqual(a.rng, b.rng)
    }

    func testConfigurationsWithoutGeneratorKindMeanTheUpsamplingGenerator() throws {
        // Checkpoints written before the field existed carry config JSON without it.
        let config = TestSupport.tinyConfig()
        let json = try JSONEncoder().encode(config)
        XCTAssertFalse(String(decoding: json, as: UTF8.self).contains("generatorKind"), "nil is not written")
        let decoded = try JSONDecoder().decode(TrainingConfig.self, from: json)
        XCTAssertNil(decoded.generatorKind)
        XCTAssertEqual(decoded, config)
        XCTAssertTrue(try Trainer(config: decoded, data: TestSupport.syntheticData(files: 2, size: 48)).generator is Generator)

        var transposed = config
        transposed.generatorKind = .transposedConv
        let round = try JSONDecoder().decode(TrainingConfig.self, from: JSONEncoder().encode(transposed))
        XCTAssertEqual(round.generatorKind, .transposedConv)
    }

    /// The config of a real checkpoint written before the field existed (a standard run with a VAE),
    /// verbatim: it decodes, means the upsampling generator, and re-encodes to the same bytes.
    func testCheckpointConfigFromBeforeTheFieldStillDecodes() throws {
        let saved = """
            {"adversarialWeight":1,"augmentation":{"blur":0.15,"blurSigma":[0.3,1.2],"flip":0.5,"h264":0.1,"h264CRF":[18,
            35],"jitter":4,"jpeg":0.2,"jpegQuality":[30,100],"noise":0.2,"noiseSigma":[0.002,0.03],"resize":0.3,
            "resizeRange":[0.7,1.4]},"beta1":0,"beta2":0.9,"dStepsPerGStep":2,"discriminator":{"inputScale":64,
            "leakySlope":0.1,"patchSize":64,"widths":[16,32,64],"window":256},"divergenceLimit":10000,"fakeMix":{"media":1,
            "partial":1,"selfBlended":0.5,"vaeBlended":1,"vaeSample":0.5},"generatedPerBatch":8,"generator":{"baseWidth":128,
            "latentSize":64,"minimumWidth":16,"patchSize":64},"learningRateD":0.0004,"learningRateG":0.0001,
            "loss":"hinge","minimumTextureEnergy":0.01,"otherFakesPerBatch":8,"realPerBatch":16,"rollbackLearningRateFactor":0.5,
            "seed":1,"snapshotEvery":25,"supervisedWeight":1,"vae":{"adversarialWeight":0.01,"klWeight":0.001,
            "latentSize":64,"patchSize":64,"widths":[16,32,64]},"validateEvery":200,"validationPatches":192}
            """.replacingOccurrences(of: "\n", with: "").replacingOccurrences(of: " ", with: "")
        let config = try JSONDecoder().decode(TrainingConfig.self, from: Data(saved.utf8))
        XCTAssertNil(config.generatorKind)
        XCTAssertEqual(config.generator, GeneratorArchitecture(latentSize: 64, baseWidth: 128, minimumWidth: 16, patchSize: 64))
        XCTAssertEqual(try jsonString(config), saved)
    }
}
