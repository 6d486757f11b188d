// Owns the zoo's families backed by generators trained in the project and kept as files: autoencoders
// that re-synthesise the region from a 4×–16× bottleneck (group "autoencoder"), a VAE's reconstructions
// and prior samples (group "vae"), and GAN generators whose samples tile the region (group "adversarial").
// Glossary: box the mask's bounding box; F bottleneck factor; P a patch network's side; Wp/Hp the box
// padded up to a multiple of F (autoencoder) or P (VAE).
import Foundation
import MediaIO
import NeuralNet

/// A network shared by families and copies of them, used by one caller at a time (its layers own
/// their buffers, so two forwards must not overlap).
final class SharedNetwork<Network: AnyObject>: @unchecked Sendable {
    // Unchecked: the network, not Sendable itself, is reached only through `withNetwork`, under `lock`.
    private let network: Network
    private let lock = NSLock()

    init(_ network: Network) { self.network = network }

    func withNetwork<T>(_ body: (Network) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(network)
    }
}

/// "autoencoder-<upsampler>": the region re-synthesised by a trained autoencoder through a bottleneck
/// 4×, 8× or 16× smaller (drawn per fake among the factors the network supports). Regions larger than
/// 256 px are run in overlapping windows (32 px of context each side), so memory stays bounded.
public struct AutoencoderFamily: FakeFamily {
    private let network: SharedNetwork<RegionAutoencoder>
    public let architecture: AutoencoderArchitecture
    public var name: String { AutoencoderFamily.name(of: architecture.upsampler) }
    public var group: String { "autoencoder" }

    /// The family name of autoencoders with `upsampler`.
    public static func name(of upsampler: DecoderUpsampler) -> String { "autoencoder-\(upsampler.rawValue)" }

    public init(autoencoder: RegionAutoencoder) {
        autoencoder.eval()
        network = SharedNetwork(autoencoder)
        architecture = autoencoder.architecture
    }

    /// Loads the autoencoder in `path` (`ZooGeneratorFile`); errors name the file.
    public init(path: String) throws { self.init(autoencoder: try ZooGeneratorFile.loadAutoencoder(path: path)) }

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        let box = mask.box
        let factor = try randomElement(architecture.bottleneckFactors, &rng, "bottleneck factors")
        let stages = factor.trailingZeroBitCount
        let Wp = (box.width + factor - 1) / factor * factor, Hp = (box.height + factor - 1) / factor * factor
        let region = ImageFilters.crop(frame, x: box.x, y: box.y, width: Wp, height: Hp)  // (3, Hp, Wp)
        let out = network.withNetwork { autoencoder in
            TrainedSynthesis.windowed(region, core: 256, margin: 32) { autoencoder.forward($0, stages: stages) }
        }
        return RegionSynthesis(
            patch: ImageFilters.crop(out, x: 0, y: 0, width: box.width, height: box.height),
            parameters: ["factor": String(factor)])
    }
}

/// "vae-reconstruction": the region cut into P×P tiles, each encoded, sampled (z = μ + σ·ε) and decoded
/// by a trained VAE, the decoded tiles put back side by side.
public struct VAEReconstructionFamily: FakeFamily {
    private let network: SharedNetwork<VAE>
    public var name: String { "vae-reconstruction" }
    public var group: String { "vae" }

    /// Built by `VAEFamilies`, which shares one network in inference mode between both VAE families.
    init(network: SharedNetwork<VAE>) { self.network = network }

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        let box = mask.box
        let (out, P) = network.withNetwork { vae -> (RGBImage, Int) in
            let P = vae.architecture.patchSize
            let tilesX = (box.width + P - 1) / P, tilesY = (box.height + P - 1) / P
            let region = ImageFilters.crop(frame, x: box.x, y: box.y, width: tilesX * P, height: tilesY * P)
            let tiles = TrainedSynthesis.tiles(of: region, side: P)  // (tilesX·tilesY, 3, P, P)
            let batch = 64
            for first in stride(from: 0, to: tiles.shape[0], by: batch) {
                let count = min(batch, tiles.shape[0] - first)
                let input = Tensor(shape: [count, 3, P, P])  // (n, 3, P, P)
                input.pointer.update(from: tiles.pointer + first * 3 * P * P, count: input.count)
                let decoded = vae.forward(input, rng: &rng)  // (n, 3, P, P)
                (tiles.pointer + first * 3 * P * P).update(from: decoded.pointer, count: decoded.count)
            }
            return (TrainedSynthesis.mosaic(tiles, tilesX: tilesX, width: box.width, height: box.height), P)
        }
        return RegionSynthesis(patch: out, parameters: ["tile": String(P)])
    }
}

