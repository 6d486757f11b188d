// Owns the media of a retrain: a folder of real media and a folder of new fakes (with its optional
// `fakes.csv` sidecar), each cut by file into a training part, a calibration part and a guard part
// (held out from everything else), and the minimum counts below which a retrain is refused.
import Foundation
import MediaIO

/// Sources of one kind cut by file into the three parts of a retrain.
public struct RetrainSplit: Sendable {
    public var training: [MediaSource]
    /// Held out: the trainer's validation, then frame calibration.
    public var calibration: [MediaSource]
    /// Held out from everything: the regression guard's comparison.
    public var guardSet: [MediaSource]

    /// Cuts `sources` by a stable hash of their relative paths: of every four files in hash order,
    /// one goes to calibration, one to the guard and two to training.
    public init(_ sources: [MediaSource]) {
        let ordered = sources.sorted {
            (MediaFolderLoader.stableHash($0.relativePath), $0.relativePath)
                < (MediaFolderLoader.stableHash($1.relativePath), $1.relativePath)
        }
        training = []; calibration = []; guardSet = []
        for (index, source) in ordered.enumerated() {
            switch index % 4 {
            case 0: calibration.append(source)
            case 1: guardSet.append(source)
            default: training.append(source)
            }
        }
    }

    public var all: [MediaSource] { training + calibration + guardSet }
}

/// The least data a retrain accepts: each held-out part (calibration, guard) needs this many files
/// and frames of each kind, so that a threshold and a comparison rest on more than a handful.
public struct RetrainMinimums: Equatable, Sendable {
    public var filesPerPart: Int
    public var framesPerPart: Int
    public init(filesPerPart: Int = 3, framesPerPart: Int = 8) {
        self.filesPerPart = filesPerPart; self.framesPerPart = framesPerPart
    }

    /// Files of one kind needed in all (two training files for every held-out one).
    public var files: Int { 4 * filesPerPart }

    /// In words, for help texts and refusals.
    public var sentence: String {
        "at least \(files) real and \(files) fake files, so that the calibration part and the guard part each get "
            + "\(filesPerPart) files and \(framesPerPart) frames of each kind"
    }
}

/// Too little data to calibrate or to judge a retrain.
public struct RetrainDataError: Error, Equatable, CustomStringConvertible {
    public var what: String
    public var minimums: RetrainMinimums
    public var description: String { "too little data: \(what); a retrain needs \(minimums.sentence)" }
}

/// The real media and the new fakes of a retrain.
public struct RetrainData: Sendable {
    public var real: RetrainSplit
    public var fake: RetrainSplit
    /// Unusable files and other notes, one line each.
    public var skipped: [String]
    /// The sidecar read, nil when the fake folder has none (whole files are fake).
    public var sidecar: FakeAreaSidecar?
    /// Real media only the guard sees, never trained or calibrated on: footage like what the user
    /// scans, which the retrained model must not call fake more often than the base does.
    public var guardReal: [MediaSource] = []
    /// Relative paths of every file used, sorted (the lineage hashes these lists).
    public var realFiles: [String] { real.all.map(\.relativePath).sorted() }
    public var fakeFiles: [String] { fake.all.map(\.relativePath).sorted() }

    public init(real: RetrainSplit, fake: RetrainSplit, skipped: [String] = [], sidecar: FakeAreaSidecar? = nil) {
        self.real = real; self.fake = fake; self.skipped = skipped; self.sidecar = sidecar
    }

