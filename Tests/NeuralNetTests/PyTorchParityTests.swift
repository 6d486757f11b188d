// PyTorch parity: every fixture of Tests/NeuralNetTests/Fixtures (Scripts/make-parity-fixtures.py,
// torch 2.13.0+cpu) is replayed on the Swift engine — forward, backward, updated buffers, Adam — and
// compared elementwise within a rounding-error bound derived from the computation behind each
// fixture (`ParityTolerance`), not from one machine's measurements; `testTolerancesStillCatchSmallBugs`
// shows that small deliberate bugs fall outside it.
import Foundation
import NeuralNetReference
import XCTest

@testable import NeuralNet

/// One fixture file as tensors by key plus its metadata.
struct ParityFixture {
    let name: String
    let tensors: [String: Tensor]
    let metadata: [String: String]

    /// Loads `Fixtures/<name>.safetensors` from the test bundle (Float32 tensors only).
    init(_ name: String) throws {
        self.name = name
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/\(name).safetensors")
        let file = try SafeTensorsFile(contentsOf: url)
        var tensors: [String: Tensor] = [:]
        for key in file.names {
            let array = try file.array(named: key)
            tensors[key] = try Tensor(validatingShape: array.shape, data: array.floats())
        }
        self.tensors = tensors
        self.metadata = file.metadata
    }

    /// The tensor under `key`; fails the test (and stops) when absent.
    subscript(_ key: String) -> Tensor {
        guard let t = tensors[key] else { preconditionFailure("fixture \(name): no tensor \(key)") }
        return t
    }

    /// Keys starting with `prefix.`, with the prefix removed, mapped to their tensors.
    func group(_ prefix: String) -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        for (k, v) in tensors where k.hasPrefix(prefix + ".") { d[String(k.dropFirst(prefix.count + 1))] = v }
        return d
    }

    /// Metadata `training` as a Bool (stops when absent).
    var training: Bool {
        guard let t = metadata["training"] else { preconditionFailure("fixture \(name): no `training` metadata") }
        return t == "true"
    }

    /// Metadata `key` parsed as comma-separated numbers.
    func numbers(_ key: String) -> [Double] {
        (metadata[key] ?? "").split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }
}

/// How far the Swift engine and PyTorch may differ on one element, both computing in float32 with
/// different summation orders, blockings and kernels (the fixtures were checked on one CPU; OpenBLAS
/// picks other kernels on others, e.g. AVX-512 on AMD Zen 4).
///
/// A float32 sum y = Σ_k t_k of K terms rounds once per addition, by at most u = 2⁻²⁴ of the partial sum.
/// Treating those roundings as independent and zero-mean (the probabilistic analysis of Higham & Mary,
/// SIAM J. Sci. Comput. 2019) the error's standard deviation is about √K·u·rms(y), and a chain of
/// such stages adds their variances: σ(Δ) ≈ √(Σ_s K_s·A_s²)·u·|y|, where A_s is a stage's own
/// amplification (1 for im2col + SGEMM; 8 for the Winograd F(4×4, 3×3) forward, whose transform
/// constants up to 8 and 5 raise its error 7.3× over im2col's in WinogradTests). `terms` is that sum
/// K_eff = Σ K_s·A_s² over the longest path behind the fixture's tensors (forward, then backward), stated
/// beside each test. The bound is λ = 6 standard deviations, doubled for two independently rounding
/// engines:
///
///     |a − b| ≤ 2·λ·√K_eff·u·(max(|a|, |b|) + scale),  scale = max |expected| over the tensor,
///
/// where `scale` stands in for the magnitude of the partial sums (an element near zero can be the
/// difference of large terms). Why this still catches bugs: a dropped, repeated or shifted tap changes
/// an element by a whole term, |t_k| ≈ |y|/√K_s, and a wrong bias or scale by its own size; for the
/// largest K_eff here (≈ 1.3·10⁵, the generator) the bound is 2.6·10⁻⁴ of the scale, and
/// `testTolerancesStillCatchSmallBugs` checks that a bias off by 2·10⁻³ and a tap shifted by one
/// pixel exceed it on the fixtures themselves.
struct ParityTolerance {
    /// K_eff = Σ K_s·A_s² over the rounding stages behind an element.
    var terms: Double

