// The size prior (`calibrate --size-prior`): its slope comes from the real frames alone and is taken
// off every frame's network score and every heatmap cell; the model file keeps it and refuses bad ones.
import Foundation
import NeuralNet
import XCTest

@testable import Detector

final class SizePriorTests: XCTestCase {
    /// Frames whose largest-area logit grows with ln(areas) as a maximum does: real L = 0.4 · ln N +
    /// ε, fakes L = 0.4 · ln N + 1 + 0.3 · (ln N − ln 10⁴) + ε (above the real frames of their size,
    /// with a slope of their own that must not leak into the fit), ε ~ N(0, 0.3), N in {10³, 10⁴, 10⁵},
    /// 100 frames a class per size.
    private func frames(seed: UInt64) -> [ScoredFrame] {
        var rng = RandomGenerator(seed: seed)
        var out: [ScoredFrame] = []
        for (k, count) in [1000, 10_000, 100_000].enumerated() {
            for i in 0..<200 {
                let fake = i >= 100, lnN = log(Double(count))
                var f = ScoredFrame(
                    source: "s\(k)-\(i)", isFake: fake, kind: fake ? "zoo:x" : "real", variant: "original", width: 640,
                    height: 480, score: 0, probability: 0, regionHit: nil, regionIoU: nil)
                f.areaLogit = 0.4 * lnN + (fake ? 1 + 0.3 * (lnN - log(1e4)) : 0) + Double(rng.normal(mean: 0, std: 0.3))
                f.areaCount = count
                out.append(f)
            }
        }
        return out
    }

