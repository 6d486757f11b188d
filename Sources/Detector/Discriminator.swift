// Owns the detector network: a small, fully convolutional, spectrally normalized discriminator that
// maps an image window to a per-patch logit map (stride 8) and a global logit, plus its analytic FLOP
// count and receptive field. Optional parts: residual inputs beside RGB, a full-resolution stem.
// Backward mirrors forward in exact reverse order.
// Glossary: N batch, H/W input size (multiples of 16), w0/w1/w2 the three widths, Cin = 3 + 3·(residual
// inputs) input channels, s the stem width, H/8 × W/8 logit map.
import NeuralNet

/// A residual the detector reads beside RGB (three channels each), all fixed filters but `constrained`.
public enum ResidualInputKind: String, Codable, CaseIterable, Sendable {
    /// x − up(down(x)), 2× nearest, per colour channel (`NearestResidual2x`).
    case npr
    /// Three SRM high-pass kernels on luminance (`SRMResidual`).
    case srm
    /// The SRM residuals' energy over 9 pixels against over 65, log ratio (`SRMEnergyContrast`).
    case contrast
    /// SRM's three kernels made learnable, each kept zero-sum at SRM's norm (`ConstrainedHighPass`):
    /// the only residual input with parameters.
    case constrained
}

/// One residual input and the factor its values are multiplied by before conv1 (or the stem).
public struct ResidualInput: Codable, Equatable, Sendable {
    public var kind: ResidualInputKind
    /// A spectrally normalized network is ≈ 1-Lipschitz and cannot amplify faint traces by itself, so
    /// each residual gets its own scale, as RGB has `inputScale`.
    public var scale: Float

    public init(kind: ResidualInputKind, scale: Float? = nil) {
        self.kind = kind
        self.scale = scale ?? ResidualInput.defaultScale(kind)
    }

    /// 256 for NPR, SRM and SRM's learned counterpart (whose kernels keep SRM's norms): on frame 10 of
    /// Samples/city.mp4 and Samples/cockatoo.mp4 the residuals' standard deviation is 0.02–0.08 (NPR)
    /// and 0.004–0.05 (SRM, per kernel) against 0.24–0.25 for the pixels, so 256 brings them to the
    /// spread of 64·(x − 0.5) (about 15).
    /// The contrast is a log ratio, spread about 1 (±2–3 at region edges and flat areas), so 8 brings
    /// it near the same spread.
    public static func defaultScale(_ kind: ResidualInputKind) -> Float {
        switch kind {
        case .npr, .srm, .constrained: return 256
        case .contrast: return 8
        }
    }
}

/// Architecture hyper-parameters of the detector; stored in model files and checkpoints. Fields
/// absent from stored metadata decode to their defaults (today's network), and defaults are not
/// written, so files of the standard architecture keep their metadata.
public struct DetectorArchitecture: Codable, Equatable, Sendable {
    /// Channel widths (w0, w1, w2) of the three resolution levels H/2, H/4, H/8.
    public var widths: [Int]
    /// Side of the square training patches (multiple of 16).
    public var patchSize: Int
    /// Side of the square inference windows the frame is tiled into (multiple of 16); attention is per window.
    public var window: Int
    /// Negative slope of LeakyReLU after every conv but the heads.
    public var leakySlope: Float
    /// Pixels enter as inputScale·(x − 0.5) (2 would map 0…1 to −1…1 as in SAGAN). A spectrally
    /// normalized network is ≈ 1-Lipschitz, so it can barely amplify faint pixel-level traces (noise
    /// correlation, a ±0.02 checkerboard): in the tiny test configuration scale 2 left such fakes at
    /// validation AUC ≈ 0.5–0.6 after 400–1500 steps; with scale 64 a supervised-only run reached 0.93
    /// in 400 steps and the trainer test reaches 1.0 in 800 steps.
    public var inputScale: Float
    /// Residual inputs stacked after the RGB channels, in this order (none by default). They are
    /// computed on the network's input, so a training patch and an inference window get the same
    /// filters; NPR's 2×2 blocks follow the input's origin, which is why inference windows start at
    /// multiples of 16 of the frame and training crops at even frame coordinates.
    public var residualInputs: [ResidualInput]
    /// Width of the optional full-resolution stem conv0 (k3, stride 1, SN + LeakyReLU) before the
    /// stride-2 conv1, so pixel-level traces meet a filter before any downsampling; 0 = no stem.
    public var stemWidth: Int

