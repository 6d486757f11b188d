// LatticeConsistency: the DCT it reads, the lattice step found from coefficients, frames without a
// lattice (never compressed, flat, too small), the grid phase of a cropped JPEG, and a square that
// left the lattice standing out. Its weight in the frame score: stored in the calibration (old files
// read without it, bad weights refused) and added by the scorer.
import Foundation
import MediaIO
import NeuralNet
import XCTest

@testable import Detector

final class LatticeConsistencyTests: XCTestCase {
    /// The basis is orthonormal (JPEG's transform), to float rounding: each entry is within 2⁻²⁴ of
    /// its double value, so a dot product of eight terms is within 1e-6 of 0 or 1.
    func testBasisIsOrthonormal() {
        let B = LatticeConsistency.basis
        for u in 0..<8 {
            for v in 0..<8 {
                let dot = (0..<8).reduce(Float(0)) { $0 + B[u * 8 + $1] * B[v * 8 + $1] }
                XCTAssertEqual(dot, u == v ? 1 : 0, accuracy: 1e-6, "rows \(u), \(v)")
            }
        }
    }

    /// Coefficients at multiples of a step, with the ±0.4 spread of a decoder's rounding, give that step;
    /// at multiples of 12 the even rule keeps 12, not its divisors; spread uniformly, no lattice (1).
    func testStepIsTheLatticeOfTheCoefficients() {
        var rng = RandomGenerator(seed: 9)
        func lattice(_ q: Int) -> [Float] {
            (0..<4000).map { _ in Float(q * Int(rng.uniform(-12, 12).rounded())) + rng.uniform(-0.4, 0.4) }
        }
        XCTAssertEqual(LatticeConsistency.step(lattice(6), frequency: 0, of: 1).step, 6)
        XCTAssertEqual(LatticeConsistency.step(lattice(7), frequency: 0, of: 1).step, 7)
        XCTAssertEqual(LatticeConsistency.step(lattice(12), frequency: 0, of: 1).step, 12)
        XCTAssertEqual(LatticeConsistency.step(lattice(3), frequency: 0, of: 1).step, 3)
        let uniform = (0..<4000).map { _ in rng.uniform(-80, 80) }
        XCTAssertEqual(LatticeConsistency.step(uniform, frequency: 0, of: 1).step, 1)
        XCTAssertEqual(LatticeConsistency.step([], frequency: 0, of: 1).step, 1, "no coefficients, no lattice")
        // Two frequencies interleaved per block: each is read on its own.
        let a = lattice(5), b = uniform
        let both = (0..<4000).flatMap { [a[$0], b[$0]] }
        XCTAssertEqual(LatticeConsistency.step(both, frequency: 0, of: 2).step, 5)
        XCTAssertEqual(LatticeConsistency.step(both, frequency: 1, of: 2).step, 1)
    }

    func testFramesWithoutLatticeOrAreaHaveNoEvidence() throws {
        XCTAssertNil(LatticeConsistency.frameScore(TestSupport.texture(width: 127, height: 300, seed: 2)))
        XCTAssertNil(LatticeConsistency.frameScore(RGBImage(width: 0, height: 0)))
        XCTAssertNil(LatticeConsistency.blockFits(RGBImage(width: 7, height: 200)))
        // Never compressed: no frequency has a lattice, so nothing is compared.
        let texture = TestSupport.texture(width: 256, height: 192, seed: 3)
        let fits = try XCTUnwrap(LatticeConsistency.blockFits(texture))
        XCTAssertEqual(fits.steps, [Int](repeating: 1, count: LatticeConsistency.frequencies.count))
        XCTAssertEqual(try XCTUnwrap(LatticeConsistency.frameScore(texture)), 0)
        // Flat, and clipped: no informative coefficient.
        let flat = RGBImage(width: 160, height: 136, pixels: [Float](repeating: 0.4, count: 3 * 160 * 136))
        XCTAssertEqual(try XCTUnwrap(LatticeConsistency.frameScore(flat)), 0)
        var clipped = try ZooEncoding.jpegRoundTrip(texture, quality: 75)
        for i in 0..<(256 * 192) { clipped.pixels[i] = 1 }  // red saturated everywhere
        XCTAssertEqual(try XCTUnwrap(LatticeConsistency.blockFits(clipped)).count.reduce(0, +), 0)
        XCTAssertEqual(try XCTUnwrap(LatticeConsistency.frameScore(clipped)), 0)
    }

    /// A JPEG cropped by 3 pixels on the left and 5 at the top has its blocks starting at column 5 and
    /// row 3; read there, the two lowest frequencies (the texture's waves fill them) show their lattice.
    func testBlocksFollowTheGridPhase() throws {
        let jpeg = try ZooEncoding.jpegRoundTrip(TestSupport.texture(width: 264, height: 200, seed: 7), quality: 75)
        let cropped = ImageFilters.crop(jpeg, x: 3, y: 5, width: 256, height: 192)
        let fits = try XCTUnwrap(LatticeConsistency.blockFits(cropped))
        XCTAssertEqual(fits.origin.row, 3)
        XCTAssertEqual(fits.origin.column, 5)
        XCTAssertTrue(fits.steps.prefix(2).allSatisfy { $0 >= 2 }, "steps \(fits.steps)")
        XCTAssertEqual(fits.rows, (192 - 3) / 8)
        XCTAssertEqual(fits.columns, (256 - 5) / 8)
    }

