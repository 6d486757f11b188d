// Reference networks: contract key names, output shapes, state-dictionary round trip and errors,
// finite-difference gradient checks on small inputs, and a few training steps that lower the loss.
import NeuralNetReference
import XCTest

@testable import NeuralNet

final class NetworkTests: XCTestCase {
    override func setUp() { BLASRuntime.ensureFastKernel() }

    func testDiscriminatorKeysAndShapes() {
        let d = ReferenceDiscriminator(seed: 1)
        let keys = d.namedParameters().map(\.name)
        XCTAssertEqual(keys.first, "block1.conv1.weight")
        for k in [
            "block1.conv1.bias", "block1.conv2.weight", "attn.query.weight", "attn.key.weight", "attn.value.weight",
            "attn.out.weight", "attn.gamma", "block4.conv1.weight", "patch_logits.weight", "patch_logits.bias",
            "global_logit.weight", "global_logit.bias",
        ] {
            XCTAssert(keys.contains(k), "missing \(k)")
        }
        XCTAssertFalse(keys.contains("attn.query.bias"))
        let buffers = d.namedBuffers().map(\.name)
        XCTAssert(buffers.contains("block1.conv1.u") && buffers.contains("attn.out.u") && buffers.contains("global_logit.u"))
        let sd = d.stateDictionary()
        XCTAssertEqual(sd["block2.conv2.weight"]?.shape, [64, 64, 4, 4])
        XCTAssertEqual(sd["attn.query.weight"]?.shape, [8, 64, 1, 1])
        XCTAssertEqual(sd["attn.value.weight"]?.shape, [32, 64, 1, 1])
        XCTAssertEqual(sd["attn.out.weight"]?.shape, [64, 32, 1, 1])
        XCTAssertEqual(sd["attn.gamma"]?.shape, [1])
        XCTAssertEqual(sd["global_logit.weight"]?.shape, [1, 256])
        XCTAssertEqual(sd["block1.conv1.u"]?.shape, [32])
        let (patch, global) = d.forward(randomTensor([2, 3, 32, 32], seed: 2))
        XCTAssertEqual(patch.shape, [2, 1, 4, 4])
        XCTAssertEqual(global.shape, [2, 1])
        XCTAssertThrowsError(try ReferenceDiscriminator.validate(inputShape: [1, 3, 30, 32]))
    }

    func testGeneratorKeysAndShapes() {
        let g = ReferenceGenerator(seed: 3)
        let keys = Set(g.namedParameters().map(\.name)), buffers = Set(g.namedBuffers().map(\.name))
        for k in [
            "fc.weight", "fc.bias", "bn0.weight", "bn0.bias", "up1.conv.weight", "up1.conv.bias", "up1.bn.weight",
            "up4.bn.bias", "attn.gamma", "attn.query.weight", "out.weight", "out.bias",
        ] {
            XCTAssert(keys.contains(k), "missing \(k)")
        }
        for k in ["fc.u", "bn0.running_mean", "bn0.running_var", "up3.conv.u", "up2.bn.running_var", "attn.key.u", "out.u"] {
            XCTAssert(buffers.contains(k), "missing buffer \(k)")
        }
        XCTAssertEqual(g.stateDictionary()["fc.weight"]?.shape, [4096, 128])
        let y = g.forward(randomTensor([2, 128], seed: 4))
        XCTAssertEqual(y.shape, [2, 3, 64, 64])
        XCTAssert(y.array.allSatisfy { abs($0) < 1 })
    }

    func testStateDictionaryRoundTripAndErrors() throws {
        let a = ReferenceDiscriminator(seed: 5), b = ReferenceDiscriminator(seed: 6)
        let x = randomTensor([1, 3, 16, 16], seed: 7)
        a.eval(); b.eval()
        try b.load(stateDictionary: a.stateDictionary())
        XCTAssertEqual(a.forward(x).patch.array, b.forward(x).patch.array)
        var sd = a.stateDictionary()
        sd["attn.gamma"] = nil
        XCTAssertThrowsError(try b.load(stateDictionary: sd)) { XCTAssertEqual($0 as? NeuralNetError, .missingKey("attn.gamma")) }
        sd = a.stateDictionary()
        sd["block1.conv1.weight"] = Tensor(shape: [32, 3, 3])
        XCTAssertThrowsError(try b.load(stateDictionary: sd)) {
            XCTAssertEqual(
                $0 as? NeuralNetError, .shapeMismatch(key: "block1.conv1.weight", expected: [32, 3, 3, 3], got: [32, 3, 3]))
        }
        sd = a.stateDictionary()
        sd["extra"] = Tensor(shape: [1])
        XCTAssertThrowsError(try b.load(stateDictionary: sd))
        XCTAssertNoThrow(try b.load(stateDictionary: sd, strict: false))
    }

    func testDiscriminatorGradientCheck() {
        let d = ReferenceDiscriminator(seed: 8)
        d.attention.gamma.pointer[0] = 0.5
        convergeSpectralNorms(d)
        let x = randomTensor([2, 3, 16, 16], seed: 9)
        let (p0, g0) = d.forward(x)
        let rp = randomTensor(p0.shape, seed: 10), rg = randomTensor(g0.shape, seed: 11)
        // LeakyReLU kinks and max pools inside: step 1e-3, rtol 5e-2, atol 5e-3; 6 sampled coordinates per tensor.
        gradientCheck(
            module: d, input: x, step: 1e-3, rtol: 5e-2, atol: 5e-3, samples: 6,
            loss: {
                let (p, g) = d.forward(x); return dot(rp, p) + dot(rg, g)
            },
            backward: {
                _ = d.forward(x); return d.backward(dPatch: rp, dGlobal: rg)
            })
    }

