// `BatchAudit`: audits every file under some paths into one output folder — discovery, content
// probing, hashing, duplicates, the manifest that makes a rerun resume, one report per file, and the
// summary. Each file is opened once by descriptor and read through /proc/self/fd, so names that are
// not UTF-8 work and a file deleted mid-run is still read whole.
import Crypto
import Foundation
import MediaIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What an audit covers and how.
public struct AuditConfiguration: Sendable {
    public var inputs: [String]
    public var outputFolder: String
    public var rules = DiscoveryRules()
    public var scanOptions = ScanOptions()
    /// Write an HTML report per file besides the JSON one.
    public var writeHTML = true
    /// Redo files the manifest already holds.
    public var force = false
    /// Audit only this shard's files.
    public var shard: ShardAssignment?
    /// Wall-clock seconds a file may take before it becomes an error row.
    public var fileTimeout: Double?

    public init(inputs: [String], outputFolder: String) {
        self.inputs = inputs
        self.outputFolder = outputFolder
    }
}

/// What an audit tells its caller while it runs.
public enum AuditEvent: Sendable {
    /// Discovery and probing are done: `toScan` files need scanning, `alreadyDone` are in the manifest.
    case planned(files: Int, media: Int, toScan: Int, alreadyDone: Int)
    /// Scanning file `number` (1-based) of `total`.
    case fileStarted(number: Int, total: Int, path: String)
    case fileProgress(ScanProgress)
    case fileFinished(number: Int, total: Int, record: ManifestRecord)
}

/// How an audit ended.
public struct AuditOutcome: Sendable {
    public var summary: AuditSummary
    /// The summary page, index.html, inside the output folder.
    public var indexPath: String
    /// Stopped by the caller before every file was scanned (the summary covers what was done).
    public var interrupted: Bool
    public var scannedNow: Int
}

/// Audit-level failures: the description is one sentence a user can act on.
public enum AuditError: Error, Equatable, CustomStringConvertible {
    case outputFolder(path: String, reason: String)
    case notAnAuditFolder(path: String, reason: String)
    case shardsDisagree(path: String, reason: String)
    case badShard(String)

    public var description: String {
        switch self {
        case let .outputFolder(path, reason): return "cannot use output folder \(path): \(reason)"
        case let .notAnAuditFolder(path, reason): return "\(path) is not an audit output folder: \(reason)"
        case let .shardsDisagree(path, reason): return "cannot merge \(path): \(reason)"
        case let .badShard(reason): return reason
        }
    }
}

/// Which part of the files one process of a sharded audit takes.
public struct ShardAssignment: Equatable, Sendable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else {
            throw AuditError.badShard("shard index \(index) is outside 0..<\(count) (shard count \(count))")
        }
        self.index = index
        self.count = count
    }

    /// Whether the file with `relativePath` belongs to this shard: a stable hash of the path's bytes
    /// (first 8 bytes of its SHA-256) modulo the count, the same on every machine and run.
    public func contains(_ relativePath: RawPath) -> Bool {
        Int(Self.stableHash(relativePath) % UInt64(count)) == index
    }

    static func stableHash(_ path: RawPath) -> UInt64 {
        SHA256.hash(data: path.bytes).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The shard from `--shard INDEX/COUNT` (`explicit`), else from `count` or SLURM_ARRAY_TASK_COUNT
    /// with the index from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID minus
    /// SLURM_ARRAY_TASK_MIN (Slurm job array). Nil when no count is known: the whole input is audited.
    public static func resolve(explicit: String?, count: Int?, environment: [String: String]) throws -> ShardAssignment? {
        if let explicit {
            let parts = explicit.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
                throw AuditError.badShard("--shard takes INDEX/COUNT, e.g. 0/4 (got '\(explicit)')")
            }
            return try ShardAssignment(index: index, count: count)
        }
        let environmentCount = environment["SLURM_ARRAY_TASK_COUNT"].flatMap { Int($0) }
        guard let count = count ?? environmentCount else { return nil }
        let index: Int
        if let kubernetes = environment["JOB_COMPLETION_INDEX"], let value = Int(kubernetes) {
            index = value
        } else if let slurm = environment["SLURM_ARRAY_TASK_ID"], let value = Int(slurm) {
            index = value - (environment["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0)
        } else {
            throw AuditError.badShard(
                "a shard count of \(count) needs the index: set JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, or use --shard INDEX/COUNT"
            )
        }
        return try ShardAssignment(index: index, count: count)
    }
}

/// Names of the files an audit writes, derived from relative paths so that nothing lands outside the
/// output folder whatever the names hold (`..`, slashes, newlines, invalid UTF-8, 255-byte names).
public enum AuditOutputNames {
    public static let reportsFolder = "reports"
    public static let thumbnailsFolder = "thumbnails"
    public static let manifest = "manifest.jsonl"
    public static let summaryJSON = "summary.json"
    public static let summaryCSV = "summary.csv"
    public static let index = "index.html"

    /// Whether `name`, a per-file output as a manifest record names it, stays inside the output
    /// folder: relative, no empty, `.` or `..` component. Manifests come from other machines' shards,
    /// so a merge copies and a summary page reads only such names.
    public static func staysInsideOutputFolder(_ name: String) -> Bool {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        return !name.isEmpty && components.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    /// One path component: the relative path's letters, digits, `-`, `_` and `.` (others become `_`,
    /// no leading dot), at most 80 bytes, then `-` and 12 hex digits of the path's SHA-256, which keeps
    /// names unique when the readable part is not.
    public static func stem(for relativePath: RawPath) -> String {
        var readable = ""
        for scalar in relativePath.display.unicodeScalars {
            let keep = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar))
            let character: Character = keep ? Character(scalar) : "_"
            if character == "_", readable.last == "_" { continue }
            readable.append(character)
            if readable.utf8.count >= 80 { break }
        }
        while readable.first == "." || readable.first == "_" { readable.removeFirst() }
        let digest = SHA256.hash(data: relativePath.bytes).prefix(6).map { String(format: "%02x", $0) }.joined()
        return (readable.isEmpty ? "file" : readable) + "-" + digest
    }
}

