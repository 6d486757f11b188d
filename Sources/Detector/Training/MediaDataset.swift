// Owns the training media: folders of images and videos read through MediaIO into sampled frames
// (kept at native resolution as 8-bit planar RGB), the validation split by source file (FNV-1a hash
// of the path relative to its folder, never by patch), and the report of files that were skipped.
import Foundation
import MediaIO

/// One decoded frame kept for patch sampling: native size, planar RGB, 8 bits per value.
public struct StoredFrame: Sendable {
    public var width: Int, height: Int
    /// Planar R, G, B planes, each width·height bytes (value/255 is the 0…1 intensity).
    public var bytes: [UInt8]
    /// Where a fake frame is fake, when its file's sidecar says; nil = the whole frame.
    public var fakeArea: FakeArea?

    public init(_ image: RGBImage) {
        width = image.width; height = image.height
        bytes = image.pixels.map { UInt8(clamping: Int(($0 * 255).rounded())) }
    }

    /// A fake frame that is fake only in `fakeArea`.
    public init(_ image: RGBImage, fakeArea: FakeArea?) {
        self.init(image)
        self.fakeArea = fakeArea
    }

    /// The 0…1 value of channel c at (x, y).
    @inline(__always) public func value(_ c: Int, _ x: Int, _ y: Int) -> Float {
        Float(bytes[(c * height + y) * width + x]) * (1 / 255)
    }
}

/// The frames of one source file.
public struct MediaSource: Sendable {
    /// Path relative to the folder it was found in (the split key).
    public var relativePath: String
    public var path: String
    public var frames: [StoredFrame]
    public init(relativePath: String, path: String, frames: [StoredFrame]) {
        self.relativePath = relativePath; self.path = path; self.frames = frames
    }
}

/// Sources of one kind (real or fake) split into training and validation by file.
public struct MediaSplit: Sendable {
    public var training: [MediaSource]
    public var validation: [MediaSource]
    /// Files that could not be used, one line each ("<path>: <reason>").
    public var skipped: [String]
    public init(training: [MediaSource], validation: [MediaSource], skipped: [String] = []) {
        self.training = training; self.validation = validation; self.skipped = skipped
    }
}

/// Reads folders of media into frames and splits them by file.
public struct MediaFolderLoader {
    /// Frames kept per file (videos are sampled evenly; stills give one).
    public var framesPerFile: Int
    /// Fraction of files held out for validation.
    public var validationFraction: Double
    /// Smallest usable frame side (a training patch must fit).
    public var minimumSide: Int
    /// Decoder threads per file (0 = FFmpeg's choice).
    public var threads: Int

    public init(framesPerFile: Int = 4, validationFraction: Double = 0.2, minimumSide: Int = 64, threads: Int = 0) {
        self.framesPerFile = framesPerFile; self.validationFraction = validationFraction
        self.minimumSide = minimumSide; self.threads = threads
    }

    /// FNV-1a 64-bit hash of a string's UTF-8 bytes (stable across runs and machines).
    public static func stableHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    /// Whether a file (by path relative to its folder) belongs to the validation split.
    public func isValidation(_ relativePath: String) -> Bool {
        Double(MediaFolderLoader.stableHash(relativePath) % 10_000) < validationFraction * 10_000
    }

    /// Regular files under `folder` (recursively, symlinks followed, hidden entries skipped), sorted.
    public static func listFiles(_ folder: String) throws -> [String] {
        try listFilesAndUnreadable(folder).files
    }

