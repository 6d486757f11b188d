// Owns the NeuralNet benchmark: reference-discriminator throughput for inference (batch 1, 8, 32)
// and a training step (forward, hinge loss, backward, Adam) at 128 and 64 px, with analytic GFLOP/s
// and the SGEMM peak measured in the same run. Returns plain values; never prints.
import Foundation
import NeuralNet

#if canImport(Glibc)
    import Glibc
#endif

/// Throughput measurements of the reference discriminator.
public enum NeuralNetBenchmark {
    /// One measured configuration.
    public struct Row: Sendable, Equatable {
        /// "inference" or "training".
        public var mode: String
        public var imageSize: Int
        public var batch: Int
        public var iterations: Int
        public var secondsPerIteration: Double
        /// Process CPU time (user + system, all threads) per iteration: with 2 cores and no other
        /// load, ≈ 2 × secondsPerIteration; much less means other processes took the cores.
        public var cpuSecondsPerIteration: Double
        public var imagesPerSecond: Double
        /// Analytic FLOPs (convs, linear, attention) per iteration / time.
        public var gflopsPerSecond: Double
    }

    /// A whole run.
    public struct Result: Sendable, Equatable {
        public var blasKernel: String
        public var blasThreads: Int
        /// Measured n³ SGEMM throughput (n = `sgemmSize`).
        public var sgemmPeakGFLOPS: Double
        public var sgemmSize: Int
        /// 1-minute load average when the run ended (other processes on the machine skew timings).
        public var loadAverage: Double
        public var rows: [Row]
    }

    /// Measures SGEMM (n, n, n) throughput in GFLOP/s over at least `minSeconds`.
    public static func measureSGEMM(size n: Int = 1024, minSeconds: Double = 1) -> Double {
        let a = Tensor(shape: [n, n], repeating: 0.5), b = Tensor(shape: [n, n], repeating: 0.25)
        let c = Tensor(shape: [n, n])
        sgemm(m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, beta: 0, c: c.pointer, ldc: n)  // warm-up
        let (iterations, seconds) = timeLoop(minSeconds: minSeconds) {
            sgemm(m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, beta: 0, c: c.pointer, ldc: n)
        }
        return 2 * Double(n) * Double(n) * Double(n) * Double(iterations) / seconds / 1e9
    }

    /// Runs `body` at least once and until `minSeconds` have passed; returns (iterations, seconds).
    static func timeLoop(minSeconds: Double, _ body: () -> Void) -> (Int, Double) {
        let r = timeLoopWithCPU(minSeconds: minSeconds, body)
        return (r.iterations, r.seconds)
    }

    /// Like `timeLoop`, also returning the process CPU seconds spent.
    static func timeLoopWithCPU(minSeconds: Double, _ body: () -> Void) -> (iterations: Int, seconds: Double, cpu: Double) {
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUSeconds()
        var iterations = 0, elapsed = 0.0
        repeat {
            body()
            iterations += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < minSeconds
        return (iterations, elapsed, processCPUSeconds() - cpuStart)
    }

    /// User + system CPU seconds of this process (all threads).
    public static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// Measures inference at `inferenceBatches` and one training step at `trainingBatch` for every
    /// image size (first making sure OpenBLAS runs a kernel that suits the CPU), the networks running
    /// `policy`.
    /// The training step is forward, hinge loss on both heads (as real), backward without the image
    /// gradient, Adam (SAGAN betas). Each configuration gets a warm-up iteration, then runs for at least `minSeconds`.
    public static func run(
        imageSizes: [Int] = [128, 64], inferenceBatches: [Int] = [1, 8, 32],
        trainingBatch: Int = 32, minSeconds: Double = 2, sgemmSize: Int = 1024,
        seed: UInt64 = 0, policy: ExecutionPolicy = .default
    ) -> Result {
        BLASRuntime.ensureFastKernel()
        let peak = measureSGEMM(size: sgemmSize, minSeconds: min(minSeconds, 1))
        var rows: [Row] = []
        for size in imageSizes {
            let d = ReferenceDiscriminator(seed: seed)
            d.eval()
            d.setExecutionPolicy(policy)
            for batch in inferenceBatches {
                let x = Tensor(shape: [batch, 3, size, size])
                var rng = RandomGenerator(seed: seed &+ 1)
                Initializer.normal(x, std: 1, rng: &rng)
                _ = d.forward(x)
                let (iterations, seconds, cpu) = timeLoopWithCPU(minSeconds: minSeconds) { _ = d.forward(x) }
                let perIteration = seconds / Double(iterations)
                rows.append(
                    Row(
                        mode: "inference", imageSize: size, batch: batch, iterations: iterations,
                        secondsPerIteration: perIteration, cpuSecondsPerIteration: cpu / Double(iterations),
                        imagesPerSecond: Double(batch) / perIteration,
                        gflopsPerSecond: d.forwardFLOPs(inputShape: x.shape) / perIteration / 1e9))
            }
            if trainingBatch > 0 {
                let train = ReferenceDiscriminator(seed: seed)
                train.needsInputGradient = false
                train.setExecutionPolicy(policy)
                let adam = Adam(module: train, learningRate: 2e-4, betas: (0, 0.9))
                let x = Tensor(shape: [trainingBatch, 3, size, size])
                var rng = RandomGenerator(seed: seed &+ 2)
                Initializer.normal(x, std: 1, rng: &rng)
                let dPatch = Tensor(shape: [0]), dGlobal = Tensor(shape: [0])
                func step() {
                    adam.zeroGradients()
                    let (patch, global) = train.forward(x)
                    _ = Losses.hinge(patch, isReal: true, dLogits: dPatch) + Losses.hinge(global, isReal: true, dLogits: dGlobal)
                    _ = train.backward(dPatch: dPatch, dGlobal: dGlobal)
                    adam.step()
                }
                step()
                let (iterations, seconds, cpu) = timeLoopWithCPU(minSeconds: minSeconds, step)
                let perIteration = seconds / Double(iterations)
                // forward + dW + dX for every layer except the first (no dX): 3·F − F_first
                let forward = train.forwardFLOPs(inputShape: x.shape)
                let first = train.block1Conv1.inner.forwardFLOPs(inputShape: x.shape)
                rows.append(
                    Row(
                        mode: "training", imageSize: size, batch: trainingBatch, iterations: iterations,
                        secondsPerIteration: perIteration, cpuSecondsPerIteration: cpu / Double(iterations),
                        imagesPerSecond: Double(trainingBatch) / perIteration,
                        gflopsPerSecond: (3 * forward - first) / perIteration / 1e9))
            }
        }
        return Result(
            blasKernel: BLASRuntime.kernelName, blasThreads: BLASRuntime.threadCount,
            sgemmPeakGFLOPS: peak, sgemmSize: sgemmSize, loadAverage: loadAverage(), rows: rows)
    }

    /// The 1-minute load average from /proc/loadavg (0 when unavailable).
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
            let first = text.split(separator: " ").first, let value = Double(first)
        else { return 0 }
        return value
    }
}
