// A training-free measure of copy-move: whether some part of the frame repeats another part of the
// same frame, texture for texture. Glossary: y = luma in 8-bit levels; bp = y − box5(box5(y)) (a
// band-pass: detail finer than about 10 pixels); z = bp / (RMS of bp over 15 × 15 pixels + 1 level),
// clipped to ±3; boxₖ = the mean over the k × k box centred on a pixel, clipped to the frame; for a
// shift s, ρ_s(x) = boxₖ(z·z(· + s)) / √(boxₖ(z²)·boxₖ(z(· + s)²)), the local correlation of the
// frame with itself moved by s.
import Foundation
import MediaIO

/// Whether an area of the frame is a copy of another area of it.
///
/// A region copied from elsewhere in the same frame carries that frame's own camera noise, demosaicing
/// and compression, so no statistic of the region alone tells it from a real one; what gives it away is
/// the match. Camera content does not repeat at the scale of its finest texture, so a copy's band-pass
/// correlates with its source far more than any two real areas do. The search: the frame's
/// self-correlation over every shift (by FFT), each shift less the largest of the shifts
/// `sharpnessStep` pixels away, yields `candidates` shifts; for each, ρ_s is taken over `window`-side
/// boxes where both sides have texture; and the score at a place is ρ_s less the largest ρ at the
/// shifts `sharpnessStep` pixels away along each axis. Both subtractions rest on one fact: a copy
/// matches at one shift, while an edge, a stripe or a gradient matches along a line of shifts. The
/// frame's evidence is the largest such value v, as atanh(v) (`fisher`): up to 4.95 for a texture
/// repeated exactly at one shift.
/// Shifts shorter than `minimumShift` (Chebyshev) and shifts on the 8-pixel compression grid are left
/// out, because any frame correlates with itself there. Settings and their measurements:
/// Scripts/copy-move-settings.py and Docs/generalization.md (training packages only).
///
/// Frames whose padded transform would exceed `maximumTransform` values are analysed at half, a
/// quarter … of their size (box means), with the box, shortest shift and overlap scaled alike: there a
/// copy's finest detail is averaged away and it must be larger to fill a box.
public enum CopyMoveConsistency {
    /// Side of the boxes the local correlation is taken over, in analysed pixels (at full size; at
    /// least `smallestWindow` when the frame is reduced).
    public static let window = 32
    static let smallestWindow = 16
    /// Shortest shift considered (Chebyshev, full-size pixels).
    public static let minimumShift = 32
    /// Candidate shifts taken from the self-correlation.
    public static let candidates = 20
    /// Distance of the shifts a copy must match better than (full-size pixels; 2 when reduced).
    public static let sharpnessStep = 4
    /// Least mean bp² (8-bit levels²) over a box on both sides of a match: flat areas repeat trivially.
    static let energyFloor: Float = 4
    /// Least overlap of a shift (full-size pixels): shifts by nearly the frame's size compare slivers.
    static let minimumOverlap = 4096
    /// Largest correlation the evidence is taken at: an exact copy's 1 would have no Fisher transform
    /// (atanh(0.9999) = 4.95).
    static let largestCorrelation: Float = 0.9999
    /// Most values of the padded transform (P·Q): 8 M values, two 32 MB Float planes.
    static let maximumTransform = 1 << 23

    /// The reduction factor for a frame of h × w: the smallest power of two f with a padded transform of
    /// ⌊h/f⌋ × ⌊w/f⌋ within `maximumTransform`.
    static func reduction(height h: Int, width w: Int) -> Int {
        var f = 1
        while SelfCorrelation.paddedLength(h / f) * SelfCorrelation.paddedLength(w / f) > maximumTransform { f *= 2 }
        return f
    }

    /// The frame's evidence: Fisher's transform of the largest sharp local correlation; nil for frames
    /// under 64 pixels on a side (no box can be compared with another at least `minimumShift` away), 0
    /// when no shift qualifies or no place matches better than at the neighbouring shifts (which a
    /// calibration reads as no evidence).
    public static func frameScore(_ image: RGBImage) -> Double? { analyse(image)?.score }

