// `unmask bench learn`: whether a detector architecture can learn the zoo's families at all, with
// the adversarial game and the training recipe taken out (fixed real/fake pairs, supervised loss
// only, per-family AUC on training and held-out files as training goes).
import ArgumentParser
import Detector
import Foundation
import MediaIO

struct LearnBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Train a detector on fixed zoo pairs, supervised only, and print per-family AUCs.",
        discussion: """
            Draws --pairs pairs from the training files of --real and --validation-pairs from its held-out \
            files: a textured crop of a frame and the same crop with a region made by a zoo family, both \
            through one re-encoding (JPEG q60–98, H.264 CRF 18–35 or none). First prints, per family, how far \
            the fakes are from their real partners inside and outside the region (is there a trace to learn). \
            Then trains a fresh detector on the pairs with the per-cell and global BCE alone and prints, every \
            --evaluate-every steps, each family's AUC of fake against real partner (patch score: highest cell \
            logit) on the training pairs and on the held-out ones. A family that stays near 0.5 on the \
            training pairs is not learned by that architecture at all. Families named by --held-out-family \
            are never trained on: --validation-pairs more pairs of theirs are drawn from the held-out files, \
            and their AUC (shown as "-/0.xx") measures transfer to a family the detector never saw. With \
            --out, the trained detector is written as an uncalibrated model, for `unmask evaluate` on whole \
            frames. A frame's score is its most suspicious window, so each family's held-out fakes are also \
            counted against the 99th percentile of --tail-windows random real windows of the held-out files \
            (the third figure, "t0.xx": the share above it). --hard-negatives N adds N of the highest-scoring \
            real windows (mined from --hard-negative-candidates random windows of the training files every \
            --hard-negative-every steps) to every batch.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Folder of real media (split by file into training and held-out).", valueName: "dir"))
    var real: String

    @Option(
        name: .customLong("family"),
        help: ArgumentHelp(
            "Zoo families or groups to draw from (repeatable, comma-separated; default every one).", valueName: "name"))
    var familyNames: [String] = []

    @Option(
        name: .customLong("held-out-family"),
        help: ArgumentHelp(
            "Zoo families or groups never trained on, evaluated on held-out files only (repeatable, comma-separated).",
            valueName: "name"))
    var heldOutNames: [String] = []

    @Option(help: ArgumentHelp("A folder of trained zoo generators (e.g. Models/zoo).", valueName: "dir"))
    var zooGenerators: String?

    @Option(parsing: .unconditional, help: "Training pairs.")
    var pairs = 1024

    @Option(parsing: .unconditional, help: "Held-out pairs.")
    var validationPairs = 256

    @Option(parsing: .unconditional, help: "Training steps.")
    var steps = 1000

    @Option(parsing: .unconditional, help: "Pairs per batch (each step sees twice as many patches).")
    var batchPairs = 16

    @Option(parsing: .unconditional, help: "Evaluate every N steps.")
    var evaluateEvery = 100

    @Option(parsing: .unconditional, help: "Adam learning rate.")
    var lr: Float = 2e-4

    @Flag(help: "Decay the learning rate along a cosine over the --steps, to 1 % of --lr at the last step.")
    var cosineDecay = false

    @Option(parsing: .unconditional, help: "Adam β₁.")
    var beta1: Float = 0.5

    @Option(
        help: ArgumentHelp("Sides of the fake region in pixels, e.g. 12-62.", valueName: "min-max"),
        transform: { try RangeArgument.parse($0, example: "12-62") })
    var regionSides: ClosedRange<Int> = 12...62

    @Option(
        help: ArgumentHelp(
            "Side of the crop each fake is made in (default twice the patch side, at most 8×): with a larger "
                + "context, --region-sides may exceed the patch, which then sees part of the region.",
            valueName: "pixels"))
    var contextSide: Int?

    @Flag(help: "No re-encoding of the pairs.")
    var noEncoding = false

    @Option(
        help: ArgumentHelp("Channel widths of the detector's three resolution levels, e.g. 16,32,64.", valueName: "list"),
        transform: TrainingRecipeOptions.widthList)
    var widths: [Int]?

    @Option(parsing: .unconditional, help: "Patch side: 64, 128 or 256 (the inference window).")
    var patchSize = 64

    @OptionGroup var architecture: DetectorArchitectureOptions

    @Option(parsing: .unconditional, help: "Frames read per file.")
    var framesPerFile = 4

    @Option(parsing: .unconditional, help: "Random real windows of the held-out files that set the tail threshold (0: none).")
    var tailWindows = 2048

    @Option(parsing: .unconditional, help: "Mined hard real windows added to every batch (0: none).")
    var hardNegatives = 0

    @Option(parsing: .unconditional, help: "Random real windows of the training files to mine hard negatives from.")
    var hardNegativeCandidates = 4096

    @Option(parsing: .unconditional, help: "How many of the highest-scoring candidates are kept as hard negatives.")
    var hardNegativeSelect = 256

    @Option(parsing: .unconditional, help: "Re-mine the hard negatives every N steps.")
    var hardNegativeEvery = 250

    @OptionGroup var pooled: PooledLossOptions

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Redraw training pairs whose region changed the window by less than this mean |fake − real| (0…1, after "
                + "the re-encoding; 0 = keep every pair). Held-out pairs are never filtered.", valueName: "change"))
    var minimumRegionChange: Float = 0

    @Option(parsing: .unconditional, help: "Random seed.")
    var seed: UInt64 = 1

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    @Option(
        help: ArgumentHelp(
            "Write the trained detector here as an uncalibrated model (a new file in an existing folder).",
            valueName: "file"))
    var out: String?

    func validate() throws {
        guard pairs >= 1, validationPairs >= 1, steps >= 0, batchPairs >= 1, evaluateEvery >= 1, framesPerFile >= 1 else {
            throw ValidationError(
                "--pairs, --validation-pairs, --batch-pairs, --evaluate-every and --frames-per-file must be ≥ 1.")
        }
        guard [64, 128, 256].contains(patchSize) else { throw ValidationError("--patch-size must be 64, 128 or 256.") }
        guard (0...1).contains(minimumRegionChange) else {
            throw ValidationError("--minimum-region-change must be in 0…1 (got \(minimumRegionChange)).")
        }
        _ = try pooled.loss(patchSize: patchSize)
        if let contextSide, !(2 * patchSize...8 * patchSize).contains(contextSide) {
            throw ValidationError(
                "--context-side must be in \(2 * patchSize)…\(8 * patchSize), 2 to 8 patch sides (got \(contextSide)).")
        }
    }

    func run() throws {
        global.apply()
        if let out { try OutputError.checkNewFile(out) }
        var config = LearnabilityConfig()
        config.architecture = architecture.applied(to: .standard)
        if let widths { config.architecture.widths = widths }
        config.architecture.patchSize = patchSize
        config.families = FamilyNames.split(familyNames)
        config.heldOutFamilies = FamilyNames.split(heldOutNames)
        config.trainedGenerators = zooGenerators
        config.trainingPairs = pairs
        config.validationPairs = validationPairs
        config.batchPairs = batchPairs
        config.learningRate = lr
        config.decaySteps = cosineDecay ? steps : 0
        config.beta1 = beta1
        config.regionSide = regionSides
        config.contextSide = contextSide
        if noEncoding { config.encoding = .none }
        config.tailWindows = tailWindows
        config.hardNegativesPerBatch = hardNegatives
        config.hardNegativeCandidates = hardNegativeCandidates
        config.hardNegativeSelect = hardNegativeSelect
        config.hardNegativeEvery = hardNegativeEvery
        config.minimumRegionChange = minimumRegionChange
        config.pooledLoss = try pooled.loss(patchSize: patchSize)
        config.seed = seed

        let data: MediaSplit
        do {
            data = try MediaFolderLoader(framesPerFile: framesPerFile).load(folder: real, role: "real")
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badMedia)
        }
        let start = Date()
        let probe: LearnabilityProbe
        do { probe = try LearnabilityProbe(config: config, data: data) } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.usage)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func emit<T: Encodable>(_ value: T, _ text: String) throws {
            if json { print(String(decoding: try encoder.encode(value), as: UTF8.self)) } else { print(text) }
            fflush(nil)  // every C stream: progress shows as it comes when the output is a file or a pipe
        }
        if !json {
            print(
                "\(probe.trainingPairs.count) training and \(probe.validationPairs.count) held-out pairs from "
                    + "\(data.training.count) + \(data.validation.count) files in \(String(format: "%.1f", Date().timeIntervalSince(start))) s; "
                    + "\(config.architecture.widths.map(String.init).joined(separator: ",")), patch \(patchSize)")
            print("family                       pairs  |fake−real| inside  outside  coverage")
        }
        for s in probe.signal() {
            try emit(
                s,
                s.family.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + String(
                        format: " %5d  %18.4f  %7.4f  %8.2f", s.pairs, s.meanDifferenceInside, s.meanDifferenceOutside, s.coverage
                    ))
        }
        var lossSum = 0.0, lossCount = 0, last = Date()
        for step in 1...max(1, steps) where steps > 0 {
            lossSum += Double(probe.trainStep()); lossCount += 1
            guard step % evaluateEvery == 0 || step == steps else { continue }
            let tail = probe.tailThreshold()
            let evaluation = LearnabilityEvaluation(
                step: step, loss: lossSum / Double(lossCount), seconds: Date().timeIntervalSince(last),
                families: probe.evaluate(tail: tail), tailThreshold: tail)
            let cells = evaluation.families.map {
                "\($0.family) \($0.trainingAUC.map { String(format: "%.2f", $0) } ?? "-")/\(String(format: "%.2f", $0.validationAUC))"
                    + ($0.validationTailTPR.map { String(format: " t%.2f", $0) } ?? "")
            }
            try emit(
                evaluation,
                String(format: "step %5d  loss %.3f  %5.1f s  ", step, evaluation.loss, evaluation.seconds)
                    + cells.joined(separator: "  "))
            lossSum = 0; lossCount = 0; last = Date()
        }
        if let out {
            let model = DetectorModel(discriminator: probe.discriminator)
            model.training.steps = probe.step
            model.training.notes =
                "bench learn: \(probe.step) supervised steps on \(probe.trainingPairs.count) fixed zoo pairs (families: "
                + "\(familyNames.isEmpty ? "all" : familyNames.joined(separator: ",")); held out: "
                + "\(heldOutNames.isEmpty ? "none" : heldOutNames.joined(separator: ","))), "
                + (hardNegatives > 0 ? "\(hardNegatives) hard real negatives per batch, " : "")
                + (config.pooledLoss.map {
                    "pooled loss ×\($0.weight) at τ \($0.temperature) over \($0.areaCells)² cells, "
                } ?? "")
                + "learning rate \(lr)\(cosineDecay ? " with cosine decay" : ""), seed \(seed); uncalibrated"
            do { try model.save(to: out) } catch { throw Terminal.report(OutputError(path: out, cause: "\(error)")) }
            if !json { print("Wrote the detector (uncalibrated) to \(out)") }
        }
    }
}