/// "vae-sample": a mosaic of the trained VAE's prior samples (z ~ N(0, 1), decoded) filling the region.
public struct VAESampleFamily: FakeFamily {
    private let network: SharedNetwork<VAE>
    public var name: String { "vae-sample" }
    public var group: String { "vae" }

    /// Built by `VAEFamilies`, which shares one network in inference mode between both VAE families.
    init(network: SharedNetwork<VAE>) { self.network = network }

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        let box = mask.box
        let out = network.withNetwork { vae -> RGBImage in
            let P = vae.architecture.patchSize, Z = vae.architecture.latentSize
            let tilesX = (box.width + P - 1) / P, count = tilesX * ((box.height + P - 1) / P)
            let samples = Tensor(shape: [count, 3, P, P])  // (count, 3, P, P)
            let batch = 64
            for first in stride(from: 0, to: count, by: batch) {
                let n = min(batch, count - first)
                let latents = Tensor(shape: [n, Z])  // (n, Z)
                for i in 0..<latents.count { latents.pointer[i] = rng.normal() }
                let decoded = vae.decode(latents)  // (n, 3, P, P)
                (samples.pointer + first * 3 * P * P).update(from: decoded.pointer, count: decoded.count)
            }
            return TrainedSynthesis.mosaic(samples, tilesX: tilesX, width: box.width, height: box.height)
        }
        return RegionSynthesis(patch: out)
    }
}

/// The families a VAE file gives: reconstructions and prior samples sharing one network.
public enum VAEFamilies {
    public static func families(vae: VAE) -> [any FakeFamily] {
        vae.eval()
        let shared = SharedNetwork(vae)
        return [VAEReconstructionFamily(network: shared), VAESampleFamily(network: shared)]
    }

    /// Loads the VAE in `path` (`ZooGeneratorFile`); errors name the file.
    public static func families(path: String) throws -> [any FakeFamily] {
        families(vae: try ZooGeneratorFile.loadVAE(path: path))
    }
}

/// "gan-upsampling" / "gan-transposed-conv": a GAN generator's samples in the region, either a mosaic
/// of P×P samples at their own scale (as `FrameForgery` makes) or, for regions at most 2P per side,
/// one sample enlarged to the box (bilinear or bicubic) with probability `resizeProbability`.
public struct AdversarialFamily: FakeFamily {
    private let network: SharedNetwork<AnyPatchGenerator>
    public let kind: GeneratorKind
    public var name: String { AdversarialFamily.name(of: kind) }
    public var group: String { "adversarial" }
    public var resizeProbability: Float = 0.3

    /// The family name of generators of `kind`.
    public static func name(of kind: GeneratorKind) -> String {
        kind == .transposedConv ? "gan-transposed-conv" : "gan-upsampling"
    }

    public init(generator: any PatchGenerator) {
        generator.eval()
        kind = GeneratorKind(of: generator)
        network = SharedNetwork(AnyPatchGenerator(generator))
    }

    /// Loads the generator file (or training checkpoint) in `path` (`GeneratorFile`); errors name the file.
    public init(path: String) throws { self.init(generator: try GeneratorFile.load(path: path)) }

    public func synthesize(
        frame: RGBImage, donor: RGBImage?, mask: RegionMask, rng: inout RandomGenerator
    ) throws -> RegionSynthesis {
        let box = mask.box
        let resize = rng.uniform() < resizeProbability
        let kernel: ResamplingKernel = rng.uniform() < 0.5 ? .bilinear : .bicubic
        return network.withNetwork { boxed -> RegionSynthesis in
            let generator = boxed.generator, P = generator.architecture.patchSize
            if resize && box.width <= 2 * P && box.height <= 2 * P {
                let sample = TrainedSynthesis.samples(count: 1, generator: generator, rng: &rng)  // (1, 3, P, P)
                let image = TrainedSynthesis.mosaic(sample, tilesX: 1, width: P, height: P)
                return RegionSynthesis(
                    patch: Resampler.resize(image, width: box.width, height: box.height, kernel: kernel),
                    parameters: ["layout": "resized", "kernel": "\(kernel)"])
            }
            let tilesX = (box.width + P - 1) / P
            let samples = TrainedSynthesis.samples(
                count: tilesX * ((box.height + P - 1) / P), generator: generator, rng: &rng)  // (n, 3, P, P)
            return RegionSynthesis(
                patch: TrainedSynthesis.mosaic(samples, tilesX: tilesX, width: box.width, height: box.height),
                parameters: ["layout": "mosaic"])
        }
    }
}

