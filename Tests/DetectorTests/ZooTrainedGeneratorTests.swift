// Tests of the zoo's trained-generator families, with tiny generator files made here (not the committed
// ones): each family fills exactly its mask's box (32 px, 256 px and whole frames) and changes nothing
// outside the mask, fakes are reproducible from a seed, the folder loader names families and groups
// as the built-ins are named, and damaged, truncated, oversized or misnamed files are refused by name.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class ZooTrainedGeneratorTests: XCTestCase {
    private static let autoencoderUpsamplers: [DecoderUpsampler] = [.nearest, .bilinear, .pixelShuffle, .transposedConv]
    private static let tinyGenerator = GeneratorArchitecture(latentSize: 8, baseWidth: 8, minimumWidth: 8, patchSize: 16)

    private static func tinyAutoencoder(_ upsampler: DecoderUpsampler, seed: UInt64 = 5) -> RegionAutoencoder {
        RegionAutoencoder(
            architecture: AutoencoderArchitecture(upsampler: upsampler, width: 4, bottleneckChannels: 2), seed: seed)
    }

    private static func tinyVAE() -> VAE {
        VAE(architecture: VAEArchitecture(latentSize: 4, widths: [4, 4, 4], patchSize: 16, adversarialWeight: 0))
    }

    /// A folder with every trained-generator file, each a tiny untrained network.
    private func tinyGeneratorFolder(_ name: String) throws -> String {
        let folder = temporaryFolder(name)
        for upsampler in Self.autoencoderUpsamplers {
            try ZooGeneratorFile.save(
                Self.tinyAutoencoder(upsampler), training: nil,
                to: folder + "/" + AutoencoderFamily.name(of: upsampler) + ".safetensors")
        }
        try ZooGeneratorFile.save(Self.tinyVAE(), training: nil, to: folder + "/vae.safetensors")
        for kind in GeneratorKind.allCases {
            try GeneratorFile.save(
                kind.make(architecture: Self.tinyGenerator, seed: 3),
                to: folder + "/" + AdversarialFamily.name(of: kind) + ".safetensors")
        }
        return folder
    }

    private func trainedFamilies() throws -> [any FakeFamily] {
        try FakeZoo.trainedGeneratorFamilies(in: tinyGeneratorFolder("families"))
    }

    private func frame(_ width: Int, _ height: Int, seed: UInt64) -> RGBImage {
        TestSupport.texture(width: width, height: height, seed: seed)
    }

    private func options(side: Int) -> ZooOptions {
        var options = ZooOptions()
        options.mask.side = side...side
        return options
    }

    // MARK: Families

    func testTheFolderGivesEveryTrainedFamilyUnderItsGroup() throws {
        let zoo = try FakeZoo.standard(trainedGenerators: tinyGeneratorFolder("zoo"))
        let expected: [(String, String)] = [
            ("autoencoder-nearest", "autoencoder"), ("autoencoder-bilinear", "autoencoder"),
            ("autoencoder-pixelshuffle", "autoencoder"), ("autoencoder-transposed-conv", "autoencoder"),
            ("vae-reconstruction", "vae"), ("vae-sample", "vae"),
            ("gan-upsampling", "adversarial"), ("gan-transposed-conv", "adversarial"),
        ]
        XCTAssertEqual(Array(zoo.names.prefix(FakeZoo.standard().names.count)), FakeZoo.standard().names)
        for (name, group) in expected { XCTAssertEqual(try zoo.family(named: name).group, group, name) }
        XCTAssertEqual(zoo.families.count, FakeZoo.standard().families.count + expected.count)
        XCTAssertEqual(try zoo.selecting(["vae"]).names, ["vae-reconstruction", "vae-sample"])
        XCTAssertEqual(try zoo.excluding(["autoencoder", "adversarial", "vae"]).names, FakeZoo.standard().names)
        XCTAssertThrowsError(try zoo.addingTrainedGenerators(in: tinyGeneratorFolder("again"))) {
            XCTAssertEqual($0 as? FakeZooError, .duplicateFamily("autoencoder-nearest"))
        }
    }

    func testEveryTrainedFamilyFillsItsBoxAndChangesNothingOutsideTheMask() throws {
        for family in try trainedFamilies() {
            for (side, size, seeds) in [(32, (96, 80), [UInt64(1), 2]), (256, (300, 270), [3])] {
                for seed in seeds {
                    let real = frame(size.0, size.1, seed: seed + 20)
                    let fake = try family.makeFake(real: real, seed: seed, options: options(side: side))
                    let label = "\(family.name) side \(side) seed \(seed) \(fake.parameters)"
                    XCTAssertEqual(fake.mask.box.width, side, label)
                    XCTAssertEqual(fake.mask.box.height, side, label)
                    XCTAssertEqual(fake.group, family.group, label)
                    let n = real.planeCount
                    var outside = 0, inside: Float = 0, insideCount = 0
                    for i in 0..<n {
                        for c in 0..<3 {
                            let change = abs(fake.image.pixels[c * n + i] - real.pixels[c * n + i])
                            if fake.mask.values[i] == 0 && change != 0 { outside += 1 }
                            if fake.mask.values[i] >= 0.5 { inside += change; insideCount += 1 }
                        }
                    }
                    XCTAssertEqual(outside, 0, "changed outside the mask: \(label)")
                    XCTAssertGreaterThan(inside / Float(max(insideCount, 1)), 0.002, "no change inside: \(label)")
                    XCTAssertTrue(fake.image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, label)
                }
            }
        }
    }

    func testWholeFramesLargerThanOneWindowComeOutAtTheFrameSize() throws {
        // 300×270 needs two autoencoder windows per side and a mosaic of 19×17 VAE/GAN tiles.
        let real = frame(300, 270, seed: 4)
        for family in try trainedFamilies() {
            var rng = RandomGenerator(seed: 9)
            let synthesis = try family.synthesize(
                frame: real, donor: nil, mask: .wholeFrame(width: 300, height: 270), rng: &rng)
            XCTAssertEqual(synthesis.patch.width, 300, family.name)
            XCTAssertEqual(synthesis.patch.height, 270, family.name)
            XCTAssertEqual(synthesis.patch.pixels.count, 3 * 300 * 270, family.name)
            XCTAssertTrue(synthesis.patch.pixels.allSatisfy(\.isFinite), family.name)
        }
    }

    func testSameSeedGivesTheSameBytesAndAnotherSeedOthers() throws {
        let real = frame(120, 100, seed: 7)
        for family in try trainedFamilies() {
            let a = try family.makeFake(real: real, seed: 31), b = try family.makeFake(real: real, seed: 31)
            let c = try family.makeFake(real: real, seed: 32)
            XCTAssertEqual(a.image, b.image, family.name)
            XCTAssertEqual(a.parameters, b.parameters, family.name)
            XCTAssertNotEqual(a.image, c.image, family.name)
        }
        // A family loaded again from its file makes the same fake as the first one.
        let folder = try tinyGeneratorFolder("reload")
        let first = try FakeZoo.trainedGeneratorFamilies(in: folder), second = try FakeZoo.trainedGeneratorFamilies(in: folder)
        for (x, y) in zip(first, second) {
            XCTAssertEqual(try x.makeFake(real: real, seed: 8).image, try y.makeFake(real: real, seed: 8).image, x.name)
        }
    }

    func testAutoencodersDifferByUpsamplerAndFactorFollowsTheSeed() throws {
        let real = frame(96, 96, seed: 2)
        let images = try Self.autoencoderUpsamplers.map {
            try AutoencoderFamily(autoencoder: Self.tinyAutoencoder($0)).makeFake(real: real, seed: 5).image
        }
        for i in 0..<images.count { for j in (i + 1)..<images.count { XCTAssertNotEqual(images[i], images[j]) } }
        let family = AutoencoderFamily(autoencoder: Self.tinyAutoencoder(.nearest))
        let factors = Set(try (0..<24).map { try family.makeFake(real: real, seed: $0).parameters["factor"] ?? "" })
        XCTAssertEqual(factors, ["4", "8", "16"])
    }

    func testTheCommittedGeneratorFilesGiveEveryTrainedFamily() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Models/zoo")
            .standardized.path
        let zoo = try FakeZoo.standard(trainedGenerators: folder)
        let trained = try zoo.selecting(["autoencoder", "vae", "adversarial"])
        XCTAssertEqual(
            trained.names,
            [
                "autoencoder-nearest", "autoencoder-bilinear", "autoencoder-pixelshuffle", "vae-reconstruction", "vae-sample",
                "gan-upsampling", "gan-transposed-conv",
            ])
        let real = frame(96, 80, seed: 3)
        for family in trained.families {
            let fake = try family.makeFake(real: real, seed: 4, options: options(side: 48))
            XCTAssertEqual(fake.mask.box.width, 48, family.name)
            XCTAssertNotEqual(fake.image, real, family.name)
        }
    }

    // MARK: Files

    private func assertRefused(_ path: String, _ load: () throws -> Any, _ reason: String, line: UInt = #line) {
        XCTAssertThrowsError(try load(), reason, line: line) { error in
            guard case .modelFile(let named, let why) = error as? DetectorError else {
                return XCTFail("\(reason): \(error)", line: line)
            }
            XCTAssertEqual(named, path, reason, line: line)
            XCTAssertTrue("\(error)".contains(path), "\(reason): \(error)", line: line)
            XCTAssertFalse(why.isEmpty, line: line)
        }
    }

    func testDamagedTruncatedAndMissingFilesAreRefusedByName() throws {
        let folder = try tinyGeneratorFolder("damaged")
        let good = folder + "/autoencoder-nearest.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let truncated = folder + "/truncated.bin", garbage = folder + "/garbage.bin", missing = folder + "/none.bin"
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: truncated))
        try Data((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: URL(fileURLWithPath: garbage))
        for path in [truncated, garbage, missing] {
            assertRefused(path, { try ZooGeneratorFile.loadAutoencoder(path: path) }, "autoencoder \(path)")
            assertRefused(path, { try ZooGeneratorFile.loadVAE(path: path) }, "VAE \(path)")
            assertRefused(path, { try AdversarialFamily(path: path) }, "GAN \(path)")
        }
        // A file of the other kind.
        assertRefused(good, { try ZooGeneratorFile.loadVAE(path: good) }, "autoencoder loaded as a VAE")
    }

    func testOversizedCountsInAFileAreRefusedBeforeAllocating() throws {
        let folder = try tinyGeneratorFolder("oversized")
        func rewrite(_ name: String, _ key: String, _ text: String) throws -> String {
            var file = try SafeTensorsFile(path: folder + "/" + name)
            file.metadata[key] = text
            let path = folder + "/oversized-" + name
            try file.write(toPath: path)
            return path
        }
        let autoencoder = try rewrite(
            "autoencoder-nearest.safetensors", "architecture",
            #"{"upsampler":"nearest","width":1000000000,"bottleneckChannels":2,"minimumStages":2,"maximumStages":4}"#)
        assertRefused(autoencoder, { try ZooGeneratorFile.loadAutoencoder(path: autoencoder) }, "autoencoder width")
        let deep = try rewrite(
            "autoencoder-nearest.safetensors", "architecture",
            #"{"upsampler":"nearest","width":4,"bottleneckChannels":2,"minimumStages":2,"maximumStages":60}"#)
        assertRefused(deep, { try ZooGeneratorFile.loadAutoencoder(path: deep) }, "autoencoder stages")
        let vae = try rewrite(
            "vae.safetensors", "architecture",
            #"{"latentSize":1000,"widths":[4,4,250],"patchSize":256,"klWeight":0.001,"adversarialWeight":0}"#)
        assertRefused(vae, { try ZooGeneratorFile.loadVAE(path: vae) }, "VAE linear layer of 1000 × 250·32²")
        let gan = try rewrite(
            "gan-upsampling.safetensors", "architecture",
            #"{"latentSize":8,"baseWidth":100000000,"minimumWidth":8,"patchSize":16}"#)
        assertRefused(gan, { try AdversarialFamily(path: gan) }, "GAN base width")
        let weights = try rewrite(
            "autoencoder-nearest.safetensors", "architecture",
            #"{"upsampler":"nearest","width":5,"bottleneckChannels":2,"minimumStages":2,"maximumStages":4}"#)
        assertRefused(weights, { try ZooGeneratorFile.loadAutoencoder(path: weights) }, "weights of another width")
    }

    func testTheFolderLoaderRefusesMissingFoldersStrayNamesAndMisnamedFiles() throws {
        let missing = temporaryFolder("gone") + "/nothing"
        assertRefused(missing, { try FakeZoo.trainedGeneratorFamilies(in: missing) }, "missing folder")
        let empty = temporaryFolder("empty")
        assertRefused(empty, { try FakeZoo.trainedGeneratorFamilies(in: empty) }, "no generator files")

        let stray = try tinyGeneratorFolder("stray")
        try FileManager.default.copyItem(atPath: stray + "/vae.safetensors", toPath: stray + "/vae-old.safetensors")
        assertRefused(
            stray + "/vae-old.safetensors", { try FakeZoo.trainedGeneratorFamilies(in: stray) }, "stray file name")

        let misnamed = temporaryFolder("misnamed")
        try ZooGeneratorFile.save(
            Self.tinyAutoencoder(.bilinear), training: nil, to: misnamed + "/autoencoder-nearest.safetensors")
        assertRefused(
            misnamed + "/autoencoder-nearest.safetensors", { try FakeZoo.trainedGeneratorFamilies(in: misnamed) },
            "bilinear autoencoder named nearest")
        let ganMisnamed = temporaryFolder("gan-misnamed")
        try GeneratorFile.save(
            TransposedConvGenerator(architecture: Self.tinyGenerator), to: ganMisnamed + "/gan-upsampling.safetensors")
        assertRefused(
            ganMisnamed + "/gan-upsampling.safetensors", { try FakeZoo.trainedGeneratorFamilies(in: ganMisnamed) },
            "transposed-conv generator named upsampling")
    }

    func testInstanceFileNamesParseAndOthersDoNot() {
        XCTAssertEqual(TrainedGeneratorFile.parse(fileName: "vae.safetensors")?.file, .vae)
        XCTAssertNil(TrainedGeneratorFile.parse(fileName: "vae.safetensors")?.tag)
        let instance = TrainedGeneratorFile.parse(fileName: "gan-upsampling.seed_2-b.safetensors")
        XCTAssertEqual(instance?.file, .ganUpsampling)
        XCTAssertEqual(instance?.tag, "seed_2-b")
        for name in [
            "vae-old.safetensors", "gan-upsampling..safetensors", "gan-upsampling.a.b.safetensors",
            "gan-upsampling.bad tag.safetensors", "gan-upsampling.s2.bin", ".safetensors", "gan.s2.safetensors",
            "gan-upsampling." + String(repeating: "x", count: 65) + ".safetensors",
        ] {
            XCTAssertNil(TrainedGeneratorFile.parse(fileName: name), name)
        }
    }

    func testSeveralFilesOfOneFamilyAreOneFamilyDrawingAnInstancePerFake() throws {
        let folder = try tinyGeneratorFolder("instances")
        try GeneratorFile.save(
            GeneratorKind.upsampling.make(architecture: Self.tinyGenerator, seed: 44),
            to: folder + "/gan-upsampling.s44.safetensors")
        try ZooGeneratorFile.save(
            VAE(architecture: VAEArchitecture(latentSize: 4, widths: [4, 4, 4], patchSize: 16, adversarialWeight: 0), seed: 8),
            training: nil, to: folder + "/vae.b.safetensors")
        let families = try FakeZoo.trainedGeneratorFamilies(in: folder)
        // Names stay unique and in the single-file order, so the zoo and its groups are unchanged.
        XCTAssertEqual(families.map(\.name), try trainedFamilies().map(\.name))
        let gan = try XCTUnwrap(families.first { $0.name == "gan-upsampling" } as? GeneratorInstances)
        XCTAssertEqual(gan.instances.map(\.file), ["gan-upsampling", "gan-upsampling.s44"])
        XCTAssertEqual(gan.group, "adversarial")
        for name in ["vae-reconstruction", "vae-sample"] {
            let vae = try XCTUnwrap(families.first { $0.name == name } as? GeneratorInstances, name)
            XCTAssertEqual(vae.instances.map(\.file), ["vae", "vae.b"], name)
        }
        XCTAssertFalse(families.first { $0.name == "gan-transposed-conv" } is GeneratorInstances)

        // Each fake is the chosen instance's own synthesis after one draw, reproducible from its seed,
        // and both instances are drawn.
        let real = frame(96, 80, seed: 5)
        var seen = Set<String>()
        for seed in UInt64(1)...16 {
            let fake = try gan.makeFake(real: real, seed: seed, options: options(side: 48))
            XCTAssertEqual(fake.image, try gan.makeFake(real: real, seed: seed, options: options(side: 48)).image)
            seen.insert(try XCTUnwrap(fake.parameters["instance"]))

            var rng = RandomGenerator(seed: seed), copy = rng
            let mask = RegionMask.wholeFrame(width: 96, height: 80)
            let drawn = try gan.synthesize(frame: real, donor: nil, mask: mask, rng: &rng)
            let index = Int(copy.next() % 2)
            let own = try gan.instances[index].family.synthesize(frame: real, donor: nil, mask: mask, rng: &copy)
            XCTAssertEqual(drawn.patch, own.patch, "seed \(seed)")
            XCTAssertEqual(drawn.parameters["instance"], gan.instances[index].file)
        }
        XCTAssertEqual(seen, ["gan-upsampling", "gan-upsampling.s44"])
    }

    func testInstanceFilesOfAnotherKindOrNameAreRefusedByName() throws {
        let wrongKind = try tinyGeneratorFolder("instance-kind")
        try GeneratorFile.save(
            TransposedConvGenerator(architecture: Self.tinyGenerator), to: wrongKind + "/gan-upsampling.s2.safetensors")
        assertRefused(
            wrongKind + "/gan-upsampling.s2.safetensors", { try FakeZoo.trainedGeneratorFamilies(in: wrongKind) },
            "transposed-conv generator as an upsampling instance")
        // More instances than the bound are refused by folder before any is loaded (empty files here).
        let many = try tinyGeneratorFolder("instance-count")
        for i in 1...FakeZoo.maximumInstances {
            XCTAssertTrue(FileManager.default.createFile(atPath: many + "/vae.i\(i).safetensors", contents: Data()))
        }
        assertRefused(many, { try FakeZoo.trainedGeneratorFamilies(in: many) }, "65 VAE files")
        for name in ["gan-upsampling.a.b.safetensors", "gan-upsampling..safetensors", "vae.bad tag.safetensors"] {
            let stray = try tinyGeneratorFolder("instance-stray")
            try FileManager.default.copyItem(atPath: stray + "/gan-upsampling.safetensors", toPath: stray + "/" + name)
            assertRefused(stray + "/" + name, { try FakeZoo.trainedGeneratorFamilies(in: stray) }, name)
        }
    }

    func testSaveAndLoadKeepEveryWeightAndTheTrainingSummary() throws {
        let folder = temporaryFolder("roundtrip")
        let summary = ZooTrainingSummary(
            steps: 3, seconds: 1.5, seed: 9, batchSize: 2, patchSize: 16, finalL1: 0.25, frames: 4)
        let autoencoder = Self.tinyAutoencoder(.pixelShuffle, seed: 11)
        try ZooGeneratorFile.save(autoencoder, training: summary, to: folder + "/a.safetensors")
        let loaded = try ZooGeneratorFile.loadAutoencoder(path: folder + "/a.safetensors")
        XCTAssertEqual(loaded.architecture, autoencoder.architecture)
        for (key, value) in autoencoder.stateDictionary() {
            XCTAssertEqual(loaded.stateDictionary()[key]?.array, value.array, key)
        }
        XCTAssertEqual(try ZooGeneratorFile.trainingSummary(path: folder + "/a.safetensors"), summary)
    }

    // MARK: Layers and training

    func testBilinearAndPixelShuffleLayersMatchTheZooFunctionsAndTheirBackwardsAreAdjoint() throws {
        var rng = RandomGenerator(seed: 4)
        let x = Tensor(shape: [2, 8, 5, 7])  // (N, C, H, W)
        for i in 0..<x.count { x.pointer[i] = rng.normal() }
        let bilinear = Bilinear2x(), shuffle = PixelShuffle2x()
        let layers: [(String, Layer, Tensor)] = [
            ("bilinear", bilinear, ZooUpsampling.bilinear2x(x)),
            ("pixel shuffle", shuffle, ZooUpsampling.pixelShuffle(x, factor: 2)),
        ]
        for (name, layer, reference) in layers {
            let y = layer.forward(x)
            XCTAssertEqual(y.shape, reference.shape, name)
            // Tolerance 1e-5 absolute: the same four-tap sums in another order.
            for i in 0..<y.count { XCTAssertEqual(y.pointer[i], reference.pointer[i], accuracy: 1e-5, name) }
            // Adjoint test ⟨L x, g⟩ = ⟨x, Lᵀ g⟩ at relative tolerance 1e-5.
            let g = Tensor(shape: y.shape)
            for i in 0..<g.count { g.pointer[i] = rng.normal() }
            var forwardDot = 0.0, backwardDot = 0.0
            for i in 0..<y.count { forwardDot += Double(y.pointer[i]) * Double(g.pointer[i]) }
            let dx = layer.backward(g)
            XCTAssertEqual(dx.shape, x.shape, name)
            for i in 0..<x.count { backwardDot += Double(x.pointer[i]) * Double(dx.pointer[i]) }
            XCTAssertEqual(forwardDot, backwardDot, accuracy: 1e-5 * max(abs(forwardDot), 1), name)
        }
    }

    func testAutoencoderGradientsMatchFiniteDifferences() throws {
        // Loss L = Σ w ⊙ output for fixed random w; central differences with h = 1e-2 on 6 weights of
        // every parameter tensor, within 1 % (absolute 1e-4). The LeakyReLUs get slope 1 here: this
        // checks the network's wiring (stage choice, the upsamplers' backwards, reverse order); at
        // slope 0.2 this tiny net's activations sit within h of a kink so often that central
        // differences miss by up to 25 % (the LeakyReLU layers have their own tests in NeuralNet).
        for upsampler in Self.autoencoderUpsamplers {
            let network = RegionAutoencoder(
                architecture: AutoencoderArchitecture(
                    upsampler: upsampler, width: 3, bottleneckChannels: 2, minimumStages: 1, maximumStages: 2),
                seed: 2, negativeSlope: 1)
            var rng = RandomGenerator(seed: 6)
            let x = Tensor(shape: [2, 3, 8, 8])  // (N, 3, H, W)
            for i in 0..<x.count { x.pointer[i] = rng.uniform() }
            let w = Tensor(shape: [2, 3, 8, 8])
            for i in 0..<w.count { w.pointer[i] = rng.normal() }
            func loss() -> Double {
                let y = network.forward(x, stages: 2)
                return (0..<y.count).reduce(0) { $0 + Double(y.pointer[$1]) * Double(w.pointer[$1]) }
            }
            network.zeroGradients()
            _ = network.forward(x, stages: 2)
            network.backward(w)
            let h: Float = 1e-2
            for parameter in network.namedParameters() {
                for k in 0..<min(6, parameter.value.count) {
                    let i = (k * 7919) % parameter.value.count, saved = parameter.value.pointer[i]
                    parameter.value.pointer[i] = saved + h
                    let plus = loss()
                    parameter.value.pointer[i] = saved - h
                    let minus = loss()
                    parameter.value.pointer[i] = saved
                    let central = (plus - minus) / Double(2 * h)
                    XCTAssertEqual(
                        Double(parameter.gradient.pointer[i]), central, accuracy: max(1e-4, 0.01 * abs(central)),
                        "\(upsampler) \(parameter.name)[\(i)]")
                }
            }
        }
    }

    func testTrainingLowersTheLossAndStepLimitedRunsAreReproducible() throws {
        let frames = (0..<3).map { StoredFrame(TestSupport.texture(width: 40, height: 36, seed: $0)) }
        var options = ZooTrainingOptions(maximumSteps: 120, seed: 3)
        options.batchSize = 2
        options.patchSize = 16
        options.learningRate = 3e-3
        let trainer = try ZooGeneratorTrainer(frames: frames, options: options)
        let architecture = AutoencoderArchitecture(upsampler: .bilinear, width: 4, bottleneckChannels: 2, maximumStages: 3)
        var first: Double?
        let (a, summary) = try trainer.trainAutoencoder(architecture) { progress in
            if first == nil { first = progress.recentL1 }
        }
        XCTAssertEqual(summary.steps, 120)
        XCTAssertEqual(summary.frames, 3)
        XCTAssertLessThan(summary.finalL1, try XCTUnwrap(first), "L1 over the last steps below the first 25 steps'")
        let (b, _) = try trainer.trainAutoencoder(architecture)
        XCTAssertEqual(a.stateDictionary().mapValues(\.array), b.stateDictionary().mapValues(\.array))

        let (vae, vaeSummary) = try trainer.trainVAE(
            VAEArchitecture(latentSize: 4, widths: [4, 4, 4], patchSize: 16, adversarialWeight: 0))
        XCTAssertEqual(vaeSummary.steps, 120)
        XCTAssertTrue(vaeSummary.finalL1.isFinite)
        XCTAssertFalse(vae.isTraining)

        XCTAssertThrowsError(try ZooGeneratorTrainer(frames: frames, options: ZooTrainingOptions()))
        var big = options
        big.patchSize = 64
        XCTAssertThrowsError(
            try ZooGeneratorTrainer(frames: frames, options: big).trainAutoencoder(
                AutoencoderArchitecture(upsampler: .nearest, width: 4)))
    }
}
