// Owns how NeuralNet spreads work over the CPU cores: the execution policy a network holds (threads,
// chunk sizes, convolution algorithm), and the tiny fork–join helpers (GCD concurrentPerform) that the
// kernels around SGEMM (im2col, col2im) and the batch workers (Conv2D's chunks, SelfAttention's
// per-sample products) run on.
import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// How a network's layers and kernels run: how many threads they spread work over and which algorithm
/// a convolution uses. A network holds its own (`Module.setExecutionPolicy`), so networks with
/// different policies can run side by side. Every policy computes the same function: plans differ
/// only in summation order (the parity and plan-agreement tests bound the difference).
public struct ExecutionPolicy: Sendable, Equatable {
    /// Threads for the kernels around SGEMM (im2col, col2im, Winograd transforms) and for the
    /// batch workers.
    public var threads: Int
    /// Below this many elements of work a kernel runs on the calling thread.
    public var minimumParallelWork: Int
    /// Columns per SGEMM that Conv2D's chunking over the batch aims for (single worker, threaded SGEMM).
    public var targetColumns: Int
    /// Columns per SGEMM that chunking aims for when chunks are spread over workers.
    public var workerTargetColumns: Int
    /// Spread the samples of a batch over `threads` workers with single-threaded SGEMMs (Conv2D's
    /// chunks, SelfAttention's products). OpenBLAS's thread count, which is the process's, is set to 1
    /// while the workers run and restored after.
    public var spreadsBatchOverWorkers: Bool
    /// Forward passes of 3×3, stride-1, padding-1 convolutions with at least this many input channels
    /// use Winograd (`winogradTile`) instead of im2col + SGEMM; backward always uses im2col. At 16
    /// (measured with F(2×2, 3×3)), the reference discriminator (128 px batch 32) and the detector's
    /// 16-channel conv2 measured faster than without (`unmask bench nn`, `unmask bench scan`, README
    /// "Performance"); 3-channel first layers were not tried (their products would be k = 3 SGEMMs).
    /// `Int.max` turns Winograd off.
    public var winogradMinimumChannels: Int
    /// The Winograd algorithm's output tile.
    public var winogradTile: WinogradTile
    /// A single-threaded forward of a 4×4, stride-2 convolution on one sample unfolds and multiplies
    /// blocks of whole output rows of about this many columns (at least one row), instead of one
    /// column matrix of the whole sample (9.4 MB for unmask-v2's first layer on a 256-pixel window):
    /// a block's columns are still in cache when the SGEMM reads them, and OpenBLAS multiplies
    /// products this small without packing them first. 0 unfolds the whole sample at once. At 256,
    /// unmask-v2 scores a 1080p frame in 0.107 s against 0.132 s unblocked (512: 0.115, 1024: 0.123;
    /// `unmask bench score --configurations 2x4`, Docs/performance.md).
    public var rowBlockColumns: Int

    /// Winograd's output tile: F(4×4, 3×3) (`Winograd4`, 36 products, 4× fewer multiplies than direct)
    /// or F(2×2, 3×3) (`Winograd`, 16 products, 2.25× fewer).
    public enum WinogradTile: Sendable, Equatable {
        case fourByFour, twoByTwo
    }

    public init(
        threads: Int, minimumParallelWork: Int = 1 << 16, targetColumns: Int = 4096, workerTargetColumns: Int = 2048,
        spreadsBatchOverWorkers: Bool = true, winogradMinimumChannels: Int = 16, winogradTile: WinogradTile = .fourByFour,
        rowBlockColumns: Int = 256
    ) {
        self.threads = max(1, threads)
        self.minimumParallelWork = minimumParallelWork
        self.targetColumns = targetColumns
        self.workerTargetColumns = workerTargetColumns
        self.spreadsBatchOverWorkers = spreadsBatchOverWorkers
        self.winogradMinimumChannels = winogradMinimumChannels
        self.winogradTile = winogradTile
        self.rowBlockColumns = max(0, rowBlockColumns)
    }

    /// One thread per online processor; the defaults above for the rest. Every layer starts with it.
    public static let `default` = ExecutionPolicy(threads: onlineProcessorCount())

    /// This policy on one thread (the same algorithms): for a network that is itself one of several
    /// running side by side.
    public var singleThreaded: ExecutionPolicy {
        var policy = self
        policy.threads = 1
        return policy
    }

    /// The number of processors online (1 where it cannot be read).
    public static func onlineProcessorCount() -> Int {
        #if canImport(Glibc)
            return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
            return 1
        #endif
    }
}

/// Runs body over disjoint sub-ranges covering 0..<n, on `policy.threads` threads when `work`
/// (elements) reaches `policy.minimumParallelWork`, else on the calling thread.
@inline(__always)
func parallelRanges(_ n: Int, work: Int, policy: ExecutionPolicy, _ body: (Range<Int>) -> Void) {
    let parts = work < policy.minimumParallelWork ? 1 : policy.threads
    splitRanges(n, parts: parts) { range, _ in body(range) }
}

/// Runs body(range, part) over min(parts, n) disjoint, non-empty sub-ranges covering 0..<n, one
/// thread each; with one part, on the calling thread as part 0. `part` indexes per-thread scratch.
/// `body` is called from several threads at once: what it writes for one range or part must not be
/// touched for another (the kernels write disjoint rows of raw buffers).
func splitRanges(_ n: Int, parts: Int, _ body: (Range<Int>, Int) -> Void) {
    let p = min(parts, n)
    if p <= 1 {
        body(0..<n, 0)
        return
    }
    // Fork–join over raw buffers, which Sendable cannot describe: the parts write disjoint ranges
    // (the contract above) and concurrentPerform returns only after every part has finished.
    nonisolated(unsafe) let body = body
    DispatchQueue.concurrentPerform(iterations: p) { t in body(n * t / p..<n * (t + 1) / p, t) }
}

/// Runs body(item, worker) for every item in 0..<items. With workers T = 1 everything runs on the
/// calling thread as worker 0 and SGEMMs inside use OpenBLAS's threads. With T > 1, worker t takes
/// items t, t+T, … on its own thread, and OpenBLAS runs single-threaded for the duration (its thread
/// count is restored after): many small SGEMMs side by side keep the cores busy, while threaded
/// ones would make OpenBLAS's threads spin-wait for each other between calls. As in `splitRanges`,
/// what `body` writes for one item or worker must not be touched for another.
func forEachOnWorkers(_ items: Int, workers T: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
    if T <= 1 {
        for i in 0..<items { body(i, 0) }
        return
    }
    // Fork–join over raw buffers (see splitRanges): items write disjoint outputs, workers their own
    // scratch, and concurrentPerform returns only after every worker has finished.
    nonisolated(unsafe) let body = body
    BLASRuntime.singleThreaded {
        DispatchQueue.concurrentPerform(iterations: T) { t in
            var i = t
            while i < items { body(i, t); i += T }
        }
    }
}
