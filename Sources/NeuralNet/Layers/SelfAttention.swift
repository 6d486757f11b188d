// Owns SAGAN self-attention (Zhang et al. 2018, BigGAN-PyTorch `Attention` layout): SN 1×1 query,
// key, value, out convs (no bias), 2×2 max-pooled keys/values, softmax over keys, y = x + γ·o.
// Glossary: N batch, C channels, P = H*W query positions, Q = P/4 pooled key positions,
// C8 = C/8 query/key channels, C2 = C/2 value channels, T workers.
// The per-sample products and softmax run on one worker per core (single-threaded SGEMMs), as
// Conv2D's chunks do: one sample's products are too small for OpenBLAS's threads.
#if canImport(Glibc)
    import Glibc
#else
    import Foundation
#endif

/// Self-attention block; keys `query`, `key`, `value`, `out` (each `.weight`, `.u`) and `gamma` [1].
public final class SelfAttention: Layer {
    public let channels: Int
    public var isTraining = true {
        didSet { for m in [query, key, value, out] as [Module] { m.isTraining = isTraining } }
    }
    public let query: SNConv2D, key: SNConv2D, value: SNConv2D, out: SNConv2D
    private let keyPool = MaxPool2x2(), valuePool = MaxPool2x2()
    public let gamma: Tensor  // (1), init 0
    public let dGamma: Tensor  // (1)
    /// Threads for the per-sample products (`setExecutionPolicy`, which also reaches the four convs).
    public private(set) var executionPolicy = ExecutionPolicy.default

    private var input: Tensor?
    private var theta: Tensor?  // (N, C8, H, W) query output
    private var phi: Tensor?  // (N, C8, H/2, W/2) pooled keys
    private var g: Tensor?  // (N, C2, H/2, W/2) pooled values
    private var o: Tensor?  // (N, C, H, W) out conv output
    private let beta = Tensor(shape: [0])  // (N, P, Q) attention weights
    private let attended = Tensor(shape: [0])  // (N, C2, H, W) g·βᵀ
    private let output = Tensor(shape: [0])  // (N, C, H, W)
    private let dScaled = Tensor(shape: [0])  // (N, C, H, W) γ·dy
    private let dScores = Tensor(shape: [0])  // (T, P, Q) per-worker dβ → dS
    private let dTheta = Tensor(shape: [0])  // (N, C8, H, W)
    private let dPhi = Tensor(shape: [0])  // (N, C8, H/2, W/2)
    private let dG = Tensor(shape: [0])  // (N, C2, H/2, W/2)
    private let dInput = Tensor(shape: [0])  // (N, C, H, W)

    /// An attention block over `channels` (divisible by 8) with γ = 0.
    public init(channels: Int, rng: inout RandomGenerator) {
        precondition(channels % 8 == 0, "SelfAttention: channels must be divisible by 8, got \(channels)")
        self.channels = channels
        query = SNConv2D(inChannels: channels, outChannels: channels / 8, kernelSize: 1, bias: false, rng: &rng)
        key = SNConv2D(inChannels: channels, outChannels: channels / 8, kernelSize: 1, bias: false, rng: &rng)
        value = SNConv2D(inChannels: channels, outChannels: channels / 2, kernelSize: 1, bias: false, rng: &rng)
        out = SNConv2D(inChannels: channels / 2, outChannels: channels, kernelSize: 1, bias: false, rng: &rng)
        gamma = Tensor(shape: [1]); dGamma = Tensor(shape: [1])
    }

    public func namedParameters() -> [NamedParameter] {
        prefixed("query", query.namedParameters()) + prefixed("key", key.namedParameters())
            + prefixed("value", value.namedParameters()) + prefixed("out", out.namedParameters())
            + [NamedParameter(name: "gamma", value: gamma, gradient: dGamma)]
    }

    public func namedBuffers() -> [NamedBuffer] {
        prefixed("query", query.namedBuffers()) + prefixed("key", key.namedBuffers())
            + prefixed("value", value.namedBuffers()) + prefixed("out", out.namedBuffers())
    }

    public func setExecutionPolicy(_ policy: ExecutionPolicy) {
        executionPolicy = policy
        for m in [query, key, value, out] as [Module] { m.setExecutionPolicy(policy) }
    }

    /// Workers for the per-sample products of a batch of N: spread over the cores like Conv2D's
    /// chunks (the products of one sample are too small to keep OpenBLAS's threads busy).
    private func workers(batch N: Int) -> Int {
        executionPolicy.spreadsBatchOverWorkers && N >= 2 ? min(executionPolicy.threads, N) : 1
    }

    /// FLOPs of one forward for input shape (N, C, H, W): four 1×1 convs and two batched products.
    public func forwardFLOPs(inputShape s: [Int]) -> Double {
        let N = Double(s[0]), C = Double(channels), P = Double(s[2] * s[3]), Q = P / 4
        let convs = 2 * N * P * C * (C / 8 + C / 8 + C / 2) + 2 * N * P * (C / 2) * C
        return convs + 2 * N * P * Q * (C / 8) + 2 * N * (C / 2) * Q * P
    }

