// Owns Conv2D: square kernels, stride, zero padding, optional bias, computed as im2col + one SGEMM
// per chunk of samples (the chunk is sized so each SGEMM has ≈ `targetColumns` columns).
// Glossary: N batch, C input channels, O output channels, H/W input size, Ho/Wo output size,
// P = Ho*Wo, K = C*k*k, B samples per chunk.

/// 2-D convolution (cross-correlation, PyTorch layout) with stride and zero padding.
public final class Conv2D: WeightedLayer {
    public let inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int
    public var isTraining = true
    /// When false, `backward` skips dInput (returns a zero-size tensor): the first layer of a
    /// network whose input needs no gradient.
    public var needsInputGradient = true
    /// An activation applied to the output while it is cache-hot (and undone in backward);
    /// the returned output is then post-activation.
    public var fusedActivation: FusedActivation = .none
    /// Columns per SGEMM that chunking over the batch aims for.
    nonisolated(unsafe) public static var targetColumns = 4096

    public let weight: Tensor      // (O, C, k, k)
    public let dWeight: Tensor     // (O, C, k, k)
    public let bias: Tensor?       // (O)
    public let dBias: Tensor?      // (O)

    private let output = Tensor(shape: [0])        // (N, O, Ho, Wo)
    private let dInput = Tensor(shape: [0])        // (N, C, H, W)
    private let columns = Tensor(shape: [0])       // (K, B*P) im2col workspace, reused for dColumns
    private let gemmOut = Tensor(shape: [0])       // (O, B*P) SGEMM result / gathered dOutput
    private var input: Tensor?

