// Test helpers: synthetic natural-like textures (random oriented sinusoids with 1/f amplitudes over a
// smooth colour gradient, plus mild noise), a JPEG of one with an uncompressed square pasted in,
// temporary folders, a tiny architecture that trains fast, and the model-file check every evidence
// weight shares.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

enum TestSupport {
    /// A smooth, textured "real" image, deterministic in `seed`.
    static func texture(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var rng = RandomGenerator(seed: seed)
        var image = RGBImage(width: width, height: height)
        let n = width * height
        var waves: [(fx: Float, fy: Float, phase: Float, amp: [Float])] = []
        for k in 1...6 {
            let f = Float(k) * rng.uniform(0.02, 0.05), a = rng.uniform(0, Float.pi)
            waves.append(
                (
                    f * cos(a), f * sin(a), rng.uniform(0, 6.28),
                    (0..<3).map { _ in rng.uniform(0.05, 0.15) / Float(k).squareRoot() }
                ))
        }
        let base = (0..<3).map { _ in rng.uniform(0.3, 0.6) }, slope = (0..<3).map { _ in rng.uniform(-0.2, 0.2) }
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    var v = base[c] + slope[c] * Float(x + y) / Float(width + height)
                    for w in waves { v += w.amp[c] * sin(w.fx * Float(x) + w.fy * Float(y) + w.phase) }
                    v += 0.01 * rng.normal()
                    image.pixels[c * n + y * width + x] = min(max(v, 0), 1)
                }
            }
        }
        return image
    }

    /// A "fake" texture: the same generator at half resolution, upsampled 2× bilinearly (the
    /// upsampling trace of generators), so its pixel noise is spatially correlated.
    /// Plus a faint ±`checkerboard` checkerboard (the transposed-convolution trace, Odena 2016).
    static func upsampledTexture(width: Int, height: Int, seed: UInt64, checkerboard: Float = 0.02) -> RGBImage {
        let small = texture(width: width / 2, height: height / 2, seed: seed)
        var out = RGBImage(width: width, height: height)
        let sw = small.width, sh = small.height
        for c in 0..<3 {
            for y in 0..<height {
                let sy = max(0, min(Float(sh - 1), (Float(y) + 0.5) / 2 - 0.5))
                let y0 = Int(sy), y1 = min(y0 + 1, sh - 1), fy = sy - Float(y0)
                for x in 0..<width {
                    let sx = max(0, min(Float(sw - 1), (Float(x) + 0.5) / 2 - 0.5))
                    let x0 = Int(sx), x1 = min(x0 + 1, sw - 1), fx = sx - Float(x0)
                    func v(_ xx: Int, _ yy: Int) -> Float { small.pixels[c * sw * sh + yy * sw + xx] }
                    let checker: Float = ((x + y) % 2 == 0 ? 1 : -1) * checkerboard
                    out.pixels[c * width * height + y * width + x] = min(
                        max(
                            checker + (v(x0, y0) * (1 - fx) + v(x1, y0) * fx) * (1 - fy) + (v(x0, y1) * (1 - fx) + v(x1, y1) * fx)
                                * fy,
                            0), 1)
                }
            }
        }
        return out
    }

    static func source(_ name: String, _ images: [RGBImage]) -> MediaSource {
        MediaSource(relativePath: name, path: "/synthetic/" + name, frames: images.map(StoredFrame.init))
    }

    /// Synthetic real data: `files` training sources and 2 validation sources of 2 frames each.
    static func syntheticData(files: Int = 6, size: Int = 96) -> TrainingData {
        let train = (0..<files).map { i in
            source("train\(i).png", (0..<2).map { texture(width: size, height: size, seed: UInt64(100 + 10 * i + $0)) })
        }
        let val = (0..<2).map { i in
            source("val\(i).png", (0..<2).map { texture(width: size, height: size, seed: UInt64(900 + 10 * i + $0)) })
        }
        return TrainingData(real: MediaSplit(training: train, validation: val))
    }

    /// Synthetic real data plus "fake media" sources of upsampled textures.
    static func syntheticDataWithFakes(files: Int = 6, size: Int = 96) -> TrainingData {
        var data = syntheticData(files: files, size: size)
        let train = (0..<files).map { i in
            source("fake\(i).png", (0..<2).map { upsampledTexture(width: size, height: size, seed: UInt64(5000 + 10 * i + $0)) })
        }
        let val = (0..<2).map { i in
            source(
                "fakeval\(i).png", (0..<2).map { upsampledTexture(width: size, height: size, seed: UInt64(9000 + 10 * i + $0)) })
        }
        data.fake = MediaSplit(training: train, validation: val)
        return data
    }

    static let tinyDetector = DetectorArchitecture(widths: [8, 16, 16], patchSize: 32, window: 64)
    static let tinyGenerator = GeneratorArchitecture(latentSize: 16, baseWidth: 32, minimumWidth: 8, patchSize: 32)

    static func tinyConfig(seed: UInt64 = 7) -> TrainingConfig {
        var c = TrainingConfig(
            discriminator: tinyDetector, generator: tinyGenerator, realPerBatch: 8, generatedPerBatch: 4,
            otherFakesPerBatch: 6, dStepsPerGStep: 2, validateEvery: 0, validationPatches: 48, seed: seed)
        c.augmentation.jpeg = 0.1
        c.augmentation.h264 = 0.05
        return c
    }

    /// A 512 × 384 texture JPEG-compressed at `quality` (`real`), and the same with the 128-pixel square
    /// [192, 320) × [128, 256) pasted back from the uncompressed texture (`fake`): a region that carries
    /// none of the frame's compression.
    static func compressedWithUncompressedSquare(quality: Int) throws -> (real: RGBImage, fake: RGBImage) {
        let texture = TestSupport.texture(width: 512, height: 384, seed: 4)
        let real = try ZooEncoding.jpegRoundTrip(texture, quality: quality)
        var fake = real
        let n = 512 * 384
        for k in 0..<3 {
            for r in 128..<256 {
                for c in 192..<320 { fake.pixels[k * n + r * 512 + c] = texture.pixels[k * n + r * 512 + c] }
            }
        }
        return (real, fake)
    }

    /// The square of `compressedWithUncompressedSquare`.
    static let pastedSquare = PixelRegion(x: 192, y: 128, width: 128, height: 128)

    /// A model file whose calibration weighs `evidence` loads back with it; files giving that weight as
    /// negative, over `Calibration.maximumScaleWeight` or as text are refused, with the file named and,
    /// for the numbers, the weight. The files are written in `folder`.
    static func checkModelFileWeights(
        _ evidence: FrameEvidence, in folder: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let model = DetectorModel(architecture: tinyDetector, seed: 1)
        var calibration = Calibration(a: 1.25, b: -0.5)
        calibration.setWeight(evidence, 3)
        model.calibration = calibration
        let good = folder + "/good.safetensors"
        try model.save(to: good)
        XCTAssertEqual(try DetectorModel.load(path: good).calibration, calibration, file: file, line: line)
        let key = "\(evidence)Weight"  // the case name, as the calibration's coding key spells it
        for (name, value) in [("negative", "-1"), ("huge", "1e9"), ("text", #""x""#)] {
            let text = #"{"a":1,"b":0,"\#(key)":\#(value)}"#
            try checkCalibrationRefused(
                model, calibration: text, path: folder + "/\(name).safetensors",
                expected: name == "text" ? "invalid 'calibration' metadata: \(text)" : "\(evidence.rawValue) weight",
                file: file, line: line)
        }
    }

    /// `model` written to `path` with `calibration` as its calibration metadata fails to load with a
    /// model-file error that names `path` and contains `expected`.
    static func checkCalibrationRefused(
        _ model: DetectorModel, calibration: String, path: String, expected: String, file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        var safeTensors = try model.safeTensorsFile()
        safeTensors.metadata["calibration"] = calibration
        try safeTensors.write(toPath: path)
        XCTAssertThrowsError(try DetectorModel.load(path: path), calibration, file: file, line: line) { error in
            guard case .modelFile(let p, let reason)? = error as? DetectorError else {
                return XCTFail("\(error)", file: file, line: line)
            }
            XCTAssertEqual(p, path, file: file, line: line)
            XCTAssertTrue(reason.contains(expected), "\(calibration): \(reason)", file: file, line: line)
        }
    }

}

extension XCTestCase {
    /// A fresh empty folder under the system temporary folder, removed with everything in it when the
    /// test ends, so repeated test runs leave nothing behind.
    func temporaryFolder(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "unmask-detector-tests-\(getpid())-\(name)"
        try? FileManager.default.removeItem(atPath: path)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}
