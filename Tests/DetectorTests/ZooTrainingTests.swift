// Tests of the zoo in training and evaluation: the patch window keeps the whole region and its mask,
// held-out families are never drawn, old configurations still decode, zoo rows carry per-cell targets
// from their masks, and evaluation makes one fake per family per real frame under every re-encoding.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class ZooTrainingTests: XCTestCase {
    func testThePatchWindowHoldsTheWholeRegionAndTheSamePixels() throws {
        let context = TestSupport.texture(width: 128, height: 128, seed: 3)
        let options = ZooTrainingConfig().options(patchSide: 64)
        for seed in UInt64(0)..<20 {
            let family = try FakeZoo.standard().family(named: "resample")
            let fake = try family.makeFake(real: context, seed: seed, options: options)
            XCTAssertLessThanOrEqual(fake.mask.box.width, 62); XCTAssertLessThanOrEqual(fake.mask.box.height, 62)
            var rng = RandomGenerator(seed: seed)
            let patch = Trainer.window(of: fake, side: 64, rng: &rng)
            XCTAssertEqual(patch.kind, .zoo)
            let mask = try XCTUnwrap(patch.mask)
            // the whole mask lies inside the window
            XCTAssertEqual(mask.reduce(0, +), fake.mask.values.reduce(0, +), accuracy: 1e-3, "seed \(seed)")
            // and the window is a crop of the fake at some origin: find it from the mask's first pixel
            XCTAssertEqual(patch.image.width, 64); XCTAssertEqual(patch.image.height, 64)
            func isCrop(x0: Int, y0: Int) -> Bool {
                for y in 0..<64 {
                    let row = (y0 + y) * 128 + x0
                    if patch.image.pixels[y * 64] != fake.image.pixels[row] { return false }
                    if patch.image.pixels[y * 64 + 63] != fake.image.pixels[row + 63] { return false }
                }
                return true
            }
            var matches = false
            for y0 in stride(from: 0, through: 64, by: 2) {
                for x0 in stride(from: 0, through: 64, by: 2) where isCrop(x0: x0, y0: y0) { matches = true }
            }
            XCTAssertTrue(matches, "seed \(seed): the window is not a crop of the fake at an even offset")
        }
    }

    func testHeldOutFamiliesAreNeverDrawn() throws {
        let zoo = try ZooTrainingConfig(excluded: ["classical", "upsampler-pixelshuffle-random"]).zoo()
        let classical = try FakeZoo.standard().selecting(["classical"]).names
        XCTAssertFalse(classical.isEmpty)
        for name in classical + ["upsampler-pixelshuffle-random"] { XCTAssertFalse(zoo.names.contains(name), name) }
        for seed in UInt64(0)..<300 {
            let family = try zoo.family(forSeed: seed, donorAvailable: true)
            XCTAssertNotEqual(family.group, "classical"); XCTAssertNotEqual(family.name, "upsampler-pixelshuffle-random")
        }
    }

    func testUnknownOrAllExcludedFamiliesAreRefused() {
        XCTAssertThrowsError(try ZooTrainingConfig(excluded: ["no-such-family"]).zoo())
        XCTAssertThrowsError(try ZooTrainingConfig(excluded: FakeZoo.standard().groups).zoo()) { error in
            XCTAssertTrue("\(error)".contains("leaves no zoo family"), "\(error)")
        }
        var config = TestSupport.tinyConfig()
        config.zoo = ZooTrainingConfig(excluded: ["nope"])
        XCTAssertThrowsError(try config.validate())
        config.zoo = ZooTrainingConfig()
        config.fakeMix.zoo = .infinity
        XCTAssertThrowsError(try config.validate())
    }

    func testConfigurationsSavedBeforeTheZooStillDecode() throws {
        var config = TestSupport.tinyConfig()
        config.zoo = nil
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        var mix = json["fakeMix"] as! [String: Any]
        mix.removeValue(forKey: "zoo")
        json["fakeMix"] = mix
        json.removeValue(forKey: "zoo")
        let decoded = try JSONDecoder().decode(TrainingConfig.self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertNil(decoded.zoo)
        XCTAssertEqual(decoded.fakeMix.zoo, 0)
        XCTAssertEqual(decoded, config)
    }

    func testZooRowsGetCellTargetsFromTheirMasks() throws {
        var config = TestSupport.tinyConfig(seed: 3)
        config.zoo = ZooTrainingConfig()
        config.fakeMix = FakeMix(partial: 0, selfBlended: 0, media: 0, vaeBlended: 0, vaeSample: 0, zoo: 1)
        let trainer = try Trainer(config: config, data: TestSupport.syntheticData(files: 3, size: 96))
        let targets = trainer.buildDiscriminatorBatch()
        let Nr = config.realPerBatch, No = config.otherFakesPerBatch, m = trainer.m
        for row in 0..<Nr {
            XCTAssertEqual(targets.global.pointer[row], 0)
            XCTAssertTrue((0..<(m * m)).allSatisfy { targets.cells.pointer[row * m * m + $0] == 0 })
        }
        var partlyFakeRows = 0
        for row in Nr..<(Nr + No) {
            XCTAssertEqual(targets.global.pointer[row], 1)
            let cells = (0..<(m * m)).map { targets.cells.pointer[row * m * m + $0] }
            XCTAssertTrue(cells.allSatisfy { (0...1).contains($0) })
            XCTAssertGreaterThan(cells.max() ?? 0, 0, "a zoo row without any fake cell")
            if cells.contains(where: { $0 < 1 }) { partlyFakeRows += 1 }
        }
        // regions are 12…P px: most rows are partly real
        XCTAssertGreaterThan(partlyFakeRows, 0)
        let v = trainer.validate()
        XCTAssertNotNil(v.aucByKind[.zoo])
    }

    func testThePoolGivesZooRowsTheirRealPartnersAndTurnsOver() throws {
        var config = TestSupport.tinyConfig(seed: 5)
        var zoo = ZooTrainingConfig()
        zoo.pool = 6; zoo.poolRefresh = 2
        config.zoo = zoo
        config.fakeMix = FakeMix(partial: 0, selfBlended: 0, media: 0, vaeBlended: 0, vaeSample: 0, zoo: 1)
        // no augmentation, so batch rows are the pool's pixels as they are
        config.augmentation.flip = 0; config.augmentation.resize = 0; config.augmentation.jitter = 0
        config.augmentation.noise = 0; config.augmentation.blur = 0; config.augmentation.jpeg = 0; config.augmentation.h264 = 0
        let trainer = try Trainer(config: config, data: TestSupport.syntheticData(files: 3, size: 96))
        let Nr = config.realPerBatch, Ng = config.generatedPerBatch, No = config.otherFakesPerBatch, m = trainer.m
        let targets = trainer.buildDiscriminatorBatch()
        XCTAssertEqual(trainer.zooPool.count, 6)
        let pool = trainer.zooPool
        var partnerRows = 0
        for row in 0..<(Nr / 2) {
            let image = trainer.image(from: trainer.batch, index: row)
            if pool.contains(where: { $0.real == image }) { partnerRows += 1 }
        }
        XCTAssertEqual(partnerRows, min(No, Nr / 2), "the first half of the real rows are the zoo rows' partners")
        for j in 0..<No {
            let image = trainer.image(from: trainer.batch, index: Nr + Ng + j)
            let pair = try XCTUnwrap(pool.first { $0.fake == image }, "zoo row \(j) is not a pooled fake")
            // the row's cell targets are its pair's mask averaged over each cell
            let expected = Tensor(shape: [1, 1, m, m])
            FakeSynthesis.cellTargets(mask: pair.mask, size: config.discriminator.patchSize, into: expected.pointer)
            for c in 0..<(m * m) { XCTAssertEqual(targets.cells.pointer[(Nr + j) * m * m + c], expected.pointer[c]) }
        }
        _ = trainer.buildDiscriminatorBatch()
        let replaced = zip(pool, trainer.zooPool).filter { $0.0.fake != $0.1.fake }.count
        XCTAssertGreaterThan(replaced, 0); XCTAssertLessThanOrEqual(replaced, 2)

        var bad = ZooTrainingConfig()
        bad.pool = ZooTrainingConfig.maximumPool + 1
        XCTAssertThrowsError(try bad.validate())
        bad.pool = 4; bad.poolRefresh = 5
        XCTAssertThrowsError(try bad.validate())
    }

    /// With a context side, the pool's regions may exceed the patch: pairs whose window lies wholly
    /// inside a region occur, which a patch-sized region never gives; the context side is bounded.
    func testAPoolWithALargerContextHoldsWindowsOverLargerRegions() throws {
        var config = TestSupport.tinyConfig(seed: 5)
        var zoo = ZooTrainingConfig()
        zoo.pool = 24; zoo.contextSide = 96; zoo.regionSide = 48...94
        config.zoo = zoo
        config.fakeMix = FakeMix(partial: 0, selfBlended: 0, media: 0, vaeBlended: 0, vaeSample: 0, zoo: 1)
        let trainer = try Trainer(config: config, data: TestSupport.syntheticData(files: 3, size: 128))
        _ = trainer.buildDiscriminatorBatch()
        XCTAssertEqual(trainer.zooPool.count, 24)
        let P = config.discriminator.patchSize
        let coverage = trainer.zooPool.map { pair in pair.mask.filter { $0 > 0 }.count }
        XCTAssertTrue(coverage.contains(P * P), "no window wholly inside a region: \(coverage)")
        XCTAssertTrue(coverage.allSatisfy { $0 > P * P / 8 }, "a window not over its region: \(coverage)")

        for bad in [32, 63, 257] {
            config.zoo?.contextSide = bad
            XCTAssertThrowsError(try config.validate(), "context \(bad)") { error in
                XCTAssertTrue("\(error)".contains("context side"), "\(error)")
            }
        }
    }

    func testEvaluationMakesOneFakePerFamilyPerFrameUnderEveryEncoding() throws {
        let zoo = try FakeZoo.standard().selecting(["resample", "splice"])
        let real = [
            TestSupport.source("a.png", [TestSupport.texture(width: 80, height: 72, seed: 1)]),
            TestSupport.source("b.png", [TestSupport.texture(width: 64, height: 64, seed: 2)]),
        ]
        let frames = EvaluationFrames(zoo: zoo, encodings: [.jpeg(quality: 90), .h264(crf: 32)], seed: 3)
        var seen: [EvaluationFrame] = []
        try frames.forEach(real: real, fake: []) { seen.append($0) }
        XCTAssertEqual(seen.count, frames.count(real: real, fake: []))
        XCTAssertEqual(seen.count, 2 * 3 * 3)
        XCTAssertEqual(Set(seen.map(\.variant)), ["original", "jpeg-q90", "h264-crf32"])
        XCTAssertEqual(Set(seen.filter(\.isFake).map(\.kind)), ["zoo:resample", "zoo:splice"])
        for frame in seen {
            let source = frame.source == "a.png" ? real[0] : real[1]
            XCTAssertEqual(frame.image.width, source.frames[0].width); XCTAssertEqual(frame.image.height, source.frames[0].height)
            XCTAssertEqual(frame.region != nil, frame.isFake)
            XCTAssertEqual(frame.regionStatistics != nil, frame.isFake)
            if let statistics = frame.regionStatistics {
                XCTAssertGreaterThan(statistics.change, 0, "\(frame.kind) changed its region")
                XCTAssertGreaterThan(statistics.texture, 0, "the textured frame's region has texture")
            }
        }
        // the same seed makes the same frames
        var again: [EvaluationFrame] = []
        try frames.forEach(real: real, fake: []) { again.append($0) }
        XCTAssertEqual(seen.map(\.image.pixels), again.map(\.image.pixels))
    }

    func testBoxIntersectionOverUnion() {
        let a = PixelRegion(x: 0, y: 0, width: 10, height: 10)
        XCTAssertEqual(FrameEvaluation.intersectionOverUnion(a, a), 1)
        XCTAssertEqual(
            FrameEvaluation.intersectionOverUnion(a, PixelRegion(x: 5, y: 0, width: 10, height: 10)), 50.0 / 150, accuracy: 1e-12)
        XCTAssertEqual(FrameEvaluation.intersectionOverUnion(a, PixelRegion(x: 10, y: 10, width: 4, height: 4)), 0)
    }

    func testAFamilyFakesAGivenRegionAndNothingElse() throws {
        let real = TestSupport.texture(width: 96, height: 80, seed: 9)
        var rng = RandomGenerator(seed: 1)
        let box = PixelRegion(x: 20, y: 16, width: 40, height: 32)
        let mask = try RegionMask.placed(.ellipse, in: box, width: 96, height: 80, feather: 8, rng: &rng)
        XCTAssertTrue(
            mask.box.x >= 20 && mask.box.y >= 16 && mask.box.x + mask.box.width <= 60 && mask.box.y + mask.box.height <= 48)
        let family = try FakeZoo.standard().family(named: "upsampler-bilinear-random")
        let a = try family.makeFake(real: real, mask: mask, seed: 4), b = try family.makeFake(real: real, mask: mask, seed: 4)
        XCTAssertEqual(a.image.pixels, b.image.pixels)
        XCTAssertNotEqual(a.image.pixels, real.pixels)
        let n = 96 * 80
        for i in 0..<n where mask.values[i] == 0 {
            for c in 0..<3 { XCTAssertEqual(a.image.pixels[c * n + i], real.pixels[c * n + i]) }
        }
        var rng2 = RandomGenerator(seed: 1)
        XCTAssertThrowsError(
            try RegionMask.placed(
                .ellipse, in: PixelRegion(x: 70, y: 0, width: 40, height: 10), width: 96, height: 80, feather: 0, rng: &rng2))
        XCTAssertThrowsError(try family.makeFake(real: TestSupport.texture(width: 64, height: 64, seed: 1), mask: mask, seed: 4))
    }
}
