// `unmask bench scan`: the end-to-end time of `unmask scan FILE` at its default settings against
// decoding the same whole file with our decoder, measured in the same run (runs alternate, median).
import ArgumentParser
import Audit
import Detector
import Foundation
import MediaIO

struct ScanBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Time `unmask scan FILE` at default settings against decoding FILE alone.",
        discussion: """
            Each run decodes the whole file with our decoder (no conversion, no scoring) and scans it as \
            `unmask scan FILE` does by default (sampling, decoding thread, scoring, aggregation, file \
            digest, thumbnails; writing the report is excluded). The two alternate, the order flipping \
            every run, and the medians are reported. The sampling options mean what they mean for \
            `unmask scan` (e.g. --fps 2 --keyframes prices a denser default). Without a trained model, pass \
            an untrained one with --model: the cost does not depend on the weights.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var modelOption: ModelOption
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var scanning: ScanningOptions
    @OptionGroup var bench: BenchOptions

    @Argument(help: "A video file (for the README's figure: 60 s of 1080p30 H.264).")
    var file: String

    struct Result: Codable {
        var file: String
        var model: String
        var runs: Int
        var sampling: String
        var durationSeconds: Double?
        var framesDecoded: Int
        var framesAnalysed: Int
        var scanSeconds: Double
        var decodeSeconds: Double
        /// Median over runs of scan / decode, each pair measured back to back.
        var ratioScanToDecode: Double
        var analysedFramesPerSecond: Double
        /// Median time the scan spent scoring (the rest is decoding, waiting and aggregation).
        var scoreSeconds: Double
        var scoreSecondsPerFrame: Double
        var scanSecondsPerMinuteOfVideo: Double?
        var decodeSecondsPerMinuteOfVideo: Double?
    }

    func run() throws {
        global.apply()
        let runs = bench.runs, json = bench.json
        let (detector, modelPath) = try ModelLocator.load(
            explicit: modelOption.model, maximumFileSize: modelOption.maximumFileSize)
        var options = ScanOptions()  // what `unmask scan FILE` uses with the same sampling options
        options.sampling = try sampling.sampling(default: ScanOptions.defaultSampling)
        options.maxFrames = sampling.maxFrames
        options.startTime = sampling.start
        options.endTime = sampling.end
        scanning.apply(to: &options)
        do {
            let info = try MediaInfo.probe(path: file)
            let scorer = DetectorScoring(model: detector, modelPath: modelPath)
            var scanSeconds: [Double] = [], decodeSeconds: [Double] = [], scoreSeconds: [Double] = [], ratios: [Double] = []
            var framesDecoded = 0, framesAnalysed = 0
            for run in 1...runs {
                var scan = 0.0, decode = 0.0
                // Alternate which goes first, so neither always meets a warmer cache or a quieter machine.
                for step in (run % 2 == 1 ? [0, 1] : [1, 0]) {
                    if step == 0 {
                        var count = 0
                        decode = try timed {
                            let decoder = try VideoDecoder(path: file, threads: options.decoderThreads)
                            while try decoder.nextFrameWithoutConversion() != nil { count += 1 }
                        }
                        framesDecoded = count
                    } else {
                        var report: ScanReport?
                        scan = try timed { report = try ScanPipeline(scorer: scorer, options: options).scan(path: file) }
                        framesAnalysed = report?.frames.count ?? 0
                        scoreSeconds.append(report?.timings.scoreSeconds ?? 0)
                    }
                }
                scanSeconds.append(scan)
                decodeSeconds.append(decode)
                ratios.append(scan / decode)
                if !json {
                    Terminal.writeError(
                        String(
                            format: "run %d/%d: scan %.2f s, decode %.2f s, ratio %.2f×", run, runs, scan, decode, scan / decode))
                }
            }
            let scan = median(scanSeconds), decode = median(decodeSeconds), score = median(scoreSeconds)
            let minutes = info.durationSeconds.flatMap { $0 > 0 ? $0 / 60 : nil }
            let result = Result(
                file: file, model: (modelPath as NSString).lastPathComponent, runs: runs,
                sampling: String(describing: options.sampling), durationSeconds: info.durationSeconds,
                framesDecoded: framesDecoded, framesAnalysed: framesAnalysed, scanSeconds: scan, decodeSeconds: decode,
                ratioScanToDecode: median(ratios), analysedFramesPerSecond: Double(framesAnalysed) / scan,
                scoreSeconds: score, scoreSecondsPerFrame: score / Double(max(framesAnalysed, 1)),
                scanSecondsPerMinuteOfVideo: minutes.map { scan / $0 },
                decodeSecondsPerMinuteOfVideo: minutes.map { decode / $0 })
            if json {
                try StandardOutput.printJSON(result)
                return
            }
            let perMinute = { (value: Double?) in value.map { String(format: "%.1f s per minute of video", $0) } ?? "" }
            StandardOutput.print(
                """
                \(file): \(info.videoCodec) \(info.width)×\(info.height), \(framesDecoded) frames, \
                \(info.durationSeconds.map { String(format: "%.1f s", $0) } ?? "unknown duration"), median of \(runs) runs
                  scan (\(options.sampling == ScanOptions.defaultSampling ? "default sampling" : "\(options.sampling)"), \(framesAnalysed) frames analysed) \(String(format: "%8.2f s", scan))  \
                \(String(format: "%.2f", result.analysedFramesPerSecond)) frames/s  \(perMinute(result.scanSecondsPerMinuteOfVideo))
                    of which scoring \(String(format: "%8.2f s", score))  \(String(format: "%.3f", result.scoreSecondsPerFrame)) s/frame
                  decode only (all \(framesDecoded) frames)       \(String(format: "%8.2f s", decode))  \
                \(String(format: "%.1f", Double(framesDecoded) / decode)) frames/s  \(perMinute(result.decodeSecondsPerMinuteOfVideo))
                  scan / decode                                \(String(format: "%8.2f×", result.ratioScanToDecode))
                """)
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch let error as ScanError {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badMedia)
        } catch {
            throw Terminal.report(error)
        }
    }
}
