// Owns inference on whole frames at native resolution: running the network over the windows of the
// frame's tiling (FrameTiling.swift) in batches and lanes, stitching the per-window patch logit maps into
// a frame map, robust pooling into a frame score, Platt calibration, a report heatmap and the most
// suspicious region in frame pixels.
// Glossary: H/W frame size, S = 8 output stride, rows = ⌈H/8⌉, columns = ⌈W/8⌉ map cells, B windows
// per batch.
import Dispatch
import Foundation
import MediaIO
import NeuralNet

/// A box in frame pixels.
public struct PixelRegion: Equatable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) { self.x = x; self.y = y; self.width = width; self.height = height }
}

/// A row-major grid of values (rows × columns).
public struct ScoreGrid: Equatable, Sendable {
    public var rows: Int, columns: Int
    public var values: [Float]
    public init(rows: Int, columns: Int, values: [Float]) { self.rows = rows; self.columns = columns; self.values = values }
    public subscript(row: Int, column: Int) -> Float { values[row * columns + column] }
}

/// What `FrameScorer.score` returns for one frame.
public struct FrameScoreResult: Sendable {
    public var frameWidth: Int, frameHeight: Int
    /// Patch logits, ⌈H/8⌉ × ⌈W/8⌉: cell (r, c) is the output position centred on input pixels
    /// [8c, 8c+8) × [8r, 8r+8); its receptive field is the architecture's (standard: 42×42 pixels
    /// starting at (8c − 17, 8r − 17)) plus the window-global attention path. NaN for cells not scored
    /// (coverage < 1).
    public var logits: ScoreGrid
    /// σ(a·logit + b) per cell (the frame calibration applied to cells; NaN where not scored).
    public var probabilities: ScoreGrid
    /// Probabilities downsampled to at most 16 × 9 cells for reports: the maximum over each block,
    /// so a small suspicious area stays visible.
    public var heatmap: ScoreGrid
    /// The most suspicious area: the highest mean cell logit over any `areaCells` × `areaCells` block
    /// of scored cells (64 × 64 pixels, the training patch size; the whole map if it is smaller).
    public var areaLogit: Double
    /// How many areas the maximum was taken over (the blocks with a scored cell): the size prior's N
    /// (`Calibration.areaCountSlope`).
    public var areaCount: Int
    /// Mean global logit over the scored windows (reported; not part of the frame score).
    public var globalLogit: Double
    /// The frame's scale-consistency evidence (`ScaleConsistency.frameScore`), computed when the
    /// model's calibration weighs it (`Calibration.scaleWeight` > 0); nil otherwise or for frames
    /// under 64 pixels on a side.
    public var scaleEvidence: Double?
    /// The frame's grid-consistency evidence (`GridConsistency.frameScore`), computed when the model's
    /// calibration weighs it (`Calibration.gridWeight` > 0); nil otherwise or for frames under 128
    /// pixels on a side.
    public var gridEvidence: Double?
    /// The frame's lattice-consistency evidence (`LatticeConsistency.frameScore`), likewise
    /// (`Calibration.latticeWeight` > 0).
    public var latticeEvidence: Double?
    /// The frame's channel-consistency evidence (`ChannelConsistency.frameScore`), likewise
    /// (`Calibration.channelWeight` > 0).
    public var channelEvidence: Double?
    /// The frame's copy-move evidence (`CopyMoveConsistency.frameScore`), likewise
    /// (`Calibration.copyMoveWeight` > 0).
    public var copyMoveEvidence: Double?
    /// Frame score s = areaLogit + the weighed evidences, each times its weight (`Calibration.score`).
    /// A frame is as
    /// suspicious as its most suspicious 64-pixel area: a face-sized manipulation must not be averaged
    /// away by the rest of a large frame. On held-out frames with a generated region blended in, this
    /// pooling gave frame AUC 0.76 where the earlier "(mean of the top 10 % of cells + global logit) / 2"
    /// gave 0.61 (same checkpoint, `unmask evaluate`).
    public var score: Double
    /// Calibrated probability σ(a·s + b).
    public var probability: Double
    /// Whether `probability` ≥ the model threshold.
    public var isFake: Bool
    /// The connected (4-neighbour) area of cells at or above the model threshold around the most
    /// suspicious cell, as the box of the cells' own pixels clipped to the frame; for a frame called
    /// fake with no such cell, or (with a `Standardization`) whose largest term is an evidence, the
    /// region of the evidence that added most to the score (`FrameEvidence.analyse`); zero-sized
    /// otherwise (no evidence, no box).
    public var region: PixelRegion
    /// The most suspicious cell (row, column).
    public var peakCell: (row: Int, column: Int)
    public var windowsScored: Int, windowsTotal: Int
}

