// `unmask train`: trains (or fine-tunes) the detector adversarially against its generator on folders
// of real and optional fake media, with a progress bar, a JSONL log, periodic and Ctrl-C checkpoints,
// early stopping on validation AUC, and a model that is never silently worse than the base it started from.
import ArgumentParser
import Audit
import Detector
import Foundation
import MediaIO
import NeuralNet

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train or fine-tune the detector on folders of real (and optionally fake) media.",
        discussion: """
            Files are split into training and validation by file (20 % held out), never by patch. The \
            output folder gets checkpoint.safetensors (both networks, optimizers, step, RNG; --resume \
            continues exactly), model.safetensors (the detector with the best validation AUC, Platt-\
            calibrated), generator.safetensors, log.jsonl and report.html. Ctrl-C saves a checkpoint and \
            stops. With --base-model the run starts from that model and the result is compared with it on \
            the same validation patches: a model that is worse is written as model.rejected.safetensors \
            instead, and the command exits with code 3.
            """ + "\n\n"
                + ExitStatus.help([.success, .failure, .refused, .usage, .badMedia, .badModel, .cannotWrite, .interrupted]))

    @OptionGroup var global: GlobalOptions
    @OptionGroup var media: MediaFolderOptions

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Option(parsing: .unconditional, help: "Stop after this many discriminator steps.")
    var steps: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this much training time.", valueName: "minutes"))
    var minutes: Double?

    @Option(help: "Continue from a checkpoint written by an earlier run (same data).")
    var resume: String?

    @Option(help: "Start the detector from this model and require the result to beat it (fine-tuning).")
    var baseModel: String?

    @Option(help: "Adversarial loss: hinge, wasserstein or bce.")
    var loss: AdversarialLoss = .hinge

    @Option(
        parsing: .unconditional, help: "Discriminator learning rate (default 4e-4; with --resume, replaces the checkpoint's).")
    var lrD: Float?

    @Option(parsing: .unconditional, help: "Generator learning rate (default 1e-4; with --resume, replaces the checkpoint's).")
    var lrG: Float?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Discriminator steps per generator step, 1…1000000 (default 2; with --resume, replaces the checkpoint's; "
                + "1000000 keeps the generator fixed, as --freeze-generator)."))
    var dSteps: Int?

    @Flag(
        help: ArgumentHelp(
            "Keep the generator fixed: no generator step, nor VAE step with --vae (with --resume, from here on; saved "
                + "in the checkpoint). The detector still sees the generator's samples."))
    var freezeGenerator = false

    /// D steps per G step asked for: --d-steps, or the frozen-generator value; nil = the default (new run)
    /// or the checkpoint's (--resume).
    var dStepsPerGStep: Int? { freezeGenerator ? TrainingConfig.frozenGenerator : dSteps }

    @Option(help: "Generator architecture to train against: upsampling (default) or transposed-conv.")
    var generatorKind: GeneratorKind = .upsampling

    /// Detector architecture candidates (a new run; --resume keeps the checkpoint's architecture).
    @OptionGroup var architecture: DetectorArchitectureOptions

    /// The batch's make-up and the loss weights (a new run; --resume keeps the checkpoint's).
    @OptionGroup var recipe: TrainingRecipeOptions

    @Flag(help: "Also train the face-swap-like VAE and learn from its reconstructions and samples.")
    var vae = false

    @Option(
        help: ArgumentHelp(
            "Leave these fake-maker families or groups out of training (comma-separated or repeated), as a "
                + "leave-one-family-out run does.", valueName: "names"))
    var zooExclude: [String] = []

    @Flag(help: "Train without the fake-maker zoo's region fakes.")
    var noZoo = false

    @Option(
        help: ArgumentHelp("Add the zoo families of the trained generators in this folder (e.g. Models/zoo).", valueName: "dir"))
    var zooGenerators: String?

    @Option(parsing: .unconditional, help: "Validate every this many steps.")
    var validateEvery: Int = 200

    @Option(parsing: .unconditional, help: "Stop when validation AUC has not improved for this many validations (0 = never).")
    var patience: Int = 15

    @Option(parsing: .unconditional, help: ArgumentHelp("Save a checkpoint this often.", valueName: "minutes"))
    var checkpointMinutes: Double = 5

    @Option(parsing: .unconditional, help: "Random seed (weights, batches, augmentation).")
    var seed: UInt64 = 1

    @Flag(name: .shortAndLong, help: "No progress bar and no per-validation lines.")
    var quiet = false

    func validate() throws {
        if steps == nil && minutes == nil { throw ValidationError("Give --steps or --minutes (or both) to bound the run.") }
        if let steps, steps < 1 { throw ValidationError("--steps must be 1 or more (got \(steps)).") }
        if let minutes, !(minutes > 0 && minutes.isFinite) {
            throw ValidationError("--minutes must be a positive number (got \(minutes)).")
        }
        for (name, rate) in [("--lr-d", lrD), ("--lr-g", lrG)] {
            if let rate, !(rate > 0 && rate.isFinite) {
                throw ValidationError("\(name) must be a positive number (got \(rate)).")
            }
        }
        if !(checkpointMinutes > 0 && checkpointMinutes.isFinite) {
            throw ValidationError("--checkpoint-minutes must be a positive number (got \(checkpointMinutes)).")
        }
        let range = TrainingConfig.dStepsPerGStepRange
        if let dSteps, !range.contains(dSteps) {
            throw ValidationError(
                "--d-steps must be in \(range.lowerBound)…\(range.upperBound) (got \(dSteps)); \(range.upperBound) "
                    + "keeps the generator fixed.")
        }
        if freezeGenerator && dSteps != nil {
            throw ValidationError("--freeze-generator and --d-steps cannot be combined: a frozen generator takes no steps.")
        }
        if validateEvery < 1 || patience < 0 {
            throw ValidationError("--validate-every must be 1 or more, --patience 0 or more.")
        }
        if resume != nil && baseModel != nil { throw ValidationError("--resume and --base-model cannot be combined.") }
        // A new run would replace an earlier run's model and truncate its log without a word.
        if resume == nil,
            let earlier = ["model.safetensors", "checkpoint.safetensors", "log.jsonl"].first(where: {
                FileManager.default.fileExists(atPath: out + "/" + $0)
            })
        {
            throw ValidationError(
                "\(out) already holds a training run (\(earlier)); give a new --out folder, or --resume its checkpoint.")
        }
        if noZoo && (!zooExclude.isEmpty || zooGenerators != nil) {
            throw ValidationError("--zoo-exclude and --zoo-generators cannot be combined with --no-zoo.")
        }
        do { _ = try ZooTrainingConfig(excluded: excludedFamilies, trainedGenerators: zooGenerators).zoo() } catch {
            throw ValidationError("--zoo-exclude / --zoo-generators: \(error)")
        }
        // The trainer would otherwise draw self-blended fakes in place of a mix that weighs nothing it can make.
        let c = configuration()
        let drawable = c.fakeMix.drawableWeights(media: media.fake != nil, vae: c.vae != nil, zoo: c.zoo != nil)
            .reduce(0) { $0 + $1.weight }
        if resume == nil && c.otherFakesPerBatch > 0 && drawable == 0 {
            throw ValidationError(
                "--fake-mix gives every fake kind this run can make a weight of 0; give one a weight above 0, or "
                    + "--fakes-per-batch 0.")
        }
    }

    /// The --zoo-exclude names, split at commas.
    var excludedFamilies: [String] {
        FamilyNames.split(zooExclude)
    }

    func configuration() -> TrainingConfig {
        var c = TrainingConfig(
            dStepsPerGStep: dStepsPerGStep ?? 2, learningRateD: lrD ?? 4e-4, learningRateG: lrG ?? 1e-4, loss: loss,
            validateEvery: validateEvery, seed: seed)
        if vae { c.vae = VAEArchitecture() }
        if generatorKind != .upsampling { c.generatorKind = generatorKind }
        c.discriminator = architecture.applied(to: c.discriminator)
        // 192 patches per class keep the AUC's sampling noise near ±0.02, so early stopping follows the
        // model rather than the draw; self-blended fakes are the hardest and least certain labels, so they
        // get half the weight of the generator's partial fakes.
        c.validationPatches = 192
        c.fakeMix.selfBlended = 0.5
        // Zoo regions are most of the supervised fakes: they are what teaches manipulation rather than
        // one generator's fingerprint (Docs/generalization.md).
        if !noZoo {
            c.zoo = ZooTrainingConfig(excluded: excludedFamilies, trainedGenerators: zooGenerators)
            c.fakeMix.zoo = 3
            c.otherFakesPerBatch = 12
        }
        return recipe.applied(to: c)
    }

    func run() throws {
        global.apply()
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw Terminal.report(OutputError(path: out, cause: "cannot create the output folder"))
        }
        let loadStart = Date()
        let data: TrainingData
        do {
            data = try TrainingData.load(
                realFolder: media.real, fakeFolder: media.fake, loader: MediaFolderLoader(framesPerFile: media.framesPerFile ?? 4)
            )
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badMedia)
        }
        for line in data.skipped { Terminal.warn("skipped \(line)") }
        // Opened once the media loaded, so a folder without usable media leaves no empty log behind.
        let log = try openLog(append: resume != nil)
        let fileCounts =
            "\(data.real.training.count) real training / \(data.real.validation.count) validation files"
            + (data.fake.map { ", \($0.training.count) fake training / \($0.validation.count) validation files" } ?? "")

        let trainer: Trainer
        var base: DetectorModel?
        do {
            if let resume {
                trainer = try Trainer(resumingFrom: resume, data: data)
                trainer.adjustSchedule(learningRateD: lrD, learningRateG: lrG, dStepsPerGStep: dStepsPerGStep)
            } else {
                trainer = try Trainer(config: configuration(), data: data)
                base = try baseModel.map { try DetectorModel.load(path: $0, expecting: trainer.config.discriminator) }
            }
        } catch let error as DetectorError {
            Terminal.writeError("unmask: \(error)")
            if case .trainingData = error { throw ExitCode(.badMedia) }
            throw ExitCode(.badModel)
        }
        let session = TrainingSession(
            trainer: trainer, log: log,
            rules: StopRules(steps: steps, minutes: minutes, patience: patience, checkpointMinutes: checkpointMinutes),
            checkpointPath: out + "/checkpoint.safetensors")
        do {
            if let base { try session.startFromBase(base) }
        } catch let error as DetectorError {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badModel)
        }
        if !quiet { Terminal.writeError("unmask: loaded \(fileCounts) in \(seconds(since: loadStart)) s") }
        let command = CommandLine.arguments.joined(separator: " ")
        try written { try session.logStart(command: command, files: fileCounts) }

        let interrupt = InterruptFlag.install()
        let display = TrainingDisplay(quiet: quiet, steps: steps, minutes: minutes, startStep: trainer.step)
        session.observer = { display.show($0) }
        session.isInterrupted = { interrupt.isSet }
        let stop = try written { try session.run() }
        display.finish()
        if session.stopReason == .interrupted {
            Terminal.writeError("unmask: interrupted at step \(trainer.step); checkpoint saved to \(session.checkpointPath)")
            throw ExitCode(.interrupted)
        }

        let export = try written {
            try session.export { "unmask train, \(stop.reason), detector of step \($0)" }
        }
        let model = export.model
        try save { try GeneratorFile.save(trainer.generator, to: out + "/generator.safetensors") }
        let auc = export.auc
        let summary: [(key: String, value: String)] = [
            ("Command", command), ("Data", fileCounts),
            ("Steps", "\(trainer.step) (\(stop.reason)); this invocation \(format(stop.seconds / 60)) min"),
            (
                "Exported detector",
                "from step \(export.exportedStep) (final generator's validation AUC \(format(export.finalAUC)) at step \(trainer.step))"
            ),
            (
                "Exported model",
                "validation AUC \(format(auc)), FPR \(format(model.training.validationFalsePositiveRate ?? .nan))"
            ),
            ("Detector", "\(trainer.config.discriminator)"),
            ("Generator", "\(trainer.config.generatorKind ?? .upsampling) \(trainer.config.generator)"),
        ]
        try save {
            try TrainingReportBuilder.report(logPath: log.path, summary: summary, generator: trainer.generator)
                .write(to: out + "/report.html")
        }
        if export.isWorseThanBase, let baseAUC = export.baseAUC {
            try save { try model.save(to: out + "/model.rejected.safetensors") }
            try written { try session.logOutcome(export, path: out + "/model.rejected.safetensors") }
            Terminal.writeError(
                "unmask: the fine-tuned model is worse than the base model on the validation split (AUC \(format(auc)) < \(format(baseAUC))); kept it as \(out)/model.rejected.safetensors, not model.safetensors"
            )
            throw ExitCode(.refused)
        }
        try save { try model.save(to: out + "/model.safetensors") }
        try written { try session.logOutcome(export, path: out + "/model.safetensors") }
        if !quiet {
            StandardOutput.print(
                "Trained \(trainer.step) steps in \(format(stop.seconds / 60)) min (\(stop.reason)); validation AUC \(format(auc))"
                    + (export.baseAUC.map { " (base model \(format($0)))" } ?? "") + "; model: \(out)/model.safetensors")
        }
    }

    /// Runs a session step that writes files; a failed write is one line naming the file, exit 73.
    private func written<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as TrainingSessionError {
            throw Terminal.report(OutputError(path: error.path, cause: error.reason))
        }
    }

    private func save(_ body: () throws -> Void) throws {
        do { try body() } catch { throw Terminal.report(OutputError(path: out, cause: "\(error)")) }
    }

    /// The run's log.jsonl: a new file, or appended to when resuming.
    private func openLog(append: Bool) throws -> TrainingLogWriter {
        do {
            return try TrainingLogWriter(path: out + "/log.jsonl", append: append)
        } catch let error as TrainingLogError {
            throw Terminal.report(OutputError(path: error.path, cause: error.reason))
        }
    }
}

