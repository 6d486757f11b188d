// Tests of the detector's architecture candidates (residual inputs beside RGB, a full-resolution stem):
// today's files and forward are unchanged, the candidates' FLOP arithmetic, the whole network's input
// gradient against finite differences, model-file round trips, and the 2×2 grid shared by inference
// windows and training crops.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class ArchitectureCandidateTests: XCTestCase {
    static let npr = ResidualInput(kind: .npr), srm = ResidualInput(kind: .srm)
    static let withResiduals = DetectorArchitecture(residualInputs: [npr, srm])
    static let withStem = DetectorArchitecture(stemWidth: 8)
    static let withBoth = DetectorArchitecture(residualInputs: [npr, srm], stemWidth: 8)
    static let withContrast = DetectorArchitecture(residualInputs: [npr, srm, ResidualInput(kind: .contrast)])
    static let withConstrained = DetectorArchitecture(residualInputs: [npr, ResidualInput(kind: .constrained)])

    /// The architecture metadata of Models/unmask-v1.safetensors.
    static let v1Metadata = #"{"inputScale":64,"leakySlope":0.1,"patchSize":64,"widths":[16,32,64],"window":256}"#

    func testStandardMetadataIsUnchangedAndAbsentFieldsDecodeToDefaults() throws {
        let decoder = JSONDecoder()
        XCTAssertEqual(try decoder.decode(DetectorArchitecture.self, from: Data(Self.v1Metadata.utf8)), .standard)
        XCTAssertEqual(try jsonString(DetectorArchitecture.standard), Self.v1Metadata)
        let partial = try decoder.decode(DetectorArchitecture.self, from: Data(#"{"widths":[8,16,32]}"#.utf8))
        XCTAssertEqual(partial, DetectorArchitecture(widths: [8, 16, 32]))
        let text = try jsonString(Self.withBoth)
        XCTAssertTrue(text.contains(#""residualInputs":[{"kind":"npr","scale":256},{"kind":"srm","scale":256}]"#), text)
        XCTAssertTrue(text.contains(#""stemWidth":8"#), text)
        XCTAssertEqual(try decoder.decode(DetectorArchitecture.self, from: Data(text.utf8)), Self.withBoth)
        XCTAssertThrowsError(try DetectorArchitecture(residualInputs: [Self.npr, Self.npr]).validate())
        XCTAssertThrowsError(try DetectorArchitecture(residualInputs: [ResidualInput(kind: .srm, scale: 0)]).validate())
        XCTAssertThrowsError(try DetectorArchitecture(stemWidth: -1).validate())
    }

    func testShippedModelLoadsAsTheStandardArchitectureWithItsMetadata() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("Models/unmask-v1.safetensors").path
        let model = try DetectorModel.load(path: path)
        XCTAssertEqual(model.architecture, .standard)
        XCTAssertNil(model.discriminator.conv0)
        XCTAssertEqual(model.discriminator.conv1.inner.inChannels, 3)
        XCTAssertEqual(try SafeTensorsFile(path: path).metadata["architecture"], Self.v1Metadata)
        XCTAssertEqual(try model.safeTensorsFile().metadata["architecture"], Self.v1Metadata)
    }

    /// The standard network's forward is, bit for bit, inputScale·(x − 0.5) through conv1 … the heads.
    func testStandardForwardIsThePlainConvPath() {
        let d = Discriminator(architecture: .standard, seed: 4)
        d.eval()
        d.attention.gamma.pointer[0] = 0.5
        let x = Tensor(shape: [2, 3, 32, 48])
        var rng = RandomGenerator(seed: 5)
        for i in 0..<x.count { x.pointer[i] = rng.uniform() }
        let (patch, global) = d.forward(x)
        let (patchArray, globalArray) = (patch.array, global.array)
        let scaled = Tensor(shape: x.shape)
        for i in 0..<x.count { scaled.pointer[i] = 64 * (x.pointer[i] - 0.5) }
        var h = d.conv1.forward(scaled)
        for layer in [d.conv2, d.conv3, d.conv4] { h = layer.forward(h) }
        h = d.conv5.forward(d.attention.forward(h))
        XCTAssertEqual(patchArray, d.patchHead.forward(h).array)
        XCTAssertEqual(globalArray, d.globalHead.forward(GlobalAvgPool().forward(h)).array)
    }

    /// Per-pixel FLOPs by hand (Docs/generalization.md): residual inputs cost conv1's six extra input
    /// channels (2·16·6·16/4 = 768) plus their filters and scaling (NPR 3 + 3, SRM 79 + 3); the stem
    /// costs conv0 (2·9·3·8 = 432) and conv1's wider input (2·16·5·16/4 = 640); both, conv0 on nine channels (1296).
    /// The energy contrast after NPR and SRM: conv1's three more channels (384), its SRM (79), 15 per
    /// value for the energies, means and logarithm (45) and its scaling (3). The constrained high-pass
    /// in SRM's place runs all 75 taps instead of SRM's 37: 76 more.
    func testCandidateFLOPs() {
        for (architecture, perPixel) in [
            (DetectorArchitecture.standard, 5224.0), (Self.withResiduals, 6080), (Self.withStem, 6296),
            (Self.withBoth, 7248), (Self.withContrast, 6591), (Self.withConstrained, 6156),
        ] {
            let model = DetectorModel(architecture: architecture, seed: 0)
            XCTAssertEqual(model.discriminator.flopsPerPixel, perPixel, accuracy: 2, "\(architecture)")
            let frame = FrameScorer(model: model).flops(height: 1080, width: 1920)
            // narrow windows have cheaper attention: slightly under the padded frame at the window rate
            XCTAssertLessThan(frame, 1088 * 1920 * perPixel)
            XCTAssertGreaterThan(frame, 1088 * 1920 * (perPixel - 100))
            print(
                String(
                    format: "candidate FLOPs: %.1f per pixel, %.2f GFLOP per 1920×1080 frame: %@", perPixel, frame / 1e9,
                    "\(architecture)"))
        }
    }

    /// dLoss/dImage of the whole network (residual filters, stem, convs, attention at γ = 0.5) against
    /// central differences, L = Σ r ⊙ patch + Σ q ⊙ global in eval mode. Scales 1 and a LeakyReLU
    /// slope of 0.9 keep the kinks the step crosses mild (at slope 0.1, 2–3 of 40 coordinates differ by
    /// 5–20 %, at either step 1e-2 or 1e-3: kinks, not the backward); step 3e-3, rtol 2e-2, atol 1e-3
    /// of the largest analytic gradient. With the energy contrast's channels one of 40 coordinates
    /// differs by 5 % at step 1e-2 and agrees at 3e-3: a kink crossed (the contrast alone matches
    /// PyTorch's gradient and its own finite differences).
    func testWholeNetworkInputGradientMatchesFiniteDifferences() {
        let architecture = DetectorArchitecture(
            widths: [8, 16, 16], patchSize: 32, window: 64, leakySlope: 0.9, inputScale: 1,
            residualInputs: [
                ResidualInput(kind: .npr, scale: 1), ResidualInput(kind: .srm, scale: 1),
                ResidualInput(kind: .contrast, scale: 1),
            ], stemWidth: 4)
        let d = Discriminator(architecture: architecture, seed: 6)
        d.eval()
        d.attention.gamma.pointer[0] = 0.5
        d.needsInputGradient = true
        let x = Tensor(shape: [2, 3, 16, 32])
        var rng = RandomGenerator(seed: 7)
        for i in 0..<x.count { x.pointer[i] = rng.uniform() }
        let (patch, global) = d.forward(x)
        let r = Tensor(shape: patch.shape), q = Tensor(shape: global.shape)
        for t in [r, q] { for i in 0..<t.count { t.pointer[i] = rng.normal() } }
        let analytic = d.backward(dPatch: r, dGlobal: q).copy()
        XCTAssertEqual(analytic.shape, x.shape)
        func loss() -> Double {
            let (p, g) = d.forward(x)
            var s = 0.0
            for i in 0..<p.count { s += Double(p.pointer[i]) * Double(r.pointer[i]) }
            for i in 0..<g.count { s += Double(g.pointer[i]) * Double(q.pointer[i]) }
            return s
        }
        let largest = analytic.array.map { abs(Double($0)) }.max() ?? 0
        XCTAssertGreaterThan(largest, 0)
        let step: Float = 3e-3
        var failures = 0
        for _ in 0..<40 {
            let i = Int(rng.next() % UInt64(x.count)), original = x.pointer[i]
            x.pointer[i] = original + step
            let plus = loss()
            x.pointer[i] = original - step
            let minus = loss()
            x.pointer[i] = original
            let numeric = (plus - minus) / Double(2 * step), a = Double(analytic.pointer[i])
            if abs(a - numeric) > 1e-3 * largest + 2e-2 * max(abs(a), abs(numeric)) {
                failures += 1
                XCTFail("dImage[\(i)]: analytic \(a), numeric \(numeric)")
            }
        }
        XCTAssertEqual(failures, 0)
        d.needsInputGradient = false
        _ = d.forward(x)
        XCTAssertEqual(d.backward(dPatch: r, dGlobal: q).count, 0)
    }

    /// The constrained high-pass starts as SRM: the same seed gives the same convolutions as with `srm`
    /// and, to rounding, the same residual. Its weight is a parameter of the network
    /// ("constrained.weight"), gets a gradient when the image's is not wanted (detector-only steps), and
    /// after Adam steps its kernels have moved and still sum to zero at SRM's norms. A model file keeps
    /// the learned weight.
    func testConstrainedInputStartsAsSRMLearnsAndKeepsItsConstraint() throws {
        let withSRM = Discriminator(architecture: Self.withResiduals, seed: 3)
        let d = Discriminator(architecture: Self.withConstrained, seed: 3)
        let srmState = withSRM.stateDictionary(), state = d.stateDictionary()
        XCTAssertEqual(Set(state.keys), Set(srmState.keys).union(["constrained.weight"]))
        for (key, value) in srmState { XCTAssertEqual(state[key]?.array, value.array, key) }
        let layer = try XCTUnwrap(d.children.first { $0.0 == "constrained" }?.1 as? ConstrainedHighPass)
        let x = Tensor(shape: [2, 3, 64, 64])
        var rng = RandomGenerator(seed: 4)
        for i in 0..<x.count { x.pointer[i] = rng.uniform() }
        let expected = SRMResidual().forward(x).array, start = layer.forward(x).array
        let largest = expected.map(abs).max() ?? 0
        XCTAssertGreaterThan(largest, 0)
        // The effective kernels are SRM's to a few roundings each (a mean, a norm, a quotient), over 25
        // taps of pixels in 0…1: far under 1e-5 of the largest residual.
        for (a, b) in zip(start, expected) { XCTAssertEqual(a, b, accuracy: 1e-5 * largest) }

        d.train()
        d.needsInputGradient = false
        let adam = Adam(module: d, learningRate: 1e-2)
        let before = layer.effectiveKernels()
        for _ in 0..<3 {
            adam.zeroGradients()
            let (patch, global) = d.forward(x)
            let dPatch = Tensor(shape: patch.shape, repeating: 1), dGlobal = Tensor(shape: global.shape, repeating: 1)
            XCTAssertEqual(d.backward(dPatch: dPatch, dGlobal: dGlobal).count, 0, "an image gradient nobody asked for")
            XCTAssertGreaterThan(layer.dWeight.array.map(abs).max() ?? 0, 0, "the constrained weight got no gradient")
            adam.step()
        }
        let after = layer.effectiveKernels()
        var moved: Float = 0
        for k in 0..<3 {
            moved = max(moved, zip(after[k], before[k]).map { abs($0 - $1) }.max() ?? 0)
            XCTAssertEqual(after[k].reduce(0, +), 0, accuracy: 1e-5, "kernel \(k) no longer sums to zero")
            XCTAssertEqual(after[k].reduce(0) { $0 + $1 * $1 }.squareRoot(), ConstrainedHighPass.norms[k], accuracy: 1e-5)
        }
        XCTAssertGreaterThan(moved, 1e-3, "three Adam steps at 1e-2 left the kernels where they were")

        let folder = temporaryFolder("constrained")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let model = DetectorModel(discriminator: d)
        try model.save(to: folder + "/m.safetensors")
        let loaded = try DetectorModel.load(path: folder + "/m.safetensors")
        XCTAssertEqual(loaded.architecture, Self.withConstrained)
        let reloaded = try XCTUnwrap(loaded.discriminator.children.first { $0.0 == "constrained" }?.1 as? ConstrainedHighPass)
        XCTAssertEqual(reloaded.weight.array, layer.weight.array)
        let image = TestSupport.texture(width: 120, height: 90, seed: 5)
        XCTAssertEqual(
            try FrameScorer(model: model).score(image).logits.values, try FrameScorer(model: loaded).score(image).logits.values)
    }

    func testCandidateModelFileRoundTripGivesIdenticalScoresAndChecksTheArchitecture() throws {
        let folder = temporaryFolder("candidate")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let model = DetectorModel(architecture: Self.withBoth, seed: 8)
        model.discriminator.attention.gamma.pointer[0] = 0.5
        XCTAssertEqual(model.discriminator.conv0?.inner.inChannels, 9)
        XCTAssertEqual(model.discriminator.conv1.inner.inChannels, 8)
        let path = folder + "/m.safetensors"
        try model.save(to: path)
        let loaded = try DetectorModel.load(path: path)
        XCTAssertEqual(loaded.architecture, Self.withBoth)
        let image = TestSupport.texture(width: 200, height: 150, seed: 3)
        XCTAssertEqual(
            try FrameScorer(model: model).score(image).logits.values, try FrameScorer(model: loaded).score(image).logits.values)
        XCTAssertThrowsError(try DetectorModel.load(path: path, expecting: .standard)) { e in
            XCTAssertTrue("\(e)".contains("m.safetensors"), "\(e)")
        }
    }

    /// NPR's 2×2 blocks start at the network input's origin, so inference windows and training crops
    /// must both start at even frame coordinates for the residual to see the frame's own grid.
    func testWindowsAndTrainingCropsStartOnTheFramesTwoByTwoGrid() {
        for (w, h) in [(1920, 1080), (600, 330), (1279, 719), (97, 61)] {
            let tiling = FrameTiling(height: h, width: w, architecture: Self.withBoth)
            XCTAssertTrue(tiling.windows.allSatisfy { $0.x % 16 == 0 && $0.y % 16 == 0 }, "\(w)×\(h)")
        }
        // A frame whose red marks odd columns and green odd rows: a crop's first pixel shows its origin's parity.
        for (w, h) in [(101, 77), (96, 96), (131, 64)] {
            var image = RGBImage(width: w, height: h)
            for y in 0..<h {
                for x in 0..<w {
                    image.pixels[y * w + x] = Float(x % 2)
                    image.pixels[w * h + y * w + x] = Float(y % 2)
                    image.pixels[2 * w * h + y * w + x] = Float((x * 7 + y * 3) % 11) / 10
                }
            }
            let frame = StoredFrame(image)
            var rng = RandomGenerator(seed: 9)
            var origins = Set<Int>()
            for _ in 0..<40 {
                let patch = PatchOps.texturedCrop(frame, size: 32, minimumEnergy: 0, rng: &rng)
                XCTAssertEqual(patch.pixels[0], 0, "crop of a \(w)×\(h) frame starts at an odd column")
                XCTAssertEqual(patch.pixels[32 * 32], 0, "crop of a \(w)×\(h) frame starts at an odd row")
                origins.insert(Int(patch.pixels[2 * 32 * 32] * 10))
            }
            XCTAssertGreaterThan(origins.count, 1, "crops of a \(w)×\(h) frame do not move")
        }
    }

    /// A candidate reaches the trainer through TrainingConfig.discriminator: steps run with finite
    /// losses (the generator step back-propagates through the residual filters and the stem), the
    /// constrained filter learns, and the checkpoint resumes with its weights and loads as a model with
    /// that architecture.
    func testTrainerTrainsAndResumesACandidate() throws {
        var config = TestSupport.tinyConfig(seed: 12)
        config.discriminator.residualInputs = [Self.npr, Self.srm, ResidualInput(kind: .constrained)]
        config.discriminator.stemWidth = 4
        let data = TestSupport.syntheticData(files: 3, size: 64)
        let folder = temporaryFolder("candidate-train")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let trainer = try Trainer(config: config, data: data)
        var losses: [Float] = [], rollbacks = 0
        trainer.observer = { event in
            if case .step(let s) = event { losses += [s.discriminatorLoss] + (s.generatorLoss.map { [$0] } ?? []) }
            if case .rollback = event { rollbacks += 1 }
        }
        trainer.train(steps: 4)  // crosses a generator step
        XCTAssertGreaterThan(losses.count, 4, "no generator step ran")
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        XCTAssertEqual(rollbacks, 0)
        let learned = try XCTUnwrap(trainer.discriminator.stateDictionary()["constrained.weight"]).array
        XCTAssertNotEqual(learned, SRMResidual.kernels.flatMap { $0 }, "the constrained filter did not learn")
        try trainer.saveCheckpoint(to: folder + "/c.safetensors")
        let resumed = try Trainer(resumingFrom: folder + "/c.safetensors", data: data)
        XCTAssertEqual(resumed.config.discriminator, config.discriminator)
        XCTAssertEqual(resumed.discriminator.stateDictionary()["constrained.weight"]?.array, learned)
        let model = try DetectorModel.load(path: folder + "/c.safetensors", allowCheckpoint: true)
        XCTAssertEqual(model.architecture, config.discriminator)
        XCTAssertEqual(model.discriminator.conv0?.inner.outChannels, 4)
    }
}
