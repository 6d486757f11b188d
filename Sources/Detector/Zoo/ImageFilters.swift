// Owns the pixel operations the fake-maker zoo builds on: reflect-padded crops, a separable resampler
// with nearest / bilinear / bicubic / area kernels (antialiased when shrinking), box blur by running
// sums and the 3×3 median. All work on planar RGBImages (or raw planes) of any size.
// Glossary: w/h source size, W/H destination size, scale = source/destination length per axis.
import Foundation
import MediaIO

/// Interpolation kernels of `Resampler`.
public enum ResamplingKernel: String, Codable, CaseIterable, Sendable {
    /// The source pixel whose centre is nearest (no filtering, aliases when shrinking).
    case nearest
    /// Triangle kernel of radius 1 (widened by the scale when shrinking).
    case bilinear
    /// Keys cubic convolution, a = −0.5, radius 2 (widened by the scale when shrinking).
    case bicubic
    /// Box kernel of width 1 (widened by the scale when shrinking: the mean of the covered pixels).
    case area
}

/// Separable image resampling with pixel centres aligned ((i + ½)·scale − ½), edges clamped.
public enum Resampler {
    /// `image` resized to width × height.
    public static func resize(_ image: RGBImage, width: Int, height: Int, kernel: ResamplingKernel) -> RGBImage {
        var out = RGBImage(width: width, height: height)
        image.pixels.withUnsafeBufferPointer { source in
            out.pixels.withUnsafeMutableBufferPointer { destination in
                // Nothing to read or nothing to write: the output stays as it is (black or empty).
                guard let sourcePixels = source.baseAddress, let destinationPixels = destination.baseAddress,
                    image.width > 0, image.height > 0, width > 0, height > 0
                else { return }
                resizePlanes(
                    sourcePixels, planes: 3, width: image.width, height: image.height, into: destinationPixels,
                    width: width, height: height, kernel: kernel)
            }
        }
        return out
    }

    /// Resizes `planes` consecutive w×h planes into W×H planes at `destination`.
    public static func resizePlanes(
        _ source: UnsafePointer<Float>, planes: Int, width w: Int, height h: Int,
        into destination: UnsafeMutablePointer<Float>, width W: Int, height H: Int, kernel: ResamplingKernel
    ) {
        precondition(w > 0 && h > 0 && W > 0 && H > 0, "Resampler: \(w)×\(h) → \(W)×\(H)")
        let columns = contributions(from: w, to: W, kernel: kernel), rows = contributions(from: h, to: H, kernel: kernel)
        var horizontal = [Float](repeating: 0, count: h * W)  // (h, W)
        for plane in 0..<planes {
            let src = source + plane * w * h, dst = destination + plane * W * H
            for y in 0..<h {
                let row = src + y * w
                for x in 0..<W {
                    let c = columns[x]
                    var acc: Float = 0
                    for t in 0..<c.weights.count { acc += c.weights[t] * row[c.first + t] }
                    horizontal[y * W + x] = acc
                }
            }
            for y in 0..<H {
                let r = rows[y]
                for x in 0..<W {
                    var acc: Float = 0
                    for t in 0..<r.weights.count { acc += r.weights[t] * horizontal[(r.first + t) * W + x] }
                    dst[y * W + x] = acc
                }
            }
        }
    }

    /// Source taps of one destination coordinate: consecutive indices from `first`, weights summing to 1.
    struct Contribution {
        var first: Int
        var weights: [Float]
    }

    static func contributions(from n: Int, to m: Int, kernel: ResamplingKernel) -> [Contribution] {
        let scale = Double(n) / Double(m)
        if kernel == .nearest {
            return (0..<m).map { i in Contribution(first: min(Int((Double(i) + 0.5) * scale), n - 1), weights: [1]) }
        }
        let radius: Double
        let profile: (Double) -> Double
        switch kernel {
        case .nearest, .bilinear:
            radius = 1; profile = { max(0, 1 - abs($0)) }
        case .bicubic:
            radius = 2
            profile = { t in
                let x = abs(t), a = -0.5
                if x < 1 { return (a + 2) * x * x * x - (a + 3) * x * x + 1 }
                if x < 2 { return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a }
                return 0
            }
        case .area:
            radius = 0.5; profile = { abs($0) < 0.5 ? 1 : 0 }
        }
        let stretch = max(scale, 1)  // widen the kernel when shrinking (antialiasing)
        return (0..<m).map { i in
            let centre = (Double(i) + 0.5) * scale - 0.5
            let low = Int((centre - radius * stretch).rounded(.up)), high = Int((centre + radius * stretch).rounded(.down))
            let weights = (low...max(low, high)).map { profile((Double($0) - centre) / stretch) }
            let total = weights.reduce(0, +)
            if total <= 1e-12 {  // no tap inside the kernel: take the nearest pixel
                return Contribution(first: min(max(Int(centre.rounded()), 0), n - 1), weights: [1])
            }
            // Clamp taps to the edges by folding out-of-range weights onto the edge pixels.
            let first = min(max(low, 0), n - 1), last = max(min(max(low, high), n - 1), first)
            var folded = [Float](repeating: 0, count: last - first + 1)
            for (t, weight) in weights.enumerated() {
                let j = min(max(low + t, first), last)
                folded[j - first] += Float(weight / total)
            }
            return Contribution(first: first, weights: folded)
        }
    }
}

