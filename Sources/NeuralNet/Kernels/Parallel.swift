// Owns the tiny fork–join helpers that split a loop over the CPU cores (GCD concurrentPerform): one
// for the memory-bound kernels around SGEMM (im2col, col2im), falling back to the calling thread for
// small work, and one that spreads the samples of a batch over workers with single-threaded SGEMMs
// (Conv2D's chunks, SelfAttention's per-sample products).
import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// Parallelism for non-BLAS kernels and Conv2D's batch workers.
public enum KernelThreads {
    /// Worker threads (defaults to the online processor count).
    nonisolated(unsafe) public static var count: Int = onlineProcessorCount()
    /// Below this many elements of work a kernel runs on the calling thread.
    nonisolated(unsafe) public static var minimumParallelWork = 1 << 16

    static func onlineProcessorCount() -> Int {
        #if canImport(Glibc)
            return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
            return 1
        #endif
    }
}

/// Runs body over disjoint sub-ranges covering 0..<n, in parallel when `minimumWork` is large enough.
@inline(__always)
func parallelRanges(_ n: Int, minimumWork: Int, _ body: (Range<Int>) -> Void) {
    let parts = minimumWork < KernelThreads.minimumParallelWork ? 1 : KernelThreads.count
    splitRanges(n, parts: parts) { range, _ in body(range) }
}

/// Runs body(range, part) over min(parts, n) disjoint, non-empty sub-ranges covering 0..<n, one
/// thread each; with one part, on the calling thread as part 0. `part` indexes per-thread scratch.
func splitRanges(_ n: Int, parts: Int, _ body: (Range<Int>, Int) -> Void) {
    let p = min(parts, n)
    if p <= 1 {
        body(0..<n, 0)
        return
    }
    DispatchQueue.concurrentPerform(iterations: p) { t in body(n * t / p..<n * (t + 1) / p, t) }
}

/// Runs body(item, worker) for every item in 0..<items. With workers T = 1 everything runs on the
/// calling thread as worker 0 and SGEMMs inside use OpenBLAS's threads. With T > 1, worker t takes
/// items t, t+T, … on its own thread, and OpenBLAS runs single-threaded for the duration (its thread
/// count is restored after): many small SGEMMs side by side keep the cores busy, while threaded
/// ones would make OpenBLAS's threads spin-wait for each other between calls.
func forEachOnWorkers(_ items: Int, workers T: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
    if T <= 1 {
        for i in 0..<items { body(i, 0) }
        return
    }
    let blasThreads = BLASRuntime.threadCount
    BLASRuntime.setThreadCount(1)
    DispatchQueue.concurrentPerform(iterations: T) { t in
        var i = t
        while i < items { body(i, t); i += T }
    }
    BLASRuntime.setThreadCount(blasThreads)
}
