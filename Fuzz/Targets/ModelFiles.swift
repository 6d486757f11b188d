// libFuzzer target `model-files`: bytes through the safetensors reader and every loader of model,
// generator, zoo-generator and checkpoint files (metadata included). Built by Scripts/fuzz.sh, not by
// SwiftPM; `UNMASK_FUZZ_WRITE_SEEDS=<folder>` makes it write its seed corpus there and exit instead.
import Detector
import Foundation
import MediaIO
import NeuralNet

/// One file per process in memory-backed storage: each input is written there for the path-based loaders.
private let inputPath = fuzzScratchFolder() + "/unmask-fuzz-model-\(getpid()).safetensors"

/// The smallest data a trainer accepts: one training and one validation source of one textured frame.
private let tinyTrainingData: TrainingData = {
    func source(_ name: String, seed: Int) -> MediaSource {
        let side = 64
        let pixels = (0..<(3 * side * side)).map { Float(($0 * 7919 + seed * 104729) % 251) / 250 }
        let image = RGBImage(width: side, height: side, pixels: pixels)
        return MediaSource(relativePath: name, path: "/fuzz/" + name, frames: [StoredFrame(image)])
    }
    return TrainingData(
        real: MediaSplit(training: [source("train.png", seed: 1)], validation: [source("validation.png", seed: 2)]))
}()

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    if let status = writeSeedsIfAsked(writeSeeds) { exit(status) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Files the reader refuses fail the same way in every loader; skip the file writes for them.
    guard let file = try? SafeTensorsFile(serialized: bytes) else { return 0 }
    // What the reader accepts, the writer writes, and reading that back gives the same bytes again.
    if let written = try? file.serialized() {
        guard let reread = try? SafeTensorsFile(serialized: written), (try? reread.serialized()) == written else {
            fatalError("safetensors round trip changed an accepted file")
        }
    }
    guard FileManager.default.createFile(atPath: inputPath, contents: Data(bytes)) else { return 0 }
    defer { unlink(inputPath) }
    _ = try? DetectorModel.load(path: inputPath)
    _ = try? DetectorModel.load(path: inputPath, allowCheckpoint: true)
    _ = try? GeneratorFile.load(path: inputPath)
    _ = try? ZooGeneratorFile.loadAutoencoder(path: inputPath)
    _ = try? ZooGeneratorFile.loadVAE(path: inputPath)
    _ = try? ZooGeneratorFile.trainingSummary(path: inputPath)
    _ = try? Trainer(resumingFrom: inputPath, data: tinyTrainingData)
    return 0
}

/// Tiny valid files of every kind the loaders read, made by the same code that saves real ones.
private func writeSeeds(to folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let detector = DetectorArchitecture(widths: [2, 2, 8], patchSize: 16, window: 16)
    try DetectorModel(architecture: detector).save(to: folder + "/model.safetensors")
    let generator = GeneratorArchitecture(latentSize: 8, baseWidth: 8, minimumWidth: 8, patchSize: 16)
    try GeneratorFile.save(Generator(architecture: generator), to: folder + "/generator.safetensors")
    try ZooGeneratorFile.save(
        RegionAutoencoder(architecture: AutoencoderArchitecture(upsampler: .nearest, width: 2, bottleneckChannels: 1)),
        training: nil, to: folder + "/autoencoder.safetensors")
    try ZooGeneratorFile.save(
        VAE(architecture: VAEArchitecture(latentSize: 2, widths: [2, 2, 2], patchSize: 16, adversarialWeight: 0)),
        training: nil, to: folder + "/vae.safetensors")
    let config = TrainingConfig(
        discriminator: detector, generator: generator, realPerBatch: 2, generatedPerBatch: 1, otherFakesPerBatch: 1,
        validateEvery: 0, validationPatches: 2)
    try Trainer(config: config, data: tinyTrainingData).saveCheckpoint(to: folder + "/checkpoint.safetensors")
    let headerOnly = SafeTensorsFile(metadata: ["format": DetectorModel.format])
    try headerOnly.write(toPath: folder + "/header-only.safetensors")
}