/// Reflect-padded crops and simple filters over planar RGB.
public enum ImageFilters {
    /// Reflects index i into 0..<n, as the frame scorer pads frames.
    @inline(__always) static func reflect(_ i: Int, _ n: Int) -> Int { FrameTiling.reflect(i, n) }

    /// The width × height crop of `image` at (x, y), reflecting beyond the edges.
    public static func crop(_ image: RGBImage, x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        var out = RGBImage(width: width, height: height)
        let n = image.planeCount, m = width * height
        let columns = (0..<width).map { reflect(x + $0, image.width) }
        for c in 0..<3 {
            for row in 0..<height {
                let sourceRow = c * n + reflect(y + row, image.height) * image.width, destinationRow = c * m + row * width
                for column in 0..<width { out.pixels[destinationRow + column] = image.pixels[sourceRow + columns[column]] }
            }
        }
        return out
    }

    /// Box blur of one w×h plane with a (2r + 1)² window, edges clamped, by running sums.
    public static func boxBlur(_ plane: inout [Float], width w: Int, height h: Int, radius r: Int) {
        guard r > 0 else { return }
        var line = [Float](repeating: 0, count: max(w, h)), out = line
        func blurLine(_ n: Int) {
            var sum: Float = 0
            for t in -r...r { sum += line[min(max(t, 0), n - 1)] }
            let norm = 1 / Float(2 * r + 1)
            for i in 0..<n {
                out[i] = sum * norm
                sum += line[min(i + r + 1, n - 1)] - line[max(i - r, 0)]
            }
        }
        for y in 0..<h {
            for x in 0..<w { line[x] = plane[y * w + x] }
            blurLine(w)
            for x in 0..<w { plane[y * w + x] = out[x] }
        }
        for x in 0..<w {
            for y in 0..<h { line[y] = plane[y * w + x] }
            blurLine(h)
            for y in 0..<h { plane[y * w + x] = out[y] }
        }
    }

    /// Box blur of every channel of `image` (`passes` passes approach a Gaussian).
    public static func boxBlur(_ image: inout RGBImage, radius: Int, passes: Int = 1) {
        let n = image.planeCount
        for c in 0..<3 {
            var plane = Array(image.pixels[(c * n)..<((c + 1) * n)])
            for _ in 0..<passes { boxBlur(&plane, width: image.width, height: image.height, radius: radius) }
            image.pixels.replaceSubrange((c * n)..<((c + 1) * n), with: plane)
        }
    }

    /// The 3×3 median of every channel (reflect edges).
    public static func median3x3(_ image: RGBImage) -> RGBImage {
        var out = image
        let w = image.width, h = image.height, n = image.planeCount
        var window = [Float](repeating: 0, count: 9)
        for c in 0..<3 {
            for y in 0..<h {
                for x in 0..<w {
                    var k = 0
                    for dy in -1...1 {
                        let row = c * n + reflect(y + dy, h) * w
                        for dx in -1...1 { window[k] = image.pixels[row + reflect(x + dx, w)]; k += 1 }
                    }
                    // Partial selection sort up to the 5th smallest (the median of 9).
                    for i in 0...4 {
                        var smallest = i
                        for j in (i + 1)..<9 where window[j] < window[smallest] { smallest = j }
                        window.swapAt(i, smallest)
                    }
                    out.pixels[c * n + y * w + x] = window[4]
                }
            }
        }
        return out
    }

    /// Clamps every value to 0…1.
    public static func clamp(_ image: inout RGBImage) {
        for i in 0..<image.pixels.count { image.pixels[i] = min(max(image.pixels[i], 0), 1) }
    }
}
