// RNG determinism and pinned values, tensor basics, spectral-norm σ tracking, Adam against hand
// computation, losses (values and finite-difference gradients), state dictionaries.
import XCTest

@testable import NeuralNet

final class RandomTests: XCTestCase {
    func testSameSeedSameNumbers() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let xa = (0..<100).map { _ in a.normal() }, xb = (0..<100).map { _ in b.normal() }
        let xc = (0..<100).map { _ in c.normal() }
        XCTAssertEqual(xa, xb)
        XCTAssertNotEqual(xa, xc)
    }

    func testPinnedValues() {
        // SplitMix64(0) first output is the published 0xE220A8397B1DCDAF.
        XCTAssertEqual(RandomGenerator(seed: 0).state[0], 0xE220_A839_7B1D_CDAF)
        var r = RandomGenerator(seed: 0)
        XCTAssertEqual(r.next(), PinnedRandom.firstUInt64Seed0)
        var u = RandomGenerator(seed: 7)
        XCTAssertEqual((0..<3).map { _ in u.uniform() }, PinnedRandom.uniformsSeed7)
        var n = RandomGenerator(seed: 7)
        // Box–Muller through libm log/cos: equal to 1 ulp-ish, rtol 1e-6.
        assertClose((0..<3).map { _ in n.normal() }, PinnedRandom.normalsSeed7, rtol: 1e-6)
    }

    func testStateRoundTrip() throws {
        var a = RandomGenerator(seed: 5)
        _ = a.next(); _ = a.normal()
        var b = try RandomGenerator(state: a.state)
        XCTAssertEqual((0..<10).map { _ in a.next() }, (0..<10).map { _ in b.next() })
        XCTAssertThrowsError(try RandomGenerator(state: [0, 0, 0, 0]))
    }

    func testNormalMoments() {
        var r = RandomGenerator(seed: 11)
        let xs = (0..<20000).map { _ in Double(r.normal()) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
    }

    func testOrthogonalInit() {
        var r = RandomGenerator(seed: 3)
        let w = Tensor(shape: [4, 2, 3])  // rows 4, cols 6 → orthonormal rows
        Initializer.orthogonal(w, rng: &r)
        for i in 0..<4 {
            for j in 0..<4 {
                var d: Float = 0
                for k in 0..<6 { d += w.pointer[i * 6 + k] * w.pointer[j * 6 + k] }
                XCTAssertEqual(d, i == j ? 1 : 0, accuracy: 1e-5)
            }
        }
    }
}

final class TensorTests: XCTestCase {
    func testResizeReusesStorageAndValidatingInit() throws {
        let t = Tensor(shape: [2, 3, 4, 5])
        let p = t.pointer
        t.resize(to: [1, 3, 4, 5])
        XCTAssertEqual(t.pointer, p)
        XCTAssertEqual(t.count, 60)
        t.reshape(to: [60])
        XCTAssertEqual(t.shape, [60])
        XCTAssertThrowsError(try Tensor(validatingShape: [2, 2], data: [1, 2, 3]))
        XCTAssertEqual(try Tensor(validatingShape: [1, 2], data: [1, 2]).array, [1, 2])
        let u = Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        XCTAssertEqual(u[0, 0, 1, 0], 3)
    }
}

final class SpectralNormTests: XCTestCase {
    override func setUp() { BLASRuntime.ensureFastKernel() }

    /// Largest singular value by 2000 power iterations on WᵀW in Double.
    func referenceSigma(_ w: Tensor) -> Double {
        let rows = w.shape[0], cols = w.count / rows
        var v = [Double](repeating: 1, count: cols)
        var sigma = 0.0
        for _ in 0..<2000 {
            var u = [Double](repeating: 0, count: rows)
            for i in 0..<rows { for j in 0..<cols { u[i] += Double(w.pointer[i * cols + j]) * v[j] } }
            var nv = [Double](repeating: 0, count: cols)
            for i in 0..<rows { for j in 0..<cols { nv[j] += Double(w.pointer[i * cols + j]) * u[i] } }
            let norm = nv.map { $0 * $0 }.reduce(0, +).squareRoot()
            v = nv.map { $0 / norm }
            sigma = norm.squareRoot()  // ||WᵀW v|| → σ²
        }
        return sigma
    }

    func testSigmaTracksLargestSingularValue() {
        var rng = RandomGenerator(seed: 30)
        let sn = SNConv2D(inChannels: 4, outChannels: 8, kernelSize: 3, padding: 1, rng: &rng)
        let x = randomTensor([1, 4, 5, 5], seed: 31)
        for _ in 0..<300 { _ = sn.forward(x) }
        // rtol 1e-4 against the Double reference
        assertClose(sn.sigma, Float(referenceSigma(sn.weight)), rtol: 1e-4)
        // W_sn has spectral norm 1
        assertClose(Float(referenceSigma(sn.inner.weight)), 1, rtol: 1e-4)
    }

