// Owns the elementwise activations ReLU, LeakyReLU, Tanh, Sigmoid as forward/backward pairs.
// Any shape; dInput has the input's shape. Each keeps what its backward needs (input or output).
#if canImport(Glibc)
    import Glibc
#else
    import Foundation
#endif

/// max(0, x).
public final class ReLU: Layer {
    public var isTraining = true
    private let output = Tensor(shape: [0]), dInput = Tensor(shape: [0])
    public init() {}
    public func forward(_ x: Tensor) -> Tensor {
        output.resize(to: x.shape)
        let s = x.pointer, d = output.pointer
        for i in 0..<x.count { d[i] = max(s[i], 0) }
        return output
    }
    public func backward(_ dy: Tensor) -> Tensor {
        dy.expectShape(output.shape, "ReLU.backward dOutput")
        dInput.resize(to: dy.shape)
        let y = output.pointer, g = dy.pointer, d = dInput.pointer
        for i in 0..<dy.count { d[i] = y[i] > 0 ? g[i] : 0 }
        return dInput
    }
}

/// x for x > 0, slope·x otherwise.
public final class LeakyReLU: Layer {
    public var isTraining = true
    public let negativeSlope: Float
    private let output = Tensor(shape: [0]), dInput = Tensor(shape: [0])
    private var input: Tensor?
    public init(negativeSlope: Float = 0.01) { self.negativeSlope = negativeSlope }
    public func forward(_ x: Tensor) -> Tensor {
        input = x
        output.resize(to: x.shape)
        let s = x.pointer, d = output.pointer, a = negativeSlope
        for i in 0..<x.count { let v = s[i]; d[i] = v > 0 ? v : v * a }
        return output
    }
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("LeakyReLU.backward before forward") }
        dy.expectShape(x.shape, "LeakyReLU.backward dOutput")
        dInput.resize(to: dy.shape)
        let s = x.pointer, g = dy.pointer, d = dInput.pointer, a = negativeSlope
        for i in 0..<dy.count { d[i] = s[i] > 0 ? g[i] : g[i] * a }
        return dInput
    }
}

/// tanh(x); backward uses 1 − y².
public final class Tanh: Layer {
    public var isTraining = true
    private let output = Tensor(shape: [0]), dInput = Tensor(shape: [0])
    public init() {}
    public func forward(_ x: Tensor) -> Tensor {
        output.resize(to: x.shape)
        let s = x.pointer, d = output.pointer
        for i in 0..<x.count { d[i] = tanhf(s[i]) }
        return output
    }
    public func backward(_ dy: Tensor) -> Tensor {
        dy.expectShape(output.shape, "Tanh.backward dOutput")
        dInput.resize(to: dy.shape)
        let y = output.pointer, g = dy.pointer, d = dInput.pointer
        for i in 0..<dy.count { d[i] = g[i] * (1 - y[i] * y[i]) }
        return dInput
    }
}

/// 1/(1+e^−x), evaluated without overflow; backward uses y(1 − y).
public final class Sigmoid: Layer {
    public var isTraining = true
    private let output = Tensor(shape: [0]), dInput = Tensor(shape: [0])
    public init() {}
    public func forward(_ x: Tensor) -> Tensor {
        output.resize(to: x.shape)
        let s = x.pointer, d = output.pointer
        for i in 0..<x.count { d[i] = stableSigmoid(s[i]) }
        return output
    }
    public func backward(_ dy: Tensor) -> Tensor {
        dy.expectShape(output.shape, "Sigmoid.backward dOutput")
        dInput.resize(to: dy.shape)
        let y = output.pointer, g = dy.pointer, d = dInput.pointer
        for i in 0..<dy.count { d[i] = g[i] * y[i] * (1 - y[i]) }
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
