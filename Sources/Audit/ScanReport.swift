// Audit — `ScanReport`, everything one scan of one file produced, and its JSON form
// (schema `unmask.report/1`, documented in Docs/report-format.md and
// Docs/unmask.report.schema.json). Encoding rounds numbers so output is deterministic.
import Foundation

/// Everything one scan of one file produced; the input of every report writer.
public struct ScanReport: Equatable, Sendable {
    /// The JSON schema identifier this type writes and reads.
    public static let schemaIdentifier = "unmask.report/1"

    /// Always `schemaIdentifier`: the schema this value is written in.
    public var schema: String { Self.schemaIdentifier }
    public var file: FileMetadata
    public var model: ModelMetadata
    /// Aggregated result; also holds the frames (sorted by time) and their smoothed scores.
    public var assessment: VideoAssessment
    /// Human-readable notes about the scan, e.g. "file ends early: decoded 120 of ~200 frames".
    public var warnings: [String]
    public var timings: Timings
    public var coverage: Coverage
    /// JPEG thumbnails of the most suspicious frames, for the HTML report only (not in JSON).
    public var thumbnails: [Thumbnail]
    /// When the report was made (written as ISO 8601 UTC, whole seconds).
    public var createdAt: Date

    public init(
        file: FileMetadata, model: ModelMetadata, assessment: VideoAssessment, warnings: [String] = [],
        timings: Timings, coverage: Coverage = .full, thumbnails: [Thumbnail] = [], createdAt: Date = Date()
    ) {
        self.file = file
        self.model = model
        self.assessment = assessment
        self.warnings = warnings
        self.timings = timings
        self.coverage = coverage
        self.thumbnails = thumbnails
        self.createdAt = createdAt
    }

    /// The analysed frames, sorted by time.
    public var frames: [FrameScore] { assessment.frames }
    public var fakeProbability: Double { assessment.fakeProbability }
    public var verdict: Verdict { assessment.verdict }
    public var segments: [Segment] { assessment.segments }
}

// MARK: - JSON coding

/// Rounding applied when writing JSON, so equal reports give byte-identical files.
enum JSONRounding {
    /// Probabilities and fractions: 4 decimals.
    static func probability(_ value: Double) -> Double { round(value, places: 4) }
    /// Frame times, durations and frame rates: 6 decimals (microseconds).
    static func time(_ value: Double) -> Double { round(value, places: 6) }
    /// Stage timings: 3 decimals (milliseconds).
    static func timing(_ value: Double) -> Double { round(value, places: 3) }

    static func round(_ value: Double, places: Int) -> Double {
        guard value.isFinite else { return value }
        let scale = pow(10.0, Double(places))
        let rounded = (value * scale).rounded() / scale
        return rounded == 0 ? 0 : rounded  // no "-0"
    }
}

/// Coding keys shared by the JSON form of the report, one enum per object.
private enum ReportKeys: String, CodingKey {
    case schema, file, model, verdict, segments, frames, warnings, timings, coverage, aggregation
    case fakeProbability = "fake_probability"
    case framesAnalysed = "frames_analysed"
    case createdAt = "created_at"
}

private enum FileKeys: String, CodingKey {
    case path, name, sha256, container, codec, width, height, tags
    case sizeBytes = "size_bytes"
    case durationSeconds = "duration_seconds"
    case frameRate = "frame_rate"
}

private enum ModelKeys: String, CodingKey {
    case name, sha256, version
    case parentSHA256 = "parent_sha256", parentName = "parent_name"
}

private enum TimingKeys: String, CodingKey {
    case decodeSeconds = "decode_seconds"
    case scoreSeconds = "score_seconds"
    case totalSeconds = "total_seconds"
}

private enum CoverageKeys: String, CodingKey {
    case kind, fraction
    case framesDecoded = "frames_decoded"
    case framesExpected = "frames_expected"
}

private enum AggregationKeys: String, CodingKey {
    case rule, threshold
    case confidentFrameCount = "confident_frame_count"
    case uncertainMargin = "uncertain_margin"
    case smoothingWindowSeconds = "smoothing_window_seconds"
    case minimumSmoothingRadiusFrames = "minimum_smoothing_radius_frames"
    case confidentFakeProbability = "confident_fake_probability"
    case minimumConfidentFraction = "minimum_confident_fraction"
    case minimumConfidentFrames = "minimum_confident_frames"
    case segmentMergeGapSeconds = "segment_merge_gap_seconds"
    case minimumSegmentFrames = "minimum_segment_frames"
}