    /// A convolution with PyTorch's default init (U(±1/√fan_in) for weight and bias).
    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, rng: inout RandomGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "Conv2D: invalid configuration")
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding
        weight = Tensor(shape: [outChannels, inChannels, kernelSize, kernelSize])
        dWeight = Tensor(shape: weight.shape)
        self.bias = bias ? Tensor(shape: [outChannels]) : nil
        dBias = bias ? Tensor(shape: [outChannels]) : nil
        Initializer.pytorchDefault(weight: weight, bias: self.bias, rng: &rng)
    }

    public func namedParameters() -> [NamedParameter] {
        var list = [NamedParameter(name: "weight", value: weight, gradient: dWeight)]
        if let bias, let dBias { list.append(NamedParameter(name: "bias", value: bias, gradient: dBias)) }
        return list
    }

    /// Output size for an input size.
    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height + 2 * padding - kernelSize) / stride + 1, (width + 2 * padding - kernelSize) / stride + 1)
    }

    /// Multiply–adds ×2 of one forward pass for an input shape (N, C, H, W).
    public func forwardFLOPs(inputShape s: [Int]) -> Double {
        let (ho, wo) = outputSize(height: s[2], width: s[3])
        return 2 * Double(s[0] * outChannels * ho * wo * inChannels * kernelSize * kernelSize)
    }

    private var isPointwise: Bool { kernelSize == 1 && stride == 1 && padding == 0 }

    private func chunkSize(batch: Int, pixels: Int) -> Int {
        if isPointwise { return 1 }
        return max(1, min(batch, Conv2D.targetColumns / max(pixels, 1)))
    }

    public func forward(_ x: Tensor) -> Tensor {   // x: (N, C, H, W)
        x.expect4D("Conv2D.forward")
        precondition(x.shape[1] == inChannels, "Conv2D.forward: expected \(inChannels) input channels, got shape \(x.shape)")
        let N = x.shape[0], C = inChannels, H = x.shape[2], W = x.shape[3]
        let (Ho, Wo) = outputSize(height: H, width: W)
        precondition(Ho > 0 && Wo > 0, "Conv2D.forward: input \(x.shape) too small for kernel \(kernelSize)")
        let O = outChannels, P = Ho * Wo, K = C * kernelSize * kernelSize
        input = x
        output.resize(to: [N, O, Ho, Wo])
        let B = chunkSize(batch: N, pixels: P)
        if !isPointwise { columns.resize(to: [K, B * P]) }
        if B > 1 { gemmOut.resize(to: [O, B * P]) }
        let w = weight.pointer, y = output.pointer
        var n0 = 0
        while n0 < N {
            let b = min(B, N - n0)
            let cols: UnsafePointer<Float>
            if isPointwise {
                cols = UnsafePointer(x.pointer + n0 * C * P)
            } else {
                im2col(input: x.pointer + n0 * C * H * W, batch: b, channels: C, height: H, width: W,
                       kernel: kernelSize, stride: stride, padding: padding, outHeight: Ho, outWidth: Wo,
                       columns: columns.pointer)
                cols = UnsafePointer(columns.pointer)
            }
            if b == 1 {
                let yn = y + n0 * O * P                               // (O, P)
                if let bias {
                    // bias prefill + beta 1: no separate beta-scaling and bias passes
                    for o in 0..<O { (yn + o * P).update(repeating: bias.pointer[o], count: P) }
                }
                sgemm(m: O, n: P, k: K, a: w, lda: K, b: cols, ldb: P, beta: bias == nil ? 0 : 1, c: yn, ldc: P)
                fusedActivation.apply(yn, count: O * P)
            } else {
                let g = gemmOut.pointer                                // (O, b*P)
                sgemm(m: O, n: b * P, k: K, a: w, lda: K, b: cols, ldb: b * P, beta: 0, c: g, ldc: b * P)
                for o in 0..<O {
                    let bo: Float = bias?.pointer[o] ?? 0
                    for j in 0..<b {
                        let src = g + o * b * P + j * P, dst = y + ((n0 + j) * O + o) * P
                        for i in 0..<P { dst[i] = src[i] + bo }
                        fusedActivation.apply(dst, count: P)
                    }
                }
            }
            n0 += b
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {   // dy: (N, O, Ho, Wo)
        guard let x = input else { preconditionFailure("Conv2D.backward before forward") }
        dy.expectShape(output.shape, "Conv2D.backward dOutput")
        let N = x.shape[0], C = inChannels, H = x.shape[2], W = x.shape[3]
        let Ho = output.shape[2], Wo = output.shape[3]
        let O = outChannels, P = Ho * Wo, K = C * kernelSize * kernelSize
        let B = chunkSize(batch: N, pixels: P)
        if !isPointwise { columns.resize(to: [K, B * P]) }
        if B > 1 || fusedActivation != .none { gemmOut.resize(to: [O, B * P]) }
        if needsInputGradient { dInput.resize(to: x.shape); if !isPointwise { dInput.zero() } } else { dInput.resize(to: [0]) }
        let w = weight.pointer, dw = dWeight.pointer
        var n0 = 0
        while n0 < N {
            let b = min(B, N - n0)
            // dY for this chunk as (O, b*P)
            // (through the fused activation: dPre = dy ⊙ act'(y))
            let dyMat: UnsafePointer<Float>
            if b == 1 && fusedActivation == .none {
                dyMat = UnsafePointer(dy.pointer + n0 * O * P)
            } else {
                let g = gemmOut.pointer
                for o in 0..<O {
                    for j in 0..<b {
                        let offset = ((n0 + j) * O + o) * P
                        fusedActivation.backward(dy.pointer + offset, output: output.pointer + offset,
                                                 into: g + o * b * P + j * P, count: P)
                    }
                }
                dyMat = UnsafePointer(g)
            }
            if let dBias { accumulateRowSums(dyMat, rows: O, cols: b * P, into: dBias.pointer) }
            // dW (O, K) += dY (O, b*P) · colsᵀ (b*P, K)
            let cols: UnsafePointer<Float>
            if isPointwise {
                cols = UnsafePointer(x.pointer + n0 * C * P)
            } else {
                im2col(input: x.pointer + n0 * C * H * W, batch: b, channels: C, height: H, width: W,
                       kernel: kernelSize, stride: stride, padding: padding, outHeight: Ho, outWidth: Wo,
                       columns: columns.pointer)
                cols = UnsafePointer(columns.pointer)
            }
            sgemm(transB: true, m: O, n: K, k: b * P, a: dyMat, lda: b * P, b: cols, ldb: b * P,
                  beta: 1, c: dw, ldc: K)
            if needsInputGradient {
                if isPointwise {
                    // dX_n (C, P) = Wᵀ (C, O) · dY_n (O, P)
                    sgemm(transA: true, m: C, n: P, k: O, a: w, lda: K, b: dyMat, ldb: P,
                          beta: 0, c: dInput.pointer + n0 * C * P, ldc: P)
                } else {
                    // dCols (K, b*P) = Wᵀ (K, O) · dY (O, b*P); then fold back
                    sgemm(transA: true, m: K, n: b * P, k: O, a: w, lda: K, b: dyMat, ldb: b * P,
                          beta: 0, c: columns.pointer, ldc: b * P)
                    col2im(columns: columns.pointer, batch: b, channels: C, height: H, width: W,
                           kernel: kernelSize, stride: stride, padding: padding, outHeight: Ho, outWidth: Wo,
                           output: dInput.pointer + n0 * C * H * W)
                }
            }
            n0 += b
        }
        return dInput
    }
}

/// An elementwise activation fused into a layer's output pass.
public enum FusedActivation: Equatable, Sendable {
    case none
    case relu
    /// Requires slope > 0 (the sign of the output then equals the sign of the input).
    case leakyReLU(Float)

    /// y = act(y) in place.
    @inline(__always)
    func apply(_ y: UnsafeMutablePointer<Float>, count n: Int) {
        switch self {
        case .none: return
        case .relu: for i in 0..<n { y[i] = max(y[i], 0) }
        case .leakyReLU(let a): for i in 0..<n { let v = y[i]; y[i] = v > 0 ? v : v * a }
        }
    }

    /// d[i] = dy[i] · act'(from output y[i]).
    @inline(__always)
    func backward(_ dy: UnsafePointer<Float>, output y: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, count n: Int) {
        switch self {
        case .none: d.update(from: dy, count: n)
        case .relu: for i in 0..<n { d[i] = y[i] > 0 ? dy[i] : 0 }
        case .leakyReLU(let a): for i in 0..<n { d[i] = y[i] > 0 ? dy[i] : dy[i] * a }
        }
    }
}
