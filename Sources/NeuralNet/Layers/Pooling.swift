// Owns the spatial resampling layers: AvgPool2x2, MaxPool2x2 (stride 2, floor like PyTorch),
// nearest Upsample2x, GlobalAvgPool (N, C, H, W) → (N, C), and the bookkeeping they share.
// Glossary: N batch, C channels, H/W input size, Ho = H/2, Wo = W/2.

/// 2×2 average pooling with stride 2.
public final class AvgPool2x2: Layer {
    public var isTraining = true
    private let buffers = PlaneBuffers(name: "AvgPool2x2")
    public init() {}
    public func forward(_ x: Tensor) -> Tensor {  // (N, C, H, W) → (N, C, H/2, W/2)
        let (NC, H, W) = buffers.beginForward(x) { [$0 / 2, $1 / 2] }
        let Ho = H / 2, Wo = W / 2, output = buffers.output
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
        let (NC, H, W) = buffers.beginBackward(dy)
        let Ho = H / 2, Wo = W / 2, dInput = buffers.dInput
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
    private let buffers = PlaneBuffers(name: "MaxPool2x2")
    private var argmax: [Int32] = []  // (N, C, Ho, Wo) offset within the (H, W) plane
    public init() {}
    public func forward(_ x: Tensor) -> Tensor {  // (N, C, H, W) → (N, C, H/2, W/2)
        let (NC, H, W) = buffers.beginForward(x) { [$0 / 2, $1 / 2] }
        let Ho = H / 2, Wo = W / 2, output = buffers.output
        if argmax.count < NC * Ho * Wo { argmax = [Int32](repeating: 0, count: NC * Ho * Wo) }
        argmax.withUnsafeMutableBufferPointer { am in
            guard let argmaxBase = am.baseAddress else { return }  // nil only when there is no output
            for m in 0..<NC {
                let s = x.pointer + m * H * W, d = output.pointer + m * Ho * Wo
                let a = argmaxBase + m * Ho * Wo
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
        let (NC, H, W) = buffers.beginBackward(dy)
        let Ho = H / 2, Wo = W / 2, dInput = buffers.dInput
        dInput.zero()
        argmax.withUnsafeBufferPointer { am in
            guard let argmaxBase = am.baseAddress else { return }  // nil only when there is no output
            for m in 0..<NC {
                let g = dy.pointer + m * Ho * Wo, d = dInput.pointer + m * H * W
                let a = argmaxBase + m * Ho * Wo
                for i in 0..<(Ho * Wo) { d[Int(a[i])] += g[i] }
            }
        }
        return dInput
    }
}

/// Nearest-neighbour 2× upsampling: y[n, c, h, w] = x[n, c, h/2, w/2].
public final class Upsample2x: Layer {
    public var isTraining = true
    private let buffers = PlaneBuffers(name: "Upsample2x")
    public init() {}
    public func forward(_ x: Tensor) -> Tensor {  // (N, C, H, W) → (N, C, 2H, 2W)
        let (NC, H, W) = buffers.beginForward(x) { [2 * $0, 2 * $1] }
        let W2 = 2 * W, output = buffers.output
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
        let (NC, H, W) = buffers.beginBackward(dy)
        let W2 = 2 * W, dInput = buffers.dInput
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
    private let buffers = PlaneBuffers(name: "GlobalAvgPool")
    public init() {}
    public func forward(_ x: Tensor) -> Tensor {
        let (NC, H, W) = buffers.beginForward(x) { _, _ in [] }
        let P = H * W, output = buffers.output
        let inv = 1 / Float(P)
        for m in 0..<NC { output.pointer[m] = sum(x.pointer + m * P, count: P) * inv }
        return output
    }
    public func backward(_ dy: Tensor) -> Tensor {  // dy: (N, C)
        let (NC, H, W) = buffers.beginBackward(dy)
        let P = H * W, dInput = buffers.dInput
        let inv = 1 / Float(P)
        for m in 0..<NC { (dInput.pointer + m * P).update(repeating: dy.pointer[m] * inv, count: P) }
        return dInput
    }
}

/// What a resampling layer keeps between forward and backward (its last input's shape, its output
/// and dInput) and the checks that open its forward and backward.
final class PlaneBuffers {
    private let name: String
    private var inputShape: [Int] = []
    let output = Tensor(shape: [0]), dInput = Tensor(shape: [0])

    init(name: String) { self.name = name }

    /// Checks that x is (N, C, H, W), records its shape and sizes `output` to (N, C) + trailing(H, W);
    /// returns the plane count N·C and the plane size H, W.
    @inline(__always)
    func beginForward(_ x: Tensor, trailing: (_ H: Int, _ W: Int) -> [Int]) -> (planes: Int, height: Int, width: Int) {
        x.expect4D("\(name).forward")
        if inputShape != x.shape { inputShape = x.shape }
        let H = x.shape[2], W = x.shape[3]
        output.resize(to: [x.shape[0], x.shape[1]] + trailing(H, W))
        return (x.shape[0] * x.shape[1], H, W)
    }

    /// Checks that dy has the output's shape and sizes `dInput` to the last input's; returns the input's
    /// plane count N·C and plane size H, W.
    @inline(__always)
    func beginBackward(_ dy: Tensor) -> (planes: Int, height: Int, width: Int) {
        dy.expectShape(output.shape, "\(name).backward dOutput")
        dInput.resize(to: inputShape)
        return (inputShape[0] * inputShape[1], inputShape[2], inputShape[3])
    }
}
