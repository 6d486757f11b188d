// Owns Conv2D: square kernels, stride, zero padding, optional bias, computed as im2col + one SGEMM
// per chunk of samples. With a batch, chunks are spread over the cores (one worker per core, each with
// its own workspace and a single-threaded SGEMM); a single image uses OpenBLAS's threads instead.
// The forward pass of 3×3 stride-1 convolutions with ≥ 16 input channels uses Winograd F(4×4, 3×3)
// instead (Kernels/Winograd4.swift; F(2×2, 3×3) in Kernels/Winograd.swift on request); backward is
// always im2col-based.
// Glossary: N batch, C input channels, O output channels, H/W input size, Ho/Wo output size,
// P = Ho*Wo, K = C*k*k, B samples per chunk, T workers.

#if canImport(Glibc)
    import Glibc
#endif

/// 2-D convolution (cross-correlation, PyTorch layout) with stride and zero padding.
public final class Conv2D: WeightedLayer {
    public let inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int
    public var isTraining = true
    /// When false, `backward` skips dInput (returns a zero-size tensor): the first layer of a
    /// network whose input needs no gradient.
    public var needsInputGradient = true
    /// An activation applied to the output while it is cache-hot (and undone in backward);
    /// the returned output is then post-activation.
    public var fusedActivation: FusedActivation = .none
    /// Threads, chunk sizes and whether 3×3 forwards use Winograd (`setExecutionPolicy`).
    public private(set) var executionPolicy = ExecutionPolicy.default

    public let weight: Tensor  // (O, C, k, k)
    public let dWeight: Tensor  // (O, C, k, k)
    public let bias: Tensor?  // (O)
    public let dBias: Tensor?  // (O)

    private let output = Tensor(shape: [0])  // (N, O, Ho, Wo)
    private let dInput = Tensor(shape: [0])  // (N, C, H, W)
    private var input: Tensor?

    /// One worker's scratch: im2col columns (reused for dColumns), SGEMM output / gathered dOutput,
    /// and (workers > 0) partial weight and bias gradients.
    private final class Workspace {
        let columns = Tensor(shape: [0])  // (K, B*P)
        let gemmOut = Tensor(shape: [0])  // (O, B*P)
        let dWeight = Tensor(shape: [0])  // (O, K)
        let dBias = Tensor(shape: [0])  // (O)
        let tilesIn = Tensor(shape: [0])  // (16, C, B·tiles) Winograd-transformed input
        let tilesOut = Tensor(shape: [0])  // (16, O, B·tiles) Winograd products
        let scratch = Tensor(shape: [0])  // rows for the Winograd transforms
    }
    private var workspaces: [Workspace] = []
    private let winogradWeight = Tensor(shape: [0])  // (36 or 16, O, C) U = G g Gᵀ
    private let winogradSource = Tensor(shape: [0])  // (O, C, 3, 3) the weight U was computed from

    /// A convolution with PyTorch's default init (U(±1/√fan_in) for weight and bias).
    public init(
        inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, rng: inout RandomGenerator
    ) {
        precondition(
            inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
            "Conv2D: invalid configuration")
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding
        weight = Tensor(shape: [outChannels, inChannels, kernelSize, kernelSize])
        dWeight = Tensor(shape: weight.shape)
        self.bias = bias ? Tensor(shape: [outChannels]) : nil
        dBias = bias ? Tensor(shape: [outChannels]) : nil
        Initializer.pytorchDefault(weight: weight, bias: self.bias, rng: &rng)
    }

