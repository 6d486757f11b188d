// `unmask models [DIR]`: the detector models in a folder with their training numbers, calibration and
// lineage (which model each was retrained from, on what, the guard's before/after and the decision).
import ArgumentParser
import Audit
import Detector
import Foundation

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the detector models in a folder with their metrics and lineage.",
        discussion: "Files that are not detector models (generators, checkpoints) are listed as such.\n\n"
            + ExitStatus.help([.success, .failure, .usage, .badMedia]))

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Folder of models.")
    var folder: String = "Models"

    @Flag(help: "Print the models (training summary and lineage included) as JSON.")
    var json = false

    /// One model as `--json` prints it.
    struct Entry: Encodable {
        var name: String
        var sha256: String
        var architecture: DetectorArchitecture
        var calibration: Calibration
        var threshold: Double
        var training: TrainingSummary
    }

    func run() throws {
        global.apply()
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".safetensors") }.sorted()
        } catch {
            Terminal.writeError("unmask: \(folder): cannot list the folder (missing or not a folder)")
            throw ExitCode(.badMedia)
        }
        var models: [(name: String, sha256: String, model: DetectorModel)] = []
        var others: [String] = []
        for name in names {
            let path = folder + "/" + name
            do {
                let model = try DetectorModel.load(path: path)
                models.append((name, (try? FileDigest.sha256Hex(path: path)) ?? "unknown", model))
            } catch {
                others.append("\(name): not a detector model (\(error))")
            }
        }
        if json {
            let encoder = JSON.encoder(pretty: true)
            // an interval that could not be measured (no frames of a kind) is NaN
            encoder.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let entries = models.map {
                Entry(
                    name: $0.name, sha256: $0.sha256, architecture: $0.model.architecture, calibration: $0.model.calibration,
                    threshold: $0.model.threshold, training: $0.model.training)
            }
            StandardOutput.print(String(decoding: try encoder.encode(entries), as: UTF8.self))
            return
        }
        let nameBySHA = Dictionary(models.map { ($0.sha256, $0.name) }, uniquingKeysWith: { first, _ in first })
        var lines: [String] = []
        if models.isEmpty { lines.append("No detector models in \(folder).") }
        for (name, sha, model) in models {
            let t = model.training
            lines.append("\(name)  sha256 \(sha.prefix(12))…  \(model.architecture)")
            lines.append(
                "  trained \(t.steps) steps on \(t.realFiles) real / \(t.fakeFiles) fake files; validation AUC "
                    + "\(t.validationAUC.map { String(format: "%.3f", $0) } ?? "-"); threshold \(String(format: "%.3f", model.threshold)), "
                    + "Platt a \(String(format: "%.3f", model.calibration.a)), b \(String(format: "%.3f", model.calibration.b))"
                    + model.calibration.evidenceSummary + model.calibration.sizePriorSummary)
            guard let lineage = t.lineage else {
                lines.append("  lineage: none recorded (trained from scratch or before lineage was kept)")
                continue
            }
            let parent = nameBySHA[lineage.parentSHA256].map { "\($0), " } ?? ""
            lines.append(
                "  retrained from \(lineage.parentName) (\(parent)sha256 \(lineage.parentSHA256.prefix(12))…) on \(lineage.date): "
                    + lineage.decision.rawValue)
            let r = lineage.guardReport
            lines.append(
                String(
                    format: "  new fakes AUC %.3f → %.3f; standing AUC %.3f → %.3f; real frames called fake %.3f → %.3f",
                    r.before.newFakesAUC.value, r.after.newFakesAUC.value, r.before.standingAUC.value, r.after.standingAUC.value,
                    r.before.realFalsePositiveRate.value, r.after.realFalsePositiveRate.value))
            lines.append(
                "  data: \(lineage.data.realFiles) real files (\(lineage.data.realFolder)), \(lineage.data.fakeFiles) new fakes "
                    + "(\(lineage.data.fakeFolder)); \(lineage.data.fakeAreas)")
            if let folder = lineage.data.guardRealFolder, let count = lineage.data.guardRealFiles {
                var line = "  guard-only real: \(count) files (\(folder))"
                if let b = r.before.guardOnlyFalsePositiveRate, let a = r.after.guardOnlyFalsePositiveRate {
                    line += String(format: ", called fake %.3f → %.3f", b.value, a.value)
                }
                lines.append(line)
            }
            for reason in lineage.reasons { lines.append("  guard objected: \(reason)") }
            lines.append("  command: \(lineage.command)")
        }
        for other in others { lines.append(other) }
        StandardOutput.print(lines.joined(separator: "\n"))
    }
}
