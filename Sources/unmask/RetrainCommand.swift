// `unmask retrain`: from "I collected fakes of a new generator" to a calibrated, better model or a
// clear refusal: fine-tunes a base model on the new fakes with replay of what it knew, calibrates it,
// compares it with the base on held-out frames, and writes it (with its lineage) only if it passes.
import ArgumentParser
import Audit
import Detector
import Foundation
import MediaIO
import NeuralNet

struct RetrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain",
        abstract: "Teach a model new fakes: fine-tune, calibrate, and keep the result only if it is better.",
        discussion: """
            Fine-tunes --model on the fakes in --fake while replaying what it knew (region fakes of the \
            fake-maker families it was trained on, and real patches from --real); the adversarial \
            generator keeps running. Files are cut into training (half), calibration (a quarter: \
            validation during training, then the frame threshold) and a guard part (a quarter, never \
            trained or calibrated on). A fakes.csv in the fake folder (columns file,x,y,w,h,mask,start,end) \
            says where each file is fake, so only that box, mask and time are trained as fake; without \
            it whole files are fake. The guard compares base and retrained model on the guard part, with \
            95 % bootstrap intervals over files, and refuses (exit 3, the model kept as \
            OUT.rejected.safetensors) when the AUC on the standing set (real frames and the replayed \
            families) falls by more than --margin, when real frames called fake exceed --max-fpr, or when \
            the gain on the new fakes is not significant. The guard can only judge real footage like the \
            files it has: --guard-real adds real media it alone sees, such as clips like those you will \
            scan (their own size and encoding), and refuses a model that calls more than --max-fpr of \
            their frames fake where the base did not; --accept-regression writes it anyway and says \
            so in its lineage. Needs \(RetrainMinimums().sentence). Checkpoint, log and report go to \
            OUT.retrain/; after Ctrl-C, run the same command with --resume.
            """ + "\n\n"
                + ExitStatus.help([.success, .failure, .refused, .usage, .badMedia, .badModel, .cannotWrite, .interrupted]))

    @OptionGroup var global: GlobalOptions

    @Option(help: "The base model to start from (left untouched).")
    var model: String

    @Option(help: "Folder of the new fakes (images, videos or both), optionally with fakes.csv.")
    var fake: String

    @Option(help: "Folder of real media (default: the real folder in the base model's lineage).")
    var real: String?

    @Option(
        help: ArgumentHelp(
            "Folder of real media only the guard sees (never trained or calibrated on): footage the new model must keep calling real.",
            valueName: "dir"))
    var guardReal: String?

    @Option(help: "Where to write the retrained model (a new file in an existing folder).")
    var out: String

    @Option(help: "Stop after this many discriminator steps.")
    var steps: Int = 600

    @Option(help: ArgumentHelp("Stop after this much training time.", valueName: "minutes"))
    var minutes: Double?

    @Option(help: "Stop when validation AUC has not improved for this many validations (0 = never).")
    var patience: Int = 5

    @Option(help: ArgumentHelp("Frames sampled from each video.", valueName: "N"))
    var framesPerFile: Int = 4

    @Option(
        help: ArgumentHelp("Also replay the trained-generator families in this folder (e.g. Models/zoo).", valueName: "dir"))
    var zooGenerators: String?

    @Option(help: "Largest AUC fall on the standing set the guard allows.")
    var margin: Double = 0.02

    @Option(help: "Largest fraction of held-out real frames the retrained model may call fake.")
    var maxFpr: Double = 0.05

    @Flag(help: "Write the model even when the guard objects (recorded in its lineage).")
    var acceptRegression = false

    @Flag(help: "Continue an interrupted retrain from OUT.retrain/checkpoint.safetensors.")
    var resume = false

    @Option(help: ArgumentHelp("Save a checkpoint this often.", valueName: "minutes"))
    var checkpointMinutes: Double = 5

    @Option(help: "Random seed (weights, batches, replay fakes, bootstrap).")
    var seed: UInt64 = 1

    @Flag(name: .shortAndLong, help: "No progress bar and no per-validation lines.")
    var quiet = false

    func validate() throws {
        if steps < 1 { throw ValidationError("--steps must be 1 or more (got \(steps)).") }
        if let minutes, !(minutes > 0 && minutes.isFinite) {
            throw ValidationError("--minutes must be a positive number (got \(minutes)).")
        }
        if framesPerFile < 1 { throw ValidationError("--frames-per-file must be 1 or more (got \(framesPerFile)).") }
        if !(margin >= 0 && margin < 1) { throw ValidationError("--margin must be in [0, 1) (got \(margin)).") }
        if !(maxFpr >= 0 && maxFpr < 1) { throw ValidationError("--max-fpr must be in [0, 1) (got \(maxFpr)).") }
        if !(checkpointMinutes > 0 && checkpointMinutes.isFinite) {
            throw ValidationError("--checkpoint-minutes must be a positive number (got \(checkpointMinutes)).")
        }
        if patience < 0 { throw ValidationError("--patience must be 0 or more (got \(patience)).") }
        if Self.samePath(out, model) {
            throw ValidationError("--out names the base model \(model); write the retrained model to a new file.")
        }
    }

    /// Whether two paths name one file (after resolving symbolic links and relative parts).
    static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).resolvingSymlinksInPath().standardizedFileURL.path
            == URL(fileURLWithPath: b).resolvingSymlinksInPath().standardizedFileURL.path
    }

    /// OUT without its .safetensors extension: the stem of the side folder and the rejected model.
    var outStem: String { out.hasSuffix(".safetensors") ? String(out.dropLast(".safetensors".count)) : out }
    var rejectedPath: String { outStem + ".rejected.safetensors" }
    var sideFolder: String { outStem + ".retrain" }

    func run() throws {
        global.apply()
        try checkOutput()
        let base: DetectorModel
        do { base = try DetectorModel.load(path: model) } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badModel)
        }
        let realFolder = try realFolder(base: base)
        var settings = RetrainSettings()
        settings.seed = seed
        settings.limits.standingAUCMargin = margin
        settings.limits.maximumRealFalsePositiveRate = maxFpr
        var replay = base.training.lineage?.replay ?? ZooTrainingConfig()
        if let zooGenerators { replay.trainedGenerators = zooGenerators }
        settings.replay = replay
        let replayZoo: FakeZoo
        do { replayZoo = try replay.zoo() } catch {
            Terminal.writeError("unmask: replay families: \(error)")
            throw ExitCode(.badModel)
        }

        // Data.
        let loadStart = Date()
        var data: RetrainData
        do {
            let loader = MediaFolderLoader(framesPerFile: framesPerFile)
            data = try RetrainData.load(realFolder: realFolder, fakeFolder: fake, loader: loader)
            if let guardReal { try data.loadGuardReal(folder: guardReal, loader: loader) }
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badMedia)
        }
        for line in data.skipped { Terminal.warn("skipped \(line)") }
        do { try data.check(settings.minimums) } catch {
            Terminal.writeError("unmask: \(error); nothing was trained or written")
            throw ExitCode(.refused)
        }
        let areas = fakeAreasSentence(data)
        let counts =
            "\(data.real.all.count) real files (\(partsText(data.real))) and \(data.fake.all.count) new fake files "
            + "(\(partsText(data.fake)))" + (guardReal == nil ? "" : ", and \(data.guardReal.count) guard-only real files")
        if !quiet {
            Terminal.writeError("unmask: loaded \(counts) in \(String(format: "%.1f", Date().timeIntervalSince(loadStart))) s")
            Terminal.writeError("unmask: \(areas)")
            Terminal.writeError(
                "unmask: replaying \(replayZoo.families.count) fake-maker families: \(replayZoo.names.joined(separator: ", "))")
        }

        // Training.
        do { try FileManager.default.createDirectory(atPath: sideFolder, withIntermediateDirectories: true) } catch {
            throw Terminal.report(OutputError(path: sideFolder, cause: "cannot create the folder"))
        }
        let checkpointPath = sideFolder + "/checkpoint.safetensors"
        let log: TrainingLogWriter
        do { log = try TrainingLogWriter(path: sideFolder + "/log.jsonl", append: resume) } catch let error as TrainingLogError {
            throw Terminal.report(OutputError(path: error.path, cause: error.reason))
        }
        let trainer: Trainer
        do {
            if resume {
                trainer = try Trainer(resumingFrom: checkpointPath, data: data.trainingData)
                guard trainer.config.discriminator == base.architecture else {
                    throw DetectorError.modelFile(
                        path: checkpointPath,
                        reason:
                            "holds a detector of architecture \(trainer.config.discriminator), the base model's is \(base.architecture)"
                    )
                }
            } else {
                trainer = try Trainer(
                    config: Retraining.configuration(architecture: base.architecture, settings: settings),
                    data: data.trainingData)
            }
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badModel)
        }
        let session = TrainingSession(
            trainer: trainer, log: log,
            rules: StopRules(steps: steps, minutes: minutes, patience: patience, checkpointMinutes: checkpointMinutes),
            checkpointPath: checkpointPath)
        let command = CommandLine.arguments.joined(separator: " ")
        try written {
            if !resume { try session.startFromBase(base) }
            try session.logStart(command: command, files: counts)
        }
        let interrupt = InterruptFlag.install()
        let display = TrainingDisplay(quiet: quiet, steps: steps, minutes: minutes, startStep: trainer.step)
        session.observer = { display.show($0) }
        session.isInterrupted = { interrupt.isSet }
        let stop = try written { try session.run() }
        display.finish()
        if session.stopReason == .interrupted {
            Terminal.writeError(
                "unmask: interrupted at step \(trainer.step); checkpoint saved to \(checkpointPath); run the same command "
                    + "with --resume to continue (\(model) is untouched)")
            throw ExitCode(.interrupted)
        }
        // The export re-validates; its numbers are in the log and the table below, not repeated here.
        session.observer = nil
        let export = try written { try session.export { "unmask retrain, \(stop.reason), detector of step \($0)" } }
        let retrained = export.model
        try save(sideFolder + "/generator.safetensors") { try GeneratorFile.save(trainer.generator, to: $0) }

        // Calibration and the guard.
        let fit: Calibrator.Fit
        let report: GuardReport
        do {
            fit = try Retraining.calibrate(
                retrained, data: data, zoo: replayZoo, settings: settings, progress: progress("calibration"))
            clearProgress()
            report = try Retraining.compare(
                base: base, retrained: retrained, data: data, zoo: replayZoo, settings: settings, progress: progress("guard"))
            clearProgress()
        } catch let error as CalibrationError {
            Terminal.writeError("unmask: \(error); nothing was written")
            throw ExitCode(.refused)
        } catch {
            throw Terminal.report(error)
        }
        let decision: ModelLineage.Decision =
            report.passed ? .accepted : (acceptRegression ? .acceptedDespiteRegression : .refused)
        let destination = decision == .refused ? rejectedPath : out

        // Lineage, model, report.
        retrained.training.notes += "; retrained from \((model as NSString).lastPathComponent)"
        retrained.training.lineage = try lineage(
            base: base, data: data, replay: replay, steps: trainer.step, report: report, decision: decision)
        try save(destination) { try retrained.save(to: $0) }
        try written {
            if decision == .refused {
                try session.append(.warning(message: "refused: " + report.failures.joined(separator: "; ")))
            } else {
                try session.logOutcome(export, path: destination)
            }
        }
        let story = RetrainStory(
            baseName: (model as NSString).lastPathComponent, destination: destination, counts: counts, areas: areas,
            replay: replayZoo.names, steps: trainer.step, stopReason: stop.reason, minutes: stop.seconds / 60,
            fit: fit, report: report, decision: decision)
        try save(sideFolder + "/report.html") { path in
            try TrainingReportBuilder.report(
                logPath: log.path, summary: story.summary(command: command), generator: trainer.generator,
                title: "Unmask retrain"
            ).write(to: path)
        }
        StandardOutput.print(story.terminalText + "\nReport: \(sideFolder)/report.html")
        if decision == .refused { throw ExitCode(.refused) }
    }

    /// The output must be a new file in an existing folder.
    private func checkOutput() throws {
        try OutputError.checkNewFile(out)
        if FileManager.default.fileExists(atPath: sideFolder + "/checkpoint.safetensors") && !resume {
            throw Terminal.report(
                OutputError(
                    path: sideFolder,
                    cause: "holds the checkpoint of an earlier retrain; add --resume to continue it, or remove the folder"))
        }
    }

    /// --real, else the real folder the base model's lineage names.
    private func realFolder(base: DetectorModel) throws -> String {
        if let real { return real }
        if let recorded = base.training.lineage?.data.realFolder, FileManager.default.fileExists(atPath: recorded) {
            if !quiet { Terminal.writeError("unmask: real media from the base model's lineage: \(recorded)") }
            return recorded
        }
        Terminal.writeError("unmask: \(model) records no real folder; give --real with real media like the new fakes'")
        throw ExitCode(.usage)
    }

    private func lineage(
        base: DetectorModel, data: RetrainData, replay: ZooTrainingConfig, steps: Int, report: GuardReport,
        decision: ModelLineage.Decision
    ) throws -> ModelLineage {
        let parentSHA: String
        do { parentSHA = try FileDigest.sha256Hex(path: model) } catch { throw Terminal.report(error) }
        func listHash(_ files: [String]) -> String { FileDigest.sha256Hex(data: Data(files.joined(separator: "\n").utf8)) }
        func parts(_ split: RetrainSplit) -> [Int] { [split.training.count, split.calibration.count, split.guardSet.count] }
        let summary = ModelLineage.DataSummary(
            realFolder: URL(fileURLWithPath: real ?? base.training.lineage?.data.realFolder ?? "").standardizedFileURL.path,
            fakeFolder: URL(fileURLWithPath: fake).standardizedFileURL.path, realFiles: data.real.all.count,
            fakeFiles: data.fake.all.count, realFileListSHA256: listHash(data.realFiles),
            fakeFileListSHA256: listHash(data.fakeFiles), realParts: parts(data.real), fakeParts: parts(data.fake),
            fakeAreas: fakeAreasSentence(data),
            guardRealFolder: guardReal.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
            guardRealFiles: guardReal == nil ? nil : data.guardReal.count,
            guardRealFileListSHA256: guardReal == nil ? nil : listHash(data.guardReal.map(\.relativePath).sorted()))
        return ModelLineage(
            parentSHA256: parentSHA, parentName: (model as NSString).lastPathComponent,
            grandparentSHA256: base.training.lineage?.parentSHA256, command: CommandLine.arguments.joined(separator: " "),
            date: Date(), data: summary, replay: replay, steps: steps, guardReport: report, decision: decision)
    }

    private func fakeAreasSentence(_ data: RetrainData) -> String {
        guard let sidecar = data.sidecar else {
            return "no \(FakeAreaSidecar.fileName) in \(fake): whole files are trained as fake"
        }
        let whole = data.fake.all.count - sidecar.rows.count
        return "\(sidecar.rows.count) files in \(sidecar.path) say where they are fake (box, mask or time); "
            + "only there are they trained as fake" + (whole > 0 ? ", the other \(whole) files as a whole" : "")
    }

    private func partsText(_ split: RetrainSplit) -> String {
        "\(split.training.count) training, \(split.calibration.count) calibration, \(split.guardSet.count) guard"
    }

    private func progress(_ label: String) -> ((Int) -> Void)? {
        guard !quiet && Terminal.standardErrorIsTerminal else { return nil }
        return { Terminal.writeRaw("\r\u{1B}[K\(label): scored \($0) frames") }
    }

    private func clearProgress() { if !quiet && Terminal.standardErrorIsTerminal { Terminal.writeRaw("\r\u{1B}[K") } }

    private func save(_ path: String, _ body: (String) throws -> Void) throws {
        do { try body(path) } catch { throw Terminal.report(OutputError(path: path, cause: "\(error)")) }
    }

    /// Runs a session step that writes files; a failed write is one line naming the file, exit 73.
    private func written<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as TrainingSessionError {
            throw Terminal.report(OutputError(path: error.path, cause: error.reason))
        }
    }
}

