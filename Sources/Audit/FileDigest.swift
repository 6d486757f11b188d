// The identity of a scanned file for the report: its SHA-256 (streamed, constant memory) and size;
// also the SHA-256 of bytes in memory (model lineage hashes its file lists).
import Crypto
import Foundation
import MediaIO

public enum FileDigest {
    /// SHA-256 of the file's bytes as lowercase hex, read in 1 MiB chunks.
    public static func sha256Hex(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MediaError(kind: .io, path: path, operation: "cannot read", message: "cannot open the file to hash it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 of `data` as lowercase hex.
    public static func sha256Hex(data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    public static func size(path: String) -> Int64? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
    }
}
