// The audit's memory between runs: an append-only JSONL manifest of finished files (each record
// flushed and fsynced before the next file starts), read back tolerating a last line cut by a crash,
// and the lock file that keeps two audits out of one output folder.
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The most suspicious frame of a scanned file, for the summary's thumbnail.
public struct ThumbnailRecord: Codable, Equatable, Sendable {
    /// The JPEG, relative to the output folder.
    public var file: String
    public var frameIndex: Int
    public var time: Double
    /// The most suspicious region, in frame pixels, and the frame's size.
    public var region: Region
    public var frameWidth: Int
    public var frameHeight: Int

    enum CodingKeys: String, CodingKey {
        case file, time, region
        case frameIndex = "frame_index"
        case frameWidth = "frame_width"
        case frameHeight = "frame_height"
    }
}

/// One finished file: its result, or why it has none. Keyed by content, model and settings.
public struct ManifestRecord: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case scanned, error }

    /// SHA-256 of content SHA-256, model SHA-256 and settings (see `AuditSettings.key`).
    public var key: String
    public var contentSHA256: String
    /// The relative path of the file that was scanned (the first of identical files).
    public var path: String
    public var status: Status
    public var verdict: Verdict?
    public var fakeProbability: Double?
    public var framesAnalysed: Int?
    public var durationSeconds: Double?
    /// The per-file reports, relative to the output folder.
    public var reportJSON: String?
    public var reportHTML: String?
    public var thumbnail: ThumbnailRecord?
    /// Why the file has no result (status `error`).
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case key, path, status, verdict, thumbnail, error
        case contentSHA256 = "content_sha256"
        case fakeProbability = "fake_probability"
        case framesAnalysed = "frames_analysed"
        case durationSeconds = "duration_seconds"
        case reportJSON = "report_json"
        case reportHTML = "report_html"
    }
}

/// A manifest or lock problem; the description is one sentence naming the file.
public enum AuditManifestError: Error, Equatable, CustomStringConvertible {
    case damagedLine(path: String, line: Int, reason: String)
    case cannotWrite(path: String, reason: String)
    case locked(folder: String, holder: String)

    public var description: String {
        switch self {
        case let .damagedLine(path, line, reason):
            return "\(path): line \(line) is damaged (\(reason)); remove that line, or rerun with --force to start over"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        case let .locked(folder, holder):
            return "another audit is writing \(folder) (\(holder)); wait for it or choose another --out"
        }
    }
}

/// The append-only JSONL manifest of an output folder.
public final class AuditManifest {
    public let path: String
    /// Records by key; a later record for a key replaces an earlier one.
    public private(set) var records: [String: ManifestRecord] = [:]
    /// Whether the last line was cut by a crash and dropped (it is redone).
    public private(set) var droppedPartialLine = false
    private var descriptor: Int32 = -1

    /// Reads `path` (missing: empty) and opens it for appending. A last line that does not end in a
    /// newline or does not parse was cut by a crash: it is dropped from the file. Any other line that
    /// does not parse throws `damagedLine`. `startOver` empties the manifest first.
    public init(path: String, startOver: Bool = false) throws {
        self.path = path
        if startOver { unlink(path) }
        let contents = try Self.read(path: path)
        for record in contents.records { records[record.key] = record }
        droppedPartialLine = contents.validBytes < contents.totalBytes
        descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw AuditManifestError.cannotWrite(path: path, reason: ReportWriter.systemError()) }
        if droppedPartialLine, ftruncate(descriptor, off_t(contents.validBytes)) != 0 {
            throw AuditManifestError.cannotWrite(path: path, reason: ReportWriter.systemError())
        }
        lseek(descriptor, 0, SEEK_END)
    }

    /// A manifest's records in file order, and how many leading bytes hold whole records.
    public struct Contents {
        public var records: [ManifestRecord] = []
        public var validBytes = 0
        public var totalBytes = 0
    }

    /// Reads the manifest at `path` without changing it (missing: empty). A cut last line is left
    /// out of `validBytes`; any other bad line throws `damagedLine` naming it.
    public static func read(path: String) throws -> Contents {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
        var contents = Contents(validBytes: data.count, totalBytes: data.count)
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        let endsCleanly = data.isEmpty || data.last == 0x0A
        // `split` leaves an empty last element when the data ends in a newline.
        if endsCleanly, !lines.isEmpty { lines.removeLast() }
        let decoder = JSONDecoder()
        for (number, line) in lines.enumerated() where !line.isEmpty {
            let isLast = number == lines.count - 1
            let record = try? decoder.decode(ManifestRecord.self, from: Data(line))
            if let record, !isLast || endsCleanly {
                contents.records.append(record)
            } else if isLast {
                contents.validBytes = data.count - line.count - (endsCleanly ? 1 : 0)
            } else {
                throw AuditManifestError.damagedLine(path: path, line: number + 1, reason: "not a manifest record")
            }
        }
        return contents
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Appends `record` as one line, then fsyncs, so a crash leaves it whole or (at worst) a cut last line.
    public func append(_ record: ManifestRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(record)
        line.append(0x0A)
        let failure: String? = line.withUnsafeBytes { buffer -> String? in
            var offset = 0
            while offset < buffer.count {
                // buffer.count > offset ≥ 0, so the buffer has an address
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return ReportWriter.systemError()
                }
                offset += written
            }
            return fsync(descriptor) == 0 ? nil : ReportWriter.systemError()
        }
        if let failure { throw AuditManifestError.cannotWrite(path: path, reason: failure) }
        records[record.key] = record
    }
}

