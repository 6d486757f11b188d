// `unmask bench score`: wall and CPU seconds per frame of the frame scorer alone (no decoding) for
// lane × batch configurations, alternating in one process; and `unmask bench untrained-model`, which
// writes an untrained model (standard or a candidate architecture) for `bench scan --model`.
import ArgumentParser
import Detector
import Foundation
import MediaIO
import NeuralNet
import NeuralNetReference

struct ScoreBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Seconds per frame of the detector's frame scorer (no decoding) for lane × batch configurations.",
        discussion: """
            Scores one seeded noise frame at full coverage. Every run scores it once with each configuration \
            in turn (after one warm-up each), so all see the same machine load; medians over the runs are \
            reported. The cost does not depend on the weights: without --model an untrained model of the \
            standard architecture is used. Build with -c release.
            """)

    @Option(help: "Detector model file (default: an untrained model of the standard architecture).")
    var model: String?

    @Option(parsing: .unconditional, help: "Frame width in pixels.")
    var width = 1920

    @Option(parsing: .unconditional, help: "Frame height in pixels.")
    var height = 1080

    @Option(
        help: ArgumentHelp(
            "Configurations to compare, comma-separated, each LANESxBATCH (scoring threads × windows per batch).",
            valueName: "configurations"))
    var configurations = "1x4,2x2,2x4,2x8"

    @OptionGroup var bench: BenchOptions

    struct Row: Codable {
        var lanes: Int
        var batch: Int
        var wallSecondsPerFrame: Double
        var cpuSecondsPerFrame: Double
        var runsWallSeconds: [Double]
    }

    struct Result: Codable {
        var model: String
        var width: Int
        var height: Int
        var windows: Int
        var gflopPerFrame: Double
        var runs: Int
        var rows: [Row]
    }

    func validate() throws {
        _ = try Self.parse(configurations)
        guard width >= 16, height >= 16 else { throw ValidationError("--width and --height must be 16 or more.") }
    }

    func run() throws {
        let runs = bench.runs, json = bench.json
        let lanesAndBatches = try Self.parse(configurations)
        let detector = try model.map { try ModelLocator.load(explicit: $0).0 } ?? DetectorModel(architecture: .standard, seed: 1)
        let image = Self.noiseFrame(width: width, height: height, seed: 4)
        let scorers = lanesAndBatches.map { FrameScorer(model: detector, batchSize: $0.batch, threads: $0.lanes) }
        var windows = 0
        for scorer in scorers { windows = try scorer.score(image).windowsScored }
        var wall = [[Double]](repeating: [], count: scorers.count), cpu = wall
        for run in 1...runs {
            if !json { Terminal.writeError("run \(run)/\(runs)…") }
            for (i, scorer) in scorers.enumerated() {
                let cpuStart = NeuralNetBenchmark.processCPUSeconds()
                wall[i].append(try timed { _ = try scorer.score(image) })
                cpu[i].append(NeuralNetBenchmark.processCPUSeconds() - cpuStart)
            }
        }
        let rows = lanesAndBatches.enumerated().map { i, configuration in
            Row(
                lanes: configuration.lanes, batch: configuration.batch, wallSecondsPerFrame: median(wall[i]),
                cpuSecondsPerFrame: median(cpu[i]), runsWallSeconds: wall[i])
        }
        let result = Result(
            model: model ?? "untrained standard architecture", width: width, height: height, windows: windows,
            gflopPerFrame: scorers[0].flops(height: height, width: width) / 1e9, runs: runs, rows: rows)
        if json {
            try StandardOutput.printJSON(result)
            return
        }
        StandardOutput.print(
            "\(width)×\(height), full coverage: \(windows) windows, \(String(format: "%.1f", result.gflopPerFrame)) GFLOP per frame; median of \(runs) runs"
        )
        let table = rows.map { row in
            [
                "\(row.lanes)", "\(row.batch)", String(format: "%.3f", row.wallSecondsPerFrame),
                String(format: "%.3f", row.cpuSecondsPerFrame),
                String(format: "%.1f", result.gflopPerFrame / row.wallSecondsPerFrame),
            ]
        }
        StandardOutput.print(
            TextTable.render(header: ["lanes", "batch", "wall s/frame", "CPU s/frame", "GFLOP/s"], rows: table))
    }

    /// "1x4,2x2" → [(1, 4), (2, 2)].
    static func parse(_ text: String) throws -> [(lanes: Int, batch: Int)] {
        let parsed = text.split(separator: ",", omittingEmptySubsequences: false).map { item -> (lanes: Int, batch: Int)? in
            let parts = item.trimmingCharacters(in: .whitespaces).split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] >= 1, parts[1] >= 1 else { return nil }
            return (parts[0], parts[1])
        }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--configurations takes LANESxBATCH pairs separated by commas, e.g. 1x4,2x4 (got \(text)).")
        }
        return parsed.compactMap { $0 }
    }

    /// A frame of seeded uniform noise in 0…1 (scoring cost does not depend on the content).
    static func noiseFrame(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        var rng = RandomGenerator(seed: seed)
        for i in 0..<image.pixels.count { image.pixels[i] = rng.uniform() }
        return image
    }
}

struct UntrainedModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "untrained-model",
        abstract: "Write an untrained detector model (for `bench scan --model`).",
        discussion: """
            Scoring costs the same whatever the weights, so speed can be measured before a model is trained. \
            Without --residual-inputs or --stem-width the model has the standard architecture; with them, an \
            architecture candidate.
            """)

    @Option(help: ArgumentHelp("Where to write the model (safetensors).", valueName: "file"))
    var out: String

    @Option(parsing: .unconditional, help: "Seed of the weights.")
    var seed: UInt64 = 1

    @OptionGroup var architecture: DetectorArchitectureOptions

    func run() throws {
        let model = DetectorModel(architecture: architecture.applied(to: .standard), seed: seed)
        model.training.notes = "untrained (unmask bench untrained-model, seed \(seed)); for speed measurements only"
        do { try model.save(to: out) } catch { throw Terminal.report(OutputError(path: out, cause: "\(error)")) }
        let gflop = FrameScorer(model: model).flops(height: 1080, width: 1920) / 1e9
        StandardOutput.print(
            "Wrote an untrained model (\(architecture.summary()) architecture, "
                + String(format: "%.2f GFLOP per 1920×1080 frame", gflop) + ") to \(out)")
    }
}
