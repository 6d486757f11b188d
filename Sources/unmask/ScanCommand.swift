// `unmask scan`: one video or image in, a per-frame authenticity report out (JSON, CSV, HTML,
// terminal text), with a progress bar on a terminal and exit codes a pipeline can act on.
import ArgumentParser
import Audit
import Detector
import Foundation
import MediaIO

struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan a video or image and report, frame by frame, how likely it is to be fake.",
        discussion: """
            By default 1 frame per second plus every keyframe is analysed, each over its whole area at \
            native resolution, and a short summary is printed. --output writes reports (the format \
            follows the extension: .json, .csv, .html, .txt); --format json with no --output writes the \
            JSON report, and nothing else, to standard output.
            Exit codes: 0 done; 10 the verdict met --fail-on; 64 usage error; 65 unreadable media; \
            66 unusable model file; 73 a report could not be written; 130 interrupted.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Detector model file (default: Models/unmask-v1.safetensors, or $UNMASK_MODEL).")
    var model: String?

    @Option(help: ArgumentHelp("Frames per second to analyse, by timestamp (keyframes are not added).", valueName: "rate"))
    var fps: Double?

    @Option(help: "Analyse every Nth decoded frame.")
    var every: Int?

    @Flag(help: "Analyse every frame.")
    var allFrames = false

    @Flag(help: "Analyse keyframes only (fast).")
    var keyframes = false

    @Option(help: "Stop after this many analysed frames.")
    var maxFrames: Int?

    @Option(help: ArgumentHelp("Start at this time (seconds).", valueName: "seconds"))
    var start: Double?

    @Option(help: ArgumentHelp("End at this time (seconds).", valueName: "seconds"))
    var end: Double?

    @Option(
        help: ArgumentHelp("Fraction of each frame's area to analyse, 0 < F ≤ 1 (faster; stated in the report).", valueName: "F"))
    var coverage: Double = 1

    @Option(
        name: .customLong("format"),
        help: "Report format(s): json, csv, html, text. Paired in order with --output when both are given.")
    var formats: [ReportFormatArgument] = []

    @Option(name: .customLong("output"), help: "Report file(s) to write (atomically).")
    var outputs: [String] = []

    @Option(
        help: ArgumentHelp(
            "Exit with code 10 when the verdict is fake (fake) or fake or uncertain (uncertain).", valueName: "verdict"))
    var failOn: FailOn?

    @Flag(name: .shortAndLong, help: "No progress bar and no summary.")
    var quiet = false

    @Argument(help: "A video or image file.")
    var file: String

    enum FailOn: String, ExpressibleByArgument, CaseIterable { case fake, uncertain }

    struct ReportFormatArgument: ExpressibleByArgument {
        var format: ReportFormat
        init?(argument: String) {
            guard let format = ReportFormat(rawValue: argument.lowercased()) ?? (argument.lowercased() == "txt" ? .text : nil)
            else { return nil }
            self.format = format
        }
    }

    func validate() throws {
        let chosen = [fps != nil, every != nil, allFrames, keyframes].filter { $0 }.count
        if chosen > 1 { throw ValidationError("Choose one of --fps, --every, --all-frames and --keyframes.") }
        if let fps, !(fps > 0 && fps.isFinite) { throw ValidationError("--fps must be a positive number (got \(fps)).") }
        if let every, every < 1 { throw ValidationError("--every must be 1 or more (got \(every)).") }
        if let maxFrames, maxFrames < 1 { throw ValidationError("--max-frames must be 1 or more (got \(maxFrames)).") }
        if let start, !(start >= 0) { throw ValidationError("--start must be 0 or more (got \(start)).") }
        if let end, !(end > (start ?? 0)) { throw ValidationError("--end must come after --start (got \(end)).") }
        if !(coverage > 0 && coverage <= 1) { throw ValidationError("--coverage must be in (0, 1] (got \(coverage)).") }
        if !outputs.isEmpty, !formats.isEmpty, formats.count != outputs.count {
            throw ValidationError("Give one --format per --output, or none (the extension decides).")
        }
        if outputs.isEmpty, formats.count > 1 {
            throw ValidationError("Only one --format can go to standard output; use --output for the others.")
        }
        if formats.isEmpty {
            for output in outputs where ReportFormat(pathExtension: (output as NSString).pathExtension) == nil {
                throw ValidationError("Cannot tell the report format of '\(output)' from its extension; add --format.")
            }
        }
    }

    /// (format, path or nil for standard output) for every report to produce.
    func destinations() -> [(ReportFormat, String?)] {
        if outputs.isEmpty { return [(formats.first?.format ?? .text, nil)] }
        return outputs.enumerated().map { index, path in
            (formats.isEmpty ? ReportFormat(pathExtension: (path as NSString).pathExtension)! : formats[index].format, path)
        }
    }

    func scanOptions() -> ScanOptions {
        var options = ScanOptions()
        if let fps { options.sampling = .rate(fps) }
        if let every { options.sampling = .everyNth(every) }
        if allFrames { options.sampling = .everyFrame }
        if keyframes { options.sampling = .keyframesOnly }
        options.maxFrames = maxFrames
        options.startTime = start
        options.endTime = end
        options.coverage = coverage
        return options
    }

    func run() throws {
        global.apply()
        let (detector, modelPath) = try ModelLocator.load(explicit: model)
        let scorer = DetectorScoring(model: detector, modelPath: modelPath)
        var options = scanOptions()
        options.policy.threshold = detector.threshold

        let interrupt = InterruptFlag.install()
        let progressBar = (!quiet && Terminal.standardErrorIsTerminal) ? ProgressBar(label: file) : nil
        let report: ScanReport
        do {
            report = try ScanPipeline(scorer: scorer, options: options).scan(
                path: file, progress: { progressBar?.update($0) }, isCancelled: { interrupt.isSet })
            progressBar?.finish()
        } catch let error as ScanError {
            progressBar?.finish()
            Terminal.writeError("unmask: \(error)")
            if case .cancelled = error { throw ExitCode(130) }
            throw Terminal.Exit.badMedia
        } catch {
            progressBar?.finish()
            throw Terminal.report(error)
        }

        for (format, path) in destinations() {
            do {
                if let path {
                    try ReportWriter.write(report, format: format, to: path)
                    if !quiet { Terminal.writeError("unmask: wrote \(format.rawValue) report to \(path)") }
                } else if format == .text {
                    StandardOutput.print(ReportWriter.text(report, color: isatty(1) == 1))
                } else {
                    FileHandle.standardOutput.write(try ReportWriter.data(report, format: format))
                }
            } catch {
                Terminal.writeError("unmask: \(error)")
                throw Terminal.Exit.cannotWrite
            }
        }
        if !quiet, !outputs.isEmpty {
            StandardOutput.print(ReportWriter.text(report, color: isatty(1) == 1))
        }
        switch (failOn, report.verdict) {
        case (.fake?, .fake), (.uncertain?, .fake), (.uncertain?, .uncertain): throw ExitCode(10)
        default: break
        }
    }
}

/// Where the default model lives: --model, then $UNMASK_MODEL, then Models/ in the current folder,
/// then Models/ beside the repository the binary was built in (.build/<config>/unmask).
enum ModelLocator {
    static let fileName = "unmask-v1.safetensors"

    static func path(explicit: String?) -> String {
        if let explicit { return explicit }
        if let environment = ProcessInfo.processInfo.environment["UNMASK_MODEL"], !environment.isEmpty { return environment }
        let candidates = [
            "Models/\(fileName)",
            URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
                .deletingLastPathComponent().appendingPathComponent("../../Models/\(fileName)").standardizedFileURL.path,
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }

    /// Loads the model `path(explicit:)` names; an unusable file is one line and exit code 66.
    static func load(explicit: String?, allowCheckpoint: Bool = false) throws -> (DetectorModel, String) {
        let modelPath = path(explicit: explicit)
        do {
            return (try DetectorModel.load(path: modelPath, allowCheckpoint: allowCheckpoint), modelPath)
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(66)
        }
    }
}

/// The detector as the scan pipeline's scorer.
final class DetectorScoring: FrameScoring {
    let scorer: FrameScorer
    let model: ModelMetadata

    init(model: DetectorModel, modelPath: String) {
        scorer = FrameScorer(model: model)
        let digest = try? FileDigest.sha256Hex(path: modelPath)
        self.model = ModelMetadata(name: (modelPath as NSString).lastPathComponent, sha256: digest, version: model.fileVersion)
    }

    func analyse(_ image: RGBImage, coverage: Double) throws -> FrameAnalysis {
        let result = try scorer.score(image, coverage: coverage)
        let heatmap = Heatmap(
            rows: result.heatmap.rows, columns: result.heatmap.columns,
            values: result.heatmap.values.map { $0.isNaN ? 0 : min(1, max(0, $0)) })
        let region = Region(x: result.region.x, y: result.region.y, w: result.region.width, h: result.region.height)
        return FrameAnalysis(fakeProbability: result.probability, heatmap: heatmap, region: region)
    }
}
