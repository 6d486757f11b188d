// Audit — a hand-written validator for the `unmask.report/1` JSON schema (the same rules as
// Docs/unmask.report.schema.json: required keys, types, 0…1 ranges, enums), for tests and for
// checking reports end to end without a JSON Schema library.
import Foundation

/// Checks parsed JSON against the `unmask.report/1` schema.
public enum ReportSchema {
    /// The schema identifier, also the value of the top-level `schema` key.
    public static let identifier = ScanReport.schemaIdentifier

    /// Violations of the schema in `jsonObject` (as from `JSONSerialization.jsonObject`), each
    /// naming the JSON path, e.g. `frames[3].heatmap.values: expected 12 values (rows × columns), got 11`.
    /// Empty when the object is a valid report. Unknown extra keys are allowed.
    public static func validate(jsonObject: Any) -> [String] {
        var checker = Checker()
        checker.report(jsonObject)
        return checker.violations
    }

    /// Violations of the schema in JSON bytes; a parse failure is one violation.
    public static func validate(jsonData: Data) -> [String] {
        do {
            return validate(jsonObject: try JSONSerialization.jsonObject(with: jsonData, options: [.fragmentsAllowed]))
        } catch {
            return ["$: not valid JSON (\(error.localizedDescription))"]
        }
    }
}

/// What a JSON value is, telling booleans, integers and other numbers apart.
private enum JSONKind {
    case null, bool, integer(Int), number(Double), string(String), array([Any]), object([String: Any])

    init?(_ value: Any) {
        switch value {
        case is NSNull: self = .null
        case let value as String: self = .string(value)
        case let value as [Any]: self = .array(value)
        case let value as [String: Any]: self = .object(value)
        default:
            if type(of: value) == Bool.self {
                self = .bool
            } else if let number = value as? NSNumber {
                let code = String(cString: number.objCType)
                if code == "c" || code == "B" {
                    self = .bool
                } else if ["d", "f"].contains(code) {
                    let double = number.doubleValue
                    self =
                        double.isFinite && double.rounded() == double && abs(double) < 9e15
                        ? .integer(Int(double)) : .number(double)
                } else {
                    self = .integer(number.intValue)
                }
            } else if let value = value as? Int {
                self = .integer(value)
            } else if let value = value as? Double {
                self = .number(value)
            } else {
                return nil
            }
        }
    }
}

private struct Checker {
    var violations: [String] = []

    mutating func fail(_ path: String, _ message: String) {
        violations.append("\(path): \(message)")
    }

    // MARK: Primitive checks; each returns the value when it has the right type.

    mutating func object(_ value: Any?, _ path: String) -> [String: Any]? {
        guard let value else { fail(path, "missing"); return nil }
        guard case let .object(object)? = JSONKind(value) else { fail(path, "expected an object"); return nil }
        return object
    }

    mutating func array(_ value: Any?, _ path: String) -> [Any]? {
        guard let value else { fail(path, "missing"); return nil }
        guard case let .array(array)? = JSONKind(value) else { fail(path, "expected an array"); return nil }
        return array
    }

    @discardableResult
    mutating func string(
        _ value: Any?, _ path: String, nullable: Bool = false, oneOf allowed: [String]? = nil,
        pattern: String? = nil
    ) -> String? {
        guard let value else { fail(path, "missing"); return nil }
        switch JSONKind(value) {
        case .null? where nullable:
            return nil
        case let .string(text)?:
            if let allowed, !allowed.contains(text) {
                fail(path, "expected one of \(allowed.joined(separator: ", ")), got \"\(text)\"")
            }
            if let pattern, text.range(of: pattern, options: .regularExpression) == nil {
                fail(path, "\"\(text)\" does not match \(pattern)")
            }
            return text
        default:
            fail(path, nullable ? "expected a string or null" : "expected a string")
            return nil
        }
    }

