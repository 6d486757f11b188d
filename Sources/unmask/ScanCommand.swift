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
            """ + "\n\n"
                + ExitStatus.help([.success, .failure, .verdictMatched, .usage, .badMedia, .badModel, .cannotWrite, .interrupted])
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var modelOption: ModelOption
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var scanning: ScanningOptions

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
            // Without --format every output's extension names a format (`validate` refuses others).
            (formats.isEmpty ? ReportFormat(pathExtension: (path as NSString).pathExtension)! : formats[index].format, path)
        }
    }

    func scanOptions() throws -> ScanOptions {
        try sampling.scanOptions(scanning: scanning)
    }

    func run() throws {
        global.apply()
        let (detector, modelPath) = try ModelLocator.load(
            explicit: modelOption.model, maximumFileSize: modelOption.maximumFileSize)
        let scorer = DetectorScoring(model: detector, modelPath: modelPath)
        let options = try scanOptions()
        // Every report destination is checked before the scan, so a bad one costs no scanning time.
        for path in outputs {
            do {
                try ReportWriter.checkedDestination(path, inputs: [file, modelPath])
            } catch {
                Terminal.writeError("unmask: \(error)")
                throw ExitCode(.cannotWrite)
            }
        }

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
            if case .cancelled = error { throw ExitCode(.interrupted) }
            throw ExitCode(.badMedia)
        } catch {
            progressBar?.finish()
            throw Terminal.report(error)
        }

        do {
            // Report files all or nothing: none is renamed into place unless every one was written.
            let files = try destinations().compactMap { format, path in
                try path.map { (data: try ReportWriter.data(report, format: format), path: $0) }
            }
            try ReportWriter.write(files)
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.cannotWrite)
        }
        for (format, path) in destinations() {
            if let path {
                if !quiet { Terminal.writeError("unmask: wrote \(format.rawValue) report to \(path)") }
            } else if format == .text {
                StandardOutput.print(ReportWriter.text(report, color: isatty(1) == 1))
            } else {
                do {
                    StandardOutput.write(try ReportWriter.data(report, format: format))
                } catch {
                    Terminal.writeError("unmask: \(error)")
                    throw ExitCode(.cannotWrite)
                }
            }
        }
        if !quiet, !outputs.isEmpty {
            StandardOutput.print(ReportWriter.text(report, color: isatty(1) == 1))
        }
        switch (failOn, report.verdict) {
        case (.fake?, .fake), (.uncertain?, .fake), (.uncertain?, .uncertain): throw ExitCode(.verdictMatched)
        default: break
        }
    }
}
