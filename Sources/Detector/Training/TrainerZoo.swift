// Owns the zoo fakes of the D step: a region made by one of the fake-maker zoo's families (all of
// them but the held-out ones) inside a context crop of a real frame, then cut to a P×P patch that
// contains the region, with the region's mask for the per-cell targets.
// Glossary: P patch side, C = 2P context side (families see the region's surroundings, e.g. copy-move
// sources and the colour correction's low-pass).
import Foundation
import MediaIO
import NeuralNet

/// Which zoo families a training run learns from, and the regions they replace inside patches.
public struct ZooTrainingConfig: Codable, Equatable, Sendable {
    /// Families or groups never used (the held-out ones of a leave-one-family-out run).
    public var excluded: [String] = []
    /// Sides of the replaced region in pixels, each clamped to the patch side.
    public var regionSide: ClosedRange<Int> = 12...64
    /// Feather widths of the region's edge in pixels.
    public var feather: ClosedRange<Int> = 0...8
    /// Probability of colour correction (families that allow it).
    public var colourCorrection = 0.5
    /// A folder of trained generators (Models/zoo) whose families join the built-in ones; nil = none.
    public var trainedGenerators: String? = nil
    /// Zoo pairs kept ready (see `Trainer.pooledZooPairs`); nil or 0 = every zoo fake made fresh.
    public var pool: Int? = nil
    /// Pool entries redrawn per step (default 4).
    public var poolRefresh: Int? = nil
    /// Side of the crop each pooled fake is made in (nil = 2P; 2P…8P). With a larger context the
    /// pool's regions may exceed the patch (sides up to the context − 2), and a pair's window shows
    /// part of such a region, as a scan's windows see a large one (`Trainer.windowOrigin`).
    public var contextSide: Int? = nil

    /// Largest pool: each 64-pixel pair holds 112 KiB.
    public static let maximumPool = 32768

    public init(excluded: [String] = [], trainedGenerators: String? = nil) {
        self.excluded = excluded; self.trainedGenerators = trainedGenerators
    }

    /// The families this configuration trains on: the built-in zoo (plus the trained generators'
    /// families) without the excluded names. Throws for unknown names, unreadable generator files and
    /// when nothing is left.
    public func zoo() throws -> FakeZoo {
        let all = try FakeZoo.standard(trainedGenerators: trainedGenerators)
        let zoo = try all.excluding(excluded)
        guard !zoo.families.isEmpty else {
            throw DetectorError.invalidConfiguration(
                "excluding \(excluded.joined(separator: ", ")) leaves no zoo family to train on")
        }
        return zoo
    }

    func validate() throws {
        guard regionSide.lowerBound >= 4, feather.lowerBound >= 0, (0...1).contains(colourCorrection) else {
            throw DetectorError.invalidConfiguration(
                "zoo regions need sides ≥ 4, feathers ≥ 0 and a colour-correction probability in 0…1")
        }
        guard (0...ZooTrainingConfig.maximumPool).contains(pool ?? 0), (0...max(1, pool ?? 0)).contains(poolRefresh ?? 0)
        else {
            throw DetectorError.invalidConfiguration(
                "the zoo pool holds 0…\(ZooTrainingConfig.maximumPool) pairs and refreshes at most all of them per step")
        }
        _ = try zoo()
    }

    /// The zoo's options for regions inside a `patchSide` patch: at most patchSide − 2 pixels wide, so
    /// that a window holding the whole region can start at an even offset (see `Trainer.window`), or
    /// with a `contextSide`, at most contextSide − 2.
    func options(patchSide: Int, contextSide: Int? = nil) -> ZooOptions {
        var options = ZooOptions()
        let largest = max(1, (contextSide ?? patchSide) - 2)
        options.mask.side = min(regionSide.lowerBound, largest)...min(regionSide.upperBound, largest)
        options.mask.feather = feather
        options.colourCorrection = colourCorrection
        return options
    }
}

