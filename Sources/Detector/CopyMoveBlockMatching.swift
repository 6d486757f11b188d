// Candidate shifts for `CopyMoveConsistency` by matching blocks of the frame with each other.
// Glossary: y = luma in 8-bit levels at the analysed size; a block = the 16 × 16 pixels whose top-left
// corner lies on the 2-pixel lattice; its feature = the means of its 4 × 4 cells of 4 × 4 pixels, less
// their least-squares plane, scaled to unit length; a vote = a pair of blocks whose features match,
// for the shift from one to the other.
import NeuralNet

/// The shifts at which many blocks of a frame match other blocks, each with the place its matches
/// gather.
///
/// A copy repeats every block it covers at one shift, so its shift collects votes from all of them in
/// one place; two real areas match at scattered shifts, and stripes, edges and periodic textures along
/// a line of shifts. The features keep detail from 4 to 16 pixels (finer detail is what a re-encode
/// removes) and leave out the plane a colour correction or a gradient adds, and blocks whose residual
/// is under `leastResidual` (smooth areas match each other everywhere) are not matched.
///
/// Near neighbours are found by locality-sensitive hashing: in each of `tables` tables a block's key is
/// the signs of its feature on `bits` random directions; blocks are sorted by key (then by one more
/// random projection) and each is compared with the next `comparisons` blocks of its key. A pair whose
/// features' cosine is at least `leastSimilarity` votes for its shift (one of each ± pair: dy > 0, or dy =
/// 0 and dx > 0) if the shift is at least the shortest one asked for. A shift's count is the votes
/// within one pixel of it on each axis (blocks lie on a 2-pixel lattice, so an odd shift's pairs fall
/// beside it), and its rank is that count less the largest count `step` pixels away along each axis:
/// a copy is an isolated peak, a line of shifts is not. The hash directions come from a fixed seed, so
/// a frame's candidates are the same on every run.
enum BlockMatching {
    /// Side of a block's cells, in analysed pixels (4 × 4 cells to a block).
    static let cell = 4
    /// Spacing of the blocks' corners.
    static let lattice = 2
    static let tables = 4, bits = 12, comparisons = 8
    /// Least cosine between the features of a matching pair.
    static let leastSimilarity: Float = 0.9
    /// Least RMS of a block's plane residual over its 16 cells, in 8-bit levels.
    static let leastResidual: Float = 2
    /// Side of the squares the densest place of a shift's votes is looked for in.
    static let gathering = 64
    static let seed: UInt64 = 0x636F_7079  // "copy"

    /// A candidate shift, its rank, and the centre of the `gathering`-side square holding most of its
    /// votes' first blocks (analysed pixels).
    struct Candidate: Equatable {
        var dy: Int, dx: Int, rank: Int, y: Int, x: Int
    }

    /// The unit features of the blocks with texture, 16 Floats each, and their corners.
    static func features(_ y: [Float], height h: Int, width w: Int) -> (values: [Float], rows: [Int32], columns: [Int32]) {
        let side = 4 * cell
        guard h >= side, w >= side, y.count == h * w else { return ([], [], []) }
        let means = CopyMoveConsistency.Plane.boxMeans(y, height: h, width: w, side: cell)
        var values: [Float] = [], rows: [Int32] = [], columns: [Int32] = []
        let positions = ((h - side) / lattice + 1) * ((w - side) / lattice + 1)
        values.reserveCapacity(positions * 4)
        var f = [Float](repeating: 0, count: 16)
        // The plane's basis over the 4 × 4 cells: a constant and the two centred coordinates, orthonormal
        // (Σ (a − 1.5)² over the 16 cells is 20).
        let centred: [Float] = [-1.5, -0.5, 0.5, 1.5].map { $0 / Float(20).squareRoot() }
        for r in stride(from: 0, through: h - side, by: lattice) {
            for c in stride(from: 0, through: w - side, by: lattice) {
                var mean: Float = 0, alongRows: Float = 0, alongColumns: Float = 0
                for a in 0..<4 {
                    for b in 0..<4 {
                        let v = means[(r + cell * a + cell / 2) * w + c + cell * b + cell / 2]
                        f[a * 4 + b] = v
                        mean += v; alongRows += v * centred[a]; alongColumns += v * centred[b]
                    }
                }
                mean /= 16
                var norm: Float = 0
                for a in 0..<4 {
                    for b in 0..<4 {
                        let v = f[a * 4 + b] - mean - alongRows * centred[a] - alongColumns * centred[b]
                        f[a * 4 + b] = v
                        norm += v * v
                    }
                }
                norm = norm.squareRoot()
                guard norm >= 4 * leastResidual else { continue }
                for v in f { values.append(v / norm) }
                rows.append(Int32(r)); columns.append(Int32(c))
            }
        }
        return (values, rows, columns)
    }

