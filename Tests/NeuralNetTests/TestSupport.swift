// Test helpers: approximate equality with explicit tolerances, random tensors, central-difference
// gradient checks over inputs and parameters, and spectral-norm convergence for FD checks.
import XCTest

@testable import NeuralNet

/// |a − b| ≤ atol + rtol · max(|a|, |b|).
func isClose(_ a: Double, _ b: Double, rtol: Double, atol: Double) -> Bool {
    abs(a - b) <= atol + rtol * max(abs(a), abs(b))
}

func assertClose(
    _ a: Float, _ b: Float, rtol: Double, atol: Double = 0, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssert(
        isClose(Double(a), Double(b), rtol: rtol, atol: atol),
        "\(a) vs \(b) (rtol \(rtol), atol \(atol)) \(message())", file: file, line: line)
}

func assertClose(
    _ a: [Float], _ b: [Float], rtol: Double, atol: Double = 0, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.count, b.count, "count mismatch \(message())", file: file, line: line)
    var bad = 0
    for i in 0..<min(a.count, b.count) where !isClose(Double(a[i]), Double(b[i]), rtol: rtol, atol: atol) {
        if bad < 5 { XCTFail("[\(i)] \(a[i]) vs \(b[i]) (rtol \(rtol), atol \(atol)) \(message())", file: file, line: line) }
        bad += 1
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let t = Tensor(shape: shape)
    Initializer.normal(t, std: std, rng: &rng)
    return t
}

/// Σ r ⊙ y in Double.
func dot(_ r: Tensor, _ y: Tensor) -> Double {
    precondition(r.count == y.count)
    var s = 0.0
    for i in 0..<r.count { s += Double(r.pointer[i]) * Double(y.pointer[i]) }
    return s
}

/// Runs every SN layer's power iteration to convergence (found by reflection), so that the gradient
/// through u and v vanishes and finite differences match the u,v-constant analytic gradient.
func convergeSpectralNorms(_ root: Any, iterations: Int = 500) {
    var seen = Set<ObjectIdentifier>()
    func visit(_ x: Any) {
        if let sn = x as? SpectralNormConvergeable {
            guard seen.insert(ObjectIdentifier(sn)).inserted else { return }
            sn.convergePowerIteration(iterations: iterations)
        }
        for child in Mirror(reflecting: x).children { visit(child.value) }
    }
    visit(root)
}

protocol SpectralNormConvergeable: AnyObject { func convergePowerIteration(iterations: Int) }
extension SpectralNorm: SpectralNormConvergeable {
    func convergePowerIteration(iterations: Int) {
        let saved = isTraining, p = powerIterations
        isTraining = true; powerIterations = iterations
        updateNormalizedWeight()
        isTraining = saved; powerIterations = p
    }
}

/// Central-difference gradient check of a module.
/// - `loss` runs a forward and returns the scalar L (Double).
/// - `backward` runs forward + backward for the same L and returns dL/dInput (or nil).
/// Buffers (SN u, BN statistics) are restored before every evaluation. Compares up to `samples`
/// coordinates per tensor with |a − n| ≤ atol + rtol·max(|a|, |n|).
func gradientCheck(
    module: Module, input: Tensor?, step: Float, rtol: Double, atol: Double, samples: Int = 12,
    checkParameters: Bool = true, parameterFilter: (String) -> Bool = { _ in true }, seed: UInt64 = 99,
    loss: () -> Double, backward: () -> Tensor?, file: StaticString = #filePath, line: UInt = #line
) {
    let buffers = module.namedBuffers().map { ($0.value, $0.value.copy()) }
    func restore() { for (t, s) in buffers { t.copy(from: s) } }
    restore()
    module.zeroGradients()
    let dInput = backward()?.copy()
    let params = module.namedParameters()
    let analytic = params.map { $0.gradient.copy() }
    var rng = RandomGenerator(seed: seed)
    func indices(_ n: Int) -> [Int] {
        if n <= samples { return Array(0..<n) }
        return (0..<samples).map { _ in Int(rng.next() % UInt64(n)) }
    }
    func numeric(_ t: Tensor, _ i: Int) -> Double {
        let orig = t.pointer[i]
        let plus = orig + step, minus = orig - step
        t.pointer[i] = plus; restore(); let lp = loss()
        t.pointer[i] = minus; restore(); let lm = loss()
        t.pointer[i] = orig; restore()
        return (lp - lm) / (Double(plus) - Double(minus))
    }
    var failures = 0
    func check(_ name: String, _ t: Tensor, _ g: Tensor) {
        for i in indices(t.count) {
            let n = numeric(t, i), a = Double(g.pointer[i])
            if !isClose(a, n, rtol: rtol, atol: atol) {
                failures += 1
                if failures <= 8 {
                    XCTFail(
                        "gradient \(name)[\(i)]: analytic \(a) vs numeric \(n) (rtol \(rtol), atol \(atol))",
                        file: file, line: line)
                }
            }
        }
    }
    if let input, let dInput { check("input", input, dInput) }
    if checkParameters { for (k, p) in params.enumerated() where parameterFilter(p.name) { check(p.name, p.value, analytic[k]) } }
    restore()
}

/// Gradient check for a single layer with L = Σ r ⊙ layer(x), r ~ N(0, 1).
func layerGradientCheck(
    _ layer: Layer, input: Tensor, step: Float, rtol: Double, atol: Double, samples: Int = 12,
    file: StaticString = #filePath, line: UInt = #line
) {
    let y = layer.forward(input)
    let r = randomTensor(y.shape, seed: 4242)
    gradientCheck(
        module: layer, input: input, step: step, rtol: rtol, atol: atol, samples: samples,
        loss: { dot(r, layer.forward(input)) },
        backward: {
            _ = layer.forward(input); return layer.backward(r)
        }, file: file, line: line)
}
