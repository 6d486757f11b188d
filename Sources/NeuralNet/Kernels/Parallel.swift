// Owns the tiny fork–join helper that splits a loop over the CPU cores (GCD concurrentPerform) for
// the memory-bound kernels around SGEMM (im2col, col2im, elementwise passes). Never allocates per
// element; falls back to the calling thread for small work.
import Dispatch

/// Parallelism for non-BLAS kernels (defaults to the active processor count).
public enum KernelThreads {
    nonisolated(unsafe) public static var count: Int = max(1, ProcessInfo_activeProcessorCount())
    /// Below this many elements of work a kernel runs on the calling thread.
    nonisolated(unsafe) public static var minimumParallelWork = 1 << 16
}

@inline(__always)
func ProcessInfo_activeProcessorCount() -> Int {
    #if canImport(Glibc)
    return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #else
    return 1
    #endif
}

#if canImport(Glibc)
import Glibc
#endif

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
