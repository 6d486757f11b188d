// Owns the registry of fake-maker families: the built-in families, selection and exclusion by family
// or group name (for leave-one-family-out runs; unknown names throw), and the seeded choice of a family
// for one training or evaluation sample, with the real and fake frames put through one shared encoding.
import Foundation
import MediaIO
import NeuralNet

/// A named set of fake families.
public struct FakeZoo {
    /// The families in registration order.
    public let families: [any FakeFamily]

    /// A zoo of `families`; names must be unique.
    public init(families: [any FakeFamily]) throws {
        var seen = Set<String>()
        for family in families where !seen.insert(family.name).inserted { throw FakeZooError.duplicateFamily(family.name) }
        self.families = families
    }

    /// Every built-in family: classical edits, self-blend, and random-weight upsampling decoders.
    public static func standard() -> FakeZoo {
        let families: [any FakeFamily] =
            [
                ResampleFamily(), DenoiseFamily(), CopyMoveFamily(), SpliceFamily(), JPEGRegionFamily(),
                SelfBlendFamily(),
            ] + DecoderUpsampler.allCases.map { RandomDecoderFamily(upsampler: $0) }
        return FakeZoo(distinct: families)
    }

    /// A zoo of families already known to have distinct names (the built-ins, asserted by the tests).
    private init(distinct families: [any FakeFamily]) { self.families = families }

    /// Family names in registration order.
    public var names: [String] { families.map(\.name) }

    /// Group names in order of first appearance.
    public var groups: [String] {
        var seen = Set<String>()
        return families.map(\.group).filter { seen.insert($0).inserted }
    }

    /// The family called `name`.
    public func family(named name: String) throws -> any FakeFamily {
        guard let family = families.first(where: { $0.name == name }) else { throw unknown(name) }
        return family
    }

    /// The families named, or belonging to the groups named, in registration order. A name is
    /// looked up as a family first, then as a group; unknown names throw.
    public func selecting(_ names: [String]) throws -> FakeZoo {
        let chosen = try resolve(names)
        return try FakeZoo(families: families.filter { chosen.contains($0.name) })
    }

    /// Every family except those named or in the groups named (leave-one-family-out); unknown names throw.
    public func excluding(_ names: [String]) throws -> FakeZoo {
        let left = try resolve(names)
        return try FakeZoo(families: families.filter { !left.contains($0.name) })
    }

    /// A zoo with `family` added (e.g. one that loads a trained generator file); its name must be new.
    public func adding(_ family: any FakeFamily) throws -> FakeZoo { try FakeZoo(families: families + [family]) }

    /// The family a sample with `seed` uses: uniform over the families that can run (donor families
    /// only when a donor is available).
    public func family(forSeed seed: UInt64, donorAvailable: Bool) throws -> any FakeFamily {
        let usable = families.filter { donorAvailable || !$0.needsDonor }
        guard !usable.isEmpty else {
            throw FakeZooError.noFamily(
                families.isEmpty ? "the zoo is empty" : "every family left (\(names.joined(separator: ", "))) needs a donor frame"
            )
        }
        var rng = ZooStream.familyChoice.generator(seed: seed)
        return usable[RegionMask.randomIndex(usable.count, &rng)]
    }

    /// A fake of `real` by the family `seed` picks (see `family(forSeed:donorAvailable:)`).
    public func makeFake(
        real: RGBImage, donor: RGBImage? = nil, seed: UInt64, options: ZooOptions = ZooOptions()
    ) throws -> ZooFake {
        try family(forSeed: seed, donorAvailable: donor != nil).makeFake(real: real, donor: donor, seed: seed, options: options)
    }

    /// A training or evaluation pair: a fake of `real` by the family `seed` picks, then `real` and the
    /// fake through the same re-encoding drawn from `seed`.
    public func makeSample(
        real: RGBImage, donor: RGBImage? = nil, seed: UInt64, options: ZooOptions = ZooOptions(),
        encoding: EncodingConfig = EncodingConfig()
    ) throws -> ZooSample {
        let fake = try makeFake(real: real, donor: donor, seed: seed, options: options)
        return try SharedEncoding.encode(real: real, fake: fake, seed: seed, config: encoding)
    }

    private func resolve(_ names: [String]) throws -> Set<String> {
        var chosen = Set<String>()
        for name in names {
            if families.contains(where: { $0.name == name }) {
                chosen.insert(name)
            } else if families.contains(where: { $0.group == name }) {
                chosen.formUnion(families.filter { $0.group == name }.map(\.name))
            } else {
                throw unknown(name)
            }
        }
        return chosen
    }

    private func unknown(_ name: String) -> FakeZooError { .unknownName(name, families: names, groups: groups) }
}
