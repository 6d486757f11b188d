// `unmask evaluate` and `unmask calibrate`: whole frames at native resolution scored by a model,
// against real media, fake media and frames with a generated region blended in; metrics overall, per
// variant (original, after H.264) and per source file; calibration of the frame probability and of the
// threshold for a false-positive-rate target on held-out files.
import ArgumentParser
import Audit
import Detector
import Foundation
import MediaIO
import NeuralNet

/// Options both commands share: the model (a model file or a training checkpoint) and where frames come from.
struct EvaluationInputs: ParsableArguments {
    @OptionGroup var modelOption: ModelOption
    @OptionGroup var media: MediaFolderOptions

    @Option(help: "Generator (generator.safetensors or a training checkpoint): adds a forged copy of each real frame.")
    var generator: String?

    @Option(help: ArgumentHelp("Also score every frame after an H.264 round trip at this CRF (repeatable).", valueName: "crf"))
    var h264Crf: [Int] = []

    @Option(
        help: ArgumentHelp("Also score every frame after a JPEG round trip at this quality (repeatable).", valueName: "quality"))
    var jpegQuality: [Int] = []

    @Option(
        help: ArgumentHelp(
            "Add one region fake per real frame from each of these fake-maker families or groups (comma-separated "
                + "or repeated; 'all' for every family).", valueName: "names"))
    var zoo: [String] = []

    @Option(
        help: ArgumentHelp(
            "Add region fakes from every fake-maker family except these (comma-separated or repeated).",
            valueName: "names"))
    var zooExclude: [String] = []

    @Option(
        help: ArgumentHelp("Add the zoo families of the trained generators in this folder (e.g. Models/zoo).", valueName: "dir"))
    var zooGenerators: String?

    @Option(
        help: ArgumentHelp(
            "Draw the zoo's region sides as these fractions of each frame's shorter side instead of 32–256 pixels, "
                + "e.g. 0.05-0.25 (a 4000×3000 photo then gets 150–750-pixel regions, a 640×480 frame 24–120).",
            valueName: "min-max"),
        transform: { try RangeArgument.parse($0, example: "0.05-0.25") })
    var zooRegionFraction: ClosedRange<Double>?

    @Option(parsing: .unconditional, help: "Seed for forged regions and generator samples.")
    var seed: UInt64 = 7

    func check() throws {
        for crf in h264Crf where !(0...51).contains(crf) { throw ValidationError("--h264-crf must be 0…51 (got \(crf)).") }
        for q in jpegQuality where !(1...100).contains(q) { throw ValidationError("--jpeg-quality must be 1…100 (got \(q)).") }
        do { _ = try fakeZoo() } catch { throw ValidationError("--zoo / --zoo-exclude: \(error)") }
        if let zooRegionFraction {
            guard !zoo.isEmpty || !zooExclude.isEmpty else {
                throw ValidationError("--zoo-region-fraction needs --zoo or --zoo-exclude")
            }
            do { try zooOptions.mask.validate() } catch {
                let (low, high) = (zooRegionFraction.lowerBound, zooRegionFraction.upperBound)
                throw ValidationError("--zoo-region-fraction must lie in (0, 1] (got \(low)-\(high)).")
            }
        }
    }

    /// How the zoo's fakes are drawn: the defaults, with --zoo-region-fraction applied.
    var zooOptions: ZooOptions {
        var options = ZooOptions()
        options.mask.sideFraction = zooRegionFraction
        return options
    }

    /// The zoo families named by --zoo and --zoo-exclude; nil when neither is given.
    func fakeZoo() throws -> FakeZoo? {
        let chosen = FamilyNames.split(zoo), excluded = FamilyNames.split(zooExclude)
        if chosen.isEmpty && excluded.isEmpty {
            if zooGenerators != nil { throw ValidationError("--zoo-generators needs --zoo or --zoo-exclude") }
            return nil
        }
        var families = try FakeZoo.standard(trainedGenerators: zooGenerators)
        if !chosen.isEmpty && chosen != ["all"] { families = try families.selecting(chosen) }
        if !excluded.isEmpty { families = try families.excluding(excluded) }
        guard !families.families.isEmpty else { throw ValidationError("no fake-maker family is left to evaluate") }
        return families
    }

