// Audit — the plain values a scan produces: per-frame scores, heatmaps, regions,
// file and model metadata, timings, coverage and thumbnails.
// No tensors, no decoding: everything here is a value the reports are built from.
import Foundation

/// A rectangle in frame pixels (origin at the top-left corner of the frame).
public struct Region: Codable, Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var w: Int
    public var h: Int

    public init(x: Int, y: Int, w: Int, h: Int) {
        self.x = x
        self.y = y
        self.w = w
        self.h = h
    }
}

/// A grid of patch fake probabilities covering the whole frame, stored row-major.
///
/// `values[r * columns + c]` is the probability (0…1) of the patch in row `r`, column `c`;
/// row 0 is the top of the frame. An empty heatmap (0 × 0) means the model gave none.
public struct Heatmap: Codable, Equatable, Sendable {
    public var rows: Int
    public var columns: Int
    public var values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) {
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A heatmap with no patches, for models that do not localise.
    public static let empty = Heatmap(rows: 0, columns: 0, values: [])

    /// The largest patch probability, or nil when the heatmap has no values.
    public var maximum: Float? { values.max() }

    /// Whether `values.count == rows * columns` and every value is finite.
    public var isWellFormed: Bool {
        rows >= 0 && columns >= 0 && values.count == rows * columns && values.allSatisfy { $0.isFinite }
    }
}

/// The detector's output for one analysed frame.
public struct FrameScore: Equatable, Sendable {
    /// Index of the frame in presentation order (0-based), as the decoder numbered it (estimated as
    /// round(time × frame rate) where frames were not decoded; see `DecodedFrame.index`).
    public var index: Int
    /// Presentation time of the frame in seconds from the start of the stream.
    public var time: Double
    /// Calibrated probability (0…1) that the frame is fake.
    public var fakeProbability: Double
    /// Patch probabilities over the frame.
    public var heatmap: Heatmap
    /// The most suspicious region, in frame pixels.
    public var region: Region
    /// Whether the frame was a keyframe (I-frame) in the stream.
    public var isKeyframe: Bool

    public init(
        index: Int, time: Double, fakeProbability: Double, heatmap: Heatmap = .empty,
        region: Region, isKeyframe: Bool = false
    ) {
        self.index = index
        self.time = time
        self.fakeProbability = fakeProbability
        self.heatmap = heatmap
        self.region = region
        self.isKeyframe = isKeyframe
    }
}

/// What the scan concluded about a frame or a whole file.
public enum Verdict: String, Codable, CaseIterable, Sendable {
    case real
    case fake
    case uncertain
}

/// A stretch of the video whose smoothed score stays over the threshold.
public struct Segment: Codable, Equatable, Sendable {
    /// Time in seconds of the first frame of the segment.
    public var start: Double
    /// Time in seconds of the last frame of the segment.
    public var end: Double
    /// Highest smoothed fake probability inside the segment.
    public var peakProbability: Double
    /// Time in seconds of the (earliest) frame with the highest smoothed probability.
    public var peakTime: Double
    /// Number of analysed frames from the first to the last frame of the segment, merged gaps included.
    public var frameCount: Int

    /// The JSON report's key names, also used when a `Segment` is encoded on its own.
    enum CodingKeys: String, CodingKey {
        case start, end
        case peakProbability = "peak_probability"
        case peakTime = "peak_time"
        case frameCount = "frame_count"
    }

    public init(start: Double, end: Double, peakProbability: Double, peakTime: Double, frameCount: Int) {
        self.start = start
        self.end = end
        self.peakProbability = peakProbability
        self.peakTime = peakTime
        self.frameCount = frameCount
    }
}

