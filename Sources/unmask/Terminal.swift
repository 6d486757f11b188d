// Writing to the terminal: one-line errors and warnings on standard error, exit codes by cause.
import ArgumentParser
import Foundation
import MediaIO

/// Standard error, and the exit code each kind of error deserves.
enum Terminal {
    static var standardErrorIsTerminal: Bool { isatty(2) == 1 }

    /// Writes one line to standard error (fd 2 directly: the global `stderr` is not concurrency-safe).
    /// Control characters in it (a hostile file name's ESC or BEL, say) are shown escaped, so an error
    /// line can never drive the terminal.
    static func writeError(_ line: String) {
        let body = line.hasSuffix("\n") ? String(line.dropLast()) : line
        writeRaw(printable(body) + "\n")
    }

    /// `text` with C0 and C1 control characters and DEL written as `\u{…}` escapes; the rest as it is.
    static func printable(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Writes text to standard error as it is (no newline added).
    static func writeRaw(_ text: String) {
        text.utf8CString.withUnsafeBufferPointer { buffer in
            _ = write(2, buffer.baseAddress, buffer.count - 1)
        }
    }

    static func warn(_ message: String) { writeError("unmask: warning: \(message)") }

    /// Reports an error as one line naming the file and the cause; returns the exit code it deserves.
    static func report(_ error: Error) -> ExitCode {
        switch error {
        case let error as MediaError:
            writeError("unmask: \(error.description)")
            switch error.kind {
            case .encoder, .io: return ExitCode(.cannotWrite)
            case .invalidArgument: return ExitCode(.usage)
            default: return ExitCode(.badMedia)
            }
        case let error as OutputError:
            writeError("unmask: \(error.description)")
            return ExitCode(.cannotWrite)
        default:
            writeError("unmask: \(String(describing: error).split(separator: "\n").first ?? "")")
            return ExitCode(.failure)
        }
    }
}

/// An output that could not be written (folder not creatable, file not writable).
struct OutputError: Error, CustomStringConvertible {
    var path: String
    var cause: String
    var description: String { "\(path): \(cause)" }

    /// Refuses (exit 73, one line) an output that is not a new file in an existing folder; checked
    /// before any work, so nothing is overwritten and no work is lost to a mistyped path.
    static func checkNewFile(_ path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !folder.isEmpty, !(FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue)
        {
            throw Terminal.report(OutputError(path: path, cause: "the folder \(folder) does not exist"))
        }
        if FileManager.default.fileExists(atPath: path) {
            throw Terminal.report(OutputError(path: path, cause: "already exists; choose a new name (nothing was overwritten)"))
        }
    }
}

/// Standard output, written to fd 1 in whole buffers. When it cannot be written (a full disk,
/// /dev/full, a closed descriptor) the command stops with one line on standard error and exit code 73:
/// there is nothing useful left to do, and a half-written result must not pass for a whole one.
enum StandardOutput {
    static func print(_ text: String) {
        write(Data((text + "\n").utf8))
    }

    static func write(_ data: Data) {
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(1, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    Terminal.writeError("unmask: standard output: cannot write (\(String(cString: strerror(errno))))")
                    exit(ExitStatus.cannotWrite.rawValue)
                }
                offset += written
            }
        }
    }

    /// Prints `value` as pretty, key-sorted JSON (keys in snake_case when asked).
    static func printJSON<Value: Encodable>(_ value: Value, snakeCaseKeys: Bool = false) throws {
        print(String(decoding: try JSON.encoder(pretty: true, snakeCaseKeys: snakeCaseKeys).encode(value), as: UTF8.self))
    }
}

/// The command line's JSON: keys sorted (stable output), pretty for people, one line for logs.
enum JSON {
    static func encoder(pretty: Bool = false, snakeCaseKeys: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
        if snakeCaseKeys { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return encoder
    }
}