    func testEvalFreezesU() {
        var rng = RandomGenerator(seed: 32)
        let sn = SNLinear(inFeatures: 5, outFeatures: 3, rng: &rng)
        let x = randomTensor([2, 5], seed: 33)
        _ = sn.forward(x)
        let u = sn.u.array
        sn.eval()
        _ = sn.forward(x); _ = sn.forward(x)
        XCTAssertEqual(sn.u.array, u)
        sn.train()
        _ = sn.forward(x)
        XCTAssertNotEqual(sn.u.array, u)
    }

    func testOnePowerIterationMatchesContract() {
        // v = normalize(Wᵀu0); u = normalize(W v); σ = uᵀWv — computed by hand in Double, rtol 1e-5.
        var rng = RandomGenerator(seed: 34)
        let sn = SNLinear(inFeatures: 4, outFeatures: 3, rng: &rng)
        let w = sn.weight.array.map(Double.init), u0 = sn.u.array.map(Double.init)
        var v = (0..<4).map { j in (0..<3).reduce(0.0) { $0 + w[$1 * 4 + j] * u0[$1] } }
        let nv = v.map { $0 * $0 }.reduce(0, +).squareRoot(); v = v.map { $0 / nv }
        var u = (0..<3).map { i in (0..<4).reduce(0.0) { $0 + w[i * 4 + $1] * v[$1] } }
        let nu = u.map { $0 * $0 }.reduce(0, +).squareRoot(); u = u.map { $0 / nu }
        let sigma = (0..<3).reduce(0.0) { acc, i in acc + u[i] * (0..<4).reduce(0.0) { $0 + w[i * 4 + $1] * v[$1] } }
        _ = sn.forward(randomTensor([1, 4], seed: 35))
        assertClose(sn.sigma, Float(sigma), rtol: 1e-5)
        assertClose(sn.u.array, u.map(Float.init), rtol: 1e-5, atol: 1e-6)
        assertClose(sn.inner.weight.array, w.map { Float($0 / sigma) }, rtol: 1e-5, atol: 1e-6)
    }
}

final class AdamTests: XCTestCase {
    func testTwoStepsHandComputed() {
        // p = [1, −2], g = [0.5, −1]; m̂ = g and v̂ = g² for constant g, so each step moves lr·g/(|g|+eps).
        let p = Tensor(shape: [2], data: [1, -2]), g = Tensor(shape: [2], data: [0.5, -1])
        let adam = Adam(parameters: [NamedParameter(name: "p", value: p, gradient: g)], learningRate: 0.1)
        adam.step()
        assertClose(p.array, [0.9, -1.9], rtol: 1e-6)
        adam.step()
        assertClose(p.array, [0.8, -1.8], rtol: 1e-6)
        XCTAssertEqual(adam.stepCount, 2)
    }

    func testVaryingGradientsWeightDecaySAGANBetas() {
        // Reference in Double following torch.optim.Adam's algorithm; rtol 1e-5.
        let p = Tensor(shape: [3], data: [0.3, -0.7, 1.2]), g = Tensor(shape: [3])
        let lr = 2e-4, b1 = 0.0, b2 = 0.9, eps = 1e-8, wd = 0.01
        let adam = Adam(
            parameters: [NamedParameter(name: "w", value: p, gradient: g)], learningRate: Float(lr),
            betas: (Float(b1), Float(b2)), eps: Float(eps), weightDecay: Float(wd))
        var rp = [0.3, -0.7, 1.2], m = [0.0, 0, 0], v = [0.0, 0, 0]
        let grads: [[Double]] = [[0.1, -0.2, 0.05], [0.3, 0.1, -0.4], [-0.2, 0.0, 0.1]]
        for (t, gr) in grads.enumerated() {
            for i in 0..<3 { g.pointer[i] = Float(gr[i]) }
            adam.step()
            for i in 0..<3 {
                let gi = gr[i] + wd * rp[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                let bc1 = 1 - pow(b1, Double(t + 1)), bc2 = 1 - pow(b2, Double(t + 1))
                rp[i] -= lr / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + eps)
            }
            assertClose(p.array, rp.map(Float.init), rtol: 1e-5)
        }
    }

