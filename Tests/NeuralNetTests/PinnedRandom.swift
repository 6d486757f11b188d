// Pinned first outputs of RandomGenerator (recorded once from this implementation; any change breaks
// reproducibility of seeded initializations).
enum PinnedRandom {
    static let firstUInt64Seed0: UInt64 = 11_091_344_671_253_066_420
    static let uniformsSeed7: [Float] = [0.7005764, 0.2787512, 0.83962744]
    static let normalsSeed7: [Float] = [-0.15157275, 0.58709955, 0.094471864]
}