/// What is known about the scanned file. Unknown values are nil (null in JSON).
public struct FileMetadata: Equatable, Sendable {
    /// The path as the user gave it.
    public var path: String
    /// Lower-case hex SHA-256 of the file's bytes.
    public var sha256: String?
    /// Container format as the demuxer names it, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
    public var container: String?
    /// Video codec, e.g. "h264".
    public var codec: String?
    public var sizeBytes: Int64?
    public var width: Int?
    public var height: Int?
    public var durationSeconds: Double?
    public var frameRate: Double?
    /// Container and stream tags (title, encoder, creation_time, …), as read from the file.
    public var tags: [String: String]

    public init(
        path: String, sha256: String? = nil, container: String? = nil, codec: String? = nil,
        sizeBytes: Int64? = nil, width: Int? = nil, height: Int? = nil,
        durationSeconds: Double? = nil, frameRate: Double? = nil, tags: [String: String] = [:]
    ) {
        self.path = path
        self.sha256 = sha256
        self.container = container
        self.codec = codec
        self.sizeBytes = sizeBytes
        self.width = width
        self.height = height
        self.durationSeconds = durationSeconds
        self.frameRate = frameRate
        self.tags = tags
    }

    /// The last path component, for titles and captions.
    public var fileName: String {
        let name = path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? ""
        return name.isEmpty ? path : name
    }
}

/// The detector model that produced the scores.
public struct ModelMetadata: Equatable, Sendable {
    public var name: String
    /// Lower-case hex SHA-256 of the weights file.
    public var sha256: String?
    public var version: String?
    /// For a retrained model: the SHA-256 and file name of the model it was retrained from.
    public var parentSHA256: String?
    public var parentName: String?

    public init(
        name: String, sha256: String? = nil, version: String? = nil, parentSHA256: String? = nil, parentName: String? = nil
    ) {
        self.name = name
        self.sha256 = sha256
        self.version = version
        self.parentSHA256 = parentSHA256
        self.parentName = parentName
    }
}

/// Wall-clock seconds spent in each stage of the scan.
public struct Timings: Equatable, Sendable {
    public var decodeSeconds: Double
    public var scoreSeconds: Double
    public var totalSeconds: Double

    public init(decodeSeconds: Double, scoreSeconds: Double, totalSeconds: Double) {
        self.decodeSeconds = decodeSeconds
        self.scoreSeconds = scoreSeconds
        self.totalSeconds = totalSeconds
    }
}

/// How much of the file the scan covered.
public struct Coverage: Equatable, Sendable {
    /// Fraction (0…1) of the file that was analysed; 1 means the whole file.
    public var fraction: Double
    /// Frames decoded, when known.
    public var framesDecoded: Int?
    /// Frames the container announced (or duration × frame rate), when known.
    public var framesExpected: Int?

    /// Coverage from a fraction, clamped to 0…1 (non-finite becomes 0).
    public init(fraction: Double, framesDecoded: Int? = nil, framesExpected: Int? = nil) {
        self.fraction = min(max(fraction.isFinite ? fraction : 0, 0), 1)
        self.framesDecoded = framesDecoded
        self.framesExpected = framesExpected
    }

    /// Whole-file coverage.
    public static let full = Coverage(fraction: 1)

    /// Coverage from decoded and expected frame counts (full when `expected` is not positive).
    public static func frames(decoded: Int, expected: Int) -> Coverage {
        guard expected > 0 else { return Coverage(fraction: 1, framesDecoded: decoded, framesExpected: nil) }
        return Coverage(fraction: Double(decoded) / Double(expected), framesDecoded: decoded, framesExpected: expected)
    }

    /// Whether the whole file was analysed.
    public var isFull: Bool { fraction >= 1 }
}

/// A JPEG thumbnail of one analysed frame; embedded in the HTML report only, never in JSON.
public struct Thumbnail: Equatable, Sendable {
    /// `FrameScore.index` of the frame the thumbnail shows.
    public var frameIndex: Int
    /// JPEG bytes at any size — the report stretches it over the frame's pixel grid.
    public var jpeg: Data

    public init(frameIndex: Int, jpeg: Data) {
        self.frameIndex = frameIndex
        self.jpeg = jpeg
    }
}