    /// The re-encodings every frame also gets: the JPEG qualities, then the H.264 CRFs.
    var encodings: [ZooEncoding] { jpegQuality.map { .jpeg(quality: $0) } + h264Crf.map { .h264(crf: $0) } }

    /// Loads the model (exit 66 on failure), the generator and the media of `split`.
    func load(split: EvaluationSplit) throws -> (
        model: DetectorModel, modelPath: String, frames: EvaluationFrames, real: [MediaSource], fake: [MediaSource]
    ) {
        let (detector, modelPath) = try ModelLocator.load(
            explicit: modelOption.model, allowCheckpoint: true, maximumFileSize: modelOption.maximumFileSize)
        let gen: (any PatchGenerator)?
        do {
            gen = try generator.map { try GeneratorFile.load(path: $0) }
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badModel)
        }
        let loader = MediaFolderLoader(framesPerFile: media.framesPerFile ?? 2)
        let data: TrainingData
        do {
            data = try TrainingData.load(realFolder: media.real, fakeFolder: media.fake, loader: loader)
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badMedia)
        }
        for line in data.skipped { Terminal.warn("skipped \(line)") }
        let realSources = split.sources(data.real), fakeSources = data.fake.map { split.sources($0) } ?? []
        guard !realSources.isEmpty else {
            Terminal.writeError("unmask: \(media.real): no files in the '\(split.rawValue)' split")
            throw ExitCode(.badMedia)
        }
        let frames = EvaluationFrames(
            generator: gen, zoo: try fakeZoo(), encodings: encodings, seed: seed, zooOptions: zooOptions)
        return (detector, modelPath, frames, realSources, fakeSources)
    }

    /// Scores every frame, with a progress line on a terminal; each frame records `evidence` besides
    /// what the scorer weighs.
    func score(
        _ frames: EvaluationFrames, real: [MediaSource], fake: [MediaSource], scorer: FrameScorer,
        recording evidence: Set<FrameEvidence> = FrameEvaluation.evidenceRecordedAlways, quiet: Bool
    ) throws -> [ScoredFrame] {
        var scored: [ScoredFrame] = []
        let total = frames.count(real: real, fake: fake)
        let showProgress = !quiet && Terminal.standardErrorIsTerminal
        var pairing = RealFramePairing()
        try frames.forEach(real: real, fake: fake) { frame in
            scored += try FrameEvaluation.score([frame], scorer: scorer, pairing: &pairing, recording: evidence)
            if showProgress { Terminal.writeRaw("\r\u{1B}[Kscoring frame \(scored.count) of \(total)") }
        }
        if showProgress { Terminal.writeRaw("\r\u{1B}[K") }
        return scored
    }
}

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a model on real and fake media: AUC, accuracy and false-positive rate, per source.",
        discussion: """
            Every frame is scored whole at native resolution, as `scan` does. Fakes come from --fake and, \
            with --generator, from each real frame with a generated region blended in (the report says \
            whether the reported region overlaps it). --split picks the files of a training folder: \
            validation = the files `unmask train` held out, calibration / test = its two halves \
            (`unmask calibrate` fits on calibration; report on test). --model may also name a training \
            checkpoint.
            """ + "\n\n" + ExitStatus.help([.success, .failure, .usage, .badMedia, .badModel, .cannotWrite]))

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inputs: EvaluationInputs

    @Option(help: "Which files: all, validation, calibration or test.")
    var split: EvaluationSplit = .all

    @Option(help: "Write the full results (metrics, per source, per frame) as JSON to this file.")
    var json: String?

    @Flag(
        help: ArgumentHelp(
            "Also record every frame's training-free copy-move evidence (copy_move_consistency in --json; "
                + "seconds per frame, so only on request unless the model weighs it)."))
    var copyMoveEvidence = false

    @Flag(name: .shortAndLong, help: "No progress line.")
    var quiet = false

    func validate() throws { try inputs.check() }

    func run() throws {
        global.apply()
        let (model, modelPath, frames, real, fake) = try inputs.load(split: split)
        if fake.isEmpty && frames.generator == nil && frames.zoo == nil {
            Terminal.warn("no fakes (--fake, --generator or --zoo): AUC and TPR are undefined")
        }
        let scorer = FrameScorer(model: model)
        let scored = try inputs.score(
            frames, real: real, fake: fake, scorer: scorer,
            recording: FrameEvaluation.evidenceRecordedAlways.union(copyMoveEvidence ? [.copyMove] : []), quiet: quiet)
        let result = EvaluationResult(
            model: modelPath, threshold: model.threshold, split: split.rawValue, scored: scored)
        StandardOutput.print(result.table())
        if let json { try result.write(to: json) }
    }
}

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit a model's frame probability and threshold on held-out frames of a training folder.",
        discussion: """
            Uses the calibration half of the files `unmask train` held out (never training files; --split \
            chooses others): real frames, the same frames with a generated region blended in (--generator), and frames of \
            --fake media, each also after an H.264 round trip at every --h264-crf (default 28). Platt \
            scaling is fitted on the frame scores (with --scale-evidence, --grid-evidence, --lattice-evidence \
            --channel-evidence and --copy-move-evidence, a fusion of the network's score and the training-free \
            scale-, grid-, lattice-, channel-consistency and copy-move evidence, weighed as --evidence-weights says); the threshold is the smallest at or above 0.5 that \
            keeps the false-positive rate within --fpr on the real frames of every variant. Writes the \
            model with the new calibration to --out; then report on the other half with \
            `unmask evaluate --split test`. With --threshold-only the model's calibration stays and only \
            the threshold is set (real frames suffice; fakes, when given, are reported).
            """ + "\n\n" + ExitStatus.help([.success, .failure, .usage, .badMedia, .badModel, .cannotWrite]))

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inputs: EvaluationInputs

    @Option(help: "Write the calibrated model here.")
    var out: String

    @Option(parsing: .unconditional, help: "Largest false-positive rate allowed on real frames at the threshold.")
    var fpr: Double = 0.02

    @Option(
        help: ArgumentHelp(
            "Which files of --real the fit rests on: calibration (half of the files `unmask train` held out; "
                + "`evaluate --split test` reports on the other half), validation (both halves: more real frames "
                + "under the threshold, and no held-out half left to report on), or all (every file; only for a "
                + "folder the model never trained on).",
            valueName: "calibration|validation|all"))
    var split: EvaluationSplit = .calibration

    @Flag(
        help: ArgumentHelp(
            "Also weigh the training-free scale-consistency evidence: the frame score becomes the network's "
                + "area logit plus a fitted weight times the evidence (without this flag, the network alone)."))
    var scaleEvidence = false

    @Flag(
        help: ArgumentHelp(
            "Also weigh the training-free grid-consistency evidence (whether an area keeps the frame's "
                + "8-pixel compression grid), likewise."))
    var gridEvidence = false

    @Flag(
        help: ArgumentHelp(
            "Also weigh the training-free lattice-consistency evidence (whether an area's DCT coefficients "
                + "keep the JPEG quantization of the rest of the frame), likewise."))
    var latticeEvidence = false

    @Flag(
        help: ArgumentHelp(
            "Also weigh the training-free channel-consistency evidence (whether an area's colour channels share "
                + "their finest detail as the rest of the frame's do), likewise."))
    var channelEvidence = false

    @Flag(
        help: ArgumentHelp(
            "Also weigh the training-free copy-move evidence (whether an area repeats another part of the frame, "
                + "texture for texture), likewise."))
    var copyMoveEvidence = false

    @Option(
        help: ArgumentHelp(
            "How the evidence is weighed beside the network: 'fitted', a logistic regression on the real and "
                + "fake frames that keeps only evidence that helps on these fakes; 'real-frames', the network's score "
                + "and each evidence standardized on the real frames, the largest counting, so the fakes (of "
                + "families the model may have trained on) do not decide how much the network is trusted.",
            valueName: "fitted|real-frames"))
    var evidenceWeights: Calibrator.EvidenceWeighting = .fitted

    @Flag(
        help: ArgumentHelp(
            "Fit a size prior first: a frame's score is the largest of its 64-pixel areas, so larger frames score "
                + "higher by chance; the network's score loses the slope of the real frames' scores on ln(areas) "
                + "times the frame's ln(areas), and so does every heatmap cell."))
    var sizePrior = false

    @Flag(
        help: ArgumentHelp(
            "Keep the model's calibration (its probabilities, evidence weights and size prior) and set only the "
                + "threshold on these frames: frames rank exactly as before, and the threshold rests on the real "
                + "frames given here (for instance more of them, or your own footage with --split all)."))
    var thresholdOnly = false

    @Option(
        help: "Also write the calibration frames' results (metrics, per frame with every evidence) as JSON to this file.")
    var json: String?

    @Flag(name: .shortAndLong, help: "No progress line.")
    var quiet = false

    /// The training-free evidences the evidence flags ask to weigh, in `FrameEvidence` order.
    private var fusedEvidence: [FrameEvidence] {
        (scaleEvidence ? [FrameEvidence.scale] : []) + (gridEvidence ? [.grid] : [])
            + (latticeEvidence ? [.lattice] : []) + (channelEvidence ? [.channel] : [])
            + (copyMoveEvidence ? [.copyMove] : [])
    }

    func validate() throws {
        try inputs.check()
        if json != nil && json == out { throw ValidationError("--json and --out name the same file (\(out)).") }
        if !(fpr >= 0 && fpr < 1) { throw ValidationError("--fpr must be in [0, 1) (got \(fpr)).") }
        if split == .test {
            throw ValidationError(
                "--split test is the half `evaluate --split test` reports on; calibrate on calibration, validation or all.")
        }
        if evidenceWeights != .fitted && fusedEvidence.isEmpty {
            throw ValidationError(
                "--evidence-weights \(evidenceWeights.rawValue) needs an evidence to weigh: give --scale-evidence, "
                    + "--grid-evidence, --lattice-evidence, --channel-evidence or --copy-move-evidence.")
        }
        if thresholdOnly && (sizePrior || !fusedEvidence.isEmpty || evidenceWeights != .fitted) {
            throw ValidationError(
                "--threshold-only keeps the model's evidence weights and size prior: drop --size-prior, the evidence "
                    + "flags and --evidence-weights, or drop --threshold-only to fit them anew.")
        }
        if !thresholdOnly && inputs.generator == nil && inputs.media.fake == nil && inputs.zoo.isEmpty
            && inputs.zooExclude.isEmpty
        {
            throw ValidationError("Calibration needs fakes: give --generator, --fake, --zoo or --zoo-exclude.")
        }
    }

    func run() throws {
        global.apply()
        var inputs = self.inputs
        if inputs.h264Crf.isEmpty && inputs.jpegQuality.isEmpty { inputs.h264Crf = [28] }
        let (model, _, frames, real, fake) = try inputs.load(split: split)
        let evidence = fusedEvidence
        let scored = try inputs.score(
            frames, real: real, fake: fake, scorer: FrameScorer(model: model),
            recording: FrameEvaluation.evidenceRecordedAlways.union(evidence), quiet: quiet)
        let calibrator = Calibrator(
            falsePositiveRate: fpr, fusedEvidence: evidence, evidenceWeighting: evidenceWeights, sizePrior: sizePrior,
            keptCalibration: thresholdOnly ? model.calibration : nil)
        let fit = try calibrator.fit(scored)
        calibrator.apply(fit, to: model, realFiles: real.count, split: split)
        let result = EvaluationResult(model: out, threshold: fit.threshold, split: split.rawValue, scored: fit.frames)
        // the JSON first: when it cannot be written, no calibrated model is left to look like a finished run
        if let json { try result.write(to: json) }
        do { try model.save(to: out) } catch { throw Terminal.report(OutputError(path: out, cause: "\(error)")) }
        StandardOutput.print(result.table(perSource: false))
        StandardOutput.print(
            String(format: "Calibration a %.4f, b %.4f", fit.calibration.a, fit.calibration.b)
                + fit.calibration.evidenceSummary + fit.calibration.sizePriorSummary
                + String(format: "; threshold %.4f. Wrote %@", fit.threshold, out))
        if let weakest = fit.weakestGuarantee { StandardOutput.print("Threshold: " + weakest.summary(target: fpr) + ".") }
    }
}

