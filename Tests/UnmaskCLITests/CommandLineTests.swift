// The `unmask` executable as a user meets it: real runs of the built binary, their output, their
// exit codes, and one clear line on standard error for each kind of bad input.
import Foundation
import MediaIO
import Synchronization
import XCTest

/// Bytes read on another thread, handed over under a lock.
final class ReadOutput: Sendable {
    private let data = Mutex(Data())
    func set(_ bytes: Data) { data.withLock { $0 = bytes } }
    var value: Data { data.withLock { $0 } }
}

class CLITestCase: XCTestCase {
    var workFolder: URL!

    override func setUpWithError() throws {
        workFolder = FileManager.default.temporaryDirectory.appendingPathComponent("unmask-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workFolder, withIntermediateDirectories: true)
        guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
            throw XCTSkip("build the unmask executable first (swift build): \(Self.executable.path) is missing")
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workFolder)
    }

    // MARK: Running the binary

    /// The built `unmask`, beside the test bundle in the build folder.
    static var executable: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = testBinary.deletingLastPathComponent()
        // The test binary may sit inside an .xctest bundle folder.
        while folder.path != "/" && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("unmask").path) {
            folder = folder.deletingLastPathComponent()
        }
        return folder.appendingPathComponent("unmask")
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    struct Run {
        var status: Int32
        var standardOutput: String
        var standardError: String
        var errorLines: [String] { standardError.split(separator: "\n").map(String.init) }
    }

    /// Runs `unmask` (or a copy of it at `executable`) with `arguments`, in `currentDirectory` and with
    /// `environment` when given (else this process's).
    func unmask(
        _ arguments: [String], executable: URL? = nil, currentDirectory: URL? = nil, environment: [String: String]? = nil
    ) throws -> Run {
        let process = Process()
        process.executableURL = executable ?? Self.executable
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        if let environment { process.environment = environment }
        let outputPipe = Pipe(), errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        try process.run()
        // Both pipes drain at once: read one to its end first and a child that fills the other (64 KB,
        // e.g. a sanitizer's report on standard error) would block forever.
        let errorOutput = ReadOutput()
        let errorRead = DispatchGroup()
        DispatchQueue.global().async(group: errorRead) { errorOutput.set(errorPipe.fileHandleForReading.readDataToEndOfFile()) }
        let output = outputPipe.fileHandleForReading.readDataToEndOfFile()
        errorRead.wait()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            standardOutput: String(decoding: output, as: UTF8.self),
            standardError: String(decoding: errorOutput.value, as: UTF8.self))
    }

    /// Runs `unmask` with standard output sent to `output` (e.g. /dev/full) and returns (status, stderr).
    func unmask(_ arguments: [String], standardOutput output: FileHandle) throws -> (status: Int32, standardError: String) {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let errorPipe = Pipe()
        process.standardOutput = output
        process.standardError = errorPipe
        try process.run()
        let errorOutput = errorPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: errorOutput, as: UTF8.self))
    }

    func path(_ name: String) -> String { workFolder.appendingPathComponent(name).path }

    /// Writes `contents` to `name` in the work folder and returns its path.
    func write(_ contents: Data, to name: String) throws -> String {
        let target = path(name)
        try contents.write(to: URL(fileURLWithPath: target))
        return target
    }

    /// A 2-second 64×48 H.264 clip at 10 fps with a keyframe every 5 frames.
    func makeClip(named name: String = "clip.mp4") throws -> String {
        let clip = path(name)
        let encoder = try VideoEncoder(path: clip, codec: .h264(crf: 20), width: 64, height: 48, frameRate: 10, gopSize: 5)
        for index in 0..<20 {
            var image = RGBImage(width: 64, height: 48)
            for pixel in 0..<(64 * 48) {
                image.pixels[pixel] = Float(index) / 20
                image.pixels[64 * 48 + pixel] = Float(pixel % 64) / 64
                image.pixels[2 * 64 * 48 + pixel] = 0.5
            }
            try encoder.append(image)
        }
        try encoder.finish()
        return clip
    }

    func assertOneLineError(
        _ arguments: [String], naming file: String, status: Int32 = 65, file sourceFile: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let run = try unmask(arguments)
        XCTAssertEqual(run.status, status, "exit status for \(arguments): \(run.standardError)", file: sourceFile, line: line)
        XCTAssertEqual(
            run.errorLines.count, 1, "expected one line on stderr, got: \(run.standardError)", file: sourceFile, line: line)
        XCTAssertTrue(
            run.standardError.contains(file), "stderr should name \(file): \(run.standardError)", file: sourceFile, line: line)
        XCTAssertTrue(run.standardError.hasPrefix("unmask: "), run.standardError, file: sourceFile, line: line)
    }

    // MARK: Hand-made headers

    /// A PNG signature and an IHDR chunk declaring the given size (8-bit RGB), with a correct CRC, and no pixel data.
    static func pngHeader(width: UInt32, height: UInt32) -> Data {
        var chunk = Data("IHDR".utf8)
        for value in [width, height] { chunk.append(contentsOf: withUnsafeBytes(of: value.bigEndian, Array.init)) }
        chunk.append(contentsOf: [8, 2, 0, 0, 0])
        var data = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        data.append(contentsOf: withUnsafeBytes(of: UInt32(13).bigEndian, Array.init))
        data.append(chunk)
        data.append(contentsOf: withUnsafeBytes(of: crc32(chunk).bigEndian, Array.init))
        return data
    }

    static func crc32(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

final class CommandLineTests: CLITestCase {
    // MARK: Working input

    func testProbeSampleMediaAsTableAndJSON() throws {
        let samples = ["city.mp4", "cockatoo.mp4"].map { Self.repositoryRoot.appendingPathComponent("Samples/\($0)").path }
        let table = try unmask(["probe"] + samples)
        XCTAssertEqual(table.status, 0, table.standardError)
        XCTAssertTrue(table.standardOutput.contains("720×404"), table.standardOutput)
        XCTAssertTrue(table.standardOutput.contains("1280×720"), table.standardOutput)

        let json = try unmask(["probe", "--json"] + samples)
        XCTAssertEqual(json.status, 0, json.standardError)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let decoded = try decoder.decode([MediaInfo].self, from: Data(json.standardOutput.utf8))
        XCTAssertTrue(json.standardOutput.contains("\"video_codec\""), "snake_case keys: \(json.standardOutput)")
        XCTAssertEqual(decoded.map(\.width), [720, 1280])
        XCTAssertEqual(decoded.map(\.videoCodec), ["h264", "h264"])
        XCTAssertEqual(decoded.map(\.hasAudio), [false, true])
    }

    func testFramesWritesOnePNGPerSampledFrame() throws {
        let clip = try makeClip()
        let everyFifth = try unmask(["frames", clip, "--every", "5", "--out", path("every5")])
        XCTAssertEqual(everyFifth.status, 0, everyFifth.standardError)
        let names = try FileManager.default.contentsOfDirectory(atPath: path("every5")).sorted()
        XCTAssertEqual(names.count, 4, "20 frames, every 5th: \(names)")
        XCTAssertEqual(names.first, "frame-000000-t0.000s.png")

        let keyframes = try unmask(["frames", clip, "--keyframes", "--out", path("keys")])
        XCTAssertEqual(keyframes.status, 0, keyframes.standardError)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("keys")).count, 4)

        let rate = try unmask(["frames", clip, "--fps", "2", "--max-frames", "3", "--out", path("rate")])
        XCTAssertEqual(rate.status, 0, rate.standardError)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: path("rate")).sorted(),
            [
                "frame-000000-t0.000s.png", "frame-000005-t0.500s.png", "frame-000010-t1.000s.png",
            ])
    }

    // MARK: Bad input: one line on standard error naming the file, a non-zero exit

    func testBadInputsGiveOneLineErrorsAndNonZeroExit() throws {
        let missing = path("does-not-exist.mp4")
        try assertOneLineError(["probe", missing], naming: missing)

        try assertOneLineError(["probe", workFolder.path], naming: workFolder.path)

        let empty = try write(Data(), to: "empty.mp4")
        try assertOneLineError(["probe", empty], naming: empty)

        var generator = SystemRandomNumberGenerator()
        let random = try write(
            Data((0..<50_000).map { _ in UInt8.random(in: 0...255, using: &generator) }), to: "random.mp4")
        try assertOneLineError(["probe", random], naming: random)

        let text = try write(Data(String(repeating: "not a video at all\n", count: 200).utf8), to: "notes.avi")
        try assertOneLineError(["probe", text], naming: text)

        let huge = try write(Self.pngHeader(width: 100_000, height: 100_000), to: "huge.png")
        try assertOneLineError(["frames", huge, "--out", path("huge-out")], naming: huge)

        let y4m = try write(
            Data("YUV4MPEG2 W60000 H60000 F25:1 Ip A1:1 C420jpeg\nFRAME\n".utf8) + Data(count: 4096), to: "huge.y4m")
        try assertOneLineError(["frames", y4m, "--out", path("y4m-out")], naming: y4m)
    }

    func testProbeReportsEachBadFileAndStillPrintsTheGoodOnes() throws {
        let clip = try makeClip()
        let missing = path("missing.mov")
        let run = try unmask(["probe", clip, missing])
        XCTAssertEqual(run.status, 65)
        XCTAssertTrue(run.standardOutput.contains("64×48"), run.standardOutput)
        XCTAssertEqual(run.errorLines.count, 1, run.standardError)
        XCTAssertTrue(run.standardError.contains(missing))
    }

    func testStandardOutputThatCannotBeWrittenIsOneLineAndExit73() throws {
        let sample = Self.repositoryRoot.appendingPathComponent("Samples/city.mp4").path
        let full = try XCTUnwrap(FileHandle(forWritingAtPath: "/dev/full"))
        let readOnly = path("read-only.txt")
        try Data("x".utf8).write(to: URL(fileURLWithPath: readOnly))
        let notWritable = try XCTUnwrap(FileHandle(forReadingAtPath: readOnly))  // writes fail with EBADF
        for (name, handle) in [("/dev/full", full), ("a read-only descriptor", notWritable)] {
            for arguments in [["probe", sample], ["probe", "--json", sample]] {
                let run = try unmask(arguments, standardOutput: handle)
                XCTAssertEqual(run.status, 73, "\(arguments) to \(name): \(run.standardError)")
                let lines = run.standardError.split(separator: "\n")
                XCTAssertEqual(lines.count, 1, run.standardError)
                XCTAssertTrue(run.standardError.hasPrefix("unmask: standard output: cannot write"), run.standardError)
            }
        }
    }

    func testControlCharactersInFileNamesNeverReachTheTerminalRaw() throws {
        let hostile = path("clip\u{1B}]0;owned\u{07}\u{1B}[31mred.mp4")
        let run = try unmask(["probe", hostile])
        XCTAssertEqual(run.status, 65, run.standardError)
        XCTAssertEqual(run.errorLines.count, 1, run.standardError)
        XCTAssertFalse(run.standardError.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, run.standardError)
        XCTAssertTrue(run.standardError.contains("clip\\u{1B}]0;owned\\u{7}"), run.standardError)
    }

    func testUsageErrorsExitWith64() throws {
        let clip = try makeClip()
        let run = try unmask(["frames", clip, "--every", "0", "--out", path("x")])
        XCTAssertEqual(run.status, 64, run.standardError)
        let conflicting = try unmask(["frames", clip, "--every", "2", "--keyframes", "--out", path("x")])
        XCTAssertEqual(conflicting.status, 64, conflicting.standardError)
    }

    func testUnwritableOutputFolderIsAClearError() throws {
        let clip = try makeClip()
        let blocker = try write(Data("x".utf8), to: "a-file")
        try assertOneLineError(["frames", clip, "--out", blocker], naming: blocker, status: 73)
    }
}
