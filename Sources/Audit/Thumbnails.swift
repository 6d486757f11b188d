// Thumbnails of the most suspicious frames, kept while a scan runs: at most `count` small JPEGs,
// at least a second apart, replaced as more suspicious frames come along.
import Foundation
import MediaIO

/// Keeps JPEG thumbnails of the highest-scoring frames seen so far.
struct ThumbnailKeeper {
    struct Kept {
        var frameIndex: Int
        var time: Double
        var probability: Double
        var jpeg: Data
    }

    let count: Int
    let longSide: Int
    let minimumSeparationSeconds: Double
    private(set) var kept: [Kept] = []
    private var scratch = RGBImage()

    init(count: Int, longSide: Int, minimumSeparationSeconds: Double = 1.0) {
        self.count = count
        self.longSide = longSide
        self.minimumSeparationSeconds = minimumSeparationSeconds
    }

    /// Offers a frame; encodes a thumbnail only when the frame earns a place.
    mutating func consider(frameIndex: Int, time: Double, probability: Double, image: RGBImage) {
        guard count > 0 else { return }
        let near = kept.indices.filter { abs(kept[$0].time - time) < minimumSeparationSeconds }
        let replaced: Int?
        if !near.isEmpty {
            // A close neighbour already stands for this moment; take its place only if more suspicious.
            guard near.allSatisfy({ kept[$0].probability < probability }) else { return }
            for index in near.dropFirst().sorted(by: >) { kept.remove(at: index) }
            replaced = near[0]
        } else if kept.count < count {
            replaced = nil
        } else {
            guard let weakest = kept.indices.min(by: { kept[$0].probability < kept[$1].probability }),
                kept[weakest].probability < probability
            else { return }
            replaced = weakest
        }
        Self.downscale(image, longSide: longSide, into: &scratch)
        guard let jpeg = try? ImageEncoder.jpegData(scratch, quality: 85) else { return }
        let entry = Kept(frameIndex: frameIndex, time: time, probability: probability, jpeg: jpeg)
        if let replaced { kept[replaced] = entry } else { kept.append(entry) }
    }

    /// The thumbnails, most suspicious first.
    func encoded() -> [Thumbnail] {
        kept.sorted { $0.probability > $1.probability }.map { Thumbnail(frameIndex: $0.frameIndex, jpeg: $0.jpeg) }
    }

    /// Box-filter downscale so the long side is at most `longSide` (copies when already small enough).
    static func downscale(_ image: RGBImage, longSide: Int, into output: inout RGBImage) {
        let scale = min(1, Double(longSide) / Double(max(image.width, image.height, 1)))
        let width = max(1, Int((Double(image.width) * scale).rounded()))
        let height = max(1, Int((Double(image.height) * scale).rounded()))
        if output.width != width || output.height != height {
            output = RGBImage(width: width, height: height)
        }
        let sourcePlane = image.width * image.height
        let plane = width * height
        image.pixels.withUnsafeBufferPointer { source in
            output.pixels.withUnsafeMutableBufferPointer { destination in
                for y in 0..<height {
                    let y0 = y * image.height / height, y1 = max(y0 + 1, (y + 1) * image.height / height)
                    for x in 0..<width {
                        let x0 = x * image.width / width, x1 = max(x0 + 1, (x + 1) * image.width / width)
                        let area = Float((y1 - y0) * (x1 - x0))
                        for channel in 0..<3 {
                            var sum: Float = 0
                            for sy in y0..<y1 {
                                let row = channel * sourcePlane + sy * image.width
                                for sx in x0..<x1 { sum += source[row + sx] }
                            }
                            destination[channel * plane + y * width + x] = sum / area
                        }
                    }
                }
            }
        }
    }
}
