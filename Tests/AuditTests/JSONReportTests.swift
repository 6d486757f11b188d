// AuditTests — the JSON report (`unmask.report/1`): exact key names, determinism, rounding, round
// trip, and agreement with Docs/unmask.report.schema.json (key for key and type for type, checked by
// ReportSchemaChecking), including that the checker catches drift either way.
import ReportSchemaChecking
import XCTest

@testable import Audit

final class JSONReportTests: XCTestCase {
    func jsonObject(_ report: ScanReport) throws -> [String: Any] {
        let data = try ReportWriter.json(report)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testSampleReportIsValidAgainstTheSchema() throws {
        let report = try Fixtures.sampleReport()
        XCTAssertEqual(ReportSchema.validate(jsonObject: try jsonObject(report)), [])
        XCTAssertEqual(ReportSchema.validate(jsonData: try ReportWriter.json(report)), [])
    }

    func testExactKeyNames() throws {
        let object = try jsonObject(try Fixtures.sampleReport())
        XCTAssertEqual(
            Set(object.keys),
            [
                "schema", "fake_probability", "verdict", "file", "model", "segments", "frames", "frames_analysed",
                "warnings", "timings", "coverage", "aggregation", "created_at",
            ])
        XCTAssertEqual(object["schema"] as? String, "unmask.report/1")
        XCTAssertEqual(object["verdict"] as? String, "fake")

        let frames = try XCTUnwrap(object["frames"] as? [[String: Any]])
        XCTAssertEqual(frames.count, 120)
        let frame = frames[0]
        XCTAssertEqual(
            Set(frame.keys),
            [
                "index", "time", "fake_probability", "smoothed_probability", "label",
                "is_keyframe", "region", "heatmap",
            ])
        XCTAssertEqual(Set(try XCTUnwrap(frame["region"] as? [String: Any]).keys), ["x", "y", "w", "h"])
        let heatmap = try XCTUnwrap(frame["heatmap"] as? [String: Any])
        XCTAssertEqual(Set(heatmap.keys), ["rows", "columns", "values"])
        XCTAssertEqual((heatmap["values"] as? [Any])?.count, 24)

        let file = try XCTUnwrap(object["file"] as? [String: Any])
        XCTAssertEqual(
            Set(file.keys),
            [
                "path", "name", "sha256", "container", "codec", "size_bytes", "width",
                "height", "duration_seconds", "frame_rate", "tags",
            ])
        XCTAssertEqual(file["path"] as? String, Fixtures.hostilePath, "JSON keeps the path byte-exact")
        XCTAssertEqual(
            Set(try XCTUnwrap(object["model"] as? [String: Any]).keys),
            ["name", "sha256", "version", "parent_sha256", "parent_name"])
        XCTAssertEqual(
            Set(try XCTUnwrap(object["timings"] as? [String: Any]).keys),
            ["decode_seconds", "score_seconds", "total_seconds"])
        let segment = try XCTUnwrap((object["segments"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(segment.keys), ["start", "end", "peak_probability", "peak_time", "frame_count"])
        let coverage = try XCTUnwrap(object["coverage"] as? [String: Any])
        XCTAssertEqual(coverage["kind"] as? String, "partial")
        XCTAssertEqual(coverage["fraction"] as? Double, 0.6)
    }

    func testUnknownValuesAreNull() throws {
        var report = try Fixtures.sampleReport()
        report.file = FileMetadata(path: "x.mp4")
        report.model = ModelMetadata(name: "m")
        let data = try ReportWriter.json(report)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("\"codec\" : null"), text.prefix(600).description)
        XCTAssertTrue(text.contains("\"sha256\" : null"))
        XCTAssertEqual(ReportSchema.validate(jsonData: data, strict: true), [])
    }

    func testOutputIsDeterministicWithSortedKeysAndRoundedNumbers() throws {
        let report = try Fixtures.sampleReport()
        let first = try ReportWriter.json(report)
        let second = try ReportWriter.json(report)
        XCTAssertEqual(first, second)
        let text = String(decoding: first, as: UTF8.self)
        // Top-level keys in sorted order.
        let positions = [
            "\"aggregation\"", "\"coverage\"", "\"created_at\"", "\"fake_probability\"", "\"file\"",
            "\"frames\"", "\"frames_analysed\"", "\"model\"", "\"schema\"", "\"segments\"",
            "\"timings\"", "\"verdict\"", "\"warnings\"",
        ].map { key in
            text.range(of: "\n  \(key)")?.lowerBound
        }
        XCTAssertFalse(positions.contains(nil))
        XCTAssertEqual(positions.compactMap { $0 }, positions.compactMap { $0 }.sorted())
        // Timings to milliseconds, probabilities to 4 decimals, frame rate to 6 decimals.
        XCTAssertTrue(text.contains("\"decode_seconds\" : 1.235"))
        XCTAssertTrue(text.contains("\"frame_rate\" : 29.97003"))
        XCTAssertTrue(text.contains("\"created_at\" : \"2027-01-15T08:00:00Z\""))
        XCTAssertTrue(text.hasSuffix("}\n"))
        let longDecimals = try NSRegularExpression(pattern: "\"(fake_probability|smoothed_probability)\" : 0\\.\\d{5,}")
        XCTAssertEqual(longDecimals.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text)), 0)
    }

