// Owns the residual filters a detector can read beside the pixels: the fixed (parameter-free)
// NearestResidual2x (NPR, x − up(down(x))) and SRMResidual (three SRM high-pass kernels on luminance,
// reflect padding), each a linear forward/backward pair, and SRMEnergyContrast (the SRM residuals'
// local energy against their surroundings, log ratio), a nonlinear one; and ConstrainedHighPass,
// SRM's kernels made learnable under a zero-sum constraint, the one with parameters.
// Glossary: N batch, C channels, H/W plane size, Hp = H + 4, Wp = W + 4 the reflect-padded plane.
import Foundation

/// Neighbouring-pixel residual, NPR (Tan et al., "Rethinking the Up-Sampling Operations in CNN-based
/// Generative Network for Generalizable Deepfake Detection", CVPR 2024): y = x − up(down(x)) with
/// 2× nearest down- and upsampling (PyTorch `F.interpolate(…, scale_factor=0.5 / 2, mode="nearest")`),
/// i.e. every pixel minus the top-left pixel of its 2×2 block. Upsampling layers leave correlations
/// inside such blocks; the residual keeps only them. The blocks start at the input's (0, 0), so the
/// caller decides which grid the residual sees. H and W must be even.
public final class NearestResidual2x: Layer {
    public var isTraining = true
    private let buffers = PlaneBuffers(name: "NearestResidual2x")
    public init() {}

    public func forward(_ x: Tensor) -> Tensor {  // (N, C, H, W) → (N, C, H, W)
        let (NC, H, W) = buffers.beginForward(x) { [$0, $1] }
        precondition(H % 2 == 0 && W % 2 == 0, "NearestResidual2x.forward: H and W must be even, got \(x.shape)")
        let output = buffers.output
        for m in 0..<NC {
            let s = x.pointer + m * H * W, d = output.pointer + m * H * W
            for i in Swift.stride(from: 0, to: H, by: 2) {
                let s0 = s + i * W, s1 = s0 + W, d0 = d + i * W, d1 = d0 + W
                for j in Swift.stride(from: 0, to: W, by: 2) {
                    let anchor = s0[j]
                    d0[j] = 0; d0[j + 1] = s0[j + 1] - anchor
                    d1[j] = s1[j] - anchor; d1[j + 1] = s1[j + 1] - anchor
                }
            }
        }
        return output
    }

    /// dx = dy, except at each block's top-left pixel: dx = −(sum of dy over the block's other three).
    public func backward(_ dy: Tensor) -> Tensor {
        let (NC, H, W) = buffers.beginBackward(dy)
        let dInput = buffers.dInput
        for m in 0..<NC {
            let g = dy.pointer + m * H * W, d = dInput.pointer + m * H * W
            for i in Swift.stride(from: 0, to: H, by: 2) {
                let g0 = g + i * W, g1 = g0 + W, d0 = d + i * W, d1 = d0 + W
                for j in Swift.stride(from: 0, to: W, by: 2) {
                    let b = g0[j + 1], c = g1[j], e = g1[j + 1]
                    d0[j] = -(b + c + e); d0[j + 1] = b
                    d1[j] = c; d1[j + 1] = e
                }
            }
        }
        return dInput
    }

    /// FLOPs of one forward at (N, C, H, W): one subtraction per value (three of every four, counted as all).
    public static func forwardFLOPs(inputShape s: [Int]) -> Double { Double(s[0] * s[1] * s[2] * s[3]) }
}

