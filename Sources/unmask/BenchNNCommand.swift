// `unmask bench nn`: reference-discriminator throughput (inference and training step) with GFLOP/s
// and the fraction of the SGEMM peak of the same run; optionally against PyTorch running the
// identical network (Scripts/bench-pytorch.py --weights), runs interleaved, medians reported.
import ArgumentParser
import Foundation
import NeuralNet
import NeuralNetReference

struct BenchNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract:
            "Reference discriminator images/s and GFLOP/s (inference batch 1, 8, 32; training step), optionally vs PyTorch.",
        discussion: """
            Each run measures every row for at least --seconds; --runs runs are made and the median is reported. \
            With --compare-pytorch PYTHON, `PYTHON Scripts/bench-pytorch.py --weights FILE --json OUT` runs after each \
            of our runs (interleaved) on the same weights and threads, and the ratio ours/PyTorch of the medians is printed. \
            Build with -c release.
            """)

    @Option(help: "Image sizes, comma-separated (multiples of 8).")
    var sizes = "128,64"

    @Option(help: "Inference batch sizes, comma-separated.")
    var batches = "1,8,32"

    @Option(parsing: .unconditional, help: "Training-step batch size (0: no training rows).")
    var trainBatch = 32

    @Option(parsing: .unconditional, help: "Minimum seconds per row and run.")
    var seconds = 2.0

    @OptionGroup var bench: BenchOptions

    @Option(help: "Threads for OpenBLAS and our kernels, and for PyTorch.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(parsing: .unconditional, help: "Seed of the discriminator's initialization.")
    var seed: UInt64 = 0

    @Option(
        help: ArgumentHelp("Write the benchmark discriminator's weights (safetensors, contract keys) to FILE.", valueName: "file")
    )
    var saveWeights: String?

    @Option(
        help: ArgumentHelp(
            "Also run Scripts/bench-pytorch.py with this Python (e.g. /work/.venv-torch/bin/python).", valueName: "python"))
    var comparePytorch: String?

    @Option(help: ArgumentHelp("The PyTorch peer script.", valueName: "path"))
    var script = "Scripts/bench-pytorch.py"

    /// One table row: our median and, when comparing, PyTorch's median and the ratio.
    struct Row: Codable {
        var mode: String
        var size: Int
        var batch: Int
        var imagesPerSecond: Double
        var gflopsPerSecond: Double
        var fractionOfPeak: Double
        var runsImagesPerSecond: [Double]
        var cpuSecondsPerIteration: Double
        var pytorchImagesPerSecond: Double?
        var pytorchRunsImagesPerSecond: [Double]?
        var ratio: Double?
    }

    struct Result: Codable {
        var blasKernel: String
        var threads: Int
        var runs: Int
        var secondsPerRow: Double
        var sgemmPeakGFLOPS: Double
        var sgemmPeakRuns: [Double]
        var loadAverages: [Double]
        var pytorchVersion: String?
        var pytorchLoadAverages: [Double]?
        var weights: String?
        var rows: [Row]
    }

    func run() throws {
        let sizeList = try Self.integers(sizes, "--sizes")
        let batchList = try Self.integers(batches, "--batches")
        guard sizeList.allSatisfy({ $0 >= 8 && $0 % 8 == 0 }) else { throw ValidationError("--sizes must be multiples of 8.") }
        guard threads >= 1, seconds >= 0, trainBatch >= 0 else {
            throw ValidationError("--threads must be 1 or more; --seconds and --train-batch not negative.")
        }
        let runs = bench.runs, json = bench.json
        BLASRuntime.ensureFastKernel()
        BLASRuntime.setThreadCount(threads)

        // The benchmark builds ReferenceDiscriminator(seed:) itself; the same seed gives the same weights.
        var weightsPath = saveWeights
        var temporary: URL?
        if weightsPath == nil, comparePytorch != nil {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("unmask-bench-nn-\(getpid()).safetensors")
            temporary = url
            weightsPath = url.path
        }
        defer { if let temporary { try? FileManager.default.removeItem(at: temporary) } }
        if let weightsPath { try Self.writeWeights(ReferenceDiscriminator(seed: seed), seed: seed, to: weightsPath) }
        if comparePytorch != nil, !FileManager.default.fileExists(atPath: script) {
            throw ValidationError("\(script) not found (run from the repository root or pass --script).")
        }

        var ours: [NeuralNetBenchmark.Result] = []
        var theirs: [PyTorchResult] = []
        for index in 1...runs {
            if !json { Terminal.writeError("run \(index)/\(runs): ours…") }
            ours.append(
                NeuralNetBenchmark.run(
                    imageSizes: sizeList, inferenceBatches: batchList, trainingBatch: trainBatch,
                    minSeconds: seconds, seed: seed, policy: ExecutionPolicy(threads: threads)))
            if let python = comparePytorch, let weightsPath {
                if !json { Terminal.writeError("run \(index)/\(runs): PyTorch…") }
                theirs.append(try runPyTorch(python: python, weights: weightsPath))
            }
        }

        let peaks = ours.map(\.sgemmPeakGFLOPS), peak = median(peaks)
        var rows: [Row] = []
        for (k, first) in ours[0].rows.enumerated() {
            let samples = ours.map { $0.rows[k] }
            let ips = median(samples.map(\.imagesPerSecond)), gflops = median(samples.map(\.gflopsPerSecond))
            var row = Row(
                mode: first.mode, size: first.imageSize, batch: first.batch, imagesPerSecond: ips,
                gflopsPerSecond: gflops, fractionOfPeak: gflops / peak,
                runsImagesPerSecond: samples.map(\.imagesPerSecond),
                cpuSecondsPerIteration: median(samples.map(\.cpuSecondsPerIteration)))
            if !theirs.isEmpty {
                let mode = first.mode == "training" ? "train_step" : first.mode
                let matches = theirs.compactMap {
                    $0.results.first { $0.mode == mode && $0.size == first.imageSize && $0.batch == first.batch }
                }
                if !matches.isEmpty {
                    let theirRates = matches.map(\.images_per_second)
                    row.pytorchImagesPerSecond = median(theirRates)
                    row.pytorchRunsImagesPerSecond = theirRates
                    row.ratio = ips / median(theirRates)
                }
            }
            rows.append(row)
        }
        let result = Result(
            blasKernel: ours[0].blasKernel, threads: ours[0].blasThreads, runs: runs, secondsPerRow: seconds,
            sgemmPeakGFLOPS: peak, sgemmPeakRuns: peaks, loadAverages: ours.map(\.loadAverage),
            pytorchVersion: theirs.first?.torch_version,
            pytorchLoadAverages: theirs.isEmpty ? nil : theirs.map(\.load_average_after),
            weights: saveWeights, rows: rows)
        if json {
            try StandardOutput.printJSON(result)
            return
        }
        let loads = result.loadAverages.map { String(format: "%.2f", $0) }.joined(separator: ", ")
        StandardOutput.print(
            "OpenBLAS \(result.blasKernel), \(result.threads) threads; SGEMM 1024³ peak \(String(format: "%.1f", peak)) GFLOP/s (median); "
                + "median of \(runs) runs, each row ≥ \(seconds) s; load average after our runs: \(loads)")
        if let version = result.pytorchVersion {
            let theirLoads = (result.pytorchLoadAverages ?? []).map { String(format: "%.2f", $0) }.joined(separator: ", ")
            StandardOutput.print(
                "PyTorch \(version), \(threads) threads, same weights; load average after its runs: \(theirLoads)")
        }
        var header = ["mode", "size", "batch", "img/s", "GFLOP/s", "of peak"]
        if result.pytorchVersion != nil { header += ["PyTorch img/s", "ours/PyTorch"] }
        let table = rows.map { row -> [String] in
            var cells = [
                row.mode, "\(row.size)", "\(row.batch)", String(format: "%.1f", row.imagesPerSecond),
                String(format: "%.1f", row.gflopsPerSecond), String(format: "%.0f%%", 100 * row.fractionOfPeak),
            ]
            if result.pytorchVersion != nil {
                cells += [
                    row.pytorchImagesPerSecond.map { String(format: "%.1f", $0) } ?? "–",
                    row.ratio.map { String(format: "%.2f×", $0) } ?? "–",
                ]
            }
            return cells
        }
        StandardOutput.print(TextTable.render(header: header, rows: table))
    }

    /// Bench-pytorch.py's JSON (the fields used here).
    struct PyTorchResult: Decodable {
        struct Entry: Decodable {
            var size: Int
            var mode: String
            var batch: Int
            var images_per_second: Double
        }
        var torch_version: String
        var load_average_after: Double
        var results: [Entry]
    }

    /// Runs the PyTorch script once (one timed run per row, ≥ --seconds each) and decodes its JSON.
    func runPyTorch(python: String, weights: String) throws -> PyTorchResult {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("unmask-bench-nn-torch-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            script, "--weights", weights, "--json", out.path, "--threads", "\(threads)",
            "--sizes", sizes, "--batches", batches, "--train-batch", "\(trainBatch)",
            "--runs", "1", "--warmup", "1", "--min-run-seconds", "\(seconds)",
        ]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            throw OutputError(path: script, cause: "PyTorch benchmark exited with status \(process.terminationStatus): \(text)")
        }
        return try JSONDecoder().decode(PyTorchResult.self, from: Data(contentsOf: out))
    }

    /// Writes every parameter and buffer of `d` (contract keys) as a Float32 safetensors file.
    static func writeWeights(_ d: ReferenceDiscriminator, seed: UInt64, to path: String) throws {
        let state = d.stateDictionary()
        var tensors: [(String, SafeTensorsArray)] = []
        for key in state.keys.sorted() {
            let t = state[key]!  // a key of `state` itself
            tensors.append((key, try SafeTensorsArray(shape: t.shape, floats: t.array)))
        }
        let file = SafeTensorsFile(
            tensors: tensors,
            metadata: [
                "network": "discriminator", "widths": d.widths.map(String.init).joined(separator: ","),
                "seed": "\(seed)", "writer": "unmask bench nn",
            ])
        do { try file.write(toPath: path) } catch { throw OutputError(path: path, cause: "\(error)") }
    }

    static func integers(_ text: String, _ option: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("\(option) needs positive integers separated by commas, got \(text).")
        }
        return values.map { $0! }  // all non-nil: checked above
    }
}
