// `unmask frames`: dumps sampled frames of a video (or an image) as PNG files, exactly as the
// detector sees them (decoded, converted to RGB, rotation applied).
import ArgumentParser
import Foundation
import MediaIO

struct FramesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Write sampled frames of a video or image as PNG files.",
        discussion: "Every frame unless a sampling option is given.\n\n"
            + ExitStatus.help([.success, .failure, .usage, .badMedia, .cannotWrite]))

    @OptionGroup var global: GlobalOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(parsing: .unconditional, help: "Cap the long side of each frame at this many pixels (frames are never enlarged).")
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
                path: file, sampling: try sampling.sampling(default: .everyFrame), maxFrames: sampling.maxFrames,
                outputSize: maxSize.map { .longSide($0) } ?? .native, startTime: sampling.start, endTime: sampling.end)
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
