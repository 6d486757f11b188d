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

    @Option(help: "Stop after this many discriminator steps.")
    var steps: Int?

    @Option(help: ArgumentHelp("Stop after this much training time.", valueName: "minutes"))
    var minutes: Double?

    @Option(help: "Continue from a checkpoint written by an earlier run (same data).")
    var resume: String?

    @Option(help: "Start the detector from this model and require the result to beat it (fine-tuning).")
    var baseModel: String?

    @Option(help: "Adversarial loss: hinge, wasserstein or bce.")
    var loss: AdversarialLoss = .hinge

    @Option(help: "Discriminator learning rate (default 4e-4; with --resume, replaces the checkpoint's).")
    var lrD: Float?

    @Option(help: "Generator learning rate (default 1e-4; with --resume, replaces the checkpoint's).")
    var lrG: Float?

    @Option(help: "Discriminator steps per generator step (default 2; with --resume, replaces the checkpoint's).")
    var dSteps: Int?

    @Option(help: "Generator architecture to train against: upsampling (default) or transposed-conv.")
    var generatorKind: GeneratorKind = .upsampling

    @Flag(help: "Also train the face-swap-like VAE and learn from its reconstructions and samples.")
    var vae = false

    @Option(help: "Validate every this many steps.")
    var validateEvery: Int = 200

    @Option(help: "Stop when validation AUC has not improved for this many validations (0 = never).")
    var patience: Int = 15

    @Option(help: ArgumentHelp("Save a checkpoint this often.", valueName: "minutes"))
    var checkpointMinutes: Double = 5

    @Option(help: "Random seed (weights, batches, augmentation).")
    var seed: UInt64 = 1

    @Flag(name: .shortAndLong, help: "No progress bar and no per-validation lines.")
    var quiet = false

    func validate() throws {
        if steps == nil && minutes == nil { throw ValidationError("Give --steps or --minutes (or both) to bound the run.") }
        if let steps, steps < 1 { throw ValidationError("--steps must be 1 or more (got \(steps)).") }
        if let minutes, !(minutes > 0) { throw ValidationError("--minutes must be positive (got \(minutes)).") }
        if !((lrD ?? 1) > 0 && (lrG ?? 1) > 0) { throw ValidationError("Learning rates must be positive.") }
        if (dSteps ?? 1) < 1 || validateEvery < 1 || patience < 0 {
            throw ValidationError("--d-steps and --validate-every must be 1 or more, --patience 0 or more.")
        }
        if resume != nil && baseModel != nil { throw ValidationError("--resume and --base-model cannot be combined.") }
    }

    func configuration() -> TrainingConfig {
        var c = TrainingConfig(
            dStepsPerGStep: dSteps ?? 2, learningRateD: lrD ?? 4e-4, learningRateG: lrG ?? 1e-4, loss: loss,
            validateEvery: validateEvery, seed: seed)
        if vae { c.vae = VAEArchitecture() }
        if generatorKind != .upsampling { c.generatorKind = generatorKind }
        // 192 patches per class keep the AUC's sampling noise near ±0.02, so early stopping follows the
        // model rather than the draw; self-blended fakes are the hardest and least certain labels, so they
        // get half the weight of the generator's partial fakes.
        c.validationPatches = 192
        c.fakeMix.selfBlended = 0.5
        return c
    }

    func run() throws {
        global.apply()
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw Terminal.report(OutputError(path: out, cause: "cannot create the output folder"))
        }
        let log = try TrainingLog(path: out + "/log.jsonl", append: resume != nil)
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
        let fileCounts =
            "\(data.real.training.count) real training / \(data.real.validation.count) validation files"
            + (data.fake.map { ", \($0.training.count) fake training / \($0.validation.count) validation files" } ?? "")

        let trainer: Trainer
        var base: (model: DetectorModel, auc: Double)?
        do {
            if let resume {
                trainer = try Trainer(resumingFrom: resume, data: data)
                trainer.adjustSchedule(learningRateD: lrD, learningRateG: lrG, dStepsPerGStep: dSteps)
            } else {
                trainer = try Trainer(config: configuration(), data: data)
                if let baseModel {
                    let model = try DetectorModel.load(path: baseModel, expecting: trainer.config.discriminator)
                    try trainer.discriminator.load(stateDictionary: model.discriminator.stateDictionary())
                    base = (model, trainer.validate().auc)
                }
            }
        } catch let error as DetectorError {
            Terminal.writeError("unmask: \(error)")
            if case .trainingData = error { throw ExitCode(.badMedia) }
            throw ExitCode(.badModel)
        }
        if !quiet { Terminal.writeError("unmask: loaded \(fileCounts) in \(seconds(since: loadStart)) s") }
        try log.write(
            event: "start",
            [
                "command": .string(CommandLine.arguments.joined(separator: " ")), "files": .string(fileCounts),
                "step": .number(Double(trainer.step)),
                "config": .string((try? JSON.encoder().encode(trainer.config)).map { String(decoding: $0, as: UTF8.self) } ?? ""),
            ])
        if let base { try log.write(event: "base_model", ["auc": .number(base.auc)]) }

        let interrupt = InterruptFlag.install()
        let display = TrainingDisplay(quiet: quiet, steps: steps, minutes: minutes, startStep: trainer.step)
        var best: (auc: Double, step: Int, state: [String: Tensor])?
        var validationsWithoutGain = 0
        var logError: Error?
        trainer.observer = { event in
            do { try log.write(event) } catch { logError = error }
            display.show(event)
            if case .validation(let v) = event {
                if v.auc > (best?.auc ?? -1) {
                    best = (v.auc, v.step, trainer.discriminator.stateDictionary())
                    validationsWithoutGain = 0
                } else {
                    validationsWithoutGain += 1
                }
            }
        }

        let checkpointPath = out + "/checkpoint.safetensors"
        let started = Date()
        var lastCheckpoint = Date()
        var stopReason = "step limit"
        while true {
            if let steps, trainer.step >= steps { break }
            if let minutes, Date().timeIntervalSince(started) >= minutes * 60 { stopReason = "time limit"; break }
            if interrupt.isSet { stopReason = "interrupted"; break }
            if patience > 0 && validationsWithoutGain >= patience {
                stopReason = "early stop: no validation AUC gain in \(patience) validations"
                break
            }
            trainer.trainStep()
            if let logError { throw Terminal.report(OutputError(path: out + "/log.jsonl", cause: "\(logError)")) }
            if Date().timeIntervalSince(lastCheckpoint) >= checkpointMinutes * 60 {
                try save { try trainer.saveCheckpoint(to: checkpointPath) }
                lastCheckpoint = Date()
            }
        }
        display.finish()
        try save { try trainer.saveCheckpoint(to: checkpointPath) }
        let duration = Date().timeIntervalSince(started)
        try log.write(
            event: "stop", ["reason": .string(stopReason), "step": .number(Double(trainer.step)), "seconds": .number(duration)])
        if stopReason == "interrupted" {
            Terminal.writeError("unmask: interrupted at step \(trainer.step); checkpoint saved to \(checkpointPath)")
            throw ExitCode(.interrupted)
        }

        // Export the better of the final detector and the best one seen. Validation fakes come from the
        // generator of the moment, so an AUC measured at an earlier step was against an easier (or other)
        // generator: the best earlier state is scored again against the final generator before it can win.
        let final = trainer.lastValidation?.step == trainer.step ? trainer.lastValidation! : trainer.validate()
        var exportedStep = trainer.step
        if let best, best.step != trainer.step {
            let finalState = trainer.discriminator.stateDictionary()
            try trainer.discriminator.load(stateDictionary: best.state)
            if trainer.validate().auc > final.auc {
                exportedStep = best.step
            } else {
                try trainer.discriminator.load(stateDictionary: finalState)
            }
        }
        let model = try trainer.exportModel(
            notes: "unmask train, \(stopReason), detector of step \(exportedStep)")
        try save { try GeneratorFile.save(trainer.generator, to: out + "/generator.safetensors") }
        let auc = model.training.validationAUC ?? .nan
        let summary: [(key: String, value: String)] = [
            ("Command", CommandLine.arguments.joined(separator: " ")), ("Data", fileCounts),
            ("Steps", "\(trainer.step) (\(stopReason)); this invocation \(format(duration / 60)) min"),
            (
                "Exported detector",
                "from step \(exportedStep) (final generator's validation AUC \(format(final.auc)) at step \(trainer.step))"
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
        if let base, !(auc >= base.auc) {
            try save { try model.save(to: out + "/model.rejected.safetensors") }
            try log.write(event: "rejected", ["auc": .number(auc), "base_auc": .number(base.auc)])
            Terminal.writeError(
                "unmask: the fine-tuned model is worse than the base model on the validation split (AUC \(format(auc)) < \(format(base.auc))); kept it as \(out)/model.rejected.safetensors, not model.safetensors"
            )
            throw ExitCode(.refused)
        }
        try save { try model.save(to: out + "/model.safetensors") }
        try log.write(
            event: "model",
            [
                "path": .string(out + "/model.safetensors"), "auc": .number(auc),
                "false_positive_rate": .number(model.training.validationFalsePositiveRate ?? .nan),
                "calibration_a": .number(model.calibration.a), "calibration_b": .number(model.calibration.b),
            ])
        if !quiet {
            StandardOutput.print(
                "Trained \(trainer.step) steps in \(format(duration / 60)) min (\(stopReason)); validation AUC \(format(auc))"
                    + (base.map { " (base model \(format($0.auc)))" } ?? "") + "; model: \(out)/model.safetensors")
        }
    }

    private func save(_ body: () throws -> Void) throws {
        do { try body() } catch { throw Terminal.report(OutputError(path: out, cause: "\(error)")) }
    }
}

