// Owns the region masks of the fake-maker zoo: rectangles, rotated ellipses and free-form blobs at a
// random place in a frame of any size, feathered inwards, as a full-frame soft mask plus its box; the
// hard (≥ 0.5) version, IoU between hard masks, and per-cell coverage for cell targets.
// Glossary: W/H frame size, w/h region box size, f feather width (px), m mask value 0 (real) … 1 (replaced).
import Foundation
import NeuralNet

/// Shapes of the replaced region.
public enum RegionShape: String, Codable, CaseIterable, Sendable {
    /// An axis-aligned rectangle filling the box.
    case rectangle
    /// An ellipse at a random angle, stretched so that it touches all four sides of the box.
    case ellipse
    /// A star-shaped blob (radius 1 + a few random harmonics of the angle) touching all four sides of
    /// the box; one 4-connected component.
    case blob
    /// The whole frame (mask 1 everywhere, no feather): a whole-frame fake.
    case wholeFrame = "whole-frame"
}

/// Which regions `RegionMask.random` draws.
public struct RegionMaskConfig: Codable, Equatable, Sendable {
    /// Shapes drawn with equal probability.
    public var shapes: [RegionShape] = [.rectangle, .ellipse, .blob]
    /// Box width and height in pixels (each drawn separately, clamped to the frame).
    public var side: ClosedRange<Int> = 32...256
    /// When set, box width and height are drawn as these fractions of the frame's shorter side instead
    /// of `side`, so that a region covers as much of a 12-megapixel photo as of a 640×480 frame.
    public var sideFraction: ClosedRange<Double>? = nil
    /// Feather width in pixels (clamped to a quarter of the box's shorter side so the mask reaches 1).
    public var feather: ClosedRange<Int> = 0...16

    public init() {}

    public func validate() throws {
        guard !shapes.isEmpty, side.lowerBound >= 1, feather.lowerBound >= 0 else {
            throw DetectorError.invalidConfiguration(
                "region masks need at least one shape, sides ≥ 1 and feathers ≥ 0, got \(self)")
        }
        if let sideFraction, !(sideFraction.lowerBound > 0 && sideFraction.upperBound <= 1) {
            throw DetectorError.invalidConfiguration(
                "region side fractions must lie in (0, 1], got \(sideFraction.lowerBound)…\(sideFraction.upperBound)")
        }
    }

    /// The box sides drawn in a W×H frame, in pixels, before clamping to each dimension.
    public func sides(width W: Int, height H: Int) -> ClosedRange<Int> {
        guard let sideFraction else { return side }
        let shorter = Double(min(W, H))
        let low = max(1, Int((sideFraction.lowerBound * shorter).rounded()))
        return low...max(low, Int((sideFraction.upperBound * shorter).rounded()))
    }
}

/// A soft region mask over a whole frame: 1 where the fake replaces the frame, 0 where it is real.
public struct RegionMask: Equatable, Sendable {
    public let width: Int, height: Int
    /// H×W values in 0…1, row-major.
    public private(set) var values: [Float]
    /// The tight box of the mask's support (every pixel with m > 0 lies inside it).
    public let box: PixelRegion
    public let shape: RegionShape
    /// Feather width in pixels after clamping.
    public let feather: Int

    /// A mask that replaces the whole frame.
    public static func wholeFrame(width: Int, height: Int) -> RegionMask {
        RegionMask(
            width: width, height: height, values: [Float](repeating: 1, count: width * height),
            box: PixelRegion(x: 0, y: 0, width: width, height: height), shape: .wholeFrame, feather: 0)
    }

    /// A random region in a W×H frame: shape, box size, position and feather drawn from `rng`.
    public static func random(
        width W: Int, height H: Int, config: RegionMaskConfig = RegionMaskConfig(), rng: inout RandomGenerator
    ) throws -> RegionMask {
        try config.validate()
        guard W > 0, H > 0 else { throw DetectorError.invalidInput("cannot place a region in a \(W)×\(H) frame") }
        let shape = config.shapes[randomIndex(config.shapes.count, &rng)]
        if shape == .wholeFrame { return wholeFrame(width: W, height: H) }
        let sides = config.sides(width: W, height: H)
        func side(_ limit: Int) -> Int {
            let low = min(sides.lowerBound, limit), high = min(sides.upperBound, limit)
            return low + randomIndex(high - low + 1, &rng)
        }
        let w = side(W), h = side(H)
        let x0 = randomIndex(W - w + 1, &rng), y0 = randomIndex(H - h + 1, &rng)
        let drawnFeather = config.feather.lowerBound + randomIndex(config.feather.count, &rng)
        return try placed(
            shape, in: PixelRegion(x: x0, y: y0, width: w, height: h), width: W, height: H, feather: drawnFeather, rng: &rng)
    }

