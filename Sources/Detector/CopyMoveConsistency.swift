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
/// correlates with its source far more than any two real areas do. The search: blocks of the frame are
/// matched with each other (`BlockMatching`), and the `candidates` shifts most blocks agree on, each
/// with the place its matches gather, are checked there: within `reach` pixels of that place, ρ_s is
/// taken over `window`-side boxes where both sides have texture (at the voted shift or the one a pixel
/// away that correlates most), and the score at a place is ρ_s less the largest ρ at the shifts
/// `sharpnessStep` pixels away along each axis. Both the ranking of the votes and that subtraction rest
/// on one fact: a copy matches at one shift, while an edge, a stripe or a gradient matches along a line
/// of shifts. The frame's evidence is the largest such value v, as atanh(v) (`fisher`): up to 4.95 for
/// a texture repeated exactly at one shift.
/// Shifts shorter than `minimumShift` (Chebyshev) and shifts on the 8-pixel compression grid are left
/// out, because any frame correlates with itself there. Settings and their measurements:
/// Scripts/copy-move-settings.py and Docs/generalization.md (training packages only).
///
/// Frames of more than `maximumPixels` pixels are analysed at half, a quarter … of their size (box
/// means), with the box, shortest shift and sharpness step scaled alike: there a copy's finest detail
/// is averaged away and it must be larger to fill a box.
public enum CopyMoveConsistency {
    /// Side of the boxes the local correlation is taken over, in analysed pixels (at full size; at
    /// least `smallestWindow` when the frame is reduced).
    public static let window = 32
    static let smallestWindow = 16
    /// Shortest shift considered (Chebyshev, full-size pixels).
    public static let minimumShift = 32
    /// Candidate shifts taken from the block matching.
    public static let candidates = 20
    /// Distance of the shifts a copy must match better than (full-size pixels; 2 when reduced).
    public static let sharpnessStep = 4
    /// Least mean bp² (8-bit levels²) over a box on both sides of a match: flat areas repeat trivially.
    static let energyFloor: Float = 4
    /// Half the side of the square, around the place a candidate's votes gather, that the candidate is
    /// checked in (analysed pixels): room for the largest regions the zoo pastes, 256 pixels, and a box.
    static let reach = 208
    /// Largest correlation the evidence is taken at: an exact copy's 1 would have no Fisher transform
    /// (atanh(0.9999) = 4.95).
    static let largestCorrelation: Float = 0.9999
    /// Most pixels analysed: 8 M, whose 2 M blocks on `BlockMatching`'s lattice (128 MB of features)
    /// its sort keys can index.
    static let maximumPixels = 1 << 23