    /// `listFiles`, plus each entry that could not be read ("path: reason"), so that an unreadable
    /// subfolder is reported instead of silently contributing nothing.
    static func listFilesAndUnreadable(_ folder: String) throws -> (files: [String], unreadable: [String]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw DetectorError.trainingData(path: folder, reason: "folder does not exist")
        }
        guard isDirectory.boolValue else { throw DetectorError.trainingData(path: folder, reason: "not a folder") }
        let root = URL(fileURLWithPath: folder).resolvingSymlinksInPath()
        var unreadable: [String] = []
        guard
            let e = FileManager.default.enumerator(
                at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles],
                errorHandler: { url, error in
                    let cause = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
                    unreadable.append("\(url.path): cannot read (\(cause))")
                    return true
                })
        else {
            throw DetectorError.trainingData(path: folder, reason: "cannot list folder")
        }
        var files: [String] = []
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for case let url as URL in e {
            let resolved = url.resolvingSymlinksInPath()
            var dir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: resolved.path, isDirectory: &dir), !dir.boolValue else { continue }
            let p = url.path
            files.append(p.hasPrefix(prefix) ? String(p.dropFirst(prefix.count)) : url.lastPathComponent)
        }
        return (files.sorted(), unreadable)
    }

    /// Loads every readable file under `folder`. Unreadable files are skipped and reported in
    /// `skipped`; a folder with no files, or with no readable frames, is an error naming the folder.
    /// Both splits get at least one file when there are two or more.
    public func load(folder: String, role: String) throws -> MediaSplit {
        let (files, unreadable) = try MediaFolderLoader.listFilesAndUnreadable(folder)
        guard !files.isEmpty else {
            let reason =
                unreadable.isEmpty
                ? "\(role) folder contains no files"
                : "\(role) folder has no readable files: \(unreadable.count) entries could not be read, e.g. \(unreadable[0])"
            throw DetectorError.trainingData(path: folder, reason: reason)
        }
        var sources: [MediaSource] = [], skipped: [String] = unreadable
        let root = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
        for rel in files {
            let path = root + "/" + rel
            do {
                let frames = try loadFrames(path)
                if frames.isEmpty {
                    skipped.append("\(path): no frames of at least \(minimumSide)×\(minimumSide) pixels")
                } else {
                    sources.append(MediaSource(relativePath: rel, path: path, frames: frames))
                }
            } catch {
                skipped.append("\(error)".contains(path) ? "\(error)" : "\(path): \(error)")
            }
        }
        guard !sources.isEmpty else {
            let first = skipped.first.map { " (e.g. \($0))" } ?? ""
            throw DetectorError.trainingData(
                path: folder, reason: "\(role) folder has no readable media frames among \(files.count) files\(first)")
        }
        var training: [MediaSource] = [], validation: [MediaSource] = []
        for s in sources { if isValidation(s.relativePath) { validation.append(s) } else { training.append(s) } }
        if sources.count >= 2 {
            let byHash = sources.sorted {
                MediaFolderLoader.stableHash($0.relativePath) < MediaFolderLoader.stableHash($1.relativePath)
            }
            if validation.isEmpty, validationFraction > 0 {
                validation = [byHash[0]]; training.removeAll { $0.relativePath == byHash[0].relativePath }
            }
            if training.isEmpty {
                let last = byHash[byHash.count - 1]
                training = [last]; validation.removeAll { $0.relativePath == last.relativePath }
            }
        } else if validation.isEmpty || training.isEmpty {
            training = sources; validation = sources
            skipped.append("\(folder): only one usable \(role) file; validation shares it with training")
        }
        return MediaSplit(training: training, validation: validation, skipped: skipped)
    }

    /// Up to `framesPerFile` frames of one file, evenly sampled, at native size; with `within`, of
    /// that stretch of a video only (seconds, clamped to the duration).
    public func loadFrames(_ path: String, within: Range<Double>? = nil) throws -> [StoredFrame] {
        let info = try MediaInfo.probe(path: path)
        let sampling: FrameSampling
        if info.isStillImage {
            sampling = .everyFrame
        } else if let d = info.durationSeconds, d > 0 {
            let first = max(0, within?.lowerBound ?? 0), length = min(d, within?.upperBound ?? d) - first
            guard length > 0 else { return [] }
            sampling = .timestamps((0..<framesPerFile).map { first + length * (Double($0) + 0.5) / Double(framesPerFile) })
        } else {
            sampling = .everyNth(max(1, (info.estimatedFrameCount ?? framesPerFile) / framesPerFile))
        }
        let decoder = try VideoDecoder(
            path: path, sampling: sampling, maxFrames: framesPerFile, outputSize: .native, threads: threads)
        var image = RGBImage(), frames: [StoredFrame] = []
        while let _ = try decoder.nextFrame(into: &image) {
            if image.width >= minimumSide && image.height >= minimumSide { frames.append(StoredFrame(image)) }
        }
        return frames
    }
}
