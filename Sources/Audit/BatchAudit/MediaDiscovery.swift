// Finding the files an audit covers: files and folders walked recursively in a stable order, with
// include/exclude globs, hidden names skipped by default, symbolic links followed only on request
// (with loop detection), and the output folder left out. Names are kept as raw bytes throughout, so a
// name that is not valid UTF-8 is still opened; only its display form is lossy.
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file name or path as the file system holds it: bytes, not necessarily UTF-8.
public struct RawPath: Hashable, Comparable, Sendable {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { bytes = Array(text.utf8) }

    /// The path for people: invalid UTF-8 shown as U+FFFD.
    public var display: String { String(decoding: bytes, as: UTF8.self) }

    public var isEmpty: Bool { bytes.isEmpty }

    /// `self + "/" + component`.
    public func appending(_ component: RawPath) -> RawPath {
        if bytes.isEmpty { return component }
        return RawPath(bytes: bytes + (bytes.last == 0x2F ? [] : [0x2F]) + component.bytes)
    }

    /// The last path component ("." for an empty path).
    public var lastComponent: RawPath {
        let trimmed = bytes.last == 0x2F && bytes.count > 1 ? Array(bytes.dropLast()) : bytes
        guard let slash = trimmed.lastIndex(of: 0x2F) else { return RawPath(bytes: trimmed.isEmpty ? [0x2E] : trimmed) }
        return RawPath(bytes: Array(trimmed[(slash + 1)...]))
    }

    /// Calls `body` with the path as a NUL-terminated C string.
    public func withCString<Result>(_ body: (UnsafePointer<CChar>) throws -> Result) rethrows -> Result {
        // Never empty (the terminator), so the buffer has an address.
        try (bytes.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    public static func < (left: RawPath, right: RawPath) -> Bool { left.bytes.lexicographicallyPrecedes(right.bytes) }
}

/// A regular file an audit will look at.
public struct DiscoveredFile: Equatable, Sendable {
    /// The path to open (as given, joined with the names found under it).
    public var path: RawPath
    /// The path reports show and shards hash: relative to the folder given, or the file's own name.
    public var relativePath: RawPath
}

/// A path found but not audited, with the reason (a broken link, a loop, an unreadable folder …).
public struct SkippedPath: Equatable, Sendable {
    public var relativePath: RawPath
    public var reason: String
}

/// Which files `MediaDiscovery` takes.
public struct DiscoveryRules: Sendable {
    /// Shell globs (fnmatch); a file is taken when its relative path or its name matches one. Empty: all.
    public var include: [String] = []
    /// Shell globs; a file or folder whose relative path or name matches one is left out.
    public var exclude: [String] = []
    /// Take names starting with a dot (files and folders).
    public var includeHidden = false
    /// Follow symbolic links found inside folders (links named on the command line are always followed).
    public var followSymlinks = false
    /// Folders never entered (the audit's own output folder).
    public var excludedFolders: [String] = []

    public init() {}
}

/// Walks the inputs and lists the files to audit and the paths left out.
public enum MediaDiscovery {
    public struct Result: Equatable, Sendable {
        public var files: [DiscoveredFile] = []
        public var skipped: [SkippedPath] = []
    }

    /// Files under `inputs` (files or folders), sorted by relative path. With one input folder,
    /// relative paths start below it; with several inputs, each starts with its input's last name.
    /// Nothing is thrown for a bad path: it is listed in `skipped` with its reason.
    public static func discover(_ inputs: [String], rules: DiscoveryRules) -> Result {
        var walker = Walker(rules: rules)
        for folder in rules.excludedFolders {
            if let identity = FileIdentity(path: RawPath(folder), follow: true) { walker.excluded.insert(identity) }
        }
        for input in inputs {
            let path = RawPath(input)
            let prefix = inputs.count == 1 ? RawPath(bytes: []) : path.lastComponent
            var info = stat()
            let found = path.withCString { stat($0, &info) } == 0
            guard found else {
                walker.result.skipped.append(SkippedPath(relativePath: path, reason: reasonForStatFailure(errno)))
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                walker.walk(folder: path, relative: prefix, ancestors: [])
            case S_IFREG:
                walker.take(path: path, relative: inputs.count == 1 ? path.lastComponent : prefix)
            default:
                walker.result.skipped.append(SkippedPath(relativePath: path, reason: "not a regular file or folder"))
            }
        }
        var seen = Set<RawPath>()
        for index in walker.result.files.indices {
            var relative = walker.result.files[index].relativePath
            var copy = 2
            while seen.contains(relative) {
                relative = RawPath(bytes: walker.result.files[index].relativePath.bytes + Array("#\(copy)".utf8))
                copy += 1
            }
            seen.insert(relative)
            walker.result.files[index].relativePath = relative
        }
        walker.result.files.sort { $0.relativePath < $1.relativePath }
        walker.result.skipped.sort { $0.relativePath < $1.relativePath }
        return walker.result
    }

    static func reasonForStatFailure(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "does not exist (or is a broken symbolic link)"
        case ELOOP: return "symbolic link loop"
        default: return String(cString: strerror(code))
        }
    }

    /// Whether `path` (relative) or its last component matches any of `globs`.
    static func matches(_ path: RawPath, _ globs: [String]) -> Bool {
        let name = path.lastComponent
        return globs.contains { glob in
            path.withCString { fnmatch(glob, $0, 0) == 0 } || name.withCString { fnmatch(glob, $0, 0) == 0 }
        }
    }
}

/// A file's identity on its device, to recognise a folder reached twice.
struct FileIdentity: Hashable {
    var device: UInt64
    var inode: UInt64

