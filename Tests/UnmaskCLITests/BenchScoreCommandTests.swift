// `unmask bench untrained-model` and `unmask bench score` as a user runs them: the model file it
// writes loads with the standard architecture (or the candidate asked for) and serves `bench score`,
// whose JSON has one row per configuration; bad configurations and candidates are usage errors.
import Detector
import Foundation
import XCTest

final class BenchScoreCommandTests: CLITestCase {
    func testUntrainedModelServesTheScorerBenchmark() throws {
        let model = path("untrained.safetensors")
        let written = try unmask(["bench", "untrained-model", "--out", model])
        XCTAssertEqual(written.status, 0, written.standardError)
        XCTAssertEqual(try DetectorModel.load(path: model).architecture, .standard)

        let run = try unmask([
            "bench", "score", "--model", model, "--width", "96", "--height", "64", "--configurations", "1x1,2x2",
            "--runs", "2", "--json",
        ])
        XCTAssertEqual(run.status, 0, run.standardError)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
        XCTAssertEqual(result["windows"] as? Int, 1, "a 96×64 frame fits one window")
        let rows = try XCTUnwrap(result["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { [$0["lanes"] as? Int, $0["batch"] as? Int] }, [[1, 1], [2, 2]])
        for row in rows {
            XCTAssertEqual((row["runsWallSeconds"] as? [Double])?.count, 2)
            XCTAssertGreaterThan(try XCTUnwrap(row["wallSecondsPerFrame"] as? Double), 0)
        }
    }

    func testUntrainedModelOfACandidateArchitecture() throws {
        let model = path("candidate.safetensors")
        let written = try unmask([
            "bench", "untrained-model", "--out", model, "--residual-inputs", "srm,npr", "--stem-width", "6",
        ])
        XCTAssertEqual(written.status, 0, written.standardError)
        XCTAssertTrue(written.standardOutput.contains("srm+npr, stem 6"), written.standardOutput)
        let architecture = try DetectorModel.load(path: model).architecture
        XCTAssertEqual(architecture.residualInputs.map(\.kind), [.srm, .npr])
        XCTAssertEqual(architecture.stemWidth, 6)
        let bads: [([String], String)] = [
            (["--residual-inputs", "npr,bayar"], "unknown residual input 'bayar'; choose from npr, srm, contrast, constrained."),
            (["--residual-inputs", "npr,NPR"], "residual input 'npr' is given twice."),
            (["--stem-width", "-1"], "--stem-width must be 0 (no stem) or more (got -1)."),
        ]
        for (bad, message) in bads {
            let out = path("bad.safetensors")
            let run = try unmask(["bench", "untrained-model", "--out", out] + bad)
            XCTAssertEqual(run.status, 64, "\(bad): \(run.standardError)")
            XCTAssertTrue(run.standardError.contains(message), "\(bad): \(run.standardError)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(bad): a model was written")
        }
    }

    func testBadConfigurationsAreUsageErrors() throws {
        for configurations in ["2y4", "0x4", "", "1x4,"] {
            XCTAssertEqual(try unmask(["bench", "score", "--configurations", configurations]).status, 64, configurations)
        }
        XCTAssertEqual(try unmask(["bench", "score", "--runs", "0"]).status, 64)
    }
}