    public init(
        widths: [Int] = [16, 32, 64], patchSize: Int = 64, window: Int = 256, leakySlope: Float = 0.1,
        inputScale: Float = 64, residualInputs: [ResidualInput] = [], stemWidth: Int = 0
    ) {
        self.widths = widths; self.patchSize = patchSize; self.window = window; self.leakySlope = leakySlope
        self.inputScale = inputScale; self.residualInputs = residualInputs; self.stemWidth = stemWidth
    }

    private enum CodingKeys: String, CodingKey {
        case widths, patchSize, window, leakySlope, inputScale, residualInputs, stemWidth
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let standard = DetectorArchitecture()
        widths = try c.decodeIfPresent([Int].self, forKey: .widths) ?? standard.widths
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? standard.patchSize
        window = try c.decodeIfPresent(Int.self, forKey: .window) ?? standard.window
        leakySlope = try c.decodeIfPresent(Float.self, forKey: .leakySlope) ?? standard.leakySlope
        inputScale = try c.decodeIfPresent(Float.self, forKey: .inputScale) ?? standard.inputScale
        residualInputs = try c.decodeIfPresent([ResidualInput].self, forKey: .residualInputs) ?? []
        stemWidth = try c.decodeIfPresent(Int.self, forKey: .stemWidth) ?? 0
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(widths, forKey: .widths)
        try c.encode(patchSize, forKey: .patchSize)
        try c.encode(window, forKey: .window)
        try c.encode(leakySlope, forKey: .leakySlope)
        try c.encode(inputScale, forKey: .inputScale)
        if !residualInputs.isEmpty { try c.encode(residualInputs, forKey: .residualInputs) }
        if stemWidth != 0 { try c.encode(stemWidth, forKey: .stemWidth) }
    }

    /// The default architecture: widths 16-32-64, 64×64 training patches, 256×256 windows.
    public static let standard = DetectorArchitecture()

    /// Output stride: one logit per 8×8 input pixels.
    public static let stride = 8

    /// Channels entering the first convolution: RGB plus three per residual input.
    public var inputChannels: Int { 3 + 3 * residualInputs.count }

    /// Largest channel width of any level (and of the stem) a file may declare.
    public static let maximumWidth = 1024
    /// Largest training patch side.
    public static let maximumPatchSize = 512
    /// Largest inference window side: attention holds a (window/8)² × (window/8)² matrix per window.
    public static let maximumWindow = 1024
    /// Largest `estimatedForwardBytes` of one window (512 MiB); the scorer runs a few windows per batch
    /// on each of its lanes, so a model within this bound scans in a few GB at most.
    public static let maximumForwardBytes = 512.0 * 1024 * 1024

    /// Throws unless the configuration is buildable and within the limits above. Model files and
    /// checkpoints declare their architecture, so loaders call this before allocating anything.
    public func validate() throws {
        guard widths.count == 3, widths.allSatisfy({ $0 > 0 }), widths[2] % 8 == 0 else {
            throw DetectorError.invalidConfiguration("widths must be 3 positive values, the last divisible by 8, got \(widths)")
        }
        guard widths.allSatisfy({ $0 <= Self.maximumWidth }), stemWidth <= Self.maximumWidth else {
            throw DetectorError.invalidConfiguration(
                "widths must be at most \(Self.maximumWidth), got \(widths) (stem \(stemWidth))")
        }
        guard patchSize >= 16, patchSize % 16 == 0, window >= 16, window % 16 == 0 else {
            throw DetectorError.invalidConfiguration(
                "patch size and window must be multiples of 16 (≥ 16), got \(patchSize), \(window)")
        }
        guard patchSize <= Self.maximumPatchSize, window <= Self.maximumWindow else {
            throw DetectorError.invalidConfiguration(
                "patch size must be at most \(Self.maximumPatchSize) and window at most \(Self.maximumWindow), "
                    + "got \(patchSize), \(window)")
        }
        guard inputScale > 0, inputScale.isFinite else {
            throw DetectorError.invalidConfiguration("input scale must be positive, got \(inputScale)")
        }
        guard leakySlope > 0, leakySlope < 1 else {
            throw DetectorError.invalidConfiguration("leaky slope must be in (0, 1), got \(leakySlope)")
        }
        guard Set(residualInputs.map(\.kind)).count == residualInputs.count else {
            throw DetectorError.invalidConfiguration(
                "each residual input may appear once, got \(residualInputs.map(\.kind.rawValue))")
        }
        for r in residualInputs where !(r.scale > 0 && r.scale.isFinite) {
            throw DetectorError.invalidConfiguration("residual input \(r.kind.rawValue) needs a positive scale, got \(r.scale)")
        }
        guard stemWidth >= 0 else {
            throw DetectorError.invalidConfiguration("stem width must be 0 (no stem) or positive, got \(stemWidth)")
        }
        let bytes = estimatedForwardBytes(side: window)
        guard bytes <= Self.maximumForwardBytes else {
            throw DetectorError.invalidConfiguration(
                "one \(window)×\(window) window would need about \(Int(bytes / 1_048_576)) MiB (limit "
                    + "\(Int(Self.maximumForwardBytes / 1_048_576)) MiB); widths \(widths), stem \(stemWidth)")
        }
    }

