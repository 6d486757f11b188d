// Audit — the report writers' front door: render a `ScanReport` as JSON, CSV, HTML or terminal
// text (as `Data`/`String`, e.g. for stdout) and write any of them atomically to a path
// (temporary file in the destination folder, then rename).
import CSV
import Foundation

#if canImport(Glibc)
    import Glibc
    private let posixWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin
    private let posixWrite = Darwin.write
#endif

/// The formats a report can be written in.
public enum ReportFormat: String, CaseIterable, Sendable {
    case json
    case csv
    case html
    case text

    /// The format a file name's extension asks for ("json", "csv", "html" or "htm", "txt" or "text",
    /// any case), or nil.
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "json": self = .json
        case "csv": self = .csv
        case "html", "htm": self = .html
        case "txt", "text": self = .text
        default: return nil
        }
    }

    /// The usual file-name extension for the format.
    public var fileExtension: String {
        switch self {
        case .json: return "json"
        case .csv: return "csv"
        case .html: return "html"
        case .text: return "txt"
        }
    }
}

/// Why a report could not be rendered or written; the description names the path and the cause.
public enum ReportWriteError: Error, Equatable, CustomStringConvertible {
    /// The destination's folder does not exist.
    case folderMissing(path: String, folder: String)
    /// The destination's folder exists but is not a folder.
    case notAFolder(path: String, folder: String)
    /// The destination is an existing folder.
    case destinationIsAFolder(path: String)
    /// The operating system refused (permissions, disk full, …): `reason` is its message.
    case cannotWrite(path: String, reason: String)
    /// The report could not be rendered in the format.
    case cannotRender(format: ReportFormat, reason: String)

    public var description: String {
        switch self {
        case let .folderMissing(path, folder):
            return "cannot write report \(path): folder \(folder) does not exist"
        case let .notAFolder(path, folder):
            return "cannot write report \(path): \(folder) is not a folder"
        case let .destinationIsAFolder(path):
            return "cannot write report \(path): it is a folder"
        case let .cannotWrite(path, reason):
            return "cannot write report \(path): \(reason)"
        case let .cannotRender(format, reason):
            return "cannot render \(format.rawValue) report: \(reason)"
        }
    }
}

/// Renders reports and writes them to disk atomically. Never prints.
public enum ReportWriter {
    /// The report as JSON (schema `unmask.report/1`): sorted keys, two-space indent, rounded numbers,
    /// trailing newline. Equal reports give byte-identical output.
    public static func json(_ report: ScanReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            var data = try encoder.encode(report)
            data.append(0x0A)
            return data
        } catch {
            throw ReportWriteError.cannotRender(format: .json, reason: String(describing: error))
        }
    }

    /// The CSV column names, in order.
    public static let csvHeader = [
        "file", "index", "time", "fake_probability", "smoothed_probability", "label", "is_keyframe",
        "region_x", "region_y", "region_w", "region_h", "heatmap_max",
    ]

    /// The report as CSV: a header row, then one row per analysed frame in time order (UTF-8, LF
    /// line ends, RFC 4180 quoting by CSV.swift's `CSVWriter`). `heatmap_max` is empty when a frame
    /// has no heatmap. Text that comes from the file (the path) is passed through
    /// `spreadsheetSafe(_:)` first.
    public static func csv(_ report: ScanReport) throws -> Data {
        let stream = OutputStream(toMemory: ())
        stream.open()
        defer { stream.close() }
        do {
            let writer = try CSVWriter(stream: stream)
            try writer.write(row: csvHeader)
            for (frame, smoothed) in zip(report.frames, report.assessment.smoothed) {
                try writer.write(row: [
                    spreadsheetSafe(report.file.path),
                    String(frame.index),
                    numberText(JSONRounding.time(frame.time)),
                    numberText(JSONRounding.probability(frame.fakeProbability)),
                    numberText(JSONRounding.probability(smoothed)),
                    report.assessment.label(of: frame).rawValue,
                    frame.isKeyframe ? "true" : "false",
                    String(frame.region.x), String(frame.region.y), String(frame.region.w), String(frame.region.h),
                    frame.heatmap.maximum.map { numberText(JSONRounding.probability(Double($0))) } ?? "",
                ])
            }
            writer.stream.close()
        } catch {
            throw ReportWriteError.cannotRender(format: .csv, reason: String(describing: error))
        }
        guard var data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data else {
            throw ReportWriteError.cannotRender(format: .csv, reason: "the in-memory stream returned no data")
        }
        data.append(0x0A)
        return data
    }

    /// Neutralizes CSV formula injection (OWASP): a cell starting with `=`, `+`, `-`, `@`, a tab or a
    /// carriage return can run as a formula when a spreadsheet opens the CSV, and a path or tag comes
    /// from an untrusted file, so such text gets a leading single quote, which spreadsheets show as
    /// text. Anything else is returned unchanged.
    public static func spreadsheetSafe(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }

    /// The report as one self-contained HTML page (no external resources).
    public static func html(_ report: ScanReport) throws -> Data {
        Data(HTMLReport.render(report).utf8)
    }

    /// A few lines for the terminal: verdict, probability, segments, frames, time taken.
    /// Printable ASCII only; ANSI colour on the verdict when `color` is true.
    public static func text(_ report: ScanReport, color: Bool = false) -> String {
        TextReport.render(report, color: color)
    }

    /// The report rendered in `format` (text without colour), ready to write.
    public static func data(_ report: ScanReport, format: ReportFormat) throws -> Data {
        switch format {
        case .json: return try json(report)
        case .csv: return try csv(report)
        case .html: return try html(report)
        case .text: return Data(text(report, color: false).utf8)
        }
    }

    /// Renders the report in `format` and writes it atomically to `path`.
    public static func write(_ report: ScanReport, format: ReportFormat, to path: String) throws {
        try write(try data(report, format: format), to: path)
    }

    /// Writes `data` to `path` atomically: a temporary file in the same folder is written, flushed
    /// to disk and renamed over `path`, so readers see the old file or the whole new one, never a
    /// half-written one. On failure nothing is left behind.
    public static func write(_ data: Data, to path: String) throws {
        let destination = URL(fileURLWithPath: path)
        let folder = destination.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw ReportWriteError.folderMissing(path: path, folder: folder)
        }
        guard isFolder.boolValue else { throw ReportWriteError.notAFolder(path: path, folder: folder) }
        if FileManager.default.fileExists(atPath: destination.path, isDirectory: &isFolder), isFolder.boolValue {
            throw ReportWriteError.destinationIsAFolder(path: path)
        }

        let temporary = folder + "/." + destination.lastPathComponent + ".tmp-" + UUID().uuidString
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ReportWriteError.cannotWrite(path: path, reason: systemError()) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }

        let failure: String? = data.withUnsafeBytes { buffer -> String? in
            var offset = 0
            while offset < buffer.count {
                let written = posixWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return systemError()
                }
                offset += written
            }
            return fsync(descriptor) == 0 ? nil : systemError()
        }
        let closeFailed = close(descriptor) != 0
        if let failure { throw ReportWriteError.cannotWrite(path: path, reason: failure) }
        if closeFailed { throw ReportWriteError.cannotWrite(path: path, reason: systemError()) }
        guard rename(temporary, destination.path) == 0 else {
            throw ReportWriteError.cannotWrite(path: path, reason: systemError())
        }
        renamed = true
    }

    /// The C library's message for the current `errno`.
    static func systemError() -> String {
        String(cString: strerror(errno))
    }

    /// Shortest round-trip text of an already rounded number ("0.1235", "1.0", "12.5").
    static func numberText(_ value: Double) -> String {
        value.description
    }
}
