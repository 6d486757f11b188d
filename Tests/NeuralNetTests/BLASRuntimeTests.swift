// OpenBLAS kernel selection: the kernel in use suits this CPU, a fallback kernel is replaced, and a
// user's own OPENBLAS_CORETYPE is respected.
import NeuralNetReference
import XCTest

@testable import NeuralNet

final class BLASRuntimeTests: XCTestCase {
    override func tearDown() {
        // Leave the process on the fast kernel for the tests that follow.
        unsetenv("OPENBLAS_CORETYPE")
        if BLASRuntime.fallbackKernels.contains(BLASRuntime.kernelName), let best = CPUFeatures.current.bestOpenBLASKernel {
            BLASRuntime.selectKernel(best)
        }
        super.tearDown()
    }

    func testKernelInUseIsNotTheGenericFallback() throws {
        guard CPUFeatures.current.bestOpenBLASKernel != nil else {
            throw XCTSkip("this CPU has no AVX; the fallback kernel is the right one here")
        }
        BLASRuntime.ensureFastKernel()
        XCTAssertFalse(
            BLASRuntime.fallbackKernels.contains(BLASRuntime.kernelName),
            "OpenBLAS runs \(BLASRuntime.kernelName), a fallback kernel")
    }

    func testFallbackKernelIsReplacedAndStillComputesCorrectly() throws {
        guard let best = CPUFeatures.current.bestOpenBLASKernel else { throw XCTSkip("no AVX on this CPU") }
        XCTAssertTrue(BLASRuntime.selectKernel("Prescott"), "this OpenBLAS cannot re-select its kernel")
        XCTAssertEqual(BLASRuntime.kernelName, "Prescott")
        unsetenv("OPENBLAS_CORETYPE")

        let choice = BLASRuntime.ensureFastKernel(environment: [:])

        XCTAssertEqual(choice.before, "Prescott")
        XCTAssertEqual(choice.action, .reselected)
        XCTAssertEqual(choice.after.lowercased(), best.lowercased())
        XCTAssertEqual(BLASRuntime.kernelName.lowercased(), best.lowercased())
        XCTAssertTrue(BLASRuntime.sgemmAgreesWithReference(m: 70, n: 65, k: 130))
    }

    func testUserSettingIsRespected() {
        BLASRuntime.selectKernel("Prescott")
        let choice = BLASRuntime.ensureFastKernel(environment: ["OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(choice.action, .keptUserSetting)
        XCTAssertEqual(BLASRuntime.kernelName, "Prescott")
    }

    func testKernelChoiceFromCPUFlags() {
        let xeon = CPUFeatures(
            cpuinfo: """
                processor\t: 0
                vendor_id\t: GenuineIntel
                flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx avx2 avx512f avx512dq avx512cd avx512bw avx512vl
                processor\t: 1
                flags\t\t: fpu
                """)
        XCTAssertEqual(xeon.vendor, .intel)
        XCTAssertEqual(xeon.bestOpenBLASKernel, "SkylakeX")
        let cooperlake = CPUFeatures(vendor: .intel, flags: xeon.flags.union(["avx512_bf16"]))
        XCTAssertEqual(cooperlake.bestOpenBLASKernel, "Cooperlake")
        XCTAssertEqual(CPUFeatures(vendor: .amd, flags: ["avx", "avx2", "fma"]).bestOpenBLASKernel, "Zen")
        XCTAssertEqual(CPUFeatures(vendor: .intel, flags: ["avx", "avx2", "fma"]).bestOpenBLASKernel, "Haswell")
        XCTAssertEqual(CPUFeatures(vendor: .intel, flags: ["avx"]).bestOpenBLASKernel, "SandyBridge")
        XCTAssertNil(CPUFeatures(vendor: .other, flags: ["sse2", "sse3"]).bestOpenBLASKernel)
        XCTAssertNil(CPUFeatures(cpuinfo: "").bestOpenBLASKernel)
    }

    func testGEMMBenchmarkReportsPositiveThroughput() {
        let results = GEMMBenchmark.measure(
            shapes: [GEMMBenchmark.Shape(label: "tiny", m: 32, n: 32, k: 32)], runs: 3, minimumSeconds: 0.01)
        XCTAssertEqual(results.count, 1)
        XCTAssertEqual(results[0].runs, 3)
        XCTAssertGreaterThan(results[0].gflops, 0)
    }
}