    /// Parameter count of the network (weights and biases of every layer), computed in floating point so
    /// that absurd widths cannot overflow.
    public var estimatedParameterCount: Double {
        let cin = Double(inputChannels), s = Double(stemWidth)
        let w0 = Double(widths[0]), w1 = Double(widths[1]), w2 = Double(widths[2])
        let stem = s > 0 ? 9 * cin * s + s : 0
        let filters: Double = residualInputs.contains { $0.kind == .constrained } ? 75 : 0
        let convs = 16 * (s > 0 ? s : cin) * w0 + 9 * w0 * w0 + 16 * w0 * w1 + 16 * w1 * w2 + 9 * w2 * w2
        let attention = 2 * w2 * w2 / 8 + w2 * w2 / 2 + w2 / 2 * w2
        return filters + stem + convs + attention + 4 * w2 + 2 * (w0 + w1) + 2
    }

    /// Bytes of one forward of a batch of `batch` side×side inputs, an upper estimate: the parameters four
    /// times (weights, spectrally normalized copy, Winograd transform, slack), and twice every layer's
    /// input, im2col workspace and output plus attention's T×T matrix (T = (side/8)² positions). The
    /// standard network's 256-pixel window estimates ≈ 60 MiB; window 1024 with the same widths ≈ 2.8 GiB.
    public func estimatedForwardBytes(side: Int, batch: Int = 1) -> Double {
        guard widths.count == 3 else { return .infinity }
        let cin = Double(inputChannels), s = Double(stemWidth)
        let w0 = Double(widths[0]), w1 = Double(widths[1]), w2 = Double(widths[2])
        let p = Double(side) * Double(side), t = p / 64
        var floats = (3 + cin) * p  // input and its scaled copy
        if s > 0 { floats += (9 * cin + s) * p }  // stem: im2col and output
        floats += (16 * (s > 0 ? s : cin) + w0) * p / 4  // conv1
        floats += (9 * w0 + w0) * p / 4  // conv2
        floats += (16 * w0 + w1) * p / 16  // conv3
        floats += (16 * w1 + w2) * p / 64  // conv4
        floats += (2 * w2 / 8 + w2 / 2 + w2) * t + t * t  // attention: q, k, v, output, T×T weights
        floats += (9 * w2 + w2 + 1) * t  // conv5 and the patch head
        return 4 * (4 * estimatedParameterCount + 2 * floats * Double(max(1, batch)))
    }

    /// (kernel, stride, padding) of every stage between a pixel and a logit cell, in order: the
    /// widest residual filter (the energy contrast's SRM then 65-pixel box, 69 with padding 34; SRM
    /// and its constrained counterpart 5×5 with padding 2; NPR reaches one pixel up and left, as a 2×2
    /// kernel with padding 1), the stem, then conv1 … conv5 and the patch head.
    var fieldStages: [(kernel: Int, stride: Int, padding: Int)] {
        var stages: [(kernel: Int, stride: Int, padding: Int)] = []
        if residualInputs.contains(where: { $0.kind == .contrast }) {
            let r = SRMEnergyContrast.defaultContextRadius
            stages.append((5 + 2 * r, 1, 2 + r))
        } else if residualInputs.contains(where: { $0.kind == .srm || $0.kind == .constrained }) {
            stages.append((5, 1, 2))
        } else if residualInputs.contains(where: { $0.kind == .npr }) {
            stages.append((2, 1, 1))
        }
        if stemWidth > 0 { stages.append((3, 1, 1)) }
        return stages + Discriminator.convKernelsAndStrides.map { ($0.0, $0.1, Discriminator.padding($0.0)) }
    }

