// Owns the self-blend family of the fake-maker zoo (group "self-blend"): the frame blended with a
// colour- and frequency-altered, slightly shifted and zoomed copy of itself through a region mask
// (Shiohara & Yamasaki 2022; `FakeSynthesis.selfBlended` on whole frames of any size and region masks).
import Foundation
import MediaIO
import NeuralNet

/// "self-blend": a blending boundary and a statistics mismatch with no generator involved.
public struct SelfBlendFamily: FakeFamily {
    public let name = "self-blend", group = "self-blend"
    /// The colour shift is the point of the family; colour correction would undo it.
    public var allowsColourCorrection: Bool { false }
    /// Per-channel gain and offset of the copy.
    public var gain: ClosedRange<Float> = 0.85...1.15
    public var offset: ClosedRange<Float> = -0.06...0.06
    /// σ of the blur (or of the blur the sharpening subtracts).
    public var sigma: ClosedRange<Float> = 0.6...1.6
    /// Zoom of the copy about the region's centre and its shift in pixels.
    public var zoom: ClosedRange<Float> = 0.97...1.03
    public var shift: Float = 2

    public init() {}

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        let box = mask.box, margin = 8  // room for the blur, zoom and shift to read real surroundings
        var copy = ImageFilters.crop(
            frame, x: box.x - margin, y: box.y - margin, width: box.width + 2 * margin, height: box.height + 2 * margin)
        let n = copy.planeCount
        var parameters: [String: String] = [:]
        for c in 0..<3 {
            let g = rng.uniform(gain.lowerBound, gain.upperBound), o = rng.uniform(offset.lowerBound, offset.upperBound)
            for i in 0..<n { copy.pixels[c * n + i] = copy.pixels[c * n + i] * g + o }
            parameters["gain\(c)"] = parameterText(g); parameters["offset\(c)"] = parameterText(o)
        }
        let s = rng.uniform(sigma.lowerBound, sigma.upperBound)
        if rng.uniform() < 0.5 {
            PatchOps.gaussianBlur(&copy, sigma: Double(s))
            parameters["blur"] = parameterText(s)
        } else {
            var blurred = copy
            PatchOps.gaussianBlur(&blurred, sigma: Double(s))
            for i in 0..<copy.pixels.count { copy.pixels[i] += 0.8 * (copy.pixels[i] - blurred.pixels[i]) }
            parameters["sharpen"] = parameterText(s)
        }
        let z = rng.uniform(zoom.lowerBound, zoom.upperBound)
        let dx = rng.uniform(-shift, shift), dy = rng.uniform(-shift, shift)
        PatchOps.zoom(&copy, factor: Double(z), dx: Double(dx), dy: Double(dy))
        parameters["zoom"] = parameterText(z); parameters["shift"] = "\(parameterText(dx)),\(parameterText(dy))"
        ImageFilters.clamp(&copy)
        return RegionSynthesis(
            patch: ImageFilters.crop(copy, x: margin, y: margin, width: box.width, height: box.height), parameters: parameters)
    }
}
