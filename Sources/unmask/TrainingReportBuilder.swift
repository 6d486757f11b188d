// The HTML training report of `unmask train`: charts drawn from the whole JSONL log (so a resumed run
// shows its full history) and 16 samples of the generator in eval mode. It lives in the CLI because it
// joins Detector's log and generator with Audit's report, and Audit does not import Detector.
import Audit
import Detector
import Foundation
import MediaIO
import NeuralNet

enum TrainingReportBuilder {
    static func report(
        logPath: String, summary: [(key: String, value: String)], generator: any PatchGenerator,
        title: String = "Unmask training run"
    ) throws -> TrainingReport {
        let log = try TrainingLog(contentsOfFile: logPath)
        var summary = summary
        if log.skippedLines > 0 {
            summary.append(("Log", "\(log.skippedLines) line(s) of \(logPath) could not be read and are not charted"))
        }
        return TrainingReport(
            title: title, summary: summary, charts: charts(log.entries), samples: samples(generator),
            createdAt: Date())
    }

    /// Losses from step entries; AUC (overall, on training files, per fake kind), false-positive rate
    /// and diversity from validation entries. Numbers that are not finite are left out.
    static func charts(_ entries: [TrainingLogEntry]) -> [TrainingReport.Chart] {
        var discriminatorLoss: [(x: Double, y: Double)] = [], generatorLoss: [(x: Double, y: Double)] = []
        var auc: [String: [(x: Double, y: Double)]] = [:]
        var falsePositiveRate: [(x: Double, y: Double)] = [], diversity: [(x: Double, y: Double)] = []
        func add(_ y: Double?, at step: Int, to series: inout [(x: Double, y: Double)]) {
            if let y, y.isFinite { series.append((Double(step), y)) }
        }
        func addAUC(_ y: Double, at step: Int, to name: String) {
            if y.isFinite { auc[name, default: []].append((Double(step), y)) }
        }
        for entry in entries {
            switch entry.event {
            case .step(let step):
                add(step.discriminatorLoss, at: step.step, to: &discriminatorLoss)
                add(step.generatorLoss, at: step.step, to: &generatorLoss)
            case .validation(let validation):
                addAUC(validation.auc, at: validation.step, to: "all")
                addAUC(validation.trainingAUC, at: validation.step, to: "training files")
                for (kind, value) in validation.aucByKind { addAUC(value, at: validation.step, to: kind) }
                add(validation.falsePositiveRate, at: validation.step, to: &falsePositiveRate)
                add(validation.diversity, at: validation.step, to: &diversity)
            default: continue
            }
        }
        let aucOrder = ["all", "training files"] + auc.keys.filter { $0 != "all" && $0 != "training files" }.sorted()
        return [
            TrainingReport.Chart(
                title: "Losses", yLabel: "loss",
                series: [
                    .init(name: "discriminator", points: discriminatorLoss), .init(name: "generator", points: generatorLoss),
                ]),
            TrainingReport.Chart(
                title: "Validation AUC (held-out files; per fake kind)", yLabel: "AUC",
                series: aucOrder.compactMap { name in auc[name].map { .init(name: name, points: $0) } }, yRange: 0...1),
            TrainingReport.Chart(
                title: "False-positive rate of real validation patches at score 0", yLabel: "FPR",
                series: [.init(name: "FPR", points: falsePositiveRate)], yRange: 0...1),
            TrainingReport.Chart(
                title: "Generator diversity (generated / real pairwise distance)", yLabel: "ratio",
                series: [.init(name: "diversity", points: diversity)]),
        ]
    }

    /// 16 generator samples in eval mode from fixed latents (seed 99).
    static func samples(_ generator: any PatchGenerator) -> [TrainingReport.Sample] {
        var rng = RandomGenerator(seed: 99)
        let z = Tensor(shape: [0])  // (16, Z)
        generator.eval()
        generator.sampleLatents(z, count: 16, rng: &rng)
        let images = generator.forward(z)  // (16, 3, P, P)
        let P = generator.architecture.patchSize, n = 3 * P * P
        return (0..<16).map { i in
            TrainingReport.Sample(
                image: RGBImage(width: P, height: P, pixels: Array(UnsafeBufferPointer(start: images.pointer + i * n, count: n))))
        }
    }
}
