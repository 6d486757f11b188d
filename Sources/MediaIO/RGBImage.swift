// RGBImage: the pixel type MediaIO hands to the rest of Unmask — planar Float32 RGB in 0...1.
// Pure Swift value type; no FFmpeg here.

/// An RGB image stored as three planes (R, then G, then B), each `height × width` Float32 values in 0...1.
public struct RGBImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// Planar R, G, B; plane `c` starts at `c * width * height`, row-major within a plane.
    public var pixels: [Float]

    /// Wraps existing planar pixels; `pixels.count` must be `3 * width * height`.
    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(
            width >= 0 && height >= 0 && pixels.count == 3 * width * height,
            "RGBImage: \(pixels.count) values for \(width)×\(height)×3")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [Float](repeating: 0, count: 3 * width * height))
    }

    /// An empty 0×0 image, handy as a reusable decode target.
    public init() { self.init(width: 0, height: 0) }

    /// Number of pixels per plane.
    public var planeCount: Int { width * height }

    /// The (r, g, b) value at column `x`, row `y`.
    public func pixel(x: Int, y: Int) -> (r: Float, g: Float, b: Float) {
        let i = y * width + x, n = planeCount
        return (pixels[i], pixels[n + i], pixels[2 * n + i])
    }

    /// Sets the (r, g, b) value at column `x`, row `y`.
    public mutating func setPixel(x: Int, y: Int, _ rgb: (r: Float, g: Float, b: Float)) {
        let i = y * width + x, n = planeCount
        pixels[i] = rgb.r
        pixels[n + i] = rgb.g
        pixels[2 * n + i] = rgb.b
    }

    /// Resizes to `width × height`, reallocating only when the pixel count changes (contents are then undefined).
    mutating func reshape(width: Int, height: Int) {
        let count = 3 * width * height
        if pixels.count != count { pixels = [Float](repeating: 0, count: count) }
        self.width = width
        self.height = height
    }
}