private enum FrameKeys: String, CodingKey {
    case index, time, label, region, heatmap
    case fakeProbability = "fake_probability"
    case smoothedProbability = "smoothed_probability"
    case isKeyframe = "is_keyframe"
}

private enum HeatmapKeys: String, CodingKey { case rows, columns, values }

/// Non-finite optional numbers are written as null rather than failing the whole report.
private func finite(_ value: Double?) -> Double? {
    guard let value, value.isFinite else { return nil }
    return value
}

extension ScanReport: Codable {
    /// A new formatter per use: a shared one would be shared mutable state (the class is not
    /// Sendable), and a report formats or parses one date.
    static var dateFormatter: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter
    }

    public func encode(to encoder: Encoder) throws {
        var top = encoder.container(keyedBy: ReportKeys.self)
        try top.encode(schema, forKey: .schema)
        try top.encode(JSONRounding.probability(fakeProbability), forKey: .fakeProbability)
        try top.encode(verdict, forKey: .verdict)
        try top.encode(frames.count, forKey: .framesAnalysed)
        try top.encode(warnings, forKey: .warnings)
        try top.encode(Self.dateFormatter.string(from: createdAt), forKey: .createdAt)

        var fileObject = top.nestedContainer(keyedBy: FileKeys.self, forKey: .file)
        try fileObject.encode(file.path, forKey: .path)
        try fileObject.encode(file.fileName, forKey: .name)
        try fileObject.encode(file.sha256, forKey: .sha256)
        try fileObject.encode(file.container, forKey: .container)
        try fileObject.encode(file.codec, forKey: .codec)
        try fileObject.encode(file.sizeBytes, forKey: .sizeBytes)
        try fileObject.encode(file.width, forKey: .width)
        try fileObject.encode(file.height, forKey: .height)
        try fileObject.encode(finite(file.durationSeconds).map(JSONRounding.time), forKey: .durationSeconds)
        try fileObject.encode(finite(file.frameRate).map(JSONRounding.time), forKey: .frameRate)
        try fileObject.encode(file.tags, forKey: .tags)

        var modelObject = top.nestedContainer(keyedBy: ModelKeys.self, forKey: .model)
        try modelObject.encode(model.name, forKey: .name)
        try modelObject.encode(model.sha256, forKey: .sha256)
        try modelObject.encode(model.version, forKey: .version)
        try modelObject.encode(model.parentSHA256, forKey: .parentSHA256)
        try modelObject.encode(model.parentName, forKey: .parentName)

        var timingObject = top.nestedContainer(keyedBy: TimingKeys.self, forKey: .timings)
        try timingObject.encode(JSONRounding.timing(finite(timings.decodeSeconds) ?? 0), forKey: .decodeSeconds)
        try timingObject.encode(JSONRounding.timing(finite(timings.scoreSeconds) ?? 0), forKey: .scoreSeconds)
        try timingObject.encode(JSONRounding.timing(finite(timings.totalSeconds) ?? 0), forKey: .totalSeconds)

        var coverageObject = top.nestedContainer(keyedBy: CoverageKeys.self, forKey: .coverage)
        try coverageObject.encode(coverage.isFull ? "full" : "partial", forKey: .kind)
        try coverageObject.encode(JSONRounding.probability(coverage.fraction), forKey: .fraction)
        try coverageObject.encode(coverage.framesDecoded, forKey: .framesDecoded)
        try coverageObject.encode(coverage.framesExpected, forKey: .framesExpected)

        let policy = assessment.policy
        var aggregation = top.nestedContainer(keyedBy: AggregationKeys.self, forKey: .aggregation)
        try aggregation.encode(assessment.rule, forKey: .rule)
        try aggregation.encode(assessment.confidentFrameCount, forKey: .confidentFrameCount)
        try aggregation.encode(policy.threshold, forKey: .threshold)
        try aggregation.encode(policy.uncertainMargin, forKey: .uncertainMargin)
        try aggregation.encode(policy.smoothingWindowSeconds, forKey: .smoothingWindowSeconds)
        try aggregation.encode(policy.minimumSmoothingRadiusFrames, forKey: .minimumSmoothingRadiusFrames)
        try aggregation.encode(policy.confidentFakeProbability, forKey: .confidentFakeProbability)
        try aggregation.encode(policy.minimumConfidentFraction, forKey: .minimumConfidentFraction)
        try aggregation.encode(policy.minimumConfidentFrames, forKey: .minimumConfidentFrames)
        try aggregation.encode(policy.segmentMergeGapSeconds, forKey: .segmentMergeGapSeconds)
        try aggregation.encode(policy.minimumSegmentFrames, forKey: .minimumSegmentFrames)

        var segmentList = top.nestedUnkeyedContainer(forKey: .segments)
        for segment in segments {
            var object = segmentList.nestedContainer(keyedBy: Segment.CodingKeys.self)
            try object.encode(JSONRounding.time(segment.start), forKey: .start)
            try object.encode(JSONRounding.time(segment.end), forKey: .end)
            try object.encode(JSONRounding.probability(segment.peakProbability), forKey: .peakProbability)
            try object.encode(JSONRounding.time(segment.peakTime), forKey: .peakTime)
            try object.encode(segment.frameCount, forKey: .frameCount)
        }

        var frameList = top.nestedUnkeyedContainer(forKey: .frames)
        for (frame, smoothed) in zip(frames, assessment.smoothed) {
            var object = frameList.nestedContainer(keyedBy: FrameKeys.self)
            try object.encode(frame.index, forKey: .index)
            try object.encode(JSONRounding.time(frame.time), forKey: .time)
            try object.encode(JSONRounding.probability(frame.fakeProbability), forKey: .fakeProbability)
            try object.encode(JSONRounding.probability(smoothed), forKey: .smoothedProbability)
            try object.encode(assessment.label(of: frame), forKey: .label)
            try object.encode(frame.isKeyframe, forKey: .isKeyframe)
            try object.encode(frame.region, forKey: .region)
            var heatmap = object.nestedContainer(keyedBy: HeatmapKeys.self, forKey: .heatmap)
            try heatmap.encode(frame.heatmap.rows, forKey: .rows)
            try heatmap.encode(frame.heatmap.columns, forKey: .columns)
            try heatmap.encode(frame.heatmap.values.map { JSONRounding.probability(Double($0)) }, forKey: .values)
        }
    }

    public init(from decoder: Decoder) throws {
        let top = try decoder.container(keyedBy: ReportKeys.self)
        let schema = try top.decode(String.self, forKey: .schema)  // only the current schema is read
        guard schema == Self.schemaIdentifier else {
            throw DecodingError.dataCorruptedError(
                forKey: .schema, in: top,
                debugDescription: "unsupported schema \(schema); expected \(Self.schemaIdentifier)")
        }
        let created = try top.decode(String.self, forKey: .createdAt)
        guard let createdAt = Self.dateFormatter.date(from: created) else {
            throw DecodingError.dataCorruptedError(
                forKey: .createdAt, in: top,
                debugDescription: "created_at is not an ISO 8601 date-time: \(created)")
        }

        let fileObject = try top.nestedContainer(keyedBy: FileKeys.self, forKey: .file)
        let file = FileMetadata(
            path: try fileObject.decode(String.self, forKey: .path),
            sha256: try fileObject.decodeIfPresent(String.self, forKey: .sha256),
            container: try fileObject.decodeIfPresent(String.self, forKey: .container),
            codec: try fileObject.decodeIfPresent(String.self, forKey: .codec),
            sizeBytes: try fileObject.decodeIfPresent(Int64.self, forKey: .sizeBytes),
            width: try fileObject.decodeIfPresent(Int.self, forKey: .width),
            height: try fileObject.decodeIfPresent(Int.self, forKey: .height),
            durationSeconds: try fileObject.decodeIfPresent(Double.self, forKey: .durationSeconds),
            frameRate: try fileObject.decodeIfPresent(Double.self, forKey: .frameRate),
            tags: try fileObject.decodeIfPresent([String: String].self, forKey: .tags) ?? [:])

        let modelObject = try top.nestedContainer(keyedBy: ModelKeys.self, forKey: .model)
        let model = ModelMetadata(
            name: try modelObject.decode(String.self, forKey: .name),
            sha256: try modelObject.decodeIfPresent(String.self, forKey: .sha256),
            version: try modelObject.decodeIfPresent(String.self, forKey: .version),
            parentSHA256: try modelObject.decodeIfPresent(String.self, forKey: .parentSHA256),
            parentName: try modelObject.decodeIfPresent(String.self, forKey: .parentName))

        let timingObject = try top.nestedContainer(keyedBy: TimingKeys.self, forKey: .timings)
        let timings = Timings(
            decodeSeconds: try timingObject.decode(Double.self, forKey: .decodeSeconds),
            scoreSeconds: try timingObject.decode(Double.self, forKey: .scoreSeconds),
            totalSeconds: try timingObject.decode(Double.self, forKey: .totalSeconds))

        let coverageObject = try top.nestedContainer(keyedBy: CoverageKeys.self, forKey: .coverage)
        let coverage = Coverage(
            fraction: try coverageObject.decode(Double.self, forKey: .fraction),
            framesDecoded: try coverageObject.decodeIfPresent(Int.self, forKey: .framesDecoded),
            framesExpected: try coverageObject.decodeIfPresent(Int.self, forKey: .framesExpected))

        let aggregation = try top.nestedContainer(keyedBy: AggregationKeys.self, forKey: .aggregation)
        let policy = AggregationPolicy(
            threshold: try aggregation.decode(Double.self, forKey: .threshold),
            uncertainMargin: try aggregation.decode(Double.self, forKey: .uncertainMargin),
            smoothingWindowSeconds: try aggregation.decode(Double.self, forKey: .smoothingWindowSeconds),
            minimumSmoothingRadiusFrames: try aggregation.decode(Int.self, forKey: .minimumSmoothingRadiusFrames),
            confidentFakeProbability: try aggregation.decode(Double.self, forKey: .confidentFakeProbability),
            minimumConfidentFraction: try aggregation.decode(Double.self, forKey: .minimumConfidentFraction),
            minimumConfidentFrames: try aggregation.decode(Int.self, forKey: .minimumConfidentFrames),
            segmentMergeGapSeconds: try aggregation.decode(Double.self, forKey: .segmentMergeGapSeconds),
            minimumSegmentFrames: try aggregation.decode(Int.self, forKey: .minimumSegmentFrames))

        var segments: [Segment] = []
        var segmentList = try top.nestedUnkeyedContainer(forKey: .segments)
        while !segmentList.isAtEnd {
            let object = try segmentList.nestedContainer(keyedBy: Segment.CodingKeys.self)
            segments.append(
                Segment(
                    start: try object.decode(Double.self, forKey: .start),
                    end: try object.decode(Double.self, forKey: .end),
                    peakProbability: try object.decode(Double.self, forKey: .peakProbability),
                    peakTime: try object.decode(Double.self, forKey: .peakTime),
                    frameCount: try object.decode(Int.self, forKey: .frameCount)))
        }

        var frames: [FrameScore] = []
        var smoothed: [Double] = []
        var frameList = try top.nestedUnkeyedContainer(forKey: .frames)
        while !frameList.isAtEnd {
            let object = try frameList.nestedContainer(keyedBy: FrameKeys.self)
            let heatmapObject = try object.nestedContainer(keyedBy: HeatmapKeys.self, forKey: .heatmap)
            let heatmap = Heatmap(
                rows: try heatmapObject.decode(Int.self, forKey: .rows),
                columns: try heatmapObject.decode(Int.self, forKey: .columns),
                values: try heatmapObject.decode([Float].self, forKey: .values))
            frames.append(
                FrameScore(
                    index: try object.decode(Int.self, forKey: .index),
                    time: try object.decode(Double.self, forKey: .time),
                    fakeProbability: try object.decode(Double.self, forKey: .fakeProbability),
                    heatmap: heatmap,
                    region: try object.decode(Region.self, forKey: .region),
                    isKeyframe: try object.decode(Bool.self, forKey: .isKeyframe)))
            smoothed.append(try object.decode(Double.self, forKey: .smoothedProbability))
        }

        let assessment = VideoAssessment(
            frames: frames,
            smoothed: smoothed,
            fakeProbability: try top.decode(Double.self, forKey: .fakeProbability),
            verdict: try top.decode(Verdict.self, forKey: .verdict),
            rule: try aggregation.decode(AggregationRule.self, forKey: .rule),
            confidentFrameCount: try aggregation.decode(Int.self, forKey: .confidentFrameCount),
            segments: segments,
            policy: policy)

        self.init(
            file: file, model: model, assessment: assessment,
            warnings: try top.decode([String].self, forKey: .warnings),
            timings: timings, coverage: coverage, thumbnails: [], createdAt: createdAt)
    }
}
