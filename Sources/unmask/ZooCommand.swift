// `unmask zoo train`: trains the fake-maker zoo's autoencoders and VAE on real media (short runs, one
// after the other) and writes each as a zoo generator file into the output folder. Parsing, progress
// lines and exit codes only; training lives in Detector's ZooGeneratorTrainer.
import ArgumentParser
import Detector
import Foundation

struct ZooCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "Train the generators behind the fake-maker zoo's trained families.",
        subcommands: [ZooTrainCommand.self])
}

struct ZooTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the zoo's autoencoders and VAE on real media.",
        discussion: """
            Trains, one after the other, autoencoder-nearest, autoencoder-bilinear, autoencoder-pixelshuffle \
            (bottlenecks 4×, 8× and 16× smaller than the region) and vae, each with an L1 loss on random \
            64×64 crops of the real frames of the training split (the files `train` would not hold out), \
            and writes <name>.safetensors into --out. The GAN families' files come from `unmask train` \
            (its generator.safetensors; see Models/zoo/README.md).
            """ + "\n\n" + ExitStatus.help([.success, .failure, .usage, .badMedia, .cannotWrite]))

    @OptionGroup var global: GlobalOptions

    @Option(help: "Folder of real images and videos (searched recursively).")
    var real: String

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Option(parsing: .unconditional, help: ArgumentHelp("Training time of each generator.", valueName: "minutes"))
    var minutes: Double = 3

    @Option(parsing: .unconditional, help: "Stop each generator after this many steps instead (reproducible to the byte).")
    var steps: Int?

    @Option(help: ArgumentHelp("Train only these (comma-separated names).", valueName: "names"))
    var only: String?

    @Option(parsing: .unconditional, help: "Random seed (weights and patches).")
    var seed: UInt64 = 1

    @Flag(name: .shortAndLong, help: "No progress lines.")
    var quiet = false

    static let names = ["autoencoder-nearest", "autoencoder-bilinear", "autoencoder-pixelshuffle", "vae"]

    var chosen: [String] { only.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? Self.names }

    func validate() throws {
        if !(minutes > 0) { throw ValidationError("--minutes must be positive (got \(minutes)).") }
        if let steps, steps < 1 { throw ValidationError("--steps must be 1 or more (got \(steps)).") }
        for name in chosen where !Self.names.contains(name) {
            throw ValidationError("--only: unknown generator '\(name)'; choose from \(Self.names.joined(separator: ", ")).")
        }
    }

    func run() throws {
        global.apply()
        let frames: [StoredFrame]
        do {
            frames = try MediaFolderLoader(framesPerFile: 4).load(folder: real, role: "real").training.flatMap(\.frames)
        } catch {
            Terminal.writeError("unmask: \(error)")
            throw ExitCode(.badMedia)
        }
        do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
            Terminal.writeError("unmask: \(out): cannot create the output folder: \(error.localizedDescription)")
            throw ExitCode(.cannotWrite)
        }
        let options = ZooTrainingOptions(maximumSteps: steps, maximumSeconds: steps == nil ? minutes * 60 : nil, seed: seed)
        let trainer = try ZooGeneratorTrainer(frames: frames, options: options)
        for name in chosen {
            let path = (out as NSString).appendingPathComponent(name + ".safetensors")
            let progress: (ZooTrainingProgress) -> Void = { p in
                guard !quiet, p.step % 100 == 0 else { return }
                Terminal.writeError("\(name): step \(p.step), " + String(format: "%.0f s, L1 %.4f", p.seconds, p.recentL1))
            }
            let summary: ZooTrainingSummary
            do {
                if name == "vae" {
                    let architecture = VAEArchitecture(latentSize: 32, widths: [16, 32, 32], adversarialWeight: 0)
                    let (vae, s) = try trainer.trainVAE(architecture, progress: progress)
                    try ZooGeneratorFile.save(vae, training: s, to: path)
                    summary = s
                } else {
                    let (autoencoder, s) = try trainer.trainAutoencoder(
                        AutoencoderArchitecture(upsampler: try upsampler(of: name)), progress: progress)
                    try ZooGeneratorFile.save(autoencoder, training: s, to: path)
                    summary = s
                }
            } catch {
                Terminal.writeError("unmask: \(error)")
                if case DetectorError.modelFile = error { throw ExitCode(.cannotWrite) }
                throw ExitCode(.failure)
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            StandardOutput.print(
                "\(name): \(summary.steps) steps in "
                    + String(format: "%.0f s, L1 %.4f", summary.seconds, summary.finalL1) + ", \(size / 1024) KB → \(path)")
        }
    }

    /// The upsampler of an "autoencoder-<upsampler>" name.
    private func upsampler(of name: String) throws -> DecoderUpsampler {
        guard let upsampler = DecoderUpsampler(rawValue: String(name.dropFirst("autoencoder-".count))) else {
            throw ValidationError("unknown autoencoder '\(name)'")
        }
        return upsampler
    }
}