    func testStateRoundTrip() throws {
        let p = Tensor(shape: [2], data: [1, 2]), g = Tensor(shape: [2], data: [0.1, -0.1])
        let a = Adam(parameters: [NamedParameter(name: "p", value: p, gradient: g)])
        a.step()
        let state = a.stateDictionary()
        XCTAssertEqual(state.keys.sorted(), ["p.exp_avg", "p.exp_avg_sq", "step"])
        let p2 = p.copy()
        let b = Adam(parameters: [NamedParameter(name: "p", value: p2, gradient: g)])
        try b.load(stateDictionary: state)
        a.step(); b.step()
        XCTAssertEqual(p.array, p2.array)
        XCTAssertThrowsError(try b.load(stateDictionary: ["step": Tensor(shape: [1])])) { error in
            XCTAssertEqual(error as? NeuralNetError, .missingKey("p.exp_avg"))
        }
    }

    /// A training rollback restores the optimizer it snapshotted, whatever its step: a state dictionary
    /// stores the step as a Float, which above 2²⁴ rounds it (2²⁴ + 1 reads back as 2²⁴) or is refused
    /// when read back (2²⁴ + 2), and the refusal crashed a rollback that went through it.
    func testASnapshotRestoresAStepNoStateDictionaryCanHold() throws {
        let p = Tensor(shape: [2], data: [1, 2]), g = Tensor(shape: [2], data: [0.1, -0.1])
        let a = Adam(parameters: [NamedParameter(name: "p", value: p, gradient: g)])
        var state = a.stateDictionary()
        state["step"] = Tensor(shape: [1], data: [Float(1 << 24)])
        try a.load(stateDictionary: state)
        a.step(); a.step()
        XCTAssertEqual(a.stepCount, (1 << 24) + 2)
        XCTAssertThrowsError(try a.load(stateDictionary: a.stateDictionary()))
        let snapshot = a.snapshot(), moments = a.stateDictionary()
        a.step(); a.step()
        a.restore(snapshot)
        XCTAssertEqual(a.stepCount, (1 << 24) + 2)
        for (key, value) in a.stateDictionary() { XCTAssertEqual(value.array, moments[key]?.array, key) }
    }

    /// A checkpoint's step is a Float from the file; converting NaN, an infinity or 1e30 to Int trapped
    /// (found by the model-files fuzz target). Such a step is refused and the state left as it was.
    func testAStepThatIsNotAWholeNumberInRangeIsRefused() throws {
        let p = Tensor(shape: [2], data: [1, 2]), g = Tensor(shape: [2], data: [0.1, -0.1])
        let a = Adam(parameters: [NamedParameter(name: "p", value: p, gradient: g)])
        a.step()
        let before = a.stateDictionary()
        for bad: Float in [.nan, .infinity, -.infinity, 1e30, -1, 2.5] {
            var state = before
            state["step"] = Tensor(shape: [1], data: [bad])
            XCTAssertThrowsError(try a.load(stateDictionary: state), "\(bad)") { error in
                guard case .invalidState = error as? NeuralNetError else { return XCTFail("\(bad): \(error)") }
            }
        }
        XCTAssertEqual(a.stateDictionary()["step"]?.array, before["step"]?.array)
        XCTAssertEqual(a.stateDictionary()["p.exp_avg"]?.array, before["p.exp_avg"]?.array)
    }
}

final class LossTests: XCTestCase {
    func lossGradientCheck(
        _ f: (Tensor, Tensor) -> Float, _ x: Tensor, step: Float, rtol: Double, atol: Double,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let d = Tensor(shape: [0]), scratch = Tensor(shape: [0])
        _ = f(x, d)
        for i in 0..<x.count {
            let o = x.pointer[i]
            x.pointer[i] = o + step; let lp = Double(f(x, scratch))
            x.pointer[i] = o - step; let lm = Double(f(x, scratch))
            x.pointer[i] = o
            let n = (lp - lm) / (Double(o + step) - Double(o - step))
            XCTAssert(
                isClose(Double(d.pointer[i]), n, rtol: rtol, atol: atol), "[\(i)] \(d.pointer[i]) vs \(n)",
                file: file, line: line)
        }
    }