/// What a retrain did, in plain words: the terminal's account and the report's summary.
struct RetrainStory {
    var baseName: String, destination: String, counts: String, areas: String, replay: [String]
    var steps: Int, stopReason: String, minutes: Double
    var fit: Calibrator.Fit
    var report: GuardReport
    var decision: ModelLineage.Decision

    var headline: String {
        switch decision {
        case .accepted:
            return
                "Accepted: the retrained model catches the new fakes better without losing the old ones; written to \(destination)."
        case .acceptedDespiteRegression:
            return
                "Accepted despite the guard (--accept-regression): written to \(destination); its lineage records the objections."
        case .refused:
            return "Refused: the retrained model is not written as the model; kept for inspection as \(destination)."
        }
    }

    var why: [String] {
        report.failures.isEmpty
            ? [
                String(
                    format: "the gain on the new fakes is significant (AUC %+.3f, 95 %% interval %+.3f to %+.3f)",
                    report.newFakesAUCChange.value, report.newFakesAUCChange.low, report.newFakesAUCChange.high),
                String(
                    format: "the standing AUC changed by %+.3f (allowed fall %.3f)", report.standingAUCChange.value,
                    report.limits.standingAUCMargin),
                String(
                    format: "%.1f %% of held-out real frames are called fake (limit %.1f %%)",
                    100 * report.after.realFalsePositiveRate.value, 100 * report.limits.maximumRealFalsePositiveRate),
            ] : report.failures
    }