/// Three fixed high-pass filters of the spatial rich model, SRM (Fridrich & Kodovsky, "Rich Models for
/// Steganalysis of Digital Images", IEEE TIFS 2012; the three 5×5 kernels used by Zhou et al., "Learning
/// Rich Features for Image Manipulation Detection", CVPR 2018), applied to the luminance
/// L = 0.299 R + 0.587 G + 0.114 B with reflect padding 2 (PyTorch `F.pad(…, mode="reflect")`):
/// (N, 3, H, W) → (N, 3, H, W), one channel per kernel. Luminance rather than each colour: the kernels were
/// designed for one-channel noise residuals, cameras and 4:2:0 codecs keep full-resolution detail only in
/// luma (chroma high-pass mostly shows the codec's chroma upsampling), and three channels instead of nine
/// keep the first convolution cheap. Reflect padding keeps an input's border from reading as an edge.
/// H and W must be at least 3.
public final class SRMResidual: Layer {
    public var isTraining = true
    /// Luminance weights of R, G, B (BT.601).
    public static let luminanceWeights: [Float] = [0.299, 0.587, 0.114]
    /// The three 5×5 kernels, row-major: second-order 3×3 "KB" / 4, 5×5 "KV" / 12, horizontal
    /// second-order difference / 2.
    public static let kernels: [[Float]] = [
        [
            0, 0, 0, 0, 0,
            0, -1, 2, -1, 0,
            0, 2, -4, 2, 0,
            0, -1, 2, -1, 0,
            0, 0, 0, 0, 0,
        ].map { $0 / 4 },
        [
            -1, 2, -2, 2, -1,
            2, -6, 8, -6, 2,
            -2, 8, -12, 8, -2,
            2, -6, 8, -6, 2,
            -1, 2, -2, 2, -1,
        ].map { $0 / 12 },
        [
            0, 0, 0, 0, 0,
            0, 0, 0, 0, 0,
            0, 1, -2, 1, 0,
            0, 0, 0, 0, 0,
            0, 0, 0, 0, 0,
        ].map { $0 / 2 },
    ]
    /// The non-zero taps of each kernel.
    private static let taps = LuminanceFilterBank.taps(kernels)

    private let bank = LuminanceFilterBank(name: "SRMResidual")

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {  // (N, 3, H, W) → (N, 3, H, W)
        bank.forward(x, taps: Self.taps)
    }

    public func backward(_ dy: Tensor) -> Tensor { bank.backward(dy, taps: Self.taps) }

    /// FLOPs of one forward at (N, 3, H, W): 5 per pixel for the luminance, 2 per non-zero tap (37 taps).
    public static func forwardFLOPs(inputShape s: [Int]) -> Double {
        LuminanceFilterBank.forwardFLOPs(inputShape: s, taps: Self.taps.reduce(0) { $0 + $1.count })
    }
}

