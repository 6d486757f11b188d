// Owns the classical-edit families of the fake-maker zoo (group "classical"): down-up resampling,
// denoising, copy-move, splice from a donor frame, and the region recompressed at another JPEG
// quality: no generator trace, only broken local consistency (noise, texture, compression history).
import Foundation
import MediaIO
import NeuralNet

/// "resample": the region shrunk by 0.25–0.7 and enlarged back, with separately drawn kernels
/// (imitates an upscaled low-resolution paste or a super-resolution-free face swap).
public struct ResampleFamily: FakeFamily {
    public let name = "resample", group = "classical"
    public var factor: ClosedRange<Float> = 0.25...0.7
    public var downKernels = ResamplingKernel.allCases
    public var upKernels: [ResamplingKernel] = [.nearest, .bilinear, .bicubic]

    public init() {}

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        let box = mask.box
        let f = rng.uniform(factor.lowerBound, factor.upperBound)
        let down = try randomElement(downKernels, &rng, "down kernels"), up = try randomElement(upKernels, &rng, "up kernels")
        let small = Resampler.resize(
            Compositor.patch(of: frame, in: box), width: max(1, Int((Float(box.width) * f).rounded())),
            height: max(1, Int((Float(box.height) * f).rounded())), kernel: down)
        return RegionSynthesis(
            patch: Resampler.resize(small, width: box.width, height: box.height, kernel: up),
            parameters: ["factor": parameterText(f), "down": down.rawValue, "up": up.rawValue])
    }
}

/// Smoothing filters of `DenoiseFamily`.
public enum DenoiseFilter: String, Codable, CaseIterable, Sendable {
    /// Gaussian blur, σ drawn from `DenoiseFamily.sigma`.
    case gaussian
    /// 3×3 or 5×5 mean.
    case box
    /// 3×3 median.
    case median
}

/// "denoise": the region smoothed by a Gaussian, box or median filter (imitates retouching and
/// denoised pastes: the region loses the camera noise its surroundings keep).
public struct DenoiseFamily: FakeFamily {
    public let name = "denoise", group = "classical"
    public var filters = DenoiseFilter.allCases
    public var sigma: ClosedRange<Float> = 0.8...2.0

    public init() {}

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        let box = mask.box, margin = 8  // filter with real surroundings so the box edge is not special
        var region = ImageFilters.crop(
            frame, x: box.x - margin, y: box.y - margin, width: box.width + 2 * margin, height: box.height + 2 * margin)
        let filter = try randomElement(filters, &rng, "filters")
        var parameters = ["filter": filter.rawValue]
        switch filter {
        case .gaussian:
            let s = rng.uniform(sigma.lowerBound, sigma.upperBound)
            PatchOps.gaussianBlur(&region, sigma: Double(s))
            parameters["sigma"] = parameterText(s)
        case .box:
            let radius = 1 + RegionMask.randomIndex(2, &rng)
            ImageFilters.boxBlur(&region, radius: radius)
            parameters["size"] = String(2 * radius + 1)
        case .median:
            region = ImageFilters.median3x3(region)
        }
        return RegionSynthesis(
            patch: ImageFilters.crop(region, x: margin, y: margin, width: box.width, height: box.height), parameters: parameters)
    }
}

/// "copy-move": the region replaced by another part of the same frame (imitates clone-stamp edits).
public struct CopyMoveFamily: FakeFamily {
    public let name = "copy-move", group = "classical"

    public init() {}

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        let box = mask.box, minimumShift = max(8, min(box.width, box.height) / 2)
        var source: (x: Int, y: Int)?
        for _ in 0..<16 {
            let x = RegionMask.randomIndex(frame.width - box.width + 1, &rng)
            let y = RegionMask.randomIndex(frame.height - box.height + 1, &rng)
            if max(abs(x - box.x), abs(y - box.y)) >= minimumShift { source = (x, y); break }
        }
        // A region about as large as the frame has no other place inside it: shift it and read the
        // overhang reflected.
        let (x, y) = source ?? (box.x + minimumShift, box.y + minimumShift)
        return RegionSynthesis(
            patch: ImageFilters.crop(frame, x: x, y: y, width: box.width, height: box.height),
            parameters: ["sourceX": String(x), "sourceY": String(y)])
    }
}

/// "splice": the region replaced by a random part of a donor frame from another file, enlarged first
/// if the donor is smaller than the region (imitates pasting from another photo).
public struct SpliceFamily: FakeFamily {
    public let name = "splice", group = "classical"
    public var needsDonor: Bool { true }

    public init() {}

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        guard var donor else { throw FakeZooError.donorRequired(family: name) }
        let box = mask.box
        if donor.width < box.width || donor.height < box.height {
            let scale = max(Double(box.width) / Double(donor.width), Double(box.height) / Double(donor.height))
            donor = Resampler.resize(
                donor, width: max(box.width, Int((Double(donor.width) * scale).rounded(.up))),
                height: max(box.height, Int((Double(donor.height) * scale).rounded(.up))), kernel: .bilinear)
        }
        let x = RegionMask.randomIndex(donor.width - box.width + 1, &rng)
        let y = RegionMask.randomIndex(donor.height - box.height + 1, &rng)
        return RegionSynthesis(
            patch: ImageFilters.crop(donor, x: x, y: y, width: box.width, height: box.height),
            parameters: ["donorX": String(x), "donorY": String(y)])
    }
}

/// "jpeg-region": the region JPEG-compressed at quality 30–70 on an 8×8 grid shifted from the frame's,
/// pasted back (imitates a pasted region with another compression history; Farid 2009, Bianchi & Piva 2012).
public struct JPEGRegionFamily: FakeFamily {
    public let name = "jpeg-region", group = "classical"
    public var quality: ClosedRange<Int> = 30...70

    public init() {}

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        let box = mask.box
        let q = quality.lowerBound + RegionMask.randomIndex(quality.count, &rng)
        let shiftX = RegionMask.randomIndex(8, &rng), shiftY = RegionMask.randomIndex(8, &rng)
        let region = ImageFilters.crop(
            frame, x: box.x - shiftX, y: box.y - shiftY, width: box.width + shiftX, height: box.height + shiftY)
        let decoded = try ZooEncoding.jpegRoundTrip(region, quality: q)
        return RegionSynthesis(
            patch: ImageFilters.crop(decoded, x: shiftX, y: shiftY, width: box.width, height: box.height),
            parameters: ["quality": String(q), "gridShift": "\(shiftX),\(shiftY)"])
    }
}