    var tableText: String {
        // Wide enough for the longest family name: padding(toLength:) cuts what does not fit.
        let width = max(44, (report.table.map(\.measure.count).max() ?? 0) + 2)
        let header =
            "measure".padding(toLength: width, withPad: " ", startingAt: 0)
            + "base".padding(toLength: 24, withPad: " ", startingAt: 0)
            + "retrained".padding(toLength: 24, withPad: " ", startingAt: 0)
            + "change"
        let rows = report.table.map {
            $0.measure.padding(toLength: width, withPad: " ", startingAt: 0)
                + $0.before.padding(toLength: 24, withPad: " ", startingAt: 0)
                + $0.after.padding(toLength: 24, withPad: " ", startingAt: 0) + $0.change
        }
        return ([header] + rows).joined(separator: "\n")
    }

    var terminalText: String {
        let guardOnly: String =
            report.guardOnlyFiles.map { ", \($0) of them guard-only with \(report.guardOnlyFrames ?? 0) frames," } ?? ""
        let compared: String =
            "Compared with the base on the guard part (\(report.realFiles) real files with \(report.realFrames) frames"
            + guardOnly + " and \(report.replayFrames) replay fakes, \(report.newFakeFiles) new fake files with "
            + "\(report.newFakeFrames) frames; [low, high] = 95 % bootstrap interval over files):"
        return [
            "Retrained \(baseName) for \(steps) steps (\(stopReason), \(String(format: "%.1f", minutes)) min) on \(counts).",
            areas.prefix(1).uppercased() + areas.dropFirst() + ".",
            String(
                format:
                    "Calibrated on held-out frames: threshold %.3f (at most %.0f %% of real frames above it), Platt a %.3f, b %.3f.",
                fit.threshold, 100 * 0.02, fit.calibration.a, fit.calibration.b),
            compared,
            tableText,
            headline,
        ].joined(separator: "\n") + "\n" + why.map { "  - " + $0 }.joined(separator: "\n")
    }

