// `unmask bench`: speed measurements, each compared with a peer measured in the same run
// (ffmpeg for decoding, another OpenBLAS kernel for SGEMM), as medians of several runs.
import ArgumentParser
import Foundation
import MediaIO
import NeuralNet
import NeuralNetReference

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure decoding, scanning, SGEMM and network speed on this machine (build with -c release).",
        discussion: ExitStatus.help([.success, .failure, .usage, .badMedia, .badModel, .cannotWrite]),
        subcommands: [
            DecodeBenchCommand.self, ScanBenchCommand.self, ScoreBenchCommand.self, GEMMBenchCommand.self,
            BenchNNCommand.self, UntrainedModelCommand.self, LearnBenchCommand.self,
        ])
}

/// Median of a non-empty list.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Seconds taken by `body`.
func timed(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

struct DecodeBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Frames per second decoding FILE: ours without conversion, ours with conversion to Float32 RGB, and ffmpeg.",
        discussion:
            "ffmpeg runs as `ffmpeg -threads N -i FILE -f null -` in the same run; runs are interleaved and the median is reported."
    )

    @OptionGroup var global: GlobalOptions

    @OptionGroup var bench: BenchOptions

    @Option(parsing: .unconditional, help: "Decoder threads, for us and for ffmpeg.")
    var threads = 2

    @Argument(help: "A video file (for the README's figure: 1080p H.264).")
    var file: String

    struct Result: Codable {
        var file: String
        var frames: Int
        var threads: Int
        var runs: Int
        var oursDecodeFPS: Double
        var oursDecodeAndConvertFPS: Double
        var ffmpegFPS: Double?
        var ratioOursToFFmpeg: Double?
        var conversionMillisecondsPerFrame: Double
    }

    func run() throws {
        global.apply()
        guard threads >= 1 else { throw ValidationError("--threads must be 1 or more.") }
        let runs = bench.runs, json = bench.json
        do {
            let info = try MediaInfo.probe(path: file)
            let ffmpeg = Self.findExecutable("ffmpeg")
            if ffmpeg == nil { Terminal.warn("ffmpeg not found on PATH: measuring ours only (apt-get install ffmpeg)") }
            var decodeSeconds: [Double] = [], convertSeconds: [Double] = [], ffmpegSeconds: [Double] = []
            var ratios: [Double] = []
            var frames = 0
            for run in 1...runs {
                var count = 0
                let decodeTime = try timed {
                    let decoder = try VideoDecoder(path: file, threads: threads)
                    while try decoder.nextFrameWithoutConversion() != nil { count += 1 }
                }
                frames = count
                let convertTime = try timed {
                    let decoder = try VideoDecoder(path: file, threads: threads)
                    var image = RGBImage(width: 0, height: 0)
                    while try decoder.nextFrame(into: &image) != nil {}
                }
                decodeSeconds.append(decodeTime)
                convertSeconds.append(convertTime)
                if let ffmpeg {
                    let ffmpegTime = try timed { try Self.runFFmpeg(ffmpeg, file: file, threads: threads) }
                    ffmpegSeconds.append(ffmpegTime)
                    ratios.append(ffmpegTime / decodeTime)
                }
                if !json {
                    Terminal.writeError(
                        "run \(run)/\(runs): ours \(String(format: "%.2f", decodeTime)) s, with conversion \(String(format: "%.2f", convertTime)) s\(ffmpegSeconds.last.map { String(format: ", ffmpeg %.2f s", $0) } ?? "")"
                    )
                }
            }
            let result = Result(
                file: file, frames: frames, threads: threads, runs: runs,
                oursDecodeFPS: Double(frames) / median(decodeSeconds),
                oursDecodeAndConvertFPS: Double(frames) / median(convertSeconds),
                ffmpegFPS: ffmpegSeconds.isEmpty ? nil : Double(frames) / median(ffmpegSeconds),
                ratioOursToFFmpeg: ratios.isEmpty ? nil : median(ratios),
                conversionMillisecondsPerFrame: (median(convertSeconds) - median(decodeSeconds)) / Double(max(frames, 1)) * 1000)
            if json {
                try StandardOutput.printJSON(result)
            } else {
                StandardOutput.print(
                    """
                    \(file): \(info.videoCodec) \(info.width)×\(info.height), \(frames) frames, \(threads) decoder threads, median of \(runs) runs
                      ours, decode only          \(String(format: "%8.1f", result.oursDecodeFPS)) frames/s
                      ours, decode + Float32 RGB \(String(format: "%8.1f", result.oursDecodeAndConvertFPS)) frames/s  (conversion \(String(format: "%.2f", result.conversionMillisecondsPerFrame)) ms/frame)
                      ffmpeg -f null             \(result.ffmpegFPS.map { String(format: "%8.1f frames/s", $0) } ?? "       - (not installed)")
                      ours / ffmpeg              \(result.ratioOursToFFmpeg.map { String(format: "%8.2f×", $0) } ?? "       -")
                    """)
            }
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            throw Terminal.report(error)
        }
    }

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func runFFmpeg(_ executable: String, file: String, threads: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-nostdin", "-v", "error", "-threads", "\(threads)", "-i", file, "-an", "-f", "null", "-"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OutputError(path: file, cause: "ffmpeg exited with status \(process.terminationStatus)")
        }
    }
}