/// Scores frames with a detector model; reuses its buffers, so one scorer per thread.
///
/// The windows of a frame are independent (each has its own zero padding and its own attention), so
/// they are spread over `threads` lanes, each lane a copy of the network running single-threaded
/// kernels on whole batches of windows and taking the next batch when it is done. That keeps both
/// cores busy through every layer (attention and softmax included, which otherwise run on one), with
/// no barrier per layer, and a lane slowed by another thread (the decoder) just takes fewer batches.
/// Each lane is a network of the scorer's own, holding the weights of the model's: with one lane it
/// runs `executionPolicy` as it is, with several a single-threaded copy of it, and OpenBLAS runs
/// single-threaded while they do (`BLASRuntime.singleThreaded`). Scorers share nothing else, so
/// several may score at the same time on threads of their own.
public final class FrameScorer {
    public let model: DetectorModel
    /// Windows per forward batch, per lane.
    public var batchSize: Int
    /// Lanes scoring windows at the same time (1 = the calling thread only, with NeuralNet's own
    /// per-layer parallelism).
    public var threads: Int
    /// How the lanes' networks run (threads of one lane, convolution algorithm).
    public var executionPolicy: ExecutionPolicy
    /// Side, in cells, of the square area whose mean logit is the frame score (8 cells = 64 pixels).
    public static let areaCells = 8
    public static let stride = DetectorArchitecture.stride

    /// The cell grid of a frame: one cell per `stride` × `stride` pixels, the last row and column partial.
    static func cellGrid(height: Int, width: Int) -> (rows: Int, columns: Int) {
        ((height + stride - 1) / stride, (width + stride - 1) / stride)
    }

    /// One lane: a network and its window batch.
    private final class Lane {
        let network: Discriminator
        let batch = Tensor(shape: [0])  // (B, 3, window height, window width)
        init(network: Discriminator) {
            self.network = network
            network.eval()
            network.needsInputGradient = false
        }
    }
    private var lanes: [Lane] = []
    private let windowLogits = Tensor(shape: [0])  // the scored windows' patch logit maps, one after another
    private let windowGlobals = Tensor(shape: [0])  // (windows) global logits
    /// The tiling of the last frame size scored (its reflect tables are reused while the size stays).
    private var tiling: FrameTiling?

    public init(
        model: DetectorModel, batchSize: Int = 4, threads: Int = ExecutionPolicy.default.threads,
        executionPolicy: ExecutionPolicy = .default
    ) {
        self.model = model
        self.batchSize = max(1, batchSize)
        self.threads = max(1, threads)
        self.executionPolicy = executionPolicy
    }

    /// Analytic FLOPs of scoring a height × width frame at `coverage`: the scored windows' FLOPs.
    public func flops(height: Int, width: Int, coverage: Double = 1) -> Double {
        FrameTiling(height: height, width: width, architecture: model.architecture).scoredWindows(coverage: coverage)
            .reduce(0) { $0 + model.discriminator.forwardFLOPs(inputShape: [1, 3, $1.height, $1.width]) }
    }

