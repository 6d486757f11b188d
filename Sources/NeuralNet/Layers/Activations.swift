// Owns the elementwise activations ReLU, LeakyReLU, Tanh, Sigmoid as forward/backward pairs over
// one shared pair of loops. Any shape; dInput has the input's shape.
#if canImport(Glibc)
    import Glibc
#else
    import Foundation
#endif

/// max(0, x).
public final class ReLU: Layer {
    public var isTraining = true
    private let buffers = ElementwiseBuffers(name: "ReLU")
    public init() {}
    public func forward(_ x: Tensor) -> Tensor { buffers.forward(x) { max($0, 0) } }
    public func backward(_ dy: Tensor) -> Tensor { buffers.backward(dy, fromOutput: { y, g in y > 0 ? g : 0 }) }
}

/// x for x > 0, slope·x otherwise.
public final class LeakyReLU: Layer {
    public var isTraining = true
    public let negativeSlope: Float
    private let buffers = ElementwiseBuffers(name: "LeakyReLU")
    public init(negativeSlope: Float = 0.01) { self.negativeSlope = negativeSlope }
    public func forward(_ x: Tensor) -> Tensor {
        let a = negativeSlope
        return buffers.forward(x) { $0 > 0 ? $0 : $0 * a }
    }
    public func backward(_ dy: Tensor) -> Tensor {
        let a = negativeSlope
        return buffers.backward(dy, fromInput: { x, g in x > 0 ? g : g * a })
    }
}

/// tanh(x); backward uses 1 − y².
public final class Tanh: Layer {
    public var isTraining = true
    private let buffers = ElementwiseBuffers(name: "Tanh")
    public init() {}
    public func forward(_ x: Tensor) -> Tensor { buffers.forward(x) { tanhf($0) } }
    public func backward(_ dy: Tensor) -> Tensor { buffers.backward(dy, fromOutput: { y, g in g * (1 - y * y) }) }
}

/// 1/(1+e^−x), evaluated without overflow; backward uses y(1 − y).
public final class Sigmoid: Layer {
    public var isTraining = true
    private let buffers = ElementwiseBuffers(name: "Sigmoid")
    public init() {}
    public func forward(_ x: Tensor) -> Tensor { buffers.forward(x) { stableSigmoid($0) } }
    public func backward(_ dy: Tensor) -> Tensor { buffers.backward(dy, fromOutput: { y, g in g * y * (1 - y) }) }
}

/// What an elementwise activation keeps between forward and backward (its last input and its
/// output) and the loops every activation runs: the activation supplies y = f(x), and dx from y and
/// dy (or from x and dy). The closures are inlined into the loops.
final class ElementwiseBuffers {
    private let name: String
    private var input: Tensor?
    private let output = Tensor(shape: [0]), dInput = Tensor(shape: [0])

    init(name: String) { self.name = name }

    /// y[i] = f(x[i]); returns y (owned here, x's shape).
    @inline(__always)
    func forward(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        input = x
        output.resize(to: x.shape)
        let s = x.pointer, d = output.pointer
        for i in 0..<x.count { d[i] = f(s[i]) }
        return output
    }

    /// dx[i] = gradient(y[i], dy[i]) with y the last forward's output; returns dx (owned here).
    @inline(__always)
    func backward(_ dy: Tensor, fromOutput gradient: (_ y: Float, _ dy: Float) -> Float) -> Tensor {
        backward(dy, reading: output, gradient)
    }

    /// dx[i] = gradient(x[i], dy[i]) with x the last forward's input; returns dx (owned here).
    @inline(__always)
    func backward(_ dy: Tensor, fromInput gradient: (_ x: Float, _ dy: Float) -> Float) -> Tensor {
        guard let x = input else { preconditionFailure("\(name).backward before forward") }
        return backward(dy, reading: x, gradient)
    }

    @inline(__always)
    private func backward(_ dy: Tensor, reading kept: Tensor, _ gradient: (Float, Float) -> Float) -> Tensor {
        dy.expectShape(output.shape, "\(name).backward dOutput")
        dInput.resize(to: dy.shape)
        let k = kept.pointer, g = dy.pointer, d = dInput.pointer
        for i in 0..<dy.count { d[i] = gradient(k[i], g[i]) }
        return dInput
    }
}

/// σ(x) without overflow for large |x|.
@inline(__always)
public func stableSigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + expf(-x)) }
    let e = expf(x)
    return e / (1 + e)
}
