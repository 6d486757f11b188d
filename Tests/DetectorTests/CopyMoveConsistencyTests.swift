// CopyMoveConsistency and its block matching: the blocks' features, the votes (one of each ± pair, at
// least the shortest shift, every pair matching), the copy's shift ranked first and found where its
// votes gather, the reduction of large frames, small and flat frames, a copied square found at its
// shift (and its region on one side of the pair) where the same frame without it scores low, the
// compression-grid shifts left out, and the weight in the frame score, stored in the calibration
// beside the other evidences.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class CopyMoveConsistencyTests: XCTestCase {
    /// A block's feature is its 16 cell means less their plane, at unit length: orthogonal to a constant
    /// and to both coordinates. A luma ramp is all plane, so it has no block to match.
    func testBlockFeaturesLeaveOutThePlaneAndSmoothAreas() throws {
        let luma = ContextDeviation.luma(try Self.frame(copiedBy: nil).image).map { $0 * 255 }
        let blocks = BlockMatching.features(luma, height: 192, width: 256)
        let n = blocks.rows.count
        XCTAssertGreaterThan(n, 1000, "noisy texture has detail in most blocks")
        XCTAssertEqual(blocks.values.count, 16 * n)
        let centred: [Float] = [-1.5, -0.5, 0.5, 1.5]
        for i in stride(from: 0, to: n, by: 97) {
            let f = blocks.values[(16 * i)..<(16 * i + 16)].map { $0 }
            // Sums of 16 unit-scale Floats: rounding under 1e-5; a plane left in would be of order 1.
            XCTAssertEqual(f.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-4)
            XCTAssertEqual(f.reduce(0, +), 0, accuracy: 1e-4)
            XCTAssertEqual((0..<16).reduce(0) { $0 + f[$1] * centred[$1 / 4] }, 0, accuracy: 1e-4)
            XCTAssertEqual((0..<16).reduce(0) { $0 + f[$1] * centred[$1 % 4] }, 0, accuracy: 1e-4)
            XCTAssertEqual(Int(blocks.rows[i]) % BlockMatching.lattice, 0)
            XCTAssertEqual(Int(blocks.columns[i]) % BlockMatching.lattice, 0)
        }
        let ramp = (0..<(192 * 256)).map { (i: Int) -> Float in 0.7 * Float(i % 256) + 0.3 * Float(i / 256) }
        XCTAssertEqual(BlockMatching.features(ramp, height: 192, width: 256).rows.count, 0)
        XCTAssertEqual(BlockMatching.features([1, 2], height: 1, width: 2).rows.count, 0)
    }

    /// Every vote is one of its ± pair, at least the shortest shift, and joins two blocks whose features'
    /// cosine is at least `leastSimilarity`, at the vote's shift.
    func testVotesJoinMatchingBlocksAtTheirShift() throws {
        let luma = ContextDeviation.luma(try Self.frame(copiedBy: (dy: 101, dx: 157)).image).map { $0 * 255 }
        let blocks = BlockMatching.features(luma, height: 192, width: 256)
        var index: [Int: Int] = [:]
        for i in blocks.rows.indices { index[Int(blocks.rows[i]) * 256 + Int(blocks.columns[i])] = i }
        let votes = BlockMatching.votes(blocks, minimumShift: 32)
        XCTAssertGreaterThan(votes.count, 100)
        for v in votes {
            XCTAssertTrue(v.dy > 0 || (v.dy == 0 && v.dx > 0), "\(v): one of each ± pair")
            XCTAssertGreaterThanOrEqual(max(abs(v.dy), abs(v.dx)), 32)
            let a = try XCTUnwrap(index[Int(v.y) * 256 + Int(v.x)])
            let b = try XCTUnwrap(index[Int(v.y + v.dy) * 256 + Int(v.x + v.dx)])
            let cosine = (0..<16).reduce(Float(0)) { $0 + blocks.values[16 * a + $1] * blocks.values[16 * b + $1] }
            XCTAssertGreaterThanOrEqual(cosine, BlockMatching.leastSimilarity)
        }
    }

    /// The copy's shift is among the candidates (its odd dx within a pixel, on the blocks' 2-pixel
    /// lattice; the test texture, a sum of six waves, repeats by itself at other shifts), gathered on its
    /// source: the first side of a shift with dy > 0. The hash's seed is fixed, so the candidates are the
    /// same on every call.
    func testCopysShiftIsACandidateWhereItsVotesGather() throws {
        let (image, source, _) = try Self.frame(copiedBy: (dy: 101, dx: 157))
        let luma = ContextDeviation.luma(image).map { $0 * 255 }
        let found = BlockMatching.candidates(luma, height: 192, width: 256, minimumShift: 32, count: 20, step: 4)
        let copy = try XCTUnwrap(found.first { abs($0.dy - 101) <= 1 && abs($0.dx - 157) <= 1 })
        XCTAssertLessThanOrEqual(abs(copy.y - (source.y + 24)), BlockMatching.gathering)
        XCTAssertLessThanOrEqual(abs(copy.x - (source.x + 24)), BlockMatching.gathering)
        XCTAssertEqual(found, BlockMatching.candidates(luma, height: 192, width: 256, minimumShift: 32, count: 20, step: 4))
    }

    func testLargeFramesAreReducedToAtMostEightMegapixels() {
        XCTAssertEqual(CopyMoveConsistency.reduction(height: 1080, width: 1920), 1)
        XCTAssertEqual(CopyMoveConsistency.reduction(height: 1993, width: 3000), 1)  // 5,979,000 pixels
        XCTAssertEqual(CopyMoveConsistency.reduction(height: 2896, width: 2897), 2)  // 8,389,712
        XCTAssertEqual(CopyMoveConsistency.reduction(height: 3000, width: 4000), 2)
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
    /// outvote a small copy; ranked by how far a shift's count stands above the counts `step` pixels
    /// away, the copy is among the candidates.
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
        let luma = ContextDeviation.luma(image).map { $0 * 255 }
        func isCandidate(step: Int) -> Bool {
            BlockMatching.candidates(
                luma, height: 192, width: 256, minimumShift: 32, count: CopyMoveConsistency.candidates, step: step
            ).contains { abs($0.dy - shift.dy) <= 1 && abs($0.dx - shift.dx) <= 1 }
        }
        XCTAssertFalse(isCandidate(step: 0), "by count alone the stripes' shifts fill the candidates")
        XCTAssertTrue(isCandidate(step: 4))
        XCTAssertGreaterThan(try XCTUnwrap(CopyMoveConsistency.frameScore(image)), CopyMoveConsistency.fisher(0.8))
    }

    /// A copy by a multiple of 8 on both axes lies on the shifts left out (every block-coded frame
    /// correlates with itself on its 8-pixel grid): it is not evidence, though the shifts a pixel away
    /// are checked.
    func testShiftsOnTheCompressionGridAreLeftOut() throws {
        let onGrid = try XCTUnwrap(CopyMoveConsistency.frameScore(try Self.frame(copiedBy: (dy: 96, dx: 160)).image))
        XCTAssertLessThan(onGrid, CopyMoveConsistency.fisher(0.5))
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