/// A learned counterpart of `SRMResidual` after Bayar & Stamm ("A Deep Learning Approach to Universal
/// Image Manipulation Detection Using a New Convolutional Layer", IH&MMSec 2016): three 5×5 kernels on
/// the luminance, reflect padding 2, each constrained to sum to zero, so that it predicts a pixel from
/// its neighbours and passes only the prediction error, never the image's content. The constraint is a
/// reparametrization rather than a projection after each optimizer step, so every optimizer and every
/// loaded file keep it: kernel k is n_k · u / ‖u‖ with u = v_k − mean(v_k), where v (3 × 25, row-major
/// 5×5) is the free parameter and n_k the norm of SRM's kernel k. Fixing the norm keeps the output's
/// spread where `SRMResidual`'s is, so the same input scale suits both. v starts as SRM's kernels, so an
/// untrained layer is `SRMResidual` and training moves it from there.
public final class ConstrainedHighPass: Layer {
    public var isTraining = true
    /// The free parameters v, (3, 25).
    public let weight: Tensor
    public let dWeight: Tensor
    /// Each kernel's norm: that of SRM's kernel k.
    public static let norms: [Float] = SRMResidual.kernels.map { k in k.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    private let bank = LuminanceFilterBank(name: "ConstrainedHighPass")
    private var taps: [[LuminanceFilterBank.Tap]] = []  // the effective kernels of the last forward
    private var directions: [(unit: [Float], norm: Double)] = []  // `direction(k)` of the last forward
    private let kernelGradient = Tensor(shape: [3, 25])  // dLoss/d(effective kernels)

    public init() {
        weight = Tensor(shape: [3, 25], data: SRMResidual.kernels.flatMap { $0 })
        dWeight = Tensor(shape: [3, 25])
    }

    public func namedParameters() -> [NamedParameter] { [NamedParameter(name: "weight", value: weight, gradient: dWeight)] }

    /// The three effective kernels, row-major 5×5: zero-sum, norm `norms[k]`; all zero for a row of v
    /// whose entries are all equal (no direction to normalize).
    public func effectiveKernels() -> [[Float]] { kernels((0..<3).map(direction)) }

    public func forward(_ x: Tensor) -> Tensor {  // (N, 3, H, W) → (N, 3, H, W)
        directions = (0..<3).map(direction)
        taps = LuminanceFilterBank.taps(kernels(directions))
        return bank.forward(x, taps: taps)
    }

    /// dx through the effective kernels; dv += J_vᵀ g, where g = dLoss/dw and, per kernel,
    /// dLoss/du = (n/r)(g − û(û·g)) with û = u/r, then dLoss/dv = dLoss/du − mean(dLoss/du).
    public func backward(_ dy: Tensor) -> Tensor {
        let dx = bank.backward(dy, taps: taps)
        kernelGradient.zero()
        bank.accumulateKernelGradient(dy, into: kernelGradient.pointer)
        for k in 0..<3 {
            let (unit, r) = directions[k]
            guard r > 0 else { continue }
            let g = kernelGradient.pointer + 25 * k
            var dot: Double = 0
            for t in 0..<25 { dot += Double(unit[t]) * Double(g[t]) }
            let factor = Double(Self.norms[k]) / r
            let du = (0..<25).map { t in factor * (Double(g[t]) - Double(unit[t]) * dot) }
            let mean = du.reduce(0, +) / 25
            for t in 0..<25 { dWeight.pointer[25 * k + t] += Float(du[t] - mean) }
        }
        return dx
    }

    /// FLOPs of one forward at (N, 3, H, W): 5 per pixel for the luminance, 2 per tap (75 taps).
    public static func forwardFLOPs(inputShape s: [Int]) -> Double { LuminanceFilterBank.forwardFLOPs(inputShape: s, taps: 75) }

    /// norms[k] times each row's unit vector.
    private func kernels(_ directions: [(unit: [Float], norm: Double)]) -> [[Float]] {
        directions.enumerated().map { k, d in d.unit.map { Self.norms[k] * $0 } }
    }

    /// Row k of v minus its mean as a unit vector, and that difference's norm r (0, with a zero vector,
    /// when the row has no direction). In Double, so that a loaded file's extreme values cannot
    /// overflow the sums.
    private func direction(_ k: Int) -> (unit: [Float], norm: Double) {
        let v = UnsafeBufferPointer(start: weight.pointer + 25 * k, count: 25).map(Double.init)
        let mean = v.reduce(0, +) / 25
        let u = v.map { $0 - mean }
        let r = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard r > 0, r.isFinite else { return ([Float](repeating: 0, count: 25), 0) }
        return (u.map { Float($0 / r) }, r)
    }
}

/// Three 5×5 kernels on the luminance L = 0.299 R + 0.587 G + 0.114 B of (N, 3, H, W) with reflect
/// padding 2, (N, 3, H, W) out, one channel per kernel: the arithmetic `SRMResidual` and
/// `ConstrainedHighPass` share, the kernels given as taps.
final class LuminanceFilterBank {
    /// (row offset, column offset, weight), offsets in −2…2.
    typealias Tap = (dy: Int, dx: Int, w: Float)

    private let name: String
    private let buffers: PlaneBuffers
    private let padded = Tensor(shape: [0])  // (Hp, Wp) luminance of one image, reflect-padded
    private let dPadded = Tensor(shape: [0])  // (Hp, Wp)
    private var input: Tensor?

    /// `name`: the owning layer's, for messages.
    init(name: String) {
        self.name = name
        buffers = PlaneBuffers(name: name)
    }

    /// The non-zero taps of each row-major 5×5 kernel.
    static func taps(_ kernels: [[Float]]) -> [[Tap]] {
        kernels.map { k in (0..<25).compactMap { k[$0] == 0 ? nil : ($0 / 5 - 2, $0 % 5 - 2, k[$0]) } }
    }

    static func forwardFLOPs(inputShape s: [Int], taps: Int) -> Double { Double(s[0] * s[2] * s[3] * (5 + 2 * taps)) }

    func forward(_ x: Tensor, taps: [[Tap]]) -> Tensor {
        let (NC, H, W) = buffers.beginForward(x) { [$0, $1] }
        precondition(
            x.shape[1] == 3 && H >= 3 && W >= 3, "\(name).forward: need (N, 3, H ≥ 3, W ≥ 3), got \(x.shape)")
        input = x
        let N = NC / 3, Wp = W + 4, plane = H * W
        let output = buffers.output
        for n in 0..<N {
            padLuminance(x, image: n)
            let p = padded.pointer
            for (k, taps) in taps.enumerated() {
                let d = output.pointer + (3 * n + k) * plane
                for y in 0..<H {
                    // all taps of one output row at once, 8 pixels per step
                    let origin = p + (y + 2) * Wp + 2, dst = d + y * W
                    var xo = 0
                    while xo + 8 <= W {
                        var acc = SIMD8<Float>(repeating: 0)
                        for tap in taps {
                            acc +=
                                tap.w * UnsafeRawPointer(origin + tap.dy * Wp + tap.dx + xo).loadUnaligned(as: SIMD8<Float>.self)
                        }
                        UnsafeMutableRawPointer(dst + xo).storeBytes(of: acc, as: SIMD8<Float>.self)
                        xo += 8
                    }
                    while xo < W {
                        var acc: Float = 0
                        for tap in taps { acc += tap.w * origin[tap.dy * Wp + tap.dx + xo] }
                        dst[xo] = acc
                        xo += 1
                    }
                }
            }
        }
        return output
    }