    func testHingeValuesAndGradients() {
        let real = Tensor(shape: [4], data: [2, 0.5, -1, 0.9]), fake = Tensor(shape: [2], data: [-2, 0.5])
        let dr = Tensor(shape: [0]), df = Tensor(shape: [0])
        let l = Losses.hingeDiscriminator(real: real, fake: fake, dReal: dr, dFake: df)
        // mean(relu(1−r)) = (0 + 0.5 + 2 + 0.1)/4 = 0.65; mean(relu(1+f)) = (0 + 1.5)/2 = 0.75
        assertClose(l, 1.4, rtol: 1e-6)
        assertClose(dr.array, [0, -0.25, -0.25, -0.25], rtol: 1e-6)
        assertClose(df.array, [0, 0.5], rtol: 1e-6)
        let dg = Tensor(shape: [0])
        assertClose(Losses.hingeGenerator(fake: fake, dFake: dg), 0.75, rtol: 1e-6)
        assertClose(dg.array, [-0.5, -0.5], rtol: 1e-6)
        // FD on the D loss, fake side (kink-free points); step 1e-2, rtol 1e-3, atol 1e-5
        lossGradientCheck(
            { x, d in Losses.hingeDiscriminator(real: real, fake: x, dReal: Tensor(shape: [0]), dFake: d) },
            Tensor(shape: [3], data: [-1.5, 0.3, 2]), step: 1e-2, rtol: 1e-3, atol: 1e-5)
    }

    func testWasserstein() {
        let real = Tensor(shape: [2], data: [1, 3]), fake = Tensor(shape: [2], data: [0, -1])
        let dr = Tensor(shape: [0]), df = Tensor(shape: [0])
        assertClose(Losses.wassersteinCritic(real: real, fake: fake, dReal: dr, dFake: df), -2.5, rtol: 1e-6)
        assertClose(dr.array, [-0.5, -0.5], rtol: 1e-6)
        assertClose(df.array, [0.5, 0.5], rtol: 1e-6)
        let dg = Tensor(shape: [0])
        assertClose(Losses.wassersteinGenerator(fake: fake, dFake: dg), 0.5, rtol: 1e-6)
        lossGradientCheck(
            { x, d in Losses.wassersteinGenerator(fake: x, dFake: d) }, randomTensor([5], seed: 1),
            step: 1e-2, rtol: 1e-3, atol: 1e-5)
    }

    func testBCEWithLogitsStableAndGradient() {
        let t = Tensor(shape: [4], data: [1, 0, 1, 0])
        let x = Tensor(shape: [4], data: [100, -100, -100, 0])
        let d = Tensor(shape: [0])
        let l = Losses.bceWithLogits(logits: x, targets: t, dLogits: d)
        // (0 + 0 + 100 + log 2)/4, no overflow
        assertClose(l, Float((100 + log(2.0)) / 4), rtol: 1e-6)
        XCTAssert(d.array.allSatisfy { $0.isFinite })
        let target = Tensor(shape: [5], data: [1, 0, 0.3, 1, 0])
        lossGradientCheck(
            { x, d in Losses.bceWithLogits(logits: x, targets: target, dLogits: d) },
            randomTensor([5], seed: 2, std: 2), step: 1e-2, rtol: 1e-3, atol: 1e-5)
    }

    func testPooledBCEWithLogitsValuesGradientsAndLimits() {
        // Two rows by hand: row 0 pools every cell, target 0; row 1 pools cells 0 and 2, target 1.
        let x = Tensor(shape: [2, 3], data: [1, 2, 3, -1, 5, 0]), pool = Tensor(shape: [2, 3], data: [1, 1, 1, 1, 0, 1])
        let d = Tensor(shape: [0])
        let l = Losses.pooledBCEWithLogits(logits: x, pool: pool, targets: [0, 1], temperature: 1, dLogits: d)
        func softplus(_ v: Double) -> Double { log(1 + exp(v)) }
        let s0 = log((exp(1.0) + exp(2.0) + exp(3.0)) / 3), s1 = log((exp(-1.0) + exp(0.0)) / 2)
        assertClose(l, Float((softplus(s0) + softplus(-s1)) / 2), rtol: 1e-6)
        XCTAssertEqual(d.pointer[4], 0, "a cell outside the pool gets no gradient")
        // Row 0's gradient is σ(s0)/2 spread by the softmax of its cells.
        let sigma0 = 1 / (1 + exp(-s0)), z0 = exp(1.0) + exp(2.0) + exp(3.0)
        assertClose(Array(d.array[0..<3]), [1.0, 2.0, 3.0].map { Float(sigma0 / 2 * exp($0) / z0) }, rtol: 1e-5)
        // Finite differences with fractional pool weights and an excluded cell per row, τ = 1 and 0.5;
        // step 1e-2, rtol 1e-3, atol 1e-5 as the other losses.
        let weights = Tensor(shape: [3, 4], data: [1, 0.5, 0, 1, 0, 0, 1, 1, 0.25, 1, 1, 0])
        for temperature: Float in [1, 0.5] {
            lossGradientCheck(
                { x, d in
                    Losses.pooledBCEWithLogits(
                        logits: x, pool: weights, targets: [0, 1, 0.5], temperature: temperature, dLogits: d)
                }, randomTensor([3, 4], seed: 5, std: 2), step: 1e-2, rtol: 1e-3, atol: 1e-5)
        }
        // As τ → 0 the pooled logit tends to the pool's maximum: max − τ·log(cells) ≤ s ≤ max, and
        // softplus is 1-Lipschitz, so the loss is within τ·log 3 of softplus(max).
        let peaked = Tensor(shape: [1, 3], data: [0.5, 2, -1]), all = Tensor(shape: [1, 3], repeating: 1)
        let cold = Losses.pooledBCEWithLogits(logits: peaked, pool: all, targets: [0], temperature: 0.01, dLogits: d)
        XCTAssertEqual(Double(cold), softplus(2), accuracy: 0.01 * log(3.0) + 1e-6)
        // Large logits neither overflow nor lose the loss: s ≈ 100 + 0.5·log((1 + e^−20)/2).
        let large = Tensor(shape: [1, 2], data: [100, 90]), both = Tensor(shape: [1, 2], repeating: 1)
        let big = Losses.pooledBCEWithLogits(logits: large, pool: both, targets: [0], temperature: 0.5, dLogits: d)
        assertClose(big, Float(100 + 0.5 * log((1 + exp(-20.0)) / 2)), rtol: 1e-6)
        XCTAssert(d.array.allSatisfy { $0.isFinite })
    }