    /// Loads both folders. Fake files are read whole, or, with a `fakes.csv` in the fake folder, the
    /// frames of each listed file's time stretch with its box or mask. Errors name the folder, the
    /// file or the sidecar line.
    public static func load(realFolder: String, fakeFolder: String, loader: MediaFolderLoader) throws -> RetrainData {
        let realSources = try loadWhole(folder: realFolder, role: "real", loader: loader)
        let sidecarPath = fakeFolder + "/" + FakeAreaSidecar.fileName
        let sidecar = FileManager.default.fileExists(atPath: sidecarPath) ? try FakeAreaSidecar(path: sidecarPath) : nil
        let files = try MediaFolderLoader.listFiles(fakeFolder).filter { $0 != FakeAreaSidecar.fileName }
        let maskImages = Set(sidecar?.rows.values.compactMap(\.maskImage) ?? [])
        let mediaFiles = files.filter { !maskImages.contains($0) }
        guard !mediaFiles.isEmpty else {
            throw DetectorError.trainingData(path: fakeFolder, reason: "fake folder contains no media files")
        }
        try sidecar?.checkFilesExist(in: Set(mediaFiles))
        let root = URL(fileURLWithPath: fakeFolder).resolvingSymlinksInPath().path
        var fakes: [MediaSource] = [], skipped = realSources.skipped
        for relativePath in mediaFiles {
            let path = root + "/" + relativePath
            let row = sidecar?.rows[relativePath]
            let frames: [StoredFrame]
            do {
                let range = row.map { ($0.start ?? 0)..<($0.end ?? .infinity) }
                frames = try loader.loadFrames(path, within: range)
            } catch {
                skipped.append("\(error)".contains(path) ? "\(error)" : "\(path): \(error)")
                continue
            }
            guard !frames.isEmpty else {
                skipped.append(
                    "\(path): no frames of at least \(loader.minimumSide)×\(loader.minimumSide) pixels in the fake stretch")
                continue
            }
            var withAreas = frames
            if let row, let sidecar {
                for i in withAreas.indices {
                    withAreas[i].fakeArea = try FakeAreaSidecar.area(
                        of: row, sidecarPath: sidecar.path, folder: root, width: frames[i].width, height: frames[i].height)
                }
            }
            fakes.append(MediaSource(relativePath: relativePath, path: path, frames: withAreas))
        }
        guard !fakes.isEmpty else {
            let first = skipped.last.map { " (e.g. \($0))" } ?? ""
            throw DetectorError.trainingData(path: fakeFolder, reason: "fake folder has no readable media frames\(first)")
        }
        return RetrainData(
            real: RetrainSplit(realSources.sources),
            fake: RetrainSplit(fakes), skipped: skipped,
            sidecar: sidecar)
    }

    /// Every usable file of a real folder, none set aside for validation (a retrain cuts its own
    /// parts), and the loader's notes on the files it skipped.
    private static func loadWhole(folder: String, role: String, loader: MediaFolderLoader) throws -> (
        sources: [MediaSource], skipped: [String]
    ) {
        var whole = loader
        whole.validationFraction = 0
        let loaded = try whole.load(folder: folder, role: role)
        return (
            loaded.training + loaded.validation.filter { v in !loaded.training.contains { $0.relativePath == v.relativePath } },
            loaded.skipped.filter { !$0.contains("validation shares it") }
        )
    }

    /// Loads `folder` as guard-only real media. Throws when it holds no usable media (the loader's
    /// errors), or when one of its files is also a file of the real folder (resolved paths): the
    /// guard would then judge frames the model trained or was calibrated on.
    public mutating func loadGuardReal(folder: String, loader: MediaFolderLoader) throws {
        let (sources, notes) = try Self.loadWhole(folder: folder, role: "guard-only real", loader: loader)
        func resolved(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path }
        let realPaths = Set(real.all.map { resolved($0.path) })
        if let shared = sources.first(where: { realPaths.contains(resolved($0.path)) }) {
            throw DetectorError.trainingData(
                path: shared.path,
                reason: "is in both the real folder and the guard-only folder; guard-only files must be new to the retrain")
        }
        skipped += notes
        guardReal = sources
    }

    /// Throws `RetrainDataError` unless both held-out parts have the minimum files and frames of
    /// each kind.
    public func check(_ minimums: RetrainMinimums) throws {
        for (kind, split) in [("real", real), ("fake", fake)] {
            let total = split.all.count
            guard total >= minimums.files else {
                throw RetrainDataError(what: "\(total) usable \(kind) files", minimums: minimums)
            }
            for (part, sources) in [("calibration", split.calibration), ("guard", split.guardSet)] {
                let frames = sources.reduce(0) { $0 + $1.frames.count }
                guard sources.count >= minimums.filesPerPart, frames >= minimums.framesPerPart else {
                    throw RetrainDataError(
                        what: "the \(part) part has \(sources.count) \(kind) files with \(frames) frames", minimums: minimums)
                }
            }
        }
    }

    /// What the trainer sees: the training parts, with the calibration parts as its validation files.
    public var trainingData: TrainingData {
        TrainingData(
            real: MediaSplit(training: real.training, validation: real.calibration),
            fake: MediaSplit(training: fake.training, validation: fake.calibration))
    }

    /// Whether any fake frame has a known area (a sidecar box or mask).
    public var hasFakeAreas: Bool { fake.all.contains { $0.frames.contains { $0.fakeArea != nil } } }
}
