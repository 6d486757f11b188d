// Owns what a fake-maker family is (`FakeFamily`: a stable name, a group, and the synthesis of a
// region's content) and the one path every family's fakes take: seeded region mask → synthesis →
// optional colour correction → compositing into the real frame.
// Glossary: box the region mask's bounding box; a "patch" is box-sized synthetic content in 0…1.
import Foundation
import MediaIO
import NeuralNet

/// Errors of the fake-maker zoo; each names what to change.
public enum FakeZooError: Error, Equatable, CustomStringConvertible {
    /// A name that is neither a family nor a group of the zoo.
    case unknownName(String, families: [String], groups: [String])
    /// Two families with one name.
    case duplicateFamily(String)
    /// A family that needs a donor frame (e.g. splice) was called without one.
    case donorRequired(family: String)
    /// No family can make the requested fake (empty zoo, or only donor families and no donor).
    case noFamily(String)

    public var description: String {
        switch self {
        case .unknownName(let name, let families, let groups):
            return "unknown fake family or group '\(name)'; families: \(families.joined(separator: ", ")); "
                + "groups: \(groups.joined(separator: ", "))"
        case .duplicateFamily(let name): return "two fake families are named '\(name)'"
        case .donorRequired(let family): return "fake family '\(family)' needs a donor frame"
        case .noFamily(let reason): return "no fake family can run: \(reason)"
        }
    }
}

/// The content a family puts into a region, plus what it drew (for logs and reports).
public struct RegionSynthesis {
    /// Box-sized content (the mask's box), values in 0…1.
    public var patch: RGBImage
    /// Parameters drawn for this fake, e.g. ["factor": "0.42", "down": "bicubic"].
    public var parameters: [String: String]

    public init(patch: RGBImage, parameters: [String: String] = [:]) {
        self.patch = patch; self.parameters = parameters
    }
}

/// A way of making fake regions, selectable by name in training and evaluation.
///
/// A family only synthesizes the content of the region; `makeFake` draws the mask, corrects colours
/// and composites, so every family honours the mask the same way. Families holding trained
/// generators (loaded from generator files) conform the same way and are added with `FakeZoo.adding`.
public protocol FakeFamily {
    /// Stable name, e.g. "resample" (used on command lines and in logs; never renamed).
    var name: String { get }
    /// Group for coarse leave-out runs, e.g. "classical".
    var group: String { get }
    /// Whether `synthesize` needs a donor frame (splice).
    var needsDonor: Bool { get }
    /// Whether colour correction may be applied to this family's content.
    var allowsColourCorrection: Bool { get }
    /// The content of `mask.box` for a fake of `frame`; draws every choice from `rng`.
    func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis
}

extension FakeFamily {
    public var needsDonor: Bool { false }
    public var allowsColourCorrection: Bool { true }
}

/// Options shared by all families.
public struct ZooOptions: Codable, Equatable, Sendable {
    public var mask = RegionMaskConfig()
    /// Probability that colour correction is applied (families that allow it).
    public var colourCorrection = 0.5

    public init() {}
}

/// A fake frame and where it is fake.
public struct ZooFake {
    public var image: RGBImage
    public var mask: RegionMask
    public var family: String
    public var group: String
    public var colourCorrected: Bool
    public var parameters: [String: String]
}

/// Independent random streams derived from one seed, so that e.g. the encoding choice does not
/// shift when a family draws one more number.
enum ZooStream: UInt64 {
    case fake = 0
    case encoding = 1
    case familyChoice = 2

    /// A generator for this purpose of `seed` (SplitMix64-style mixing of seed and purpose).
    func generator(seed: UInt64) -> RandomGenerator {
        var z = seed &+ rawValue &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return RandomGenerator(seed: z ^ (z >> 31))
    }
}

