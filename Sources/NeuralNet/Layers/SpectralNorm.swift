// Owns spectral normalization (Miyato et al. 2018, PyTorch torch.nn.utils.spectral_norm math) as a
// wrapper around a Conv2D or Linear: one power iteration per training forward with a persistent u,
// W_sn = W/σ fed to the wrapped layer, and the exact gradient through σ with u, v held constant.
// Glossary: O output rows of W_mat, K = W.count/O columns (I·kH·kW), σ the spectral-norm estimate.

#if canImport(Glibc)
    import Glibc
#else
    import Foundation
#endif

/// Spectral normalization around a weighted layer; keys `weight` (unnormalized W), `bias`, `u`.
public final class SpectralNorm<Inner: WeightedLayer>: WeightedLayer {
    /// The wrapped layer; its `weight` holds W_sn during forward/backward.
    public let inner: Inner
    public var isTraining = true
    /// The unnormalized weight W (same shape as the inner weight).
    public let weight: Tensor  // (O, K…)
    public let dWeight: Tensor  // (O, K…)
    public var bias: Tensor? { inner.bias }
    public var dBias: Tensor? { inner.dBias }
    /// Persistent left singular vector estimate.
    public let u: Tensor  // (O)
    /// Right singular vector estimate from the last forward.
    public let v: Tensor  // (K)
    /// σ = uᵀ W_mat v from the last forward.
    public private(set) var sigma: Float = 1
    /// Power iterations per training forward (the contract uses 1).
    public var powerIterations = 1
    public let eps: Float = 1e-12

    private let rows: Int, cols: Int
    /// Eval-mode cache: W and u as of the last eval recomputation; while both are bitwise unchanged,
    /// v, σ and W_sn (in `inner.weight`) are still exact and the recomputation is skipped.
    private let evalCachedWeight = Tensor(shape: [0])  // (O·K) copy of W
    private let evalCachedU = Tensor(shape: [0])  // (O) copy of u
    private var evalCacheValid = false

    /// Wraps `inner`, taking its current weight as W and drawing u ~ N(0, 1), normalized.
    public init(_ inner: Inner, rng: inout RandomGenerator) {
        self.inner = inner
        weight = inner.weight.copy()
        dWeight = Tensor(shape: inner.weight.shape)
        rows = inner.weight.shape[0]
        cols = inner.weight.count / rows
        u = Tensor(shape: [rows])
        v = Tensor(shape: [cols])
        Initializer.normal(u, std: 1, rng: &rng)
        normalize(u.pointer, rows)
    }

    public func namedBuffers() -> [NamedBuffer] { [NamedBuffer(name: "u", value: u)] }
    public func setExecutionPolicy(_ policy: ExecutionPolicy) { inner.setExecutionPolicy(policy) }

    private func normalize(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        var s = 0.0
        for i in 0..<n { s += Double(x[i]) * Double(x[i]) }
        let inv = 1 / max(Float(s.squareRoot()), eps)
        for i in 0..<n { x[i] *= inv }
    }

    /// v ← Wᵀu (unnormalized).
    private func multiplyTransposed() {
        let w = weight.pointer, up = u.pointer, vp = v.pointer
        for j in 0..<cols { vp[j] = 0 }
        for i in 0..<rows {
            let ui = up[i], row = w + i * cols
            for j in 0..<cols { vp[j] += ui * row[j] }
        }
    }

    /// u ← W v (unnormalized), returns nothing.
    private func multiply(into out: UnsafeMutablePointer<Float>) {
        let w = weight.pointer, vp = v.pointer
        for i in 0..<rows { out[i] = dot(w + i * cols, vp, count: cols) }
    }

    /// Runs the power iteration (training) or just recomputes v (eval), then σ and W_sn = W/σ.
    /// In eval mode the result is reused while W and u are bitwise unchanged (a memcmp instead of three
    /// passes of arithmetic over W; the eval result is a pure function of W and u).
    public func updateNormalizedWeight() {
        if !isTraining && evalCacheValid
            && memcmp(weight.pointer, evalCachedWeight.pointer, weight.count * MemoryLayout<Float>.size) == 0
            && memcmp(u.pointer, evalCachedU.pointer, rows * MemoryLayout<Float>.size) == 0
        {
            return
        }
        evalCacheValid = false
        if isTraining {
            for _ in 0..<max(powerIterations, 1) {
                multiplyTransposed(); normalize(v.pointer, cols)
                multiply(into: u.pointer); normalize(u.pointer, rows)
            }
        } else {
            multiplyTransposed(); normalize(v.pointer, cols)
        }
        // σ = uᵀ (W v)
        let w = weight.pointer, up = u.pointer, vp = v.pointer
        var s = 0.0
        for i in 0..<rows { s += Double(up[i]) * Double(dot(w + i * cols, vp, count: cols)) }
        sigma = Float(s)
        let inv = 1 / sigma, wsn = inner.weight.pointer
        for i in 0..<weight.count { wsn[i] = w[i] * inv }
        if !isTraining {
            evalCachedWeight.copy(from: weight); evalCachedU.copy(from: u)
            evalCacheValid = true
        }
    }

    public func forward(_ x: Tensor) -> Tensor {
        inner.isTraining = isTraining
        updateNormalizedWeight()
        return inner.forward(x)
    }

    /// dW += dW_sn/σ − (Σ(dW_sn ⊙ W)/σ²) · u vᵀ, with dW_sn from the inner layer's backward.
    public func backward(_ dy: Tensor) -> Tensor {
        inner.dWeight.zero()
        let dx = inner.backward(dy)
        let g = inner.dWeight.pointer, w = weight.pointer, dw = dWeight.pointer
        let gw = Double(dot(g, w, count: weight.count))  // Σ dW_sn ⊙ W
        let invSigma = 1 / sigma
        let coef = Float(gw / (Double(sigma) * Double(sigma)))
        let up = u.pointer, vp = v.pointer
        for i in 0..<rows {
            let cu = coef * up[i]
            for j in 0..<cols { dw[i * cols + j] += g[i * cols + j] * invSigma - cu * vp[j] }
        }
        return dx
    }
}

/// A spectrally normalized convolution.
public typealias SNConv2D = SpectralNorm<Conv2D>
/// A spectrally normalized linear layer.
public typealias SNLinear = SpectralNorm<Linear>

extension SpectralNorm where Inner == Conv2D {
    /// An SN convolution (PyTorch default init for W and bias, u ~ N(0,1) normalized).
    public convenience init(
        inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, rng: inout RandomGenerator
    ) {
        self.init(
            Conv2D(
                inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                padding: padding, bias: bias, rng: &rng), rng: &rng)
    }
}

extension SpectralNorm where Inner == Linear {
    /// An SN linear layer (PyTorch default init for W and bias, u ~ N(0,1) normalized).
    public convenience init(inFeatures: Int, outFeatures: Int, bias: Bool = true, rng: inout RandomGenerator) {
        self.init(Linear(inFeatures: inFeatures, outFeatures: outFeatures, bias: bias, rng: &rng), rng: &rng)
    }
}