    init?(path: RawPath, follow: Bool) {
        var info = stat()
        let status = path.withCString { follow ? stat($0, &info) : lstat($0, &info) }
        guard status == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// The recursive walk's state.
private struct Walker {
    let rules: DiscoveryRules
    var result = MediaDiscovery.Result()
    var excluded = Set<FileIdentity>()
    /// Folders already walked, so that two links to one folder walk it once.
    var visited = Set<FileIdentity>()

    init(rules: DiscoveryRules) { self.rules = rules }

    mutating func take(path: RawPath, relative: RawPath) {
        if !rules.include.isEmpty, !MediaDiscovery.matches(relative, rules.include) { return }
        if MediaDiscovery.matches(relative, rules.exclude) { return }
        result.files.append(DiscoveredFile(path: path, relativePath: relative))
    }

    mutating func walk(folder: RawPath, relative: RawPath, ancestors: Set<FileIdentity>) {
        guard let identity = FileIdentity(path: folder, follow: true) else { return }
        if excluded.contains(identity) { return }
        if ancestors.contains(identity) {
            result.skipped.append(
                SkippedPath(relativePath: relative, reason: "symbolic link loop (leads back to a parent folder)"))
            return
        }
        guard visited.insert(identity).inserted else {
            result.skipped.append(SkippedPath(relativePath: relative, reason: "folder already audited through another path"))
            return
        }
        guard let directory = folder.withCString({ opendir($0) }) else {
            result.skipped.append(
                SkippedPath(relativePath: relative, reason: "cannot read folder: " + String(cString: strerror(errno))))
            return
        }
        var names: [RawPath] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(RawPath(bytes: name))
        }
        closedir(directory)
        let inside = ancestors.union([identity])
        for name in names.sorted() {
            if !rules.includeHidden, name.bytes.first == 0x2E { continue }
            let path = folder.appending(name)
            let childRelative = relative.appending(name)
            if MediaDiscovery.matches(childRelative, rules.exclude) { continue }
            var info = stat()
            guard path.withCString({ lstat($0, &info) }) == 0 else {
                result.skipped.append(SkippedPath(relativePath: childRelative, reason: String(cString: strerror(errno))))
                continue
            }
            var type = info.st_mode & S_IFMT
            if type == S_IFLNK {
                guard rules.followSymlinks else {
                    result.skipped.append(
                        SkippedPath(relativePath: childRelative, reason: "symbolic link (not followed without --follow-symlinks)")
                    )
                    continue
                }
                guard path.withCString({ stat($0, &info) }) == 0 else {
                    let reason = errno == ENOENT ? "broken symbolic link" : MediaDiscovery.reasonForStatFailure(errno)
                    result.skipped.append(SkippedPath(relativePath: childRelative, reason: reason))
                    continue
                }
                type = info.st_mode & S_IFMT
            }
            switch type {
            case S_IFDIR: walk(folder: path, relative: childRelative, ancestors: inside)
            case S_IFREG: take(path: path, relative: childRelative)
            default:
                result.skipped.append(SkippedPath(relativePath: childRelative, reason: "not a regular file"))
            }
        }
    }
}