    func testGeneratorGradientCheckEval() {
        // Eval mode (BN with running statistics). In training mode the batch statistics couple every
        // unit of a channel (up to 8192 here), so an FD step moves thousands of ReLU inputs and a few
        // cross the kink, which biases the numeric derivative by ~10%; train-mode BN is covered by the
        // BatchNorm2D check and the UpStage check below instead.
        let g = ReferenceGenerator(seed: 12)
        g.attention.gamma.pointer[0] = 0.5
        var rng = RandomGenerator(seed: 40)
        for bn in [g.bn0, g.up1.bn, g.up2.bn, g.up3.bn, g.up4.bn] {
            Initializer.normal(bn.runningMean, std: 0.1, rng: &rng)
            Initializer.uniform(bn.runningVar, low: 0.5, high: 1.5, rng: &rng)
        }
        convergeSpectralNorms(g)
        g.eval()
        let z = randomTensor([2, 128], seed: 13)
        let r = randomTensor(g.forward(z).shape, seed: 14, std: 0.1)
        // ReLU kinks and max pools: step 1e-3, rtol 5e-2, atol 5e-3; 4 sampled coordinates per tensor.
        // Biases of the up stages shift a whole channel (up to 8192 ReLU inputs) and hit kinks too, so
        // they are left to the per-layer checks.
        gradientCheck(
            module: g, input: z, step: 1e-3, rtol: 5e-2, atol: 5e-3, samples: 4,
            parameterFilter: { !($0.hasPrefix("up") && $0.hasSuffix("bias")) },
            loss: { dot(r, g.forward(z)) },
            backward: {
                _ = g.forward(z); return g.backward(r)
            })
    }

    func testGeneratorUpStageGradientCheckTrain() {
        // Upsample → SN conv → BN (batch statistics) → ReLU, small enough that no kink is crossed.
        var rng = RandomGenerator(seed: 41)
        let stage = ReferenceGenerator.UpStage(8, 4, rng: &rng)
        convergeSpectralNorms(stage)
        let x = randomTensor([2, 8, 4, 4], seed: 42)
        let r = randomTensor(stage.forward(x).shape, seed: 43)
        // step 1e-3, rtol 5e-2, atol 5e-3
        gradientCheck(
            module: stage, input: x, step: 1e-3, rtol: 5e-2, atol: 5e-3, samples: 20,
            loss: { dot(r, stage.forward(x)) },
            backward: {
                _ = stage.forward(x); return stage.backward(r)
            })
    }

    func testTrainingStepsLowerHingeLoss() {
        let d = ReferenceDiscriminator(seed: 15)
        d.needsInputGradient = false
        let adam = Adam(module: d, learningRate: 2e-4, betas: (0, 0.9))
        let real = randomTensor([4, 3, 16, 16], seed: 16, std: 0.5), fake = randomTensor([4, 3, 16, 16], seed: 17, std: 0.5)
        for i in 0..<real.count { real.pointer[i] += 0.5 }
        let dr = Tensor(shape: [0]), df = Tensor(shape: [0]), dgr = Tensor(shape: [0]), dgf = Tensor(shape: [0])
        var losses: [Float] = []
        for _ in 0..<15 {
            d.zeroGradients()
            // Fake pass first (outputs copied: the network's output tensors are reused by the next forward).
            let (pf, gf) = d.forward(fake)
            let (pfC, gfC) = (pf.copy(), gf.copy())
            let (pr, gr) = d.forward(real)
            let l =
                Losses.hingeDiscriminator(real: pr, fake: pfC, dReal: dr, dFake: df)
                + Losses.hingeDiscriminator(real: gr, fake: gfC, dReal: dgr, dFake: dgf)
            losses.append(l)
            _ = d.backward(dPatch: dr, dGlobal: dgr)  // real pass is the live one
            _ = d.forward(fake)
            _ = d.backward(dPatch: df, dGlobal: dgf)
            adam.step()
        }
        XCTAssertLessThan(losses.last!, losses.first!)
    }

    func testGeneratorStepThroughDiscriminator() {
        // One SAGAN generator step: z → G → D → hinge G loss → D.backward (image gradient) → G.backward → Adam.
        let g = ReferenceGenerator(seed: 20), d = ReferenceDiscriminator(seed: 21)
        let adamG = Adam(module: g, learningRate: 1e-4, betas: (0, 0.9))
        let z = randomTensor([2, 128], seed: 22)
        let dPatch = Tensor(shape: [0]), dGlobal = Tensor(shape: [0])
        g.zeroGradients(); d.zeroGradients()
        let images = g.forward(z)
        let (patch, global) = d.forward(images)
        let loss = Losses.hingeGenerator(fake: patch, dFake: dPatch) + Losses.hingeGenerator(fake: global, dFake: dGlobal)
        XCTAssert(loss.isFinite)
        let dImages = d.backward(dPatch: dPatch, dGlobal: dGlobal)
        XCTAssertEqual(dImages.shape, [2, 3, 64, 64])
        let dz = g.backward(dImages)
        XCTAssertEqual(dz.shape, [2, 128])
        let before = g.fc.weight.array
        adamG.step()
        XCTAssertNotEqual(g.fc.weight.array, before)
        XCTAssert(g.namedParameters().allSatisfy { $0.gradient.array.allSatisfy(\.isFinite) })
    }
}