    /// Receptive field of one patch logit through the conv path, by r_out = r_in + (k − 1)·j_in,
    /// j_out = j_in·s over `fieldStages`; for the standard network (k, s) = (4,2), (3,1), (4,2), (4,2),
    /// (3,1), (1,1): 42 pixels, jump 8. The attention block adds a window-global path (weighted by its
    /// learned γ, initially 0).
    public var receptiveField: (size: Int, jump: Int) {
        var r = 1, j = 1
        for stage in fieldStages {
            r += (stage.kernel - 1) * j
            j *= stage.stride
        }
        return (r, j)
    }

    /// Input x of the first pixel of cell 0's receptive field: Σ −p·j over `fieldStages` (−17 for the
    /// standard network).
    public var receptiveFieldOffset: Int {
        var l = 0, j = 1
        for stage in fieldStages { l -= stage.padding * j; j *= stage.stride }
        return l
    }
}

/// The detector (Miyato 2018 spectral norm on every conv, Zhang 2018 SAGAN attention at H/8,
/// small receptive field after Chai et al. 2020 "What makes fake images detectable?").
///
/// Layers (each conv SN + fused LeakyReLU except the heads):
/// [input: inputScale·(x − 0.5) and each residual input × its scale, Cin channels] ·
/// [conv0 Cin→s k3 s1, with a stem] · conv1 (s or Cin)→w0 k4 s2 · conv2 w0→w0 k3 · conv3 w0→w1 k4 s2 ·
/// conv4 w1→w2 k4 s2 · attention(w2) · conv5 w2→w2 k3 · patch head w2→1 k1 ·
/// global head: average pool + SN linear w2→1.
public final class Discriminator: ModuleContainer {
    public var isTraining = true { didSet { propagateTrainingMode() } }
    public let architecture: DetectorArchitecture
    /// Whether backward computes dLoss/dImage (needed to train a generator through D). A residual input
    /// with parameters needs the first convolution's input gradient either way, for its own gradient.
    public var needsInputGradient: Bool {
        get { inputGradientRequested }
        set {
            inputGradientRequested = newValue
            firstConv.inner.needsInputGradient = newValue || hasLearnedResidualInput
        }
    }
    private var inputGradientRequested = true
    private var hasLearnedResidualInput: Bool { learnedResidualInputs.contains(true) }

    /// (kernel, stride) of the conv path from conv1 on, in order, for the receptive field.
    static let convKernelsAndStrides = [(4, 2), (3, 1), (4, 2), (4, 2), (3, 1), (1, 1)]

    /// The full-resolution stem (nil without one).
    public let conv0: SNConv2D?
    public let conv1: SNConv2D, conv2: SNConv2D, conv3: SNConv2D, conv4: SNConv2D
    public let attention: SelfAttention
    public let conv5: SNConv2D
    public let patchHead: SNConv2D
    public let globalHead: SNLinear
    /// The filters of `architecture.residualInputs`, in order (fixed, or learned under a constraint).
    private let residualFilters: [Layer]
    /// Whether each residual filter has parameters (a place in `children`, a gradient to compute).
    private let learnedResidualInputs: [Bool]
    private let pool = GlobalAvgPool()
    private let scaled = Tensor(shape: [0])  // (N, Cin, H, W) inputScale·(x − 0.5), then scale·residual
    private let dResidual = Tensor(shape: [0])  // (N, 3, H, W) one residual input's gradient
    private let dInput = Tensor(shape: [0])  // (N, 3, H, W)
    private var firstConv: SNConv2D { conv0 ?? conv1 }