    /// The frame's evidence and the box of the matched area: of the two sides of the match (a copy
    /// and its source match alike), the one whose detail keeps the frame's compression grid less
    /// (`gridAlignment`), else the first.
    public static func analyse(_ image: RGBImage) -> (score: Double, region: PixelRegion)? {
        let H = image.height, W = image.width
        guard H >= 64, W >= 64, image.pixels.count == 3 * H * W else { return nil }
        let f = reduction(height: H, width: W)
        let h = H / f, w = W / f
        let luma = ContextDeviation.luma(image)
        let plane = Plane(luma: luma, height: H, width: W, reduction: f)
        let k = max(smallestWindow, window / f)
        let bp = plane.bandPass()
        let squares = bp.map { $0 * $0 }
        let energy = Plane.boxMeans(squares, height: h, width: w, side: k)
        let z = whitened(bp, squares: squares, height: h, width: w)
        let matcher = Matcher(z: z, energy: energy, height: h, width: w, side: k)
        let step = f == 1 ? sharpnessStep : 2
        let shifts = candidateShifts(
            z, height: h, width: w, minimumShift: max(8, minimumShift / f), grid: f < 8 ? 8 / f : 0,
            minimumOverlap: minimumOverlap / (f * f), count: candidates, peakStep: step)
        var best: (score: Float, map: [Float], peak: Int, dy: Int, dx: Int)?
        for s in shifts {
            let rho = matcher.correlation(dy: s.dy, dx: s.dx)
            guard let top = rho.max(), top > (best?.score ?? 0) else { continue }
            let near = [(step, 0), (-step, 0), (0, step), (0, -step)].map {
                matcher.correlation(dy: s.dy + $0.0, dx: s.dx + $0.1)
            }
            var sharp = rho
            for i in sharp.indices { sharp[i] -= max(0, near[0][i], near[1][i], near[2][i], near[3][i]) }
            if let peak = sharp.indices.max(by: { sharp[$0] < sharp[$1] }), sharp[peak] > (best?.score ?? 0) {
                best = (sharp[peak], sharp, peak, s.dy, s.dx)
            }
        }
        guard let best else { return (0, PixelRegion(x: 0, y: 0, width: 0, height: 0)) }
        let first = region(best.map, peak: best.peak, height: h, width: w, side: k, reduction: f)
        let second = PixelRegion(x: first.x + best.dx * f, y: first.y + best.dy * f, width: first.width, height: first.height)
        // The pasted half carries its source's compression grid moved by the shift: of two halves, the one
        // whose detail keeps the frame's 8-pixel grid less is taken for the copy.
        let pasted = gridAlignment(luma, height: H, width: W, box: second) < gridAlignment(luma, height: H, width: W, box: first)
        return (fisher(best.score), pasted ? clipped(second, height: H, width: W) : first)
    }

    /// z: the band-pass `bp` over its RMS in the 15 × 15 box around each value plus 1 level, clipped to
    /// ±3, so that every textured area counts alike; `squares` holds bp².
    static func whitened(_ bp: [Float], squares: [Float], height h: Int, width w: Int) -> [Float] {
        let local = Plane.boxMeans(squares, height: h, width: w, side: 15)
        return zip(bp, local).map { min(3, max(-3, $0 / ((max(0, $1)).squareRoot() + 1))) }
    }

    /// atanh(min(v, `largestCorrelation`)), Fisher's transform of a correlation: it spreads the values
    /// near 1 that tell a copy from a real repeat (0.9 and 0.99 become 1.47 and 2.65) and makes the
    /// real frames' values nearer normal, so that a calibration standardizing them on real frames
    /// (`Standardization`) measures a copy in real frames' standard deviations.
    static func fisher(_ v: Float) -> Double { atanh(Double(min(v, largestCorrelation))) }