private func seconds(since date: Date) -> String { String(format: "%.1f", Date().timeIntervalSince(date)) }
private func format(_ x: Double) -> String { String(format: "%.3f", x) }

extension AdversarialLoss: ExpressibleByArgument {}

/// The run's JSONL log: one JSON object per line (`event`, `time`, then the event's fields).
final class TrainingLog {
    enum Value: Encodable {
        case number(Double), string(String), numbers([String: Double])
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .number(let x): if x.isFinite { try c.encode(x) } else { try c.encodeNil() }
            case .string(let s): try c.encode(s)
            case .numbers(let d): try c.encode(d.mapValues { $0.isFinite ? $0 : -1 })
            }
        }
    }

    let path: String
    private let handle: FileHandle

    init(path: String, append: Bool) throws {
        if !append || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw Terminal.report(OutputError(path: path, cause: "cannot create the log file"))
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw Terminal.report(OutputError(path: path, cause: "cannot open the log file for writing"))
        }
        h.seekToEndOfFile()
        self.path = path
        handle = h
    }

    func write(event: String, _ fields: [String: Value]) throws {
        var object = fields
        object["event"] = .string(event)
        object["time"] = .number(Date().timeIntervalSince1970)
        try handle.write(contentsOf: try JSON.encoder().encode(object) + Data("\n".utf8))
    }

    /// Steps are logged every 10th step (and every step with a generator loss that is not finite).
    func write(_ event: TrainingEvent) throws {
        switch event {
        case .step(let s):
            guard s.step % 10 == 0 else { return }
            var fields: [String: Value] = [
                "step": .number(Double(s.step)), "d_loss": .number(Double(s.discriminatorLoss)),
                "adversarial_loss": .number(Double(s.adversarialLoss)), "supervised_loss": .number(Double(s.supervisedLoss)),
                "lr_d": .number(Double(s.learningRateD)), "lr_g": .number(Double(s.learningRateG)), "seconds": .number(s.seconds),
            ]
            if let g = s.generatorLoss { fields["g_loss"] = .number(Double(g)) }
            if let v = s.vaeLoss { fields["vae_loss"] = .number(Double(v)) }
            try write(event: "step", fields)
        case .validation(let v):
            try write(
                event: "validation",
                [
                    "step": .number(Double(v.step)), "auc": .number(v.auc), "training_auc": .number(v.trainingAUC),
                    "false_positive_rate": .number(v.falsePositiveRate), "false_negative_rate": .number(v.falseNegativeRate),
                    "diversity": .number(v.diversity),
                    "auc_by_kind": .numbers(Dictionary(uniqueKeysWithValues: v.aucByKind.map { ($0.key.rawValue, $0.value) })),
                ])
        case .rollback(let step, let loss, let restored, let lrD, let lrG):
            try write(
                event: "rollback",
                [
                    "step": .number(Double(step)), "loss": .number(Double(loss)), "restored_step": .number(Double(restored)),
                    "lr_d": .number(Double(lrD)), "lr_g": .number(Double(lrG)),
                ])
        case .checkpoint(let path, let step):
            try write(event: "checkpoint", ["path": .string(path), "step": .number(Double(step))])
        case .warning(let text):
            try write(event: "warning", ["message": .string(text)])
        }
    }
}

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