extension Trainer {
    /// `count` pairs from the zoo pool for this step's zoo fakes, or none without a pool. The pool is
    /// filled from the training files on first use (and again after a resume: it is not checkpointed),
    /// then `poolRefresh` random entries are redrawn per step, so a pair is seen several times while the
    /// pool still turns over. A pair brings its real partner: the same window without the region after
    /// the same re-encoding, which the batch uses as one of its real rows, so the two rows differ only
    /// by the fake region.
    func pooledZooPairs(count: Int, rng: inout RandomGenerator) -> [ZooPair] {
        guard count > 0, let zoo, let zooConfig = config.zoo, let size = zooConfig.pool, size > 0 else { return [] }
        let options = zooConfig.options(patchSide: P, contextSide: zooConfig.contextSide)
        func draw() -> ZooPair? {
            try? ZooPair.draw(
                from: data.real.training, zoo: zoo, options: options, encoding: EncodingConfig(), side: P,
                context: zooConfig.contextSide, minimumTextureEnergy: config.minimumTextureEnergy, rng: &rng)
        }
        if zooPool.isEmpty {
            zooPool = (0..<size).compactMap { _ in draw() }
            guard !zooPool.isEmpty else { return [] }
        } else {
            for _ in 0..<(zooConfig.poolRefresh ?? 4) {
                if let pair = draw() { zooPool[Int(rng.next() % UInt64(zooPool.count))] = pair }
            }
        }
        return (0..<count).map { _ in zooPool[Int(rng.next() % UInt64(zooPool.count))] }
    }

    /// A zoo fake patch: a region made by the family the drawn seed picks, inside a 2P context crop of
    /// a real training frame (a second crop is the donor for splices), cut to a P×P window containing
    /// the whole region. Nil when the run has no zoo or the family failed (the caller draws another kind).
    func zooFake(sources: [MediaSource], rng: inout RandomGenerator) -> FakePatch? {
        guard let zoo, let zooConfig = config.zoo else { return nil }
        let C = 2 * P
        let context = PatchOps.texturedCrop(
            randomFrame(of: sources, rng: &rng), size: C, minimumEnergy: config.minimumTextureEnergy, rng: &rng)
        let donor = PatchOps.texturedCrop(
            randomFrame(of: sources, rng: &rng), size: C, minimumEnergy: config.minimumTextureEnergy, rng: &rng)
        guard
            let fake = try? zoo.makeFake(
                real: context, donor: donor, seed: rng.next(), options: zooConfig.options(patchSide: P))
        else { return nil }
        return Trainer.window(of: fake, side: P, rng: &rng)
    }

    /// A side×side window of `fake` that contains its mask's box (at most side − 2 wide and high), at a
    /// random even offset, with the mask cut alike. Context crops start at even frame coordinates, so
    /// the window keeps the frame's 2×2 grid as real patches and inference windows do (NPR inputs
    /// depend on it).
    static func window(of fake: ZooFake, side: Int, rng: inout RandomGenerator) -> FakePatch {
        let W = fake.image.width, H = fake.image.height
        let (x0, y0) = windowOrigin(containing: fake.mask.box, width: W, height: H, side: side, rng: &rng)
        let image = ImageFilters.crop(fake.image, x: x0, y: y0, width: side, height: side)
        var mask = [Float](repeating: 0, count: side * side)
        for y in 0..<side where y0 + y < H {
            for x in 0..<side where x0 + x < W { mask[y * side + x] = fake.mask.values[(y0 + y) * W + x0 + x] }
        }
        return FakePatch(image: image, mask: mask, kind: .zoo)
    }

    /// The top-left corner of a side×side window of a width×height frame that contains `box`, at a
    /// random even offset where one exists. On an axis where the box is longer than the window, the
    /// window's centre lies anywhere over the box instead: inside it, or across its edge.
    static func windowOrigin(
        containing box: PixelRegion, width W: Int, height H: Int, side: Int, rng: inout RandomGenerator
    ) -> (x: Int, y: Int) {
        func origin(_ start: Int, _ length: Int, _ limit: Int) -> Int {
            let low: Int, high: Int
            if length > side {
                low = max(0, min(start - side / 2, limit - side))
                high = max(low, min(start + length - side / 2, limit - side))
            } else {
                low = max(0, start + length - side)
                high = max(low, min(start, limit - side))
            }
            let evenLow = (low + 1) / 2 * 2, evenHigh = high / 2 * 2
            guard evenLow <= evenHigh else { return low }
            return evenLow + 2 * Int(rng.next() % UInt64((evenHigh - evenLow) / 2 + 1))
        }
        let x = origin(box.x, box.width, W)
        return (x, origin(box.y, box.height, H))
    }
}