    /// `b` clipped to the H × W frame (at least one pixel).
    static func clipped(_ b: PixelRegion, height H: Int, width W: Int) -> PixelRegion {
        let x0 = min(max(0, b.x), W - 1), y0 = min(max(0, b.y), H - 1)
        let x1 = max(x0 + 1, min(W, b.x + b.width)), y1 = max(y0 + 1, min(H, b.y + b.height))
        return PixelRegion(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// How strongly the detail in `box` keeps the frame's 8-pixel compression grid: the mean step
    /// |y(c + 1) − y(c)| across the grid's boundaries (c ≡ 7 mod 8, rows likewise) over the mean step
    /// across the other seven positions, averaged over both axes; about 1 for content with no grid
    /// (never compressed, or compressed with the grid elsewhere), above 1 for content compressed in
    /// place. 1 for boxes of under 16 pixels on a side.
    static func gridAlignment(_ y: [Float], height H: Int, width W: Int, box: PixelRegion) -> Double {
        let b = clipped(box, height: H, width: W)
        guard b.width >= 16, b.height >= 16 else { return 1 }
        // Sum and count of the steps per position mod 8, across columns and down rows.
        var across = [(Double, Int)](repeating: (0, 0), count: 8), down = across
        for r in b.y..<(b.y + b.height) {
            for c in b.x..<(b.x + b.width) {
                if c + 1 < b.x + b.width {
                    across[c % 8].0 += Double(abs(y[r * W + c + 1] - y[r * W + c])); across[c % 8].1 += 1
                }
                if r + 1 < b.y + b.height {
                    down[r % 8].0 += Double(abs(y[(r + 1) * W + c] - y[r * W + c])); down[r % 8].1 += 1
                }
            }
        }
        func ratio(_ e: [(Double, Int)]) -> Double {
            let means = e.map { $0.1 > 0 ? $0.0 / Double($0.1) : 0 }
            let others = means[0..<7].reduce(0, +) / 7
            return others > 0 ? means[7] / others : 1
        }
        return (ratio(across) + ratio(down)) / 2
    }

    /// The 4-connected places around `peak` whose value is at least half the peak's, widened by half a
    /// box on each side, in full-size pixels and clipped to the frame.
    static func region(_ map: [Float], peak: Int, height h: Int, width w: Int, side k: Int, reduction f: Int) -> PixelRegion {
        let level = map[peak] / 2
        var seen = [Bool](repeating: false, count: map.count)
        var stack = [peak]
        seen[peak] = true
        var minR = peak / w, maxR = minR, minC = peak % w, maxC = minC
        while let i = stack.popLast() {
            let r = i / w, c = i % w
            minR = min(minR, r); maxR = max(maxR, r); minC = min(minC, c); maxC = max(maxC, c)
            for (rr, cc) in [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)]
            where rr >= 0 && rr < h && cc >= 0 && cc < w && !seen[rr * w + cc] && map[rr * w + cc] >= level {
                seen[rr * w + cc] = true
                stack.append(rr * w + cc)
            }
        }
        let x0 = max(0, minC - k / 2) * f, y0 = max(0, minR - k / 2) * f
        let x1 = min(w, maxC - k / 2 + k) * f, y1 = min(h, maxR - k / 2 + k) * f
        return PixelRegion(x: x0, y: y0, width: max(1, x1 - x0), height: max(1, y1 - y0))
    }

    /// The `count` shifts (dy > 0, or dy = 0 and dx > 0: one of each ± pair) of largest v = r /
    /// √overlap, less (for a `peakStep` d > 0) the largest v at the indices d away along each axis,
    /// best first: a copy is an isolated peak of v, while stripes, edges and the frame's own long
    /// structures make ridges of it that would otherwise fill the candidates of a large frame. Shifts
    /// under `minimumShift` (Chebyshev), shifts on the `grid` on both axes (none for 0) and overlaps
    /// under `minimumOverlap` are left out. The transform is circular, so an index
    /// holds the sum of two shifts' products (i and i − P on each axis, where both overlap the frame);
    /// each is a candidate with the index's value, and its own overlap must pass.
    static func candidateShifts(
        _ z: [Float], height h: Int, width w: Int, minimumShift: Int, grid: Int, minimumOverlap: Int, count: Int,
        peakStep: Int = 0
    ) -> [(dy: Int, dx: Int)] {
        guard let r = SelfCorrelation.circular(z, height: h, width: w) else { return [] }
        // Per axis index: the shifts it stands for with their overlaps, and the overlaps' total.
        func axis(_ n: Int, _ N: Int) -> [(shifts: [(shift: Int, overlap: Int)], total: Int)] {
            (0..<N).map { i in
                let both = [(i, n - i), (i - N, n - (N - i))].filter { $0.1 > 0 }
                return (both, both.reduce(0) { $0 + $1.1 })
            }
        }
        let ys = axis(h, r.rows), xs = axis(w, r.columns)
        let P = r.rows, Q = r.columns
        var normalized = [Float](repeating: 0, count: P * Q)
        for (i, y) in ys.enumerated() where y.total > 0 {
            for (j, x) in xs.enumerated() where x.total > 0 {
                normalized[i * Q + j] = r.values[i * Q + j] / Float(Double(y.total * x.total).squareRoot())
            }
        }
        var top: [(value: Float, dy: Int, dx: Int)] = []
        for (i, y) in ys.enumerated() where y.total > 0 {
            for (j, x) in xs.enumerated() where x.total > 0 {
                var v = normalized[i * Q + j]
                if peakStep > 0 {
                    let d = peakStep
                    v -= max(
                        normalized[((i + d) % P) * Q + j], normalized[((i - d + P) % P) * Q + j],
                        normalized[i * Q + (j + d) % Q], normalized[i * Q + (j - d + Q) % Q])
                }
                if top.count == count, let last = top.last, v <= last.value { continue }
                for sy in y.shifts where sy.shift >= 0 {
                    for sx in x.shifts {
                        if sy.shift == 0 && sx.shift <= 0 { continue }
                        if abs(sy.shift) < minimumShift && abs(sx.shift) < minimumShift { continue }
                        if grid > 0 && sy.shift % grid == 0 && sx.shift % grid == 0 { continue }
                        if sy.overlap * sx.overlap < minimumOverlap { continue }
                        let at = top.firstIndex { $0.value < v } ?? top.count
                        top.insert((v, sy.shift, sx.shift), at: at)
                        if top.count > count { top.removeLast() }
                    }
                }
            }
        }
        return top.map { ($0.dy, $0.dx) }
    }

    /// The luma plane at the analysed size.
    struct Plane {
        var values: [Float], height: Int, width: Int

        /// `luma` (H × W, 0…1) in 8-bit levels, averaged over f × f boxes (the ⌊H/f⌋ × ⌊W/f⌋ whole ones).
        init(luma: [Float], height H: Int, width W: Int, reduction f: Int) {
            height = H / f; width = W / f
            values = [Float](repeating: 0, count: height * width)
            let scale = 255 / Float(f * f)
            for r in 0..<height {
                for c in 0..<width {
                    var s: Float = 0
                    for a in 0..<f { for b in 0..<f { s += luma[(r * f + a) * W + c * f + b] } }
                    values[r * width + c] = s * scale
                }
            }
        }

        /// y − box5(box5(y)).
        func bandPass() -> [Float] {
            let low = Plane.boxMeans(
                Plane.boxMeans(values, height: height, width: width, side: 5), height: height, width: width, side: 5)
            return zip(values, low).map { $0 - $1 }
        }

        /// Mean over the side × side box around each value (rows r − side/2 …< r − side/2 + side,
        /// likewise columns), clipped to the plane; separable, with Double running sums.
        static func boxMeans(_ a: [Float], height h: Int, width w: Int, side k: Int) -> [Float] {
            var rows = [Float](repeating: 0, count: h * w)
            var prefix = [Double](repeating: 0, count: w + 1)
            for r in 0..<h {
                for c in 0..<w { prefix[c + 1] = prefix[c] + Double(a[r * w + c]) }
                for c in 0..<w {
                    let c0 = max(0, c - k / 2), c1 = min(w, c - k / 2 + k)
                    rows[r * w + c] = Float((prefix[c1] - prefix[c0]) / Double(c1 - c0))
                }
            }
            var out = [Float](repeating: 0, count: h * w)
            var running = [Double](repeating: 0, count: w)
            var r0 = 0, r1 = 0  // rows r0 ..< r1 are in `running`
            for r in 0..<h {
                let lo = max(0, r - k / 2), hi = min(h, r - k / 2 + k)
                while r1 < hi { for c in 0..<w { running[c] += Double(rows[r1 * w + c]) }; r1 += 1 }
                while r0 < lo { for c in 0..<w { running[c] -= Double(rows[r0 * w + c]) }; r0 += 1 }
                let n = Double(hi - lo)
                for c in 0..<w { out[r * w + c] = Float(running[c] / n) }
            }
            return out
        }
    }

    /// Local correlations of one whitened plane with itself moved.
    struct Matcher {
        let z: [Float], energy: [Float], height: Int, width: Int, side: Int
        let zz: [Float]

        init(z: [Float], energy: [Float], height: Int, width: Int, side: Int) {
            self.z = z; self.energy = energy; self.height = height; self.width = width; self.side = side
            zz = Plane.boxMeans(z.map { $0 * $0 }, height: height, width: width, side: side)
        }

        /// ρ_s at every place, 0 where either side's box has a mean bp² under `energyFloor` or x + s
        /// leaves the frame (there is nothing to match).
        func correlation(dy: Int, dx: Int) -> [Float] {
            let h = height, w = width, n = h * w
            var zb = [Float](repeating: 0, count: n), bb = [Float](repeating: 0, count: n)
            var shiftedEnergy = [Float](repeating: 0, count: n)
            for r in max(0, -dy)..<max(max(0, -dy), min(h, h - dy)) {
                for c in max(0, -dx)..<max(max(0, -dx), min(w, w - dx)) {
                    let i = r * w + c, j = (r + dy) * w + c + dx
                    zb[i] = z[i] * z[j]; bb[i] = z[j] * z[j]; shiftedEnergy[i] = energy[j]
                }
            }
            let m = Plane.boxMeans(zb, height: h, width: w, side: side)
            let v = Plane.boxMeans(bb, height: h, width: w, side: side)
            var rho = [Float](repeating: 0, count: n)
            for i in 0..<n where min(energy[i], shiftedEnergy[i]) >= CopyMoveConsistency.energyFloor {
                rho[i] = m[i] / ((max(0, zz[i] * v[i])).squareRoot() + 1e-3)
            }
            return rho
        }
    }
}
