// Owns the entries of a training run's JSONL log: what each line records (start, step, validation,
// rollback, checkpoint, warning, stop, model, base model, rejected model) with typed fields, and its
// JSON form: one object with `event`, `time` (seconds since 1970) and the event's snake_case fields.
// A number that is not finite is written as null and read back as NaN; JSON has no NaN.
import Foundation

/// One line of a training run's log: when it was written and what happened.
public struct TrainingLogEntry: Equatable, Sendable {
    public var time: Date
    public var event: Event

    public init(time: Date = Date(), event: Event) {
        self.time = time
        self.event = event
    }

    /// What a line records.
    public enum Event: Equatable, Sendable {
        /// A run began, or resumed from a checkpoint.
        case start(Start)
        /// A D step (with its G step, if it had one).
        case step(Step)
        case validation(Validation)
        /// A diverging loss rolled the run back.
        case rollback(Rollback)
        /// A checkpoint was written to `path` at `step`.
        case checkpoint(path: String, step: Int)
        case warning(message: String)
        /// The run stopped (step or time limit, interruption, early stop).
        case stop(Stop)
        /// The model was exported.
        case model(Model)
        /// The validation AUC of the base model a fine-tuning run started from.
        case baseModel(auc: Double)
        /// The fine-tuned model was worse than the base model and was not written as the model.
        case rejected(auc: Double, baseAUC: Double)
    }

    /// The `event` value of each kind of line.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case start, step, validation, rollback, checkpoint, warning, stop, model
        case baseModel = "base_model"
        case rejected
    }

    public struct Start: Equatable, Sendable {
        /// The command line.
        public var command: String
        /// What data the run uses, in words (file counts).
        public var files: String
        /// The step the run starts from (0, or the checkpoint's).
        public var step: Int
        /// The training configuration as JSON text.
        public var config: String
        public init(command: String, files: String, step: Int, config: String) {
            self.command = command; self.files = files; self.step = step; self.config = config
        }
    }

    public struct Step: Equatable, Sendable {
        public var step: Int
        public var discriminatorLoss: Double
        public var adversarialLoss: Double
        public var supervisedLoss: Double
        /// nil when the step had no G update.
        public var generatorLoss: Double?
        /// nil when the step had no VAE update.
        public var vaeLoss: Double?
        public var learningRateD: Double, learningRateG: Double
        public var seconds: Double
        public init(
            step: Int, discriminatorLoss: Double, adversarialLoss: Double, supervisedLoss: Double, generatorLoss: Double?,
            vaeLoss: Double?, learningRateD: Double, learningRateG: Double, seconds: Double
        ) {
            self.step = step; self.discriminatorLoss = discriminatorLoss; self.adversarialLoss = adversarialLoss
            self.supervisedLoss = supervisedLoss; self.generatorLoss = generatorLoss; self.vaeLoss = vaeLoss
            self.learningRateD = learningRateD; self.learningRateG = learningRateG; self.seconds = seconds
        }
    }

    public struct Validation: Equatable, Sendable {
        public var step: Int
        public var auc: Double
        /// The same AUC on patches from the training files.
        public var trainingAUC: Double
        public var falsePositiveRate: Double
        public var falseNegativeRate: Double
        public var diversity: Double
        /// AUC per fake kind, keyed by `FakeKind.rawValue` (kinds this build does not know still read).
        public var aucByKind: [String: Double]
        public init(
            step: Int, auc: Double, trainingAUC: Double, falsePositiveRate: Double, falseNegativeRate: Double,
            diversity: Double, aucByKind: [String: Double]
        ) {
            self.step = step; self.auc = auc; self.trainingAUC = trainingAUC
            self.falsePositiveRate = falsePositiveRate; self.falseNegativeRate = falseNegativeRate
            self.diversity = diversity; self.aucByKind = aucByKind
        }
    }

    public struct Rollback: Equatable, Sendable {
        /// The step whose loss diverged.
        public var step: Int
        public var loss: Double
        public var restoredStep: Int
        /// The lowered learning rates.
        public var learningRateD: Double, learningRateG: Double
        public init(step: Int, loss: Double, restoredStep: Int, learningRateD: Double, learningRateG: Double) {
            self.step = step; self.loss = loss; self.restoredStep = restoredStep
            self.learningRateD = learningRateD; self.learningRateG = learningRateG
        }
    }

    public struct Stop: Equatable, Sendable {
        public var reason: String
        public var step: Int
        /// Training time of this invocation.
        public var seconds: Double
        public init(reason: String, step: Int, seconds: Double) {
            self.reason = reason; self.step = step; self.seconds = seconds
        }
    }

    public struct Model: Equatable, Sendable {
        public var path: String
        public var auc: Double
        public var falsePositiveRate: Double
        /// The Platt calibration σ(a·s + b).
        public var calibrationA: Double, calibrationB: Double
        public init(path: String, auc: Double, falsePositiveRate: Double, calibrationA: Double, calibrationB: Double) {
            self.path = path; self.auc = auc; self.falsePositiveRate = falsePositiveRate
            self.calibrationA = calibrationA; self.calibrationB = calibrationB
        }
    }

    public var kind: Kind {
        switch event {
        case .start: return .start
        case .step: return .step
        case .validation: return .validation
        case .rollback: return .rollback
        case .checkpoint: return .checkpoint
        case .warning: return .warning
        case .stop: return .stop
        case .model: return .model
        case .baseModel: return .baseModel
        case .rejected: return .rejected
        }
    }

    /// The step the line is about, for the kinds that name one.
    public var step: Int? {
        switch event {
        case .start(let start): return start.step
        case .step(let step): return step.step
        case .validation(let validation): return validation.step
        case .rollback(let rollback): return rollback.step
        case .checkpoint(_, let step): return step
        case .stop(let stop): return stop.step
        case .warning, .model, .baseModel, .rejected: return nil
        }
    }
}

