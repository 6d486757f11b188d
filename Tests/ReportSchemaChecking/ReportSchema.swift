// Test support: checks report JSON against Docs/unmask.report.schema.json, the one definition of the
// `unmask.report/1` format, by interpreting the JSON Schema keywords that file uses, plus the few
// cross-field rules its descriptions state in words. Unknown schema keywords fail loudly.
import Foundation

/// Checks parsed JSON against the documented `unmask.report/1` schema.
public enum ReportSchema {
    /// The schema file, Docs/unmask.report.schema.json, found from this file's path.
    public static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Docs/unmask.report.schema.json")

    /// Violations of the schema in `jsonObject` (as from `JSONSerialization.jsonObject`), each naming
    /// the JSON path, e.g. `frames[3].heatmap.values: expected 12 values (rows × columns), got 11`.
    /// Empty when the object is a valid report. Keys the schema does not declare are allowed (readers
    /// must ignore them) unless `strict`; `strict` also reports declared keys that are absent, so a
    /// report with every optional value set must match the schema key for key.
    public static func validate(jsonObject: Any, strict: Bool = false) -> [String] {
        let schema: [String: Any]
        do {
            schema = try loadSchema()
        } catch {
            return ["\(url.path): cannot read the schema (\(error))"]
        }
        var checker = SchemaChecker(root: schema, strict: strict)
        checker.check(jsonObject, against: schema, at: "$")
        checker.checkCrossFieldRules(jsonObject)
        return checker.violations
    }

    /// Violations of the schema in JSON bytes; a parse failure is one violation.
    public static func validate(jsonData: Data, strict: Bool = false) -> [String] {
        do {
            return validate(
                jsonObject: try JSONSerialization.jsonObject(with: jsonData, options: [.fragmentsAllowed]), strict: strict)
        } catch {
            return ["$: not valid JSON (\(error.localizedDescription))"]
        }
    }

    /// The parsed schema file.
    public static func loadSchema() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let schema = object as? [String: Any] else { throw CocoaError(.fileReadCorruptFile) }
        return schema
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

    /// The JSON Schema type names this value satisfies ("integer" values are also "number"s).
    var typeNames: Set<String> {
        switch self {
        case .null: return ["null"]
        case .bool: return ["boolean"]
        case .integer: return ["integer", "number"]
        case .number: return ["number"]
        case .string: return ["string"]
        case .array: return ["array"]
        case .object: return ["object"]
        }
    }

    var number: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }
}

/// Interprets the subset of JSON Schema 2020-12 the report schema uses.
private struct SchemaChecker {
    let root: [String: Any]
    let strict: Bool
    var violations: [String] = []

    /// Keywords that only document.
    static let annotations: Set<String> = ["$schema", "$id", "$defs", "title", "description"]
    /// Keywords this checker enforces.
    static let assertions: Set<String> = [
        "$ref", "type", "const", "enum", "required", "properties", "additionalProperties", "items", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern", "format",
    ]

    init(root: [String: Any], strict: Bool) {
        self.root = root
        self.strict = strict
    }

    mutating func fail(_ path: String, _ message: String) {
        violations.append("\(path): \(message)")
    }

    /// `$.a.b[2]` is written `a.b[2]`, the root `$`.
    static func child(_ path: String, _ key: String) -> String { path == "$" ? key : "\(path).\(key)" }

