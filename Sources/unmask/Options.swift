// The option groups the commands share, so that each flag has one meaning everywhere: global flags,
// frame sampling, the detector model, training/evaluation media folders, and benchmark runs.
import ArgumentParser
import Audit
import Foundation
import MediaIO
import NeuralNet

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Show FFmpeg's own log messages and extra detail.")
    var verbose = false

    func apply() {
        MediaLog.setVerbose(verbose)
    }
}

/// Which frames of a video to analyse; used by `scan`, `audit`, `frames` and `bench scan`.
struct SamplingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Take this many frames per second, by timestamp.", valueName: "rate"))
    var fps: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Take every Nth decoded frame.", valueName: "N"))
    var every: Int?

    @Flag(help: "Take every frame.")
    var allFrames = false

    @Flag(help: "Take keyframes: alone, keyframes only (fast: the decoder skips the rest); with --fps, every keyframe too.")
    var keyframes = false

    @Option(
        help: ArgumentHelp(
            "Take the first frame at or after each of these times (seconds, comma-separated).", valueName: "t1,t2,…"))
    var at: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this many frames.", valueName: "N"))
    var maxFrames: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Start at this time.", valueName: "seconds"))
    var start: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("End at this time.", valueName: "seconds"))
    var end: Double?

    func validate() throws {
        let chosen = [fps != nil, every != nil, allFrames, keyframes && fps == nil, at != nil].filter { $0 }.count
        if chosen > 1 {
            throw ValidationError(
                "Choose one of --fps (optionally with --keyframes), --every, --all-frames, --keyframes and --at.")
        }
        if let fps, !(fps > 0 && fps.isFinite) { throw ValidationError("--fps must be a positive number (got \(fps)).") }
        if let every, every < 1 { throw ValidationError("--every must be 1 or more (got \(every)).") }
        if let maxFrames, maxFrames < 1 { throw ValidationError("--max-frames must be 1 or more (got \(maxFrames)).") }
        if let start, !(start >= 0 && start.isFinite) { throw ValidationError("--start must be 0 or more (got \(start)).") }
        if let end, !(end > (start ?? 0)) { throw ValidationError("--end must come after --start (got \(end)).") }
        _ = try timestamps()
    }

    private func timestamps() throws -> [Double]? {
        guard let at else { return nil }
        let fields = at.split(separator: ",")
        let values = fields.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 >= 0 && $0.isFinite }
        guard !values.isEmpty, values.count == fields.count else {
            throw ValidationError("--at takes non-negative times in seconds, comma-separated (got '\(at)').")
        }
        return values
    }

    /// The sampling these options describe, or `defaultSampling` when none is chosen.
    func sampling(default defaultSampling: FrameSampling) throws -> FrameSampling {
        if let fps { return keyframes ? .rateWithKeyframes(fps) : .rate(fps) }
        if let every { return .everyNth(every) }
        if allFrames { return .everyFrame }
        if keyframes { return .keyframesOnly }
        if let times = try timestamps() { return .timestamps(times) }
        return defaultSampling
    }

    /// The scan options these choices and `scanning`'s describe (the same for `scan` and `audit`).
    func scanOptions(scanning: ScanningOptions) throws -> ScanOptions {
        var options = ScanOptions()
        options.sampling = try sampling(default: ScanOptions.defaultSampling)
        options.maxFrames = maxFrames
        options.startTime = start
        options.endTime = end
        scanning.apply(to: &options)
        return options
    }
}