/// Runs one audit. Never prints; tells its caller through `AuditEvent`s.
public final class BatchAudit {
    public let configuration: AuditConfiguration
    public let scorer: FrameScoring
    public let settings: AuditSettings

    public init(configuration: AuditConfiguration, scorer: FrameScoring) {
        self.configuration = configuration
        self.scorer = scorer
        var options = configuration.scanOptions
        options.policy.threshold = scorer.threshold
        settings = AuditSettings(options: options, threshold: scorer.threshold)
    }

    /// A media file found, probed and hashed.
    private struct MediaFile {
        var file: DiscoveredFile
        var content: FileFingerprint
        var contentSHA256: String { content.sha256 }
        var key: String
        var containerName: String
    }

    /// Audits the inputs. Throws for the output folder (missing parent, not writable, locked), a
    /// damaged manifest and unwritable reports; a bad input file becomes an error row instead.
    /// `isCancelled` is polled between and inside files; when it turns true the file in progress is
    /// abandoned (nothing of it written), the summary covers what is done, and `interrupted` is set.
    public func run(
        events: @escaping (AuditEvent) -> Void = { _ in }, isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> AuditOutcome {
        let output = configuration.outputFolder
        let lock = try Self.prepareOutputFolder(output)
        defer { withExtendedLifetime(lock) {} }
        let manifest = try AuditManifest(path: output + "/" + AuditOutputNames.manifest, startOver: configuration.force)

        var rules = configuration.rules
        rules.excludedFolders.append(output)
        let discovery = MediaDiscovery.discover(configuration.inputs, rules: rules)
        let shard = configuration.shard
        let files = discovery.files.filter { shard?.contains($0.relativePath) ?? true }
        var entries = discovery.skipped.filter { shard?.contains($0.relativePath) ?? true }.map {
            AuditEntry(path: $0.relativePath.display, kind: .skipped(reason: $0.reason))
        }

        let modelSHA = scorer.model.sha256 ?? scorer.model.name
        var media: [MediaFile] = []
        for file in files {
            if isCancelled() { break }
            switch probe(file, modelSHA: modelSHA, isDone: { manifest.records[$0] != nil }) {
            case .success(let found):
                media.append(found)
                entries.append(AuditEntry(path: file.relativePath.display, kind: .media(contentSHA256: found.contentSHA256)))
            case .failure(let failure):
                entries.append(failure.entry)
            }
        }
        var seenContent = Set<String>()
        let primaries = media.filter { seenContent.insert($0.contentSHA256).inserted }
        let toScan = primaries.filter { manifest.records[$0.key] == nil }
        events(
            .planned(files: files.count, media: media.count, toScan: toScan.count, alreadyDone: primaries.count - toScan.count))

        var interrupted = isCancelled()
        var scanned = 0
        // The next file is opened and starts decoding while the current one is scored.
        var next: OpenedFile? = toScan.first.map { openForScan($0, isCancelled: isCancelled) }
        for (offset, item) in toScan.enumerated() where !interrupted {
            let display = item.file.relativePath.display
            let current = next ?? openForScan(item, isCancelled: isCancelled)
            next = offset + 1 < toScan.count ? openForScan(toScan[offset + 1], isCancelled: isCancelled) : nil
            events(.fileStarted(number: offset + 1, total: toScan.count, path: display))
            guard let record = try scan(item, opened: current, events: events, isCancelled: isCancelled) else {
                interrupted = true
                break
            }
            try manifest.append(record)
            scanned += 1
            events(.fileFinished(number: offset + 1, total: toScan.count, record: record))
        }

        let records = media.compactMap { manifest.records[$0.key] }
        let summary = AuditSummary.build(
            entries: entries, records: records, model: SummaryModel(scorer.model), settings: settings)
        try Self.writeSummary(summary, to: output)
        return AuditOutcome(
            summary: summary, indexPath: output + "/" + AuditOutputNames.index, interrupted: interrupted, scannedNow: scanned)
    }

    /// Creates the output folder and its subfolders, takes its lock and removes temporary files a
    /// killed run left behind.
    static func prepareOutputFolder(_ output: String) throws -> OutputFolderLock {
        do {
            for folder in ["", "/" + AuditOutputNames.reportsFolder, "/" + AuditOutputNames.thumbnailsFolder] {
                try FileManager.default.createDirectory(atPath: output + folder, withIntermediateDirectories: true)
            }
        } catch {
            throw AuditError.outputFolder(path: output, reason: (error as NSError).localizedDescription)
        }
        let lock = try OutputFolderLock(folder: output)
        for folder in ["", "/" + AuditOutputNames.reportsFolder, "/" + AuditOutputNames.thumbnailsFolder] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: output + folder)) ?? []
            for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
                unlink(output + folder + "/" + name)
            }
        }
        return lock
    }

    /// Opens `file` read-only and calls `body` with a path FFmpeg and the hasher can open.
    private func withOpenFile<Result>(_ file: DiscoveredFile, _ body: (String) throws -> Result) throws -> Result {
        let descriptor = file.path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        guard descriptor >= 0 else {
            throw MediaError(
                kind: .io, path: file.relativePath.display, operation: "cannot open", message: ReportWriter.systemError())
        }
        defer { close(descriptor) }
        return try body("/proc/self/fd/\(descriptor)")
    }

    /// Hashes and probes `file`: a media file, or the summary entry saying why it is not one.
    /// Hashes first: content the manifest already holds (`isDone` with its key) is media whose scan
    /// is done, so a rerun reads each file once and probes only what is new.
    private func probe(_ file: DiscoveredFile, modelSHA: String, isDone: (String) -> Bool)
        -> Swift.Result<MediaFile, EntryFailure>
    {
        let display = file.relativePath.display
        do {
            return try withOpenFile(file) { path in
                let content = try FileDigest.fingerprint(path: path)
                let key = settings.key(contentSHA256: content.sha256, modelSHA256: modelSHA)
                if isDone(key) { return .success(MediaFile(file: file, content: content, key: key, containerName: "")) }
                let info: MediaInfo
                do {
                    info = try MediaInfo.probe(path: path, maxPixels: configuration.scanOptions.maxPixels)
                } catch let error as MediaError {
                    let reason = error.message
                    switch error.kind {
                    case .unrecognizedFormat, .noVideoStream, .emptyFile:
                        return .failure(EntryFailure(AuditEntry(path: display, kind: .notMedia(reason: reason))))
                    default:
                        return .failure(EntryFailure(AuditEntry(path: display, kind: .failed(reason: "cannot read: \(reason)"))))
                    }
                }
                var named = info
                named.path = display
                return .success(MediaFile(file: file, content: content, key: key, containerName: named.containerName))
            }
        } catch let error as MediaError {
            return .failure(
                EntryFailure(AuditEntry(path: display, kind: .failed(reason: "\(error.operation): \(error.message)"))))
        } catch {
            return .failure(EntryFailure(AuditEntry(path: display, kind: .failed(reason: String(describing: error)))))
        }
    }

    /// An entry as a `Result` failure.
    private struct EntryFailure: Error {
        var entry: AuditEntry
        init(_ entry: AuditEntry) { self.entry = entry }
    }

    /// A file opened by descriptor and prepared for scanning (decoding ahead), or why it could not be.
    private final class OpenedFile {
        let descriptor: Int32
        let path: String
        var prepared: PreparedScan?
        var failure: Error?

        init(descriptor: Int32, path: String) {
            self.descriptor = descriptor
            self.path = path
        }

        deinit {
            prepared = nil  // stops its decoding thread before the descriptor goes
            if descriptor >= 0 { close(descriptor) }
        }
    }

    /// Opens `item` and prepares its scan; a failure is kept for the file's turn.
    private func openForScan(_ item: MediaFile, isCancelled: @escaping @Sendable () -> Bool) -> OpenedFile {
        let descriptor = item.file.path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        let opened = OpenedFile(descriptor: descriptor, path: "/proc/self/fd/\(descriptor)")
        guard descriptor >= 0 else {
            opened.failure = MediaError(
                kind: .io, path: item.file.relativePath.display, operation: "cannot open", message: ReportWriter.systemError())
            return opened
        }
        do {
            opened.prepared = try ScanPipeline(scorer: scorer, options: configuration.scanOptions).prepare(
                path: opened.path, content: item.content, isCancelled: isCancelled)
        } catch {
            opened.failure = error
        }
        return opened
    }

    /// Scans one opened file and writes its reports; returns its manifest record (an error record
    /// when the file cannot be scanned or runs out of time), or nil when cancelled.
    private func scan(
        _ item: MediaFile, opened: OpenedFile, events: @escaping (AuditEvent) -> Void, isCancelled: @escaping @Sendable () -> Bool
    ) throws -> ManifestRecord? {
        let display = item.file.relativePath.display
        var record = ManifestRecord(key: item.key, contentSHA256: item.contentSHA256, path: display, status: .error)
        let deadline = configuration.fileTimeout.map { DispatchTime.now().uptimeNanoseconds + UInt64($0 * 1e9) }
        let timedOut: @Sendable () -> Bool = { deadline.map { DispatchTime.now().uptimeNanoseconds > $0 } ?? false }
        let pipeline = ScanPipeline(scorer: scorer, options: configuration.scanOptions)
        var report: ScanReport
        do {
            guard let prepared = opened.prepared else {
                throw opened.failure ?? ScanError.noFrames(path: opened.path)
            }
            report = try pipeline.scan(
                prepared, progress: { events(.fileProgress($0)) }, isCancelled: { isCancelled() || timedOut() })
        } catch let error as ScanError {
            guard case .cancelled = error else {
                record.error = error.description.replacingOccurrences(of: opened.path, with: display)
                return record
            }
            if isCancelled() { return nil }
            record.error = "took longer than --file-timeout (\(configuration.fileTimeout ?? 0) s)"
            return record
        } catch let error as MediaError {
            record.error = "\(error.operation): \(error.message)"
            return record
        } catch {
            record.error = String(describing: error).replacingOccurrences(of: opened.path, with: display)
            return record
        }
        if isCancelled() { return nil }
        report.file.path = display
        report.file.container = item.containerName

        let stem = AuditOutputNames.stem(for: item.file.relativePath)
        let jsonName = AuditOutputNames.reportsFolder + "/" + stem + ".json"
        let htmlName = AuditOutputNames.reportsFolder + "/" + stem + ".html"
        var files: [(data: Data, path: String)] = [(try ReportWriter.json(report), configuration.outputFolder + "/" + jsonName)]
        if configuration.writeHTML { files.append((try ReportWriter.html(report), configuration.outputFolder + "/" + htmlName)) }
        if let thumbnail = report.thumbnails.first, let frame = report.frames.first(where: { $0.index == thumbnail.frameIndex }) {
            let name = AuditOutputNames.thumbnailsFolder + "/" + stem + ".jpg"
            let size = HTMLReport.frameSize(report)
            record.thumbnail = ThumbnailRecord(
                file: name, frameIndex: frame.index, time: JSONRounding.time(frame.time), region: frame.region,
                frameWidth: size.width, frameHeight: size.height)
            files.append((thumbnail.jpeg, configuration.outputFolder + "/" + name))
        }
        try ReportWriter.write(files)
        record.status = .scanned
        record.verdict = report.verdict
        record.fakeProbability = JSONRounding.probability(report.fakeProbability)
        record.framesAnalysed = report.frames.count
        record.durationSeconds = report.file.durationSeconds.flatMap { $0.isFinite ? JSONRounding.time($0) : nil }
        record.reportJSON = jsonName
        record.reportHTML = configuration.writeHTML ? htmlName : nil
        return record
    }

    /// Writes index.html, summary.csv and summary.json into `output`, all or nothing.
    static func writeSummary(_ summary: AuditSummary, to output: String) throws {
        let html = AuditSummaryHTML.render(summary) { name in
            guard AuditOutputNames.staysInsideOutputFolder(name) else { return nil }
            return try? Data(contentsOf: URL(fileURLWithPath: output + "/" + name))
        }
        try ReportWriter.write([
            (Data(html.utf8), output + "/" + AuditOutputNames.index),
            (try summary.csv(), output + "/" + AuditOutputNames.summaryCSV),
            (try summary.json(), output + "/" + AuditOutputNames.summaryJSON),
        ])
    }
}
