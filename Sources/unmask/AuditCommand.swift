// `unmask audit`: every video and image under some paths into one output folder — a report per file,
// a summary (index.html, summary.csv, summary.json), resumable after a crash or Ctrl-C, shardable
// across machines. The work is `BatchAudit`'s; this file parses, prints progress and picks exit codes.
import ArgumentParser
import Audit
import Foundation

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit every video and image under some files and folders: one report per file and one summary.",
        discussion: """
            Folders are searched recursively; media is recognised by its content, not its extension. OUTDIR gets \
            index.html (the summary to open), summary.csv, summary.json, manifest.jsonl and reports/ with a \
            JSON (and HTML) report per file. Identical files are scanned once. Run the same command again to \
            resume: files the manifest holds are skipped (--force redoes them). --shard INDEX/COUNT, or \
            JOB_COMPLETION_INDEX / SLURM_ARRAY_TASK_ID with --shard-count or SLURM_ARRAY_TASK_COUNT, audits one \
            shard; `unmask merge` joins the shards' folders.
            """ + "\n\n"
                + ExitStatus.help([
                    .success, .failure, .verdictMatched, .usage, .badMedia, .badModel, .cannotWrite, .locked, .interrupted,
                ])
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var modelOption: ModelOption
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var scanning: ScanningOptions

    @Option(name: .customLong("out"), help: ArgumentHelp("Output folder (created; never audited itself).", valueName: "OUTDIR"))
    var output: String

    @Option(help: ArgumentHelp("Audit only files whose relative path or name matches this glob (repeatable).", valueName: "glob"))
    var include: [String] = []

    @Option(
        help: ArgumentHelp(
            "Leave out files and folders whose relative path or name matches this glob (repeatable).", valueName: "glob"))
    var exclude: [String] = []

    @Flag(help: "Include hidden files and folders (names starting with a dot).")
    var hidden = false

    @Flag(help: "Follow symbolic links inside folders (loops are detected and listed).")
    var followSymlinks = false

    @Flag(help: "Write only the JSON report per file, no HTML report.")
    var noHTML = false

    @Flag(help: "Redo every file, even those the manifest says are done.")
    var force = false

    @Option(
        help: ArgumentHelp(
            "Audit only shard INDEX of COUNT (0-based), chosen by a stable hash of each relative path.", valueName: "INDEX/COUNT")
    )
    var shard: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Shard count, the index coming from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID.", valueName: "COUNT"))
    var shardCount: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Give up on a file after this many seconds (it becomes an error row).", valueName: "seconds"))
    var fileTimeout: Double?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Scoring threads (default: the core count); the next file decodes beside them, BLAS runs single-threaded in each.",
            valueName: "N"))
    var jobs: Int?

    @Option(
        help: ArgumentHelp(
            "Exit with code 10 when any file is fake (fake), fake or uncertain (uncertain), or failed (error).",
            valueName: "condition"))
    var failOn: FailOn?

    @Flag(name: .shortAndLong, help: "No progress and no summary; errors only.")
    var quiet = false

    @Argument(help: "Files and folders to audit.")
    var paths: [String]

    enum FailOn: String, ExpressibleByArgument, CaseIterable { case fake, uncertain, error }

    func validate() throws {
        if paths.isEmpty { throw ValidationError("Give at least one file or folder to audit.") }
        if let fileTimeout, !(fileTimeout > 0 && fileTimeout.isFinite) {
            throw ValidationError("--file-timeout must be a positive number of seconds (got \(fileTimeout)).")
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be 1 or more (got \(jobs)).") }
        if let shardCount, shardCount < 1 { throw ValidationError("--shard-count must be 1 or more (got \(shardCount)).") }
        if shard != nil, shardCount != nil { throw ValidationError("Give --shard INDEX/COUNT or --shard-count, not both.") }
    }

    func run() throws {
        global.apply()
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            Terminal.writeError("unmask: \(path): no such file or folder")
            throw ExitCode(.badMedia)
        }
        let shardAssignment: ShardAssignment?
        do {
            shardAssignment = try ShardAssignment.resolve(
                explicit: shard, count: shardCount, environment: ProcessInfo.processInfo.environment)
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.usage)
        }
        let (detector, modelPath) = try ModelLocator.load(
            explicit: modelOption.model, maximumFileSize: modelOption.maximumFileSize)
        let scorer = DetectorScoring(model: detector, modelPath: modelPath)
        scorer.scorer.threads = jobs ?? ProcessInfo.processInfo.activeProcessorCount

        var configuration = AuditConfiguration(inputs: paths, outputFolder: output)
        configuration.scanOptions = try sampling.scanOptions(scanning: scanning)
        configuration.rules.include = include
        configuration.rules.exclude = exclude
        configuration.rules.includeHidden = hidden
        configuration.rules.followSymlinks = followSymlinks
        configuration.writeHTML = !noHTML
        configuration.force = force
        configuration.shard = shardAssignment
        configuration.fileTimeout = fileTimeout

        let interrupt = InterruptFlag.install()
        let progress = AuditProgress(quiet: quiet, terminal: Terminal.standardErrorIsTerminal)
        let outcome: AuditOutcome
        do {
            outcome = try BatchAudit(configuration: configuration, scorer: scorer).run(
                events: { progress.handle($0) }, isCancelled: { interrupt.isSet })
        } catch let error as AuditManifestError {
            progress.finish()
            Terminal.writeError("unmask: \(error)")
            if case .locked = error { throw ExitCode(.locked) }
            if case .cannotWrite = error { throw ExitCode(.cannotWrite) }
            throw ExitCode(.failure)
        } catch let error as AuditError {
            progress.finish()
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.cannotWrite)
        } catch let error as ReportWriteError {
            progress.finish()
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.cannotWrite)
        } catch {
            progress.finish()
            throw Terminal.report(error)
        }
        progress.finish()
        if !quiet {
            StandardOutput.print(AuditSummaryText.render(outcome.summary, shard: shardAssignment))
            StandardOutput.print("Summary: \(outcome.indexPath)")
        }
        if outcome.interrupted {
            Terminal.writeError(
                "unmask: interrupted; finished files are kept in \(output). Run the same command again to resume.")
            throw ExitCode(.interrupted)
        }
        if let failOn, AuditSummaryText.matches(outcome.summary, failOn: failOn.rawValue) {
            throw ExitCode(.verdictMatched)
        }
    }
}