    static let unitRoundoff = 0x1p-24
    static let lambda = 6.0
    /// A_s of a Winograd F(4×4, 3×3) stage (used for 3×3 stride-1 convolutions with ≥ 16 input channels).
    static let winograd = 8.0

    /// The largest |a − b| allowed between `a` and `b` in a tensor whose largest expected magnitude is `scale`.
    func allowed(_ a: Double, _ b: Double, scale: Double) -> Double {
        2 * Self.lambda * terms.squareRoot() * Self.unitRoundoff * (max(abs(a), abs(b)) + scale)
    }
}

final class PyTorchParityTests: XCTestCase {
    override func setUp() { BLASRuntime.ensureFastKernel() }

    /// Compares `actual` with `expected` elementwise within `tolerance`; logs `PARITY case key maxAbs
    /// maxRatio`, where maxRatio = max |a − b| / allowed (≤ 1 passes), and returns maxRatio. With
    /// `asserting` false it only measures (the bug-catching test expects ratios above 1).
    @discardableResult
    func compare(
        _ fixture: String, _ key: String, _ actual: Tensor, _ expected: Tensor, _ tolerance: ParityTolerance,
        asserting: Bool = true, file: StaticString = #filePath, line: UInt = #line
    ) -> Double {
        XCTAssertEqual(actual.count, expected.count, "\(fixture) \(key): element count", file: file, line: line)
        guard actual.count == expected.count else { return .infinity }
        var scale = 0.0
        for i in 0..<expected.count { scale = max(scale, abs(Double(expected.pointer[i]))) }
        scale = max(scale, 1e-30)
        var maxAbs = 0.0, maxRatio = 0.0, worst = 0, failures = 0
        for i in 0..<expected.count {
            let a = Double(actual.pointer[i]), b = Double(expected.pointer[i])
            let err = abs(a - b), allowed = tolerance.allowed(a, b, scale: scale)
            if !(err <= allowed) { failures += 1 }
            if err > maxAbs { maxAbs = err }
            let ratio = err / allowed
            if !(ratio <= maxRatio) { maxRatio = ratio; worst = i }
        }
        print(
            String(
                format: "PARITY %-15@ %-32@ n %6d  max|Δ| %.3e  scale %.3e  max rel %.3e  ratio %.3f",
                fixture as NSString, key as NSString, expected.count, maxAbs, scale, maxAbs / scale, maxRatio))
        if asserting {
            XCTAssertEqual(
                failures, 0,
                "\(fixture) \(key): \(failures)/\(expected.count) elements outside the bound for K_eff \(tolerance.terms); worst [\(worst)] swift \(actual.pointer[worst]) torch \(expected.pointer[worst])",
                file: file, line: line)
        }
        return maxRatio
    }

    /// Loads `param.*` into `module` (strict: the fixture and the module have the same keys).
    func loadParameters(_ module: Module, _ f: ParityFixture) throws {
        try module.load(stateDictionary: f.group("param"), strict: true)
        module.zeroGradients()
    }

    /// Compares every `grad.<key>` (except `grad.input` and `skipped`, checked by the caller) with the
    /// module's gradient of that name, and checks that every trainable parameter has a fixture gradient.
    func compareParameterGradients(
        _ module: Module, _ f: ParityFixture, _ tolerance: ParityTolerance, skipping skipped: Set<String> = [],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let params = Dictionary(uniqueKeysWithValues: module.namedParameters().map { ($0.name, $0.gradient) })
        let grads = f.group("grad").filter { $0.key != "input" }
        XCTAssertEqual(Set(grads.keys), Set(params.keys), "\(f.name): gradient keys", file: file, line: line)
        for key in grads.keys.sorted() where !skipped.contains(key) {
            guard let g = params[key] else { continue }
            compare(f.name, "grad." + key, g, grads[key]!, tolerance, file: file, line: line)
        }
    }

    /// Compares every `after.<key>` with the module's buffer of that name; checks every buffer is covered.
    func compareBuffersAfter(
        _ module: Module, _ f: ParityFixture, _ tolerance: ParityTolerance, file: StaticString = #filePath, line: UInt = #line
    ) {
        let buffers = Dictionary(uniqueKeysWithValues: module.namedBuffers().map { ($0.name, $0.value) })
        let after = f.group("after")
        XCTAssertEqual(Set(after.keys), Set(buffers.keys), "\(f.name): buffer keys", file: file, line: line)
        for key in after.keys.sorted() {
            guard let b = buffers[key] else { continue }
            compare(f.name, "after." + key, b, after[key]!, tolerance, file: file, line: line)
        }
    }