    /// Output size for an input size.
    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height + 2 * padding - kernelSize) / stride + 1, (width + 2 * padding - kernelSize) / stride + 1)
    }

    /// Multiply–adds ×2 of one forward pass for an input shape (N, C, H, W).
    public func forwardFLOPs(inputShape s: [Int]) -> Double {
        let (ho, wo) = outputSize(height: s[2], width: s[3])
        return 2 * Double(s[0] * outChannels * ho * wo * inChannels * kernelSize * kernelSize)
    }

    public func setExecutionPolicy(_ policy: ExecutionPolicy) { executionPolicy = policy }

    private var isPointwise: Bool { kernelSize == 1 && stride == 1 && padding == 0 }
    private var usesWinograd: Bool {
        kernelSize == 3 && stride == 1 && padding == 1 && inChannels >= executionPolicy.winogradMinimumChannels
    }

    /// Sizes of the current call.
    private struct Geometry { var N, C, H, W, O, Ho, Wo, P, K: Int }

    /// Chunk size B and worker count T for a batch.
    private func plan(_ g: Geometry) -> (B: Int, T: Int) {
        let threads = executionPolicy.threads
        if executionPolicy.spreadsBatchOverWorkers && threads >= 2 && g.N >= 2 {
            let T = min(threads, g.N)
            let B = isPointwise ? 1 : max(1, min((g.N + T - 1) / T, executionPolicy.workerTargetColumns / max(g.P, 1)))
            return (B, T)
        }
        return (isPointwise ? 1 : max(1, min(g.N, executionPolicy.targetColumns / max(g.P, 1))), 1)
    }

    /// Sizes T workspaces for chunks of B samples; `columns`: im2col columns per chunk (B·P unless the
    /// forward goes by row blocks).
    private func prepareWorkspaces(_ g: Geometry, B: Int, T: Int, gradients: Bool, columns: Int? = nil) {
        while workspaces.count < T { workspaces.append(Workspace()) }
        for t in 0..<T {
            let ws = workspaces[t]
            if !isPointwise { ws.columns.resize(to: [g.K, columns ?? B * g.P]) }
            if B > 1 || (gradients && fusedActivation != .none) { ws.gemmOut.resize(to: [g.O, B * g.P]) }
            if gradients && t > 0 {
                ws.dWeight.resize(to: [g.O, g.K]); ws.dWeight.zero()
                ws.dBias.resize(to: [g.O]); ws.dBias.zero()
            }
        }
    }

    /// Runs body(n0, b, worker) over chunks of B samples: serially on worker 0 (SGEMM threaded by
    /// OpenBLAS) when T = 1, else worker t takes chunks t, t+T, … with single-threaded SGEMMs.
    private func forEachChunk(N: Int, B: Int, T: Int, _ body: (Int, Int, Int) -> Void) {
        forEachOnWorkers((N + B - 1) / B, workers: T) { c, t in body(c * B, min(B, N - c * B), t) }
    }

    public func forward(_ x: Tensor) -> Tensor {  // x: (N, C, H, W)
        x.expect4D("Conv2D.forward")
        precondition(x.shape[1] == inChannels, "Conv2D.forward: expected \(inChannels) input channels, got shape \(x.shape)")
        let (Ho, Wo) = outputSize(height: x.shape[2], width: x.shape[3])
        precondition(Ho > 0 && Wo > 0, "Conv2D.forward: input \(x.shape) too small for kernel \(kernelSize)")
        let g = Geometry(
            N: x.shape[0], C: inChannels, H: x.shape[2], W: x.shape[3], O: outChannels, Ho: Ho, Wo: Wo,
            P: Ho * Wo, K: inChannels * kernelSize * kernelSize)
        input = x
        output.resize(to: [g.N, g.O, Ho, Wo])
        let (B, T) = plan(g)
        if usesWinograd {
            switch executionPolicy.winogradTile {
            case .fourByFour: winogradForward(x, g, Winograd4.self, B: B, T: T)
            case .twoByTwo: winogradForward(x, g, Winograd.self, B: B, T: T)
            }
            return output
        }
        let rowBlocks = B == 1 && (T > 1 || executionPolicy.threads == 1) && usesRowBlocks(g)
        prepareWorkspaces(g, B: B, T: T, gradients: false, columns: rowBlocks ? rowsPerBlock(g) * g.Wo : B * g.P)
        forEachChunk(N: g.N, B: B, T: T) { n0, b, t in
            if rowBlocks {
                self.forwardInRowBlocks(x, g, n: n0, workspace: self.workspaces[t])
            } else {
                self.forwardChunk(x, g, n0: n0, b: b, workspace: self.workspaces[t], nestedParallel: T == 1)
            }
        }
        return output
    }

    /// Whether a single-threaded forward of one sample goes by blocks of output rows: 4×4 stride-2
    /// convolutions (their unfolding takes a row range) whose columns exceed one block.
    private func usesRowBlocks(_ g: Geometry) -> Bool {
        let blockColumns = executionPolicy.rowBlockColumns
        return kernelSize == 4 && stride == 2 && padding == 1 && blockColumns > 0 && g.P > blockColumns + g.Wo
    }

    /// Output rows per block of `forwardInRowBlocks`.
    private func rowsPerBlock(_ g: Geometry) -> Int { max(1, executionPolicy.rowBlockColumns / g.Wo) }

    /// Forward of sample n by blocks of whole output rows: im2col of the block, its SGEMM straight
    /// into the output rows (bias prefilled), then the activation while the rows are in cache. Each
    /// output is the same K-term dot product as in `forwardChunk`; only SGEMM's blocking may differ.
    private func forwardInRowBlocks(_ x: Tensor, _ g: Geometry, n: Int, workspace ws: Workspace) {
        let rows = rowsPerBlock(g)
        let src = UnsafePointer(x.pointer + n * g.C * g.H * g.W), yn = output.pointer + n * g.O * g.P
        let cols = ws.columns.pointer
        for oh0 in Swift.stride(from: 0, to: g.Ho, by: rows) {
            let oh1 = min(g.Ho, oh0 + rows)
            im2colKernel4Stride2(
                input: src, batch: 1, channels: g.C, height: g.H, width: g.W, outHeight: g.Ho, outWidth: g.Wo,
                outRows: oh0..<oh1, columns: cols, channelRange: 0..<g.C)
            multiply(UnsafePointer(cols), columns: (oh1 - oh0) * g.Wo, g, into: yn + oh0 * g.Wo)
        }
    }

    /// y (O, columns, row stride P) = act(W · cols + bias) for columns (K, columns): the bias
    /// prefilled and SGEMM adding to it (no separate bias pass), the activation while y is in cache.
    private func multiply(_ cols: UnsafePointer<Float>, columns: Int, _ g: Geometry, into y: UnsafeMutablePointer<Float>) {
        if let bias { for o in 0..<g.O { (y + o * g.P).update(repeating: bias.pointer[o], count: columns) } }
        sgemm(
            m: g.O, n: columns, k: g.K, a: weight.pointer, lda: g.K, b: cols, ldb: columns, beta: bias == nil ? 0 : 1,
            c: y, ldc: g.P)
        for o in 0..<g.O { fusedActivation.apply(y + o * g.P, count: columns) }
    }

    /// Forward by Winograd algorithm A (F(4×4, 3×3) or F(2×2, 3×3), per `executionPolicy.winogradTile`): U from the weight
    /// (recomputed only when the weight or the tile size changed), then per chunk of samples: input
    /// tiles V, one SGEMM M[ξ] = U[ξ]·V[ξ] per tile element (36 or 16), output tiles + bias + activation.
    /// With one worker (a single image) the transforms split channels over the cores and the SGEMMs run
    /// side by side single-threaded.
    private func winogradForward<A: WinogradAlgorithm>(_ x: Tensor, _ g: Geometry, _: A.Type, B: Int, T: Int) {
        let E = A.elements  // tile elements ξ: one SGEMM each
        if winogradSource.shape != weight.shape || winogradWeight.shape != [E, g.O, g.C]
            || memcmp(winogradSource.pointer, weight.pointer, weight.count * MemoryLayout<Float>.size) != 0
        {
            winogradSource.resize(to: weight.shape)
            winogradSource.copy(from: weight)
            winogradWeight.resize(to: [E, g.O, g.C])
            Winograd.transformWeights(
                weight.pointer, outChannels: g.O, inChannels: g.C, g: A.g, into: winogradWeight.pointer)
        }
        let (Th, Tw) = A.tiles(height: g.H, width: g.W)
        let tiles = Th * Tw
        let threads = executionPolicy.threads
        // one workspace per chunk worker (tiles) and per thread (transform scratch)
        while workspaces.count < max(T, threads) { workspaces.append(Workspace()) }
        for t in 0..<T {
            workspaces[t].tilesIn.resize(to: [E, g.C, B * tiles])
            workspaces[t].tilesOut.resize(to: [E * g.O * B * tiles + Winograd.outputSlack])
        }
        let scratchCount = A.scratchCount(height: g.H, width: g.W)
        for ws in workspaces { ws.scratch.resize(to: [scratchCount]) }
        let u = UnsafePointer(winogradWeight.pointer)
        let bias = self.bias.map { UnsafePointer($0.pointer) }
        forEachChunk(N: g.N, B: B, T: T) { n0, b, t in
            let ws = self.workspaces[t]
            let ld = B * tiles, v = ws.tilesIn.pointer, m = ws.tilesOut.pointer
            let nested = T == 1 && threads > 1
            // V: input tiles of the b samples
            splitRanges(g.C, parts: nested ? threads : 1) { cs, worker in
                let scratch = self.workspaces[nested ? worker : t].scratch.pointer
                for j in 0..<b {
                    A.transformInput(
                        x.pointer + (n0 + j) * g.C * g.H * g.W, channels: g.C, height: g.H, width: g.W,
                        channelRange: cs, into: v, ld: ld, tileOffset: j * tiles, scratch: scratch)
                }
            }
            // M[ξ] (O, b·tiles) = U[ξ] (O, C) · V[ξ] (C, b·tiles)
            forEachOnWorkers(E, workers: nested ? threads : 1) { xi, _ in
                sgemm(
                    m: g.O, n: b * tiles, k: g.C, a: u + xi * g.O * g.C, lda: g.C, b: v + xi * g.C * ld, ldb: ld,
                    beta: 0, c: m + xi * g.O * ld, ldc: ld)
            }
            // Y: output tiles, bias, activation
            splitRanges(g.O, parts: nested ? threads : 1) { os, worker in
                let scratch = self.workspaces[nested ? worker : t].scratch.pointer
                for j in 0..<b {
                    A.transformOutput(
                        m, outChannels: g.O, height: g.H, width: g.W, channelRange: os, ld: ld, tileOffset: j * tiles,
                        bias: bias, activation: self.fusedActivation,
                        into: self.output.pointer + (n0 + j) * g.O * g.H * g.W, scratch: scratch)
                }
            }
        }
    }

    /// Forward of samples n0..<n0+b: im2col, SGEMM, bias, fused activation.
    private func forwardChunk(_ x: Tensor, _ g: Geometry, n0: Int, b: Int, workspace ws: Workspace, nestedParallel: Bool) {
        let O = g.O, P = g.P, K = g.K
        let cols: UnsafePointer<Float>
        if isPointwise {
            cols = UnsafePointer(x.pointer + n0 * g.C * P)  // (C, P) of sample n0
        } else {
            unfold(x.pointer + n0 * g.C * g.H * g.W, b, g, into: ws.columns.pointer, nestedParallel: nestedParallel)
            cols = UnsafePointer(ws.columns.pointer)  // (K, b*P)
        }
        let w = weight.pointer
        if b == 1 {
            multiply(cols, columns: P, g, into: output.pointer + n0 * O * P)
        } else {
            let go = ws.gemmOut.pointer  // (O, b*P)
            sgemm(m: O, n: b * P, k: K, a: w, lda: K, b: cols, ldb: b * P, beta: 0, c: go, ldc: b * P)
            for o in 0..<O {
                let bo: Float = bias?.pointer[o] ?? 0
                for j in 0..<b {
                    let src = go + o * b * P + j * P, dst = output.pointer + ((n0 + j) * O + o) * P
                    for i in 0..<P { dst[i] = src[i] + bo }
                    fusedActivation.apply(dst, count: P)
                }
            }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {  // dy: (N, O, Ho, Wo)
        guard let x = input else { preconditionFailure("Conv2D.backward before forward") }
        dy.expectShape(output.shape, "Conv2D.backward dOutput")
        let Ho = output.shape[2], Wo = output.shape[3]
        let g = Geometry(
            N: x.shape[0], C: inChannels, H: x.shape[2], W: x.shape[3], O: outChannels, Ho: Ho, Wo: Wo,
            P: Ho * Wo, K: inChannels * kernelSize * kernelSize)
        let (B, T) = plan(g)
        prepareWorkspaces(g, B: B, T: T, gradients: true)
        if needsInputGradient {
            dInput.resize(to: x.shape)
            if !isPointwise { dInput.zero() }  // col2im accumulates
        } else {
            dInput.resize(to: [0])
        }
        forEachChunk(N: g.N, B: B, T: T) { n0, b, t in
            let ws = self.workspaces[t]
            // worker 0 accumulates straight into the parameter gradients, others into partials
            let dW = t == 0 ? self.dWeight.pointer : ws.dWeight.pointer
            let dB = t == 0 ? self.dBias?.pointer : (self.dBias == nil ? nil : ws.dBias.pointer)
            self.backwardChunk(x, dy, g, n0: n0, b: b, workspace: ws, dW: dW, dB: dB, nestedParallel: T == 1)
        }
        for t in 1..<max(T, 1) {
            accumulate(workspaces[t].dWeight.pointer, into: dWeight.pointer, count: dWeight.count)
            if let dBias { accumulate(workspaces[t].dBias.pointer, into: dBias.pointer, count: g.O) }
        }
        return dInput
    }

    /// Backward of samples n0..<n0+b: through the fused activation, dBias, dW += dY·colsᵀ,
    /// dCols = Wᵀ·dY folded back by col2im.
    private func backwardChunk(
        _ x: Tensor, _ dy: Tensor, _ g: Geometry, n0: Int, b: Int, workspace ws: Workspace,
        dW: UnsafeMutablePointer<Float>, dB: UnsafeMutablePointer<Float>?, nestedParallel: Bool
    ) {
        let O = g.O, P = g.P, K = g.K, C = g.C
        // dY for this chunk as (O, b*P), through the fused activation: dPre = dy ⊙ act'(y)
        let dyMat: UnsafePointer<Float>
        if b == 1 && fusedActivation == .none {
            dyMat = UnsafePointer(dy.pointer + n0 * O * P)
        } else {
            let go = ws.gemmOut.pointer
            for o in 0..<O {
                for j in 0..<b {
                    let offset = ((n0 + j) * O + o) * P
                    fusedActivation.backward(
                        dy.pointer + offset, output: output.pointer + offset,
                        into: go + o * b * P + j * P, count: P)
                }
            }
            dyMat = UnsafePointer(go)
        }
        if let dB { accumulateRowSums(dyMat, rows: O, cols: b * P, into: dB) }
        // dW (O, K) += dY (O, b*P) · colsᵀ (b*P, K)
        let cols: UnsafePointer<Float>
        if isPointwise {
            cols = UnsafePointer(x.pointer + n0 * C * P)
        } else {
            unfold(x.pointer + n0 * C * g.H * g.W, b, g, into: ws.columns.pointer, nestedParallel: nestedParallel)
            cols = UnsafePointer(ws.columns.pointer)
        }
        sgemm(transB: true, m: O, n: K, k: b * P, a: dyMat, lda: b * P, b: cols, ldb: b * P, beta: 1, c: dW, ldc: K)
        guard needsInputGradient else { return }
        if isPointwise {
            // dX_n (C, P) = Wᵀ (C, O) · dY_n (O, P)
            sgemm(
                transA: true, m: C, n: P, k: O, a: weight.pointer, lda: K, b: dyMat, ldb: P,
                beta: 0, c: dInput.pointer + n0 * C * P, ldc: P)
        } else {
            // dCols (K, b*P) = Wᵀ (K, O) · dY (O, b*P); then fold back
            sgemm(
                transA: true, m: K, n: b * P, k: O, a: weight.pointer, lda: K, b: dyMat, ldb: b * P,
                beta: 0, c: ws.columns.pointer, ldc: b * P)
            let out = dInput.pointer + n0 * C * g.H * g.W
            if nestedParallel {
                col2im(
                    columns: ws.columns.pointer, batch: b, channels: C, height: g.H, width: g.W, kernel: kernelSize,
                    stride: stride, padding: padding, outHeight: g.Ho, outWidth: g.Wo, output: out, policy: executionPolicy)
            } else {
                col2imChannels(
                    columns: ws.columns.pointer, batch: b, channels: C, height: g.H, width: g.W,
                    kernel: kernelSize, stride: stride, padding: padding, outHeight: g.Ho, outWidth: g.Wo,
                    output: out, channelRange: 0..<C)
            }
        }
    }

    /// im2col of b samples, split over cores only when not already inside a worker.
    private func unfold(
        _ src: UnsafePointer<Float>, _ b: Int, _ g: Geometry, into columns: UnsafeMutablePointer<Float>,
        nestedParallel: Bool
    ) {
        if nestedParallel {
            im2col(
                input: src, batch: b, channels: g.C, height: g.H, width: g.W, kernel: kernelSize, stride: stride,
                padding: padding, outHeight: g.Ho, outWidth: g.Wo, columns: columns, policy: executionPolicy)
        } else {
            im2colChannels(
                input: src, batch: b, channels: g.C, height: g.H, width: g.W, kernel: kernelSize,
                stride: stride, padding: padding, outHeight: g.Ho, outWidth: g.Wo, columns: columns,
                channelRange: 0..<g.C)
        }
    }
}

/// An elementwise activation fused into a layer's output pass.
public enum FusedActivation: Equatable, Sendable {
    case none
    case relu
    /// Requires slope > 0 (the sign of the output then equals the sign of the input).
    case leakyReLU(Float)

    /// y = act(y) in place.
    @inline(__always)
    func apply(_ y: UnsafeMutablePointer<Float>, count n: Int) {
        switch self {
        case .none: return
        case .relu: for i in 0..<n { y[i] = max(y[i], 0) }
        case .leakyReLU(let a): for i in 0..<n { let v = y[i]; y[i] = v > 0 ? v : v * a }
        }
    }

    /// d[i] = dy[i] · act'(from output y[i]).
    @inline(__always)
    func backward(_ dy: UnsafePointer<Float>, output y: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, count n: Int) {
        switch self {
        case .none: d.update(from: dy, count: n)
        case .relu: for i in 0..<n { d[i] = y[i] > 0 ? dy[i] : 0 }
        case .leakyReLU(let a): for i in 0..<n { d[i] = y[i] > 0 ? dy[i] : dy[i] * a }
        }
    }
}