    func testRoundTripDecodeAndReencodeIsIdentical() throws {
        let report = try Fixtures.sampleReport()
        let data = try ReportWriter.json(report)
        let decoded = try JSONDecoder().decode(ScanReport.self, from: data)
        var file = report.file
        file.frameRate = decoded.file.frameRate  // written to 6 decimals
        XCTAssertEqual(decoded.file, file)
        XCTAssertEqual(decoded.file.frameRate ?? 0, report.file.frameRate ?? 1, accuracy: 5e-7)
        XCTAssertEqual(decoded.verdict, report.verdict)
        XCTAssertEqual(decoded.frames.count, report.frames.count)
        XCTAssertEqual(decoded.assessment.policy, report.assessment.policy)
        XCTAssertEqual(decoded.segments.count, report.segments.count)
        XCTAssertEqual(decoded.createdAt, report.createdAt)
        XCTAssertEqual(decoded.warnings, report.warnings)
        XCTAssertTrue(decoded.thumbnails.isEmpty, "thumbnails are not part of JSON")
        // Numbers were rounded on the first write; a second write gives the same bytes.
        XCTAssertEqual(try ReportWriter.json(decoded), data)
    }

    func testSegmentEncodesWithTheReportsKeyNames() throws {
        let data = try JSONEncoder().encode(Segment(start: 1, end: 2, peakProbability: 0.9, peakTime: 1.5, frameCount: 11))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["start", "end", "peak_probability", "peak_time", "frame_count"])
    }

    func testDecodingRejectsAnotherSchema() throws {
        var object = try jsonObject(try Fixtures.sampleReport())
        object["schema"] = "unmask.report/2"
        let data = try JSONSerialization.data(withJSONObject: object)
        XCTAssertThrowsError(try JSONDecoder().decode(ScanReport.self, from: data))
    }

    func testValidatorReportsViolationsWithPaths() throws {
        var object = try jsonObject(try Fixtures.sampleReport())
        object["fake_probability"] = 1.5
        object["verdict"] = "maybe"
        object.removeValue(forKey: "model")
        var frames = try XCTUnwrap(object["frames"] as? [[String: Any]])
        frames[2]["label"] = 3
        var heatmap = try XCTUnwrap(frames[3]["heatmap"] as? [String: Any])
        heatmap["values"] = [0.1, 0.2]
        frames[3]["heatmap"] = heatmap
        frames[4]["is_keyframe"] = 1
        object["frames"] = frames
        object["frames_analysed"] = 7

        let violations = ReportSchema.validate(jsonObject: object)
        let paths = Set(violations.map { String($0.prefix { $0 != ":" }) })
        XCTAssertEqual(
            paths,
            [
                "fake_probability", "verdict", "model", "frames[2].label", "frames[3].heatmap.values",
                "frames[4].is_keyframe", "frames_analysed",
            ], "\(violations)")
        XCTAssertEqual(ReportSchema.validate(jsonObject: [1, 2]), ["$: expected an object"])
        var offset = try jsonObject(try Fixtures.sampleReport())
        offset["created_at"] = "2026-01-01T00:00:00+01:00"
        XCTAssertEqual(ReportSchema.validate(jsonObject: offset).count, 1, "created_at must be UTC with Z")
        XCTAssertEqual(ReportSchema.validate(jsonData: Data("{".utf8)).count, 1)
    }

    /// The one definition of the format is Docs/unmask.report.schema.json: a report with every optional
    /// value set must carry exactly the keys the schema declares, each of the declared type and within
    /// its bounds; so a change to the encoder without the schema (or the reverse) fails here.
    func testFullyPopulatedReportMatchesTheSchemaKeyForKey() throws {
        let report = try Fixtures.sampleReport()
        let file = report.file, model = report.model, coverage = report.coverage
        let optionals: [Any?] = [
            file.sha256, file.container, file.codec, file.sizeBytes, file.width, file.height, file.durationSeconds,
            file.frameRate, model.sha256, model.version, model.parentSHA256, model.parentName, coverage.framesDecoded,
            coverage.framesExpected,
        ]
        XCTAssertFalse(optionals.contains { $0 == nil }, "the sample sets every optional value")
        let object = try jsonObject(report)
        XCTAssertEqual(ReportSchema.validate(jsonObject: object, strict: true), [])

        // The strict check notices a key the schema lacks, a key it declares that is not written, and a retyped value.
        var extraKey = object, missingKey = object, retyped = object
        var frames = try XCTUnwrap(object["frames"] as? [[String: Any]])
        frames[1]["confidence"] = 0.5
        extraKey["frames"] = frames
        var modelObject = try XCTUnwrap(object["model"] as? [String: Any])
        modelObject.removeValue(forKey: "version")
        missingKey["model"] = modelObject
        var timings = try XCTUnwrap(object["timings"] as? [String: Any])
        timings["total_seconds"] = "5.9"
        retyped["timings"] = timings
        XCTAssertEqual(ReportSchema.validate(jsonObject: extraKey, strict: true), ["frames[1].confidence: not in the schema"])
        XCTAssertEqual(ReportSchema.validate(jsonObject: extraKey), [], "readers ignore unknown keys")
        XCTAssertEqual(ReportSchema.validate(jsonObject: missingKey, strict: true), ["model.version: missing"])
        XCTAssertEqual(ReportSchema.validate(jsonObject: retyped, strict: true), ["timings.total_seconds: expected a number"])
    }

    /// Every value of the Swift enums written into reports is one the schema allows, and no more.
    func testSchemaEnumerationsEqualTheSwiftEnumerations() throws {
        let schema = try ReportSchema.loadSchema()
        let definitions = try XCTUnwrap(schema["$defs"] as? [String: [String: Any]])
        XCTAssertEqual(try XCTUnwrap(definitions["verdict"]?["enum"] as? [String]), Verdict.allCases.map(\.rawValue))
        let aggregation = try XCTUnwrap(definitions["aggregation"]?["properties"] as? [String: [String: Any]])
        XCTAssertEqual(
            try XCTUnwrap(aggregation["rule"]?["enum"] as? [String]), AggregationRule.allCases.map(\.rawValue))
    }
}