    @discardableResult
    mutating func number(
        _ value: Any?, _ path: String, nullable: Bool = false,
        minimum: Double? = nil, maximum: Double? = nil
    ) -> Double? {
        guard let value else { fail(path, "missing"); return nil }
        let number: Double
        switch JSONKind(value) {
        case .null? where nullable: return nil
        case let .integer(integer)?: number = Double(integer)
        case let .number(double)?: number = double
        default:
            fail(path, nullable ? "expected a number or null" : "expected a number")
            return nil
        }
        if let minimum, number < minimum { fail(path, "\(number) is below the minimum \(minimum)") }
        if let maximum, number > maximum { fail(path, "\(number) is above the maximum \(maximum)") }
        return number
    }

    mutating func probability(_ value: Any?, _ path: String) {
        number(value, path, minimum: 0, maximum: 1)
    }

    @discardableResult
    mutating func integer(_ value: Any?, _ path: String, nullable: Bool = false, minimum: Int? = nil) -> Int? {
        guard let value else { fail(path, "missing"); return nil }
        switch JSONKind(value) {
        case .null? where nullable: return nil
        case let .integer(integer)?:
            if let minimum, integer < minimum { fail(path, "\(integer) is below the minimum \(minimum)") }
            return integer
        default:
            fail(path, nullable ? "expected an integer or null" : "expected an integer")
            return nil
        }
    }

    mutating func bool(_ value: Any?, _ path: String) {
        guard let value else { fail(path, "missing"); return }
        guard case .bool? = JSONKind(value) else { fail(path, "expected true or false"); return }
    }

    // MARK: The schema

    static let sha256Pattern = "^[0-9a-f]{64}$"
    static let dateTimePattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"

    mutating func report(_ value: Any) {
        guard let top = object(value, "$") else { return }
        string(top["schema"], "schema", oneOf: [ReportSchema.identifier])
        if let created = string(top["created_at"], "created_at", pattern: Self.dateTimePattern),
            ScanReport.dateFormatter.date(from: created) == nil
        {
            fail("created_at", "\"\(created)\" is not an ISO 8601 UTC date-time like 2026-01-31T12:00:00Z")
        }
        probability(top["fake_probability"], "fake_probability")
        string(top["verdict"], "verdict", oneOf: Verdict.allCases.map(\.rawValue))
        let framesAnalysed = integer(top["frames_analysed"], "frames_analysed", minimum: 0)
        file(top["file"])
        model(top["model"])
        timings(top["timings"])
        coverage(top["coverage"])
        aggregation(top["aggregation"])
        if let warnings = array(top["warnings"], "warnings") {
            for (i, warning) in warnings.enumerated() { string(warning, "warnings[\(i)]") }
        }
        if let segments = array(top["segments"], "segments") {
            for (i, item) in segments.enumerated() { segment(item, "segments[\(i)]") }
        }
        if let frames = array(top["frames"], "frames") {
            if let framesAnalysed, framesAnalysed != frames.count {
                fail("frames_analysed", "is \(framesAnalysed) but frames has \(frames.count) entries")
            }
            for (i, item) in frames.enumerated() { frame(item, "frames[\(i)]") }
        }
    }

    mutating func file(_ value: Any?) {
        guard let file = object(value, "file") else { return }
        string(file["path"], "file.path")
        string(file["name"], "file.name")
        string(file["sha256"], "file.sha256", nullable: true, pattern: Self.sha256Pattern)
        string(file["container"], "file.container", nullable: true)
        string(file["codec"], "file.codec", nullable: true)
        integer(file["size_bytes"], "file.size_bytes", nullable: true, minimum: 0)
        integer(file["width"], "file.width", nullable: true, minimum: 0)
        integer(file["height"], "file.height", nullable: true, minimum: 0)
        number(file["duration_seconds"], "file.duration_seconds", nullable: true, minimum: 0)
        number(file["frame_rate"], "file.frame_rate", nullable: true, minimum: 0)
        if let tags = object(file["tags"], "file.tags") {
            for key in tags.keys.sorted() { string(tags[key], "file.tags.\(key)") }
        }
    }

    mutating func model(_ value: Any?) {
        guard let model = object(value, "model") else { return }
        string(model["name"], "model.name")
        string(model["sha256"], "model.sha256", nullable: true, pattern: Self.sha256Pattern)
        string(model["version"], "model.version", nullable: true)
    }

