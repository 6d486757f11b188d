// Owns the seeded random generator: xoshiro256** (Blackman & Vigna 2018) seeded by SplitMix64,
// uniform floats from the top 24 bits, normals by Box–Muller in Double. Same seed → same numbers on
// every machine; the 4-word state can be saved and restored.

/// A seeded, serializable pseudo-random generator (xoshiro256**, SplitMix64 seeding).
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Seeds the four state words with SplitMix64(seed).
    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// Restores a generator from `state` (4 words, not all zero).
    public init(state: [UInt64]) throws {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else {
            throw NeuralNetError.invalidState("RandomGenerator state must be 4 words, not all zero")
        }
        s0 = state[0]; s1 = state[1]; s2 = state[2]; s3 = state[3]
    }

    /// The 4 state words (for serialization).
    public var state: [UInt64] { [s0, s1, s2, s3] }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = RandomGenerator.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = RandomGenerator.rotl(s3, 45)
        return result
    }

    /// A uniform Float in [0, 1) with 24 random bits.
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// A uniform Float in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// A uniform Double in (0, 1] with 53 random bits.
    private mutating func openUnitDouble() -> Double { Double((next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0) }

    /// A standard normal sample (Box–Muller, one sample per two uniforms, no cached spare).
    public mutating func normal() -> Float {
        let u1 = openUnitDouble(), u2 = openUnitDouble()
        return Float((-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2))
    }

    /// A normal sample with `mean` and standard deviation `std`.
    public mutating func normal(mean: Float, std: Float) -> Float { mean + std * normal() }
}

#if canImport(Glibc)
    import Glibc
    @inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
    @inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
    import Foundation
    @inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif
