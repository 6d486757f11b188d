// `AuditMerge`: joins the output folders of a sharded audit into one — rows and manifest records
// combined, per-file reports and thumbnails copied, and the summary rebuilt by the same code a single
// run uses, so the merged summary equals the single run's.
import Foundation

public enum AuditMerge {
    /// Merges the audit output folders `shards` into `output` (created; locked while merging) and
    /// returns the merged summary. Throws when a folder is not an audit's output, or when the shards
    /// used different models or settings.
    @discardableResult
    public static func merge(_ shards: [String], into output: String) throws -> AuditSummary {
        var summaries: [(folder: String, summary: AuditSummary)] = []
        var records: [ManifestRecord] = []
        for folder in shards {
            let summaryPath = folder + "/" + AuditOutputNames.summaryJSON
            guard let data = FileManager.default.contents(atPath: summaryPath) else {
                throw AuditError.notAnAuditFolder(path: folder, reason: "it has no \(AuditOutputNames.summaryJSON)")
            }
            let summary: AuditSummary
            do {
                summary = try AuditSummary.decode(data)
            } catch {
                throw AuditError.notAnAuditFolder(path: folder, reason: "its \(AuditOutputNames.summaryJSON) does not parse")
            }
            if let first = summaries.first?.summary {
                if first.model.sha256 != summary.model.sha256 {
                    throw AuditError.shardsDisagree(path: folder, reason: "it was audited with another model than \(shards[0])")
                }
                if first.settings != summary.settings {
                    let differences = summary.settings.differences(from: first.settings).joined(separator: "; ")
                    throw AuditError.shardsDisagree(
                        path: folder, reason: "it was audited with other settings than \(shards[0]) (\(differences))")
                }
            }
            summaries.append((folder, summary))
            records += try AuditManifest.read(path: folder + "/" + AuditOutputNames.manifest).records
        }
        guard let first = summaries.first?.summary else {
            throw AuditError.notAnAuditFolder(path: output, reason: "no shard folders were given")
        }

        var entries: [AuditEntry] = []
        for (_, summary) in summaries {
            for row in summary.files {
                let kind: AuditEntry.Kind
                if let content = row.contentSHA256 {
                    kind = .media(contentSHA256: content)
                } else {
                    switch row.status {
                    case .notMedia: kind = .notMedia(reason: row.reason ?? "")
                    case .skipped: kind = .skipped(reason: row.reason ?? "")
                    default: kind = .failed(reason: row.reason ?? "")
                    }
                }
                entries.append(AuditEntry(path: row.path, kind: kind))
            }
        }
        let modelSHA = first.model.sha256 ?? first.model.name
        let current = records.filter { $0.key == first.settings.key(contentSHA256: $0.contentSHA256, modelSHA256: modelSHA) }
        let merged = AuditSummary.build(entries: entries, records: current, model: first.model, settings: first.settings)

        let lock = try BatchAudit.prepareOutputFolder(output)
        defer { withExtendedLifetime(lock) {} }
        var copies: [(data: Data, path: String)] = []
        for row in merged.files where row.status == .scanned {
            for name in [row.reportJSON, row.reportHTML, row.thumbnail?.file].compactMap({ $0 }) {
                guard AuditOutputNames.staysInsideOutputFolder(name) else {
                    throw AuditError.notAnAuditFolder(
                        path: shards.joined(separator: ", "), reason: "a manifest names the report \(name), outside the folder")
                }
                guard let data = summaries.lazy.compactMap({ FileManager.default.contents(atPath: $0.folder + "/" + name) }).first
                else {
                    throw AuditError.notAnAuditFolder(path: name, reason: "no shard folder holds this report")
                }
                copies.append((data, output + "/" + name))
            }
        }
        try ReportWriter.write(copies)
        let manifest = try AuditManifest(path: output + "/" + AuditOutputNames.manifest, startOver: true)
        let used = Set(merged.files.filter { $0.status == .scanned || $0.status == .error }.compactMap(\.contentSHA256))
        var written = Set<String>()
        for record in current.sorted(by: { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) })
        where used.contains(record.contentSHA256) && written.insert(record.contentSHA256).inserted {
            try manifest.append(record)
        }
        try BatchAudit.writeSummary(merged, to: output)
        return merged
    }
}
