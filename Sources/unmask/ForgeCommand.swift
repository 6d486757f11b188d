// `unmask forge`: makes a known fake for tests and demos: a video (or image) with a region replaced,
// for a stretch of time, by a generator's output or by a fake-maker zoo family's content, blended in
// through a soft mask the way a face swap composites its output. Written through a temporary file and
// a rename.
import ArgumentParser
import Detector
import Foundation
import MediaIO
import NeuralNet

struct ForgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forge",
        abstract: "Blend a generated region into a video or image (a known fake for tests and demos).",
        discussion: """
            Frames whose time lies in [--start, --end) get the generator's samples (a mosaic of its \
            patches, the same ones in every frame) blended into --region through a soft elliptical mask, \
            or, with --family, that fake-maker family's re-synthesis of the region of each frame (the same \
            draws in every frame) composited through an elliptical mask with a feathered edge. The other \
            frames are re-encoded untouched, so real and manipulated stretches go through the same H.264 \
            encoder (--crf). Audio is not copied.
            """ + "\n\n" + ExitStatus.help([.success, .failure, .usage, .badMedia, .badModel, .cannotWrite]))

    @OptionGroup var global: GlobalOptions

    @Option(help: "Generator file (generator.safetensors from `unmask train`, or a training checkpoint).")
    var generator: String?

    @Option(help: "A fake-maker zoo family to re-synthesise the region with, instead of a generator.")
    var family: String?

    @Option(
        help: ArgumentHelp(
            "Also look --family up among the trained generators in this folder (e.g. Models/zoo).", valueName: "dir"))
    var zooGenerators: String?

    /// The zoo --family is looked up in.
    func zoo() throws -> FakeZoo { try FakeZoo.standard(trainedGenerators: zooGenerators) }

    @Option(help: "The real video or image.")
    var input: String

    @Option(help: "Where to write the result (.mp4/.mkv/.mov for video; .png/.jpg for an image).")
    var output: String

    @Option(help: ArgumentHelp("The manipulated region in frame pixels.", valueName: "x,y,w,h"))
    var region: RegionArgument

    @Option(parsing: .unconditional, help: ArgumentHelp("First manipulated second (video).", valueName: "seconds"))
    var start: Double = 0

    @Option(
        parsing: .unconditional, help: ArgumentHelp("End of the manipulation (video; default: the end).", valueName: "seconds"))
    var end: Double = .infinity

    @Option(parsing: .unconditional, help: "H.264 CRF of the output video (0…51).")
    var crf: Int = 18

    @Option(parsing: .unconditional, help: "Seed for the generator's latent vectors.")
    var seed: UInt64 = 1

    struct RegionArgument: ExpressibleByArgument {
        var region: PixelRegion
        init?(argument: String) {
            let parts = argument.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 4, parts[0] >= 0, parts[1] >= 0, parts[2] > 0, parts[3] > 0 else { return nil }
            region = PixelRegion(x: parts[0], y: parts[1], width: parts[2], height: parts[3])
        }
    }

    func validate() throws {
        if (generator == nil) == (family == nil) { throw ValidationError("Give either --generator or --family.") }
        if let family {
            do {
                if try zoo().family(named: family).needsDonor {
                    throw ValidationError("--family \(family) needs a donor frame, which forge does not take.")
                }
            } catch let error as ValidationError {
                throw error
            } catch {
                throw ValidationError("--family: \(error)")
            }
        }
        if !(start >= 0) || !(end > start) { throw ValidationError("--end must come after --start (both ≥ 0).") }
        if !(0...51).contains(crf) { throw ValidationError("--crf must be 0…51 (got \(crf)).") }
    }

    func run() throws {
        global.apply()
        var g: (any PatchGenerator)?
        if let generator {
            do { g = try GeneratorFile.load(path: generator) } catch {
                Terminal.writeError("unmask: \(error)")
                throw ExitCode(.badModel)
            }
        }
        do {
            let info = try MediaInfo.probe(path: input)
            let r = region.region
            guard r.x + r.width <= info.displayWidth, r.y + r.height <= info.displayHeight else {
                Terminal.writeError(
                    "unmask: \(input): region \(r.x),\(r.y),\(r.width),\(r.height) does not fit the \(info.displayWidth)×\(info.displayHeight) frame"
                )
                throw ExitCode(.usage)
            }
            var rng = RandomGenerator(seed: seed)
            let samples = g.map { FrameForgery.samples(for: r, generator: $0, rng: &rng) }
            let zooFamily = try family.map { try zoo().family(named: $0) }
            let mask = try zooFamily.map { _ in
                try RegionMask.placed(
                    .ellipse, in: r, width: info.displayWidth, height: info.displayHeight, feather: 8, rng: &rng)
            }
            /// Replaces the region of `image` by the generator's samples or the family's content.
            func forge(_ image: inout RGBImage) throws {
                if let samples { FrameForgery.blend(samples, into: &image, region: r) }
                if let zooFamily, let mask { image = try zooFamily.makeFake(real: image, mask: mask, seed: seed).image }
            }
            let decoder = try VideoDecoder(path: input, sampling: .everyFrame, outputSize: .native)
            var image = RGBImage()
            let folder = (output as NSString).deletingLastPathComponent
            let name = (output as NSString).lastPathComponent
            let temporary = (folder.isEmpty ? "." : folder) + "/.\(UUID().uuidString)-" + name
            defer { try? FileManager.default.removeItem(atPath: temporary) }
            if info.isStillImage {
                guard try decoder.nextFrame(into: &image) != nil else {
                    throw MediaError(kind: .corrupt, path: input, operation: "cannot forge", message: "no frame decoded")
                }
                try forge(&image)
                try ImageEncoder.write(image, to: temporary)
            } else {
                let rate = Int((info.frameRate ?? 25).rounded())
                let encoder = try VideoEncoder(
                    path: temporary, codec: .h264(crf: crf), width: info.displayWidth, height: info.displayHeight,
                    frameRate: max(1, rate))
                var forged = 0, total = 0
                while let frame = try decoder.nextFrame(into: &image) {
                    if frame.time >= start && frame.time < end {
                        try forge(&image)
                        forged += 1
                    }
                    try encoder.append(image)
                    total += 1
                }
                try encoder.finish()
                Terminal.writeError("unmask: forged \(forged) of \(total) frames")
            }
            guard rename(temporary, output) == 0 else {
                throw OutputError(path: output, cause: String(cString: strerror(errno)))
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw Terminal.report(error)
        }
    }
}
