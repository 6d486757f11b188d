// What a calibrated threshold can promise on new real frames: the one-sided Clopper–Pearson bound on
// the false-positive rate from the real frames it was set on, and the calibrator's report of it.
import Foundation
import XCTest

@testable import Detector

final class ThresholdGuaranteeTests: XCTestCase {
    func testBoundMatchesClopperPearson() {
        // Reference values: scipy.stats.beta.ppf(0.95, k + 1, n − k), the one-sided 95 % upper limit.
        // The bisection stops within 1e-13 and each binomial term is exact to a few ulps, so 1e-9 is
        // far outside any error the computation makes.
        let cases: [(k: Int, n: Int, bound: Double)] = [
            (0, 21, 0.132_945_911_027), (0, 63, 0.046_438_451_484), (1, 100, 0.046_559_811_454),
            (2, 40, 0.149_151_961_273), (0, 299, 0.009_969_146_793),
        ]
        for c in cases {
            XCTAssertEqual(
                FrameEvaluation.falsePositiveRateBound(exceeding: c.k, of: c.n), c.bound, accuracy: 1e-9, "\(c.k) of \(c.n)")
        }
        // The bound at its definition: seeing k or fewer has probability 1 − confidence.
        let n = 5000, k = 40
        let p = FrameEvaluation.falsePositiveRateBound(exceeding: k, of: n)
        var cdf = 0.0
        for i in 0...k {
            let logChoose: Double = lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1))
            let logTerm: Double = logChoose + Double(i) * log(p) + Double(n - i) * log1p(-p)
            cdf += exp(logTerm)
        }
        XCTAssertEqual(cdf, 0.05, accuracy: 1e-9)
        XCTAssertGreaterThan(p, Double(k) / Double(n), "the bound lies above the observed rate")
    }

    func testBoundIsOneWithoutEvidenceAndShrinksWithFrames() {
        XCTAssertEqual(FrameEvaluation.falsePositiveRateBound(exceeding: 0, of: 0), 1)
        XCTAssertEqual(FrameEvaluation.falsePositiveRateBound(exceeding: 7, of: 7), 1)
        var last = 1.0
        for n in [10, 30, 100, 300, 1000] {
            let b = FrameEvaluation.falsePositiveRateBound(exceeding: 0, of: n)
            XCTAssertLessThan(b, last)
            last = b
        }
        XCTAssertLessThan(
            FrameEvaluation.falsePositiveRateBound(exceeding: 1, of: 100),
            FrameEvaluation.falsePositiveRateBound(exceeding: 2, of: 100))
    }

    func testFramesNeededIsTheSmallestCountThatBoundsTheTarget() {
        // ln 0.05 / ln 0.99 = 298.07
        XCTAssertEqual(FrameEvaluation.realFramesNeeded(forFalsePositiveRate: 0.01), 299)
        for target in [0.005, 0.01, 0.02, 0.05, 0.1] {
            let n = FrameEvaluation.realFramesNeeded(forFalsePositiveRate: target)
            XCTAssertLessThanOrEqual(FrameEvaluation.falsePositiveRateBound(exceeding: 0, of: n), target)
            XCTAssertGreaterThan(FrameEvaluation.falsePositiveRateBound(exceeding: 0, of: n - 1), target)
        }
    }

    func testCalibratorReportsTheWeakestVariant() throws {
        func frame(_ score: Double, fake: Bool, variant: String) -> ScoredFrame {
            ScoredFrame(
                source: "s", isFake: fake, kind: fake ? "media" : "real", variant: variant, width: 8, height: 8, score: score,
                probability: 0, regionHit: nil, regionIoU: nil)
        }
        // 400 real frames of originals and 21 after H.264: the re-encoded variant's few frames bound the rate.
        var frames = (0..<400).map { frame(Double($0) / 200 - 2, fake: false, variant: "original") }
        frames += (0..<21).map { frame(Double($0) / 10 - 2, fake: false, variant: "h264-crf28") }
        frames += (0..<100).map { frame(Double($0) / 50, fake: true, variant: "original") }
        let calibrator = Calibrator(falsePositiveRate: 0.01)
        let fit = try calibrator.fit(frames)
        let byVariant = Dictionary(uniqueKeysWithValues: fit.guarantees.map { ($0.variant, $0) })
        XCTAssertEqual(byVariant["original"]?.realFrames, 400)
        XCTAssertEqual(byVariant["h264-crf28"]?.realFrames, 21)
        for g in fit.guarantees {
            let counted = fit.frames.filter { !$0.isFake && $0.variant == g.variant && $0.probability >= fit.threshold }.count
            XCTAssertEqual(g.exceeding, counted)
            XCTAssertLessThanOrEqual(g.exceeding, Int(0.01 * Double(g.realFrames)), "the threshold keeps its target")
        }
        let weakest = try XCTUnwrap(fit.weakestGuarantee)
        XCTAssertEqual(weakest.variant, "h264-crf28")
        XCTAssertEqual(weakest.falsePositiveRateBound, 0.132_945_911_027, accuracy: 1e-9)
        let line = weakest.summary(target: 0.01)
        XCTAssertTrue(line.contains("at most 13.3 %"), line)
        XCTAssertTrue(line.contains("0 of 21 real h264-crf28 frames"), line)
        XCTAssertTrue(line.contains("needs at least 299 real frames per variant"), line)
        XCTAssertFalse(weakest.summary(target: 0.2).contains("needs"), "a target the frames already bound asks for nothing")

        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 1)
        calibrator.apply(fit, to: model, realFiles: 12)
        XCTAssertTrue(model.training.notes.contains("FPR bound 0.133"), model.training.notes)
    }
}
