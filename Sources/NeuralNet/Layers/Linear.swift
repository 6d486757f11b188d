// Owns Linear: y = x Wᵀ + b with PyTorch's (Out, In) weight layout, one SGEMM each way.
// Glossary: N batch, I input features, O output features. Inputs (N, ...) are flattened to (N, I),
// so (N, C, 1, 1) or a (N, C*H*W) view both work; dInput has the input's shape.

/// Fully connected layer.
public final class Linear: WeightedLayer {
    public let inFeatures: Int, outFeatures: Int
    public var isTraining = true
    public var needsInputGradient = true

    public let weight: Tensor  // (O, I)
    public let dWeight: Tensor  // (O, I)
    public let bias: Tensor?  // (O)
    public let dBias: Tensor?  // (O)

    private let output = Tensor(shape: [0])  // (N, O)
    private let dInput = Tensor(shape: [0])  // like input
    private var input: Tensor?

    /// A linear layer with PyTorch's default init.
    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, rng: inout RandomGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear: invalid sizes")
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        weight = Tensor(shape: [outFeatures, inFeatures])
        dWeight = Tensor(shape: weight.shape)
        self.bias = bias ? Tensor(shape: [outFeatures]) : nil
        dBias = bias ? Tensor(shape: [outFeatures]) : nil
        Initializer.pytorchDefault(weight: weight, bias: self.bias, rng: &rng)
    }

    /// 2·N·I·O.
    public func forwardFLOPs(batch: Int) -> Double { 2 * Double(batch * inFeatures * outFeatures) }

    public func forward(_ x: Tensor) -> Tensor {  // x: (N, I) or (N, ...) with I elements per sample
        precondition(
            x.shape.count >= 1 && x.count == x.shape[0] * inFeatures,
            "Linear.forward: expected (N, \(inFeatures)) elements per sample, got shape \(x.shape)")
        let N = x.shape[0]
        input = x
        output.resize(to: [N, outFeatures])
        sgemm(
            transB: true, m: N, n: outFeatures, k: inFeatures, a: x.pointer, lda: inFeatures,
            b: weight.pointer, ldb: inFeatures, beta: 0, c: output.pointer, ldc: outFeatures)
        if let bias {
            for n in 0..<N { for o in 0..<outFeatures { output.pointer[n * outFeatures + o] += bias.pointer[o] } }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {  // dy: (N, O) (any shape with N*O elements)
        guard let x = input else { preconditionFailure("Linear.backward before forward") }
        let N = x.shape[0]
        precondition(dy.count == N * outFeatures, "Linear.backward: dOutput shape \(dy.shape), expected (\(N), \(outFeatures))")
        // dW (O, I) += dyᵀ (O, N) · x (N, I)
        sgemm(
            transA: true, m: outFeatures, n: inFeatures, k: N, a: dy.pointer, lda: outFeatures,
            b: x.pointer, ldb: inFeatures, beta: 1, c: dWeight.pointer, ldc: inFeatures)
        if let dBias {
            for n in 0..<N { for o in 0..<outFeatures { dBias.pointer[o] += dy.pointer[n * outFeatures + o] } }
        }
        guard needsInputGradient else { dInput.resize(to: [0]); return dInput }
        dInput.resize(to: x.shape)
        // dX (N, I) = dy (N, O) · W (O, I)
        sgemm(
            m: N, n: inFeatures, k: outFeatures, a: dy.pointer, lda: outFeatures,
            b: weight.pointer, ldb: inFeatures, beta: 0, c: dInput.pointer, ldc: inFeatures)
        return dInput
    }
}