    /// The transposed filters into the padded plane, the padding folded back onto the pixels it
    /// reflects, then dR, dG, dB = (0.299, 0.587, 0.114) · dL.
    func backward(_ dy: Tensor, taps: [[Tap]]) -> Tensor {
        let (NC, H, W) = buffers.beginBackward(dy)
        let N = NC / 3, Hp = H + 4, Wp = W + 4, plane = H * W
        dPadded.resize(to: [Hp, Wp])
        let dInput = buffers.dInput, dp = dPadded.pointer
        for n in 0..<N {
            dPadded.zero()
            for (k, taps) in taps.enumerated() {
                let g = dy.pointer + (3 * n + k) * plane
                for tap in taps {
                    for y in 0..<H {
                        let dst = dp + (y + 2 + tap.dy) * Wp + 2 + tap.dx, src = g + y * W
                        for xo in 0..<W { dst[xo] += tap.w * src[xo] }
                    }
                }
            }
            let dr = dInput.pointer + 3 * n * plane, dg = dr + plane, db = dg + plane
            for i in 0..<plane { dr[i] = 0 }
            for y in 0..<Hp {
                let sy = reflectIndex(y - 2, H), row = dp + y * Wp
                for xp in 0..<Wp { dr[sy * W + reflectIndex(xp - 2, W)] += row[xp] }
            }
            let (wr, wg, wb) = luminanceWeights
            for i in 0..<plane {
                let dl = dr[i]
                dr[i] = wr * dl; dg[i] = wg * dl; db[i] = wb * dl
            }
        }
        return dInput
    }

    /// Adds dLoss/d(kernel k, tap t) = Σ over images and pixels of dy_k · the padded luminance under
    /// tap t into `gradient` (3 × 25, row-major 5×5), for every tap, zero or not. Rows are summed in
    /// Float, 8 lanes, and rows into a Double.
    func accumulateKernelGradient(_ dy: Tensor, into gradient: UnsafeMutablePointer<Float>) {
        guard let x = input else { preconditionFailure("\(name).backward before forward") }
        let N = x.shape[0], H = x.shape[2], W = x.shape[3], Wp = W + 4, plane = H * W
        dy.expectShape([N, 3, H, W], "\(name).backward dOutput")
        var sums = [Double](repeating: 0, count: 75)
        for n in 0..<N {
            padLuminance(x, image: n)
            let p = padded.pointer
            for k in 0..<3 {
                let g = dy.pointer + (3 * n + k) * plane
                for t in 0..<25 {
                    let ty = t / 5 - 2, tx = t % 5 - 2
                    var total: Double = 0
                    for y in 0..<H {
                        let src = p + (y + 2 + ty) * Wp + 2 + tx, row = g + y * W
                        var acc = SIMD8<Float>(repeating: 0), tail: Float = 0
                        var xo = 0
                        while xo + 8 <= W {
                            acc +=
                                UnsafeRawPointer(row + xo).loadUnaligned(as: SIMD8<Float>.self)
                                * UnsafeRawPointer(src + xo).loadUnaligned(as: SIMD8<Float>.self)
                            xo += 8
                        }
                        while xo < W {
                            tail += row[xo] * src[xo]
                            xo += 1
                        }
                        total += Double(acc.sum() + tail)
                    }
                    sums[25 * k + t] += total
                }
            }
        }
        for i in 0..<75 { gradient[i] += Float(sums[i]) }
    }

    private var luminanceWeights: (Float, Float, Float) {
        (SRMResidual.luminanceWeights[0], SRMResidual.luminanceWeights[1], SRMResidual.luminanceWeights[2])
    }

