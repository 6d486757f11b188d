// Tests of the fake-maker zoo: every family changes a frame only inside its mask and measurably
// there, masks keep their size, feather and frame bounds on non-square frames, fakes are reproducible
// from a seed, real and fake share one re-encoding, and the registry's selection and exclusion hold.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class ZooTests: XCTestCase {
    private let frameSizes = [(96, 80), (160, 120)]

    private func frame(_ size: (Int, Int), seed: UInt64) -> RGBImage {
        TestSupport.texture(width: size.0, height: size.1, seed: seed)
    }

    /// Pixels where the mask is 0 but some channel of `a` and `b` differ.
    private func changesOutsideMask(_ a: RGBImage, _ b: RGBImage, _ mask: RegionMask) -> Int {
        let n = a.planeCount
        return (0..<n).filter { i in mask.values[i] == 0 && (0..<3).contains { a.pixels[$0 * n + i] != b.pixels[$0 * n + i] } }
            .count
    }

    /// Mean |a − b| over the pixels of the hard mask.
    private func meanChangeInsideMask(_ a: RGBImage, _ b: RGBImage, _ mask: RegionMask) -> Float {
        let n = a.planeCount, hard = mask.hard
        var total: Float = 0, count = 0
        for i in 0..<n where hard[i] {
            for c in 0..<3 { total += abs(a.pixels[c * n + i] - b.pixels[c * n + i]) }
            count += 3
        }
        return count == 0 ? 0 : total / Float(count)
    }

    // MARK: Families

    func testEveryFamilyChangesTheFrameOnlyInsideItsMaskAndMeasurablyThere() throws {
        let zoo = FakeZoo.standard()
        let donor = frame((70, 50), seed: 99)  // smaller than some regions: splice enlarges it
        for family in zoo.families {
            for (k, size) in frameSizes.enumerated() {
                for seed: UInt64 in [1, 2] {
                    let real = frame(size, seed: 10 + UInt64(k))
                    let fake = try family.makeFake(real: real, donor: donor, seed: seed)
                    let label = "\(family.name) \(size) seed \(seed) \(fake.parameters)"
                    XCTAssertEqual(fake.image.width, real.width, label)
                    XCTAssertEqual(fake.image.height, real.height, label)
                    XCTAssertEqual(fake.family, family.name)
                    XCTAssertEqual(changesOutsideMask(fake.image, real, fake.mask), 0, "changed outside the mask: \(label)")
                    XCTAssertGreaterThan(meanChangeInsideMask(fake.image, real, fake.mask), 0.002, "no change inside: \(label)")
                    XCTAssertTrue(fake.image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, label)
                }
            }
        }
    }

    func testSameSeedGivesTheSameFakeAndAnotherSeedAnotherOne() throws {
        let real = frame((96, 80), seed: 5), donor = frame((96, 80), seed: 6)
        for family in FakeZoo.standard().families {
            let a = try family.makeFake(real: real, donor: donor, seed: 41)
            let b = try family.makeFake(real: real, donor: donor, seed: 41)
            let c = try family.makeFake(real: real, donor: donor, seed: 42)
            XCTAssertEqual(a.image, b.image, family.name)
            XCTAssertEqual(a.mask, b.mask, family.name)
            XCTAssertEqual(a.parameters, b.parameters, family.name)
            XCTAssertNotEqual(a.image, c.image, family.name)
        }
    }

    func testOneSeedDrawsTheSameRegionInEveryFamily() throws {
        let real = frame((160, 120), seed: 3), donor = frame((96, 80), seed: 4)
        let masks = try FakeZoo.standard().families.map { try $0.makeFake(real: real, donor: donor, seed: 17).mask }
        for mask in masks { XCTAssertEqual(mask, masks[0]) }
    }

    func testDecodersDifferByUpsamplerForOneSeed() throws {
        let real = frame((160, 120), seed: 8)
        let images = try DecoderUpsampler.allCases.map {
            try RandomDecoderFamily(upsampler: $0).makeFake(real: real, seed: 5).image
        }
        for i in 0..<images.count { for j in (i + 1)..<images.count { XCTAssertNotEqual(images[i], images[j]) } }
    }

    func testWholeFrameFakesReplaceEveryPixel() throws {
        var options = ZooOptions()
        options.mask.shapes = [.wholeFrame]
        let real = frame((96, 80), seed: 12), donor = frame((96, 80), seed: 13)
        for family in FakeZoo.standard().families {
            let fake = try family.makeFake(real: real, donor: donor, seed: 3, options: options)
            XCTAssertEqual(fake.mask.box, PixelRegion(x: 0, y: 0, width: 96, height: 80), family.name)
            XCTAssertTrue(fake.mask.values.allSatisfy { $0 == 1 }, family.name)
            XCTAssertGreaterThan(meanChangeInsideMask(fake.image, real, fake.mask), 0.002, family.name)
        }
    }

    func testSpliceNeedsADonorAndTheZooSkipsItWithoutOne() throws {
        let real = frame((96, 80), seed: 1)
        XCTAssertThrowsError(try SpliceFamily().makeFake(real: real, seed: 1)) {
            XCTAssertEqual($0 as? FakeZooError, .donorRequired(family: "splice"))
        }
        let zoo = FakeZoo.standard()
        for seed: UInt64 in 0..<200 { XCTAssertNotEqual(try zoo.family(forSeed: seed, donorAvailable: false).name, "splice") }
        XCTAssertThrowsError(try zoo.selecting(["splice"]).makeFake(real: real, seed: 1)) {
            guard case .noFamily = $0 as? FakeZooError else { return XCTFail("\($0)") }
        }
    }

    // MARK: Masks

    func testMasksHonourSizeFeatherAndFrameBoundsOnNonSquareFrames() throws {
        let frames = [(160, 120), (96, 80), (40, 300), (640, 360)]
        var largestSide = 0, feathers = Set<Int>(), shapes = Set<RegionShape>()
        for (W, H) in frames {
            for seed: UInt64 in 0..<(W == 640 ? 12 : 40) {
                var rng = RandomGenerator(seed: seed)
                let mask = try RegionMask.random(width: W, height: H, rng: &rng)
                let box = mask.box, label = "\(W)×\(H) seed \(seed) \(mask.shape) \(box) feather \(mask.feather)"
                shapes.insert(mask.shape); feathers.insert(mask.feather)
                XCTAssertEqual(mask.values.count, W * H)
                XCTAssertTrue(box.x >= 0 && box.y >= 0 && box.x + box.width <= W && box.y + box.height <= H, label)
                XCTAssertTrue((min(32, W)...min(256, W)).contains(box.width), label)
                XCTAssertTrue((min(32, H)...min(256, H)).contains(box.height), label)
                largestSide = max(largestSide, box.width, box.height)
                XCTAssertTrue(mask.feather >= 0 && mask.feather <= 16 && mask.feather <= min(box.width, box.height) / 4, label)
                var support = Set<Int>()
                for y in 0..<H {
                    for x in 0..<W {
                        let v = mask.values[y * W + x]
                        XCTAssertTrue(v >= 0 && v <= 1, label)
                        guard v > 0 else { continue }
                        support.insert(y * W + x)
                        XCTAssertTrue(x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height, label)
                        if mask.feather == 0 { XCTAssertEqual(v, 1, label) }
                    }
                }
                XCTAssertTrue(mask.hard.contains(true), "empty hard mask: \(label)")
                if mask.feather > 0 {
                    // Pixels touching the outside are below 1; the deepest inside pixel reaches 1.
                    let corner = mask.values[box.y * W + box.x + box.width / 2]
                    XCTAssertLessThan(corner, 1, label)
                    XCTAssertEqual(mask.values.max(), 1, label)
                }
                XCTAssertEqual(componentCount(support, width: W), 1, "support not one component: \(label)")
            }
        }
        XCTAssertEqual(shapes, [.rectangle, .ellipse, .blob])
        XCTAssertGreaterThan(largestSide, 200)
        XCTAssertTrue(feathers.contains(0) && feathers.contains { $0 >= 12 }, "feathers drawn: \(feathers.sorted())")
    }

    func testSideFractionsScaleRegionsWithTheFramesShorterSide() throws {
        var config = RegionMaskConfig()
        config.sideFraction = 0.05...0.25
        // (W, H) → sides 5–25 % of the shorter side, rounded: 75…375, 24…120 and 10…50.
        for (W, H, low, high) in [(2000, 1500, 75, 375), (640, 480, 24, 120), (200, 1080, 10, 50)] {
            XCTAssertEqual(config.sides(width: W, height: H), low...high)
            var widths = Set<Int>()
            for seed: UInt64 in 0..<30 {
                var rng = RandomGenerator(seed: seed)
                let mask = try RegionMask.random(width: W, height: H, config: config, rng: &rng)
                let box = mask.box, label = "\(W)×\(H) seed \(seed) \(box)"
                XCTAssertTrue((low...high).contains(box.width) && (low...high).contains(box.height), label)
                XCTAssertTrue(box.x + box.width <= W && box.y + box.height <= H, label)
                widths.insert(box.width)
            }
            XCTAssertGreaterThan(widths.count, 10, "sides are drawn across the range in \(W)×\(H)")
        }
        // Without fractions the pixel range holds at every frame size.
        XCTAssertEqual(RegionMaskConfig().sides(width: 4000, height: 3000), 32...256)
        for bad in [0.0...0.2, 0.1...1.5, -0.1...0.1] {
            config.sideFraction = bad
            var rng = RandomGenerator(seed: 1)
            XCTAssertThrowsError(try RegionMask.random(width: 640, height: 480, config: config, rng: &rng), "\(bad)")
        }
    }

    func testEvaluationFramesDrawZooRegionsWithTheGivenOptions() throws {
        var options = ZooOptions()
        options.mask.sideFraction = 0.4...0.5
        let zoo = try FakeZoo.standard().selecting(["resample"])
        let source = TestSupport.source("a.png", [TestSupport.texture(width: 300, height: 200, seed: 5)])
        var boxes: [PixelRegion] = []
        try EvaluationFrames(zoo: zoo, zooOptions: options).forEach(real: [source], fake: []) { frame in
            if let region = frame.region { boxes.append(region) }
        }
        XCTAssertEqual(boxes.count, 1)
        for box in boxes {  // 40–50 % of the shorter side, 200: 80…100 pixels.
            XCTAssertTrue((80...100).contains(box.width) && (80...100).contains(box.height), "\(box)")
        }
    }

    /// 4-connected components of a set of pixel indices.
    private func componentCount(_ pixels: Set<Int>, width: Int) -> Int {
        var left = pixels, count = 0
        while let start = left.first {
            count += 1
            var stack = [start]
            left.remove(start)
            while let i = stack.popLast() {
                for j in [i - 1, i + 1, i - width, i + width]
                where left.contains(j) && (abs(j - i) == width || j / width == i / width) {
                    left.remove(j); stack.append(j)
                }
            }
        }
        return count
    }

    func testHardMaskIoUAndCellCoverage() throws {
        var rng = RandomGenerator(seed: 3)
        let mask = try RegionMask.random(width: 96, height: 80, rng: &rng)
        XCTAssertEqual(RegionMask.intersectionOverUnion(mask.hard, mask.hard), 1)
        XCTAssertEqual(RegionMask.intersectionOverUnion(mask.hard, [Bool](repeating: false, count: 96 * 80)), 0)
        let whole = RegionMask.wholeFrame(width: 20, height: 12)
        XCTAssertEqual(whole.cellCoverage(cell: 8), [Float](repeating: 1, count: 3 * 2))
        let coverage = mask.cellCoverage(cell: 8)
        XCTAssertEqual(coverage.count, 12 * 10)
        XCTAssertEqual(coverage.reduce(0, +) * 64, mask.values.reduce(0, +), accuracy: 1e-2)
    }

    // MARK: Compositing

    func testCompositeKeepsRealPixelsWhereTheMaskIsZeroAndBlendsInside() throws {
        let real = frame((96, 80), seed: 21)
        var synthetic = real
        for i in 0..<synthetic.pixels.count { synthetic.pixels[i] = 1 - synthetic.pixels[i] }
        var rng = RandomGenerator(seed: 9)
        let mask = try RegionMask.random(width: 96, height: 80, rng: &rng)
        let fake = try Compositor.composite(real: real, synthetic: synthetic, mask: mask)
        XCTAssertEqual(changesOutsideMask(fake, real, mask), 0)
        let n = real.planeCount
        for i in 0..<n where mask.values[i] > 0 {
            let m = mask.values[i]
            XCTAssertEqual(fake.pixels[n + i], real.pixels[n + i] * (1 - m) + synthetic.pixels[n + i] * m, accuracy: 1e-6)
        }
        XCTAssertThrowsError(try Compositor.composite(real: real, synthetic: frame((80, 96), seed: 1), mask: mask))
    }

    func testColourCorrectionRemovesALowFrequencyColourShift() throws {
        let real = frame((160, 120), seed: 30)
        var shifted = real
        let n = real.planeCount
        for i in 0..<n { shifted.pixels[i] = min(max(shifted.pixels[i] + 0.15, 0), 1) }  // red up
        for i in 0..<n { shifted.pixels[2 * n + i] = min(max(shifted.pixels[2 * n + i] - 0.1, 0), 1) }  // blue down
        var rng = RandomGenerator(seed: 4)
        var config = RegionMaskConfig()
        config.shapes = [.rectangle]
        let mask = try RegionMask.random(width: 160, height: 120, config: config, rng: &rng)
        let corrected = try Compositor.colourCorrected(synthetic: shifted, real: real, mask: mask)
        let box = mask.box
        for y in 0..<120 {
            for x in 0..<160 where !(box.x..<(box.x + box.width)).contains(x) || !(box.y..<(box.y + box.height)).contains(y) {
                for c in 0..<3 { XCTAssertEqual(corrected.pixels[c * n + y * 160 + x], shifted.pixels[c * n + y * 160 + x]) }
            }
        }
        let before = meanChangeInsideMask(shifted, real, mask), after = meanChangeInsideMask(corrected, real, mask)
        XCTAssertGreaterThan(before, 0.08)
        XCTAssertLessThan(after, 0.25 * before, "colour shift left after correction: \(after) vs \(before)")
    }

    // MARK: Shared encoding

    func testRealAndFakeShareTheReencodingAndTheMaskIsKept() throws {
        let zoo = FakeZoo.standard()
        let real = frame((96, 80), seed: 50), donor = frame((96, 80), seed: 51)
        var kinds = Set<String>()
        for seed: UInt64 in 0..<16 {
            let fake = try zoo.makeFake(real: real, donor: donor, seed: seed)
            let sample = try SharedEncoding.encode(real: real, fake: fake, seed: seed)
            let encoding = SharedEncoding.choice(seed: seed)
            XCTAssertEqual(sample.encoding, encoding)
            XCTAssertTrue(try sample.real == encoding.apply(real), "real: \(encoding)")
            XCTAssertTrue(try sample.fake == encoding.apply(fake.image), "fake: \(encoding)")
            XCTAssertEqual(sample.mask, fake.mask)
            XCTAssertEqual(sample.family, fake.family)
            switch encoding {
            case .none:
                kinds.insert("none")
                XCTAssertEqual(sample.real, real)
            case .jpeg(let q):
                kinds.insert("jpeg")
                XCTAssertTrue((60...98).contains(q))
                XCTAssertNotEqual(sample.real, real)
            case .h264(let crf):
                kinds.insert("h264")
                XCTAssertTrue((18...35).contains(crf))
                XCTAssertNotEqual(sample.real, real)
            }
            let again = try zoo.makeSample(real: real, donor: donor, seed: seed)
            XCTAssertTrue(again.fake == sample.fake, "fake again: seed \(seed) \(fake.family) \(encoding)")
            XCTAssertTrue(again.real == sample.real, "real again: seed \(seed) \(fake.family) \(encoding)")
        }
        XCTAssertEqual(kinds, ["none", "jpeg", "h264"])
        XCTAssertEqual(SharedEncoding.choice(seed: 3, config: .none), .none)
    }

    func testReencodingIsReproducibleOnAwkwardSizes() throws {
        let real = frame((97, 81), seed: 60)
        for seed: UInt64 in 1...6 {
            let a = try JPEGRegionFamily().makeFake(real: real, seed: seed)
            let b = try JPEGRegionFamily().makeFake(real: real, seed: seed)
            XCTAssertTrue(a.image == b.image, "jpeg-region seed \(seed) box \(a.mask.box)")
        }
        for encoding in [ZooEncoding.jpeg(quality: 70), .h264(crf: 30)] {
            for size in [(97, 81), (82, 52), (84, 58)] {
                let image = frame(size, seed: 61)
                let once = try encoding.apply(image), twice = try encoding.apply(image)
                XCTAssertTrue(once == twice, "\(encoding) \(size)")
                XCTAssertEqual(once.width, size.0)
                XCTAssertEqual(once.height, size.1)
            }
        }
    }

    // MARK: Registry

    func testStandardZooNamesAreStableAndUnique() {
        let zoo = FakeZoo.standard()
        XCTAssertEqual(
            zoo.names,
            [
                "resample", "denoise", "copy-move", "splice", "jpeg-region", "self-blend", "upsampler-nearest-random",
                "upsampler-bilinear-random", "upsampler-pixelshuffle-random", "transposed-conv-random",
            ])
        XCTAssertEqual(Set(zoo.names).count, zoo.names.count)
        XCTAssertEqual(zoo.groups, ["classical", "self-blend", "upsampling-decoder"])
    }

    func testExcludingAFamilyOrGroupNeverReturnsIt() throws {
        let zoo = FakeZoo.standard()
        for name in zoo.names {
            let left = try zoo.excluding([name])
            XCTAssertFalse(left.names.contains(name))
            XCTAssertEqual(left.names.count, zoo.names.count - 1)
            for seed: UInt64 in 0..<60 { XCTAssertNotEqual(try left.family(forSeed: seed, donorAvailable: true).name, name) }
        }
        for group in zoo.groups {
            let left = try zoo.excluding([group])
            XCTAssertFalse(left.families.contains { $0.group == group }, group)
            XCTAssertFalse(left.families.isEmpty)
            for seed: UInt64 in 0..<60 { XCTAssertNotEqual(try left.family(forSeed: seed, donorAvailable: true).group, group) }
        }
        XCTAssertEqual(try zoo.selecting(["classical"]).names, ["resample", "denoise", "copy-move", "splice", "jpeg-region"])
        XCTAssertEqual(try zoo.selecting(["transposed-conv-random", "resample"]).names, ["resample", "transposed-conv-random"])
        XCTAssertEqual(try zoo.excluding(zoo.groups).names, [])
        var picked = Set<String>()
        for seed: UInt64 in 0..<200 { picked.insert(try zoo.family(forSeed: seed, donorAvailable: true).name) }
        XCTAssertEqual(picked, Set(zoo.names), "every family is drawn")
    }

    func testUnknownNamesAndDuplicateFamiliesThrow() {
        let zoo = FakeZoo.standard()
        for call in [{ _ = try zoo.selecting(["resample", "stylegan"]) }, { _ = try zoo.excluding(["stylegan"]) }] {
            XCTAssertThrowsError(try call()) { error in
                guard case .unknownName(let name, let families, _) = error as? FakeZooError else { return XCTFail("\(error)") }
                XCTAssertEqual(name, "stylegan")
                XCTAssertEqual(families, zoo.names)
                XCTAssertTrue("\(error)".contains("stylegan"))
            }
        }
        XCTAssertThrowsError(try zoo.family(named: "stylegan"))
        XCTAssertThrowsError(try zoo.adding(ResampleFamily())) {
            XCTAssertEqual($0 as? FakeZooError, .duplicateFamily("resample"))
        }
    }

    // MARK: Pixel operations

    func testResamplerKeepsConstantsAndAreaAveragesBlocks() {
        let flat = RGBImage(width: 37, height: 23, pixels: [Float](repeating: 0.3, count: 3 * 37 * 23))
        for kernel in ResamplingKernel.allCases {
            for (w, h) in [(11, 7), (90, 41)] {
                let out = Resampler.resize(flat, width: w, height: h, kernel: kernel)
                XCTAssertTrue(out.pixels.allSatisfy { abs($0 - 0.3) < 1e-5 }, "\(kernel) \(w)×\(h)")
            }
        }
        let image = frame((16, 8), seed: 2)
        let small = Resampler.resize(image, width: 4, height: 2, kernel: .area)
        var block: Float = 0
        for y in 4..<8 { for x in 4..<8 { block += image.pixels[y * 16 + x] } }
        XCTAssertEqual(small.pixels[1 * 4 + 1], block / 16, accuracy: 1e-5)
        let up = Resampler.resize(small, width: 16, height: 8, kernel: .nearest)
        XCTAssertEqual(up.pixels[5 * 16 + 6], small.pixels[1 * 4 + 1])
        // Nothing to read or to write: an empty image gives a black one, and an empty size an empty image.
        XCTAssertEqual(Resampler.resize(RGBImage(), width: 3, height: 2, kernel: .area).pixels, [Float](repeating: 0, count: 18))
        XCTAssertEqual(Resampler.resize(image, width: 0, height: 0, kernel: .area).pixels, [])
    }

    func testPixelShuffleAndBilinearUpsampling() {
        let x = Tensor(shape: [1, 4, 2, 3], data: (0..<24).map(Float.init))  // (1, C·4, 2, 3), C = 1
        let y = ZooUpsampling.pixelShuffle(x, factor: 2)
        XCTAssertEqual(y.shape, [1, 1, 4, 6])
        // y[2h + i, 2w + j] = x[2i + j, h, w]
        for h in 0..<2 {
            for w in 0..<3 {
                for i in 0..<2 {
                    for j in 0..<2 {
                        XCTAssertEqual(y.pointer[(2 * h + i) * 6 + 2 * w + j], x.pointer[(2 * i + j) * 6 + h * 3 + w])
                    }
                }
            }
        }
        let ramp = Tensor(shape: [1, 1, 1, 4], data: [0, 1, 2, 3])
        let up = ZooUpsampling.bilinear2x(ramp)
        XCTAssertEqual(up.shape, [1, 1, 2, 8])
        // PyTorch F.interpolate(scale_factor=2, mode="bilinear", align_corners=False) of [0, 1, 2, 3].
        let expected: [Float] = [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]
        for k in 0..<8 { XCTAssertEqual(up.pointer[k], expected[k], accuracy: 1e-6) }
    }

    func testMedianRemovesAnIsolatedSpike() {
        var image = RGBImage(width: 9, height: 7, pixels: [Float](repeating: 0.4, count: 3 * 63))
        image.pixels[3 * 9 + 4] = 1
        XCTAssertTrue(ImageFilters.median3x3(image).pixels.allSatisfy { $0 == 0.4 })
    }
}
