// Owns ConvTranspose2D: PyTorch's ConvTranspose2d (groups 1, dilation 1, no output padding), the
// adjoint of Conv2D. Per sample, one SGEMM Wᵀ·x gives the column matrix and col2im folds it onto
// the output; backward unfolds dY with im2col (same geometry) and takes two SGEMMs. Reuses the
// Conv2D kernels, so e.g. k4 s2 p1 doubles the spatial size exactly.
// Glossary: N batch, C input channels, O output channels, H/W input size, Ho/Wo output size
// ((H − 1)·s − 2p + k), P = H*W input positions, K = O*k*k rows of the column matrix.

/// Transposed 2-D convolution ("deconvolution") with PyTorch's weight layout (C, O, k, k).
public final class ConvTranspose2D: WeightedLayer {
    public let inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int
    public var isTraining = true
    /// When false, `backward` skips dInput (returns a zero-size tensor).
    public var needsInputGradient = true
    /// Threads for im2col and col2im (`setExecutionPolicy`).
    public private(set) var executionPolicy = ExecutionPolicy.default

    public let weight: Tensor  // (C, O, k, k)
    public let dWeight: Tensor  // (C, O, k, k)
    public let bias: Tensor?  // (O)
    public let dBias: Tensor?  // (O)

    private let output = Tensor(shape: [0])  // (N, O, Ho, Wo)
    private let dInput = Tensor(shape: [0])  // (N, C, H, W)
    private let columns = Tensor(shape: [0])  // (K, P), one sample at a time
    private var input: Tensor?

    /// PyTorch's default init: U(±1/√fan_in) with fan_in = O·k·k (PyTorch reads it from dim 1 of
    /// the (C, O, k, k) weight, which `Initializer.fans` does too).
    public init(
        inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, rng: inout RandomGenerator
    ) {
        precondition(
            inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
            "ConvTranspose2D: invalid configuration")
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding
        weight = Tensor(shape: [inChannels, outChannels, kernelSize, kernelSize])
        dWeight = Tensor(shape: weight.shape)
        self.bias = bias ? Tensor(shape: [outChannels]) : nil
        dBias = bias ? Tensor(shape: [outChannels]) : nil
        Initializer.pytorchDefault(weight: weight, bias: self.bias, rng: &rng)
    }

    public func setExecutionPolicy(_ policy: ExecutionPolicy) { executionPolicy = policy }

    /// Output size for an input size: (H − 1)·s − 2p + k.
    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height - 1) * stride - 2 * padding + kernelSize, (width - 1) * stride - 2 * padding + kernelSize)
    }

    /// Multiply–adds ×2 of one forward pass for an input shape (N, C, H, W).
    public func forwardFLOPs(inputShape s: [Int]) -> Double {
        2 * Double(s[0] * inChannels * s[2] * s[3] * outChannels * kernelSize * kernelSize)
    }

    public func forward(_ x: Tensor) -> Tensor {  // x: (N, C, H, W)
        x.expect4D("ConvTranspose2D.forward")
        precondition(
            x.shape[1] == inChannels, "ConvTranspose2D.forward: expected \(inChannels) input channels, got shape \(x.shape)")
        let N = x.shape[0], C = inChannels, O = outChannels, H = x.shape[2], W = x.shape[3]
        let (Ho, Wo) = outputSize(height: H, width: W)
        precondition(Ho > 0 && Wo > 0, "ConvTranspose2D.forward: input \(x.shape) gives an empty output")
        let P = H * W, K = O * kernelSize * kernelSize
        input = x
        output.resize(to: [N, O, Ho, Wo])
        columns.resize(to: [K, P])
        for n in 0..<N {
            let y = output.pointer + n * O * Ho * Wo
            // col2im accumulates: start from the bias (or zero)
            for o in 0..<O { (y + o * Ho * Wo).update(repeating: bias?.pointer[o] ?? 0, count: Ho * Wo) }
            // columns (K, P) = Wᵀ (K, C) · x_n (C, P)
            sgemm(
                transA: true, m: K, n: P, k: C, a: weight.pointer, lda: K, b: x.pointer + n * C * P, ldb: P,
                beta: 0, c: columns.pointer, ldc: P)
            // The output plane plays the conv's input, this layer's input the conv's output.
            col2im(
                columns: columns.pointer, batch: 1, channels: O, height: Ho, width: Wo, kernel: kernelSize,
                stride: stride, padding: padding, outHeight: H, outWidth: W, output: y, policy: executionPolicy)
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {  // dy: (N, O, Ho, Wo)
        guard let x = input else { preconditionFailure("ConvTranspose2D.backward before forward") }
        dy.expectShape(output.shape, "ConvTranspose2D.backward dOutput")
        let N = x.shape[0], C = inChannels, O = outChannels, H = x.shape[2], W = x.shape[3]
        let Ho = output.shape[2], Wo = output.shape[3]
        let P = H * W, K = O * kernelSize * kernelSize
        columns.resize(to: [K, P])
        dInput.resize(to: needsInputGradient ? x.shape : [0])
        for n in 0..<N {
            let dyn = dy.pointer + n * O * Ho * Wo
            if let dBias { accumulateRowSums(dyn, rows: O, cols: Ho * Wo, into: dBias.pointer) }
            // dColumns (K, P): dY_n unfolded exactly as a conv over it would see it
            im2col(
                input: dyn, batch: 1, channels: O, height: Ho, width: Wo, kernel: kernelSize, stride: stride,
                padding: padding, outHeight: H, outWidth: W, columns: columns.pointer, policy: executionPolicy)
            let xn = x.pointer + n * C * P
            // dW (C, K) += x_n (C, P) · dColumnsᵀ (P, K)
            sgemm(
                transB: true, m: C, n: K, k: P, a: xn, lda: P, b: columns.pointer, ldb: P, beta: 1,
                c: dWeight.pointer, ldc: K)
            guard needsInputGradient else { continue }
            // dX_n (C, P) = W (C, K) · dColumns (K, P)
            sgemm(
                m: C, n: P, k: K, a: weight.pointer, lda: K, b: columns.pointer, ldb: P, beta: 0,
                c: dInput.pointer + n * C * P, ldc: P)
        }
        return dInput
    }
}
