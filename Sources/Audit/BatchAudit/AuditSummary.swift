// The audit's summary: one row per file found (scanned, duplicate, error, pending, not media, skipped), built
// the same way by `audit` and by `merge` from the files found and the manifest's records, so a merge
// of shards equals a single run. Written as summary.json (schema `unmask.audit/1`) and summary.csv.
import CSV
import Foundation

/// What became of one file found by an audit.
public struct AuditEntry: Codable, Equatable, Sendable {
    public enum Kind: Codable, Equatable, Sendable {
        /// Media with this content SHA-256; its result is the manifest record for it.
        case media(contentSHA256: String)
        /// Not media, by its content (FFmpeg found no video or image in it).
        case notMedia(reason: String)
        /// Could not be read or probed.
        case failed(reason: String)
        /// Found but not looked at (a link not followed, a loop, an unreadable folder).
        case skipped(reason: String)
    }

    public var path: String
    public var kind: Kind
}

/// One row of the summary.
public struct SummaryRow: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case scanned, duplicate, error
        /// Media not scanned yet: the audit was interrupted, or a merge lacks the shard's record.
        case pending
        case notMedia = "not_media"
        case skipped
    }

    public var path: String
    public var status: Status
    public var contentSHA256: String?
    public var verdict: Verdict?
    public var fakeProbability: Double?
    public var framesAnalysed: Int?
    public var durationSeconds: Double?
    public var reportJSON: String?
    public var reportHTML: String?
    public var thumbnail: ThumbnailRecord?
    /// For a duplicate: the path of the identical file that was scanned.
    public var duplicateOf: String?
    /// For an error, a non-media file or a skipped path: why.
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case path, status, verdict, thumbnail, reason
        case contentSHA256 = "content_sha256"
        case fakeProbability = "fake_probability"
        case framesAnalysed = "frames_analysed"
        case durationSeconds = "duration_seconds"
        case reportJSON = "report_json"
        case reportHTML = "report_html"
        case duplicateOf = "duplicate_of"
    }
}

/// The model both the audit and every shard of it used.
public struct SummaryModel: Codable, Equatable, Sendable {
    public var name: String
    public var sha256: String?
    public var version: String?

    public init(_ model: ModelMetadata) {
        name = model.name
        sha256 = model.sha256
        version = model.version
    }
}

/// Everything an audit found, as summary.json holds it. No times or durations of the run itself, so
/// a rerun, a resumed run and a merge of shards give the same bytes.
public struct AuditSummary: Codable, Equatable, Sendable {
    public static let schemaIdentifier = "unmask.audit/1"

    public var schema = AuditSummary.schemaIdentifier
    public var model: SummaryModel
    public var settings: AuditSettings
    /// Files by status, and media (scanned and duplicates) by verdict.
    public var counts: [String: Int]
    public var files: [SummaryRow]

    /// Rows for `entries`, sorted by path. Identical media: the first path is scanned, the others are
    /// its duplicates. `records` are the manifest's, by content SHA-256; when several records share a
    /// content (shards that each scanned a copy), the one for the first path is used.
    public static func build(
        entries: [AuditEntry], records: [ManifestRecord], model: SummaryModel, settings: AuditSettings
    ) -> AuditSummary {
        var byContent: [String: ManifestRecord] = [:]
        for record in records {
            if let existing = byContent[record.contentSHA256], existing.path.utf8.lexicographicallyPrecedes(record.path.utf8) {
                continue
            }
            byContent[record.contentSHA256] = record
        }
        var seenPaths = Set<String>()
        let sorted = entries.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }.filter {
            seenPaths.insert($0.path).inserted
        }
        var primaryPath: [String: String] = [:]
        var rows: [SummaryRow] = []
        for entry in sorted {
            var row = SummaryRow(path: entry.path, status: .error)
            switch entry.kind {
            case .media(let content):
                row.contentSHA256 = content
                if let record = byContent[content] {
                    row.verdict = record.verdict
                    row.fakeProbability = record.fakeProbability
                    row.framesAnalysed = record.framesAnalysed
                    row.durationSeconds = record.durationSeconds
                    row.reportJSON = record.reportJSON
                    row.reportHTML = record.reportHTML
                    row.thumbnail = record.thumbnail
                    row.reason = record.error
                    row.status = record.status == .scanned ? .scanned : .error
                } else {
                    row.status = .pending
                    row.reason =
                        "not scanned yet: the audit was interrupted (rerun it to finish) or its shard's record is missing"
                }
                if let first = primaryPath[content] {
                    row.status = .duplicate
                    row.duplicateOf = first
                } else {
                    primaryPath[content] = entry.path
                }
            case .notMedia(let reason):
                row.status = .notMedia
                row.reason = reason
            case .failed(let reason):
                row.reason = reason
            case .skipped(let reason):
                row.status = .skipped
                row.reason = reason
            }
            rows.append(row)
        }
        var counts: [String: Int] = ["files": rows.count]
        for status in SummaryRow.Status.allCases { counts[status.rawValue] = rows.filter { $0.status == status }.count }
        for verdict in Verdict.allCases {
            counts[verdict.rawValue] =
                rows.filter { $0.verdict == verdict && ($0.status == .scanned || $0.status == .duplicate) }.count
        }
        return AuditSummary(model: model, settings: settings, counts: counts, files: rows)
    }

    /// summary.json: sorted keys, two-space indent, trailing newline.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    public static func decode(_ data: Data) throws -> AuditSummary {
        try JSONDecoder().decode(AuditSummary.self, from: data)
    }

    public static let csvHeader = [
        "file", "status", "verdict", "fake_probability", "frames_analysed", "duration_seconds", "report_json", "report_html",
        "duplicate_of", "reason", "content_sha256",
    ]

    /// summary.csv: a header, then one row per file (RFC 4180 quoting; text from file names made
    /// spreadsheet-safe).
    public func csv() throws -> Data {
        let stream = OutputStream(toMemory: ())
        stream.open()
        defer { stream.close() }
        let writer = try CSVWriter(stream: stream)
        try writer.write(row: Self.csvHeader)
        for row in files {
            try writer.write(row: [
                ReportWriter.spreadsheetSafe(row.path), row.status.rawValue, row.verdict?.rawValue ?? "",
                row.fakeProbability.map { ReportWriter.numberText(JSONRounding.probability($0)) } ?? "",
                row.framesAnalysed.map(String.init) ?? "",
                row.durationSeconds.map { ReportWriter.numberText(JSONRounding.time($0)) } ?? "",
                row.reportJSON ?? "", row.reportHTML ?? "", row.duplicateOf.map(ReportWriter.spreadsheetSafe) ?? "",
                row.reason.map(ReportWriter.spreadsheetSafe) ?? "", row.contentSHA256 ?? "",
            ])
        }
        writer.stream.close()
        guard var data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data else {
            throw ReportWriteError.cannotRender(format: .csv, reason: "the in-memory stream returned no data")
        }
        data.append(0x0A)
        return data
    }
}