/// How much of each frame, and which extra frames, a scan analyses; used by `scan`, `audit` and `bench scan`.
struct ScanningOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Fraction of each frame's area to analyse, 0 < F ≤ 1 (faster; stated in the report).", valueName: "F"))
    var coverage: Double = 1

    @Flag(help: "Analyse only the sampled frames: no extra frames around suspicious ones (confirmation sampling).")
    var noConfirmation = false

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Refuse frames larger than this many pixels, before decoding them (default: a quarter of this machine's "
                + "memory at \(ScanOptions.bytesPerFramePixel) bytes a pixel, here \(ScanOptions.memoryBasedMaxPixels())).",
            valueName: "N"))
    var maxFramePixels: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Analyse at most this many frames per file, then stop with a warning in the report.", valueName: "N"))
    var maxAnalysedFrames = ScanOptions.defaultMaxAnalysedFrames

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Decode at most this many frames per file, sampled or not, then stop with a warning.", valueName: "N"))
    var maxDecodedFrames = ScanOptions.defaultMaxDecodedFrames

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Decode at most this many seconds of each file (the default is 12 hours), then stop with a warning.",
            valueName: "seconds"))
    var maxDuration = ScanOptions.defaultMaxDurationSeconds

    func validate() throws {
        if !(coverage > 0 && coverage <= 1) { throw ValidationError("--coverage must be in (0, 1] (got \(coverage)).") }
        if let maxFramePixels, !(1...(1 << 28)).contains(maxFramePixels) {
            throw ValidationError("--max-frame-pixels must be 1…\(1 << 28) (got \(maxFramePixels)).")
        }
        if maxAnalysedFrames < 1 { throw ValidationError("--max-analysed-frames must be 1 or more (got \(maxAnalysedFrames)).") }
        if maxDecodedFrames < 1 { throw ValidationError("--max-decoded-frames must be 1 or more (got \(maxDecodedFrames)).") }
        if !(maxDuration > 0 && maxDuration.isFinite) {
            throw ValidationError("--max-duration must be a positive number of seconds (got \(maxDuration)).")
        }
    }

    /// Sets these choices on `options`.
    func apply(to options: inout ScanOptions) {
        options.coverage = coverage
        if noConfirmation { options.confirmation = nil }
        if let maxFramePixels { options.maxPixels = maxFramePixels }
        options.maxAnalysedFrames = maxAnalysedFrames
        options.maxDecodedFrames = maxDecodedFrames
        options.maxDurationSeconds = maxDuration
    }
}

/// The detector model to use; see `ModelLocator` for the default.
struct ModelOption: ParsableArguments {
    /// `--max-model-size`'s default, in bytes.
    static let defaultMaximumBytes = SafeTensorsFile.defaultMaximumFileSize

    @Option(
        help: ArgumentHelp(
            "Detector model file (default: $UNMASK_MODEL, else the installed share/unmask/models/unmask-v2.safetensors, "
                + "else the repository's Models/unmask-v2.safetensors).", valueName: "file"))
    var model: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Refuse a model file larger than this, before reading it (default: \(defaultMaximumBytes >> 20)).", valueName: "MiB"))
    var maxModelSize: Int?

    func validate() throws {
        if let maxModelSize, !(1...(1 << 20)).contains(maxModelSize) {
            throw ValidationError("--max-model-size must be 1…1048576 MiB (got \(maxModelSize)).")
        }
    }

    /// The largest model file to read, in bytes.
    var maximumFileSize: Int { maxModelSize.map { $0 << 20 } ?? Self.defaultMaximumBytes }
}

/// Folders of real and fake media for training and evaluation.
struct MediaFolderOptions: ParsableArguments {
    @Option(help: "Folder of real images and videos (searched recursively).")
    var real: String

    @Option(help: "Folder of fake images and videos (searched recursively).")
    var fake: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Frames sampled from each video (train: 4; evaluate, calibrate: 2).", valueName: "N"))
    var framesPerFile: Int?

    func validate() throws {
        if let framesPerFile, framesPerFile < 1 {
            throw ValidationError("--frames-per-file must be 1 or more (got \(framesPerFile)).")
        }
    }
}

/// How a benchmark repeats and prints its measurements.
struct BenchOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Number of runs; the median is reported.")
    var runs = 3

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs must be 1 or more (got \(runs)).") }
    }
}

/// Fake-maker family or group names given as repeated options, each possibly comma-separated.
enum FamilyNames {
    /// ["a,b", " c"] → ["a", "b", "c"] (blanks dropped).
    static func split(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// A "MIN-MAX" option value: "12-64" for pixel sides, "0.05-0.25" for fractions.
enum RangeArgument {
    /// Parses `text` into MIN...MAX; a missing or negative bound, a third part or MIN > MAX is an error that shows
    /// `example`. Each option checks its own limits on the result.
    static func parse<Bound: LosslessStringConvertible & Comparable>(_ text: String, example: String) throws
        -> ClosedRange<Bound>
    {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map {
            Bound($0.trimmingCharacters(in: .whitespaces))
        }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low <= high else {
            throw ValidationError("expected MIN-MAX with MIN ≤ MAX, e.g. \(example) (got '\(text)').")
        }
        return low...high
    }
}
