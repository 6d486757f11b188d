// Owns the one re-encoding a real frame and its fake share (JPEG, H.264 intra or none, drawn from the
// sample's seed), so the detector cannot learn the encode path instead of the fake; the mask is
// returned unchanged because re-encoding moves no geometry.
import Foundation
import MediaIO
import NeuralNet

/// A re-encoding applied to both frames of a sample.
public enum ZooEncoding: Equatable, Codable, Sendable, CustomStringConvertible {
    case none
    /// JPEG at quality 1…100 (4:2:0).
    case jpeg(quality: Int)
    /// H.264 intra frame at CRF 0…51.
    case h264(crf: Int)

    /// `image` after this re-encoding (a new decode of the encoded bytes).
    public func apply(_ image: RGBImage) throws -> RGBImage {
        switch self {
        case .none: return image
        case .jpeg(let quality): return try ZooEncoding.jpegRoundTrip(image, quality: quality)
        case .h264(let crf): return try ZooEncoding.paddedRoundTrip(image) { try Reencoder.h264RoundTrip($0, crf: crf) }
        }
    }

    /// A JPEG round trip that gives the same result on every run for any size (see `paddedRoundTrip`).
    static func jpegRoundTrip(_ image: RGBImage, quality: Int) throws -> RGBImage {
        try paddedRoundTrip(image) { try Reencoder.jpegRoundTrip($0, quality: quality) }
    }

    /// `roundTrip` of `image` reflect-padded on the right and bottom to multiples of 16, cropped back.
    /// MediaIO's 4:2:0 round trips of some widths (odd ones, and e.g. 82 or 84) differ from run to run
    /// (measured: up to every run of 4, JPEG and H.264; never at multiples of 16 over 16…336 × 16…272),
    /// and zoo fakes and encodings must be reproducible; the 8×8 grid stays aligned to the origin.
    static func paddedRoundTrip(_ image: RGBImage, _ roundTrip: (RGBImage) throws -> RGBImage) throws -> RGBImage {
        let w = image.width, h = image.height, pw = (w + 15) / 16 * 16, ph = (h + 15) / 16 * 16
        let padded = pw == w && ph == h ? image : ImageFilters.crop(image, x: 0, y: 0, width: pw, height: ph)
        let decoded = try roundTrip(padded)
        guard decoded.width == pw, decoded.height == ph else {
            throw DetectorError.invalidInput("a \(pw)×\(ph) image came back \(decoded.width)×\(decoded.height) from re-encoding")
        }
        return pw == w && ph == h ? decoded : ImageFilters.crop(decoded, x: 0, y: 0, width: w, height: h)
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .jpeg(let quality): return "jpeg q\(quality)"
        case .h264(let crf): return "h264 crf\(crf)"
        }
    }
}

/// How often each re-encoding is drawn and at which settings.
public struct EncodingConfig: Codable, Equatable, Sendable {
    /// Probability of JPEG; of H.264; none otherwise (the two must sum to ≤ 1).
    public var jpeg = 0.4
    public var h264 = 0.4
    public var jpegQuality: ClosedRange<Int> = 60...98
    public var h264CRF: ClosedRange<Int> = 18...35

    public init() {}

    /// No re-encoding at all.
    public static let none: EncodingConfig = {
        var c = EncodingConfig()
        c.jpeg = 0; c.h264 = 0
        return c
    }()
}

/// A real frame and its fake after the same re-encoding.
public struct ZooSample {
    public var real: RGBImage
    public var fake: RGBImage
    /// Where `fake` is fake (unchanged by the re-encoding).
    public var mask: RegionMask
    public var family: String
    public var group: String
    public var colourCorrected: Bool
    public var parameters: [String: String]
    public var encoding: ZooEncoding
}

/// The shared encode path of real and fake frames.
public enum SharedEncoding {
    /// The re-encoding of the sample with `seed` (its own random stream: independent of the fake's draws).
    public static func choice(seed: UInt64, config: EncodingConfig = EncodingConfig()) -> ZooEncoding {
        var rng = ZooStream.encoding.generator(seed: seed)
        let draw = Double(rng.uniform())
        if draw < config.jpeg {
            return .jpeg(quality: config.jpegQuality.lowerBound + RegionMask.randomIndex(config.jpegQuality.count, &rng))
        }
        if draw < config.jpeg + config.h264 {
            return .h264(crf: config.h264CRF.lowerBound + RegionMask.randomIndex(config.h264CRF.count, &rng))
        }
        return .none
    }

    /// `real` and `fake.image` through the re-encoding `seed` chooses; the mask is kept as it is.
    public static func encode(
        real: RGBImage, fake: ZooFake, seed: UInt64, config: EncodingConfig = EncodingConfig()
    ) throws -> ZooSample {
        let encoding = choice(seed: seed, config: config)
        return ZooSample(
            real: try encoding.apply(real), fake: try encoding.apply(fake.image), mask: fake.mask, family: fake.family,
            group: fake.group, colourCorrected: fake.colourCorrected, parameters: fake.parameters, encoding: encoding)
    }
}