private func seconds(since date: Date) -> String { String(format: "%.1f", Date().timeIntervalSince(date)) }
private func format(_ x: Double) -> String { String(format: "%.3f", x) }

extension AdversarialLoss: ExpressibleByArgument {}

/// What a person sees while training: a progress bar with ETA on a terminal (plain lines when not),
/// validation lines, and alarms for rollbacks, mode collapse and overfitting.
final class TrainingDisplay {
    let quiet: Bool, steps: Int?, minutes: Double?, startStep: Int
    private let isTerminal = Terminal.standardErrorIsTerminal
    private let started = Date()
    private var lastDrawn = Date.distantPast
    private var drewBar = false
    private var bestDiversity = 0.0

    init(quiet: Bool, steps: Int?, minutes: Double?, startStep: Int) {
        self.quiet = quiet; self.steps = steps; self.minutes = minutes; self.startStep = startStep
    }

    func show(_ event: TrainingEvent) {
        switch event {
        case .step(let s):
            guard !quiet else { return }
            let elapsed = Date().timeIntervalSince(started)
            var fraction = 0.0
            if let steps { fraction = Double(s.step - startStep) / Double(max(1, steps - startStep)) }
            if let minutes { fraction = max(fraction, elapsed / (minutes * 60)) }
            fraction = min(1, max(0, fraction))
            let eta = fraction > 0.001 ? elapsed * (1 - fraction) / fraction : .nan
            let text =
                "step \(s.step)  D \(String(format: "%.3f", s.discriminatorLoss))"
                + (s.generatorLoss.map { "  G " + String(format: "%.3f", $0) } ?? "")
                + String(format: "  %.2f s/step  %3.0f%%  ETA %@", s.seconds, fraction * 100, eta.isFinite ? clock(eta) : "-")
            if isTerminal {
                guard Date().timeIntervalSince(lastDrawn) > 0.2 else { return }
                lastDrawn = Date()
                let width = 24, filled = Int(fraction * Double(width))
                Terminal.writeRaw(
                    "\r\u{1B}[K[\(String(repeating: "#", count: filled))\(String(repeating: "-", count: width - filled))] " + text
                )
                drewBar = true
            } else if s.step % 100 == 0 {
                Terminal.writeError(text)
            }
        case .validation(let v):
            if v.diversity > bestDiversity { bestDiversity = v.diversity }
            if !quiet {
                let kinds = v.aucByKind.sorted { $0.key.rawValue < $1.key.rawValue }
                    .map { "\($0.key.rawValue) \(String(format: "%.3f", $0.value))" }.joined(separator: ", ")
                line(
                    String(
                        format: "validation at step %d: AUC %.3f (%@), training AUC %.3f, FPR %.3f, diversity %.2f", v.step,
                        v.auc,
                        kinds, v.trainingAUC, v.falsePositiveRate, v.diversity))
            }
            if v.diversity < 0.5 * bestDiversity {
                line(
                    "unmask: warning: generator diversity fell to \(String(format: "%.2f", v.diversity)) (best \(String(format: "%.2f", bestDiversity))): possible mode collapse"
                )
            }
            if v.trainingAUC - v.auc > 0.1 {
                line(
                    "unmask: warning: training AUC \(String(format: "%.3f", v.trainingAUC)) exceeds validation AUC \(String(format: "%.3f", v.auc)) by more than 0.1: overfitting"
                )
            }
        case .rollback(let step, let loss, let restored, let lrD, let lrG):
            line(
                "unmask: warning: loss \(loss) at step \(step) diverged; rolled back to step \(restored) with learning rates D \(lrD), G \(lrG)"
            )
        case .checkpoint, .warning: break
        }
    }

    /// A whole line, clearing the progress bar first.
    private func line(_ text: String) {
        if drewBar { Terminal.writeRaw("\r\u{1B}[K"); drewBar = false }
        Terminal.writeError(text)
    }

    func finish() { if drewBar { Terminal.writeRaw("\r\u{1B}[K"); drewBar = false } }

    private func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600
            ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}

extension GeneratorKind: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "upsampling": self = .upsampling
        case "transposed-conv", "transposedconv": self = .transposedConv
        default: return nil
        }
    }
    public static var allValueStrings: [String] { ["upsampling", "transposed-conv"] }
}
