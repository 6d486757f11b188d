// Tests of hard-negative mining in training: the kept windows are the highest-scoring candidates,
// they fill the last real rows of the batch, the configuration is bounded (a checkpoint carries it),
// and configurations saved without it still decode.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class HardNegativeTests: XCTestCase {
    func config(_ mining: HardNegativeConfig?) -> TrainingConfig {
        var c = TestSupport.tinyConfig(seed: 5)
        c.augmentation = .none
        c.hardNegatives = mining
        return c
    }

    /// A mining scores `candidates` crops and keeps the `select` highest, highest first: the same
    /// crops scored again here give the same top scores.
    func testMiningKeepsTheHighestScoringCandidates() throws {
        let mining = HardNegativeConfig(perBatch: 3, candidates: 300, select: 20, every: 4)
        let trainer = try Trainer(config: config(mining), data: TestSupport.syntheticData(files: 3, size: 96))
        trainer.train(steps: 2)
        XCTAssertEqual(trainer.hardNegativesMinedAtStep, 0)
        XCTAssertEqual(trainer.hardNegativeWindows.count, 20)

        trainer.discriminator.eval()
        var rng = trainer.hardNegativeCandidateRNG()
        let candidates = (0..<300).map { _ in trainer.realPatch(trainer.data.real.training, rng: &rng) }
        let all = trainer.scores(candidates).sorted(by: >)
        trainer.mineHardNegatives(mining)
        XCTAssertTrue(trainer.discriminator.isTraining, "mining leaves the detector in training mode")
        XCTAssertEqual(trainer.hardNegativesMinedAtStep, 2)
        // The same windows scored in other batches round differently in float32 (the GEMM's blocking
        // follows the batch): scores of about 0.3 agree to about 1e-7, so 1e-5 is a wide margin.
        func assertClose(_ a: [Double], _ b: [Double], _ what: String) {
            XCTAssertEqual(a.count, b.count, what)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5, what) }
        }
        assertClose(trainer.hardNegativeScores, Array(all.prefix(20)), "the kept scores are the top 20")
        trainer.discriminator.eval()
        assertClose(trainer.scores(trainer.hardNegativeWindows), trainer.hardNegativeScores, "re-scored")
        trainer.discriminator.train()
        XCTAssertGreaterThan(all[0], all[299], "the candidates' scores must differ for the test to mean anything")
    }

    /// The last `perBatch` real rows of the batch are mined windows (augmentation off, so unchanged);
    /// mining repeats every `every` steps.
    func testMinedWindowsFillTheLastRealRowsAndMiningRepeats() throws {
        let mining = HardNegativeConfig(perBatch: 3, candidates: 64, select: 8, every: 4)
        let trainer = try Trainer(config: config(mining), data: TestSupport.syntheticData(files: 3, size: 96))
        trainer.train(steps: 5)
        XCTAssertEqual(trainer.hardNegativesMinedAtStep, 4)
        _ = trainer.buildDiscriminatorBatch()
        let Nr = trainer.config.realPerBatch
        let mined = Set(trainer.hardNegativeWindows.map(\.pixels))
        for row in 0..<Nr {
            let pixels = trainer.image(from: trainer.batch, index: row).pixels
            XCTAssertEqual(mined.contains(pixels), row >= Nr - 3, "row \(row)")
        }
    }

    func testOffLeavesTheBatchAsItWas() throws {
        let data = TestSupport.syntheticData(files: 3, size: 96)
        let a = try Trainer(config: config(nil), data: data)
        let b = try Trainer(config: config(nil), data: data)
        a.train(steps: 2); b.train(steps: 2)
        XCTAssertTrue(a.hardNegativeWindows.isEmpty)
        XCTAssertEqual(a.rng, b.rng)
    }

    /// Every count is bounded before anything is allocated from it (a checkpoint carries them).
    func testTheConfigurationIsBounded() throws {
        for bad in [
            HardNegativeConfig(perBatch: 5),  // more than half of 8 real rows
            HardNegativeConfig(perBatch: 0),
            HardNegativeConfig(perBatch: 2, candidates: 0),
            HardNegativeConfig(perBatch: 2, candidates: HardNegativeConfig.maximumCandidates + 1),
            HardNegativeConfig(perBatch: 2, candidates: 100, select: 101),
            HardNegativeConfig(perBatch: 2, candidates: 10_000, select: HardNegativeConfig.maximumSelect + 1),
            HardNegativeConfig(perBatch: 2, every: 0),
        ] {
            XCTAssertThrowsError(try config(bad).validate(), "\(bad)") { error in
                XCTAssertTrue("\(error)".contains("hard negatives"), "\(error)")
            }
        }
        XCTAssertNoThrow(try config(HardNegativeConfig(perBatch: 4)).validate())
    }

    /// A configuration saved without the field (older checkpoints) decodes with mining off.
    func testAConfigurationWithoutTheFieldDecodesWithMiningOff() throws {
        let withMining = config(HardNegativeConfig(perBatch: 2))
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(withMining)) as! [String: Any]
        XCTAssertNotNil(json["hardNegatives"])
        json["hardNegatives"] = nil
        let decoded = try JSONDecoder().decode(TrainingConfig.self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertNil(decoded.hardNegatives)
        XCTAssertEqual(decoded, config(nil))
    }
}