    func summary(command: String) -> [(key: String, value: String)] {
        var rows: [(key: String, value: String)] = [
            ("What happened", headline),
            ("Why", why.joined(separator: "; ")),
            ("Base model", baseName),
            ("Command", command),
            ("Trained on", counts),
            ("Where the fakes are", areas),
            ("Replayed families", replay.joined(separator: ", ")),
            ("Steps", "\(steps) (\(stopReason)), \(String(format: "%.1f", minutes)) min"),
            (
                "Calibration",
                String(format: "threshold %.3f, Platt a %.3f, b %.3f", fit.threshold, fit.calibration.a, fit.calibration.b)
            ),
        ]
        for row in report.table {
            rows.append(
                ("Before → after: " + row.measure, "\(row.before) → \(row.after) (\(row.change.isEmpty ? "-" : row.change))"))
        }
        rows += [
            ("Words", "AUC: chance that a fake scores above a real frame (0.5 = guessing, 1 = perfect)."),
            (
                "Standing set",
                "held-out real frames and region fakes of the families the base model knew: what must not get worse."
            ),
            ("FPR", "false-positive rate: the fraction of real frames called fake."),
            ("Self-blended", "fakes made by blending a real patch with an altered copy of itself, no generator involved."),
            (
                "Diversity",
                "how different the generator's samples are from each other, relative to real patches (near 0: it repeats itself)."
            ),
        ]
        return rows
    }
}
