// Runs NeuralNetBenchmark only when UNMASK_NN_BENCH=1 (it takes tens of seconds), printing a table:
//   UNMASK_NN_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter NeuralNetTests.BenchmarkTests
// Otherwise a tiny smoke run checks that the benchmark produces sane rows.
import Foundation
import XCTest
@testable import NeuralNet

final class BenchmarkTests: XCTestCase {
    override func setUp() { BLASRuntime.ensureFastKernel() }

    func testBenchmark() {
        let env = ProcessInfo.processInfo.environment
        if env["UNMASK_NN_BENCH"] == "1" {
            let seconds = Double(env["UNMASK_NN_BENCH_SECONDS"] ?? "") ?? 3
            let sizes = (env["UNMASK_NN_BENCH_SIZES"] ?? "128,64").split(separator: ",").compactMap { Int($0) }
            let r = NeuralNetBenchmark.run(imageSizes: sizes, minSeconds: seconds)
            print("BENCH kernel \(r.blasKernel) threads \(r.blasThreads) sgemm \(r.sgemmSize)^3 peak \(String(format: "%.1f", r.sgemmPeakGFLOPS)) GFLOP/s, load average \(r.loadAverage)")
            for row in r.rows {
                print(String(format: "BENCH %-9@ %4dpx batch %3d: %8.1f img/s  %6.1f GFLOP/s  (%d iterations, %.4f s each, %.4f CPU-s each)",
                             row.mode as NSString, row.imageSize, row.batch, row.imagesPerSecond, row.gflopsPerSecond,
                             row.iterations, row.secondsPerIteration, row.cpuSecondsPerIteration))
            }
        } else {
            let r = NeuralNetBenchmark.run(imageSizes: [16], inferenceBatches: [2], trainingBatch: 2, minSeconds: 0,
                                           sgemmSize: 64)
            XCTAssertEqual(r.rows.count, 2)
            XCTAssert(r.rows.allSatisfy { $0.imagesPerSecond > 0 && $0.gflopsPerSecond > 0 })
        }
    }
}