    /// The single-layer protocol: load, mode, forward, backward, compare everything within `terms`.
    func runLayerCase(_ name: String, _ layer: Layer, terms: Double) throws {
        let f = try ParityFixture(name)
        let tolerance = ParityTolerance(terms: terms)
        try loadParameters(layer, f)
        layer.isTraining = f.training
        let y = layer.forward(f["input"])
        compare(name, "output", y, f["output"], tolerance)
        let dx = layer.backward(f["grad_output"])
        compare(name, "grad.input", dx, f["grad.input"], tolerance)
        compareParameterGradients(layer, f, tolerance)
        compareBuffersAfter(layer, f, tolerance)
    }

    // MARK: - Single layers

    func testConv() throws {
        let f = try ParityFixture("conv")
        XCTAssertEqual(f.numbers("kernel"), [3]); XCTAssertEqual(f.numbers("stride"), [2]);
        XCTAssertEqual(f.numbers("padding"), [1])
        var rng = RandomGenerator(seed: 0)
        // K: output 3·3·3 = 27 products; grad.input ≤ 4 channels × 4 overlapping taps = 16;
        // grad.weight and grad.bias sum over N·Ho·Wo = 2·4·4 = 32 positions. One stage each: 32.
        try runLayerCase(
            "conv", Conv2D(inChannels: 3, outChannels: 4, kernelSize: 3, stride: 2, padding: 1, rng: &rng), terms: 32)
    }

    func testConvTranspose() throws {
        let f = try ParityFixture("conv_transpose")
        XCTAssertEqual(f.numbers("kernel"), [4]); XCTAssertEqual(f.numbers("stride"), [2])
        XCTAssertEqual(f.numbers("padding"), [1])
        var rng = RandomGenerator(seed: 0)
        // K: output 2 channels × 4 taps = 8; grad.input 3 channels × 16 taps = 48; grad.weight over
        // N·H·W = 12 positions. One stage each: 48.
        try runLayerCase(
            "conv_transpose", ConvTranspose2D(inChannels: 2, outChannels: 3, kernelSize: 4, stride: 2, padding: 1, rng: &rng),
            terms: 48)
    }

    func testSNConvTraining() throws {
        var rng = RandomGenerator(seed: 0)
        // K_eff: σ = uᵀW v through v = Wᵀu (6), W v (64), uᵀ(W v) (64): 134; then the conv (64) for the
        // output, or for gradients the conv's weight sum over 2·4·4 = 32 positions and SN's ⟨W_sn, dW_sn⟩
        // over 6·64 = 384 weights: 134 + 32 + 384 = 550 on the longest path.
        try runLayerCase(
            "snconv", SNConv2D(inChannels: 4, outChannels: 6, kernelSize: 4, stride: 2, padding: 1, rng: &rng), terms: 550)
    }

    func testSNConvEval() throws {
        var rng = RandomGenerator(seed: 0)
        // K_eff: as testSNConvTraining (σ from the stored u needs fewer sums; 550 still bounds it).
        try runLayerCase(
            "snconv_eval", SNConv2D(inChannels: 4, outChannels: 6, kernelSize: 4, stride: 2, padding: 1, rng: &rng),
            terms: 550)
    }

