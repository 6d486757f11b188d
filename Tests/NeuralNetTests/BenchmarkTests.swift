// Smoke test of NeuralNetBenchmark: a tiny run produces one inference and one training row with sane
// numbers. The real measurement is `unmask bench nn` (release build), optionally against PyTorch.
import NeuralNetReference
import XCTest

@testable import NeuralNet

final class BenchmarkTests: XCTestCase {
    override func setUp() { BLASRuntime.ensureFastKernel() }

    func testBenchmarkSmoke() {
        let r = NeuralNetBenchmark.run(
            imageSizes: [16], inferenceBatches: [2], trainingBatch: 2, minSeconds: 0,
            sgemmSize: 64)
        XCTAssertEqual(r.rows.map(\.mode), ["inference", "training"])
        XCTAssertEqual(r.rows.map(\.batch), [2, 2])
        XCTAssert(r.sgemmPeakGFLOPS > 0 && r.sgemmPeakGFLOPS.isFinite)
        for row in r.rows {
            XCTAssertEqual(row.imageSize, 16)
            XCTAssert(row.iterations >= 1)
            XCTAssert(row.secondsPerIteration > 0 && row.secondsPerIteration < 10, "\(row)")
            XCTAssert(row.imagesPerSecond > 0 && row.imagesPerSecond.isFinite, "\(row)")
            XCTAssert(row.gflopsPerSecond > 0 && row.gflopsPerSecond.isFinite, "\(row)")
            XCTAssertEqual(row.imagesPerSecond * row.secondsPerIteration, Double(row.batch), accuracy: 1e-6 * Double(row.batch))
        }
    }
}
