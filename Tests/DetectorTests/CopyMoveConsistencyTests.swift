// CopyMoveConsistency: the FFT and the self-correlation against direct sums, the reduction of large
// frames, small and flat frames, a copied square found at its shift (and its region on one side of the
// pair) where the same frame without it scores low, the compression-grid shifts left out, and the
// weight in the frame score, stored in the calibration beside the other evidences.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class CopyMoveConsistencyTests: XCTestCase {
    /// The FFT against the direct sum X[k] = Σ x[n]·e^(−2πi·kn/N). Float rounding in a radix-2 FFT
    /// grows like log₂N·2⁻²⁴ times the input's norm (√N·1 here, about 8 for N = 64): 6 stages × 6e-8 ×
    /// 8 ≈ 3e-6 per output; 1e-4 leaves room for the twiddles' own rounding and any summation order.
    func testFFTMatchesTheDirectTransform() throws {
        var rng = RandomGenerator(seed: 3)
        let n = 64
        let fft = try XCTUnwrap(RadixTwoFFT(count: n))
        var re = (0..<n).map { _ in rng.uniform(-1, 1) }, im = (0..<n).map { _ in rng.uniform(-1, 1) }
        let (x, y) = (re, im)
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in fft.transform(r.baseAddress!, i.baseAddress!) }
        }
        for k in 0..<n {
            var sr = 0.0, si = 0.0
            for t in 0..<n {
                let a = -2 * Double.pi * Double(k * t) / Double(n)
                sr += Double(x[t]) * cos(a) - Double(y[t]) * sin(a)
                si += Double(x[t]) * sin(a) + Double(y[t]) * cos(a)
            }
            XCTAssertEqual(Double(re[k]), sr, accuracy: 1e-4, "re[\(k)]")
            XCTAssertEqual(Double(im[k]), si, accuracy: 1e-4, "im[\(k)]")
        }
        XCTAssertNil(RadixTwoFFT(count: 48), "not a power of two")
        XCTAssertNil(RadixTwoFFT(count: 1))
    }

    /// r(dy, dx) = Σ z(y, x)·z((y + dy) mod P, (x + dx) mod Q) on a 5 × 7 plane padded to 8 × 8, every
    /// shift against the direct sum (35 terms of at most 1 in size: Float error well under 1e-4).
    func testSelfCorrelationMatchesDirectSums() throws {
        var rng = RandomGenerator(seed: 4)
        let h = 5, w = 7
        let z = (0..<(h * w)).map { _ in rng.uniform(-1, 1) }
        let r = try XCTUnwrap(SelfCorrelation.circular(z, height: h, width: w))
        XCTAssertEqual(r.rows, 8)
        XCTAssertEqual(r.columns, 8)
        func padded(_ y: Int, _ x: Int) -> Double { y < h && x < w ? Double(z[y * w + x]) : 0 }
        for dy in 0..<8 {
            for dx in 0..<8 {
                var s = 0.0
                for y in 0..<8 { for x in 0..<8 { s += padded(y, x) * padded((y + dy) % 8, (x + dx) % 8) } }
                XCTAssertEqual(Double(r.values[dy * 8 + dx]), s, accuracy: 1e-4, "shift (\(dy), \(dx))")
            }
        }
        XCTAssertNil(SelfCorrelation.circular([1], height: 1, width: 1))
        XCTAssertNil(SelfCorrelation.circular([1, 2, 3], height: 2, width: 2), "count does not match")
    }

    func testLargeFramesAreReducedUntilTheTransformFits() {
        XCTAssertEqual(SelfCorrelation.paddedLength(1080), 2048)
        XCTAssertEqual(SelfCorrelation.paddedLength(1024), 1024)
        XCTAssertEqual(CopyMoveConsistency.reduction(height: 1080, width: 1920), 1)  // 2048 × 2048
        XCTAssertEqual(CopyMoveConsistency.reduction(height: 1600, width: 2560), 1)  // 2048 × 4096
        XCTAssertEqual(CopyMoveConsistency.reduction(height: 3000, width: 4000), 2)  // 4096 × 4096 at full size
        XCTAssertEqual(CopyMoveConsistency.reduction(height: 3391, width: 6028), 2)
        XCTAssertEqual(CopyMoveConsistency.reduction(height: 12000, width: 16000), 8)
    }

    /// The evidence is Fisher's transform of a correlation, finite for an exact copy.
    func testEvidenceIsTheFisherTransform() {
        XCTAssertEqual(CopyMoveConsistency.fisher(0), 0)
        XCTAssertEqual(CopyMoveConsistency.fisher(0.9), 0.5 * log(1.9 / 0.1), accuracy: 1e-5)
        XCTAssertEqual(CopyMoveConsistency.fisher(1), CopyMoveConsistency.fisher(1.5))
        XCTAssertEqual(CopyMoveConsistency.fisher(1), 4.95, accuracy: 0.01)
    }

    func testSmallAndFlatFrames() throws {
        XCTAssertNil(CopyMoveConsistency.frameScore(TestSupport.texture(width: 63, height: 200, seed: 1)))
        XCTAssertNil(CopyMoveConsistency.frameScore(RGBImage(width: 0, height: 0)))
        let flat = RGBImage(width: 128, height: 96, pixels: [Float](repeating: 0.4, count: 3 * 128 * 96))
        let analysis = try XCTUnwrap(CopyMoveConsistency.analyse(flat))
        XCTAssertEqual(analysis.score, 0, "nothing has texture, nothing matches")
        XCTAssertEqual(analysis.region.width, 0)
    }

    /// A 256 × 192 frame of noisy texture (JPEG-compressed at `quality` first, if given), with the
    /// 48-pixel square at `from` copied by (dy, dx).
    static func frame(
        copiedBy shift: (dy: Int, dx: Int)?, from: (x: Int, y: Int) = (20, 30), quality: Int? = nil
    ) throws -> (image: RGBImage, source: PixelRegion, copy: PixelRegion) {
        var image = TestSupport.texture(width: 256, height: 192, seed: 9)
        var rng = RandomGenerator(seed: 10)
        let n = 256 * 192
        // Camera-like noise of about 8 levels (5 in luma), so texture does not repeat anywhere by itself.
        for i in image.pixels.indices { image.pixels[i] = min(1, max(0, image.pixels[i] + 0.03 * rng.normal())) }
        if let quality { image = try ZooEncoding.jpegRoundTrip(image, quality: quality) }
        let source = PixelRegion(x: from.x, y: from.y, width: 48, height: 48)
        guard let shift else { return (image, source, source) }
        let copy = PixelRegion(x: source.x + shift.dx, y: source.y + shift.dy, width: 48, height: 48)
        let original = image.pixels
        for k in 0..<3 {
            for r in 0..<48 {
                for c in 0..<48 {
                    image.pixels[k * n + (copy.y + r) * 256 + copy.x + c] = original[k * n + (source.y + r) * 256 + source.x + c]
                }
            }
        }
        return (image, source, copy)
    }

    /// The copy is found at its shift with a correlation near 1 (the copied boxes match exactly, the
    /// shifts 4 pixels away hardly); its region covers the source or the copy; the frame without the
    /// copy scores under a correlation of 0.5.
    func testCopiedSquareIsFoundAtItsShift() throws {
        let (image, source, copy) = try Self.frame(copiedBy: (dy: 101, dx: 157))
        let found = try XCTUnwrap(CopyMoveConsistency.analyse(image))
        XCTAssertGreaterThan(found.score, CopyMoveConsistency.fisher(0.8))
        let region = found.region
        func inside(_ b: PixelRegion) -> Bool {
            let cx = region.x + region.width / 2, cy = region.y + region.height / 2
            return cx >= b.x && cx < b.x + b.width && cy >= b.y && cy < b.y + b.height
        }
        XCTAssertTrue(inside(source) || inside(copy), "region \(region) is on neither \(source) nor \(copy)")
        XCTAssertLessThan(region.width, 128, "the region is the matched area, not the frame")

        let plain = try XCTUnwrap(CopyMoveConsistency.frameScore(try Self.frame(copiedBy: nil).image))
        XCTAssertLessThan(plain, CopyMoveConsistency.fisher(0.5))
    }

    /// In a frame compressed before the copy, the copy carries its source's grid moved by the shift:
    /// the region is the copy, whichever side of the match comes first.
    func testRegionIsTheHalfThatLeftTheCompressionGrid() throws {
        for (shift, from) in [((dy: 101, dx: 157), (x: 20, y: 30)), ((dy: -101, dx: -157), (x: 177, y: 131))] {
            let (image, _, copy) = try Self.frame(copiedBy: shift, from: from, quality: 90)
            let found = try XCTUnwrap(CopyMoveConsistency.analyse(image))
            XCTAssertGreaterThan(found.score, CopyMoveConsistency.fisher(0.5))
            let cx = found.region.x + found.region.width / 2, cy = found.region.y + found.region.height / 2
            XCTAssertTrue(
                cx >= copy.x && cx < copy.x + copy.width && cy >= copy.y && cy < copy.y + copy.height,
                "region \(found.region) is not on the copy \(copy)")
            let aligned = CopyMoveConsistency.gridAlignment(
                ContextDeviation.luma(image), height: 192, width: 256, box: PixelRegion(x: 80, y: 96, width: 64, height: 64))
            XCTAssertGreaterThan(aligned, 1.1, "the frame's own compression keeps the grid")
        }
    }

    /// Stripes match along a whole line of shifts (every dy at a multiple of their period in dx) and
    /// outweigh a small copy in the self-correlation; ranked by how far a shift stands above the shifts
    /// `peakStep` away, the copy is among the candidates.
    func testCandidatesAreRankedByHowSharplyTheyPeak() throws {
        var (image, _, _) = try Self.frame(copiedBy: nil)
        let n = 256 * 192
        for k in 0..<3 {
            for r in 0..<192 {
                for c in 0..<256 { image.pixels[k * n + r * 256 + c] += 0.02 * sin(2 * Float.pi * Float(c) / 13) }
            }
        }
        // The copy after the stripes, so that it repeats them too.
        let source = (x: 20, y: 30), shift = (dy: 101, dx: 157)
        let original = image.pixels
        for k in 0..<3 {
            for r in 0..<48 {
                for c in 0..<48 {
                    image.pixels[k * n + (source.y + shift.dy + r) * 256 + source.x + shift.dx + c] =
                        original[k * n + (source.y + r) * 256 + source.x + c]
                }
            }
        }
        let plane = CopyMoveConsistency.Plane(luma: ContextDeviation.luma(image), height: 192, width: 256, reduction: 1)
        let bp = plane.bandPass()
        let z = CopyMoveConsistency.whitened(bp, squares: bp.map { $0 * $0 }, height: 192, width: 256)
        func isCandidate(peakStep: Int) -> Bool {
            CopyMoveConsistency.candidateShifts(
                z, height: 192, width: 256, minimumShift: 32, grid: 8, minimumOverlap: 4096,
                count: CopyMoveConsistency.candidates, peakStep: peakStep
            ).contains { $0.dy == shift.dy && $0.dx == shift.dx }
        }
        XCTAssertFalse(isCandidate(peakStep: 0), "by value alone the stripes' shifts fill the candidates")
        XCTAssertTrue(isCandidate(peakStep: 4))
        XCTAssertGreaterThan(try XCTUnwrap(CopyMoveConsistency.frameScore(image)), CopyMoveConsistency.fisher(0.8))
    }

    /// A copy by a multiple of 8 on both axes lies on the shifts left out (every block-coded frame
    /// correlates with itself on its 8-pixel grid): it is not evidence.
    func testShiftsOnTheCompressionGridAreLeftOut() throws {
        let onGrid = try XCTUnwrap(CopyMoveConsistency.frameScore(try Self.frame(copiedBy: (dy: 96, dx: 160)).image))
        XCTAssertLessThan(onGrid, CopyMoveConsistency.fisher(0.5))
        let shifts = CopyMoveConsistency.candidateShifts(
            try Self.frame(copiedBy: (dy: 96, dx: 160)).image.pixels.prefix(256 * 192).map { $0 }, height: 192, width: 256,
            minimumShift: 32, grid: 8, minimumOverlap: 4096, count: 50)
        XCTAssertFalse(shifts.isEmpty)
        for s in shifts {
            XCTAssertFalse(s.dy % 8 == 0 && s.dx % 8 == 0, "\(s) is on the grid")
            XCTAssertTrue(s.dy > 0 || (s.dy == 0 && s.dx > 0), "\(s): one of each ± pair")
            XCTAssertTrue(max(abs(s.dy), abs(s.dx)) >= 32, "\(s) is under the shortest shift")
            XCTAssertGreaterThanOrEqual((192 - abs(s.dy)) * (256 - abs(s.dx)), 4096, "\(s) overlaps too little")
        }
    }

    // MARK: Weight in the frame score

    func testCalibrationKeepsTheCopyMoveWeight() throws {
        let old = try JSONDecoder().decode(Calibration.self, from: Data(#"{"a":1.5,"b":-2,"channelWeight":2}"#.utf8))
        XCTAssertEqual(old.copyMoveWeight, 0)
        let both = Calibration(a: 2, b: -1, channelWeight: 4, copyMoveWeight: 3)
        XCTAssertEqual(both.weighedEvidence, [.channel, .copyMove])
        XCTAssertEqual(try JSONDecoder().decode(Calibration.self, from: try JSONEncoder().encode(both)), both)
        XCTAssertEqual(
            both.score(areaLogit: 0.5, scaleEvidence: nil, channelEvidence: 0.1, copyMoveEvidence: 0.9),
            0.5 + 4 * 0.1 + 3 * 0.9, accuracy: 1e-15)
        XCTAssertTrue(both.evidenceSummary.contains("copy-move-consistency weight 3.000"), both.evidenceSummary)
        let standardized = Calibration(
            standardization: Standardization(
                network: .init(mean: -1, spread: 0.5), copyMove: .init(mean: 0.5, spread: 0.1)))
        XCTAssertEqual(standardized.weighedEvidence, [.copyMove])
        XCTAssertEqual(
            try JSONDecoder().decode(Calibration.self, from: try JSONEncoder().encode(standardized)), standardized)
        // The largest of the network's (0 − (−1)) / 0.5 = 2 and the copy-move's (0.9 − 0.5) / 0.1 = 4.
        XCTAssertEqual(standardized.score(areaLogit: 0) { $0 == .copyMove ? 0.9 : nil }, 4, accuracy: 1e-12)
    }

    func testModelFileKeepsTheCopyMoveWeightAndRefusesBadOnes() throws {
        try TestSupport.checkModelFileWeights(.copyMove, in: temporaryFolder("copy-move-weight"))
    }

    /// An evaluation records the copy-move evidence only when asked for (it costs seconds per frame) or
    /// when the calibration weighs it; the other evidences always.
    func testEvaluationRecordsTheCopyMoveEvidenceOnRequest() throws {
        let image = try Self.frame(copiedBy: (dy: 101, dx: 157)).image
        let evidence = try XCTUnwrap(CopyMoveConsistency.frameScore(image))
        let frame = EvaluationFrame(source: "copy", isFake: true, kind: "media", variant: "original", image: image)
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 2)
        let plain = try FrameEvaluation.score([frame], scorer: FrameScorer(model: model, threads: 1))[0]
        XCTAssertNil(plain.copyMoveConsistency)
        XCTAssertNotNil(plain.scaleConsistency)
        let asked = try FrameEvaluation.score(
            [frame], scorer: FrameScorer(model: model, threads: 1),
            recording: FrameEvaluation.evidenceRecordedAlways.union([.copyMove]))[0]
        XCTAssertEqual(asked.copyMoveConsistency, evidence)
        model.calibration = Calibration(a: 1, b: 0, copyMoveWeight: 1)
        let weighed = try FrameEvaluation.score([frame], scorer: FrameScorer(model: model, threads: 1))[0]
        XCTAssertEqual(weighed.copyMoveConsistency, evidence)
    }

    func testScorerAddsTheWeightedCopyMoveEvidence() throws {
        let image = try Self.frame(copiedBy: (dy: 101, dx: 157)).image
        let evidence = try XCTUnwrap(CopyMoveConsistency.frameScore(image))
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 2)
        let plain = try FrameScorer(model: model, threads: 1).score(image)
        XCTAssertNil(plain.copyMoveEvidence, "not computed when the calibration does not weigh it")
        model.calibration = Calibration(a: 1, b: 0, copyMoveWeight: 2)
        let fused = try FrameScorer(model: model, threads: 1).score(image)
        XCTAssertEqual(try XCTUnwrap(fused.copyMoveEvidence), evidence)
        XCTAssertEqual(fused.score, plain.areaLogit + 2 * evidence, accuracy: 1e-12)
    }
}