    /// Writes image n's luminance, reflect-padded by 2, into `padded` (Hp, Wp).
    private func padLuminance(_ x: Tensor, image n: Int) {
        let H = x.shape[2], W = x.shape[3], Hp = H + 4, Wp = W + 4, plane = H * W
        padded.resize(to: [Hp, Wp])
        let p = padded.pointer, (wr, wg, wb) = luminanceWeights
        let r = x.pointer + 3 * n * plane, g = r + plane, b = g + plane
        for y in 0..<Hp {
            let sy = reflectIndex(y - 2, H), row = p + y * Wp + 2, i0 = sy * W
            for xo in 0..<W { row[xo] = wr * r[i0 + xo] + wg * g[i0 + xo] + wb * b[i0 + xo] }
            for e in 1...2 {
                row[-e] = row[reflectIndex(-e, W)]
                row[W - 1 + e] = row[reflectIndex(W - 1 + e, W)]
            }
        }
    }

    /// Reflect i into 0..<n without repeating the edge (PyTorch "reflect"; |i| < n).
    @inline(__always) private func reflectIndex(_ i: Int, _ n: Int) -> Int {
        i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i)
    }
}

/// Local against surrounding noise energy of the SRM residuals: for each of `SRMResidual`'s three
/// channels s_k, y_k = log(mean over a (2a + 1)² box of s_k² + ε) − log(mean over a (2b + 1)² box of
/// s_k² + ε), boxes centred on the pixel and clipped to the input (each mean over the pixels inside;
/// PyTorch `F.avg_pool2d(…, count_include_pad=False)`). A region re-synthesised, resampled, denoised,
/// recompressed or pasted from another camera carries another residual energy than the frame around
/// it; the ratio shows that departure at each pixel against 65 pixels of surroundings by default,
/// wider than a logit cell's own receptive field, and is the same whatever the frame's overall noise
/// level. ε = (1/255)² keeps flat and clipped areas (energy near zero) from reading as large ratios.
/// (N, 3, H, W) → (N, 3, H, W); H and W at least 3 (the SRM filters).
public final class SRMEnergyContrast: Layer {
    public var isTraining = true
    /// Radii a and b of the local and the surrounding box.
    public let localRadius: Int, contextRadius: Int
    public static let defaultLocalRadius = 4, defaultContextRadius = 32
    public static let epsilon: Float = 1.0 / (255 * 255)

    private let srm = SRMResidual()
    private let buffers = PlaneBuffers(name: "SRMEnergyContrast")
    private var residual = Tensor(shape: [0])  // (N, 3, H, W) the SRM output of the last forward
    private let energy = Tensor(shape: [0])  // (N, 3, H, W) s², then in backward the surrounding box's share of dE
    private let local = Tensor(shape: [0]), context = Tensor(shape: [0])  // (N, 3, H, W) box means + ε
    private let scratch = Tensor(shape: [0])  // (H, W) one plane of dy / (box mean + ε)
    private let rowSums = Tensor(shape: [0])  // (H, W) the row pass of a box filter
    private let dResidual = Tensor(shape: [0])  // (N, 3, H, W)
    private var columnSums: [Double] = []  // (W)

    public init(localRadius: Int = defaultLocalRadius, contextRadius: Int = defaultContextRadius) {
        precondition(localRadius >= 0 && contextRadius >= 0, "SRMEnergyContrast: radii must be ≥ 0")
        self.localRadius = localRadius; self.contextRadius = contextRadius
    }

    public func forward(_ x: Tensor) -> Tensor {  // (N, 3, H, W) → (N, 3, H, W)
        let (planes, H, W) = buffers.beginForward(x) { [$0, $1] }
        residual = srm.forward(x)
        let count = planes * H * W, plane = H * W
        energy.resize(to: x.shape); local.resize(to: x.shape); context.resize(to: x.shape)
        scratch.resize(to: [H, W])
        let s = residual.pointer, e = energy.pointer, y = buffers.output.pointer
        for i in 0..<count { e[i] = s[i] * s[i] }
        let localBox = BoxCounts(H, W, radius: localRadius), contextBox = BoxCounts(H, W, radius: contextRadius)
        for m in 0..<planes {
            let o = m * plane
            boxFilter(e + o, into: local.pointer + o, localBox, transposed: false)
            boxFilter(e + o, into: context.pointer + o, contextBox, transposed: false)
        }
        let a = local.pointer, b = context.pointer
        for i in 0..<count {
            a[i] += Self.epsilon; b[i] += Self.epsilon
            y[i] = log(a[i] / b[i])  // one logarithm instead of two: most of this layer's time
        }
        return buffers.output
    }

