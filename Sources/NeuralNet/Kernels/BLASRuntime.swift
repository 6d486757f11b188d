// Chooses and reports OpenBLAS's compute kernel. Some OpenBLAS builds do not recognise newer CPUs
// and silently fall back to a slow SSE3 kernel ("Prescott"), 4–5× below the chip; this file detects
// that from the CPU's feature flags and re-selects the right kernel in-process, unless the user set
// OPENBLAS_CORETYPE themselves. Also owns OpenBLAS's thread count, one for the whole process.
import COpenBLAS
import Foundation
import Synchronization

/// What the CPU offers, as far as kernel choice is concerned (read from /proc/cpuinfo).
public struct CPUFeatures: Sendable, Equatable {
    public enum Vendor: String, Sendable { case intel, amd, other }
    public var vendor: Vendor
    public var flags: Set<String>

    public init(vendor: Vendor, flags: Set<String>) {
        self.vendor = vendor
        self.flags = flags
    }

    /// Parses the first processor's `vendor_id` and `flags` lines of a /proc/cpuinfo text.
    public init(cpuinfo: String) {
        var vendor = Vendor.other
        var flags = Set<String>()
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "vendor_id", vendor == .other {
                vendor = parts[1] == "GenuineIntel" ? .intel : parts[1] == "AuthenticAMD" ? .amd : .other
            } else if parts[0] == "flags", flags.isEmpty {
                flags = Set(parts[1].split(separator: " ").map(String.init))
            }
        }
        self.init(vendor: vendor, flags: flags)
    }

    /// This machine's features; empty flags where /proc/cpuinfo cannot be read.
    public static let current: CPUFeatures = {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return CPUFeatures(cpuinfo: text)
    }()

    /// The fastest OpenBLAS x86-64 kernel these features can run, or nil when none beats the default.
    public var bestOpenBLASKernel: String? {
        let avx512 = ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(flags.contains)
        if avx512 {
            return flags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX"
        }
        if flags.contains("avx2") && flags.contains("fma") {
            return vendor == .amd ? "Zen" : "Haswell"
        }
        if flags.contains("avx") { return "SandyBridge" }
        return nil
    }
}

/// OpenBLAS's kernel and threads, as the process sees them.
public enum BLASRuntime {
    /// Kernels that are a generic or pre-AVX fallback on any CPU Unmask is likely to meet.
    static let fallbackKernels: Set<String> = [
        "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine",
        "Northwood", "Banias", "Athlon", "Opteron", "Opteron(SSE3)", "Barcelona", "Nano", "Generic", "unknown",
    ]

    /// The name of the kernel OpenBLAS runs now (`openblas_get_corename`).
    public static var kernelName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The number of threads OpenBLAS uses.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of OpenBLAS threads.
    public static func setThreadCount(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }

    /// Runs `body` with OpenBLAS single-threaded, for code that runs SGEMMs side by side on threads of
    /// its own. OpenBLAS keeps one thread count for the whole process (this version has no per-call or
    /// per-thread setting), so sections are counted: the first to start sets it to 1, the last to end
    /// restores it, and sections may overlap from any number of threads.
    public static func singleThreaded<Result>(_ body: () throws -> Result) rethrows -> Result {
        singleThreadedSections.withLock { sections in
            if sections.open == 0 {
                sections.savedThreadCount = threadCount
                setThreadCount(1)
            }
            sections.open += 1
        }
        defer {
            singleThreadedSections.withLock { sections in
                sections.open -= 1
                if sections.open == 0 { setThreadCount(sections.savedThreadCount) }
            }
        }
        return try body()
    }

    /// Single-threaded sections running now, and OpenBLAS's thread count from before the first.
    private static let singleThreadedSections = Mutex((open: 0, savedThreadCount: 1))

    /// What `ensureFastKernel` found and did.
    public struct KernelChoice: Sendable, Equatable {
        public enum Action: String, Sendable { case keptDetected, keptUserSetting, reselected, reselectFailed }
        public var before: String
        public var after: String
        public var action: Action
    }

    /// Re-selects the kernel by name (an OpenBLAS core name such as "Haswell" or "SkylakeX").
    /// Returns false when this OpenBLAS cannot change its kernel at run time. Call it before any
    /// BLAS work is in flight: OpenBLAS's idle thread pool is kept, only its kernel table changes.
    @discardableResult
    public static func selectKernel(_ name: String) -> Bool {
        setenv("OPENBLAS_CORETYPE", name, 1)
        return unmask_openblas_reselect_kernel() == 0
    }

    /// Makes sure OpenBLAS runs a kernel that suits this CPU. A user's own OPENBLAS_CORETYPE is
    /// respected as it is; otherwise a generic fallback kernel is replaced by the best one the CPU
    /// supports, and OPENBLAS_CORETYPE is left set to it (so child processes agree).
    @discardableResult
    public static func ensureFastKernel(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        cpu: CPUFeatures = .current
    ) -> KernelChoice {
        let before = kernelName
        if let userSetting = environment["OPENBLAS_CORETYPE"], !userSetting.isEmpty {
            return KernelChoice(before: before, after: before, action: .keptUserSetting)
        }
        guard fallbackKernels.contains(before), let best = cpu.bestOpenBLASKernel else {
            return KernelChoice(before: before, after: before, action: .keptDetected)
        }
        let reselected = selectKernel(best)
        let after = kernelName
        guard reselected, after.caseInsensitiveCompare(best) == .orderedSame, sgemmAgreesWithReference() else {
            // Leave OpenBLAS as it was rather than run a kernel that cannot be trusted.
            if kernelName != before { selectKernel(before) }
            unsetenv("OPENBLAS_CORETYPE")
            return KernelChoice(before: before, after: kernelName, action: .reselectFailed)
        }
        return KernelChoice(before: before, after: after, action: .reselected)
    }

    /// Multiplies two small seeded matrices with SGEMM and with a plain loop; true when they agree
    /// to 1e-4 relative. A cheap check that a freshly selected kernel computes correct results.
    public static func sgemmAgreesWithReference(m: Int = 37, n: Int = 29, k: Int = 53) -> Bool {
        var state: UInt32 = 12345
        func next() -> Float {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24) - 0.5
        }
        let a = (0..<(m * k)).map { _ in next() }  // (m, k)
        let b = (0..<(k * n)).map { _ in next() }  // (k, n)
        var c = [Float](repeating: 0, count: m * n)  // (m, n)
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
            1, a, Int32(k), b, Int32(n), 0, &c, Int32(n))
        for row in 0..<m {
            for column in 0..<n {
                var expected: Double = 0
                for inner in 0..<k { expected += Double(a[row * k + inner]) * Double(b[inner * n + column]) }
                let got = Double(c[row * n + column])
                if abs(got - expected) > 1e-4 * max(1, abs(expected)) { return false }
            }
        }
        return true
    }
}