    /// Scores one frame at native resolution. `coverage` < 1 scores only that fraction of the windows
    /// (evenly spaced); unscored cells are NaN. Throws on an empty or malformed image.
    public func score(_ image: RGBImage, coverage: Double = 1) throws -> FrameScoreResult {
        let H = image.height, W = image.width
        guard H > 0, W > 0, image.pixels.count == 3 * H * W else {
            throw DetectorError.invalidInput("frame of \(W)×\(H) with \(image.pixels.count) values cannot be scored")
        }
        let S = FrameScorer.stride
        let tiling: FrameTiling
        if let cached = self.tiling, cached.height == H, cached.width == W {
            tiling = cached
        } else {
            tiling = FrameTiling(height: H, width: W, architecture: model.architecture)
            self.tiling = tiling
        }
        let windows = tiling.scoredWindows(coverage: coverage)
        let offsets = runWindows(image, windows: windows, tiling: tiling)
        // Place each window's map (windows do not overlap), cropped to the frame's cells.
        let (rows, columns) = FrameScorer.cellGrid(height: H, width: W)
        var logits = [Float](repeating: .nan, count: rows * columns)
        var globalSum = 0.0
        let cal = model.calibration
        for (j, w) in windows.enumerated() {
            globalSum += Double(windowGlobals.pointer[j])
            let r0 = w.y / S, c0 = w.x / S, mw = w.width / S
            let map = windowLogits.pointer + offsets[j]
            for r in 0..<min(w.height / S, rows - r0) {
                for c in 0..<min(mw, columns - c0) { logits[(r0 + r) * columns + c0 + c] = map[r * mw + c] }
            }
        }
        let logitGrid = ScoreGrid(rows: rows, columns: columns, values: logits)
        let area = FrameScorer.mostSuspiciousArea(logitGrid, side: FrameScorer.areaCells)
        let probabilities = logits.map { v in
            v.isNaN ? Float.nan : Float(cal.probability(score: cal.cellScore(logit: Double(v), areaCount: area.count)))
        }
        let globalMean = globalSum / Double(windows.count)
        var analyses: [FrameEvidence: (score: Double, region: PixelRegion)] = [:]
        for evidence in cal.weighedEvidence { analyses[evidence] = evidence.analyse(image) }
        let adjustedLogit = cal.sizeAdjusted(area.mean, areaCount: area.count)
        let s = cal.score(areaLogit: adjustedLogit) { analyses[$0]?.score }
        let p = cal.probability(score: s)
        let probabilityGrid = ScoreGrid(rows: rows, columns: columns, values: probabilities)
        var region = FrameScorer.suspiciousRegion(
            probabilityGrid, peak: area.peak, threshold: model.threshold,
            frameWidth: W, frameHeight: H)
        // A frame called fake gets the box of the evidence that added most when no cell reaches the
        // threshold, and, with a standardization (whose score is its largest term), whenever that
        // evidence's term is larger than the network's, whatever the cells.
        if p >= model.threshold,
            let strongest = cal.contributions(evidence: { analyses[$0]?.score }).max(by: { $0.value < $1.value }),
            let box = analyses[strongest.evidence]?.region, box.width > 0
        {
            let networkTerm = cal.standardization?.network.standardized(adjustedLogit)
            if region.width == 0 || (networkTerm.map { strongest.value > $0 } ?? false) { region = box }
        }
        return FrameScoreResult(
            frameWidth: W, frameHeight: H,
            logits: logitGrid,
            probabilities: probabilityGrid,
            heatmap: FrameScorer.downsample(probabilityGrid, maxRows: 9, maxColumns: 16),
            areaLogit: area.mean, areaCount: area.count, globalLogit: globalMean, scaleEvidence: analyses[.scale]?.score,
            gridEvidence: analyses[.grid]?.score, latticeEvidence: analyses[.lattice]?.score,
            channelEvidence: analyses[.channel]?.score, copyMoveEvidence: analyses[.copyMove]?.score, score: s,
            probability: p,
            isFake: p >= model.threshold,
            region: region, peakCell: area.peak, windowsScored: windows.count, windowsTotal: tiling.windows.count)
    }

    /// The side × side block of scored cells (NaN cells skipped; blocks clipped to the grid) with the
    /// highest mean logit, by a summed-area table, the highest cell inside it, and how many blocks had
    /// a scored cell.
    static func mostSuspiciousArea(_ g: ScoreGrid, side: Int) -> (mean: Double, peak: (Int, Int), count: Int) {
        let areas = areaMeans(g, side: side)
        var best = (mean: -Double.infinity, r: 0, c: 0), count = 0
        for r in 0..<areas.rows {
            for c in 0..<areas.columns {
                let mean = areas.means[r * areas.columns + c]
                if !mean.isNaN { count += 1 }
                if mean > best.mean { best = (mean, r, c) }  // false for NaN (no scored cell)
            }
        }
        guard best.mean.isFinite else { return (0, (0, 0), 0) }
        var peak = (best.r, best.c), peakValue = -Float.infinity
        for r in best.r..<(best.r + areas.side.rows) {
            for c in best.c..<(best.c + areas.side.columns) where g[r, c] > peakValue { peak = (r, c); peakValue = g[r, c] }
        }
        return (best.mean, peak, count)
    }

