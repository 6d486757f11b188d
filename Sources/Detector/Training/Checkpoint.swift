// Owns training checkpoints: one safetensors file with both networks (`d.`, `g.`), both Adam states
// (`opt_d.`, `opt_g.`), and metadata (format `unmask.checkpoint/1`, config JSON, step, RNG state,
// current learning rates, augmentation counts), written atomically; resuming continues bit-identically.
import Foundation
import NeuralNet

extension Trainer {
    /// Writes a checkpoint to `path` atomically and reports `.checkpoint`.
    public func saveCheckpoint(to path: String) throws {
        var tensors: [(String, SafeTensorsArray)] = []
        tensors += try safeTensorsEntries(discriminator.stateDictionary(), prefix: "d.")
        tensors += try safeTensorsEntries(generator.stateDictionary(), prefix: "g.")
        tensors += try safeTensorsEntries(optimizerD.stateDictionary(), prefix: "opt_d.")
        tensors += try safeTensorsEntries(optimizerG.stateDictionary(), prefix: "opt_g.")
        if let v = vae, let o = optimizerVAE {
            tensors += try safeTensorsEntries(v.stateDictionary(), prefix: "vae.")
            tensors += try safeTensorsEntries(o.stateDictionary(), prefix: "opt_vae.")
        }
        let file = SafeTensorsFile(
            tensors: tensors,
            metadata: [
                "format": Trainer.checkpointFormat,
                "config": try jsonString(config),
                "step": String(step),
                "rng": rng.state.map(String.init).joined(separator: ","),
                "lr_d": String(optimizerD.learningRate.bitPattern),
                "lr_g": String(optimizerG.learningRate.bitPattern),
                "lr_vae": String((optimizerVAE?.learningRate ?? 0).bitPattern),
                "augmentation_counts": try jsonString(augmenter.counts),
                "version": DetectorModel.version,
            ])
        do { try file.write(toPath: path) } catch let e as SafeTensorsError {
            throw DetectorError.modelFile(path: path, reason: "cannot save checkpoint: \(e.reason)")
        }
        observer?(.checkpoint(path: path, step: step))
    }

    /// Resumes a run from a checkpoint with the same data; the next step equals the one an
    /// uninterrupted run would have taken. Errors name the file (missing, corrupt, not a checkpoint,
    /// or weights that do not fit the configuration it declares).
    public convenience init(resumingFrom path: String, data: TrainingData) throws {
        let file = try openSafeTensors(path, kind: "checkpoint file")
        guard file.metadata["format"] == Trainer.checkpointFormat else {
            throw DetectorError.modelFile(
                path: path, reason: "format is '\(file.metadata["format"] ?? "none")', expected '\(Trainer.checkpointFormat)'")
        }
        let config: TrainingConfig = try decodeMetadata(file, "config", path: path)
        do { try config.validate() } catch {
            throw DetectorError.modelFile(path: path, reason: "checkpoint configuration: \(error)")
        }
        try self.init(config: config, data: data)
        try loadState(discriminator, from: file, prefix: "d.", path: path)
        try loadState(generator, from: file, prefix: "g.", path: path)
        if let v = vae { try loadState(v, from: file, prefix: "vae.", path: path) }
        func optimizerState(_ prefix: String) throws -> [String: Tensor] {
            var d: [String: Tensor] = [:]
            for name in file.names where name.hasPrefix(prefix) {
                guard let array = file[name], case .f32(let v) = array.data else { continue }
                d[String(name.dropFirst(prefix.count))] = Tensor(shape: array.shape, data: v)
            }
            return d
        }
        do {
            try optimizerD.load(stateDictionary: optimizerState("opt_d."))
            try optimizerG.load(stateDictionary: optimizerState("opt_g."))
            try optimizerVAE?.load(stateDictionary: optimizerState("opt_vae."))
            if let bits = file.metadata["lr_vae"].flatMap(UInt32.init), let o = optimizerVAE {
                let rate = Float(bitPattern: bits)
                guard rate > 0, rate.isFinite else {
                    throw DetectorError.modelFile(path: path, reason: "VAE learning rate \(rate) is not finite and > 0")
                }
                o.learningRate = rate
            }
        } catch let error as DetectorError {
            throw error
        } catch {
            throw DetectorError.modelFile(path: path, reason: "optimizer state does not match the networks: \(error)")
        }
        guard let s = file.metadata["step"].flatMap(Int.init), s >= 0,
            let words = file.metadata["rng"]?.split(separator: ",").compactMap({ UInt64($0) }), words.count == 4,
            let r = try? RandomGenerator(state: words),
            let lrD = file.metadata["lr_d"].flatMap(UInt32.init).map(Float.init(bitPattern:)), lrD > 0, lrD.isFinite,
            let lrG = file.metadata["lr_g"].flatMap(UInt32.init).map(Float.init(bitPattern:)), lrG > 0, lrG.isFinite
        else {
            throw DetectorError.modelFile(
                path: path, reason: "missing or invalid step / rng / learning-rate metadata (rates must be finite and > 0)")
        }
        restore(
            step: s, rng: r, learningRateD: lrD, learningRateG: lrG,
            augmentationCounts: (try? decodeMetadata(file, "augmentation_counts", path: path)) ?? [:])
    }
}
