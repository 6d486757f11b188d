// Owns one training run around a Trainer: the start entry of the JSONL log, the optional base model
// (its weights loaded and its validation AUC measured), the step loop with its stop rules and
// periodic checkpoints, the best detector seen, and the export compared with the base model.
// Events go to the log and to an observer; nothing here prints.
import Foundation
import NeuralNet

/// When a training run stops and how often it saves.
public struct StopRules: Sendable {
    /// Stop after this many D steps (counted from 0, not from where a resumed run started).
    public var steps: Int?
    /// Stop after this much training time in this invocation.
    public var minutes: Double?
    /// Stop when validation AUC has not improved for this many validations (0 = never).
    public var patience: Int
    /// Save a checkpoint this often.
    public var checkpointMinutes: Double

    public init(steps: Int? = nil, minutes: Double? = nil, patience: Int = 15, checkpointMinutes: Double = 5) {
        self.steps = steps; self.minutes = minutes; self.patience = patience; self.checkpointMinutes = checkpointMinutes
    }
}

/// Why a run stopped.
public enum StopReason: Equatable, Sendable, CustomStringConvertible {
    case stepLimit
    case timeLimit
    case interrupted
    /// No validation AUC gain in `patience` validations.
    case earlyStop(patience: Int)

    public var description: String {
        switch self {
        case .stepLimit: return "step limit"
        case .timeLimit: return "time limit"
        case .interrupted: return "interrupted"
        case .earlyStop(let patience): return "early stop: no validation AUC gain in \(patience) validations"
        }
    }
}

/// A file a session could not write: its path and the file system's reason.
public struct TrainingSessionError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// What `TrainingSession.export` produced.
public struct TrainingExport {
    /// The exported detector (Platt-calibrated on validation patches, threshold 0.5).
    public let model: DetectorModel
    /// The step whose detector was exported (the final one, or an earlier best that still wins).
    public let exportedStep: Int
    /// The final detector's validation AUC against the final generator.
    public let finalAUC: Double
    /// The exported model's validation AUC (NaN when it has none).
    public var auc: Double { model.training.validationAUC ?? .nan }
    /// The base model's validation AUC on the same patches; nil without a base model.
    public let baseAUC: Double?
    /// Whether a base model was given and the export did not reach its AUC.
    public var isWorseThanBase: Bool { baseAUC.map { !(auc >= $0) } ?? false }
}

/// One training run: log, stop rules, checkpoints, the best state seen, and the export.
public final class TrainingSession {
    public let trainer: Trainer
    public let log: TrainingLogWriter
    public let rules: StopRules
    /// Where periodic, final and interrupt checkpoints are written.
    public let checkpointPath: String
    /// Receives every trainer event after it is logged (a progress display).
    public var observer: ((TrainingEvent) -> Void)?
    /// Polled before every step; true stops the run as interrupted (Ctrl-C).
    public var isInterrupted: () -> Bool = { false }
    /// The base model's validation AUC (`startFromBase`).
    public private(set) var baseAUC: Double?
    /// The run's time source; tests replace it to exercise the time rules.
    var now: () -> Date = Date.init

    private var best: (auc: Double, step: Int, state: [String: Tensor])?
    private var validationsWithoutGain = 0
    private var logError: Error?

    public init(trainer: Trainer, log: TrainingLogWriter, rules: StopRules, checkpointPath: String) {
        self.trainer = trainer; self.log = log; self.rules = rules; self.checkpointPath = checkpointPath
        trainer.observer = { [unowned self] event in self.handle(event) }
    }