    public func forward(_ x: Tensor) -> Tensor {  // x: (N, C, H, W)
        x.expect4D("SelfAttention.forward")
        precondition(
            x.shape[1] == channels && x.shape[2] % 2 == 0 && x.shape[3] % 2 == 0,
            "SelfAttention.forward: expected (N, \(channels), even H, even W), got \(x.shape)")
        let N = x.shape[0], H = x.shape[2], W = x.shape[3], P = H * W, Q = P / 4
        let C8 = channels / 8, C2 = channels / 2
        input = x
        let th = query.forward(x)  // (N, C8, H, W)
        let ph = keyPool.forward(key.forward(x))  // (N, C8, H/2, W/2)
        let gv = valuePool.forward(value.forward(x))  // (N, C2, H/2, W/2)
        theta = th; phi = ph; g = gv
        beta.resize(to: [N, P, Q])
        attended.resize(to: [N, C2, H, W])
        // Work items are samples; with fewer samples than cores (a single image) each sample's query
        // positions are split in blocks instead: rows of S, their softmax and columns of the
        // attended map depend on their own query positions only.
        let threads = executionPolicy.spreadsBatchOverWorkers ? executionPolicy.threads : 1
        let blocks = max(1, threads / N), items = N * blocks
        forEachOnWorkers(items, workers: min(threads, items)) { item, _ in
            let n = item / blocks, block = item % blocks
            let p0 = P * block / blocks, rows = P * (block + 1) / blocks - p0
            let t = th.pointer + n * C8 * P + p0, p = ph.pointer + n * C8 * Q, b = beta.pointer + (n * P + p0) * Q
            // S rows (rows, Q) = θᵀ (rows, C8) · φ (C8, Q)
            sgemm(transA: true, m: rows, n: Q, k: C8, a: t, lda: P, b: p, ldb: Q, beta: 0, c: b, ldc: Q)
            softmaxRows(b, rows: rows, cols: Q)
            // attended columns (C2, rows) = g (C2, Q) · βᵀ (Q, rows)
            sgemm(
                transB: true, m: C2, n: rows, k: Q, a: gv.pointer + n * C2 * Q, lda: Q, b: b, ldb: Q,
                beta: 0, c: attended.pointer + n * C2 * P + p0, ldc: P)
        }
        let ov = out.forward(attended)  // (N, C, H, W)
        o = ov
        output.resize(to: x.shape)
        let gm = gamma.pointer[0], xs = x.pointer, os = ov.pointer, ys = output.pointer
        for i in 0..<x.count { ys[i] = xs[i] + gm * os[i] }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {  // dy: (N, C, H, W)
        guard let x = input, let th = theta, let ph = phi, let gv = g, let ov = o else {
            preconditionFailure("SelfAttention.backward before forward")
        }
        dy.expectShape(x.shape, "SelfAttention.backward dOutput")
        let N = x.shape[0], H = x.shape[2], W = x.shape[3], P = H * W, Q = P / 4
        let C8 = channels / 8, C2 = channels / 2
        // y = x + γ·o
        var dg = 0.0
        let gm = gamma.pointer[0]
        dScaled.resize(to: x.shape)
        for i in 0..<x.count { dg += Double(dy.pointer[i]) * Double(ov.pointer[i]); dScaled.pointer[i] = gm * dy.pointer[i] }
        dGamma.pointer[0] += Float(dg)
        let dAtt = out.backward(dScaled)  // (N, C2, H, W)
        dTheta.resize(to: th.shape); dPhi.resize(to: ph.shape); dG.resize(to: gv.shape)
        let T = workers(batch: N)
        dScores.resize(to: [T, P, Q])
        forEachOnWorkers(N, workers: T) { n, worker in
            let da = dAtt.pointer + n * C2 * P, b = beta.pointer + n * P * Q
            let gn = gv.pointer + n * C2 * Q, ds = dScores.pointer + worker * P * Q
            // dg (C2, Q) = dAtt (C2, P) · β (P, Q)
            sgemm(m: C2, n: Q, k: P, a: da, lda: P, b: b, ldb: Q, beta: 0, c: dG.pointer + n * C2 * Q, ldc: Q)
            // dβ (P, Q) = dAttᵀ (P, C2) · g (C2, Q)
            sgemm(transA: true, m: P, n: Q, k: C2, a: da, lda: P, b: gn, ldb: Q, beta: 0, c: ds, ldc: Q)
            // softmax backward: dS = β ⊙ (dβ − Σ_q dβ·β)
            for r in 0..<P {
                let br = b + r * Q, dr = ds + r * Q
                let rowDot = dot(UnsafePointer(br), UnsafePointer(dr), count: Q)
                for q in 0..<Q { dr[q] = br[q] * (dr[q] - rowDot) }
            }
            // dθ (C8, P) = φ (C8, Q) · dSᵀ (Q, P)
            sgemm(
                transB: true, m: C8, n: P, k: Q, a: ph.pointer + n * C8 * Q, lda: Q, b: ds, ldb: Q,
                beta: 0, c: dTheta.pointer + n * C8 * P, ldc: P)
            // dφ (C8, Q) = θ (C8, P) · dS (P, Q)
            sgemm(
                m: C8, n: Q, k: P, a: th.pointer + n * C8 * P, lda: P, b: ds, ldb: Q,
                beta: 0, c: dPhi.pointer + n * C8 * Q, ldc: Q)
        }
        let dxv = value.backward(valuePool.backward(dG))
        dInput.resize(to: x.shape)
        dInput.copy(from: dy)
        accumulate(dxv.pointer, into: dInput.pointer, count: x.count)
        let dxk = key.backward(keyPool.backward(dPhi))
        accumulate(dxk.pointer, into: dInput.pointer, count: x.count)
        let dxq = query.backward(dTheta)
        accumulate(dxq.pointer, into: dInput.pointer, count: x.count)
        return dInput
    }
}
