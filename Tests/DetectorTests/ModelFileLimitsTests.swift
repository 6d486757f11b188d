// Hostile model files and checkpoints: architecture and configuration sizes are bounded before anything
// is allocated, and a model with non-finite weights, a constant output or a threshold outside 0…1 is
// refused at load with an error naming the file.
import Foundation
import NeuralNet
import XCTest

@testable import Detector

final class ModelFileLimitsTests: XCTestCase {
    var folder = ""

    override func setUp() {
        folder = temporaryFolder("model-limits-\(name.filter(\.isLetter))")
    }

    /// Saves the standard untrained model with `edit` applied to its safetensors file.
    func modelFile(_ name: String, edit: (inout SafeTensorsFile) throws -> Void) throws -> String {
        var file = try DetectorModel(architecture: .standard, seed: 3).safeTensorsFile()
        try edit(&file)
        let path = folder + "/" + name
        try file.write(toPath: path)
        return path
    }

    /// Asserts that loading `path` fails with a model-file error naming it whose reason contains `cause`.
    func assertRefused(
        _ path: String, cause: String, allowCheckpoint: Bool = false, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try DetectorModel.load(path: path, allowCheckpoint: allowCheckpoint), file: file, line: line) {
            guard case .modelFile(let errorPath, let reason)? = $0 as? DetectorError else {
                return XCTFail("not a model-file error: \($0)", file: file, line: line)
            }
            XCTAssertEqual(errorPath, path, file: file, line: line)
            XCTAssertTrue(reason.contains(cause), "reason: \(reason)", file: file, line: line)
        }
    }

    func testArchitectureSizesAreBounded() throws {
        XCTAssertNoThrow(try DetectorArchitecture.standard.validate())
        XCTAssertLessThan(
            DetectorArchitecture.standard.estimatedForwardBytes(side: 256), 64 * 1_048_576,
            "the standard window estimates ≈ 60 MiB")
        for bad in [
            DetectorArchitecture(widths: [100_000, 200_000, 400_000]),
            DetectorArchitecture(window: 65_536),
            DetectorArchitecture(window: 1_000_000_000),
            DetectorArchitecture(patchSize: 1024),
            DetectorArchitecture(stemWidth: 4096),
            // Within every per-field bound, but one window's attention matrix alone is 1 GiB.
            DetectorArchitecture(window: 1024),
        ] {
            XCTAssertThrowsError(try bad.validate(), "\(bad)")
        }
        XCTAssertNoThrow(try DetectorArchitecture(window: 512).validate())
    }

    func testHugeArchitectureInAModelFileIsRefusedBeforeAllocating() throws {
        for (name, architecture) in [
            ("widths", #"{"widths":[100000,200000,400000],"patchSize":64,"window":256,"leakySlope":0.1,"inputScale":64}"#),
            ("window", #"{"widths":[16,32,64],"patchSize":64,"window":65536,"leakySlope":0.1,"inputScale":64}"#),
            ("billion", #"{"widths":[16,32,64],"patchSize":64,"window":1000000000,"leakySlope":0.1,"inputScale":64}"#),
        ] {
            let path = try modelFile("\(name).safetensors") { $0.metadata["architecture"] = architecture }
            assertRefused(path, cause: "architecture metadata")
        }
    }

    func testCheckpointConfigurationSizesAreBounded() throws {
        XCTAssertNoThrow(try TrainingConfig().validate())
        var configs: [TrainingConfig] = []
        var c = TrainingConfig()
        c.validationPatches = 1_000_000_000
        configs.append(c)
        c = TrainingConfig()
        c.realPerBatch = 1_000_000_000
        configs.append(c)
        c = TrainingConfig()
        c.discriminator.window = 65_536
        configs.append(c)
        c = TrainingConfig()
        c.augmentation.resizeRange = 0.7...1e6
        configs.append(c)
        // Every count within its own bound, together about 96 GiB of validation patches at 512 pixels.
        c = TrainingConfig(
            discriminator: DetectorArchitecture(patchSize: 512, window: 512),
            generator: GeneratorArchitecture(patchSize: 512), validationPatches: 8192)
        configs.append(c)
        var nonFinite = TrainingConfig()
        nonFinite.learningRateD = .nan
        XCTAssertThrowsError(try nonFinite.validate())
        nonFinite = TrainingConfig()
        nonFinite.learningRateG = .infinity
        XCTAssertThrowsError(try nonFinite.validate())
        for config in configs {
            XCTAssertThrowsError(try config.validate(), "\(config)")
        }

        // A checkpoint declaring such a configuration: both loaders refuse it, naming the file.
        for (index, config) in configs.enumerated() {
            let path = folder + "/checkpoint\(index).safetensors"
            let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
            try SafeTensorsFile(metadata: ["format": Trainer.checkpointFormat, "config": json]).write(toPath: path)
            assertRefused(path, cause: "checkpoint configuration", allowCheckpoint: true)
            XCTAssertThrowsError(try Trainer(resumingFrom: path, data: TestSupport.syntheticData(files: 2, size: 64))) {
                guard case .modelFile(let errorPath, _)? = $0 as? DetectorError else { return XCTFail("\($0)") }
                XCTAssertEqual(errorPath, path)
            }
        }
    }

    func testNonFiniteWeightsAreRefused() throws {
        for (name, value) in [("nan", Float.nan), ("inf", Float.infinity)] {
            let path = try modelFile("\(name).safetensors") { file in
                let weight = try file.array(named: "conv2.weight")
                file["conv2.weight"] = try SafeTensorsArray(
                    shape: weight.shape, floats: [value] + Array(repeating: 0.01, count: weight.shape.reduce(1, *) - 1))
            }
            assertRefused(path, cause: "non-finite")
        }
    }

    /// The learned residual filter's weight is read like any other: missing, mis-shaped or non-finite,
    /// the file is refused naming it. A row whose entries are all equal has no high-pass direction and
    /// gives an all-zero kernel; a row of values near Float's largest is normalized without overflow.
    /// Either way the file loads and scores finitely.
    func testConstrainedFilterWeightsAreChecked() throws {
        let architecture = DetectorArchitecture(residualInputs: [ResidualInput(kind: .constrained)])
        func constrainedFile(_ name: String, _ weight: SafeTensorsArray?) throws -> String {
            var file = try DetectorModel(architecture: architecture, seed: 3).safeTensorsFile()
            file["constrained.weight"] = weight
            let path = folder + "/" + name
            try file.write(toPath: path)
            return path
        }
        assertRefused(try constrainedFile("missing.safetensors", nil), cause: "constrained.weight")
        let short = try SafeTensorsArray(shape: [3, 24], floats: Array(repeating: 0.1, count: 72))
        assertRefused(try constrainedFile("short.safetensors", short), cause: "constrained.weight")
        let nan = try SafeTensorsArray(shape: [3, 25], floats: [.nan] + Array(repeating: 0.1, count: 74))
        assertRefused(try constrainedFile("nan.safetensors", nan), cause: "non-finite")
        let degenerate: [Float] =
            Array(repeating: 0.5, count: 25) + Array(repeating: 1e30, count: 25)
            + (0..<25).map { Float($0 % 5) * 3e37 }
        let path = try constrainedFile("degenerate.safetensors", try SafeTensorsArray(shape: [3, 25], floats: degenerate))
        let model = try DetectorModel.load(path: path)
        let layer = try XCTUnwrap(model.discriminator.children.first { $0.0 == "constrained" }?.1 as? ConstrainedHighPass)
        let kernels = layer.effectiveKernels()
        XCTAssertEqual(kernels[0] + kernels[1], Array(repeating: 0, count: 50))
        XCTAssertEqual(kernels[2].reduce(0, +), 0, accuracy: 1e-6)
        XCTAssertEqual(kernels[2].reduce(0) { $0 + $1 * $1 }.squareRoot(), ConstrainedHighPass.norms[2], accuracy: 1e-6)
        let score = try FrameScorer(model: model).score(TestSupport.texture(width: 80, height: 64, seed: 2))
        XCTAssertTrue(score.logits.values.allSatisfy(\.isFinite))
    }

    func testAModelWhoseOutputIsConstantIsRefused() throws {
        // conv5's output channel 0 is its bias alone (constant 1 after LeakyReLU) and the patch head
        // reads only that channel, so every patch logit is the same, whatever the image.
        let model = DetectorModel(architecture: .standard, seed: 3)
        var state = model.discriminator.stateDictionary()
        let conv5 = try XCTUnwrap(state["conv5.weight"]), conv5Bias = try XCTUnwrap(state["conv5.bias"])
        let fanIn = conv5.count / conv5.shape[0]
        for i in 0..<fanIn { conv5.pointer[i] = 0 }
        conv5Bias.pointer[0] = 1
        let head = try XCTUnwrap(state["patch_head.weight"])
        for i in 0..<head.count { head.pointer[i] = i == 0 ? 1 : 0 }
        state["conv5.weight"] = conv5
        state["conv5.bias"] = conv5Bias
        state["patch_head.weight"] = head
        try model.discriminator.load(stateDictionary: state)
        let path = folder + "/constant.safetensors"
        try model.save(to: path)
        assertRefused(path, cause: "same output")

        // The same file with the untouched weights loads.
        let healthy = folder + "/healthy.safetensors"
        try DetectorModel(architecture: .standard, seed: 3).save(to: healthy)
        XCTAssertNoThrow(try DetectorModel.load(path: healthy))
    }

    func testThresholdOutsideZeroToOneIsRefused() throws {
        for threshold in ["2", "-1", "nan"] {
            let path = try modelFile("threshold\(threshold).safetensors") { $0.metadata["threshold"] = threshold }
            assertRefused(path, cause: "'threshold'")
        }
    }
}
