// The identity of a scanned file for the report: its SHA-256 (streamed, constant memory) and size, read
// through one descriptor whose identity (device, inode, size, modification time) is checked before and
// after, so that a scan can check at its end that the bytes it decoded are the bytes it hashed; also the
// SHA-256 of bytes in memory (model lineage hashes its file lists).
import Crypto
import Foundation
import MediaIO

/// What identifies a file's bytes without reading them: device, inode, size and modification time in
/// nanoseconds. Saving over a file, appending to it or rewriting it changes one of them; an owner who
/// rewrites it in place and sets the time back on purpose does not (the status-change time would show
/// that, but it also moves when an open file is merely renamed or deleted, which leaves its bytes as
/// they were, so it is not compared).
public struct ContentIdentity: Equatable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modifiedNanoseconds: Int64

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        modifiedNanoseconds = Int64(status.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(status.st_mtim.tv_nsec)
    }

    /// The identity of the file at `path` now (symbolic links followed).
    public static func of(path: String) throws -> ContentIdentity {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw MediaError(kind: .io, path: path, operation: "cannot read", message: String(cString: strerror(errno)))
        }
        return ContentIdentity(status)
    }
}

/// A file's SHA-256 together with the identity of the bytes that were hashed.
public struct FileFingerprint: Equatable, Sendable {
    /// Lowercase hex.
    public var sha256: String
    public var identity: ContentIdentity

    public init(sha256: String, identity: ContentIdentity) {
        self.sha256 = sha256
        self.identity = identity
    }
}

public enum FileDigest {
    /// SHA-256 of the file's bytes as lowercase hex, read in 1 MiB chunks.
    public static func sha256Hex(path: String) throws -> String {
        try fingerprint(path: path).sha256
    }

    /// Hashes the file at `path` through one descriptor and returns the digest with the identity of
    /// what was hashed; a file whose identity changed while it was read is an error.
    public static func fingerprint(path: String) throws -> FileFingerprint {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MediaError(kind: .io, path: path, operation: "cannot read", message: "cannot open the file to hash it")
        }
        defer { try? handle.close() }
        let before = try identity(of: handle, path: path)
        var hasher = SHA256()
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        guard try identity(of: handle, path: path) == before else {
            throw MediaError(
                kind: .io, path: path, operation: "cannot read", message: "the file changed while it was being hashed")
        }
        return FileFingerprint(sha256: hasher.finalize().map { String(format: "%02x", $0) }.joined(), identity: before)
    }

    /// SHA-256 of `data` as lowercase hex.
    public static func sha256Hex(data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    public static func size(path: String) -> Int64? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
    }

    private static func identity(of handle: FileHandle, path: String) throws -> ContentIdentity {
        var status = stat()
        guard fstat(handle.fileDescriptor, &status) == 0 else {
            throw MediaError(kind: .io, path: path, operation: "cannot read", message: String(cString: strerror(errno)))
        }
        return ContentIdentity(status)
    }
}