    /// The reduction factor for a frame of h × w: the smallest power of two f with ⌊h/f⌋ × ⌊w/f⌋ within
    /// `maximumPixels`.
    static func reduction(height h: Int, width w: Int) -> Int {
        var f = 1
        while (h / f) * (w / f) > maximumPixels { f *= 2 }
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
        let local = Plane.boxMeans(squares, height: h, width: w, side: 15)
        var z = [Float](repeating: 0, count: h * w)
        for i in z.indices { z[i] = min(3, max(-3, bp[i] / ((max(0, local[i])).squareRoot() + 1))) }
        let matcher = Matcher(z: z, energy: energy, height: h, width: w, side: k)
        let step = f == 1 ? sharpnessStep : 2
        let shortest = max(8, minimumShift / f), grid = f < 8 ? 8 / f : 0
        func allowed(_ dy: Int, _ dx: Int) -> Bool {
            max(abs(dy), abs(dx)) >= shortest && !(grid > 0 && dy % grid == 0 && dx % grid == 0)
        }
        let shifts = BlockMatching.candidates(
            plane.values, height: h, width: w, minimumShift: shortest, count: candidates, step: step)
        var best: (score: Float, map: Matcher.Map, peak: Int, dy: Int, dx: Int)?
        for s in shifts {
            // The votes' lattice leaves the shift within a pixel of the one voted for: the one of the nine
            // that correlates most on the square the votes gather in (widened by a box), then over the
            // whole reach if it could beat the best so far.
            let probe = BlockMatching.gathering / 2 + k
            let gathered = (rows: max(0, s.y - probe)..<min(h, s.y + probe), columns: max(0, s.x - probe)..<min(w, s.x + probe))
            var pick: (top: Float, dy: Int, dx: Int)?
            for a in -1...1 {
                for b in -1...1 where allowed(s.dy + a, s.dx + b) {
                    guard
                        let map = matcher.correlation(dy: s.dy + a, dx: s.dx + b, rows: gathered.rows, columns: gathered.columns),
                        let top = map.values.max(), top > (pick?.top ?? -1)
                    else { continue }
                    pick = (top, s.dy + a, s.dx + b)
                }
            }
            let rows = max(0, s.y - reach)..<min(h, s.y + reach), columns = max(0, s.x - reach)..<min(w, s.x + reach)
            guard let pick, let map = matcher.correlation(dy: pick.dy, dx: pick.dx, rows: rows, columns: columns),
                let top = map.values.max(), top > (best?.score ?? 0)
            else { continue }
            var sharp = map
            for (a, b) in [(step, 0), (-step, 0), (0, step), (0, -step)] {
                guard let near = matcher.correlation(dy: pick.dy + a, dx: pick.dx + b, rows: rows, columns: columns)
                else { continue }
                sharp.subtractPositivePart(of: near)
            }
            if let peak = sharp.values.indices.max(by: { sharp.values[$0] < sharp.values[$1] }),
                sharp.values[peak] > (best?.score ?? 0)
            {
                best = (sharp.values[peak], sharp, peak, pick.dy, pick.dx)
            }
        }
        guard let best else { return (0, PixelRegion(x: 0, y: 0, width: 0, height: 0)) }
        let first = region(best.map, peak: best.peak, side: k, reduction: f)
        let second = PixelRegion(x: first.x + best.dx * f, y: first.y + best.dy * f, width: first.width, height: first.height)
        // The pasted half carries its source's compression grid moved by the shift: of two halves, the one
        // whose detail keeps the frame's 8-pixel grid less is taken for the copy.
        let pasted = gridAlignment(luma, height: H, width: W, box: second) < gridAlignment(luma, height: H, width: W, box: first)
        return (fisher(best.score), pasted ? clipped(second, height: H, width: W) : first)
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

    /// The 4-connected places of `map` around `peak` whose value is at least half the peak's, widened by
    /// half a box on each side, in full-size pixels and clipped to the analysed frame.
    static func region(_ map: Matcher.Map, peak: Int, side k: Int, reduction f: Int) -> PixelRegion {
        let h = map.rows.count, w = map.columns.count, values = map.values
        let level = values[peak] / 2
        var seen = [Bool](repeating: false, count: values.count)
        var stack = [peak]
        seen[peak] = true
        var minR = peak / w, maxR = minR, minC = peak % w, maxC = minC
        while let i = stack.popLast() {
            let r = i / w, c = i % w
            minR = min(minR, r); maxR = max(maxR, r); minC = min(minC, c); maxC = max(maxC, c)
            for (rr, cc) in [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)]
            where rr >= 0 && rr < h && cc >= 0 && cc < w && !seen[rr * w + cc] && values[rr * w + cc] >= level {
                seen[rr * w + cc] = true
                stack.append(rr * w + cc)
            }
        }
        let r0 = map.rows.lowerBound, c0 = map.columns.lowerBound, frameH = map.frameHeight, frameW = map.frameWidth
        let x0 = max(0, c0 + minC - k / 2) * f, y0 = max(0, r0 + minR - k / 2) * f
        let x1 = min(frameW, c0 + maxC - k / 2 + k) * f, y1 = min(frameH, r0 + maxR - k / 2 + k) * f
        return PixelRegion(x: x0, y: y0, width: max(1, x1 - x0), height: max(1, y1 - y0))
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

    /// Local correlations of one whitened plane with itself moved, over a crop of the frame.
    struct Matcher {
        let z: [Float], energy: [Float], height: Int, width: Int, side: Int

        /// ρ_s over the places of a crop whose moved place is also in the frame.
        struct Map {
            var rows: Range<Int>, columns: Range<Int>, values: [Float]
            let frameHeight: Int, frameWidth: Int

            /// values − max(0, other) where the two maps share a place.
            mutating func subtractPositivePart(of other: Map) {
                let r = max(rows.lowerBound, other.rows.lowerBound)..<min(rows.upperBound, other.rows.upperBound)
                let c = max(columns.lowerBound, other.columns.lowerBound)..<min(columns.upperBound, other.columns.upperBound)
                guard !r.isEmpty, !c.isEmpty else { return }
                let w = columns.count, ow = other.columns.count
                for y in r {
                    for x in c {
                        let o = other.values[(y - other.rows.lowerBound) * ow + x - other.columns.lowerBound]
                        values[(y - rows.lowerBound) * w + x - columns.lowerBound] -= max(0, o)
                    }
                }
            }
        }

        /// ρ_s over the places of `rows` × `columns` whose place moved by s is in the frame; 0 where either
        /// side's box has a mean bp² under `energyFloor`, and within half a box of the crop's edges inside
        /// the frame (boxes cut there cover few pixels). Nil when under a box fits.
        func correlation(dy: Int, dx: Int, rows: Range<Int>, columns: Range<Int>) -> Map? {
            let r = max(rows.lowerBound, -dy)..<min(rows.upperBound, height - dy)
            let c = max(columns.lowerBound, -dx)..<min(columns.upperBound, width - dx)
            guard r.count >= side, c.count >= side else { return nil }
            let h = r.count, w = c.count, n = h * w
            var zb = [Float](repeating: 0, count: n), aa = zb, bb = zb
            for y in 0..<h {
                for x in 0..<w {
                    let i = (r.lowerBound + y) * width + c.lowerBound + x, j = i + dy * width + dx
                    zb[y * w + x] = z[i] * z[j]; aa[y * w + x] = z[i] * z[i]; bb[y * w + x] = z[j] * z[j]
                }
            }
            let m = Plane.boxMeans(zb, height: h, width: w, side: side)
            let u = Plane.boxMeans(aa, height: h, width: w, side: side)
            let v = Plane.boxMeans(bb, height: h, width: w, side: side)
            var rho = [Float](repeating: 0, count: n)
            let half = side / 2
            for y in 0..<h {
                if (y < half && r.lowerBound > 0) || (y >= h - half && r.upperBound < height) { continue }
                for x in 0..<w {
                    if (x < half && c.lowerBound > 0) || (x >= w - half && c.upperBound < width) { continue }
                    let i = (r.lowerBound + y) * width + c.lowerBound + x, j = i + dy * width + dx
                    guard min(energy[i], energy[j]) >= CopyMoveConsistency.energyFloor else { continue }
                    rho[y * w + x] = m[y * w + x] / ((max(0, u[y * w + x] * v[y * w + x])).squareRoot() + 1e-3)
                }
            }
            return Map(rows: r, columns: c, values: rho, frameHeight: height, frameWidth: width)
        }
    }
}