    /// Writes the `start` entry: the command, the data in words, the step and the configuration.
    public func logStart(command: String, files: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let config = (try? encoder.encode(trainer.config)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        try append(.start(.init(command: command, files: files, step: trainer.step, config: config)))
    }

    /// Starts the detector from `base` (same architecture) and records its validation AUC, the bar
    /// the export must reach.
    public func startFromBase(_ base: DetectorModel) throws {
        try trainer.discriminator.load(stateDictionary: base.discriminator.stateDictionary())
        // A divergence rolls back to the base weights, not to the random ones the trainer began with.
        trainer.takeSnapshot()
        // Measured outside the run: not a validation of the run, and never its best state.
        let observer = trainer.observer
        trainer.observer = nil
        let auc = trainer.validate().auc
        trainer.observer = observer
        baseAUC = auc
        try append(.baseModel(auc: auc))
    }

    /// Trains until a stop rule holds, saving a checkpoint every `checkpointMinutes` and at the end;
    /// logs the stop and returns why it stopped.
    public func run() throws -> TrainingLogEntry.Stop {
        let started = now()
        var lastCheckpoint = started
        var reason = StopReason.stepLimit
        while true {
            if let steps = rules.steps, trainer.step >= steps { break }
            if let minutes = rules.minutes, now().timeIntervalSince(started) >= minutes * 60 { reason = .timeLimit; break }
            if isInterrupted() { reason = .interrupted; break }
            if rules.patience > 0 && validationsWithoutGain >= rules.patience {
                reason = .earlyStop(patience: rules.patience)
                break
            }
            trainer.trainStep()
            if let logError { throw TrainingSessionError(path: log.path, reason: "\(logError)") }
            if now().timeIntervalSince(lastCheckpoint) >= rules.checkpointMinutes * 60 {
                try saveCheckpoint()
                lastCheckpoint = now()
            }
        }
        try saveCheckpoint()
        let stop = TrainingLogEntry.Stop(
            reason: reason.description, step: trainer.step, seconds: now().timeIntervalSince(started))
        try append(.stop(stop))
        stopReason = reason
        return stop
    }

    /// Why the last `run()` stopped.
    public private(set) var stopReason: StopReason?

    /// Leaves in the trainer the better of the final detector and the best one seen (scored again
    /// against the final generator before it can win) and exports it; compared with the base model
    /// when there is one.
    public func export(notes: (_ exportedStep: Int) -> String) throws -> TrainingExport {
        let final =
            trainer.lastValidation.flatMap { $0.step == trainer.step ? $0 : nil } ?? trainer.validate()
        let exportedStep = try trainer.keepBetterDetector(
            finalAUC: final.auc, earlier: best.map { (step: $0.step, state: $0.state) })
        let model = try trainer.exportModel(notes: notes(exportedStep))
        return TrainingExport(model: model, exportedStep: exportedStep, finalAUC: final.auc, baseAUC: baseAUC)
    }

    /// Logs where the exported model went: `model` when written as the model, `rejected` when it was
    /// worse than the base model.
    public func logOutcome(_ export: TrainingExport, path: String) throws {
        if export.isWorseThanBase, let baseAUC {
            try append(.rejected(auc: export.auc, baseAUC: baseAUC))
        } else {
            let model = export.model
            try append(
                .model(
                    .init(
                        path: path, auc: export.auc, falsePositiveRate: model.training.validationFalsePositiveRate ?? .nan,
                        calibrationA: model.calibration.a, calibrationB: model.calibration.b)))
        }
    }

    /// Writes a checkpoint to `checkpointPath`.
    public func saveCheckpoint() throws {
        do { try trainer.saveCheckpoint(to: checkpointPath) } catch {
            throw TrainingSessionError(path: checkpointPath, reason: "\(error)")
        }
    }

    /// Appends a log entry; a failed write names the log file.
    public func append(_ event: TrainingLogEntry.Event) throws {
        do { try log.append(event) } catch { throw TrainingSessionError(path: log.path, reason: "\(error)") }
    }

    private func handle(_ event: TrainingEvent) {
        do { try log.record(event) } catch { logError = error }
        if case .validation(let v) = event {
            if v.auc > (best?.auc ?? -1) {
                best = (v.auc, v.step, trainer.discriminator.stateDictionary())
                validationsWithoutGain = 0
            } else {
                validationsWithoutGain += 1
            }
        }
        observer?(event)
    }
}
