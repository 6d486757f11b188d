// Where `unmask` finds its default model, whatever the current folder: --model, $UNMASK_MODEL, the
// copy installed beside the binary (PREFIX/share/unmask/models), the repository's Models/. Each run
// here starts in the test's own temporary folder, away from the repository.
import Audit
import Detector
import Foundation
import XCTest

final class ModelLookupTests: CLITestCase {
    /// This process's environment without UNMASK_MODEL, so the default lookup is what is tested.
    var environmentWithoutModel: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["UNMASK_MODEL"] = nil
        return environment
    }

    /// An untrained model with pinned calibration, saved at `path`.
    func saveModel(at path: String) throws {
        let model = DetectorModel(architecture: .standard, seed: 11)
        model.calibration = Calibration(a: 0, b: 5)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try model.save(to: path)
    }

    /// The SHA-256 of the model named in the JSON report of `run`.
    func modelDigest(_ run: Run, file: StaticString = #filePath, line: UInt = #line) throws -> String? {
        XCTAssertEqual(run.status, 0, run.standardError, file: file, line: line)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
        return (report["model"] as? [String: Any])?["sha256"] as? String
    }

    func testTheRepositoryModelIsFoundFromAnotherFolder() throws {
        let clip = try makeClip()
        let run = try unmask(
            ["scan", clip, "--format", "json", "--max-frames", "1", "--no-confirmation"], currentDirectory: workFolder,
            environment: environmentWithoutModel)
        let shipped = Self.repositoryRoot.appendingPathComponent("Models/unmask-v2.safetensors").path
        XCTAssertEqual(try modelDigest(run), try FileDigest.sha256Hex(path: shipped))
    }

    func testUnmaskModelVariableWinsOverTheDefault() throws {
        let clip = try makeClip()
        let chosen = path("chosen.safetensors")
        try saveModel(at: chosen)
        var environment = environmentWithoutModel
        environment["UNMASK_MODEL"] = chosen
        let run = try unmask(
            ["scan", clip, "--format", "json", "--max-frames", "1", "--no-confirmation"], currentDirectory: workFolder,
            environment: environment)
        XCTAssertEqual(try modelDigest(run), try FileDigest.sha256Hex(path: chosen))
        // A variable naming a missing file is an error naming it, not a silent fallback.
        environment["UNMASK_MODEL"] = path("missing.safetensors")
        let missing = try unmask(["scan", clip], currentDirectory: workFolder, environment: environment)
        XCTAssertEqual(missing.status, 66, missing.standardError)
        XCTAssertTrue(missing.standardError.contains(path("missing.safetensors")), missing.standardError)
    }

    func testAnInstalledBinaryUsesTheModelInstalledBesideIt() throws {
        let clip = try makeClip()
        let prefix = workFolder.appendingPathComponent("prefix")
        let binary = prefix.appendingPathComponent("bin/unmask")
        try FileManager.default.createDirectory(at: binary.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.executable, to: binary)
        let installed = prefix.appendingPathComponent("share/unmask/models/unmask-v2.safetensors").path
        try saveModel(at: installed)
        let run = try unmask(
            ["scan", clip, "--format", "json", "--max-frames", "1", "--no-confirmation"], executable: binary,
            currentDirectory: workFolder, environment: environmentWithoutModel)
        XCTAssertEqual(try modelDigest(run), try FileDigest.sha256Hex(path: installed))

        // Without an installed model and outside any repository there is no default: one line, exit 66,
        // saying where it looked.
        try FileManager.default.removeItem(atPath: installed)
        let none = try unmask(
            ["scan", clip], executable: binary, currentDirectory: workFolder, environment: environmentWithoutModel)
        XCTAssertEqual(none.status, 66, none.standardError)
        XCTAssertEqual(none.errorLines.count, 1, none.standardError)
        XCTAssertTrue(none.standardError.contains("UNMASK_MODEL"), none.standardError)
        XCTAssertTrue(none.standardError.contains(installed), none.standardError)
    }
}
