// `unmask merge`: the output folders of a sharded audit joined into one, with one summary equal to
// an unsharded audit's. The work is `AuditMerge`'s; this file parses, prints and picks exit codes.
import ArgumentParser
import Audit
import Foundation

/// `unmask merge`: the output folders of a sharded audit joined into one summary.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the output folders of a sharded `unmask audit` into one summary.",
        discussion: """
            Every folder must come from an audit with the same model and settings. OUTDIR gets the same files a \
            single audit writes (index.html, summary.csv, summary.json, manifest.jsonl, reports/), and its summary \
            equals the one an unsharded audit of the same files gives.
            """ + "\n\n" + ExitStatus.help([.success, .failure, .usage, .cannotWrite, .locked])
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("out"), help: ArgumentHelp("Output folder for the merged audit (created).", valueName: "OUTDIR"))
    var output: String

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @Argument(help: "Output folders of `unmask audit --shard …` runs.")
    var folders: [String]

    func validate() throws {
        if folders.isEmpty { throw ValidationError("Give the audit output folders to merge.") }
    }

    func run() throws {
        global.apply()
        let summary: AuditSummary
        do {
            summary = try AuditMerge.merge(folders, into: output)
        } catch let error as AuditManifestError {
            Terminal.writeError("unmask: \(error)")
            if case .locked = error { throw ExitCode(.locked) }
            if case .cannotWrite = error { throw ExitCode(.cannotWrite) }
            throw ExitCode(.failure)
        } catch let error as AuditError {
            Terminal.writeError("unmask: \(error)")
            if case .outputFolder = error { throw ExitCode(.cannotWrite) }
            throw ExitCode(.failure)
        } catch let error as ReportWriteError {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.cannotWrite)
        }
        if !quiet {
            StandardOutput.print(AuditSummaryText.render(summary, shard: nil))
            StandardOutput.print("Summary: \(output)/\(AuditOutputNames.index)")
        }
    }
}