/// The summary's counts as a few lines for the terminal, and the `--fail-on` test.
enum AuditSummaryText {
    static func render(_ summary: AuditSummary, shard: ShardAssignment?) -> String {
        let count = { (key: String) in summary.counts[key] ?? 0 }
        var lines: [String] = []
        if let shard { lines.append("Shard \(shard.index) of \(shard.count) (0-based)") }
        lines.append(
            "\(count("files")) files: \(count("scanned")) scanned, \(count("duplicate")) duplicates, "
                + "\(count("error")) errors, \(count("not_media")) not media, \(count("skipped")) skipped"
                + (count("pending") > 0 ? ", \(count("pending")) not scanned yet" : ""))
        lines.append("Verdicts: \(count("fake")) fake, \(count("uncertain")) uncertain, \(count("real")) real")
        for row in summary.files where row.status == .error {
            lines.append("  error: \(Terminal.printable(row.path)): \(Terminal.printable(row.reason ?? ""))")
        }
        return lines.joined(separator: "\n")
    }

    static func matches(_ summary: AuditSummary, failOn: String) -> Bool {
        let count = { (key: String) in summary.counts[key] ?? 0 }
        switch failOn {
        case "fake": return count("fake") > 0
        case "uncertain": return count("fake") + count("uncertain") > 0
        default: return count("error") > 0
        }
    }
}

/// Audit progress on standard error: one line redrawn in place on a terminal (files done/total,
/// current file, frames/s, ETA), one plain line per finished file otherwise.
final class AuditProgress {
    let quiet: Bool
    let terminal: Bool
    private var started = DispatchTime.now().uptimeNanoseconds
    private var framesDone = 0
    private var framesInFile = 0
    private var current = ""
    private var number = 0
    private var total = 0
    private var lastDrawn: UInt64 = 0
    private var drewSomething = false

    init(quiet: Bool, terminal: Bool) {
        self.quiet = quiet
        self.terminal = terminal
    }

    func handle(_ event: AuditEvent) {
        guard !quiet else { return }
        switch event {
        case let .planned(files, media, toScan, alreadyDone):
            Terminal.writeError(
                "unmask: \(files) files, \(media) media; \(toScan) to scan, \(alreadyDone) already done (manifest)")
            started = DispatchTime.now().uptimeNanoseconds
        case let .fileStarted(number, total, path):
            self.number = number
            self.total = total
            current = path
            framesInFile = 0
            draw(force: true)
        case .fileProgress(let progress):
            framesInFile = progress.framesAnalysed
            draw(force: false)
        case let .fileFinished(number, total, record):
            framesDone += record.framesAnalysed ?? 0
            framesInFile = 0
            if !terminal {
                let result =
                    record.status == .scanned
                    ? "\(record.verdict?.rawValue ?? "?") (P(fake) \(String(format: "%.3f", record.fakeProbability ?? 0)))"
                    : "error: \(record.error ?? "")"
                Terminal.writeError("unmask: [\(number)/\(total)] \(record.path): \(result)")
            }
        }
    }

    private func draw(force: Bool) {
        guard terminal else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now - lastDrawn > 100_000_000 else { return }
        lastDrawn = now
        let elapsed = Double(now - started) / 1e9
        let rate = Double(framesDone + framesInFile) / max(elapsed, 1e-9)
        let finished = max(0, number - 1)
        let eta = finished > 0 ? elapsed / Double(finished) * Double(total - finished) : Double.nan
        let name = Terminal.printable(current)
        let shown = name.count > 40 ? "…" + name.suffix(39) : name
        let line = String(
            format: "%d/%d files done  now: %@  %.1f frames/s  ETA %@", finished, total, shown, rate,
            eta.isFinite ? String(format: "%.0f s", eta) : "-")
        Terminal.writeRaw("\r\u{1B}[K" + line)
        drewSomething = true
    }

    func finish() {
        if drewSomething { Terminal.writeRaw("\r\u{1B}[K") }
        drewSomething = false
    }
}
