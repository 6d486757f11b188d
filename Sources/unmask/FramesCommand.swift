// `unmask frames`: dumps sampled frames of a video (or an image) as PNG files, exactly as the
// detector sees them (decoded, converted to RGB, rotation applied).
import ArgumentParser
import Foundation
import MediaIO

/// How to pick frames; shared by the commands that sample video.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Take every Nth decoded frame.")
    var every: Int?

    @Option(help: ArgumentHelp("Take frames at this rate (frames per second, by timestamp).", valueName: "rate"))
    var fps: Double?

    @Flag(help: "Take keyframes only (the decoder skips the others).")
    var keyframes = false

    @Option(
        help: ArgumentHelp(
            "Take the first frame at or after each of these times (seconds, comma-separated).", valueName: "t1,t2,…"))
    var at: String?

    @Option(help: "Stop after this many frames.")
    var maxFrames: Int?

    func validate() throws {
        let chosen = [every != nil, fps != nil, keyframes, at != nil].filter { $0 }.count
        if chosen > 1 { throw ValidationError("Choose one of --every, --fps, --keyframes and --at.") }
        if let every, every < 1 { throw ValidationError("--every must be 1 or more (got \(every)).") }
        if let fps, !(fps > 0 && fps.isFinite) { throw ValidationError("--fps must be a positive number (got \(fps)).") }
        if let maxFrames, maxFrames < 1 { throw ValidationError("--max-frames must be 1 or more (got \(maxFrames)).") }
        _ = try timestamps()
    }

    func timestamps() throws -> [Double]? {
        guard let at else { return nil }
        let values = at.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 }) else {
            throw ValidationError("--at takes non-negative times in seconds, comma-separated (got '\(at)').")
        }
        return values.map { $0! }
    }

    /// The sampling these options describe; every frame when none is given.
    func sampling() throws -> FrameSampling {
        if let every { return .everyNth(every) }
        if let fps { return .rate(fps) }
        if keyframes { return .keyframesOnly }
        if let times = try timestamps() { return .timestamps(times) }
        return .everyFrame
    }
}

struct FramesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Write sampled frames of a video or image as PNG files.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Cap the long side of each frame at this many pixels (frames are never enlarged).")
    var maxSize: Int?

    @Option(help: "Folder for the PNG files (created if missing).")
    var out: String

    @Argument(help: "A video or image file.")
    var file: String

    func validate() throws {
        if let maxSize, maxSize < 16 { throw ValidationError("--max-size must be at least 16 pixels (got \(maxSize)).") }
    }

    func run() throws {
        global.apply()
        do {
            try OutputFolder.create(out)
            let decoder = try VideoDecoder(
                path: file, sampling: try sampling.sampling(), maxFrames: sampling.maxFrames,
                outputSize: maxSize.map { .longSide($0) } ?? .native)
            var image = RGBImage(width: 0, height: 0)
            var written = 0
            defer {
                Terminal.writeError("unmask: wrote \(written) frame\(written == 1 ? "" : "s") of \(file) to \(out)")
            }
            while let frame = try decoder.nextFrame(into: &image) {
                let name = String(format: "frame-%06d-t%.3fs.png", frame.index, frame.time)
                try ImageEncoder.write(image, to: (out as NSString).appendingPathComponent(name))
                written += 1
            }
            for warning in decoder.warnings { Terminal.warn("\(file): \(warning)") }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw Terminal.report(error)
        }
    }
}

/// Output folders: created when missing, refused with a clear error when they cannot be.
enum OutputFolder {
    static func create(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw OutputError(path: path, cause: "exists and is not a folder") }
            guard FileManager.default.isWritableFile(atPath: path) else {
                throw OutputError(path: path, cause: "folder is not writable")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw OutputError(path: path, cause: "cannot create folder (\((error as NSError).localizedDescription))")
        }
    }
}
