// Owns zoo pairs: a P×P window of a real frame and the same window with a region made by a zoo
// family, both through one shared re-encoding, with the region's mask. The learnability probe trains
// on fixed sets of them; the trainer's zoo pool draws from and refreshes a set of them.
// Glossary: P patch side, C context side (2P unless asked; families see the region's surroundings).
import Foundation
import MediaIO
import NeuralNet

/// A real patch and the same patch with a fake region, after one shared re-encoding.
public struct ZooPair: Sendable {
    public var real: RGBImage
    public var fake: RGBImage
    /// P×P, 1 where the fake region replaced the pixels.
    public var mask: [Float]
    public var family: String

    /// A pair from a random frame of `sources`: a textured C×C context crop (C = `context`, default 2P;
    /// a second crop is the donor of families that need one) faked by the family the drawn seed
    /// picks, both through the re-encoding the seed picks, then cut to a P×P window holding the whole
    /// region, or, for a region larger than P, a window over part of it (`Trainer.windowOrigin`). A
    /// family that fails on a crop is tried again with new crops and a new seed, up to 8 times.
    /// With `minimumRegionChange` > 0 a pair whose window changed by less than that (`regionChange`,
    /// after the re-encoding) is redrawn the same way, up to the same 8 attempts; the eighth is kept.
    static func draw(
        from sources: [MediaSource], zoo: FakeZoo, options: ZooOptions, encoding: EncodingConfig, side P: Int,
        context: Int? = nil, minimumTextureEnergy: Float, minimumRegionChange: Float = 0, rng: inout RandomGenerator
    ) throws -> ZooPair {
        let C = context ?? 2 * P
        func crop() -> RGBImage {
            let source = sources[Int(rng.next() % UInt64(sources.count))]
            let frame = source.frames[Int(rng.next() % UInt64(source.frames.count))]
            return PatchOps.texturedCrop(frame, size: C, minimumEnergy: minimumTextureEnergy, rng: &rng)
        }
        var attempt = 0
        while true {
            attempt += 1
            let context = crop(), donor = crop()
            let sample: ZooSample
            do {
                sample = try zoo.makeSample(real: context, donor: donor, seed: rng.next(), options: options, encoding: encoding)
            } catch {
                if attempt >= 8 { throw error }
                continue
            }
            let (x0, y0) = Trainer.windowOrigin(containing: sample.mask.box, width: C, height: C, side: P, rng: &rng)
            var mask = [Float](repeating: 0, count: P * P)
            for y in 0..<P { for x in 0..<P { mask[y * P + x] = sample.mask.values[(y0 + y) * C + x0 + x] } }
            let pair = ZooPair(
                real: ImageFilters.crop(sample.real, x: x0, y: y0, width: P, height: P),
                fake: ImageFilters.crop(sample.fake, x: x0, y: y0, width: P, height: P), mask: mask, family: sample.family)
            if minimumRegionChange > 0, attempt < 8, pair.regionChange < minimumRegionChange { continue }
            return pair
        }
    }

    /// Mean |fake − real| over the window's pixels the mask touches and the three channels (0 when it
    /// touches none): how visible the fake is in this window, after the shared re-encoding.
    var regionChange: Float {
        Float(
            RegionStatistics.change(
                real: real, fake: fake, mask: mask, box: PixelRegion(x: 0, y: 0, width: real.width, height: real.height)))
    }
}