    /// Builds D with weights drawn from `seed` (PyTorch default init, u ~ N(0,1) normalized); the
    /// standard architecture draws exactly as it always has.
    public init(architecture: DetectorArchitecture = .standard, seed: UInt64 = 0) {
        precondition((try? architecture.validate()) != nil, "Discriminator: invalid architecture \(architecture)")
        self.architecture = architecture
        var rng = RandomGenerator(seed: seed)
        let w = architecture.widths, stem = architecture.stemWidth, cin = architecture.inputChannels
        func conv(_ i: Int, _ o: Int, _ k: Int, _ s: Int, _ p: Int) -> SNConv2D {
            SNConv2D(inChannels: i, outChannels: o, kernelSize: k, stride: s, padding: p, rng: &rng)
        }
        conv0 = stem > 0 ? conv(cin, stem, 3, 1, 1) : nil
        conv1 = conv(stem > 0 ? stem : cin, w[0], 4, 2, 1)
        conv2 = conv(w[0], w[0], 3, 1, 1)
        conv3 = conv(w[0], w[1], 4, 2, 1)
        conv4 = conv(w[1], w[2], 4, 2, 1)
        attention = SelfAttention(channels: w[2], rng: &rng)
        conv5 = conv(w[2], w[2], 3, 1, 1)
        patchHead = conv(w[2], 1, 1, 1, 0)
        globalHead = SNLinear(inFeatures: w[2], outFeatures: 1, rng: &rng)
        for c in [conv0, conv1, conv2, conv3, conv4, conv5].compactMap({ $0 }) {
            c.inner.fusedActivation = .leakyReLU(architecture.leakySlope)
        }
        residualFilters = architecture.residualInputs.map { r -> Layer in
            switch r.kind {
            case .npr: return NearestResidual2x()
            case .srm: return SRMResidual()
            case .contrast: return SRMEnergyContrast()
            case .constrained: return ConstrainedHighPass()
            }
        }
        learnedResidualInputs = residualFilters.map { !$0.namedParameters().isEmpty }
    }

    /// Sub-modules under their state-dictionary prefixes, in forward order: the residual filters
    /// with parameters, named by their kind, then the convolutions.
    public var children: [(String, Module)] {
        residualFilters.indices.filter { learnedResidualInputs[$0] }
            .map { (architecture.residualInputs[$0].kind.rawValue, residualFilters[$0] as Module) }
            + (conv0.map { [("conv0", $0 as Module)] } ?? []) + [
                ("conv1", conv1), ("conv2", conv2), ("conv3", conv3), ("conv4", conv4), ("attn", attention),
                ("conv5", conv5), ("patch_head", patchHead), ("global_head", globalHead),
            ]
    }

    /// Forward: images (N, 3, H, W) in 0…1, H and W multiples of 16 → patch logits (N, 1, H/8, W/8)
    /// and global logits (N, 1). Pixels 0…1 are first mapped to inputScale·(x − 0.5); each residual
    /// input of x follows as three more channels times its scale.
    public func forward(_ x: Tensor) -> (patch: Tensor, global: Tensor) {
        x.expect4D("Discriminator.forward")
        precondition(
            x.shape[1] == 3 && x.shape[2] % 16 == 0 && x.shape[3] % 16 == 0 && x.shape[2] > 0 && x.shape[3] > 0,
            "Discriminator.forward: need (N, 3, H, W) with H, W multiples of 16, got \(x.shape)")
        let N = x.shape[0], plane = x.shape[2] * x.shape[3], cin = architecture.inputChannels
        scaled.resize(to: [N, cin, x.shape[2], x.shape[3]])
        let k = architecture.inputScale
        for n in 0..<N {
            let src = x.pointer + n * 3 * plane, dst = scaled.pointer + n * cin * plane
            for i in 0..<(3 * plane) { dst[i] = k * (src[i] - 0.5) }
        }
        for (r, filter) in residualFilters.enumerated() {
            let residual = filter.forward(x), scale = architecture.residualInputs[r].scale  // (N, 3, H, W)
            for n in 0..<N {
                let src = residual.pointer + n * 3 * plane, dst = scaled.pointer + (n * cin + 3 + 3 * r) * plane
                for i in 0..<(3 * plane) { dst[i] = scale * src[i] }
            }
        }
        var h = conv0?.forward(scaled) ?? scaled  // (N, s, H, W) with a stem
        h = conv1.forward(h)  // (N, w0, H/2, W/2)
        h = conv2.forward(h)  // (N, w0, H/2, W/2)
        h = conv3.forward(h)  // (N, w1, H/4, W/4)
        h = conv4.forward(h)  // (N, w2, H/8, W/8)
        h = attention.forward(h)  // (N, w2, H/8, W/8)
        h = conv5.forward(h)  // (N, w2, H/8, W/8)
        let patch = patchHead.forward(h)  // (N, 1, H/8, W/8)
        let global = globalHead.forward(pool.forward(h))  // (N, 1)
        return (patch, global)
    }

