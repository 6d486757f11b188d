// Owns a training run's JSONL log file: the writer that appends one `TrainingLogEntry` per line (a
// resumed run appends to the same file) and the reader that decodes the lines back into entries,
// skipping and counting the lines that do not decode (such as a last line cut by a crash).
import Foundation

/// A log file that cannot be opened or read: its path and why.
public struct TrainingLogError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Appends entries to a JSONL training log: one JSON object per line, keys sorted.
public final class TrainingLogWriter {
    public let path: String
    /// `record(_:)` writes `.step` events only at steps that are multiples of this; every other event
    /// is written.
    public let stepInterval: Int
    private let handle: FileHandle
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// Opens `path` to append to it (`append`, creating it if missing) or as a new empty file.
    public init(path: String, append: Bool, stepInterval: Int = 10) throws {
        if !append || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw TrainingLogError(path: path, reason: "cannot create the log file")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw TrainingLogError(path: path, reason: "cannot open the log file for writing")
        }
        handle.seekToEndOfFile()
        self.path = path
        self.stepInterval = max(1, stepInterval)
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Writes `entry` as one line with a single unbuffered write, so the line is in the file when
    /// this returns. Throws the file system's error when the write fails.
    public func append(_ entry: TrainingLogEntry) throws {
        try handle.write(contentsOf: try encoder.encode(entry) + Data("\n".utf8))
    }

    /// Writes `event` stamped with the current time.
    public func append(_ event: TrainingLogEntry.Event) throws {
        try append(TrainingLogEntry(time: Date(), event: event))
    }

    /// Writes a trainer event, stamped with the current time: `.step` only every `stepInterval` steps
    /// (the others still reach the progress display, not the log), every other event always.
    public func record(_ event: TrainingEvent) throws {
        if case .step(let statistics) = event, statistics.step % stepInterval != 0 { return }
        try append(TrainingLogEntry.Event(event))
    }
}

/// A training log read back: its entries in file order (the appended history of every run that
/// wrote to it) and how many lines were skipped.
public struct TrainingLog: Sendable {
    public var entries: [TrainingLogEntry]
    /// Non-empty lines that are not an entry: a line cut short, an unknown event kind, a missing field.
    public var skippedLines: Int

    public init(entries: [TrainingLogEntry], skippedLines: Int = 0) {
        self.entries = entries
        self.skippedLines = skippedLines
    }

    /// Decodes JSONL text; empty lines are ignored.
    public init(decoding data: Data) {
        let decoder = JSONDecoder()
        var entries: [TrainingLogEntry] = []
        var skipped = 0
        for line in data.split(separator: UInt8(ascii: "\n")) {
            if let entry = try? decoder.decode(TrainingLogEntry.self, from: Data(line)) {
                entries.append(entry)
            } else {
                skipped += 1
            }
        }
        self.init(entries: entries, skippedLines: skipped)
    }

    /// Reads the log at `path`.
    public init(contentsOfFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingLogError(path: path, reason: "cannot read the log file")
        }
        self.init(decoding: data)
    }
}