extension EvaluationSplit: ExpressibleByArgument {}
extension Calibrator.EvidenceWeighting: ExpressibleByArgument {}

/// What `evaluate --json` writes, and the tables it prints.
struct EvaluationResult: Encodable {
    struct Source: Encodable {
        var source: String
        var frames: Int
        var isFake: Bool
        var meanProbability: Double
        var flagged: Int
    }

    var model: String
    var threshold: Double
    var split: String
    var overall: FrameMetrics
    var byVariant: [String: FrameMetrics]
    var byKind: [String: FrameMetrics]
    var sources: [Source]
    var frames: [ScoredFrame]

    init(model: String, threshold: Double, split: String, scored: [ScoredFrame]) {
        self.model = model; self.threshold = threshold; self.split = split; frames = scored
        overall = FrameEvaluation.metrics(scored, threshold: threshold)
        byVariant = Dictionary(grouping: scored, by: \.variant).mapValues { FrameEvaluation.metrics($0, threshold: threshold) }
        // each fake kind against all real frames
        let real = scored.filter { !$0.isFake }
        byKind = Dictionary(grouping: scored.filter(\.isFake), by: \.kind).mapValues {
            FrameEvaluation.metrics($0 + real, threshold: threshold)
        }
        let groups = Dictionary(grouping: scored, by: { "\($0.isFake ? "fake" : "real")\u{0}\($0.source)" })
        sources = groups.values.map { group -> Source in
            let mean = group.reduce(0.0) { $0 + $1.probability } / Double(group.count)
            return Source(
                source: group[0].source, frames: group.count, isFake: group[0].isFake, meanProbability: mean,
                flagged: group.filter { $0.probability >= threshold }.count)
        }.sorted { ($0.isFake ? 1 : 0, $0.source) < ($1.isFake ? 1 : 0, $1.source) }
    }

