// Model files made to hurt: absurd architecture sizes, broken weights and thresholds outside 0…1 are
// refused by every command that loads a model, with one line naming the file and exit code 66, before
// anything large is allocated.
import Detector
import Foundation
import MediaIO
import NeuralNet
import XCTest

final class HostileModelTests: CLITestCase {
    /// The standard untrained model saved with `edit` applied to its safetensors file.
    func modelFile(_ name: String, edit: (inout SafeTensorsFile) throws -> Void) throws -> String {
        var file = try DetectorModel(architecture: .standard, seed: 5).safeTensorsFile()
        try edit(&file)
        let path = self.path(name)
        try file.write(toPath: path)
        return path
    }

    func architecture(widths: [Int] = [16, 32, 64], window: Int = 256) -> String {
        #"{"inputScale":64,"leakySlope":0.1,"patchSize":64,"widths":\#(widths),"window":\#(window)}"#
    }

    func testEveryLoaderRefusesAHugeArchitectureBeforeAllocating() throws {
        let clip = try makeClip()
        let wide = try modelFile("wide.safetensors") {
            $0.metadata["architecture"] = architecture(widths: [100_000, 200_000, 400_000])
        }
        let window = try modelFile("window.safetensors") { $0.metadata["architecture"] = architecture(window: 65_536) }
        let billion = try modelFile("billion.safetensors") { $0.metadata["architecture"] = architecture(window: 1_000_000_000) }
        for model in [wide, window, billion] {
            try assertOneLineError(["scan", clip, "--model", model], naming: model, status: 66)
        }
        // Four 128×96 noise images: enough for train, evaluate and calibrate to get to the model.
        let folder = path("media")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var rng = RandomGenerator(seed: 3)
        for index in 0..<4 {
            var image = RGBImage(width: 128, height: 96)
            for pixel in image.pixels.indices { image.pixels[pixel] = rng.uniform() }
            try ImageEncoder.write(image, to: folder + "/noise\(index).png")
        }
        try assertOneLineError(["evaluate", "--real", folder, "--fake", folder, "--model", wide], naming: wide, status: 66)
        try assertOneLineError(
            ["calibrate", "--real", folder, "--fake", folder, "--model", window, "--out", path("c.safetensors")], naming: window,
            status: 66)
        try assertOneLineError(["bench", "scan", clip, "--model", billion], naming: billion, status: 66)
        try assertOneLineError(["audit", folder, "--out", path("audit"), "--model", wide], naming: wide, status: 66)
        let train = try unmask(["train", "--real", folder, "--out", path("run"), "--steps", "1", "--base-model", wide, "--quiet"])
        XCTAssertEqual(train.status, 66, train.standardError)
        XCTAssertTrue(train.standardError.contains(wide), train.standardError)
    }

    func testBrokenWeightsAndThresholdsAreRefusedNamingTheModel() throws {
        let clip = try makeClip()
        let nan = try modelFile("nan.safetensors") { file in
            let weight = try file.array(named: "conv1.weight")
            let count = weight.shape.reduce(1, *)
            file["conv1.weight"] = try SafeTensorsArray(shape: weight.shape, floats: Array(repeating: .nan, count: count))
        }
        try assertOneLineError(["scan", clip, "--model", nan], naming: nan, status: 66)
        for threshold in ["2", "-1"] {
            let model = try modelFile("threshold\(threshold).safetensors") { $0.metadata["threshold"] = threshold }
            try assertOneLineError(["scan", clip, "--model", model], naming: model, status: 66)
        }
    }

    func testAModelFileOverTheSizeLimitIsNotRead() throws {
        let clip = try makeClip()
        let model = try modelFile("model.safetensors") { _ in }
        XCTAssertEqual(truncate(model, 3 << 30), 0, "a sparse 3 GiB file")
        let run = try unmask(["scan", clip, "--model", model])
        XCTAssertEqual(run.status, 66, run.standardError)
        XCTAssertTrue(run.standardError.contains("over the limit"), run.standardError)
        let small = try modelFile("small.safetensors") { _ in }
        XCTAssertEqual(try unmask(["scan", clip, "--model", small, "--max-model-size", "0"]).status, 64)
        let tooSmall = try unmask(["scan", clip, "--model", small, "--max-model-size", "1", "--format", "json"])
        XCTAssertEqual(tooSmall.status, 0, "a 350 KB model is under 1 MiB: \(tooSmall.standardError)")
    }

    func testModelSymbolicLinkLoopsAndDanglingLinksSaySo() throws {
        let clip = try makeClip()
        let first = path("first.safetensors"), second = path("second.safetensors"), dangling = path("dangling.safetensors")
        try FileManager.default.createSymbolicLink(atPath: first, withDestinationPath: second)
        try FileManager.default.createSymbolicLink(atPath: second, withDestinationPath: first)
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: path("nowhere"))
        let loop = try unmask(["scan", clip, "--model", first])
        XCTAssertEqual(loop.status, 66)
        XCTAssertTrue(loop.standardError.contains("symbolic link in a loop"), loop.standardError)
        let broken = try unmask(["scan", clip, "--model", dangling])
        XCTAssertEqual(broken.status, 66)
        XCTAssertTrue(broken.standardError.contains("symbolic link to a missing file"), broken.standardError)
    }
}
