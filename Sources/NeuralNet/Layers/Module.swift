// Owns the layer protocol (a forward/backward pair) and the parameter registry: every module lists
// its trainable parameters (with their gradients) and its buffers by contract key name, from which
// state dictionaries, loading, zeroing gradients and optimizers are derived.

/// A trainable tensor and its gradient, under its state-dictionary key (e.g. "block1.conv1.weight").
public struct NamedParameter {
    public var name: String
    /// The parameter (shared with the layer).
    public var value: Tensor
    /// Its gradient, same shape; backward passes accumulate (+=) into it.
    public var gradient: Tensor
    public init(name: String, value: Tensor, gradient: Tensor) {
        self.name = name; self.value = value; self.gradient = gradient
    }
}

/// A non-trainable persistent tensor (spectral-norm u, BatchNorm running statistics).
public struct NamedBuffer {
    public var name: String
    public var value: Tensor
    public init(name: String, value: Tensor) { self.name = name; self.value = value }
}

/// Something with parameters, buffers and a training/eval mode.
public protocol Module: AnyObject {
    /// Training mode (batch statistics, power iterations) or eval mode (frozen statistics).
    var isTraining: Bool { get set }
    /// Trainable parameters in a fixed order, with names local to this module.
    func namedParameters() -> [NamedParameter]
    /// Persistent buffers in a fixed order, with names local to this module.
    func namedBuffers() -> [NamedBuffer]
    /// Sets how this module and every module inside it run (threads, convolution algorithm); a
    /// module that runs nothing in parallel ignores it.
    func setExecutionPolicy(_ policy: ExecutionPolicy)
}

/// A forward/backward pair. `forward` returns a tensor the layer owns (valid until its next
/// forward); `backward` takes dLoss/dOutput and returns dLoss/dInput (owned by the layer), and
/// ACCUMULATES (+=) into the parameter gradients. The layer keeps a reference to its last input,
/// which callers must not modify before `backward`.
public protocol Layer: Module {
    func forward(_ input: Tensor) -> Tensor
    func backward(_ dOutput: Tensor) -> Tensor
}

extension Module {
    public func namedParameters() -> [NamedParameter] { [] }
    public func namedBuffers() -> [NamedBuffer] { [] }
    public func setExecutionPolicy(_ policy: ExecutionPolicy) {}

    /// Sets training mode (chainable helper).
    public func train(_ on: Bool = true) { isTraining = on }
    /// Sets eval mode.
    public func eval() { isTraining = false }

    /// Sets every parameter gradient to zero.
    public func zeroGradients() { for p in namedParameters() { p.gradient.zero() } }

    /// The number of trainable scalars.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.value.count } }

    /// Copies of every parameter and buffer by key.
    public func stateDictionary() -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        for p in namedParameters() { d[p.name] = p.value.copy() }
        for b in namedBuffers() { d[b.name] = b.value.copy() }
        return d
    }

    /// Loads every parameter and buffer from `stateDictionary` (copying). Throws naming the first
    /// missing or mis-shaped key; with `strict`, also throws on keys the module does not have.
    /// Nothing is modified unless every key checks out.
    public func load(stateDictionary: [String: Tensor], strict: Bool = true) throws {
        let targets: [(String, Tensor)] =
            namedParameters().map { ($0.name, $0.value) }
            + namedBuffers().map { ($0.name, $0.value) }
        for (name, t) in targets {
            guard let source = stateDictionary[name] else { throw NeuralNetError.missingKey(name) }
            guard source.shape == t.shape else {
                throw NeuralNetError.shapeMismatch(key: name, expected: t.shape, got: source.shape)
            }
        }
        if strict {
            let known = Set(targets.map { $0.0 })
            let extra = stateDictionary.keys.filter { !known.contains($0) }
            if !extra.isEmpty { throw NeuralNetError.unexpectedKeys(extra) }
        }
        for (name, t) in targets { t.copy(from: stateDictionary[name]!) }  // every key checked above
    }
}

/// Prefixes local names with "<prefix>." (helper for containers, here and in modules built on NeuralNet).
@inline(__always)
public func prefixed(_ prefix: String, _ list: [NamedParameter]) -> [NamedParameter] {
    list.map { NamedParameter(name: prefix + "." + $0.name, value: $0.value, gradient: $0.gradient) }
}

@inline(__always)
public func prefixed(_ prefix: String, _ list: [NamedBuffer]) -> [NamedBuffer] {
    list.map { NamedBuffer(name: prefix + "." + $0.name, value: $0.value) }
}

/// A module made of named sub-modules (a network, a stage): its parameters and buffers are theirs,
/// keys prefixed with "<name>.", in the order of `children`.
public protocol ModuleContainer: Module {
    /// Sub-modules under their state-dictionary prefixes, in forward order.
    var children: [(String, Module)] { get }
}

extension ModuleContainer {
    public func namedParameters() -> [NamedParameter] { children.flatMap { prefixed($0.0, $0.1.namedParameters()) } }
    public func namedBuffers() -> [NamedBuffer] { children.flatMap { prefixed($0.0, $0.1.namedBuffers()) } }
    public func setExecutionPolicy(_ policy: ExecutionPolicy) { for (_, child) in children { child.setExecutionPolicy(policy) } }

    /// Puts every child in this container's mode (call from `isTraining`'s `didSet`).
    public func propagateTrainingMode() { for (_, child) in children { child.isTraining = isTraining } }
}

/// A layer with a weight and optional bias that spectral normalization can wrap (Conv2D, Linear).
public protocol WeightedLayer: Layer {
    /// (Out, In, kH, kW) or (Out, In).
    var weight: Tensor { get }
    var dWeight: Tensor { get }
    /// (Out) or nil.
    var bias: Tensor? { get }
    var dBias: Tensor? { get }
}

extension WeightedLayer {
    /// `weight`, then `bias` if there is one (PyTorch's state-dictionary names).
    public func namedParameters() -> [NamedParameter] {
        var list = [NamedParameter(name: "weight", value: weight, gradient: dWeight)]
        if let bias, let dBias { list.append(NamedParameter(name: "bias", value: bias, gradient: dBias)) }
        return list
    }
}