    func testSlopeComesFromRealFramesAndIsTakenOffEveryScore() throws {
        let scored = frames(seed: 3)
        let fit = try Calibrator(falsePositiveRate: 0.05, sizePrior: true).fit(scored)
        // Least squares over 300 real frames: standard error 0.3 / √(Σ(x − x̄)²) ≈ 0.3 / 30.7 ≈ 0.01.
        XCTAssertEqual(fit.calibration.areaCountSlope, 0.4, accuracy: 0.05)
        for (before, after) in zip(scored, fit.frames) {
            XCTAssertEqual(after.areaLogit, before.areaLogit, "the recorded area logit stays the network's own")
            let adjusted = before.areaLogit! - fit.calibration.areaCountSlope * log(Double(before.areaCount!))
            XCTAssertEqual(after.score, adjusted, accuracy: 1e-12)
            XCTAssertEqual(after.probability, fit.calibration.probability(score: adjusted), accuracy: 1e-12)
        }
        let plain = try Calibrator(falsePositiveRate: 0.05).fit(scored)
        XCTAssertEqual(plain.calibration.areaCountSlope, 0)
        XCTAssertEqual(plain.calibration.sizePriorSummary, "")
        XCTAssertEqual(
            fit.calibration.sizePriorSummary, String(format: ", size prior %.3f per ln(areas)", fit.calibration.areaCountSlope))
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 1)
        Calibrator(falsePositiveRate: 0.05, sizePrior: true).apply(fit, to: model, realFiles: 3)
        XCTAssertTrue(model.training.notes.contains(fit.calibration.sizePriorSummary), model.training.notes)
        // Without the prior, the large real frames outscore the small fakes (a simulation of these
        // frames in Python: AUC 0.71 without, 0.92 with).
        let adjustedAUC = FrameEvaluation.metrics(fit.frames, threshold: 0.5).auc
        let plainAUC = FrameEvaluation.metrics(plain.frames, threshold: 0.5).auc
        XCTAssertGreaterThan(adjustedAUC, plainAUC + 0.1, "with the prior \(adjustedAUC), without \(plainAUC)")
    }

    /// A kept calibration (`calibrate --threshold-only`): Platt scaling and size prior stay as they
    /// were, whatever frames are given, so frames rank exactly as before; only the threshold moves to
    /// what these real frames allow.
    func testKeptCalibrationMovesOnlyTheThreshold() throws {
        let first = try Calibrator(falsePositiveRate: 0.05, sizePrior: true).fit(frames(seed: 7))
        let kept = first.calibration
        XCTAssertGreaterThan(kept.areaCountSlope, 0.3)
        // new frames whose real scores sit 0.5 higher: a refit would move a, b and the slope
        var shifted = frames(seed: 8)
        for i in shifted.indices where !shifted[i].isFake { shifted[i].areaLogit! += 0.5 }
        for target in [0.01, 0.05, 0.2] {
            let refit = try Calibrator(falsePositiveRate: target, keptCalibration: kept).fit(shifted)
            XCTAssertEqual(refit.calibration, kept)
            var real: [Double] = []
            for (before, after) in zip(shifted, refit.frames) {
                let adjusted = before.areaLogit! - kept.areaCountSlope * log(Double(before.areaCount!))
                XCTAssertEqual(after.score, adjusted, accuracy: 1e-12)
                XCTAssertEqual(after.probability, kept.probability(score: adjusted), accuracy: 1e-12)
                if !before.isFake { real.append(after.probability) }
            }
            // at most the target's share of the 300 real frames at or over it, and one more would be over
            let over = real.filter { $0 >= refit.threshold }.count
            XCTAssertLessThanOrEqual(Double(over), target * 300, "target \(target)")
            let nextBelow = real.filter { $0 < refit.threshold }.max() ?? 0
            XCTAssertTrue(refit.threshold == 0.5 || Double(over + 1) > target * 300 || nextBelow < 0.5, "target \(target)")
        }
        let fresh = try Calibrator(falsePositiveRate: 0.05, sizePrior: true).fit(shifted)
        XCTAssertNotEqual(fresh.calibration, kept, "the shifted frames do move a full fit")
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 1)
        let keeping = Calibrator(falsePositiveRate: 0.05, keptCalibration: kept)
        keeping.apply(try keeping.fit(shifted), to: model, realFiles: 300, split: .all)
        XCTAssertTrue(
            model.training.notes.contains("threshold (calibration kept) on 300 real files (every file"), model.training.notes)
        XCTAssertEqual(model.calibration, kept)
    }

    func testSlopeIsZeroWithoutSizesToFitAndNeverNegative() {
        var same = frames(seed: 4).filter { !$0.isFake }
        for i in same.indices { same[i].areaCount = 5000 }
        XCTAssertEqual(Calibrator.areaCountSlope(same), 0, "one size: no slope")
        XCTAssertEqual(Calibrator.areaCountSlope([]), 0)
        var falling = frames(seed: 5).filter { !$0.isFake }
        for i in falling.indices { falling[i].areaLogit = -falling[i].areaLogit! }
        XCTAssertEqual(Calibrator.areaCountSlope(falling), 0, "a score that falls with size is left alone")
        var steep = frames(seed: 6).filter { !$0.isFake }
        for i in steep.indices { steep[i].areaLogit = 50 * log(Double(steep[i].areaCount!)) }
        XCTAssertEqual(Calibrator.areaCountSlope(steep), Calibration.maximumAreaCountSlope)
    }

    func testFramesWithoutARecordedCountUseEveryAreaOfTheirSize() {
        var f = frames(seed: 7)[0]
        f.areaCount = nil
        f.width = 640; f.height = 480  // 80 × 60 cells: 73 × 53 positions of an 8 × 8 block
        XCTAssertEqual(f.scoredAreaCount, 73 * 53)
        f.width = 20; f.height = 30  // 3 × 4 cells: the block shrinks to the map
        XCTAssertEqual(f.scoredAreaCount, 1)
    }

    func testScorerTakesThePriorOffTheFrameAndItsCells() throws {
        let image = TestSupport.texture(width: 160, height: 128, seed: 5)
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 2)
        let plain = try FrameScorer(model: model, threads: 1).score(image)
        XCTAssertEqual(plain.areaCount, (16 - 7) * (20 - 7), "16 × 20 cells, every block scored")
        model.calibration = Calibration(a: 0.8, b: -1, areaCountSlope: 0.5)
        let prior = try FrameScorer(model: model, threads: 1).score(image)
        let shift = 0.5 * log(Double(plain.areaCount))
        XCTAssertEqual(prior.areaLogit, plain.areaLogit)
        XCTAssertEqual(prior.score, plain.areaLogit - shift, accuracy: 1e-9)
        XCTAssertEqual(prior.probability, 1 / (1 + exp(-(0.8 * (plain.areaLogit - shift) - 1))), accuracy: 1e-12)
        for (logit, p) in zip(plain.logits.values, prior.probabilities.values) where !logit.isNaN {
            XCTAssertEqual(Double(p), 1 / (1 + exp(-(0.8 * (Double(logit) - shift) - 1))), accuracy: 1e-6)
        }
    }

    func testModelFileKeepsThePriorAndRefusesBadOnes() throws {
        let folder = temporaryFolder("size-prior")
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 1)
        model.calibration = Calibration(a: 1.5, b: -2, areaCountSlope: 0.37)
        let good = folder + "/good.safetensors"
        try model.save(to: good)
        XCTAssertEqual(try DetectorModel.load(path: good).calibration.areaCountSlope, 0.37)
        XCTAssertFalse(
            String(decoding: try JSONEncoder().encode(Calibration(a: 2, b: 1)), as: UTF8.self).contains("areaCount"),
            "a calibration without the prior is written as before")
        let old = try JSONDecoder().decode(Calibration.self, from: Data(#"{"a":1,"b":0}"#.utf8))
        XCTAssertEqual(old.areaCountSlope, 0)
        for (name, text, expected) in [
            ("negative", #"{"a":1,"b":0,"areaCountSlope":-0.5}"#, "size prior -0.5 is outside"),
            ("too-large", #"{"a":1,"b":0,"areaCountSlope":6}"#, "size prior 6.0 is outside"),
            ("text", #"{"a":1,"b":0,"areaCountSlope":"x"}"#, "invalid 'calibration' metadata"),
        ] {
            try TestSupport.checkCalibrationRefused(
                model, calibration: text, path: folder + "/\(name).safetensors", expected: expected)
        }
    }
}
