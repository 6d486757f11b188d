// Owns the Adam optimizer (Kingma & Ba 2015) with PyTorch torch.optim.Adam semantics: bias
// correction, eps added to √v̂, optional L2 weight decay added to the gradient (not AdamW).
// State (exp_avg, exp_avg_sq per parameter, step) is exposed as a state dictionary.

/// Adam over a fixed list of named parameters (one optimizer per network).
public final class Adam {
    public let parameters: [NamedParameter]
    public var learningRate: Float
    public var beta1: Float, beta2: Float
    public var eps: Float
    public var weightDecay: Float
    /// Steps taken so far.
    public private(set) var stepCount = 0
    private let expAvg: [Tensor]  // m, one per parameter, same shapes
    private let expAvgSq: [Tensor]  // v, one per parameter, same shapes

    /// PyTorch defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay.
    /// The SAGAN recipe uses betas (0, 0.9).
    public init(
        parameters: [NamedParameter], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
        eps: Float = 1e-8, weightDecay: Float = 0
    ) {
        precondition(Set(parameters.map(\.name)).count == parameters.count, "Adam: duplicate parameter names")
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = betas.0; self.beta2 = betas.1
        self.eps = eps; self.weightDecay = weightDecay
        expAvg = parameters.map { Tensor(shape: $0.value.shape) }
        expAvgSq = parameters.map { Tensor(shape: $0.value.shape) }
    }

    /// Convenience: optimizes every parameter of `module`.
    public convenience init(
        module: Module, learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
        eps: Float = 1e-8, weightDecay: Float = 0
    ) {
        self.init(
            parameters: module.namedParameters(), learningRate: learningRate, betas: betas, eps: eps,
            weightDecay: weightDecay)
    }

    /// Sets every gradient to zero.
    public func zeroGradients() { for p in parameters { p.gradient.zero() } }

    /// One update from the current gradients:
    /// g += wd·p; m = lerp(m, g, 1−β1); v = β2·v + (1−β2)·g²;
    /// p −= (lr/(1−β1ᵗ)) · m / (√v/√(1−β2ᵗ) + eps).
    public func step() {
        stepCount += 1
        let t = Double(stepCount)
        let bc1 = 1 - pow(Double(beta1), t), bc2 = 1 - pow(Double(beta2), t)
        let stepSize = Float(Double(learningRate) / bc1)
        let bc2Sqrt = Float(bc2.squareRoot())
        let w1 = 1 - beta1, w2 = 1 - beta2, b2 = beta2, wd = weightDecay, e = eps
        for (k, p) in parameters.enumerated() {
            let n = p.value.count
            let x = p.value.pointer, g = p.gradient.pointer, m = expAvg[k].pointer, v = expAvgSq[k].pointer
            for i in 0..<n {
                var gi = g[i]
                if wd != 0 { gi += wd * x[i] }
                // torch.lerp: weight < 0.5 ? m + w(g − m) : g − (g − m)(1 − w)
                m[i] = w1 < 0.5 ? m[i] + w1 * (gi - m[i]) : gi - (gi - m[i]) * (1 - w1)
                v[i] = v[i] * b2 + w2 * gi * gi
                let denom = v[i].squareRoot() / bc2Sqrt + e
                x[i] -= stepSize * (m[i] / denom)
            }
        }
    }

    /// The optimizer's state as it is (copies of the moments and the step), for `restore`: a training
    /// rollback. Unlike a state dictionary it is never read from a file, so nothing needs checking.
    public struct Snapshot {
        fileprivate let stepCount: Int
        fileprivate let expAvg: [Tensor]
        fileprivate let expAvgSq: [Tensor]
    }

    /// A copy of the current state.
    public func snapshot() -> Snapshot {
        Snapshot(stepCount: stepCount, expAvg: expAvg.map { $0.copy() }, expAvgSq: expAvgSq.map { $0.copy() })
    }

    /// Puts back the state of `snapshot`, which this optimizer took.
    public func restore(_ snapshot: Snapshot) {
        precondition(snapshot.expAvg.count == expAvg.count, "Adam.restore: a snapshot of another optimizer")
        for k in expAvg.indices {
            expAvg[k].copy(from: snapshot.expAvg[k])
            expAvgSq[k].copy(from: snapshot.expAvgSq[k])
        }
        stepCount = snapshot.stepCount
    }

    /// State: `<name>.exp_avg`, `<name>.exp_avg_sq` per parameter and `step` (shape [1]).
    public func stateDictionary() -> [String: Tensor] {
        var d: [String: Tensor] = ["step": Tensor(shape: [1], data: [Float(stepCount)])]
        for (k, p) in parameters.enumerated() {
            d[p.name + ".exp_avg"] = expAvg[k].copy()
            d[p.name + ".exp_avg_sq"] = expAvgSq[k].copy()
        }
        return d
    }

    /// Restores state written by `stateDictionary()`; throws naming a missing or mis-shaped key.
    public func load(stateDictionary d: [String: Tensor]) throws {
        guard let s = d["step"] else { throw NeuralNetError.missingKey("step") }
        guard s.count == 1 else { throw NeuralNetError.shapeMismatch(key: "step", expected: [1], got: s.shape) }
        // Read from a file: Int(_:) traps on NaN, infinities and values beyond Int's range.
        let step = s.pointer[0]
        guard step.isFinite, step >= 0, step.rounded() == step, step <= Float(1 << 24) else {
            throw NeuralNetError.invalidState("Adam step \(step) is not a whole number in 0...\(1 << 24)")
        }
        for (k, p) in parameters.enumerated() {
            for (suffix, t) in [(".exp_avg", expAvg[k]), (".exp_avg_sq", expAvgSq[k])] {
                guard let src = d[p.name + suffix] else { throw NeuralNetError.missingKey(p.name + suffix) }
                guard src.shape == t.shape else {
                    throw NeuralNetError.shapeMismatch(key: p.name + suffix, expected: t.shape, got: src.shape)
                }
            }
        }
        for (k, p) in parameters.enumerated() {  // every key checked above
            expAvg[k].copy(from: d[p.name + ".exp_avg"]!)
            expAvgSq[k].copy(from: d[p.name + ".exp_avg_sq"]!)
        }
        stepCount = Int(step)
    }
}

#if canImport(Glibc)
    import Glibc
#else
    import Foundation
#endif