    /// Backward from dLoss/dPatch (N, 1, H/8, W/8) and dLoss/dGlobal (N, 1); returns dLoss/dImages
    /// (zero-size when `needsInputGradient` is false). Accumulates into parameter gradients.
    public func backward(dPatch: Tensor, dGlobal: Tensor) -> Tensor {
        let dPooled = globalHead.backward(dGlobal)  // (N, w2)
        let dh = pool.backward(dPooled)  // (N, w2, H/8, W/8)
        let dhPatch = patchHead.backward(dPatch)  // (N, w2, H/8, W/8)
        accumulate(dhPatch.pointer, into: dh.pointer, count: dh.count)
        var d = conv5.backward(dh)  // (N, w2, H/8, W/8)
        d = attention.backward(d)  // (N, w2, H/8, W/8)
        d = conv4.backward(d)  // (N, w1, H/4, W/4)
        d = conv3.backward(d)  // (N, w0, H/2, W/2)
        d = conv2.backward(d)  // (N, w0, H/2, W/2)
        d = conv1.backward(d)  // (N, s or Cin, H, W) or zero-size
        if let conv0 { d = conv0.backward(d) }  // (N, Cin, H, W) or zero-size
        guard d.count > 0 else {
            dInput.resize(to: d.shape)
            return dInput
        }
        // Here for the image's gradient, or only for a learned residual filter's parameters.
        let wanted = inputGradientRequested
        let N = d.shape[0], H = d.shape[2], W = d.shape[3], plane = H * W, cin = architecture.inputChannels
        dInput.resize(to: wanted ? [N, 3, H, W] : [0])
        let k = architecture.inputScale
        for n in 0..<N where wanted {
            let src = d.pointer + n * cin * plane, dst = dInput.pointer + n * 3 * plane
            for i in 0..<(3 * plane) { dst[i] = k * src[i] }
        }
        for (r, filter) in residualFilters.enumerated().reversed() where wanted || learnedResidualInputs[r] {
            let scale = architecture.residualInputs[r].scale
            dResidual.resize(to: [N, 3, H, W])
            for n in 0..<N {
                let src = d.pointer + (n * cin + 3 + 3 * r) * plane, dst = dResidual.pointer + n * 3 * plane
                for i in 0..<(3 * plane) { dst[i] = scale * src[i] }
            }
            let dx = filter.backward(dResidual)  // (N, 3, H, W)
            if wanted { accumulate(dx.pointer, into: dInput.pointer, count: dInput.count) }
        }
        return dInput
    }

    /// Analytic FLOPs (2 × multiply–adds) of one forward at input (N, 3, H, W): input scaling, residual
    /// filters, convs, attention (its 1×1 convs and both batched products), heads. Per input pixel for
    /// the standard network (widths 16-32-64, 256² windows): 6 + 384 + 1152 + 1024 + 1024 + 480 + 1152 +
    /// 2 ≈ 5,224.
    public func forwardFLOPs(inputShape s: [Int]) -> Double {
        let N = s[0], H = s[2], W = s[3], w = architecture.widths, cin = architecture.inputChannels
        var f = 2.0 * Double(N * 3 * H * W)  // input scaling
        for r in architecture.residualInputs {
            f += Double(N * 3 * H * W)  // residual scaling
            switch r.kind {
            case .npr: f += NearestResidual2x.forwardFLOPs(inputShape: [N, 3, H, W])
            case .srm: f += SRMResidual.forwardFLOPs(inputShape: [N, 3, H, W])
            case .contrast: f += SRMEnergyContrast.forwardFLOPs(inputShape: [N, 3, H, W])
            case .constrained: f += ConstrainedHighPass.forwardFLOPs(inputShape: [N, 3, H, W])
            }
        }
        if let conv0 { f += conv0.inner.forwardFLOPs(inputShape: [N, cin, H, W]) }
        f += conv1.inner.forwardFLOPs(inputShape: [N, conv1.inner.inChannels, H, W])
        f += conv2.inner.forwardFLOPs(inputShape: [N, w[0], H / 2, W / 2])
        f += conv3.inner.forwardFLOPs(inputShape: [N, w[0], H / 2, W / 2])
        f += conv4.inner.forwardFLOPs(inputShape: [N, w[1], H / 4, W / 4])
        f += attention.forwardFLOPs(inputShape: [N, w[2], H / 8, W / 8])
        f += conv5.inner.forwardFLOPs(inputShape: [N, w[2], H / 8, W / 8])
        f += patchHead.inner.forwardFLOPs(inputShape: [N, w[2], H / 8, W / 8])
        f += globalHead.inner.forwardFLOPs(batch: N)
        return f
    }

    /// FLOPs per input pixel of one window (attention cost depends on the window size).
    public var flopsPerPixel: Double {
        let n = architecture.window
        return forwardFLOPs(inputShape: [1, 3, n, n]) / Double(n * n)
    }
}
