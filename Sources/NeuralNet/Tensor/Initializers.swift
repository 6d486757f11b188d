// Owns weight initialization: normal, uniform, Kaiming (He et al. 2015), Xavier (Glorot & Bengio
// 2010), orthogonal (Saxe et al. 2014), and PyTorch's default Conv/Linear init. All draw from a
// caller-provided seeded `RandomGenerator`, so the same seed gives the same network.

/// Fills tensors with random initial values.
public enum Initializer {
    /// fan_in and fan_out of a weight (Out, In, kH, kW) or (Out, In), as in PyTorch.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "fans need a weight with ≥ 2 dims, got \(shape)")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// Fills with N(mean, std²).
    public static func normal(_ t: Tensor, mean: Float = 0, std: Float, rng: inout RandomGenerator) {
        for i in 0..<t.count { t.pointer[i] = rng.normal(mean: mean, std: std) }
    }

    /// Fills with U(low, high).
    public static func uniform(_ t: Tensor, low: Float, high: Float, rng: inout RandomGenerator) {
        for i in 0..<t.count { t.pointer[i] = rng.uniform(low, high) }
    }

    /// Kaiming-normal: N(0, gain²/fan_in) with gain √(2/(1+a²)) (He et al. 2015).
    public static func kaimingNormal(_ t: Tensor, negativeSlope a: Float = 0, rng: inout RandomGenerator) {
        let gain = (2 / (1 + a * a)).squareRoot()
        normal(t, std: gain / Float(fans(t.shape).fanIn).squareRoot(), rng: &rng)
    }

    /// Kaiming-uniform: U(−b, b), b = gain·√(3/fan_in) (He et al. 2015).
    public static func kaimingUniform(_ t: Tensor, negativeSlope a: Float = 0, rng: inout RandomGenerator) {
        let gain = (2 / (1 + a * a)).squareRoot()
        let bound = gain * (3 / Float(fans(t.shape).fanIn)).squareRoot()
        uniform(t, low: -bound, high: bound, rng: &rng)
    }

    /// Xavier-uniform: U(−b, b), b = gain·√(6/(fan_in+fan_out)) (Glorot & Bengio 2010).
    public static func xavierUniform(_ t: Tensor, gain: Float = 1, rng: inout RandomGenerator) {
        let f = fans(t.shape)
        let bound = gain * (6 / Float(f.fanIn + f.fanOut)).squareRoot()
        uniform(t, low: -bound, high: bound, rng: &rng)
    }

    /// Xavier-normal: N(0, gain²·2/(fan_in+fan_out)).
    public static func xavierNormal(_ t: Tensor, gain: Float = 1, rng: inout RandomGenerator) {
        let f = fans(t.shape)
        normal(t, std: gain * (2 / Float(f.fanIn + f.fanOut)).squareRoot(), rng: &rng)
    }

    /// Orthogonal: the weight viewed as (Out, rest) gets orthonormal rows (or columns when Out > rest),
    /// by Gram–Schmidt in Double on a normal matrix (Saxe et al. 2014).
    public static func orthogonal(_ t: Tensor, gain: Float = 1, rng: inout RandomGenerator) {
        let rows = t.shape[0], cols = t.count / max(rows, 1)
        let transposed = rows > cols
        let r = transposed ? cols : rows, c = transposed ? rows : cols  // r ≤ c, orthonormalize r vectors of length c
        var m = [Double](repeating: 0, count: r * c)
        for i in 0..<(r * c) { m[i] = Double(rng.normal()) }
        for i in 0..<r {
            for j in 0..<i {
                var dot = 0.0
                for k in 0..<c { dot += m[i * c + k] * m[j * c + k] }
                for k in 0..<c { m[i * c + k] -= dot * m[j * c + k] }
            }
            var norm = 0.0
            for k in 0..<c { norm += m[i * c + k] * m[i * c + k] }
            norm = max(norm.squareRoot(), 1e-12)
            for k in 0..<c { m[i * c + k] /= norm }
        }
        for i in 0..<rows {
            for j in 0..<cols {
                let value = transposed ? m[j * c + i] : m[i * c + j]
                t.pointer[i * cols + j] = gain * Float(value)
            }
        }
    }

    /// PyTorch's default Conv/Linear init: weight and bias U(−1/√fan_in, 1/√fan_in)
    /// (kaiming_uniform with a = √5).
    public static func pytorchDefault(weight: Tensor, bias: Tensor?, rng: inout RandomGenerator) {
        let bound = 1 / Float(fans(weight.shape).fanIn).squareRoot()
        uniform(weight, low: -bound, high: bound, rng: &rng)
        if let bias { uniform(bias, low: -bound, high: bound, rng: &rng) }
    }
}
