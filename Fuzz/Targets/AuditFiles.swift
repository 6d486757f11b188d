// libFuzzer target `audit-files`: an audit output folder's summary.json and manifest.jsonl, as
// `unmask audit` reads them to resume and `unmask merge` to join shards. An input is the summary's
// bytes, a zero byte, then the manifest's. Built by Scripts/fuzz.sh, not by SwiftPM;
// `UNMASK_FUZZ_WRITE_SEEDS=<folder>` makes it write its seed corpus there and exit instead.
import Audit
import Foundation

private let baseFolder = fuzzScratchFolder() + "/unmask-fuzz-audit-\(getpid())"
private let shardFolder = baseFolder + "/shard"
private let mergedFolder = baseFolder + "/merged"
/// The per-file outputs the seeds' records name, present in the shard so that a merge copies them.
private let reportNames = ["reports/a.json", "reports/a.html", "thumbnails/a.jpg"]

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    if let status = writeSeedsIfAsked(writeSeeds) { exit(status) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let separator = bytes.firstIndex(of: 0) ?? bytes.endIndex
    let summary = Data(bytes[..<separator])
    let manifest = separator < bytes.endIndex ? Data(bytes[(separator + 1)...]) : Data()
    try? FileManager.default.removeItem(atPath: baseFolder)
    defer { try? FileManager.default.removeItem(atPath: baseFolder) }
    do {
        try FileManager.default.createDirectory(atPath: shardFolder, withIntermediateDirectories: true)
        // Foundation's Data(contentsOf:) leaks its 4 KB buffer on an empty file (Swift 6.3.1, Linux),
        // which LeakSanitizer would report on every such input: an empty part stays a missing file.
        if !summary.isEmpty { try summary.write(to: URL(fileURLWithPath: shardFolder + "/summary.json")) }
        if !manifest.isEmpty { try manifest.write(to: URL(fileURLWithPath: shardFolder + "/manifest.jsonl")) }
        for name in reportNames {
            let path = shardFolder + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(name.utf8).write(to: URL(fileURLWithPath: path))
        }
    } catch {
        return 0
    }
    _ = try? AuditSummary.decode(summary)
    checkManifestReading(shardFolder + "/manifest.jsonl", bytes: manifest)
    _ = try? AuditMerge.merge([shardFolder], into: mergedFolder)
    // Resuming opens the manifest for appending, dropping a last line cut by a crash.
    _ = try? AuditManifest(path: shardFolder + "/manifest.jsonl")
    return 0
}

/// The reader's promises: whole records fill `validBytes` leading bytes, and those bytes alone read
/// back as the same records with nothing cut.
private func checkManifestReading(_ path: String, bytes: Data) {
    guard let contents = try? AuditManifest.read(path: path) else { return }
    guard contents.totalBytes == bytes.count, (0...bytes.count).contains(contents.validBytes) else {
        fatalError("manifest read: \(contents.validBytes) valid of \(contents.totalBytes) bytes for \(bytes.count)")
    }
    let prefixPath = path + ".valid"
    guard contents.validBytes > 0 else { return }
    guard FileManager.default.createFile(atPath: prefixPath, contents: bytes.prefix(contents.validBytes)) else { return }
    guard let again = try? AuditManifest.read(path: prefixPath) else { fatalError("the valid part of a manifest does not read") }
    guard again.records == contents.records, again.validBytes == again.totalBytes else {
        fatalError("the valid part of a manifest reads as other records")
    }
}

/// Output folders of small audits as the library writes them: every row status, and records of
/// both kinds whose keys match the summary's settings (so that a merge uses them).
private func writeSeeds(to folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let model = SummaryModel(ModelMetadata(name: "unmask-v1", sha256: String(repeating: "ab", count: 32), version: "0.1.0"))
    let settings = AuditSettings(options: ScanOptions(), threshold: 0.5)
    let contents = (0..<3).map { String(repeating: String($0), count: 64) }
    func record(_ index: Int, _ fields: [String: Any]) throws -> ManifestRecord {
        var json: [String: Any] = [
            "key": settings.key(contentSHA256: contents[index], modelSHA256: model.sha256 ?? ""),
            "content_sha256": contents[index], "path": "media/\(index).mp4",
        ]
        json.merge(fields) { $1 }
        return try JSONDecoder().decode(ManifestRecord.self, from: JSONSerialization.data(withJSONObject: json))
    }
    let scanned = try record(
        0,
        [
            "status": "scanned", "verdict": "fake", "fake_probability": 0.91, "frames_analysed": 12,
            "duration_seconds": 4.5, "report_json": reportNames[0], "report_html": reportNames[1],
            "thumbnail": [
                "file": reportNames[2], "frame_index": 3, "time": 1.5, "frame_width": 64, "frame_height": 48,
                "region": ["x": 8, "y": 8, "w": 16, "h": 16],
            ],
        ])
    let failed = try record(1, ["status": "error", "error": "cannot decode: invalid data"])
    // AuditEntry has no public memberwise initializer; its Codable form is public.
    let entryJSON: [[String: Any]] = [
        ["path": "media/0.mp4", "kind": ["media": ["contentSHA256": contents[0]]]],
        ["path": "media/copy.mp4", "kind": ["media": ["contentSHA256": contents[0]]]],
        ["path": "media/1.mp4", "kind": ["media": ["contentSHA256": contents[1]]]],
        ["path": "media/2.mp4", "kind": ["media": ["contentSHA256": contents[2]]]],
        ["path": "notes.txt", "kind": ["notMedia": ["reason": "no video or image"]]],
        ["path": "locked.mov", "kind": ["failed": ["reason": "cannot open: permission denied"]]],
        ["path": "link", "kind": ["skipped": ["reason": "a symbolic link"]]],
    ]
    let entries = try JSONDecoder().decode([AuditEntry].self, from: JSONSerialization.data(withJSONObject: entryJSON))
    let summary = AuditSummary.build(entries: entries, records: [scanned, failed], model: model, settings: settings)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let manifest = try [scanned, failed].map { try encoder.encode($0) + Data([0x0A]) }.reduce(Data(), +)
    let summaryJSON = try summary.json()
    try (summaryJSON + Data([0]) + manifest).write(to: URL(fileURLWithPath: folder + "/audit.bin"))
    // A manifest whose last line a crash cut, and a summary without a manifest.
    try (summaryJSON + Data([0]) + manifest + manifest.prefix(40)).write(to: URL(fileURLWithPath: folder + "/cut.bin"))
    try summaryJSON.write(to: URL(fileURLWithPath: folder + "/summary-only.bin"))
}