extension FakeFamily {
    /// A fake of `real`, reproducible from (seed, real, donor): the mask is drawn first (so one seed
    /// gives the same region in every family), then colour correction (with `options.colourCorrection`,
    /// if allowed), then the family's content. Pixels where the mask is 0 equal `real` exactly.
    public func makeFake(
        real: RGBImage, donor: RGBImage? = nil, seed: UInt64, options: ZooOptions = ZooOptions()
    ) throws -> ZooFake {
        try checkFrames(real: real, donor: donor)
        var rng = ZooStream.fake.generator(seed: seed)
        let mask = try RegionMask.random(width: real.width, height: real.height, config: options.mask, rng: &rng)
        return try composite(real: real, donor: donor, mask: mask, options: options, rng: &rng)
    }

    /// A fake of `real` replacing a given `mask` (e.g. a region chosen on a command line), reproducible
    /// from (seed, real, donor, mask): colour correction is drawn first, then the family's content.
    public func makeFake(
        real: RGBImage, donor: RGBImage? = nil, mask: RegionMask, seed: UInt64, options: ZooOptions = ZooOptions()
    ) throws -> ZooFake {
        try checkFrames(real: real, donor: donor)
        guard mask.width == real.width, mask.height == real.height else {
            throw DetectorError.invalidInput(
                "a \(mask.width)×\(mask.height) mask does not fit a \(real.width)×\(real.height) frame")
        }
        var rng = ZooStream.fake.generator(seed: seed)
        return try composite(real: real, donor: donor, mask: mask, options: options, rng: &rng)
    }

    private func checkFrames(real: RGBImage, donor: RGBImage?) throws {
        guard real.width > 0, real.height > 0, real.pixels.count == 3 * real.planeCount else {
            throw DetectorError.invalidInput("cannot fake a \(real.width)×\(real.height) frame")
        }
        if needsDonor {
            guard let donor else { throw FakeZooError.donorRequired(family: name) }
            guard donor.width > 0, donor.height > 0, donor.pixels.count == 3 * donor.planeCount else {
                throw DetectorError.invalidInput("donor frame of \(donor.width)×\(donor.height) is empty or malformed")
            }
        }
    }

    /// Colour correction (drawn with `options.colourCorrection`, if allowed), the family's content
    /// for `mask.box`, and the composite into `real`.
    private func composite(
        real: RGBImage, donor: RGBImage?, mask: RegionMask, options: ZooOptions, rng: inout RandomGenerator
    ) throws -> ZooFake {
        let correct = allowsColourCorrection && Double(rng.uniform()) < options.colourCorrection
        var synthesis = try synthesize(frame: real, donor: donor, mask: mask, rng: &rng)
        guard synthesis.patch.width == mask.box.width, synthesis.patch.height == mask.box.height else {
            throw DetectorError.invalidConfiguration(
                "fake family '\(name)' made a \(synthesis.patch.width)×\(synthesis.patch.height) patch for a "
                    + "\(mask.box.width)×\(mask.box.height) region")
        }
        for i in 0..<synthesis.patch.pixels.count where !synthesis.patch.pixels[i].isFinite { synthesis.patch.pixels[i] = 0 }
        ImageFilters.clamp(&synthesis.patch)
        if correct { synthesis.patch = Compositor.colourCorrected(patch: synthesis.patch, real: real, mask: mask) }
        return ZooFake(
            image: Compositor.composite(real: real, patch: synthesis.patch, mask: mask), mask: mask, family: name,
            group: group, colourCorrected: correct, parameters: synthesis.parameters)
    }
}

/// Formats a drawn parameter for `RegionSynthesis.parameters`.
func parameterText(_ value: Float) -> String { String(format: "%.3g", Double(value)) }

/// Draws one element of `items`; an empty list (a family configured with no choices) throws.
func randomElement<T>(_ items: [T], _ rng: inout RandomGenerator, _ what: String) throws -> T {
    guard !items.isEmpty else { throw DetectorError.invalidConfiguration("fake family has no \(what) to draw from") }
    return items[RegionMask.randomIndex(items.count, &rng)]
}