    func testMSEAndL1() {
        let target = randomTensor([6], seed: 3)
        lossGradientCheck(
            { x, d in Losses.mse(prediction: x, target: target, dPrediction: d) },
            randomTensor([6], seed: 4), step: 1e-2, rtol: 1e-3, atol: 1e-5)
        lossGradientCheck(
            { x, d in Losses.l1(prediction: x, target: target, dPrediction: d) },
            randomTensor([6], seed: 4), step: 1e-3, rtol: 1e-3, atol: 1e-5)
        let a = Tensor(shape: [2], data: [1, 2]), b = Tensor(shape: [2], data: [0, 4]), d = Tensor(shape: [0])
        assertClose(Losses.mse(prediction: a, target: b, dPrediction: d), 2.5, rtol: 1e-6)
        assertClose(Losses.l1(prediction: a, target: b, dPrediction: d), 1.5, rtol: 1e-6)
    }
}

final class KernelTests: XCTestCase {
    func testExp4Accuracy() {
        // Against Double exp over [−80, 80]: rtol 4e-7 (≈3 ulp).
        var worst = 0.0
        var x: Float = -80
        while x < 80 {
            let lanes = SIMD4<Float>((0..<4).map { x + Float($0) * 0.0137 })
            let e = exp4(lanes)
            for l in 0..<4 {
                let ref = Foundation.exp(Double(lanes[l]))
                worst = max(worst, abs(Double(e[l]) - ref) / ref)
            }
            x += 0.1234
        }
        XCTAssertLessThan(worst, 4e-7)
    }

    func testSoftmaxRows() {
        let t = Tensor(shape: [2, 11], data: (0..<22).map { Float($0) * 0.37 - 3 })
        let ref = t.array
        softmaxRows(t.pointer, rows: 2, cols: 11)
        for r in 0..<2 {
            let row = ref[(r * 11)..<(r * 11 + 11)].map(Double.init)
            let m = row.max()!, s = row.map { Foundation.exp($0 - m) }.reduce(0, +)
            // rtol 1e-6
            assertClose(Array(t.array[(r * 11)..<(r * 11 + 11)]), row.map { Float(Foundation.exp($0 - m) / s) }, rtol: 1e-6)
        }
    }

    func testFusedLeakyReLUConvMatchesSeparateLayers() {
        // Conv2D with fused LeakyReLU equals Conv2D then LeakyReLU, forward and backward; exact (rtol 0).
        var r1 = RandomGenerator(seed: 50), r2 = RandomGenerator(seed: 50)
        let fused = Conv2D(inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, rng: &r1)
        fused.fusedActivation = .leakyReLU(0.1)
        let plain = Conv2D(inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, rng: &r2)
        let act = LeakyReLU(negativeSlope: 0.1)
        let x = randomTensor([3, 3, 5, 5], seed: 51), dy = randomTensor([3, 4, 5, 5], seed: 52)
        XCTAssertEqual(fused.forward(x).array, act.forward(plain.forward(x)).array)
        XCTAssertEqual(fused.backward(dy).array, plain.backward(act.backward(dy)).array)
        XCTAssertEqual(fused.dWeight.array, plain.dWeight.array)
    }
}
