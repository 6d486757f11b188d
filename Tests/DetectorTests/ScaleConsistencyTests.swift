// ScaleConsistency: grid sizes, the box means against a direct sum, flat and small frames, and a
// smoothed region standing out from the noisy texture around it.
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
            let fast = ScaleConsistency.centredBoxMeans(g, side: side)
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
    }
}
