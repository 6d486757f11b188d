// Tests of the pooled-area loss: which areas a real and a fake patch pool, that an area is the mean
// of its cells and shares its gradient among them, and that the trainer adds it to the supervised
// loss only when configured (and reads configurations saved without it).
import Foundation
import NeuralNet
import XCTest

@testable import Detector

final class PooledAreaLossTests: XCTestCase {
    func testSingleCellsPoolEveryRealCellAndTheCellsAFakeRegionCovers() {
        // Rows: real; fake with cells at 0, 0.3, 0.6, 1; a faint fake whose best cell is 0.3.
        let logits = Tensor(shape: [3, 1, 2, 2], data: [0.2, -1, 0.5, 1.5, -0.3, 0.8, 0.1, -2, 1, 0.4, -0.7, 0])
        let cells = Tensor(shape: [3, 1, 2, 2], data: [0, 0, 0, 0, 0, 0.3, 0.6, 1, 0, 0.3, 0.1, 0])
        let rows = Tensor(shape: [3, 1], data: [0, 1, 1])
        let dPatch = Tensor(shape: [3, 1, 2, 2], repeating: 1)
        let loss = PooledAreaLoss(weight: 2, temperature: 0.5, areaCells: 1).add(
            patchLogits: logits, cellTargets: cells, rowTargets: rows, into: dPatch)
        let pool = Tensor(shape: [3, 1, 2, 2], data: [1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0, 0]), expected = Tensor(shape: [0])
        let direct = Losses.pooledBCEWithLogits(
            logits: logits, pool: pool, targets: [0, 1, 1], temperature: 0.5, dLogits: expected)
        XCTAssertEqual(loss, 2 * direct, accuracy: 1e-6, "the loss comes back weighted")
        for i in 0..<12 {
            // the gradient is added, times the weight, to what dPatch held; cells outside a pool keep it
            XCTAssertEqual(dPatch.pointer[i], 1 + 2 * expected.pointer[i], accuracy: 1e-6, "cell \(i)")
            XCTAssertEqual(expected.pointer[i] == 0, pool.pointer[i] == 0, "cell \(i)")
        }
    }

    func testPooledAreasAreBlockMeansAndShareTheirGradientAmongTheirCells() {
        // One real and one fake 3×3 map, 2×2 areas (four per row). The fake's region covers cell 8
        // (bottom right) only, which one area touches.
        let logits = Tensor(shape: [2, 1, 3, 3], data: [1, 2, 0, -1, 3, 1, 0, 0, 2, 0.5, -1, 0, 2, 1, -2, 0, 1, 4])
        let cells = Tensor(shape: [2, 1, 3, 3], data: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.2, 0.9])
        let rows = Tensor(shape: [2, 1], data: [0, 1])
        let dPatch = Tensor(shape: [2, 1, 3, 3])
        let loss = PooledAreaLoss(weight: 1, temperature: 1, areaCells: 2).add(
            patchLogits: logits, cellTargets: cells, rowTargets: rows, into: dPatch)
        let areas = Tensor(shape: [2, 4], data: [1.25, 1.5, 0.5, 1.5, 0.625, -0.5, 1, 1])
        let pool = Tensor(shape: [2, 4], data: [1, 1, 1, 1, 0, 0, 0, 1]), dAreas = Tensor(shape: [0])
        let direct = Losses.pooledBCEWithLogits(logits: areas, pool: pool, targets: [0, 1], temperature: 1, dLogits: dAreas)
        XCTAssertEqual(loss, direct, accuracy: 1e-6)
        // Each cell gets a quarter of the gradient of every area it lies in.
        let inAreas: [[Int]] = [[0], [0, 1], [1], [0, 2], [0, 1, 2, 3], [1, 3], [2], [2, 3], [3]]
        for r in 0..<2 {
            for cell in 0..<9 {
                let expected = inAreas[cell].reduce(Float(0)) { $0 + dAreas.pointer[r * 4 + $1] / 4 }
                XCTAssertEqual(dPatch.pointer[r * 9 + cell], expected, accuracy: 1e-6, "row \(r) cell \(cell)")
            }
        }
        XCTAssertEqual(dPatch.pointer[9], 0, "no pooled area of the fake holds its top-left cell")
    }

    func testTheTrainerAddsThePooledLossToItsSupervisedTermOnlyWhenConfigured() throws {
        var config = TestSupport.tinyConfig()
        let data = TestSupport.syntheticData(files: 2, size: 48)
        let plain = try Trainer(config: config, data: data).trainStep()
        config.pooledLoss = PooledAreaLoss(weight: 1, areaCells: 2)
        let pooled = try Trainer(config: config, data: data).trainStep()
        // Same seed, so the same first batch and weights: the difference is the pooled BCE, which is positive.
        XCTAssertGreaterThan(pooled.supervisedLoss, plain.supervisedLoss)
        XCTAssertTrue(pooled.discriminatorLoss.isFinite)
    }

    func testConfigurationsWithoutThePooledLossStillDecodeAndItRoundTrips() throws {
        var config = TestSupport.tinyConfig()
        let plain = try JSONEncoder().encode(config)
        XCTAssertFalse(String(decoding: plain, as: UTF8.self).contains("pooledLoss"))
        XCTAssertNil(try JSONDecoder().decode(TrainingConfig.self, from: plain).pooledLoss)
        config.pooledLoss = PooledAreaLoss(weight: 0.5, temperature: 2, areaCells: 3)
        XCTAssertEqual(try JSONDecoder().decode(TrainingConfig.self, from: try JSONEncoder().encode(config)), config)
        for bad in [
            PooledAreaLoss(weight: 101), PooledAreaLoss(weight: 1, temperature: .infinity),
            PooledAreaLoss(weight: 1, areaCells: 5),
        ] {  // the tiny detector's 32-pixel patches have 4 cells per side
            config.pooledLoss = bad
            XCTAssertThrowsError(try Trainer(config: config, data: TestSupport.syntheticData(files: 2, size: 48)), "\(bad)")
        }
    }
}
