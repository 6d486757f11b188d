// GridConsistency: grid sizes, small and flat frames, the grid phase found where the jumps are, and an
// un-gridded square standing out from a JPEG-compressed frame. Its weight in the frame score: stored
// in the model's calibration beside the scale weight (old files read without it, bad weights refused),
// added by the scorer, fitted with the scale evidence by the calibrator, which keeps only the evidence
// that helps.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class GridConsistencyTests: XCTestCase {
    func testGridCoversWholeBlocksOnly() {
        let g = GridConsistency.blockRatios(TestSupport.texture(width: 100, height: 70, seed: 1))
        XCTAssertEqual(g.rows, 8)  // 70 / 8
        XCTAssertEqual(g.columns, 12)  // 100 / 8
        XCTAssertTrue(g.values.allSatisfy(\.isFinite))
        XCTAssertEqual(GridConsistency.blockRatios(RGBImage(width: 7, height: 200)).values.count, 0)
        XCTAssertEqual(GridConsistency.blockRatios(RGBImage(width: 0, height: 0)).values.count, 0)
    }

    func testFramesWithoutAWholeAreaHaveNoScore() {
        XCTAssertNil(GridConsistency.frameScore(TestSupport.texture(width: 127, height: 300, seed: 2)))
        XCTAssertNil(GridConsistency.frameScore(RGBImage(width: 0, height: 0)))
        XCTAssertNotNil(GridConsistency.frameScore(TestSupport.texture(width: 128, height: 128, seed: 2)))
    }

    /// A flat frame has no steps anywhere: g = ln ε − ln ε = 0 in every block, so no evidence.
    func testFlatFrameHasNoEvidence() throws {
        let flat = RGBImage(width: 160, height: 136, pixels: [Float](repeating: 0.4, count: 3 * 160 * 136))
        XCTAssertTrue(GridConsistency.blockRatios(flat).values.allSatisfy { $0 == 0 })
        XCTAssertEqual(try XCTUnwrap(GridConsistency.frameScore(flat)), 0)
    }

    /// Luma that jumps by 0.05 across boundaries 3 (mod 8) along rows and 5 (mod 8) along columns, on
    /// a smooth ramp: the step there is 0.05·1.5 minus at most the ramp's second difference, the step
    /// elsewhere at most 0.05·0.5 plus that, so each axis's phase is the boundary of its jumps, and
    /// every block's g is positive.
    func testPhaseIsWhereTheJumpsAre() {
        let W = 96, H = 80
        var image = RGBImage(width: W, height: H)
        for r in 0..<H {
            for c in 0..<W {
                let v = 0.2 + 0.001 * Float(r + c) + 0.05 * Float((c + 4) / 8) + 0.05 * Float((r + 2) / 8)
                for k in 0..<3 { image.pixels[k * W * H + r * W + c] = v * 0.5 }
            }
        }
        let luma = (0..<(W * H)).map { image.pixels[$0] }  // equal channels: luma is the channel
        XCTAssertEqual(GridConsistency.stepSums(luma, height: H, width: W, alongRows: true, rows: 10, columns: 12).phase, 3)
        XCTAssertEqual(GridConsistency.stepSums(luma, height: H, width: W, alongRows: false, rows: 10, columns: 12).phase, 5)
        XCTAssertTrue(GridConsistency.blockRatios(image).values.allSatisfy { $0 > 0 })
    }

    /// A noisy texture JPEG-compressed at quality 40 carries the 8×8 grid everywhere; a 128-pixel
    /// square of the same texture pasted back uncompressed does not. Per block, g is a log ratio of
    /// mean steps over 2 × 8 grid and 2 × 56 other boundaries, with tens of percent of sampling error
    /// from the texture's pixel noise (σ = 0.01 ≈ 2.6 levels); a 128-pixel area averages 256 blocks,
    /// so the compressed frame's areas agree within about a tenth (its frame score: 0.17), while the
    /// square departs by most of the frame's mean g (1.4 at quality 40; the square's score 1.29). The
    /// square's score must exceed the compressed frame's threefold, and its most deviant area lie on
    /// the square.
    func testUngriddedSquareStandsOut() throws {
        let (real, fake) = try TestSupport.compressedWithUncompressedSquare(quality: 40)
        let realScore = try XCTUnwrap(GridConsistency.frameScore(real))
        let fakeScore = try XCTUnwrap(GridConsistency.frameScore(fake))
        XCTAssertGreaterThan(GridConsistency.blockRatios(real).values.reduce(0, +), 0, "the compressed frame has a grid")
        XCTAssertGreaterThan(fakeScore, 3 * realScore, "real \(realScore), fake \(fakeScore)")

        let d = GridConsistency.comparison.deviations(GridConsistency.blockRatios(fake))
        let peak = try XCTUnwrap(d.values.indices.max { abs(d.values[$0]) < abs(d.values[$1]) })
        // The area centred on block (r, c) covers blocks r − 8 …< r + 8: its centre in pixels is 8·r.
        let (r, c) = (peak / d.columns, peak % d.columns)
        XCTAssertTrue((128...256).contains(8 * r) && (192...320).contains(8 * c), "peak at block \(r),\(c)")
        XCTAssertLessThan(d.values[peak], 0, "the square has less grid than its surroundings")

        let analysis = try XCTUnwrap(GridConsistency.analyse(fake))
        XCTAssertEqual(analysis.score, fakeScore)
        let square = TestSupport.pastedSquare
        XCTAssertGreaterThanOrEqual(
            FrameEvaluation.intersectionOverUnion(analysis.region, square), 0.3, "region \(analysis.region)")
    }

    /// A frame called fake while no cell of the network reaches the threshold gets the box of the
    /// evidence that added most to its score: here the grid evidence (weight 100 on S ≈ 1.3, against
    /// the scale evidence's weight 1).
    func testFrameDecidedByGridEvidenceGetsItsRegion() throws {
        let fake = try TestSupport.compressedWithUncompressedSquare(quality: 40).fake
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 3)
        model.calibration = Calibration(a: 0.01, b: 0, scaleWeight: 1, gridWeight: 100)
        let first = try FrameScorer(model: model, threads: 1).score(fake)
        let highestCell = Double(try XCTUnwrap(first.probabilities.values.filter { !$0.isNaN }.max()))
        XCTAssertLessThan(highestCell, first.probability, "the evidence, not a cell, decides")
        model.threshold = (highestCell + first.probability) / 2
        let result = try FrameScorer(model: model, threads: 1).score(fake)
        XCTAssertTrue(result.isFake)
        XCTAssertEqual(result.region, try XCTUnwrap(GridConsistency.analyse(fake)).region)
    }

    // MARK: Weight in the frame score

    func testCalibrationKeepsTheGridWeight() throws {
        let old = try JSONDecoder().decode(Calibration.self, from: Data(#"{"a":1.5,"b":-2,"scaleWeight":2}"#.utf8))
        XCTAssertEqual(old, Calibration(a: 1.5, b: -2, scaleWeight: 2, gridWeight: 0))
        XCTAssertEqual(old.weighedEvidence, [.scale])
        let both = Calibration(a: 2, b: -1, scaleWeight: 1.5, gridWeight: 0.5)
        XCTAssertEqual(both.weighedEvidence, [.scale, .grid])
        let text = String(decoding: try JSONEncoder().encode(both), as: UTF8.self)
        XCTAssertEqual(try JSONDecoder().decode(Calibration.self, from: Data(text.utf8)), both)
        XCTAssertEqual(
            both.score(areaLogit: 0.5, scaleEvidence: 0.2, gridEvidence: 0.4), 0.5 + 1.5 * 0.2 + 0.5 * 0.4, accuracy: 1e-15)
        XCTAssertEqual(both.score(areaLogit: 0.5, scaleEvidence: nil, gridEvidence: nil), 0.5, "no evidence counts as 0")
    }

    func testModelFileKeepsTheGridWeightAndRefusesBadOnes() throws {
        try TestSupport.checkModelFileWeights(.grid, in: temporaryFolder("grid-weight"))
    }

    func testScorerAddsTheWeightedGridEvidence() throws {
        let image = try ZooEncoding.jpegRoundTrip(TestSupport.texture(width: 160, height: 128, seed: 5), quality: 50)
        let evidence = try XCTUnwrap(GridConsistency.frameScore(image))
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 2)
        let plain = try FrameScorer(model: model, threads: 1).score(image)
        XCTAssertNil(plain.gridEvidence, "not computed when the calibration does not weigh it")

        model.calibration = Calibration(a: 1, b: 0, scaleWeight: 0, gridWeight: 2)
        let fused = try FrameScorer(model: model, threads: 1).score(image)
        XCTAssertEqual(try XCTUnwrap(fused.gridEvidence), evidence)
        XCTAssertNil(fused.scaleEvidence)
        XCTAssertEqual(fused.score, plain.areaLogit + 2 * evidence, accuracy: 1e-12)
    }

    /// Frames whose network score barely separates the classes: real L ~ N(0, 1), fake N(0.3, 1); the
    /// grid evidence G separates them (real N(0.2, 0.05), fake N(0.3, 0.05)) and the scale evidence S
    /// points the wrong way (fake lower).
    private func frames(seed: UInt64) -> [ScoredFrame] {
        var rng = RandomGenerator(seed: seed)
        return (0..<400).map { i in
            let fake = i >= 200
            let l = Double(rng.normal(mean: fake ? 0.3 : 0, std: 1))
            let g = Double(rng.normal(mean: fake ? 0.3 : 0.2, std: 0.05))
            let s = Double(rng.normal(mean: fake ? 0.1 : 0.2, std: 0.05))
            var f = ScoredFrame(
                source: "s\(i)", isFake: fake, kind: fake ? "zoo:x" : "real", variant: "original", width: 64,
                height: 64, score: l, probability: 0, regionHit: nil, regionIoU: nil)
            f.scaleConsistency = s
            f.gridConsistency = g
            f.areaLogit = l
            return f
        }
    }

    func testCalibratorKeepsOnlyTheEvidenceThatHelps() throws {
        let scored = frames(seed: 6)
        let fit = try Calibrator(falsePositiveRate: 0.05, fusedEvidence: [.scale, .grid]).fit(scored)
        XCTAssertEqual(fit.calibration.scaleWeight, 0, "scale evidence that argues for real is dropped")
        XCTAssertGreaterThan(fit.calibration.gridWeight, 0)
        XCTAssertGreaterThan(fit.calibration.a, 0)
        for f in fit.frames {
            XCTAssertEqual(f.score, f.areaLogit! + fit.calibration.gridWeight * f.gridConsistency!, accuracy: 1e-12)
        }
        // Grid evidence two standard deviations apart against network scores 0.3 apart: fused AUC near
        // 0.92, the network's near 0.58; 0.15 leaves room for sampling.
        let networkAUC = FrameEvaluation.metrics(scored, threshold: 0.5).auc
        XCTAssertGreaterThan(FrameEvaluation.metrics(fit.frames, threshold: 0.5).auc, networkAUC + 0.15)

        // Fitting the grid evidence alone gives the same calibration: the dropped evidence leaves no trace.
        let gridOnly = try Calibrator(falsePositiveRate: 0.05, fusedEvidence: [.grid]).fit(scored)
        XCTAssertEqual(gridOnly.calibration, fit.calibration)
        // Only the contrary evidence offered: nothing is weighed, Platt on the network alone.
        let scaleOnly = try Calibrator(falsePositiveRate: 0.05, fusedEvidence: [.scale]).fit(scored)
        XCTAssertEqual(scaleOnly.calibration.weighedEvidence, [])
        XCTAssertEqual(scaleOnly.calibration, FrameEvaluation.fitCalibration(scored))
    }

    func testSolveSquareSystems() throws {
        let x = try XCTUnwrap(FrameEvaluation.solve([[2, 1, 0], [1, 3, 1], [0, 1, 4]], [3, 5, 5]))
        for (v, e) in zip(x, [1.0, 1, 1]) { XCTAssertEqual(v, e, accuracy: 1e-12) }
        let y = try XCTUnwrap(FrameEvaluation.solve([[0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 3], [0, 0, 4, 0]], [2, 1, 3, 4]))
        for (v, e) in zip(y, [1.0, 1, 1, 1]) { XCTAssertEqual(v, e, accuracy: 1e-12) }
        XCTAssertNil(FrameEvaluation.solve([[1, 2, 3], [2, 4, 6], [0, 0, 1]], [1, 2, 3]), "singular")
    }
}