    /// Every vote: (dy, dx) and the corner of the pair's block the shift starts from.
    static func votes(
        _ features: (values: [Float], rows: [Int32], columns: [Int32]), minimumShift: Int
    ) -> [(dy: Int32, dx: Int32, y: Int32, x: Int32)] {
        let n = features.rows.count
        // A sort key holds the hash (12 bits), the extra projection (31 order-keeping bits) and the block's
        // index (21 bits): at most 2,097,152 blocks, an 8-megapixel analysed frame on the 2-pixel lattice.
        guard n >= 2, n <= 1 << 21 else { return [] }
        var rng = RandomGenerator(seed: seed)
        var out: [(dy: Int32, dx: Int32, y: Int32, x: Int32)] = []
        var keys = [UInt64](repeating: 0, count: n)
        features.values.withUnsafeBufferPointer { u in
            for _ in 0..<tables {
                let directions = (0..<(bits + 1) * 16).map { _ in rng.normal() }
                for i in 0..<n {
                    var hash: UInt64 = 0
                    for b in 0...bits {
                        var p: Float = 0
                        for k in 0..<16 { p += u[i * 16 + k] * directions[b * 16 + k] }
                        if b < bits {
                            if p > 0 { hash |= 1 << UInt64(b) }
                        } else {
                            // Floats ordered as unsigned integers: flip every bit of negatives, the sign of others.
                            let raw = p.bitPattern
                            let ordered = raw & 0x8000_0000 != 0 ? ~raw : raw | 0x8000_0000
                            hash = hash << 52 | UInt64(ordered >> 1) << 21 | UInt64(i)
                        }
                    }
                    keys[i] = hash
                }
                keys.sort()
                for s in 0..<n {
                    let a = Int(keys[s] & 0x1F_FFFF)
                    for t in (s + 1)..<min(n, s + 1 + comparisons) where keys[t] >> 52 == keys[s] >> 52 {
                        let b = Int(keys[t] & 0x1F_FFFF)
                        var cosine: Float = 0
                        for k in 0..<16 { cosine += u[a * 16 + k] * u[b * 16 + k] }
                        guard cosine >= leastSimilarity else { continue }
                        var dy = features.rows[b] - features.rows[a], dx = features.columns[b] - features.columns[a]
                        var first = a
                        if dy < 0 || (dy == 0 && dx < 0) { dy = -dy; dx = -dx; first = b }
                        guard max(abs(Int(dy)), abs(Int(dx))) >= minimumShift else { continue }
                        out.append((dy, dx, features.rows[first], features.columns[first]))
                    }
                }
            }
        }
        return out
    }

    /// The `count` best-ranked shifts, none within 2 pixels (Chebyshev) of a better one; with a `step` of
    /// 0, ranked by count alone.
    static func candidates(
        _ y: [Float], height h: Int, width w: Int, minimumShift: Int, count: Int, step: Int
    ) -> [Candidate] {
        let all = votes(features(y, height: h, width: w), minimumShift: minimumShift)
        guard !all.isEmpty else { return [] }
        let span = 2 * w + 1
        func code(_ dy: Int, _ dx: Int) -> Int { (dy + h) * span + dx + w }
        var counts: [Int: Int] = [:]
        for v in all { counts[code(Int(v.dy), Int(v.dx)), default: 0] += 1 }
        func near(_ c: Int) -> Int {
            var s = 0
            for a in -1...1 { for b in -1...1 { s += counts[c + a * span + b] ?? 0 } }
            return s
        }
        // A rank is at most its count: shifts are taken in order of count until the next count cannot
        // beat the `count`-th rank found.
        let byCount = counts.keys.map { ($0, near($0)) }.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        var ranked: [(code: Int, rank: Int)] = []
        for (c, total) in byCount {
            if ranked.count >= 4 * count, let last = ranked.last, total <= last.rank { break }
            let rank =
                step > 0 ? total - max(near(c + step * span), near(c - step * span), near(c + step), near(c - step)) : total
            let at = ranked.firstIndex { $0.rank < rank } ?? ranked.count
            ranked.insert((c, rank), at: at)
            if ranked.count > 4 * count { ranked.removeLast() }
        }
        var chosen: [Candidate] = []
        for (c, rank) in ranked where rank > 0 {
            let dy = c / span - h, dx = c % span - w
            if chosen.contains(where: { max(abs($0.dy - dy), abs($0.dx - dx)) <= 2 }) { continue }
            // The densest square of this shift's votes.
            var squares: [Int: Int] = [:]
            let across = w / gathering + 1
            for v in all where abs(Int(v.dy) - dy) <= 1 && abs(Int(v.dx) - dx) <= 1 {
                squares[Int(v.y) / gathering * across + Int(v.x) / gathering, default: 0] += 1
            }
            guard let densest = squares.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) })
            else { continue }
            chosen.append(
                Candidate(
                    dy: dy, dx: dx, rank: rank, y: densest.key / across * gathering + gathering / 2,
                    x: densest.key % across * gathering + gathering / 2))
            if chosen.count == count { break }
        }
        return chosen
    }
}