    mutating func timings(_ value: Any?) {
        guard let timings = object(value, "timings") else { return }
        for key in ["decode_seconds", "score_seconds", "total_seconds"] {
            number(timings[key], "timings.\(key)", minimum: 0)
        }
    }

    mutating func coverage(_ value: Any?) {
        guard let coverage = object(value, "coverage") else { return }
        let kind = string(coverage["kind"], "coverage.kind", oneOf: ["full", "partial"])
        let fraction = number(coverage["fraction"], "coverage.fraction", minimum: 0, maximum: 1)
        if let kind, let fraction, (kind == "full") != (fraction >= 1) {
            fail("coverage.kind", "is \"\(kind)\" but fraction is \(fraction)")
        }
        integer(coverage["frames_decoded"], "coverage.frames_decoded", nullable: true, minimum: 0)
        integer(coverage["frames_expected"], "coverage.frames_expected", nullable: true, minimum: 0)
    }

    mutating func aggregation(_ value: Any?) {
        guard let aggregation = object(value, "aggregation") else { return }
        string(aggregation["rule"], "aggregation.rule", oneOf: ["confident_frames", "smoothed_mean", "segment"])
        integer(aggregation["confident_frame_count"], "aggregation.confident_frame_count", minimum: 0)
        probability(aggregation["threshold"], "aggregation.threshold")
        number(aggregation["uncertain_margin"], "aggregation.uncertain_margin", minimum: 0, maximum: 0.5)
        number(aggregation["smoothing_window_seconds"], "aggregation.smoothing_window_seconds", minimum: 0)
        integer(aggregation["minimum_smoothing_radius_frames"], "aggregation.minimum_smoothing_radius_frames", minimum: 0)
        probability(aggregation["confident_fake_probability"], "aggregation.confident_fake_probability")
        probability(aggregation["minimum_confident_fraction"], "aggregation.minimum_confident_fraction")
        integer(aggregation["minimum_confident_frames"], "aggregation.minimum_confident_frames", minimum: 1)
        number(aggregation["segment_merge_gap_seconds"], "aggregation.segment_merge_gap_seconds", minimum: 0)
        integer(aggregation["minimum_segment_frames"], "aggregation.minimum_segment_frames", minimum: 1)
    }

    mutating func segment(_ value: Any?, _ path: String) {
        guard let segment = object(value, path) else { return }
        let start = number(segment["start"], "\(path).start")
        let end = number(segment["end"], "\(path).end")
        if let start, let end, end < start { fail("\(path).end", "\(end) is before start \(start)") }
        probability(segment["peak_probability"], "\(path).peak_probability")
        number(segment["peak_time"], "\(path).peak_time")
        integer(segment["frame_count"], "\(path).frame_count", minimum: 1)
    }

    mutating func frame(_ value: Any?, _ path: String) {
        guard let frame = object(value, path) else { return }
        integer(frame["index"], "\(path).index", minimum: 0)
        number(frame["time"], "\(path).time")
        probability(frame["fake_probability"], "\(path).fake_probability")
        probability(frame["smoothed_probability"], "\(path).smoothed_probability")
        string(frame["label"], "\(path).label", oneOf: Verdict.allCases.map(\.rawValue))
        bool(frame["is_keyframe"], "\(path).is_keyframe")
        if let region = object(frame["region"], "\(path).region") {
            integer(region["x"], "\(path).region.x")
            integer(region["y"], "\(path).region.y")
            integer(region["w"], "\(path).region.w", minimum: 0)
            integer(region["h"], "\(path).region.h", minimum: 0)
        }
        if let heatmap = object(frame["heatmap"], "\(path).heatmap") {
            let rows = integer(heatmap["rows"], "\(path).heatmap.rows", minimum: 0)
            let columns = integer(heatmap["columns"], "\(path).heatmap.columns", minimum: 0)
            if let values = array(heatmap["values"], "\(path).heatmap.values") {
                if let rows, let columns, values.count != rows * columns {
                    fail("\(path).heatmap.values", "expected \(rows * columns) values (rows × columns), got \(values.count)")
                }
                for (i, item) in values.enumerated() { probability(item, "\(path).heatmap.values[\(i)]") }
            }
        }
    }
}
