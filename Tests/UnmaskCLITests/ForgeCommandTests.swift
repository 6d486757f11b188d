// `unmask forge` as a user runs it: a known fake clip with every frame kept and only the chosen
// stretch changed, and one clear line with its exit code for each bad input.
import Detector
import Foundation
import MediaIO
import XCTest

final class ForgeCommandTests: CLITestCase {
    func makeGenerator() throws -> String {
        let g = Generator(
            architecture: GeneratorArchitecture(latentSize: 8, baseWidth: 16, minimumWidth: 8, patchSize: 16), seed: 2)
        let path = self.path("generator.safetensors")
        try GeneratorFile.save(g, to: path)
        return path
    }

    func testForgedClipKeepsEveryFrameAndChangesOnlyTheStretch() throws {
        let clip = try makeClip()  // 2 s at 10 fps, 64×48
        let out = path("forged.mp4")
        let run = try unmask([
            "forge", "--generator", try makeGenerator(), "--input", clip, "--output", out, "--region", "8,8,32,32",
            "--start", "0.5", "--end", "1.0", "--crf", "0",
        ])
        XCTAssertEqual(run.status, 0, run.standardError)
        XCTAssertTrue(run.standardError.contains("forged 5 of 20 frames"), run.standardError)
        let original = try VideoDecoder(path: clip, sampling: .everyFrame, outputSize: .native)
        let forged = try VideoDecoder(path: out, sampling: .everyFrame, outputSize: .native)
        var a = RGBImage(), b = RGBImage(), changed: [Int] = []
        while let fa = try original.nextFrame(into: &a), try forged.nextFrame(into: &b) != nil {
            let difference = zip(a.pixels, b.pixels).map { abs($0 - $1) }.max() ?? 0
            if difference > 0.1 { changed.append(fa.index) }
        }
        XCTAssertEqual(changed, [5, 6, 7, 8, 9])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: workFolder.path).filter { $0.hasPrefix(".") }, [])
    }

    func testForgeBadInputsAreOneLineWithTheirExitCodes() throws {
        let clip = try makeClip()
        let generator = try makeGenerator()
        let missing = path("missing-generator.safetensors")
        try assertOneLineError(
            ["forge", "--generator", missing, "--input", clip, "--output", path("o.mp4"), "--region", "0,0,8,8"],
            naming: missing, status: 66)
        try assertOneLineError(
            ["forge", "--generator", generator, "--input", clip, "--output", path("o.mp4"), "--region", "40,0,32,32"],
            naming: clip, status: 64)
        let nothing = path("nothing.mp4")
        try assertOneLineError(
            ["forge", "--generator", generator, "--input", nothing, "--output", path("o.mp4"), "--region", "0,0,8,8"],
            naming: nothing, status: 65)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("o.mp4")))
        // a zoo family instead of a generator: neither, both, an unknown one, or one that needs a donor
        for bad in [
            [String](), ["--generator", generator, "--family", "resample"], ["--family", "no-such-family"],
            ["--family", "splice"],
        ] {
            let run = try unmask(["forge", "--input", clip, "--output", path("o.mp4"), "--region", "0,0,8,8"] + bad)
            XCTAssertEqual(run.status, 64, "\(bad): \(run.standardError)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("o.mp4")))
    }

    func testAFamilyForgesOnlyTheChosenStretch() throws {
        let clip = try makeClip()  // 2 s at 10 fps, 64×48
        let out = path("family.mp4")
        let run = try unmask([
            "forge", "--family", "upsampler-nearest-random", "--input", clip, "--output", out, "--region", "8,8,32,32",
            "--start", "1.0", "--crf", "0",
        ])
        XCTAssertEqual(run.status, 0, run.standardError)
        XCTAssertTrue(run.standardError.contains("forged 10 of 20 frames"), run.standardError)
    }
}
