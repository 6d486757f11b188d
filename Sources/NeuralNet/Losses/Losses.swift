// Owns the training losses with their gradients: hinge (Lim & Ye 2017; Miyato 2018), Wasserstein
// (Arjovsky et al. 2017), numerically stable BCE-with-logits (per element, or on a soft maximum per
// row), MSE, L1. Every loss is a mean over all elements (rows for the pooled BCE); gradients are
// written (not accumulated) into caller-provided tensors, resized to match.
#if canImport(Glibc)
    import Glibc
#else
    import Foundation
#endif

/// Losses returning the scalar value and writing dLoss/dInput.
public enum Losses {
    /// Discriminator hinge loss mean(relu(1 − real)) + mean(relu(1 + fake)).
    public static func hingeDiscriminator(real: Tensor, fake: Tensor, dReal: Tensor, dFake: Tensor) -> Float {
        hinge(real, isReal: true, dLogits: dReal) + hinge(fake, isReal: false, dLogits: dFake)
    }

    /// One side of the discriminator hinge loss: mean(relu(1 − x)) for real, mean(relu(1 + x)) for fake
    /// (gradient 0 at the kink, as PyTorch's relu).
    public static func hinge(_ logits: Tensor, isReal: Bool, dLogits: Tensor) -> Float {
        let sign: Float = isReal ? -1 : 1
        return mean(logits, gradient: dLogits) { x, _, inverseCount in
            let m = 1 + sign * x
            return m > 0 ? (Double(m), sign * inverseCount) : (0, 0)
        }
    }

    /// Generator hinge loss −mean(fake).
    public static func hingeGenerator(fake: Tensor, dFake: Tensor) -> Float {
        meanNegated(fake, gradient: dFake)
    }

    /// Wasserstein critic loss mean(fake) − mean(real).
    public static func wassersteinCritic(real: Tensor, fake: Tensor, dReal: Tensor, dFake: Tensor) -> Float {
        let r = meanNegated(real, gradient: dReal)
        dFake.resize(to: fake.shape)
        dFake.fill(1 / Float(fake.count))
        return Float(Double(sum(fake.pointer, count: fake.count)) / Double(fake.count)) + r
    }

    /// Wasserstein generator loss −mean(fake).
    public static func wassersteinGenerator(fake: Tensor, dFake: Tensor) -> Float {
        meanNegated(fake, gradient: dFake)
    }

    private static func meanNegated(_ x: Tensor, gradient: Tensor) -> Float {
        gradient.resize(to: x.shape)
        gradient.fill(-1 / Float(x.count))
        return -Float(Double(sum(x.pointer, count: x.count)) / Double(x.count))
    }

    /// Binary cross-entropy on logits, mean over elements: max(x, 0) − x·t + log(1 + e^−|x|);
    /// gradient (σ(x) − t)/count.
    public static func bceWithLogits(logits: Tensor, targets: Tensor, dLogits: Tensor) -> Float {
        logits.expectShape(targets.shape, "bceWithLogits targets")
        return mean(logits, targets: targets, gradient: dLogits) { x, t, inverseCount in
            (Double(max(x, 0) - x * t + log1pf(expf(-abs(x)))), (stableSigmoid(x) - t) * inverseCount)
        }
    }

    /// Binary cross-entropy on one pooled logit per row, mean over rows. Row r's logit is the soft
    /// maximum of its values x over the cells its `pool` row marks (weights ≥ 0, not all 0):
    /// s = τ·log(Σ wᵢ·e^(xᵢ/τ) / Σ wᵢ), which lies between the pool's weighted mean and its maximum and
    /// tends to the maximum as τ → 0. A score taken as a frame's most suspicious area is trained by
    /// this as it is used: a real row is penalised by its highest cells, a fake row rewarded when any
    /// cell of its region is high. Gradient (σ(s) − t)/rows · wᵢ·e^(xᵢ/τ) / Σ wⱼ·e^(xⱼ/τ) per cell.
    /// logits and pool: (rows, …) of equal shape; targets: one value per row.
    public static func pooledBCEWithLogits(
        logits: Tensor, pool: Tensor, targets: [Float], temperature: Float, dLogits: Tensor
    ) -> Float {
        logits.expectShape(pool.shape, "pooledBCEWithLogits pool")
        let rows = logits.shape[0]
        precondition(
            rows == targets.count && rows > 0 && temperature > 0 && temperature.isFinite,
            "pooledBCEWithLogits: one target per row and a positive temperature")
        let k = logits.count / rows, inverseRows = 1 / Float(rows)
        dLogits.resize(to: logits.shape)
        dLogits.zero()
        var total = 0.0
        for r in 0..<rows {
            let x = logits.pointer + r * k, w = pool.pointer + r * k, d = dLogits.pointer + r * k
            var top = -Float.infinity, weightSum = 0.0
            for i in 0..<k where w[i] > 0 {
                top = max(top, x[i]); weightSum += Double(w[i])
            }
            precondition(weightSum > 0, "pooledBCEWithLogits: row \(r) pools no cell")
            // log-sum-exp relative to the pool's maximum, so no term overflows
            var sum = 0.0
            for i in 0..<k where w[i] > 0 { sum += Double(w[i]) * exp(Double((x[i] - top) / temperature)) }
            let s = Float(Double(top) + Double(temperature) * log(sum / weightSum)), t = targets[r]
            total += Double(max(s, 0) - s * t + log1pf(expf(-abs(s))))
            let ds = (stableSigmoid(s) - t) * inverseRows
            for i in 0..<k where w[i] > 0 {
                d[i] = ds * Float(Double(w[i]) * exp(Double((x[i] - top) / temperature)) / sum)
            }
        }
        return Float(total / Double(rows))
    }

    /// Mean squared error mean((p − t)²); gradient 2(p − t)/count.
    public static func mse(prediction: Tensor, target: Tensor, dPrediction: Tensor) -> Float {
        prediction.expectShape(target.shape, "mse target")
        return mean(prediction, targets: target, gradient: dPrediction) { p, t, inverseCount in
            let d = p - t
            return (Double(d) * Double(d), 2 * d * inverseCount)
        }
    }

    /// Mean absolute error mean(|p − t|); gradient sign(p − t)/count (0 where equal, as PyTorch).
    public static func l1(prediction: Tensor, target: Tensor, dPrediction: Tensor) -> Float {
        prediction.expectShape(target.shape, "l1 target")
        return mean(prediction, targets: target, gradient: dPrediction) { p, t, inverseCount in
            let d = p - t
            return (Double(abs(d)), d > 0 ? inverseCount : (d < 0 ? -inverseCount : 0))
        }
    }

    /// The mean over elements of term(x, t).value, summed in Double, with term(x, t, 1/count).gradient
    /// written into `gradient` (resized to x's shape); t is 0 without `targets`.
    @inline(__always)
    private static func mean(
        _ x: Tensor, targets: Tensor? = nil, gradient: Tensor,
        _ term: (_ x: Float, _ t: Float, _ inverseCount: Float) -> (value: Double, gradient: Float)
    ) -> Float {
        gradient.resize(to: x.shape)
        let inverseCount = 1 / Float(x.count)
        var total = 0.0
        for i in 0..<x.count {
            let (value, g) = term(x.pointer[i], targets?.pointer[i] ?? 0, inverseCount)
            total += value
            gradient.pointer[i] = g
        }
        return Float(total / Double(x.count))
    }
}