    /// A JPEG whose content has stronger 8-periodic edges than its blocking (a texture with a 0.1 step
    /// between columns 3 | 4 and 5 | 6 of every eight, and likewise rows, compressed at quality 90 from
    /// the origin): the blocking points elsewhere, the lattice at the origin; its blocks start there.
    func testBlocksStartWhereTheLatticeIsWhenTheBlockingMisleads() throws {
        var texture = TestSupport.texture(width: 256, height: 192, seed: 7)
        for k in 0..<3 {
            for r in 0..<192 {
                for c in 0..<256 where (4...5).contains(c % 8) || (4...5).contains(r % 8) {
                    texture.pixels[k * 256 * 192 + r * 256 + c] = min(1, texture.pixels[k * 256 * 192 + r * 256 + c] + 0.1)
                }
            }
        }
        let jpeg = try ZooEncoding.jpegRoundTrip(texture, quality: 90)
        let luma = ContextDeviation.luma(jpeg)
        for alongRows in [true, false] {
            let blocking = GridConsistency.stepSums(luma, height: 192, width: 256, alongRows: alongRows, rows: 24, columns: 32)
            XCTAssertNotEqual(blocking.phase, 7, "the premise: the drawn edges outweigh the blocking")
        }
        let fits = try XCTUnwrap(LatticeConsistency.blockFits(jpeg))
        XCTAssertEqual(fits.origin.row, 0)
        XCTAssertEqual(fits.origin.column, 0)
        XCTAssertGreaterThanOrEqual(fits.steps.filter { $0 >= 2 }.count, 3, "steps \(fits.steps)")
    }

    /// Every block of the compressed texture sits on the lattice up to the decoder's rounding; the pasted
    /// square's coefficients are spread over it. Areas of the compressed frame agree with the frame
    /// within sampling error (z of a few units, `real`); the square's area falls short of the frame's
    /// mean fit on each of its hundreds of informative coefficients, tens of standard deviations in all.
    /// Its score must exceed the compressed frame's by 1 (a factor e on 1 + z), and the region found
    /// must cover the square.
    func testSquareOffTheLatticeStandsOut() throws {
        let (real, fake) = try TestSupport.compressedWithUncompressedSquare(quality: 75)
        let realScore = try XCTUnwrap(LatticeConsistency.frameScore(real))
        let fakeScore = try XCTUnwrap(LatticeConsistency.frameScore(fake))
        XCTAssertGreaterThan(fakeScore, realScore + 1, "real \(realScore), fake \(fakeScore)")
        let analysis = try XCTUnwrap(LatticeConsistency.analyse(fake))
        XCTAssertEqual(analysis.score, fakeScore)
        let square = TestSupport.pastedSquare
        XCTAssertGreaterThanOrEqual(
            FrameEvaluation.intersectionOverUnion(analysis.region, square), 0.3, "region \(analysis.region)")
    }

    // MARK: Weight in the frame score

    func testCalibrationKeepsTheLatticeWeight() throws {
        let old = try JSONDecoder().decode(
            Calibration.self, from: Data(#"{"a":1.5,"b":-2,"scaleWeight":2,"gridWeight":1}"#.utf8))
        XCTAssertEqual(old.latticeWeight, 0)
        XCTAssertEqual(old.weighedEvidence, [.scale, .grid])
        let all = Calibration(a: 2, b: -1, scaleWeight: 1.5, gridWeight: 0.5, latticeWeight: 0.25)
        XCTAssertEqual(all.weighedEvidence, [.scale, .grid, .lattice])
        XCTAssertEqual(try JSONDecoder().decode(Calibration.self, from: try JSONEncoder().encode(all)), all)
        XCTAssertEqual(
            all.score(areaLogit: 0.5, scaleEvidence: 0.2, gridEvidence: 0.4, latticeEvidence: 2),
            0.5 + 1.5 * 0.2 + 0.5 * 0.4 + 0.25 * 2, accuracy: 1e-15)
        let plain = String(decoding: try JSONEncoder().encode(Calibration(a: 1, b: 0)), as: UTF8.self)
        XCTAssertFalse(plain.contains("latticeWeight"), "an unused weight is not written: \(plain)")
    }

    func testModelFileKeepsTheLatticeWeightAndRefusesBadOnes() throws {
        try TestSupport.checkModelFileWeights(.lattice, in: temporaryFolder("lattice-weight"))
    }

    func testScorerAddsTheWeightedLatticeEvidence() throws {
        let image = try TestSupport.compressedWithUncompressedSquare(quality: 75).fake
        let evidence = try XCTUnwrap(LatticeConsistency.frameScore(image))
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 2)
        let plain = try FrameScorer(model: model, threads: 1).score(image)
        XCTAssertNil(plain.latticeEvidence, "not computed when the calibration does not weigh it")

        model.calibration = Calibration(a: 1, b: 0, latticeWeight: 2)
        let fused = try FrameScorer(model: model, threads: 1).score(image)
        XCTAssertEqual(try XCTUnwrap(fused.latticeEvidence), evidence)
        XCTAssertNil(fused.gridEvidence)
        XCTAssertEqual(fused.score, plain.areaLogit + 2 * evidence, accuracy: 1e-12)
    }
}