    /// The eval-mode W_sn cache: repeated eval forwards match the fixture, and after W or u change in
    /// place (as Adam or `load` do) the output equals that of a fresh layer with the new values.
    func testSNConvEvalCacheFollowsChanges() throws {
        let f = try ParityFixture("snconv_eval")
        func fresh(_ state: [String: Tensor]) throws -> SNConv2D {
            var rng = RandomGenerator(seed: 0)
            let l = SNConv2D(inChannels: 4, outChannels: 6, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
            try l.load(stateDictionary: state); l.eval()
            return l
        }
        let layer = try fresh(f.group("param"))
        for _ in 0..<2 {
            compare("snconv_eval", "output (cached)", layer.forward(f["input"]), f["output"], ParityTolerance(terms: 550))
        }
        for i in 0..<layer.weight.count { layer.weight.pointer[i] += 0.01 * Float(i % 7) }
        XCTAssertEqual(layer.forward(f["input"]).array, try fresh(layer.stateDictionary()).forward(f["input"]).array)
        for i in 0..<layer.u.count { layer.u.pointer[i] *= Float(i + 1) }
        XCTAssertEqual(layer.forward(f["input"]).array, try fresh(layer.stateDictionary()).forward(f["input"]).array)
        layer.train(); _ = layer.forward(f["input"]); layer.eval()  // power iteration moves u
        XCTAssertEqual(layer.forward(f["input"]).array, try fresh(layer.stateDictionary()).forward(f["input"]).array)
    }

    func testSNLinear() throws {
        var rng = RandomGenerator(seed: 0)
        // K_eff: σ through 6 + 10 + 10 sums, the product (10), the weight gradient over N = 2 and SN's
        // ⟨W_sn, dW_sn⟩ over 60 weights: ≈ 100.
        try runLayerCase("snlinear", SNLinear(inFeatures: 10, outFeatures: 6, rng: &rng), terms: 100)
    }

    func testAttention() throws {
        var rng = RandomGenerator(seed: 0)
        let f = try ParityFixture("attention")
        XCTAssertEqual(f.numbers("gamma"), [0.5])
        // K_eff (C = 16 channels, T = 8·8 = 64 positions, N = 2): forward σ chains of the four SN 1×1
        // convs (≈ 50), query/key (16), scores (C/8 = 2), the softmax normalizer (64), the attended sum
        // (64), the output conv (C/2 = 8): ≈ 200; backward the same sums over T and channels plus the
        // weight gradients over N·T = 128 positions and SN's weight sums (≤ 128): ≈ 500. 700 in all.
        try runLayerCase("attention", SelfAttention(channels: Int(f.numbers("channels")[0]), rng: &rng), terms: 700)
    }

    func testBatchNormTraining() throws {
        // K_eff: batch mean and variance over N·H·W = 50 values each, and the two sums of backward: 200.
        try runLayerCase("batchnorm_train", BatchNorm2D(channels: 4), terms: 200)
    }

    func testBatchNormEval() throws {
        // K_eff: running statistics only forward; the weight and bias gradients sum 50 values: 50.
        try runLayerCase("batchnorm_eval", BatchNorm2D(channels: 4), terms: 50)
    }

    /// The fixed residual filters: no parameters, so forward and dInput are the whole comparison.
    func testNearestResidual() throws {
        let f = try ParityFixture("npr")
        XCTAssertEqual(f["input"].shape, [2, 3, 6, 8])
        // K_eff: the 2×2 block mean (4 terms), and its transpose in backward (4): 8.
        try runLayerCase("npr", NearestResidual2x(), terms: 8)
    }

    func testSRMResidual() throws {
        let f = try ParityFixture("srm")
        XCTAssertEqual(f["input"].shape, [2, 3, 7, 9])
        XCTAssertEqual(f.numbers("luminance"), [0.299, 0.587, 0.114])
        XCTAssertEqual(f.numbers("divisors"), [4, 12, 2])
        // K_eff: luminance (3 terms) then a 5×5 kernel (25), and the same in backward: 56.
        try runLayerCase("srm", SRMResidual(), terms: 56)
    }

    /// The learned, constrained counterpart of SRM, its weight moved off SRM's kernels (mean and norm
    /// changed), so the reparametrization's Jacobian is part of the comparison.
    func testConstrainedHighPass() throws {
        let f = try ParityFixture("constrained")
        XCTAssertEqual(f["input"].shape, [2, 3, 7, 9])
        XCTAssertEqual(f["param.weight"].shape, [3, 25])
        XCTAssertEqual(f.numbers("luminance"), [0.299, 0.587, 0.114])
        // K_eff: the kernels from v (a mean of 25, a norm of 25, a product and a quotient: about 52),
        // then luminance (3) and a 5×5 kernel (25), forward and again in dInput: 2·80 = 160. grad.weight
        // sums dy·L over N·H·W = 126 pixels, then projects (a dot product of 25 and a mean of 25)
        // with a cancellation of up to about 2 (A² = 4): 4·(126 + 50) ≈ 700, the largest stage.
        try runLayerCase("constrained", ConstrainedHighPass(), terms: 700)
    }

    func testEnergyContrast() throws {
        let f = try ParityFixture("contrast")
        XCTAssertEqual(f["input"].shape, [2, 3, 12, 20])
        XCTAssertEqual(f.numbers("radii"), [2, 5])
        XCTAssertEqual(f.numbers("epsilon").first ?? 0, Double(SRMEnergyContrast.epsilon), accuracy: 1e-10)
        // K_eff: the SRM residual (56, as above) squared, PyTorch's float box mean over up to 11·11 =
        // 121 values (ours sums in double), the logarithm (1); backward the transposed box sums (121),
        // the product with 2s (1) and SRM's backward: 2·(56 + 121 + 1) ≈ 360.
        try runLayerCase("contrast", SRMEnergyContrast(localRadius: 2, contextRadius: 5), terms: 360)
    }

    // MARK: - Networks

    /// K_eff of the discriminator fixture (widths 8-16-32-64, input 2×3×32×32), Winograd stages × 64:
    /// forward conv sums 27 + 128 + 72 + 256 + 9,216 (block3.conv1, 16·9·64) + 512 + 18,432
    /// (block4.conv1, 32·9·64) + heads and pool 144, attention ≈ 200, SN σ chains ≈ 3,100: ≈ 32,000;
    /// backward weight sums over N·Ho·Wo ≈ 3,400, input-gradient sums ≈ 1,600, attention ≈ 500 and SN's
    /// ⟨W_sn, dW_sn⟩ over every layer's weights ≈ 46,600: ≈ 52,000. In all ≈ 84,000: the bound is
    /// 2.1·10⁻⁴·(|y| + scale).
    static let discriminatorTerms = 84_000.0

    /// K_eff of the generator fixture (widths 16-16-8-8-4, z 2×128 → 2×3×64×64): forward fc 128 and its σ
    /// ≈ 500, up1 and up2 convs in Winograd 16·9·64 = 9,216 each, up3/up4 72 each, out 36, attention over
    /// 1,024 positions ≈ 2,100, SN σ chains ≈ 1,000, and batch-norm mean and variance over N·H·W = 32,
    /// 128, 512, 2,048 and 8,192 values (21,800): ≈ 44,000; backward batch-norm sums 21,800, weight sums
    /// over N·H·W 19,000, attention ≈ 5,100, input-gradient sums ≈ 350, SN's weight sums ≈ 37,300 (fc
    /// alone 32,768): ≈ 84,000. In all ≈ 128,000: the bound is 2.6·10⁻⁴·(|y| + scale).
    static let generatorTerms = 128_000.0

    func testDiscriminator() throws {
        let f = try ParityFixture("discriminator")
        let widths = f.numbers("widths").map { Int($0) }
        XCTAssertEqual(widths, [8, 16, 32, 64])
        let tolerance = ParityTolerance(terms: Self.discriminatorTerms)
        let d = ReferenceDiscriminator(seed: 0, widths: widths)
        try loadParameters(d, f)
        d.isTraining = f.training
        d.needsInputGradient = true
        let (patch, global) = d.forward(f["input"])
        compare("discriminator", "output.patch", patch, f["output.patch"], tolerance)
        compare("discriminator", "output.global", global, f["output.global"], tolerance)
        let dx = d.backward(dPatch: f["grad_output.patch"], dGlobal: f["grad_output.global"])
        compare("discriminator", "grad.input", dx, f["grad.input"], tolerance)
        compareParameterGradients(d, f, tolerance)
        compareBuffersAfter(d, f, tolerance)
    }

    func testGenerator() throws {
        let f = try ParityFixture("generator")
        let widths = f.numbers("widths").map { Int($0) }
        XCTAssertEqual(widths, [16, 16, 8, 8, 4])
        let tolerance = ParityTolerance(terms: Self.generatorTerms)
        let g = ReferenceGenerator(seed: 0, widths: widths)
        try loadParameters(g, f)
        g.isTraining = f.training
        let y = g.forward(f["z"])
        compare("generator", "output", y, f["output"], tolerance)
        let dz = g.backward(f["grad_output"])
        compare("generator", "grad.input", dz, f["grad.input"], tolerance)
        // The conv biases of up1…up4 feed a training-mode BatchNorm, which removes any per-channel
        // shift: their exact gradient is 0 and both engines return float32 cancellation residue (measured
        // max |g| over both engines for up1…up4: 2.6e-5, 6.5e-5, 6.9e-5, 1.9e-4, with opposite signs,
        // against max|grad.upK.bn.bias| ≈ 54–65, a sum over the same terms without the cancellation).
        // So each is checked as zero to within the rounding bound of its computation relative to that
        // sum: the bias gradient sums the batch-norm input gradient over N·H·W positions, and that
        // gradient subtracts two means over the same N·H·W values, K_eff = 3·N·H·W (N = 2; H = W = 8,
        // 16, 32, 64 for up1…up4).
        let zeroByBatchNorm = Set((1...4).map { "up\($0).conv.bias" })
        compareParameterGradients(g, f, tolerance, skipping: zeroByBatchNorm)
        for key in zeroByBatchNorm.sorted() {
            let stage = key.split(separator: ".")[0]
            let reference = f["grad.\(stage).bn.bias"].array.map { abs(Double($0)) }.max()!
            let side = 4 << (try XCTUnwrap(Int(stage.dropFirst(2))))  // up1 → 8 … up4 → 64
            let bound = ParityTolerance(terms: Double(3 * 2 * side * side)).allowed(0, 0, scale: reference)
            let ours = g.namedParameters().first { $0.name == key }!.gradient.array, theirs = f["grad." + key].array
            let worst = max(ours.map { abs(Double($0)) }.max()!, theirs.map { abs(Double($0)) }.max()!)
            print(
                String(
                    format: "PARITY %-15@ %-32@ zero by BN: max|g| %.3e (swift and torch), bound %.3e, ratio %.3f",
                    "generator", ("grad." + key) as NSString, worst, bound, worst / bound))
            XCTAssertLessThanOrEqual(worst, bound, "generator grad.\(key): not zero to within \(bound)")
        }
        compareBuffersAfter(g, f, tolerance)
    }

    // MARK: - The bounds still catch bugs

    /// Small deliberate bugs, each of a kind a real one takes, give ratios above 1 on the fixtures:
    /// a bias off by 2·10⁻³ and a kernel shifted by one tap (an off-by-one in padding or im2col), in
    /// a single conv and in the two networks, Winograd layers included.
    func testTolerancesStillCatchSmallBugs() throws {
        /// `state` with `key` changed by `edit` (a copy; the fixture's tensors stay as they are).
        func edited(_ state: [String: Tensor], _ key: String, _ edit: (Tensor) -> Void) throws -> [String: Tensor] {
            var copy = state
            let tensor = try XCTUnwrap(state[key]).copy()
            edit(tensor)
            copy[key] = tensor
            return copy
        }
        func biasOff(_ t: Tensor) { t.pointer[0] += 2e-3 }
        /// Every kernel row moved one tap to the right, the first tap zeroed.
        func shiftedTaps(_ t: Tensor) {
            let k = t.shape[3]
            for row in 0..<(t.count / k) {
                let base = t.pointer + row * k
                for x in stride(from: k - 1, to: 0, by: -1) { base[x] = base[x - 1] }
                base[0] = 0
            }
        }

        let conv = try ParityFixture("conv")
        for (bug, state) in [
            ("bias", try edited(conv.group("param"), "bias", biasOff)),
            ("tap", try edited(conv.group("param"), "weight", shiftedTaps)),
        ] {
            var rng = RandomGenerator(seed: 0)
            let layer = Conv2D(inChannels: 3, outChannels: 4, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
            try layer.load(stateDictionary: state)
            let ratio = compare(
                "conv", "output (\(bug) bug)", layer.forward(conv["input"]), conv["output"], ParityTolerance(terms: 32),
                asserting: false)
            XCTAssertGreaterThan(ratio, 1, "conv with a \(bug) bug passes the bound")
        }

        let discriminator = try ParityFixture("discriminator")
        for (bug, state) in [
            ("bias", try edited(discriminator.group("param"), "patch_logits.bias", biasOff)),
            ("tap", try edited(discriminator.group("param"), "block3.conv1.weight", shiftedTaps)),
        ] {
            let d = ReferenceDiscriminator(seed: 0, widths: [8, 16, 32, 64])
            try d.load(stateDictionary: state)
            d.isTraining = discriminator.training
            let patch = d.forward(discriminator["input"]).patch
            let ratio = compare(
                "discriminator", "output.patch (\(bug) bug)", patch, discriminator["output.patch"],
                ParityTolerance(terms: Self.discriminatorTerms), asserting: false)
            XCTAssertGreaterThan(ratio, 1, "discriminator with a \(bug) bug passes the bound")
        }

        let generator = try ParityFixture("generator")
        for (bug, state) in [
            ("bias", try edited(generator.group("param"), "out.bias", biasOff)),
            ("tap", try edited(generator.group("param"), "up2.conv.weight", shiftedTaps)),
        ] {
            let g = ReferenceGenerator(seed: 0, widths: [16, 16, 8, 8, 4])
            try g.load(stateDictionary: state)
            g.isTraining = generator.training
            let ratio = compare(
                "generator", "output (\(bug) bug)", g.forward(generator["z"]), generator["output"],
                ParityTolerance(terms: Self.generatorTerms), asserting: false)
            XCTAssertGreaterThan(ratio, 1, "generator with a \(bug) bug passes the bound")
        }
    }

    // MARK: - Adam

    func testAdam() throws {
        let f = try ParityFixture("adam")
        let widths = f.numbers("widths").map { Int($0) }
        let lr = Float(f.numbers("lr")[0]), betas = f.numbers("betas").map { Float($0) }, eps = Float(f.numbers("eps")[0])
        XCTAssertEqual(f.numbers("weight_decay"), [0])
        let weightDecay = Float(f.numbers("after_weight_decay.weight_decay")[0])
        XCTAssertEqual(betas.count, 2)
        for (label, wd, prefix) in [("adam", Float(0), "after"), ("adam_wd", weightDecay, "after_weight_decay")] {
            let d = ReferenceDiscriminator(seed: 0, widths: widths)
            try loadParameters(d, f)
            let before = d.stateDictionary()
            let grads = f.group("grad")
            let params = d.namedParameters()
            XCTAssertEqual(Set(grads.keys), Set(params.map(\.name)), "\(label): gradient keys")
            for p in params { p.gradient.copy(from: grads[p.name]!) }
            let adam = Adam(module: d, learningRate: lr, betas: (betas[0], betas[1]), eps: eps, weightDecay: wd)
            adam.step()
            let expected = f.group(prefix)
            XCTAssertEqual(Set(expected.keys), Set(params.map(\.name)), "\(label): parameter keys")
            for p in params {
                guard let e = expected[p.name] else { continue }
                // K_eff 8: the moment updates, the square root, the bias corrections and the division,
                // each rounded once per element, no sums.
                compare(label, p.name, p.value, e, ParityTolerance(terms: 8))
                compareStep(label, p.name, before: before[p.name]!, actual: p.value, expected: e)
            }
            // Adam never touches the SN u buffers.
            for b in d.namedBuffers() { XCTAssertEqual(b.value.array, f["param." + b.name].array, "\(label) \(b.name)") }
        }
    }

    /// Compares the update Δ = after − before (≈ lr in size, much smaller than the parameters) with
    /// the elementwise bound of K_eff 8 (as the parameters) plus 2 ulp of the parameter's magnitude (both
    /// sides' after values are rounded to float32 before Δ is formed).
    func compareStep(
        _ label: String, _ key: String, before: Tensor, actual: Tensor, expected: Tensor,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        var failures = 0, maxRatio = 0.0, worst = 0
        for i in 0..<before.count {
            let b = before.pointer[i]
            let da = Double(actual.pointer[i]) - Double(b), de = Double(expected.pointer[i]) - Double(b)
            let magnitude = max(abs(b), abs(actual.pointer[i]), abs(expected.pointer[i]))
            let allowed = 2 * Double(magnitude.ulp) + ParityTolerance(terms: 8).allowed(da, de, scale: 0)
            let ratio = abs(da - de) / allowed
            if !(ratio <= 1) { failures += 1 }
            if ratio > maxRatio { maxRatio = ratio; worst = i }
        }
        print(String(format: "PARITY %-15@ %-32@ step Δ ratio %.3f", label as NSString, (key + " (Δ)") as NSString, maxRatio))
        XCTAssertEqual(
            failures, 0, "\(label) \(key): update differs at \(failures) elements; worst [\(worst)]",
            file: file, line: line)
    }
}