    /// The mean logit of every side × side block of cells (clipped to the grid), by position of its
    /// top-left cell, row-major; NaN cells are skipped, and a block without a scored cell is NaN.
    static func areaMeans(_ g: ScoreGrid, side: Int) -> (
        rows: Int, columns: Int, side: (rows: Int, columns: Int), means: [Double]
    ) {
        let R = g.rows, C = g.columns, w = C + 1
        var sum = [Double](repeating: 0, count: (R + 1) * w), count = sum
        for r in 0..<R {
            for c in 0..<C {
                let v = g.values[r * C + c]
                let i = (r + 1) * w + c + 1
                sum[i] = (v.isNaN ? 0 : Double(v)) + sum[i - 1] + sum[i - w] - sum[i - w - 1]
                count[i] = (v.isNaN ? 0 : 1) + count[i - 1] + count[i - w] - count[i - w - 1]
            }
        }
        let kr = min(side, R), kc = min(side, C)
        let rows = R - kr + 1, columns = C - kc + 1
        var means = [Double](repeating: .nan, count: max(0, rows) * max(0, columns))
        for r in 0..<max(0, rows) {
            for c in 0..<max(0, columns) {
                let a = r * w + c, b = r * w + c + kc, d = (r + kr) * w + c, e = (r + kr) * w + c + kc
                let n = count[e] - count[b] - count[d] + count[a]
                if n > 0 { means[r * columns + c] = (sum[e] - sum[b] - sum[d] + sum[a]) / n }
            }
        }
        return (max(0, rows), max(0, columns), (kr, kc), means)
    }

    /// Runs the network over `windows` (of `tiling`), filling `windowGlobals` in their order and `windowLogits` with
    /// their maps one after another; returns where each window's map starts. Windows of the same size
    /// are batched together (up to `batchSize`), the largest first, so the lanes end together.
    private func runWindows(_ image: RGBImage, windows: [Window], tiling: FrameTiling) -> [Int] {
        let S = FrameScorer.stride
        var offsets: [Int] = [], total = 0
        for w in windows {
            offsets.append(total)
            total += (w.height / S) * (w.width / S)
        }
        var batches: [[Int]] = []
        let sizes = Set(windows.map { SIMD2($0.height, $0.width) }).sorted { ($0.x * $0.y, $0.x) > ($1.x * $1.y, $1.x) }
        for size in sizes {
            let members = windows.indices.filter { SIMD2(windows[$0].height, windows[$0].width) == size }
            for first in Swift.stride(from: 0, to: members.count, by: batchSize) {
                batches.append(Array(members[first..<min(first + batchSize, members.count)]))
            }
        }
        let laneCount = min(threads, batches.count)
        prepareLanes(laneCount)
        windowLogits.resize(to: [total])
        windowGlobals.resize(to: [windows.count])
        let logits = windowLogits.pointer, globals = windowGlobals.pointer
        let H = image.height, W = image.width
        image.pixels.withUnsafeBufferPointer { px in
            tiling.rowIndex.withUnsafeBufferPointer { rowIndex in
                tiling.columnIndex.withUnsafeBufferPointer { columnIndex in
                    // Scores batch `index` on `lane`; lanes write disjoint outputs.
                    let scoreBatch = { (lane: Lane, index: Int) in
                        let members = batches[index]
                        let h = windows[members[0]].height, w = windows[members[0]].width
                        lane.batch.resize(to: [members.count, 3, h, w])
                        for (b, i) in members.enumerated() {
                            let (y0, x0) = (windows[i].y, windows[i].x)
                            let inside = x0 + w <= W  // no reflected columns: rows are plain copies
                            for c in 0..<3 {
                                let plane = px.baseAddress! + c * H * W  // 3·H·W > 0 values, checked in score
                                let dst = lane.batch.pointer + (b * 3 + c) * h * w
                                for y in 0..<h {
                                    let src = plane + rowIndex[y0 + y] * W, row = dst + y * w
                                    if inside {
                                        row.update(from: src + x0, count: w)
                                    } else {
                                        for x in 0..<w { row[x] = src[columnIndex[x0 + x]] }
                                    }
                                }
                            }
                        }
                        let (patch, global) = lane.network.forward(lane.batch)  // (b, 1, h/S, w/S), (b, 1)
                        let cells = (h / S) * (w / S)
                        for (b, i) in members.enumerated() {
                            (logits + offsets[i]).update(from: patch.pointer + b * cells, count: cells)
                            globals[i] = global.pointer[b]
                        }
                    }
                    if laneCount == 1 {
                        for index in batches.indices { scoreBatch(lanes[0], index) }
                        return
                    }
                    // The lanes write disjoint windows' outputs and each uses only its own network, and
                    // concurrentPerform returns when all are done; Sendable cannot describe that split.
                    nonisolated(unsafe) let scoreOnLane = scoreBatch, lanes = self.lanes
                    let next = BatchCounter(), batchCount = batches.count
                    BLASRuntime.singleThreaded {
                        DispatchQueue.concurrentPerform(iterations: laneCount) { t in
                            while let index = next.take(below: batchCount) { scoreOnLane(lanes[t], index) }
                        }
                    }
                }
            }
        }
        return offsets
    }