extension TrainingLogEntry.Event {
    /// The log form of a trainer event (losses and learning rates widened to Double).
    public init(_ event: TrainingEvent) {
        switch event {
        case .step(let s):
            self = .step(
                TrainingLogEntry.Step(
                    step: s.step, discriminatorLoss: Double(s.discriminatorLoss), adversarialLoss: Double(s.adversarialLoss),
                    supervisedLoss: Double(s.supervisedLoss), generatorLoss: s.generatorLoss.map(Double.init),
                    vaeLoss: s.vaeLoss.map(Double.init), learningRateD: Double(s.learningRateD),
                    learningRateG: Double(s.learningRateG), seconds: s.seconds))
        case .validation(let v):
            self = .validation(
                TrainingLogEntry.Validation(
                    step: v.step, auc: v.auc, trainingAUC: v.trainingAUC, falsePositiveRate: v.falsePositiveRate,
                    falseNegativeRate: v.falseNegativeRate, diversity: v.diversity,
                    aucByKind: Dictionary(uniqueKeysWithValues: v.aucByKind.map { ($0.key.rawValue, $0.value) })))
        case .rollback(let step, let loss, let restoredStep, let learningRateD, let learningRateG):
            self = .rollback(
                TrainingLogEntry.Rollback(
                    step: step, loss: Double(loss), restoredStep: restoredStep, learningRateD: Double(learningRateD),
                    learningRateG: Double(learningRateG)))
        case .checkpoint(let path, let step):
            self = .checkpoint(path: path, step: step)
        case .warning(let message):
            self = .warning(message: message)
        }
    }
}

// MARK: JSON