/// A class box for an existential generator (`SharedNetwork` holds class instances).
final class AnyPatchGenerator {
    let generator: any PatchGenerator
    init(_ generator: any PatchGenerator) { self.generator = generator }
}

/// Conversions between images and network tensors shared by the trained families.
enum TrainedSynthesis {
    /// `region` (its size multiples of 16 or of the network's factor) run through `body` in windows
    /// of at most core + 2·margin per side: each window's core (the region cut into core × core
    /// tiles) is kept, its margin only gives context. `core` and `margin` are multiples of 16, so
    /// every window's size is a multiple of any factor up to 16 that divides the region's size.
    static func windowed(_ region: RGBImage, core: Int, margin: Int, _ body: (Tensor) -> Tensor) -> RGBImage {
        let W = region.width, H = region.height, n = W * H
        var out = RGBImage(width: W, height: H, pixels: [Float](repeating: 0, count: 3 * n))
        for y0 in stride(from: 0, to: H, by: core) {
            for x0 in stride(from: 0, to: W, by: core) {
                let left = max(0, x0 - margin), top = max(0, y0 - margin)
                let right = min(W, x0 + core + margin), bottom = min(H, y0 + core + margin)
                let w = right - left, h = bottom - top
                let input = Tensor(shape: [1, 3, h, w])  // (1, 3, h, w)
                for c in 0..<3 {
                    for y in 0..<h {
                        for x in 0..<w { input.pointer[(c * h + y) * w + x] = region.pixels[c * n + (top + y) * W + left + x] }
                    }
                }
                let result = body(input)  // (1, 3, h, w)
                for c in 0..<3 {
                    for y in y0..<min(H, y0 + core) {
                        for x in x0..<min(W, x0 + core) {
                            out.pixels[c * n + y * W + x] = result.pointer[(c * h + y - top) * w + x - left]
                        }
                    }
                }
            }
        }
        return out
    }

    /// `count` samples of `generator` (n, 3, P, P), latents drawn in order from `rng` and run in
    /// batches of 32 (a whole frame needs hundreds; the attention maps of one batch of all of them
    /// would take gigabytes).
    static func samples(count: Int, generator: any PatchGenerator, rng: inout RandomGenerator) -> Tensor {
        let P = generator.architecture.patchSize, batch = 32
        let out = Tensor(shape: [count, 3, P, P])
        let z = Tensor(shape: [0])  // (n, Z)
        for first in stride(from: 0, to: count, by: batch) {
            generator.sampleLatents(z, count: min(batch, count - first), rng: &rng)
            let images = generator.forward(z)  // (n, 3, P, P)
            (out.pointer + first * 3 * P * P).update(from: images.pointer, count: images.count)
        }
        return out
    }

    /// The P×P tiles of `image` (its sides multiples of P), row-major: (tiles, 3, P, P).
    static func tiles(of image: RGBImage, side P: Int) -> Tensor {
        let tilesX = image.width / P, tilesY = image.height / P, n = image.planeCount
        let out = Tensor(shape: [tilesX * tilesY, 3, P, P])
        for ty in 0..<tilesY {
            for tx in 0..<tilesX {
                let tile = out.pointer + (ty * tilesX + tx) * 3 * P * P
                for c in 0..<3 {
                    for y in 0..<P {
                        for x in 0..<P {
                            tile[(c * P + y) * P + x] = image.pixels[c * n + (ty * P + y) * image.width + tx * P + x]
                        }
                    }
                }
            }
        }
        return out
    }

    /// A width × height image from row-major tiles (n, 3, P, P), `tilesX` per row.
    static func mosaic(_ tiles: Tensor, tilesX: Int, width: Int, height: Int) -> RGBImage {
        let P = tiles.shape[2], n = width * height
        var out = RGBImage(width: width, height: height, pixels: [Float](repeating: 0, count: 3 * n))
        for y in 0..<height {
            for x in 0..<width {
                let tile = tiles.pointer + ((y / P) * tilesX + x / P) * 3 * P * P + (y % P) * P + x % P
                for c in 0..<3 { out.pixels[c * n + y * width + x] = tile[c * P * P] }
            }
        }
        return out
    }
}
