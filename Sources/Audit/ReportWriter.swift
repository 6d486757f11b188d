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
    /// The destination ends with "/", so it can only be a folder.
    case namesAFolder(path: String)
    /// The destination exists and is not a regular file (a device, a fifo, a socket).
    case notARegularFile(path: String)
    /// The destination is a file the command reads (writing the report would replace it).
    case destinationIsAnInput(path: String)
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
        case let .namesAFolder(path):
            return "cannot write report \(path): a name ending in '/' is a folder; give a file name such as \(path)report.json"
        case let .notARegularFile(path):
            return "cannot write report \(path): it exists and is not a regular file"
        case let .destinationIsAnInput(path):
            return "cannot write report \(path): it is the file being scanned; choose another name"
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
        try write([(data, path)])
    }

    /// Writes several files all or nothing: every temporary file is written and flushed first, and
    /// only when all of them are complete are they renamed into place. A symbolic link is written
    /// through (its target is replaced, the link stays); an existing file keeps its permissions.
    public static func write(_ files: [(data: Data, path: String)]) throws {
        let destinations = try files.map { try checkedDestination($0.path) }
        var temporaries: [String] = []
        var renamed = 0
        defer { for temporary in temporaries.dropFirst(renamed) { unlink(temporary) } }
        for (file, destination) in zip(files, destinations) {
            temporaries.append(try writeTemporary(file.data, beside: destination, reportPath: file.path))
        }
        for (index, destination) in destinations.enumerated() {
            guard rename(temporaries[index], destination.path) == 0 else {
                throw ReportWriteError.cannotWrite(path: files[index].path, reason: systemError())
            }
            renamed += 1
        }
    }

    /// A checked report destination: the path to rename onto (a link's target) and the mode to give it.
    public struct Destination: Equatable, Sendable {
        public var path: String
        var mode: mode_t?
    }

    /// Checks that `path` can take a report before any work is done: its folder exists, and it is
    /// missing, a regular file, or a link to one (followed). Throws the reason otherwise.
    @discardableResult
    public static func checkedDestination(_ path: String, inputs: [String] = []) throws -> Destination {
        guard !path.hasSuffix("/") else { throw ReportWriteError.namesAFolder(path: path) }
        var resolved = path
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            guard let target = realpath(path, nil) else {
                throw ReportWriteError.cannotWrite(path: path, reason: "it is a link that cannot be followed")
            }
            resolved = String(cString: target)
            free(target)
        }
        let folder = URL(fileURLWithPath: resolved).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw ReportWriteError.folderMissing(path: path, folder: folder)
        }
        guard isFolder.boolValue else { throw ReportWriteError.notAFolder(path: path, folder: folder) }
        guard stat(resolved, &info) == 0 else { return Destination(path: resolved, mode: nil) }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: throw ReportWriteError.destinationIsAFolder(path: path)
        case S_IFREG: break
        default: throw ReportWriteError.notARegularFile(path: path)
        }
        for input in inputs {
            var inputInfo = stat()
            if stat(input, &inputInfo) == 0, inputInfo.st_dev == info.st_dev, inputInfo.st_ino == info.st_ino {
                throw ReportWriteError.destinationIsAnInput(path: path)
            }
        }
        return Destination(path: resolved, mode: info.st_mode & 0o7777)
    }

    /// Writes `data` to a new temporary file beside `destination`, flushed and with the destination's
    /// permissions; returns its path. The name stays within 255 bytes whatever the destination's.
    private static func writeTemporary(_ data: Data, beside destination: Destination, reportPath: String) throws -> String {
        let url = URL(fileURLWithPath: destination.path)
        let suffix = ".tmp-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        var stem = url.lastPathComponent
        while stem.utf8.count > 255 - 1 - suffix.utf8.count { stem.removeLast() }
        let temporary = url.deletingLastPathComponent().path + "/." + stem + suffix
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ReportWriteError.cannotWrite(path: reportPath, reason: systemError()) }
        let failure: String? = data.withUnsafeBytes { buffer -> String? in
            var offset = 0
            while offset < buffer.count {
                // buffer.count > offset ≥ 0, so the buffer has an address
                let written = posixWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return systemError()
                }
                offset += written
            }
            if let mode = destination.mode, fchmod(descriptor, mode) != 0 { return systemError() }
            return fsync(descriptor) == 0 ? nil : systemError()
        }
        let closeFailed = close(descriptor) != 0
        if failure != nil || closeFailed {
            let reason = failure ?? systemError()
            unlink(temporary)
            throw ReportWriteError.cannotWrite(path: reportPath, reason: reason)
        }
        return temporary
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