struct GEMMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "OpenBLAS SGEMM GFLOP/s at square sizes 256–2048 and at the detector's convolution shapes.")

    @OptionGroup var bench: BenchOptions

    @Option(parsing: .unconditional, help: "OpenBLAS threads.")
    var threads = 2

    @Option(
        help: ArgumentHelp(
            "Also measure this OpenBLAS kernel in the same run, for comparison (e.g. Prescott, the SSE3 fallback).",
            valueName: "kernel"))
    var compareKernel: String?

    struct Result: Codable {
        var kernel: String
        var threads: Int
        var measurements: [GEMMMeasurement]
        var comparisonKernel: String?
        var comparison: [GEMMMeasurement]?
    }

    func run() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be 1 or more.") }
        let runs = bench.runs, json = bench.json
        BLASRuntime.setThreadCount(threads)
        let kernel = BLASRuntime.kernelName
        let measurements = GEMMBenchmark.measure(runs: runs)
        var result = Result(kernel: kernel, threads: BLASRuntime.threadCount, measurements: measurements)
        if let compareKernel {
            let previousSetting = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
            guard BLASRuntime.selectKernel(compareKernel) else {
                throw ValidationError("This OpenBLAS cannot switch kernels at run time.")
            }
            result.comparisonKernel = BLASRuntime.kernelName
            result.comparison = GEMMBenchmark.measure(runs: runs)
            BLASRuntime.selectKernel(kernel)
            if let previousSetting { setenv("OPENBLAS_CORETYPE", previousSetting, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
        }
        if json {
            try StandardOutput.printJSON(result)
            return
        }
        var header = ["shape", "M", "N", "K", "\(kernel) GFLOP/s"]
        if let name = result.comparisonKernel { header += ["\(name) GFLOP/s", "ratio"] }
        let rows = measurements.enumerated().map { index, measurement -> [String] in
            var row = [
                measurement.label, "\(measurement.m)", "\(measurement.n)", "\(measurement.k)",
                String(format: "%.1f", measurement.gflops),
            ]
            if let other = result.comparison?[index] {
                row += [String(format: "%.1f", other.gflops), String(format: "%.2f×", measurement.gflops / other.gflops)]
            }
            return row
        }
        StandardOutput.print("OpenBLAS kernel \(kernel), \(result.threads) threads, median of \(runs) runs")
        StandardOutput.print(TextTable.render(header: header, rows: rows))
    }
}
