// Owns the spatial resampling layers: AvgPool2x2, MaxPool2x2 (stride 2, floor like PyTorch),
// nearest Upsample2x, GlobalAvgPool (N, C, H, W) → (N, C).
// Glossary: N batch, C channels, H/W input size, Ho = H/2, Wo = W/2.

/// 2×2 average pooling with stride 2.
public final class AvgPool2x2: Layer {
    public var isTraining = true
    private let output = Tensor(shape: [0]), dInput = Tensor(shape: [0])
    private var inputShape: [Int] = []
    public init() {}
    public func forward(_ x: Tensor) -> Tensor {  // (N, C, H, W) → (N, C, H/2, W/2)
        x.expect4D("AvgPool2x2.forward")
        let NC = x.shape[0] * x.shape[1], H = x.shape[2], W = x.shape[3], Ho = H / 2, Wo = W / 2
        if inputShape != x.shape { inputShape = x.shape }
        output.resize(to: [x.shape[0], x.shape[1], Ho, Wo])
        for m in 0..<NC {
            let s = x.pointer + m * H * W, d = output.pointer + m * Ho * Wo
            for i in 0..<Ho {
                let r0 = s + 2 * i * W, r1 = r0 + W
                for j in 0..<Wo { d[i * Wo + j] = 0.25 * (r0[2 * j] + r0[2 * j + 1] + r1[2 * j] + r1[2 * j + 1]) }
            }
        }
        return output
    }
    public func backward(_ dy: Tensor) -> Tensor {
        dy.expectShape(output.shape, "AvgPool2x2.backward dOutput")
        let NC = inputShape[0] * inputShape[1], H = inputShape[2], W = inputShape[3], Ho = H / 2, Wo = W / 2
        dInput.resize(to: inputShape)
        dInput.zero()
        for m in 0..<NC {
            let g = dy.pointer + m * Ho * Wo, d = dInput.pointer + m * H * W
            for i in 0..<Ho {
                let r0 = d + 2 * i * W, r1 = r0 + W
                for j in 0..<Wo {
                    let v = 0.25 * g[i * Wo + j]
                    r0[2 * j] = v; r0[2 * j + 1] = v; r1[2 * j] = v; r1[2 * j + 1] = v
                }
            }
        }
        return dInput
    }
}

/// 2×2 max pooling with stride 2; ties go to the first element in row-major order (as PyTorch).
public final class MaxPool2x2: Layer {
    public var isTraining = true
    private let output = Tensor(shape: [0]), dInput = Tensor(shape: [0])
    private var argmax: [Int32] = []  // (N, C, Ho, Wo) offset within the (H, W) plane
    private var inputShape: [Int] = []
    public init() {}
    public func forward(_ x: Tensor) -> Tensor {  // (N, C, H, W) → (N, C, H/2, W/2)
        x.expect4D("MaxPool2x2.forward")
        let NC = x.shape[0] * x.shape[1], H = x.shape[2], W = x.shape[3], Ho = H / 2, Wo = W / 2
        if inputShape != x.shape { inputShape = x.shape }
        output.resize(to: [x.shape[0], x.shape[1], Ho, Wo])
        if argmax.count < NC * Ho * Wo { argmax = [Int32](repeating: 0, count: NC * Ho * Wo) }
        argmax.withUnsafeMutableBufferPointer { am in
            for m in 0..<NC {
                let s = x.pointer + m * H * W, d = output.pointer + m * Ho * Wo
                let a = am.baseAddress! + m * Ho * Wo
                for i in 0..<Ho {
                    for j in 0..<Wo {
                        let base = 2 * i * W + 2 * j
                        var best = base
                        var v = s[base]
                        if s[base + 1] > v || s[base + 1].isNaN { v = s[base + 1]; best = base + 1 }
                        if s[base + W] > v || s[base + W].isNaN { v = s[base + W]; best = base + W }
                        if s[base + W + 1] > v || s[base + W + 1].isNaN { v = s[base + W + 1]; best = base + W + 1 }
                        d[i * Wo + j] = v; a[i * Wo + j] = Int32(best)
                    }
                }
            }
        }
        return output
    }
    public func backward(_ dy: Tensor) -> Tensor {
        dy.expectShape(output.shape, "MaxPool2x2.backward dOutput")
        let NC = inputShape[0] * inputShape[1], H = inputShape[2], W = inputShape[3], Ho = H / 2, Wo = W / 2
        dInput.resize(to: inputShape)
        dInput.zero()
        argmax.withUnsafeBufferPointer { am in
            for m in 0..<NC {
                let g = dy.pointer + m * Ho * Wo, d = dInput.pointer + m * H * W
                let a = am.baseAddress! + m * Ho * Wo
                for i in 0..<(Ho * Wo) { d[Int(a[i])] += g[i] }
            }
        }
        return dInput
    }
}

