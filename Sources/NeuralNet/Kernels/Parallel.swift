// Owns the tiny fork–join helper that splits a loop over the CPU cores (GCD concurrentPerform) for
// the memory-bound kernels around SGEMM (im2col, col2im) and the worker count Conv2D uses.
// Falls back to the calling thread for small work.
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
    let threads = min(KernelThreads.count, n)
    if threads <= 1 || minimumWork < KernelThreads.minimumParallelWork {
        body(0..<n)
        return
    }
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let lo = n * t / threads, hi = n * (t + 1) / threads
        if lo < hi { body(lo..<hi) }
    }
}