    /// A region of `shape` filling `box` of a W×H frame (e.g. one given on a command line), feathered by
    /// `feather` pixels (clamped to a quarter of the box's shorter side); blobs draw their outline from `rng`.
    public static func placed(
        _ shape: RegionShape, in box: PixelRegion, width W: Int, height H: Int, feather drawnFeather: Int,
        rng: inout RandomGenerator
    ) throws -> RegionMask {
        let x0 = box.x, y0 = box.y, w = box.width, h = box.height
        guard W > 0, H > 0, w > 0, h > 0, x0 >= 0, y0 >= 0, x0 + w <= W, y0 + h <= H, drawnFeather >= 0 else {
            throw DetectorError.invalidInput("region \(x0),\(y0),\(w),\(h) does not fit a \(W)×\(H) frame")
        }
        if shape == .wholeFrame { return wholeFrame(width: W, height: H) }
        let feather = min(drawnFeather, min(w, h) / 4)
        var inside = rasterize(shape, width: w, height: h, rng: &rng)  // (h, w)
        keepLargestComponent(&inside, width: w, height: h)
        let local = featheredValues(inside, width: w, height: h, feather: feather)  // (h, w)
        var minX = w, maxX = -1, minY = h, maxY = -1
        for y in 0..<h {
            for x in 0..<w where inside[y * w + x] {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        var values = [Float](repeating: 0, count: W * H)
        for y in 0..<h { for x in 0..<w { values[(y0 + y) * W + x0 + x] = local[y * w + x] } }
        let box =
            maxX < 0
            ? PixelRegion(x: x0, y: y0, width: 0, height: 0)
            : PixelRegion(x: x0 + minX, y: y0 + minY, width: maxX - minX + 1, height: maxY - minY + 1)
        return RegionMask(width: W, height: H, values: values, box: box, shape: shape, feather: feather)
    }

    /// The binary mask (m ≥ 0.5), H×W row-major.
    public var hard: [Bool] { values.map { $0 >= 0.5 } }

    /// The mask values inside `box`, box.height × box.width row-major.
    public var boxValues: [Float] {
        var out = [Float](repeating: 0, count: box.width * box.height)
        for y in 0..<box.height {
            for x in 0..<box.width { out[y * box.width + x] = values[(box.y + y) * width + box.x + x] }
        }
        return out
    }

    /// Intersection over union of two binary masks of equal size (1 when both are empty).
    public static func intersectionOverUnion(_ a: [Bool], _ b: [Bool]) -> Double {
        precondition(a.count == b.count, "IoU of masks of \(a.count) and \(b.count) pixels")
        var intersection = 0, union = 0
        for i in 0..<a.count {
            if a[i] && b[i] { intersection += 1 }
            if a[i] || b[i] { union += 1 }
        }
        return union == 0 ? 1 : Double(intersection) / Double(union)
    }

    /// Mean mask value over each cell×cell block: ⌈H/cell⌉ × ⌈W/cell⌉ row-major (edge cells average
    /// the pixels they hold).
    public func cellCoverage(cell: Int) -> [Float] {
        precondition(cell > 0, "cell size must be positive")
        let rows = (height + cell - 1) / cell, columns = (width + cell - 1) / cell
        var sums = [Float](repeating: 0, count: rows * columns), counts = [Float](repeating: 0, count: rows * columns)
        for y in 0..<height {
            for x in 0..<width {
                let c = (y / cell) * columns + x / cell
                sums[c] += values[y * width + x]; counts[c] += 1
            }
        }
        return zip(sums, counts).map { $0 / $1 }
    }

    // MARK: Drawing

    /// A uniform integer in 0..<n (n ≥ 1).
    static func randomIndex(_ n: Int, _ rng: inout RandomGenerator) -> Int { Int(rng.next() % UInt64(max(n, 1))) }

    /// The shape's pixels inside a w×h box (pixel centres tested in box coordinates u, v ∈ (−1, 1)).
    private static func rasterize(_ shape: RegionShape, width w: Int, height h: Int, rng: inout RandomGenerator) -> [Bool] {
        let test: (Double, Double) -> Bool
        switch shape {
        case .rectangle, .wholeFrame:
            test = { _, _ in true }
        case .ellipse:
            // A rotated ellipse with axes 1 and k, its bounding half-extents (ex, ey) mapped onto the box.
            let angle = Double(rng.uniform(0, Float.pi)), k = Double(rng.uniform(0.5, 1))
            let c = cos(angle), s = sin(angle)
            let ex = (c * c + k * k * s * s).squareRoot(), ey = (s * s + k * k * c * c).squareRoot()
            test = { u, v in
                let px = u * ex, py = v * ey
                let a = px * c + py * s, b = (-px * s + py * c) / k
                return a * a + b * b <= 1
            }
        case .blob:
            // r(θ) = 1 + Σ a_k cos(kθ + φ_k), k = 2…5, Σ a_k ≤ 0.45 so r ≥ 0.55: star-shaped around 0.
            let weights: [Double] = [0.4, 0.3, 0.2, 0.1]
            let harmonics = weights.enumerated().map { (k, weight) in
                (
                    order: Double(k + 2), amplitude: 0.45 * weight * Double(rng.uniform()),
                    phase: Double(rng.uniform(0, 2 * Float.pi))
                )
            }
            let radius: (Double) -> Double = { theta in
                harmonics.reduce(1) { $0 + $1.amplitude * cos($1.order * theta + $1.phase) }
            }
            var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
            for i in 0..<2048 {
                let theta = 2 * Double.pi * Double(i) / 2048, r = radius(theta)
                minX = min(minX, r * cos(theta)); maxX = max(maxX, r * cos(theta))
                minY = min(minY, r * sin(theta)); maxY = max(maxY, r * sin(theta))
            }
            test = { u, v in
                let x = minX + (u + 1) / 2 * (maxX - minX), y = minY + (v + 1) / 2 * (maxY - minY)
                let r = radius(atan2(y, x))
                return x * x + y * y <= r * r
            }
        }
        var inside = [Bool](repeating: false, count: w * h)
        for y in 0..<h {
            let v = (Double(y) + 0.5) / Double(h) * 2 - 1
            for x in 0..<w { inside[y * w + x] = test((Double(x) + 0.5) / Double(w) * 2 - 1, v) }
        }
        return inside
    }

    /// Clears every pixel outside the largest 4-connected component.
    private static func keepLargestComponent(_ inside: inout [Bool], width w: Int, height h: Int) {
        var label = [Int32](repeating: -1, count: w * h)
        var best: Int32 = -1, bestSize = 0, next: Int32 = 0, stack: [Int] = []
        for start in 0..<(w * h) where inside[start] && label[start] < 0 {
            var size = 0
            label[start] = next; stack.append(start)
            while let i = stack.popLast() {
                size += 1
                let x = i % w, y = i / w
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && nx < w && ny >= 0 && ny < h {
                    let j = ny * w + nx
                    if inside[j] && label[j] < 0 { label[j] = next; stack.append(j) }
                }
            }
            if size > bestSize { bestSize = size; best = next }
            next += 1
        }
        for i in 0..<(w * h) where inside[i] && label[i] != best { inside[i] = false }
    }

    /// m = smoothstep((d − ½)/f) with d the Euclidean distance from an inside pixel to the nearest
    /// outside pixel (the box's surroundings count as outside); 1 inside when f = 0, 0 outside.
    private static func featheredValues(_ inside: [Bool], width w: Int, height h: Int, feather f: Int) -> [Float] {
        guard f > 0 else { return inside.map { $0 ? 1 : 0 } }
        let distances = insideDistances(inside, width: w, height: h)
        return (0..<(w * h)).map { i in
            guard inside[i] else { return 0 }
            let t = Float(min(max((distances[i] - 0.5) / Double(f), 0), 1))
            return t * t * (3 - 2 * t)
        }
    }

    /// Exact Euclidean distance transform (Felzenszwalb & Huttenlocher 2012) of the outside pixels
    /// of a w×h box framed by a 1-pixel outside border; returns h×w distances.
    private static func insideDistances(_ inside: [Bool], width w: Int, height h: Int) -> [Double] {
        let pw = w + 2, ph = h + 2, far = 1e12
        var grid = [Double](repeating: 0, count: pw * ph)  // (h + 2, w + 2) squared distances
        for y in 0..<h { for x in 0..<w where inside[y * w + x] { grid[(y + 1) * pw + x + 1] = far } }
        var line = [Double](repeating: 0, count: max(pw, ph))
        for x in 0..<pw {
            for y in 0..<ph { line[y] = grid[y * pw + x] }
            squaredDistance1D(&line, count: ph)
            for y in 0..<ph { grid[y * pw + x] = line[y] }
        }
        for y in 0..<ph {
            for x in 0..<pw { line[x] = grid[y * pw + x] }
            squaredDistance1D(&line, count: pw)
            for x in 0..<pw { grid[y * pw + x] = line[x] }
        }
        var out = [Double](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w { out[y * w + x] = grid[(y + 1) * pw + x + 1].squareRoot() } }
        return out
    }

    /// The 1-D squared distance transform d(q) = min_p (q − p)² + f(p), in place (lower envelope of parabolas).
    private static func squaredDistance1D(_ f: inout [Double], count n: Int) {
        guard n > 1 else { return }
        let source = Array(f[0..<n])
        var vertices = [Int](repeating: 0, count: n), bounds = [Double](repeating: 0, count: n + 1)
        var k = 0
        bounds[0] = -Double.infinity; bounds[1] = Double.infinity
        func intersection(_ q: Int, _ p: Int) -> Double {
            ((source[q] + Double(q * q)) - (source[p] + Double(p * p))) / Double(2 * q - 2 * p)
        }
        for q in 1..<n {
            var s = intersection(q, vertices[k])
            while s <= bounds[k] {
                k -= 1
                s = intersection(q, vertices[k])
            }
            k += 1
            vertices[k] = q; bounds[k] = s; bounds[k + 1] = Double.infinity
        }
        k = 0
        for q in 0..<n {
            while bounds[k + 1] < Double(q) { k += 1 }
            let p = vertices[k]
            f[q] = Double((q - p) * (q - p)) + source[p]
        }
    }
}