    mutating func check(_ value: Any, against schema: [String: Any], at path: String) {
        for keyword in schema.keys where !Self.annotations.contains(keyword) && !Self.assertions.contains(keyword) {
            fail(path, "the schema uses \(keyword), which this checker does not interpret")
        }
        if let reference = schema["$ref"] as? String {
            if schema.keys.contains(where: { $0 != "$ref" && Self.assertions.contains($0) }) {
                fail(path, "the schema combines $ref with other assertions, which this checker does not interpret")
            }
            guard let target = resolve(reference) else { fail(path, "unresolvable $ref \(reference)"); return }
            check(value, against: target, at: path)
            return
        }
        guard let kind = JSONKind(value) else { fail(path, "not a JSON value"); return }
        if let expected = typeNames(schema["type"]), kind.typeNames.isDisjoint(with: expected) {
            fail(path, "expected " + expected.sorted().map(Self.describe).joined(separator: " or "))
            return
        }
        if let constant = schema["const"], !Self.equal(value, constant) {
            fail(path, "expected \(constant), got \(value)")
        }
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { Self.equal(value, $0) }) {
            fail(path, "expected one of \(allowed.map { "\($0)" }.joined(separator: ", ")), got \(value)")
        }
        switch kind {
        case .object(let object): checkObject(object, against: schema, at: path)
        case .array(let items):
            if let itemSchema = schema["items"] as? [String: Any] {
                for (i, item) in items.enumerated() { check(item, against: itemSchema, at: "\(path)[\(i)]") }
            }
        case .string(let text): checkString(text, against: schema, at: path)
        case .integer, .number: checkNumber(kind.number ?? .nan, against: schema, at: path)
        case .null, .bool: break
        }
    }

    mutating func checkObject(_ object: [String: Any], against schema: [String: Any], at path: String) {
        let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
        let required = schema["required"] as? [String] ?? []
        for key in required where object[key] == nil { fail(Self.child(path, key), "missing") }
        if strict {
            for key in properties.keys.sorted() where object[key] == nil && !required.contains(key) {
                fail(Self.child(path, key), "in the schema but not written")
            }
        }
        for key in object.keys.sorted() {
            guard let value = object[key] else { continue }
            if let propertySchema = properties[key] {
                check(value, against: propertySchema, at: Self.child(path, key))
            } else if let additional = schema["additionalProperties"] as? [String: Any] {
                check(value, against: additional, at: Self.child(path, key))
            } else if schema["additionalProperties"] as? Bool == false || strict {
                fail(Self.child(path, key), "not in the schema")
            }
        }
    }

    mutating func checkString(_ text: String, against schema: [String: Any], at path: String) {
        if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
            fail(path, "\"\(text)\" does not match \(pattern)")
        }
        if schema["format"] as? String == "date-time", Self.dateTime.date(from: text) == nil {
            fail(path, "\"\(text)\" is not an ISO 8601 date-time like 2026-01-31T12:00:00Z")
        }
    }

    mutating func checkNumber(_ number: Double, against schema: [String: Any], at path: String) {
        if let minimum = (schema["minimum"] as? NSNumber)?.doubleValue, number < minimum {
            fail(path, "\(number) is below the minimum \(minimum)")
        }
        if let maximum = (schema["maximum"] as? NSNumber)?.doubleValue, number > maximum {
            fail(path, "\(number) is above the maximum \(maximum)")
        }
        if let bound = (schema["exclusiveMinimum"] as? NSNumber)?.doubleValue, number <= bound {
            fail(path, "\(number) is not above \(bound)")
        }
        if let bound = (schema["exclusiveMaximum"] as? NSNumber)?.doubleValue, number >= bound {
            fail(path, "\(number) is not below \(bound)")
        }
    }

    /// The rules the schema states only in descriptions: frames_analysed counts frames, coverage is
    /// full exactly at fraction 1, a heatmap has rows × columns values, a segment ends at or after its start.
    mutating func checkCrossFieldRules(_ value: Any) {
        guard let report = value as? [String: Any] else { return }
        let frames = report["frames"] as? [[String: Any]] ?? []
        if let count = (report["frames_analysed"] as? NSNumber)?.intValue, count != frames.count {
            fail("frames_analysed", "is \(count) but frames has \(frames.count) entries")
        }
        if let coverage = report["coverage"] as? [String: Any], let kind = coverage["kind"] as? String,
            let fraction = (coverage["fraction"] as? NSNumber)?.doubleValue, (kind == "full") != (fraction >= 1)
        {
            fail("coverage.kind", "is \"\(kind)\" but fraction is \(fraction)")
        }
        for (i, frame) in frames.enumerated() {
            guard let heatmap = frame["heatmap"] as? [String: Any], let rows = (heatmap["rows"] as? NSNumber)?.intValue,
                let columns = (heatmap["columns"] as? NSNumber)?.intValue, let values = heatmap["values"] as? [Any]
            else { continue }
            if values.count != rows * columns {
                fail("frames[\(i)].heatmap.values", "expected \(rows * columns) values (rows × columns), got \(values.count)")
            }
        }
        for (i, segment) in (report["segments"] as? [[String: Any]] ?? []).enumerated() {
            if let start = (segment["start"] as? NSNumber)?.doubleValue, let end = (segment["end"] as? NSNumber)?.doubleValue,
                end < start
            {
                fail("segments[\(i)].end", "\(end) is before start \(start)")
            }
        }
    }

    /// `#/$defs/name` → that definition.
    func resolve(_ reference: String) -> [String: Any]? {
        let prefix = "#/$defs/"
        guard reference.hasPrefix(prefix), let definitions = root["$defs"] as? [String: Any] else { return nil }
        return definitions[String(reference.dropFirst(prefix.count))] as? [String: Any]
    }

    func typeNames(_ type: Any?) -> Set<String>? {
        if let name = type as? String { return [name] }
        if let names = type as? [String] { return Set(names) }
        return nil
    }

    static func describe(_ typeName: String) -> String {
        switch typeName {
        case "object": return "an object"
        case "array": return "an array"
        case "integer": return "an integer"
        case "boolean": return "true or false"
        default: return "a \(typeName)"
        }
    }

    /// Equality of JSON scalars (strings, numbers, booleans, null).
    static func equal(_ a: Any, _ b: Any) -> Bool {
        switch (JSONKind(a), JSONKind(b)) {
        case (.string(let x)?, .string(let y)?): return x == y
        case (.bool?, .bool?): return (a as? Bool) == (b as? Bool)
        case (.null?, .null?): return true
        case (let x?, let y?): return x.number != nil && x.number == y.number
        default: return false
        }
    }

    /// A new formatter per use: the class is not Sendable, so a shared one would be shared mutable state.
    static var dateTime: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter
    }
}