/// The HTML training report, built from the whole JSONL log (so a resumed run shows its full history)
/// and 16 samples of the generator in eval mode.
enum TrainingReportBuilder {
    static func report(logPath: String, summary: [(key: String, value: String)], generator: any PatchGenerator) throws
        -> TrainingReport
    {
        var dLoss: [(x: Double, y: Double)] = [], gLoss: [(x: Double, y: Double)] = []
        var auc: [String: [(x: Double, y: Double)]] = [:]
        var fpr: [(x: Double, y: Double)] = [], diversity: [(x: Double, y: Double)] = []
        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let event = object["event"] as? String, let step = object["step"] as? Double
            else { continue }
            func value(_ key: String) -> Double? { object[key] as? Double }
            switch event {
            case "step":
                if let d = value("d_loss") { dLoss.append((step, d)) }
                if let g = value("g_loss") { gLoss.append((step, g)) }
            case "validation":
                if let a = value("auc") { auc["all", default: []].append((step, a)) }
                if let a = value("training_auc") { auc["training files", default: []].append((step, a)) }
                for (kind, a) in (object["auc_by_kind"] as? [String: Double]) ?? [:] { auc[kind, default: []].append((step, a)) }
                if let f = value("false_positive_rate") { fpr.append((step, f)) }
                if let d = value("diversity") { diversity.append((step, d)) }
            default: continue
            }
        }
        let aucOrder = ["all", "training files"] + auc.keys.filter { $0 != "all" && $0 != "training files" }.sorted()
        let charts = [
            TrainingReport.Chart(
                title: "Losses", yLabel: "loss",
                series: [.init(name: "discriminator", points: dLoss), .init(name: "generator", points: gLoss)]),
            TrainingReport.Chart(
                title: "Validation AUC (held-out files; per fake kind)", yLabel: "AUC",
                series: aucOrder.compactMap { k in auc[k].map { .init(name: k, points: $0) } }, yRange: 0...1),
            TrainingReport.Chart(
                title: "False-positive rate of real validation patches at score 0", yLabel: "FPR",
                series: [.init(name: "FPR", points: fpr)], yRange: 0...1),
            TrainingReport.Chart(
                title: "Generator diversity (generated / real pairwise distance)", yLabel: "ratio",
                series: [.init(name: "diversity", points: diversity)]),
        ]
        var rng = RandomGenerator(seed: 99)
        let z = Tensor(shape: [0])
        generator.eval()
        generator.sampleLatents(z, count: 16, rng: &rng)
        let images = generator.forward(z)  // (16, 3, P, P)
        let P = generator.architecture.patchSize, n = 3 * P * P
        let samples = (0..<16).map { i in
            TrainingReport.Sample(
                image: RGBImage(width: P, height: P, pixels: Array(UnsafeBufferPointer(start: images.pointer + i * n, count: n))))
        }
        return TrainingReport(title: "Unmask training run", summary: summary, charts: charts, samples: samples, createdAt: Date())
    }
}
