// Owns BatchNorm2D (Ioffe & Szegedy 2015) with PyTorch conventions: eps 1e-5, momentum 0.1,
// running_var updated with the unbiased batch variance, normalization with the biased one.
// Glossary: N batch, C channels, P = H*W, M = N*P values per channel.

/// Batch normalization over (N, H, W) per channel, with affine weight/bias and running statistics.
public final class BatchNorm2D: Layer {
    public let channels: Int
    public let eps: Float, momentum: Float
    public var isTraining = true

    public let weight: Tensor  // (C) γ, init 1
    public let bias: Tensor  // (C) β, init 0
    public let dWeight: Tensor  // (C)
    public let dBias: Tensor  // (C)
    public let runningMean: Tensor  // (C), init 0
    public let runningVar: Tensor  // (C), init 1

    private let output = Tensor(shape: [0])  // (N, C, H, W)
    private let dInput = Tensor(shape: [0])  // (N, C, H, W)
    private let mean = Tensor(shape: [0])  // (C) statistics used by the last forward
    private let invStd = Tensor(shape: [0])  // (C) 1/√(var + eps) used by the last forward
    private var input: Tensor?
    private var lastForwardWasTraining = true

    public init(channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels; self.eps = eps; self.momentum = momentum
        weight = Tensor(shape: [channels], repeating: 1)
        bias = Tensor(shape: [channels])
        dWeight = Tensor(shape: [channels]); dBias = Tensor(shape: [channels])
        runningMean = Tensor(shape: [channels]); runningVar = Tensor(shape: [channels], repeating: 1)
    }

    public func namedParameters() -> [NamedParameter] {
        [
            NamedParameter(name: "weight", value: weight, gradient: dWeight),
            NamedParameter(name: "bias", value: bias, gradient: dBias),
        ]
    }

    public func namedBuffers() -> [NamedBuffer] {
        [NamedBuffer(name: "running_mean", value: runningMean), NamedBuffer(name: "running_var", value: runningVar)]
    }

    public func forward(_ x: Tensor) -> Tensor {  // x: (N, C, H, W)
        x.expect4D("BatchNorm2D.forward")
        precondition(x.shape[1] == channels, "BatchNorm2D.forward: expected \(channels) channels, got shape \(x.shape)")
        let N = x.shape[0], C = channels, P = x.shape[2] * x.shape[3], M = N * P
        input = x
        lastForwardWasTraining = isTraining
        output.resize(to: x.shape)
        mean.resize(to: [C]); invStd.resize(to: [C])
        let xs = x.pointer, ys = output.pointer
        for c in 0..<C {
            var mu: Float, variance: Float
            if isTraining {
                precondition(M > 1, "BatchNorm2D.forward in training needs more than one value per channel, got shape \(x.shape)")
                var s = 0.0
                for n in 0..<N { s += Double(sum(xs + (n * C + c) * P, count: P)) }
                let m = s / Double(M)
                var ss = 0.0
                for n in 0..<N {
                    let p = xs + (n * C + c) * P
                    var acc: Float = 0
                    let mf = Float(m)
                    for i in 0..<P { let d = p[i] - mf; acc += d * d }
                    ss += Double(acc)
                }
                let biased = ss / Double(M)
                mu = Float(m); variance = Float(biased)
                let unbiased = ss / Double(M - 1)
                runningMean.pointer[c] = (1 - momentum) * runningMean.pointer[c] + momentum * mu
                runningVar.pointer[c] = (1 - momentum) * runningVar.pointer[c] + momentum * Float(unbiased)
            } else {
                mu = runningMean.pointer[c]; variance = runningVar.pointer[c]
            }
            let inv = 1 / (variance + eps).squareRoot()
            mean.pointer[c] = mu; invStd.pointer[c] = inv
            let scale = weight.pointer[c] * inv, shift = bias.pointer[c] - mu * scale
            for n in 0..<N {
                let p = xs + (n * C + c) * P, q = ys + (n * C + c) * P
                for i in 0..<P { q[i] = p[i] * scale + shift }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {  // dy: (N, C, H, W)
        guard let x = input else { preconditionFailure("BatchNorm2D.backward before forward") }
        dy.expectShape(x.shape, "BatchNorm2D.backward dOutput")
        let N = x.shape[0], C = channels, P = x.shape[2] * x.shape[3], M = N * P
        dInput.resize(to: x.shape)
        let xs = x.pointer, gs = dy.pointer, ds = dInput.pointer
        for c in 0..<C {
            let mu = mean.pointer[c], inv = invStd.pointer[c], gamma = weight.pointer[c]
            // Σ dy and Σ dy·x̂ over the channel
            var sdy = 0.0, sdyx = 0.0
            for n in 0..<N {
                let p = xs + (n * C + c) * P, g = gs + (n * C + c) * P
                var a: Float = 0, b: Float = 0
                for i in 0..<P { a += g[i]; b += g[i] * (p[i] - mu) }
                sdy += Double(a); sdyx += Double(b)
            }
            sdyx *= Double(inv)
            dBias.pointer[c] += Float(sdy)
            dWeight.pointer[c] += Float(sdyx)
            if lastForwardWasTraining {
                // dx = γ·inv/M · (M·dy − Σdy − x̂·Σ(dy·x̂))
                let k = gamma * inv
                let meanDy = Float(sdy / Double(M)), meanDyx = Float(sdyx / Double(M))
                for n in 0..<N {
                    let p = xs + (n * C + c) * P, g = gs + (n * C + c) * P, d = ds + (n * C + c) * P
                    for i in 0..<P { d[i] = k * (g[i] - meanDy - (p[i] - mu) * inv * meanDyx) }
                }
            } else {
                let k = gamma * inv
                for n in 0..<N {
                    let g = gs + (n * C + c) * P, d = ds + (n * C + c) * P
                    for i in 0..<P { d[i] = k * g[i] }
                }
            }
        }
        return dInput
    }
}