    /// Makes `count` lanes whose networks hold the model's current weights (copied on every frame:
    /// a few hundred kilobytes, and the model may have changed since the last one) and run the
    /// scorer's policy, single-threaded when there are several lanes.
    private func prepareLanes(_ count: Int) {
        let source = model.discriminator
        while lanes.count < count { lanes.append(Lane(network: Discriminator(architecture: source.architecture))) }
        let sourceTensors = source.namedParameters().map(\.value) + source.namedBuffers().map(\.value)
        let policy = count == 1 ? executionPolicy : executionPolicy.singleThreaded
        for lane in lanes[0..<count] {
            let network = lane.network
            let tensors = network.namedParameters().map(\.value) + network.namedBuffers().map(\.value)
            for (to, from) in zip(tensors, sourceTensors) { to.copy(from: from) }
            network.isTraining = false
            network.setExecutionPolicy(policy)
        }
    }

    /// Block-maximum downsampling to at most maxRows × maxColumns (NaN cells ignored; NaN if a block has none).
    public static func downsample(_ g: ScoreGrid, maxRows: Int, maxColumns: Int) -> ScoreGrid {
        let rows = min(g.rows, maxRows), columns = min(g.columns, maxColumns)
        var values = [Float](repeating: .nan, count: rows * columns)
        for r in 0..<g.rows {
            let hr = r * rows / g.rows
            for c in 0..<g.columns {
                let v = g.values[r * g.columns + c]
                if v.isNaN { continue }
                let i = hr * columns + c * columns / g.columns
                if values[i].isNaN || v > values[i] { values[i] = v }
            }
        }
        return ScoreGrid(rows: rows, columns: columns, values: values)
    }

    /// The 4-connected component of cells with probability ≥ the model threshold around `peak` (the
    /// most suspicious area's highest cell) or, when that cell is below the threshold, around the
    /// frame's highest cell; returned as the box of the cells' own 8×8 pixels clipped to the frame. A
    /// zero-sized region at the origin when no cell reaches the threshold, so a frame without evidence
    /// gets no box, and a heatmap cell shaded for reaching the threshold always lies in some frame's box.
    /// A cell's logit is trained to say whether its own pixels were replaced (the mask's mean over the
    /// cell), so the cells, not their 42-pixel receptive fields, are where the evidence points.
    public static func suspiciousRegion(
        _ g: ScoreGrid, peak areaPeak: (Int, Int), threshold: Double,
        frameWidth: Int, frameHeight: Int
    ) -> PixelRegion {
        var peak = areaPeak
        let areaPeakValue = g.values[peak.0 * g.columns + peak.1]
        if areaPeakValue.isNaN || Double(areaPeakValue) < threshold {
            var best = -Float.infinity
            for (i, v) in g.values.enumerated() where !v.isNaN && v > best { best = v; peak = (i / g.columns, i % g.columns) }
        }
        let peakValue = g.values[peak.0 * g.columns + peak.1]
        guard !peakValue.isNaN, Double(peakValue) >= threshold else { return PixelRegion(x: 0, y: 0, width: 0, height: 0) }
        let level = Float(threshold)
        var seen = [Bool](repeating: false, count: g.values.count)
        var stack = [peak]
        seen[peak.0 * g.columns + peak.1] = true
        var minR = peak.0, maxR = peak.0, minC = peak.1, maxC = peak.1
        while let (r, c) = stack.popLast() {
            minR = min(minR, r); maxR = max(maxR, r); minC = min(minC, c); maxC = max(maxC, c)
            for (dr, dc) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                let rr = r + dr, cc = c + dc
                guard rr >= 0, rr < g.rows, cc >= 0, cc < g.columns, !seen[rr * g.columns + cc] else { continue }
                let v = g.values[rr * g.columns + cc]
                if !v.isNaN && v >= level { seen[rr * g.columns + cc] = true; stack.append((rr, cc)) }
            }
        }
        let S = stride
        let x0 = min(frameWidth - 1, minC * S), y0 = min(frameHeight - 1, minR * S)
        let x1 = min(frameWidth, (maxC + 1) * S), y1 = min(frameHeight, (maxR + 1) * S)
        return PixelRegion(x: x0, y: y0, width: max(1, x1 - x0), height: max(1, y1 - y0))
    }
}

extension Discriminator {
    /// Padding used for kernel size k (4 → 1, 3 → 1, 1 → 0).
    static func padding(_ k: Int) -> Int { k == 1 ? 0 : 1 }
}

/// The next batch index for whichever lane asks first.
private final class BatchCounter: @unchecked Sendable {
    // Safe to share: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = 0

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
