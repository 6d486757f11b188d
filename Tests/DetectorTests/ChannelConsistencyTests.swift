// ChannelConsistency: grid sizes, small, flat and grey frames, κ against a direct computation, and a
// square whose channels carry separate noise standing out from a frame whose channels share theirs. Its
// weight in the frame score: stored in the model's calibration beside the other evidences (old files
// read without it, bad weights refused) and added by the scorer.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class ChannelConsistencyTests: XCTestCase {
    func testGridCoversWholeBlocksOnly() {
        let g = ChannelConsistency.blockCorrelations(TestSupport.texture(width: 100, height: 70, seed: 1))
        XCTAssertEqual(g.rows, 4)  // 70 / 16
        XCTAssertEqual(g.columns, 6)  // 100 / 16
        XCTAssertTrue(g.values.allSatisfy(\.isFinite))
        XCTAssertEqual(ChannelConsistency.blockCorrelations(RGBImage(width: 15, height: 200)).values.count, 0)
        XCTAssertEqual(ChannelConsistency.blockCorrelations(RGBImage(width: 0, height: 0)).values.count, 0)
    }

    func testFramesWithoutAWholeAreaHaveNoScore() {
        XCTAssertNil(ChannelConsistency.frameScore(TestSupport.texture(width: 127, height: 300, seed: 2)))
        XCTAssertNil(ChannelConsistency.frameScore(RGBImage(width: 0, height: 0)))
        XCTAssertNotNil(ChannelConsistency.frameScore(TestSupport.texture(width: 128, height: 128, seed: 2)))
    }

    /// A flat frame has no detail: no block has a measure, no area is compared, so no evidence.
    func testFlatFrameHasNoEvidence() throws {
        let flat = RGBImage(width: 160, height: 144, pixels: [Float](repeating: 0.4, count: 3 * 160 * 144))
        XCTAssertTrue(ChannelConsistency.blockCorrelations(flat).values.allSatisfy(\.isNaN))
        let analysis = try XCTUnwrap(ChannelConsistency.analyse(flat))
        XCTAssertEqual(analysis.score, 0)
        XCTAssertEqual(analysis.region.width, 0, "no region")
    }

    /// A flat (clipped) 128-pixel square in a frame whose channels share their noise has no detail to
    /// correlate: its blocks are left out rather than read as uncorrelated (κ = 0 there would depart
    /// from the frame's κ ≈ 1 by most of 1, as a decoder's region does). The areas around it compare
    /// the blocks they keep, all with κ within about 1e-3 of 1.
    func testFlatSquareIsLeftOutNotEvidence() throws {
        var frame = sharedAndSeparateNoise().real
        let n = 512 * 384, square = TestSupport.pastedSquare
        for k in 0..<3 {
            for r in square.y..<(square.y + square.height) {
                for c in square.x..<(square.x + square.width) { frame.pixels[k * n + r * 512 + c] = 1 }
            }
        }
        let g = ChannelConsistency.blockCorrelations(frame)
        XCTAssertTrue(g.values[(square.y / 16 + 2) * g.columns + square.x / 16 + 2].isNaN, "inside the square")
        XCTAssertLessThan(try XCTUnwrap(ChannelConsistency.frameScore(frame)), 0.05)
    }

    /// Blocks marked NaN do not count: an area's mean is over its other blocks, an area with fewer than
    /// half its blocks measured is not compared, and the peak is the largest departure among the rest.
    func testComparisonSkipsBlocksWithoutAMeasure() throws {
        let comparison = ContextDeviation(blockSide: 16, areaBlocks: 2, contextBlocks: 4)
        // 4 × 4 map: 1 everywhere, 3 in the top-left block, NaN in the bottom row's right three.
        var values = [Float](repeating: 1, count: 16)
        values[0] = 3
        for c in 1..<4 { values[12 + c] = .nan }
        let d = comparison.deviations(ScoreGrid(rows: 4, columns: 4, values: values))
        // Block (0, 0): area rows/columns −1…0 clipped to the one block, 3; context −2…1, blocks (0…1, 0…1)
        // with mean (3 + 1 + 1 + 1) / 4 = 1.5.
        XCTAssertEqual(d.values[0], 1.5, accuracy: 1e-6)
        // Block (3, 3): its area is blocks (2…3, 2…3), of which the bottom two are NaN: half measured,
        // compared; block (3, 2) likewise. The context of (3, 3) holds only 1s: 0.
        XCTAssertEqual(d.values[15], 0, accuracy: 1e-6)
        // The largest departure elsewhere is 2 − 8/6 (blocks (0, 1) and (1, 0)): the peak is block (0, 0).
        let map = ScoreGrid(rows: 4, columns: 4, values: values)
        let analysis = try XCTUnwrap(comparison.analyse(map, frameWidth: 64, frameHeight: 64))
        XCTAssertEqual(analysis.score, 1.5, accuracy: 1e-6)
        // Only the bottom row measured: block (2, 0)'s area (rows 1…2) has none, block (3, 0)'s (rows 2…3)
        // half of its two blocks.
        let sparse = comparison.deviations(
            ScoreGrid(rows: 4, columns: 4, values: [Float](repeating: .nan, count: 12) + [1, 1, 1, 1]))
        XCTAssertTrue(sparse.values[8].isNaN)
        XCTAssertEqual(sparse.values[12], 0, accuracy: 1e-6)
    }

    /// Equal channels have equal residuals: κ = m / √(m² + ε) with m the mean square, which for the
    /// texture's noise (σ = 0.01, residual variance 36σ² = 3.6e-3) is 1 − ε/(2m²) ≈ 1 − 1e-9.
    func testGreyFrameIsFullyCorrelated() {
        var grey = TestSupport.texture(width: 96, height: 64, seed: 3)
        let n = 96 * 64
        for i in 0..<n { grey.pixels[n + i] = grey.pixels[i]; grey.pixels[2 * n + i] = grey.pixels[i] }
        for v in ChannelConsistency.blockCorrelations(grey).values { XCTAssertEqual(v, 1, accuracy: 1e-5) }
    }

    /// κ per block against a direct computation in Double over each block's pixels with a whole 3×3
    /// neighbourhood (every block of the texture has detail well above `minimumDetail`). The implementation sums each block row's ≤ 16 products in Float (relative error
    /// about 16·6e-8 per row) before adding rows in Double; with the texture's noise every block's mean
    /// squares are well above ε, so κ agrees to far better than 1e-4.
    func testCorrelationsMatchADirectComputation() {
        let W = 53, H = 37, n = W * H
        let image = TestSupport.texture(width: W, height: H, seed: 5)
        let g = ChannelConsistency.blockCorrelations(image)
        func d(_ k: Int, _ r: Int, _ c: Int) -> Double {
            var s = 0.0
            for (dr, wr) in [(-1, 1.0), (0, -2.0), (1, 1.0)] {
                for (dc, wc) in [(-1, 1.0), (0, -2.0), (1, 1.0)] {
                    s += wr * wc * Double(image.pixels[k * n + (r + dr) * W + c + dc])
                }
            }
            return s
        }
        for br in 0..<g.rows {
            for bc in 0..<g.columns {
                var rg = 0.0, bg = 0.0, rr = 0.0, gg = 0.0, bb = 0.0, count = 0.0
                for r in max(1, 16 * br)..<min(H - 1, 16 * br + 16) {
                    for c in max(1, 16 * bc)..<min(W - 1, 16 * bc + 16) {
                        let (red, green, blue) = (d(0, r, c), d(1, r, c), d(2, r, c))
                        rg += red * green; bg += blue * green; rr += red * red; gg += green * green; bb += blue * blue
                        count += 1
                    }
                }
                let e = ChannelConsistency.epsilon
                let rgMean = rg / count, bgMean = bg / count
                let (rrMean, ggMean, bbMean) = (rr / count, gg / count, bb / count)
                let expected =
                    0.5 * (rgMean / (rrMean * ggMean + e).squareRoot() + bgMean / (bbMean * ggMean + e).squareRoot())
                XCTAssertEqual(Double(g.values[br * g.columns + bc]), expected, accuracy: 1e-4, "block \(br),\(bc)")
            }
        }
    }

    /// A 512 × 384 frame whose three channels share one noise field (σ = 0.01; the colour comes from
    /// smooth waves whose second differences are under 1e-3 of it), and the same with the 128-pixel
    /// square given a separate noise field per channel. Real blocks: κ within about 1e-3 of 1. Square
    /// blocks: κ ≈ 0 with a sampling spread of about 1/√(196/3) per block (the residual is correlated over
    /// its 3×3 stencil), 0.02 over the area's 64 blocks. The square's area departs from a context of which
    /// it is a ninth by about 8/9, the real frame's areas by well under 0.01: fake above 0.5, real below
    /// 0.05, and the region on the square.
    func testSquareWithSeparateChannelNoiseStandsOut() throws {
        let (real, fake) = sharedAndSeparateNoise()
        let realScore = try XCTUnwrap(ChannelConsistency.frameScore(real))
        let fakeScore = try XCTUnwrap(ChannelConsistency.frameScore(fake))
        XCTAssertLessThan(realScore, 0.05)
        XCTAssertGreaterThan(fakeScore, 0.5)
        let analysis = try XCTUnwrap(ChannelConsistency.analyse(fake))
        XCTAssertEqual(analysis.score, fakeScore)
        XCTAssertGreaterThanOrEqual(
            FrameEvaluation.intersectionOverUnion(analysis.region, TestSupport.pastedSquare), 0.3,
            "region \(analysis.region)")
        let d = ChannelConsistency.comparison.deviations(ChannelConsistency.blockCorrelations(fake))
        XCTAssertLessThan(d.values.min() ?? 0, -0.5, "the square's channels are less alike than the frame's")
    }

    func sharedAndSeparateNoise() -> (real: RGBImage, fake: RGBImage) {
        let W = 512, H = 384, n = W * H
        var rng = RandomGenerator(seed: 11)
        var real = RGBImage(width: W, height: H)
        for r in 0..<H {
            for c in 0..<W {
                let noise = 0.01 * rng.normal()
                for k in 0..<3 {
                    let wave = 0.1 * sin(0.01 * Float(c) * Float(k + 1) + 0.013 * Float(r))
                    real.pixels[k * n + r * W + c] = 0.45 + Float(k) * 0.05 + wave + noise
                }
            }
        }
        var fake = real
        let square = TestSupport.pastedSquare
        for r in square.y..<(square.y + square.height) {
            for c in square.x..<(square.x + square.width) {
                let shared = real.pixels[r * W + c] - 0.45 - 0.1 * sin(0.01 * Float(c) + 0.013 * Float(r))
                for k in 0..<3 { fake.pixels[k * n + r * W + c] += 0.01 * rng.normal() - shared }
            }
        }
        return (real, fake)
    }

    // MARK: Weight in the frame score

    func testCalibrationKeepsTheChannelWeight() throws {
        let old = try JSONDecoder().decode(
            Calibration.self, from: Data(#"{"a":1.5,"b":-2,"scaleWeight":2,"latticeWeight":1}"#.utf8))
        XCTAssertEqual(old.channelWeight, 0)
        XCTAssertEqual(old.weighedEvidence, [.scale, .lattice])
        let all = Calibration(a: 2, b: -1, scaleWeight: 1.5, gridWeight: 0.5, latticeWeight: 0.25, channelWeight: 4)
        XCTAssertEqual(all.weighedEvidence, [.scale, .grid, .lattice, .channel])
        XCTAssertEqual(try JSONDecoder().decode(Calibration.self, from: try JSONEncoder().encode(all)), all)
        XCTAssertEqual(
            all.score(areaLogit: 0.5, scaleEvidence: 0.2, gridEvidence: 0.4, latticeEvidence: 2, channelEvidence: 0.1),
            0.5 + 1.5 * 0.2 + 0.5 * 0.4 + 0.25 * 2 + 4 * 0.1, accuracy: 1e-15)
        let plain = String(decoding: try JSONEncoder().encode(Calibration(a: 1, b: 0)), as: UTF8.self)
        XCTAssertFalse(plain.contains("channelWeight"), "an unused weight is not written: \(plain)")

        let standardized = Calibration(
            standardization: Standardization(
                network: .init(mean: -1, spread: 0.5), channel: .init(mean: 0.1, spread: 0.05)))
        XCTAssertEqual(standardized.weighedEvidence, [.channel])
        XCTAssertEqual(
            try JSONDecoder().decode(Calibration.self, from: try JSONEncoder().encode(standardized)), standardized)
        // The largest of the network's (0 − (−1)) / 0.5 = 2 and the channel's (0.3 − 0.1) / 0.05 = 4.
        XCTAssertEqual(standardized.score(areaLogit: 0) { $0 == .channel ? 0.3 : nil }, 4, accuracy: 1e-12)
    }

    func testModelFileKeepsTheChannelWeightAndRefusesBadOnes() throws {
        try TestSupport.checkModelFileWeights(.channel, in: temporaryFolder("channel-weight"))
    }

    func testScorerAddsTheWeightedChannelEvidence() throws {
        let image = sharedAndSeparateNoise().fake
        let evidence = try XCTUnwrap(ChannelConsistency.frameScore(image))
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 2)
        let plain = try FrameScorer(model: model, threads: 1).score(image)
        XCTAssertNil(plain.channelEvidence, "not computed when the calibration does not weigh it")

        model.calibration = Calibration(a: 1, b: 0, channelWeight: 2)
        let fused = try FrameScorer(model: model, threads: 1).score(image)
        XCTAssertEqual(try XCTUnwrap(fused.channelEvidence), evidence)
        XCTAssertNil(fused.latticeEvidence)
        XCTAssertEqual(fused.score, plain.areaLogit + 2 * evidence, accuracy: 1e-12)
    }
}
