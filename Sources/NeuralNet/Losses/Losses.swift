// Owns the training losses with their gradients: hinge (Lim & Ye 2017; Miyato 2018), Wasserstein
// (Arjovsky et al. 2017), numerically stable BCE-with-logits, MSE, L1. Every loss is a mean over all
// elements; gradients are written (not accumulated) into caller-provided tensors, resized to match.
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
        dLogits.resize(to: logits.shape)
        let sign: Float = isReal ? -1 : 1, g = sign / Float(logits.count)
        var total = 0.0
        for i in 0..<logits.count {
            let m = 1 + sign * logits.pointer[i]
            if m > 0 { total += Double(m); dLogits.pointer[i] = g } else { dLogits.pointer[i] = 0 }
        }
        return Float(total / Double(logits.count))
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
        dLogits.resize(to: logits.shape)
        let inv = 1 / Float(logits.count)
        var total = 0.0
        for i in 0..<logits.count {
            let x = logits.pointer[i], t = targets.pointer[i]
            total += Double(max(x, 0) - x * t + log1pf(expf(-abs(x))))
            dLogits.pointer[i] = (stableSigmoid(x) - t) * inv
        }
        return Float(total / Double(logits.count))
    }

    /// Mean squared error mean((p − t)²); gradient 2(p − t)/count.
    public static func mse(prediction: Tensor, target: Tensor, dPrediction: Tensor) -> Float {
        prediction.expectShape(target.shape, "mse target")
        dPrediction.resize(to: prediction.shape)
        let inv = 1 / Float(prediction.count)
        var total = 0.0
        for i in 0..<prediction.count {
            let d = prediction.pointer[i] - target.pointer[i]
            total += Double(d) * Double(d)
            dPrediction.pointer[i] = 2 * d * inv
        }
        return Float(total / Double(prediction.count))
    }

    /// Mean absolute error mean(|p − t|); gradient sign(p − t)/count (0 where equal, as PyTorch).
    public static func l1(prediction: Tensor, target: Tensor, dPrediction: Tensor) -> Float {
        prediction.expectShape(target.shape, "l1 target")
        dPrediction.resize(to: prediction.shape)
        let inv = 1 / Float(prediction.count)
        var total = 0.0
        for i in 0..<prediction.count {
            let d = prediction.pointer[i] - target.pointer[i]
            total += Double(abs(d))
            dPrediction.pointer[i] = d > 0 ? inv : (d < 0 ? -inv : 0)
        }
        return Float(total / Double(prediction.count))
    }
}
