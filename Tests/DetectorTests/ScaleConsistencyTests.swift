// ScaleConsistency: grid sizes, the box means against a direct sum, flat and small frames, and a
// smoothed region standing out from the noisy texture around it. Its weight in the frame score:
// stored in the model's calibration (old files read as network-only, bad weights refused), added by
// the scorer, fitted by the calibrator only when the evidence helps.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class ScaleConsistencyTests: XCTestCase {
    /// `image` with the box [x, x + side) × [y, y + side) replaced by its 3×3 box blur (every channel).
    private func smoothed(_ image: RGBImage, x: Int, y: Int, side: Int) -> RGBImage {
        var out = image
        let W = image.width, n = image.width * image.height
        for c in 0..<3 {
            for r in y..<(y + side) {
                for q in x..<(x + side) {
                    var sum: Float = 0
                    for dr in -1...1 { for dq in -1...1 { sum += image.pixels[c * n + (r + dr) * W + q + dq] } }
                    out.pixels[c * n + r * W + q] = sum / 9
                }
            }
        }
        return out
    }

    func testGridCoversWholeBlocksOnly() {
        let g = ScaleConsistency.blockRatios(TestSupport.texture(width: 100, height: 70, seed: 1))
        XCTAssertEqual(g.rows, 4)  // 70 / 16
        XCTAssertEqual(g.columns, 6)  // 100 / 16
        XCTAssertEqual(g.values.count, 24)
        XCTAssertTrue(g.values.allSatisfy(\.isFinite))
        XCTAssertEqual(ScaleConsistency.blockRatios(RGBImage(width: 15, height: 200)).values.count, 0)
    }

    func testFramesWithoutAWholeAreaHaveNoScore() {
        XCTAssertNil(ScaleConsistency.frameScore(TestSupport.texture(width: 63, height: 200, seed: 2)))
        XCTAssertNil(ScaleConsistency.frameScore(RGBImage(width: 0, height: 0)))
        XCTAssertNotNil(ScaleConsistency.frameScore(TestSupport.texture(width: 64, height: 64, seed: 2)))
    }

    /// A flat frame has no detail at either scale: ρ = ln ε − ln ε = 0 everywhere, so no evidence.
    func testFlatFrameHasNoEvidence() throws {
        let flat = RGBImage(width: 128, height: 96, pixels: [Float](repeating: 0.4, count: 3 * 128 * 96))
        XCTAssertTrue(ScaleConsistency.blockRatios(flat).values.allSatisfy { $0 == 0 })
        XCTAssertEqual(try XCTUnwrap(ScaleConsistency.frameScore(flat)), 0)
    }

    func testCentredBoxMeansMatchDirectSums() {
        var rng = RandomGenerator(seed: 3)
        let g = ScoreGrid(rows: 7, columns: 9, values: (0..<63).map { _ in rng.uniform(-1, 1) })
        for side in [1, 2, 4, 24] {
            let fast = ContextDeviation.centredBoxMeans(g, side: side)
            for r in 0..<7 {
                for c in 0..<9 {
                    var sum = 0.0, count = 0
                    for rr in max(0, r - side / 2)..<min(7, r - side / 2 + side) {
                        for cc in max(0, c - side / 2)..<min(9, c - side / 2 + side) { sum += Double(g[rr, cc]); count += 1 }
                    }
                    // Summed-area differences of at most 63 values of magnitude ≤ 1 in Double, then one
                    // rounding to Float: far inside 1e-5.
                    XCTAssertEqual(fast[r * 9 + c], Float(sum / Double(count)), accuracy: 1e-5, "side \(side) at \(r),\(c)")
                }
            }
        }
    }

    /// The texture's pixel noise (σ = 0.01) fills the finest scale; a 3×3 box blur removes most of it
    /// inside a 128-pixel square, so that square's ρ falls well below its surroundings'. Per block, ρ
    /// is a log ratio of two means of 256 (64 coarse) absolute values, whose sampling error is a few
    /// hundredths; a 64-pixel area averages 16 blocks. The blur lowers ρ by far more than that (about
    /// 0.7 on this texture), so the smoothed frame's score must clearly exceed the untouched one's,
    /// and its most deviant area must lie on the square.
    func testSmoothedRegionStandsOut() throws {
        let real = TestSupport.texture(width: 512, height: 384, seed: 4)
        let fake = smoothed(real, x: 192, y: 128, side: 128)
        let realScore = try XCTUnwrap(ScaleConsistency.frameScore(real))
        let fakeScore = try XCTUnwrap(ScaleConsistency.frameScore(fake))
        XCTAssertLessThan(realScore, 0.2)
        XCTAssertGreaterThan(fakeScore, 0.4)
        XCTAssertGreaterThan(fakeScore, 2 * realScore)

        let d = ScaleConsistency.deviations(ScaleConsistency.blockRatios(fake))
        let peak = try XCTUnwrap(d.values.indices.max { abs(d.values[$0]) < abs(d.values[$1]) })
        // The area centred on block (r, c) covers blocks r − 2 …< r + 2: its centre in pixels is 16·r.
        let (r, c) = (peak / d.columns, peak % d.columns)
        XCTAssertTrue((128...256).contains(16 * r) && (192...320).contains(16 * c), "peak at block \(r),\(c)")
        XCTAssertLessThan(d.values[peak], 0, "the smoothed square has less fine detail than its surroundings")

        let analysis = try XCTUnwrap(ScaleConsistency.analyse(fake))
        XCTAssertEqual(analysis.score, fakeScore)
        let square = PixelRegion(x: 192, y: 128, width: 128, height: 128)
        XCTAssertGreaterThanOrEqual(
            FrameEvaluation.intersectionOverUnion(analysis.region, square), 0.3, "region \(analysis.region)")
    }

    /// A frame the scale evidence calls fake while no cell of the network reaches the threshold gets
    /// the scale evidence's region as its box.
    func testFrameDecidedByScaleEvidenceGetsItsRegion() throws {
        let real = TestSupport.texture(width: 512, height: 384, seed: 4)
        let fake = smoothed(real, x: 192, y: 128, side: 128)
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 3)
        // A flat Platt slope keeps every cell's probability near 0.5, while the weighted evidence
        // (100 · S, S ≈ 1 here) lifts the frame's; the threshold goes between the two.
        model.calibration = Calibration(a: 0.01, b: 0, scaleWeight: 100)
        let first = try FrameScorer(model: model, threads: 1).score(fake)
        let highestCell = Double(try XCTUnwrap(first.probabilities.values.filter { !$0.isNaN }.max()))
        XCTAssertLessThan(highestCell, first.probability, "the scale evidence, not a cell, decides")
        model.threshold = (highestCell + first.probability) / 2
        let result = try FrameScorer(model: model, threads: 1).score(fake)
        XCTAssertTrue(result.isFake)
        XCTAssertEqual(result.region, try XCTUnwrap(ScaleConsistency.analyse(fake)).region)
        XCTAssertGreaterThan(result.region.width, 0)

        // The untouched frame (S ≈ 0.1): neither its cells nor the frame reach the threshold, so no box.
        let plain = try FrameScorer(model: model, threads: 1).score(real)
        XCTAssertFalse(plain.isFake)
        XCTAssertEqual(plain.region.width, 0)
    }

    /// With a standardization the frame's score is its largest term. When that is the scale evidence,
    /// the frame's box is the evidence's region even where cells reach the threshold; when the
    /// network's term is the larger, the cells' box stays.
    func testFrameWhoseLargestTermIsAnEvidenceGetsItsRegion() throws {
        let real = TestSupport.texture(width: 512, height: 384, seed: 4)
        let fake = smoothed(real, x: 192, y: 128, side: 128)
        let evidence = try XCTUnwrap(ScaleConsistency.analyse(fake))
        XCTAssertGreaterThan(evidence.region.width, 0)
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 3)
        // The network's moments put every cell's standardized logit near 1 (σ(1) = 0.73, over the 0.6
        // threshold); the evidence's put S ≈ 1 at about 10.
        let network = Standardization.Moments(mean: -1000, spread: 1000)
        model.calibration = Calibration(
            a: 1, b: 0, standardization: Standardization(network: network, scale: .init(mean: 0, spread: 0.1)))
        model.threshold = 0.6
        let decided = try FrameScorer(model: model, threads: 1).score(fake)
        XCTAssertTrue(decided.isFake)
        let highestCell = Double(try XCTUnwrap(decided.probabilities.values.filter { !$0.isNaN }.max()))
        XCTAssertGreaterThan(highestCell, model.threshold, "cells reach the threshold too")
        XCTAssertEqual(decided.region, evidence.region)

        // The evidence's spread made huge: its term (about 1e-6) is under the network's, the cells decide.
        model.calibration = Calibration(
            a: 1, b: 0, standardization: Standardization(network: network, scale: .init(mean: 0, spread: 1e6)))
        let byCells = try FrameScorer(model: model, threads: 1).score(fake)
        XCTAssertTrue(byCells.isFake)
        XCTAssertNotEqual(byCells.region, evidence.region)
        XCTAssertGreaterThan(byCells.region.width, 0, "the cells' box")
    }

    // MARK: Weight in the frame score

    func testCalibrationWithoutScaleWeightReadsAsNetworkOnly() throws {
        let old = try JSONDecoder().decode(Calibration.self, from: Data(#"{"a":1.5,"b":-2}"#.utf8))
        XCTAssertEqual(old, Calibration(a: 1.5, b: -2, scaleWeight: 0))
        XCTAssertEqual(old.score(areaLogit: 0.7, scaleEvidence: 0.9), 0.7)
        XCTAssertEqual(try jsonString(Calibration(a: 1, b: 0)), #"{"a":1,"b":0}"#, "network-only files read as before")
        let fused = Calibration(a: 2, b: -1, scaleWeight: 1.5)
        XCTAssertEqual(try JSONDecoder().decode(Calibration.self, from: Data(try jsonString(fused).utf8)), fused)
        XCTAssertEqual(fused.score(areaLogit: 0.5, scaleEvidence: 0.2), 0.5 + 1.5 * 0.2, accuracy: 1e-15)
        XCTAssertEqual(fused.score(areaLogit: 0.5, scaleEvidence: nil), 0.5, "no evidence counts as 0")
    }

    func testModelFileKeepsTheScaleWeightAndRefusesBadOnes() throws {
        try TestSupport.checkModelFileWeights(.scale, in: temporaryFolder("scale-weight"))
    }

    func testScorerAddsTheWeightedEvidence() throws {
        let image = TestSupport.texture(width: 160, height: 128, seed: 5)
        let evidence = try XCTUnwrap(ScaleConsistency.frameScore(image))
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 2)
        let plain = try FrameScorer(model: model, threads: 1).score(image)
        XCTAssertNil(plain.scaleEvidence, "not computed when the calibration does not weigh it")
        XCTAssertEqual(plain.score, plain.areaLogit)

        model.calibration = Calibration(a: 1, b: 0, scaleWeight: 2)
        let fused = try FrameScorer(model: model, threads: 1).score(image)
        XCTAssertEqual(try XCTUnwrap(fused.scaleEvidence), evidence)
        XCTAssertEqual(fused.areaLogit, plain.areaLogit)
        XCTAssertEqual(fused.score, plain.areaLogit + 2 * evidence, accuracy: 1e-12)
        XCTAssertEqual(fused.probability, 1 / (1 + exp(-fused.score)), accuracy: 1e-12)
    }

    /// Frames whose network score barely separates the classes and whose scale evidence does:
    /// real L ~ N(0, 1), S ~ N(0.2, 0.05); fake L ~ N(0.3, 1) and S as given.
    private func frames(fakeScaleMean: Double, seed: UInt64) -> [ScoredFrame] {
        var rng = RandomGenerator(seed: seed)
        return (0..<400).map { i in
            let fake = i >= 200
            let l = Double(rng.normal(mean: fake ? 0.3 : 0, std: 1))
            let s = Double(rng.normal(mean: fake ? Float(fakeScaleMean) : 0.2, std: 0.05))
            var f = ScoredFrame(
                source: "s\(i)", isFake: fake, kind: fake ? "zoo:x" : "real", variant: "original", width: 64,
                height: 64, score: l + 5 * s, probability: 0, regionHit: nil, regionIoU: nil)
            f.scaleConsistency = s
            f.areaLogit = l
            return f
        }
    }

    func testCalibratorWeighsEvidenceOnlyWhenAskedAndOnlyWhenItHelps() throws {
        let helpful = frames(fakeScaleMean: 0.3, seed: 6)
        let networkOnly = helpful.map {
            var f = $0
            f.score = f.areaLogit!
            return f
        }
        let networkAUC = FrameEvaluation.metrics(networkOnly, threshold: 0.5).auc

        let fused = try Calibrator(falsePositiveRate: 0.05, fusedEvidence: [.scale]).fit(helpful)
        XCTAssertGreaterThan(fused.calibration.scaleWeight, 0)
        XCTAssertGreaterThan(fused.calibration.a, 0)
        for f in fused.frames {
            XCTAssertEqual(f.score, f.areaLogit! + fused.calibration.scaleWeight * f.scaleConsistency!, accuracy: 1e-12)
        }
        // The classes' scale evidence is two standard deviations apart, their network scores 0.3: the
        // fused AUC is near 0.92 and the network's near 0.58; 0.15 leaves room for sampling.
        XCTAssertGreaterThan(FrameEvaluation.metrics(fused.frames, threshold: 0.5).auc, networkAUC + 0.15)

        // Without the flag: the network alone, even though the frames' scores carried a weight before.
        let plain = try Calibrator(falsePositiveRate: 0.05).fit(helpful)
        XCTAssertEqual(plain.calibration.scaleWeight, 0)
        XCTAssertEqual(plain.frames.map(\.score), helpful.map { $0.areaLogit! })

        // Evidence that points the other way (fakes' lower) is not this measure's evidence: no weight.
        let contrary = try Calibrator(falsePositiveRate: 0.05, fusedEvidence: [.scale]).fit(
            frames(fakeScaleMean: 0.1, seed: 7))
        XCTAssertEqual(contrary.calibration.scaleWeight, 0)
        XCTAssertGreaterThan(contrary.calibration.a, 0)
    }
}