    /// dE = meanᵀ_a(dy / local) − meanᵀ_b(dy / context), ds = 2·s·dE, then SRM's backward.
    public func backward(_ dy: Tensor) -> Tensor {
        let (planes, H, W) = buffers.beginBackward(dy)
        let plane = H * W
        dResidual.resize(to: residual.shape)
        let g = dy.pointer, a = local.pointer, b = context.pointer, s = residual.pointer
        let dE = energy.pointer, t = scratch.pointer, ds = dResidual.pointer
        let localBox = BoxCounts(H, W, radius: localRadius), contextBox = BoxCounts(H, W, radius: contextRadius)
        for m in 0..<planes {
            let o = m * plane
            for i in 0..<plane { t[i] = g[o + i] / a[o + i] }
            boxFilter(t, into: ds + o, localBox, transposed: true)
            for i in 0..<plane { t[i] = g[o + i] / b[o + i] }
            boxFilter(t, into: dE + o, contextBox, transposed: true)
            for i in 0..<plane { ds[o + i] = 2 * s[o + i] * (ds[o + i] - dE[o + i]) }
        }
        return srm.backward(dResidual)
    }

    /// One box size on one plane size: the radius and, per row and per column, 1 / the number of
    /// pixels the clipped box spans along it (a clipped box's count is their product).
    private struct BoxCounts {
        let H: Int, W: Int, r: Int
        let inverseRows: [Double], inverseColumns: [Double]
        init(_ H: Int, _ W: Int, radius r: Int) {
            func inverseCounts(_ n: Int) -> [Double] { (0..<n).map { 1 / Double(min($0 + r, n - 1) - max($0 - r, 0) + 1) } }
            self.H = H; self.W = W; self.r = r
            inverseRows = inverseCounts(H); inverseColumns = inverseCounts(W)
        }
    }

    /// Means over the clipped boxes of `box` (`transposed` false), or the transpose of that map
    /// (true): each value divided by its own clipped box's pixel count, then box sums. Both passes
    /// are separable: running sums along rows, then along columns, in Double.
    private func boxFilter(
        _ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ box: BoxCounts, transposed: Bool
    ) {
        let H = box.H, W = box.W, r = box.r, inverseRows = box.inverseRows, inverseColumns = box.inverseColumns
        rowSums.resize(to: [H, W])
        let rows = rowSums.pointer
        for i in 0..<H {
            let s = src + i * W, t = rows + i * W
            let rowScale = transposed ? inverseRows[i] : 1
            func value(_ j: Int) -> Double { transposed ? Double(s[j]) * rowScale * inverseColumns[j] : Double(s[j]) }
            var sum = 0.0
            for j in 0...min(r, W - 1) { sum += value(j) }
            for j in 0..<W {
                t[j] = Float(sum)
                if j + r + 1 < W { sum += value(j + r + 1) }
                if j - r >= 0 { sum -= value(j - r) }
            }
        }
        if columnSums.count != W { columnSums = [Double](repeating: 0, count: W) }
        columnSums.withUnsafeMutableBufferPointer { c in
            for j in 0..<W { c[j] = 0 }
            for i in 0...min(r, H - 1) { for j in 0..<W { c[j] += Double(rows[i * W + j]) } }
            for i in 0..<H {
                let rowScale = transposed ? 1 : inverseRows[i]
                let entering = i + r + 1 < H ? (i + r + 1) * W : -1, leaving = i - r >= 0 ? (i - r) * W : -1
                for j in 0..<W {
                    let total = c[j]
                    if entering >= 0 { c[j] += Double(rows[entering + j]) }
                    if leaving >= 0 { c[j] -= Double(rows[leaving + j]) }
                    dst[i * W + j] = Float(transposed ? total : total * rowScale * inverseColumns[j])
                }
            }
        }
    }

    /// FLOPs of one forward at (N, 3, H, W): the SRM residuals, then per value its square, two box means
    /// (four running-sum updates and a scaling each), two ε, the quotient and its logarithm (counted as
    /// one each).
    public static func forwardFLOPs(inputShape s: [Int]) -> Double {
        SRMResidual.forwardFLOPs(inputShape: s) + Double(s[0] * 3 * s[2] * s[3] * (1 + 2 * 5 + 2 + 1 + 1))
    }
}