    /// Writes the result as JSON (snake-case keys, non-finite numbers as strings), replacing `path` whole
    /// or not at all.
    func write(to path: String) throws {
        do {
            let encoder = JSON.encoder(pretty: true, snakeCaseKeys: true)
            encoder.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            try ReportWriter.write(try encoder.encode(self), to: path)
        } catch {
            throw Terminal.report(OutputError(path: path, cause: "\(error)"))
        }
    }

    func table(perSource: Bool = true) -> String {
        func f(_ x: Double?) -> String { x.map { $0.isNaN ? "-" : String(format: "%.3f", $0) } ?? "-" }
        func row(_ name: String, _ m: FrameMetrics) -> String {
            let rates: [Double] = [m.auc, m.accuracy, m.falsePositiveRate, m.truePositiveRate]
            let cells: String = rates.map { f($0).padding(toLength: 8, withPad: " ", startingAt: 0) }.joined()
            let counts = String(format: "%6d %6d  ", m.realFrames, m.fakeFrames)
            return name.padding(toLength: 42, withPad: " ", startingAt: 0) + counts + cells
                + f(m.regionHitRate).padding(toLength: 8, withPad: " ", startingAt: 0) + f(m.localizedRate)
        }
        var lines = [
            "Model \(model), threshold \(String(format: "%.4f", threshold)), split \(split)",
            "".padding(toLength: 42, withPad: " ", startingAt: 0)
                + "  real   fake  AUC     acc     FPR     TPR     overlap IoU≥0.3",
            row("all", overall),
        ]
        for (v, m) in byVariant.sorted(by: { $0.key < $1.key }) { lines.append(row("variant " + v, m)) }
        for (k, m) in byKind.sorted(by: { $0.key < $1.key }) { lines.append(row("fake kind " + k, m)) }
        if perSource {
            lines.append("")
            lines.append("Per source (frames, mean probability, frames at or above the threshold):")
            for s in sources {
                lines.append("  \(s.isFake ? "fake" : "real")  \(s.source)  \(s.frames)  \(f(s.meanProbability))  \(s.flagged)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