/// An exclusive lock on an output folder, held until released or the process ends (even by SIGKILL:
/// the kernel drops `flock` locks with the descriptor).
public final class OutputFolderLock {
    public static let fileName = ".unmask-audit.lock"
    private let descriptor: Int32

    /// Takes the lock on `folder` or throws `locked` naming the process that holds it.
    public init(folder: String) throws {
        let path = folder + "/" + Self.fileName
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw AuditManifestError.cannotWrite(path: path, reason: ReportWriter.systemError()) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw AuditManifestError.locked(
                folder: folder, holder: holder.map { $0.isEmpty ? "lock file \(path)" : "process \($0)" } ?? "lock file \(path)")
        }
        let pid = Data("\(getpid())\n".utf8)
        ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

/// What decides a scan's result besides the file and the model; part of every manifest key.
public struct AuditSettings: Codable, Equatable, Sendable {
    public var sampling: String
    public var maxFrames: Int?
    public var startTime: Double?
    public var endTime: Double?
    public var coverage: Double
    public var confirmation: Bool
    public var threshold: Double
    /// The resource limits in effect (`ScanOptions`): a file over one is refused or cut short, so they
    /// decide its result too. The pixel limit's default depends on the machine's memory. nil when
    /// read from a summary that does not record them, which then matches no current settings.
    public var maxFramePixels: Int?
    public var maxAnalysedFrames: Int?
    public var maxDecodedFrames: Int?
    public var maxDurationSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case sampling, coverage, confirmation, threshold
        case maxFrames = "max_frames"
        case startTime = "start_time"
        case endTime = "end_time"
        case maxFramePixels = "max_frame_pixels"
        case maxAnalysedFrames = "max_analysed_frames"
        case maxDecodedFrames = "max_decoded_frames"
        case maxDurationSeconds = "max_duration_seconds"
    }

    public init(options: ScanOptions, threshold: Double) {
        switch options.sampling {
        case .everyFrame: sampling = "every frame"
        case .everyNth(let n): sampling = "every \(n)th frame"
        case .rate(let rate): sampling = "\(rate) fps"
        case .rateWithKeyframes(let rate): sampling = "\(rate) fps + keyframes"
        case .keyframesOnly: sampling = "keyframes"
        case .timestamps(let times): sampling = "at " + times.map { "\($0)" }.joined(separator: ",") + " s"
        }
        maxFrames = options.maxFrames
        startTime = options.startTime
        endTime = options.endTime
        coverage = options.coverage
        confirmation = options.confirmation != nil
        self.threshold = threshold
        maxFramePixels = options.maxPixels
        maxAnalysedFrames = options.maxAnalysedFrames
        maxDecodedFrames = options.maxDecodedFrames
        maxDurationSeconds = options.maxDurationSeconds
    }

    /// The settings that differ from `other`, each as "name this-value against other-value" (JSON names).
    public func differences(from other: AuditSettings) -> [String] {
        func describe(_ value: Any?) -> String { value.map { "\($0)" } ?? "not recorded" }
        let pairs: [(String, Any?, Any?)] = [
            ("sampling", sampling, other.sampling), ("max_frames", maxFrames, other.maxFrames),
            ("start_time", startTime, other.startTime), ("end_time", endTime, other.endTime),
            ("coverage", coverage, other.coverage), ("confirmation", confirmation, other.confirmation),
            ("threshold", threshold, other.threshold), ("max_frame_pixels", maxFramePixels, other.maxFramePixels),
            ("max_analysed_frames", maxAnalysedFrames, other.maxAnalysedFrames),
            ("max_decoded_frames", maxDecodedFrames, other.maxDecodedFrames),
            ("max_duration_seconds", maxDurationSeconds, other.maxDurationSeconds),
        ]
        return pairs.compactMap { name, mine, theirs in
            let (a, b) = (describe(mine), describe(theirs))
            return a == b ? nil : "\(name) \(a) against \(b)"
        }
    }

    /// The manifest key of a file with `contentSHA256` scanned by the model with `modelSHA256`.
    public func key(contentSHA256: String, modelSHA256: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let settings = (try? encoder.encode(self)) ?? Data()
        var hasher = SHA256()
        hasher.update(data: Data((contentSHA256 + "\n" + modelSHA256 + "\n").utf8))
        hasher.update(data: settings)
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