/// Nearest-neighbour 2× upsampling: y[n, c, h, w] = x[n, c, h/2, w/2].
public final class Upsample2x: Layer {
    public var isTraining = true
    private let output = Tensor(shape: [0]), dInput = Tensor(shape: [0])
    private var inputShape: [Int] = []
    public init() {}
    public func forward(_ x: Tensor) -> Tensor {  // (N, C, H, W) → (N, C, 2H, 2W)
        x.expect4D("Upsample2x.forward")
        let NC = x.shape[0] * x.shape[1], H = x.shape[2], W = x.shape[3], W2 = 2 * W
        if inputShape != x.shape { inputShape = x.shape }
        output.resize(to: [x.shape[0], x.shape[1], 2 * H, 2 * W])
        for m in 0..<NC {
            let s = x.pointer + m * H * W, d = output.pointer + m * 4 * H * W
            for i in 0..<H {
                let r0 = d + 2 * i * W2, r1 = r0 + W2, src = s + i * W
                for j in 0..<W { let v = src[j]; r0[2 * j] = v; r0[2 * j + 1] = v }
                r1.update(from: r0, count: W2)
            }
        }
        return output
    }
    public func backward(_ dy: Tensor) -> Tensor {
        dy.expectShape(output.shape, "Upsample2x.backward dOutput")
        let NC = inputShape[0] * inputShape[1], H = inputShape[2], W = inputShape[3], W2 = 2 * W
        dInput.resize(to: inputShape)
        for m in 0..<NC {
            let g = dy.pointer + m * 4 * H * W, d = dInput.pointer + m * H * W
            for i in 0..<H {
                let r0 = g + 2 * i * W2, r1 = r0 + W2
                for j in 0..<W { d[i * W + j] = r0[2 * j] + r0[2 * j + 1] + r1[2 * j] + r1[2 * j + 1] }
            }
        }
        return dInput
    }
}

/// Mean over (H, W): (N, C, H, W) → (N, C).
public final class GlobalAvgPool: Layer {
    public var isTraining = true
    private let output = Tensor(shape: [0]), dInput = Tensor(shape: [0])
    private var inputShape: [Int] = []
    public init() {}
    public func forward(_ x: Tensor) -> Tensor {
        x.expect4D("GlobalAvgPool.forward")
        let NC = x.shape[0] * x.shape[1], P = x.shape[2] * x.shape[3]
        if inputShape != x.shape { inputShape = x.shape }
        output.resize(to: [x.shape[0], x.shape[1]])
        let inv = 1 / Float(P)
        for m in 0..<NC { output.pointer[m] = sum(x.pointer + m * P, count: P) * inv }
        return output
    }
    public func backward(_ dy: Tensor) -> Tensor {  // dy: (N, C)
        dy.expectShape(output.shape, "GlobalAvgPool.backward dOutput")
        let NC = inputShape[0] * inputShape[1], P = inputShape[2] * inputShape[3]
        dInput.resize(to: inputShape)
        let inv = 1 / Float(P)
        for m in 0..<NC { (dInput.pointer + m * P).update(repeating: dy.pointer[m] * inv, count: P) }
        return dInput
    }
}