extension TrainingLogEntry: Codable {
    enum CodingKeys: String, CodingKey {
        case event, time, step
        case command, files, config
        case discriminatorLoss = "d_loss", adversarialLoss = "adversarial_loss", supervisedLoss = "supervised_loss"
        case generatorLoss = "g_loss", vaeLoss = "vae_loss", learningRateD = "lr_d", learningRateG = "lr_g", seconds
        case auc, trainingAUC = "training_auc", falsePositiveRate = "false_positive_rate"
        case falseNegativeRate = "false_negative_rate", diversity, aucByKind = "auc_by_kind"
        case loss, restoredStep = "restored_step"
        case path, message, reason
        case calibrationA = "calibration_a", calibrationB = "calibration_b", baseAUC = "base_auc"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .event)
        try c.encodeNumber(time.timeIntervalSince1970, forKey: .time)
        switch event {
        case .start(let start):
            try c.encode(start.command, forKey: .command)
            try c.encode(start.files, forKey: .files)
            try c.encode(start.step, forKey: .step)
            try c.encode(start.config, forKey: .config)
        case .step(let step):
            try c.encode(step.step, forKey: .step)
            try c.encodeNumber(step.discriminatorLoss, forKey: .discriminatorLoss)
            try c.encodeNumber(step.adversarialLoss, forKey: .adversarialLoss)
            try c.encodeNumber(step.supervisedLoss, forKey: .supervisedLoss)
            if let loss = step.generatorLoss { try c.encodeNumber(loss, forKey: .generatorLoss) }
            if let loss = step.vaeLoss { try c.encodeNumber(loss, forKey: .vaeLoss) }
            try c.encodeNumber(step.learningRateD, forKey: .learningRateD)
            try c.encodeNumber(step.learningRateG, forKey: .learningRateG)
            try c.encodeNumber(step.seconds, forKey: .seconds)
        case .validation(let validation):
            try c.encode(validation.step, forKey: .step)
            try c.encodeNumber(validation.auc, forKey: .auc)
            try c.encodeNumber(validation.trainingAUC, forKey: .trainingAUC)
            try c.encodeNumber(validation.falsePositiveRate, forKey: .falsePositiveRate)
            try c.encodeNumber(validation.falseNegativeRate, forKey: .falseNegativeRate)
            try c.encodeNumber(validation.diversity, forKey: .diversity)
            try c.encode(validation.aucByKind.mapValues { $0.isFinite ? $0 : nil }, forKey: .aucByKind)
        case .rollback(let rollback):
            try c.encode(rollback.step, forKey: .step)
            try c.encodeNumber(rollback.loss, forKey: .loss)
            try c.encode(rollback.restoredStep, forKey: .restoredStep)
            try c.encodeNumber(rollback.learningRateD, forKey: .learningRateD)
            try c.encodeNumber(rollback.learningRateG, forKey: .learningRateG)
        case .checkpoint(let path, let step):
            try c.encode(path, forKey: .path)
            try c.encode(step, forKey: .step)
        case .warning(let message):
            try c.encode(message, forKey: .message)
        case .stop(let stop):
            try c.encode(stop.reason, forKey: .reason)
            try c.encode(stop.step, forKey: .step)
            try c.encodeNumber(stop.seconds, forKey: .seconds)
        case .model(let model):
            try c.encode(model.path, forKey: .path)
            try c.encodeNumber(model.auc, forKey: .auc)
            try c.encodeNumber(model.falsePositiveRate, forKey: .falsePositiveRate)
            try c.encodeNumber(model.calibrationA, forKey: .calibrationA)
            try c.encodeNumber(model.calibrationB, forKey: .calibrationB)
        case .baseModel(let auc):
            try c.encodeNumber(auc, forKey: .auc)
        case .rejected(let auc, let baseAUC):
            try c.encodeNumber(auc, forKey: .auc)
            try c.encodeNumber(baseAUC, forKey: .baseAUC)
        }
    }

    /// Steps, paths and texts are required; a measured number that is null or missing reads as NaN
    /// (an optional one, `g_loss` or `vae_loss`, as nil when missing).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(Kind.self, forKey: .event)
        time = Date(timeIntervalSince1970: try c.decode(Double.self, forKey: .time))
        switch kind {
        case .start:
            event = .start(
                Start(
                    command: try c.decode(String.self, forKey: .command), files: try c.decode(String.self, forKey: .files),
                    step: try c.decode(Int.self, forKey: .step), config: try c.decode(String.self, forKey: .config)))
        case .step:
            event = .step(
                Step(
                    step: try c.decode(Int.self, forKey: .step),
                    discriminatorLoss: try c.decodeNumber(forKey: .discriminatorLoss),
                    adversarialLoss: try c.decodeNumber(forKey: .adversarialLoss),
                    supervisedLoss: try c.decodeNumber(forKey: .supervisedLoss),
                    generatorLoss: try c.decodeNumberIfPresent(forKey: .generatorLoss),
                    vaeLoss: try c.decodeNumberIfPresent(forKey: .vaeLoss),
                    learningRateD: try c.decodeNumber(forKey: .learningRateD),
                    learningRateG: try c.decodeNumber(forKey: .learningRateG), seconds: try c.decodeNumber(forKey: .seconds)))
        case .validation:
            // An AUC lies in 0…1: a negative one is the "undefined" marker some logs carry in
            // `auc_by_kind` instead of null, and reads as NaN like null does.
            let aucByKind = try c.decodeIfPresent([String: Double?].self, forKey: .aucByKind) ?? [:]
            event = .validation(
                Validation(
                    step: try c.decode(Int.self, forKey: .step), auc: try c.decodeNumber(forKey: .auc),
                    trainingAUC: try c.decodeNumber(forKey: .trainingAUC),
                    falsePositiveRate: try c.decodeNumber(forKey: .falsePositiveRate),
                    falseNegativeRate: try c.decodeNumber(forKey: .falseNegativeRate),
                    diversity: try c.decodeNumber(forKey: .diversity),
                    aucByKind: aucByKind.mapValues { auc in auc.flatMap { $0 >= 0 ? $0 : nil } ?? .nan }))
        case .rollback:
            event = .rollback(
                Rollback(
                    step: try c.decode(Int.self, forKey: .step), loss: try c.decodeNumber(forKey: .loss),
                    restoredStep: try c.decode(Int.self, forKey: .restoredStep),
                    learningRateD: try c.decodeNumber(forKey: .learningRateD),
                    learningRateG: try c.decodeNumber(forKey: .learningRateG)))
        case .checkpoint:
            event = .checkpoint(path: try c.decode(String.self, forKey: .path), step: try c.decode(Int.self, forKey: .step))
        case .warning:
            event = .warning(message: try c.decode(String.self, forKey: .message))
        case .stop:
            event = .stop(
                Stop(
                    reason: try c.decode(String.self, forKey: .reason), step: try c.decode(Int.self, forKey: .step),
                    seconds: try c.decodeNumber(forKey: .seconds)))
        case .model:
            event = .model(
                Model(
                    path: try c.decode(String.self, forKey: .path), auc: try c.decodeNumber(forKey: .auc),
                    falsePositiveRate: try c.decodeNumber(forKey: .falsePositiveRate),
                    calibrationA: try c.decodeNumber(forKey: .calibrationA),
                    calibrationB: try c.decodeNumber(forKey: .calibrationB)))
        case .baseModel:
            event = .baseModel(auc: try c.decodeNumber(forKey: .auc))
        case .rejected:
            event = .rejected(auc: try c.decodeNumber(forKey: .auc), baseAUC: try c.decodeNumber(forKey: .baseAUC))
        }
    }
}

extension KeyedEncodingContainer {
    /// Writes `value`, or null when it is NaN or infinite.
    fileprivate mutating func encodeNumber(_ value: Double, forKey key: Key) throws {
        if value.isFinite { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}

extension KeyedDecodingContainer {
    /// A number written by `encodeNumber`: null or missing reads as NaN.
    fileprivate func decodeNumber(forKey key: Key) throws -> Double {
        try decodeIfPresent(Double.self, forKey: key) ?? .nan
    }

    /// An optional number: missing reads as nil, null as NaN.
    fileprivate func decodeNumberIfPresent(forKey key: Key) throws -> Double? {
        guard contains(key) else { return nil }
        return try decodeNil(forKey: key) ? .nan : decode(Double.self, forKey: key)
    }
}
