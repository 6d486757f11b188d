// Tests of the detector network, model file and frame scorer: FLOP budget and receptive field,
// map sizes and regions on arbitrary frames, save/load round trips and clear load errors.
import Foundation
import MediaIO
import NeuralNet
import Synchronization
import XCTest

@testable import Detector

final class ArchitectureTests: XCTestCase {
    func testFLOPBudgetAt1080p() {
        let model = DetectorModel(architecture: .standard, seed: 0)
        let scorer = FrameScorer(model: model)
        let flops = scorer.flops(height: 1080, width: 1920)
        XCTAssertLessThanOrEqual(flops, 15e9, "full-coverage 1920×1080 costs \(flops / 1e9) GFLOP")
        // per window pixel (attention included) within the ≈ 7,200 FLOP/pixel budget
        XCTAssertLessThanOrEqual(model.discriminator.flopsPerPixel, 7200)
        // 1088 × 1920 padded: rows 4 × 256 + 64, columns 7 × 256 + 128, no pixel scored twice
        XCTAssertEqual(FrameTiling(height: 1080, width: 1920, architecture: .standard).windows.count, 40)
        // by hand: 6 (input scale) + 384 + 1152 + 1024 + 1024 + 480 (attention) + 1152 + 2 + global ≈ 5224
        XCTAssertEqual(model.discriminator.flopsPerPixel, 5224, accuracy: 2)
        // the padded frame's pixels at ≈ 5224 FLOP each (narrow windows have cheaper attention)
        XCTAssertEqual(flops, 1088 * 1920 * 5224, accuracy: 1088 * 1920 * 100)
        XCTAssertLessThan(flops, 1088 * 1920 * 5224)
        let quarter = scorer.flops(height: 1080, width: 1920, coverage: 0.25)
        XCTAssertGreaterThan(quarter, flops / 5); XCTAssertLessThan(quarter, flops / 3)
    }

    /// Windows tile the padded side exactly; a remainder narrower than the training patch joins the
    /// last full window.
    func testWindowSpansTileTheSideExactly() {
        func spans(_ p: Int) -> [[Int]] {
            FrameTiling.windowSpans(paddedSide: p, window: 256, minimumEdge: 64).map { [$0.origin, $0.size] }
        }
        XCTAssertEqual(spans(256), [[0, 256]])
        XCTAssertEqual(spans(1088), [[0, 256], [256, 256], [512, 256], [768, 256], [1024, 64]])
        XCTAssertEqual(spans(1920), (0..<7).map { [256 * $0, 256] } + [[1792, 128]])
        XCTAssertEqual(spans(720), [[0, 256], [256, 256], [512, 208]])
        XCTAssertEqual(spans(304), [[0, 304]])  // 48 < 64: one wider window
        XCTAssertEqual(spans(560), [[0, 256], [256, 304]])
        for p in Swift.stride(from: 256, through: 4096, by: 16) {
            let s = FrameTiling.windowSpans(paddedSide: p, window: 256, minimumEdge: 64)
            XCTAssertEqual(s.first?.origin, 0)
            XCTAssertEqual(s.last.map { $0.origin + $0.size }, p, "side \(p)")
            for (a, b) in zip(s, s.dropFirst()) { XCTAssertEqual(a.origin + a.size, b.origin, "side \(p)") }
            XCTAssertTrue(s.allSatisfy { $0.size >= 64 && $0.size < 320 && $0.size % 16 == 0 }, "side \(p)")
        }
    }

    func testReceptiveField() {
        let rf = DetectorArchitecture.standard.receptiveField
        XCTAssertEqual(rf.size, 42)
        XCTAssertEqual(rf.jump, 8)
        XCTAssertEqual(DetectorArchitecture.standard.receptiveFieldOffset, -17)
        // SRM's 5×5 filters add 4 pixels (2 each side), NPR one up and left, the k3 stem 2 (1 each side).
        XCTAssertEqual(Self.withResiduals.receptiveField.size, 46)
        XCTAssertEqual(Self.withResiduals.receptiveFieldOffset, -19)
        let npr = DetectorArchitecture(residualInputs: [ResidualInput(kind: .npr)])
        XCTAssertEqual(npr.receptiveField.size, 43)
        XCTAssertEqual(npr.receptiveFieldOffset, -18)
        XCTAssertEqual(Self.withStem.receptiveField.size, 44)
        XCTAssertEqual(Self.withStem.receptiveFieldOffset, -18)
        XCTAssertEqual(Self.withBoth.receptiveField.size, 48)
        XCTAssertEqual(Self.withBoth.receptiveFieldOffset, -20)
        XCTAssertEqual(Self.withBoth.receptiveField.jump, 8)
        // The energy contrast: SRM's 5×5 filters, then the 65-pixel box: 68 pixels, 34 each side.
        XCTAssertEqual(Self.withContrast.receptiveField.size, 110)
        XCTAssertEqual(Self.withContrast.receptiveFieldOffset, -51)
    }

    static let withResiduals = DetectorArchitecture(residualInputs: [ResidualInput(kind: .npr), ResidualInput(kind: .srm)])
    static let withStem = DetectorArchitecture(stemWidth: 8)
    static let withBoth = DetectorArchitecture(
        residualInputs: [ResidualInput(kind: .npr), ResidualInput(kind: .srm)], stemWidth: 8)
    static let withContrast = DetectorArchitecture(
        residualInputs: [ResidualInput(kind: .npr), ResidualInput(kind: .srm), ResidualInput(kind: .contrast)])

    /// Empirical check of the conv receptive field: with attention γ = 0 (its initial value),
    /// perturbing one input pixel changes exactly the logit cells whose field covers it. "Changes"
    /// means by more than 1e-4 of the largest change: Winograd computes a whole 4×4 output tile from
    /// one 6×6 input tile, so the cells next to the field move by float rounding (2.4e-5 of it here)
    /// though they do not depend on the pixel. The same check runs with Winograd off, at 1e-7 absolute.
    /// The candidates (residual inputs, stem) are checked exactly with Winograd off; with it on, only
    /// that no cell outside the field changes, because a pixel at the field's very edge reaches the
    /// cell only through an SRM corner tap (weight 1/12), a change below 1e-4 of the largest. The
    /// energy contrast is checked the same way with Winograd off too: a pixel at its field's edge moves
    /// a cell only through the last pixel of a 65×65 box mean (1/4225 of it) behind an SRM corner tap,
    /// below 1e-7 at the field's corner cells.
    func testReceptiveFieldEmpirically() {
        for winograd in [true, false] {
            var policy = ExecutionPolicy.default
            if !winograd { policy.winogradMinimumChannels = Int.max }
            for architecture in [.standard, Self.withResiduals, Self.withStem, Self.withBoth, Self.withContrast] {
                checkReceptiveField(architecture, policy: policy, relativeThreshold: winograd ? 1e-4 : nil)
            }
        }
    }

    private func checkReceptiveField(
        _ architecture: DetectorArchitecture, policy: ExecutionPolicy, relativeThreshold: Float?
    ) {
        let d = Discriminator(architecture: architecture, seed: 3)
        d.setExecutionPolicy(policy)
        let (size, _) = architecture.receptiveField, offset = architecture.receptiveFieldOffset
        d.eval()
        let n = 128
        let x = Tensor(shape: [1, 3, n, n])
        var rng = RandomGenerator(seed: 1)
        for i in 0..<x.count { x.pointer[i] = rng.uniform() }
        let base = d.forward(x).patch.array
        let px = 61, py = 70
        x[0, 1, py, px] += 1
        let moved = d.forward(x).patch.array
        let m = n / 8
        let largest = zip(moved, base).map { abs($0 - $1) }.max()!
        let threshold = relativeThreshold.map { $0 * largest } ?? 1e-7
        var outsideLargest: Float = 0
        for r in 0..<m {
            for c in 0..<m {
                let inside =
                    (8 * c + offset...8 * c + offset + size - 1).contains(px)
                    && (8 * r + offset...8 * r + offset + size - 1).contains(py)
                let change = abs(moved[r * m + c] - base[r * m + c])
                if !inside { outsideLargest = max(outsideLargest, change) }
                if architecture == .standard || (relativeThreshold == nil && architecture != Self.withContrast) {
                    XCTAssertEqual(change > threshold, inside, "\(architecture): cell (\(r), \(c)), threshold \(threshold)")
                } else if change > threshold {
                    XCTAssertTrue(inside, "\(architecture): cell (\(r), \(c)) changed outside the field")
                }
            }
        }
        print("receptive field: largest change \(largest), largest outside the field \(outsideLargest)")
    }

    func testDiscriminatorShapesAndGradient() {
        let d = Discriminator(architecture: TestSupport.tinyDetector, seed: 2)
        d.needsInputGradient = true
        let x = Tensor(shape: [2, 3, 32, 48], repeating: 0.5)
        let (p, g) = d.forward(x)
        XCTAssertEqual(p.shape, [2, 1, 4, 6])
        XCTAssertEqual(g.shape, [2, 1])
        let dx = d.backward(dPatch: Tensor(shape: p.shape, repeating: 1), dGlobal: Tensor(shape: g.shape, repeating: 1))
        XCTAssertEqual(dx.shape, x.shape)
        XCTAssertTrue(dx.array.allSatisfy { $0.isFinite })
        XCTAssertTrue(d.namedParameters().contains { p in p.gradient.array.contains { $0 != 0 } })
    }

    func testGeneratorOutputRange() {
        let g = Generator(architecture: TestSupport.tinyGenerator, seed: 3)
        let z = Tensor(shape: [0])
        var rng = RandomGenerator(seed: 4)
        g.sampleLatents(z, count: 3, rng: &rng)
        let y = g.forward(z)
        XCTAssertEqual(y.shape, [3, 3, 32, 32])
        XCTAssertTrue(y.array.allSatisfy { $0 >= 0 && $0 <= 1 })
        let dz = g.backward(Tensor(shape: y.shape, repeating: 1))
        XCTAssertEqual(dz.shape, [3, 16])
        let standard = Generator()
        XCTAssertEqual(standard.architecture.stageWidths, [64, 32, 16, 16])
    }
}

final class FrameScorerTests: XCTestCase {
    func testOddSmallFrameGivesDocumentedMapAndRegionInside() throws {
        let model = DetectorModel(architecture: .standard, seed: 5)
        let scorer = FrameScorer(model: model)
        let image = TestSupport.texture(width: 97, height: 61, seed: 1)
        let r = try scorer.score(image)
        XCTAssertEqual(r.logits.rows, 8)  // ⌈61/8⌉
        XCTAssertEqual(r.logits.columns, 13)  // ⌈97/8⌉
        XCTAssertEqual(r.probabilities.values.count, 8 * 13)
        XCTAssertTrue(r.logits.values.allSatisfy { $0.isFinite })
        XCTAssertLessThanOrEqual(r.heatmap.rows, 9)
        XCTAssertLessThanOrEqual(r.heatmap.columns, 16)
        XCTAssertTrue(r.probability > 0 && r.probability < 1)
        // A region exactly when some cell reaches the threshold, and then inside the frame.
        let highest = Double(r.probabilities.values.max() ?? 0)
        if highest >= model.threshold {
            XCTAssertGreaterThanOrEqual(r.region.x, 0); XCTAssertGreaterThanOrEqual(r.region.y, 0)
            XCTAssertGreaterThan(r.region.width, 0); XCTAssertGreaterThan(r.region.height, 0)
            XCTAssertLessThanOrEqual(r.region.x + r.region.width, 97)
            XCTAssertLessThanOrEqual(r.region.y + r.region.height, 61)
        } else {
            XCTAssertEqual(r.region, PixelRegion(x: 0, y: 0, width: 0, height: 0))
        }
        if r.isFake { XCTAssertGreaterThan(r.region.width, 0, "a frame over the threshold always has a region") }
        XCTAssertEqual(r.windowsTotal, 1)
        // scoring again with the reused buffers gives the same answer
        let again = try scorer.score(image)
        XCTAssertEqual(again.logits.values, r.logits.values)
    }

    func testLargeFrameTilingAndCoverage() throws {
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 6)
        let scorer = FrameScorer(model: model)
        let image = TestSupport.texture(width: 300, height: 170, seed: 2)
        let full = try scorer.score(image)
        XCTAssertEqual(full.logits.rows, 22); XCTAssertEqual(full.logits.columns, 38)
        XCTAssertEqual(full.windowsTotal, 3 * 5)  // padded 176 × 304, windows of 64
        XCTAssertTrue(full.logits.values.allSatisfy { $0.isFinite })
        let part = try scorer.score(image, coverage: 0.3)
        XCTAssertEqual(part.windowsScored, 5)
        XCTAssertTrue(part.logits.values.contains { $0.isNaN })
        XCTAssertTrue(part.probability.isFinite)
        XCTAssertThrowsError(try scorer.score(RGBImage()))
    }

    /// The scorer against the straightforward path it replaced: every window cut out on its own
    /// (reflect padding), one `Discriminator.forward` per window, cells placed (and checked not to
    /// overlap), the frame score from the stitched map. A random standard model with attention switched
    /// on (γ = 0.5) and a calibration; a 600 × 330 frame, padded to 608 × 336 and tiled into six
    /// windows of four sizes (columns 256, 256, 96; rows 256, 80), with reflected edges. Tolerance: 1e-4 relative on cell logits, 1e-4 absolute on the score and
    /// probability (different batching changes SGEMM summation order, nothing else).
    func testMatchesOneWindowAtATimeReference() throws {
        let model = DetectorModel(architecture: .standard, seed: 11)
        model.discriminator.attention.gamma.pointer[0] = 0.5
        model.calibration = Calibration(a: 0.7, b: -0.2)
        let image = TestSupport.texture(width: 600, height: 330, seed: 9)
        let reference = try Self.referenceScore(model: model, image: image)
        XCTAssertEqual(reference.windows, 6)
        for batchSize in [1, 3, 64] {
            let scorer = FrameScorer(model: model, batchSize: batchSize)
            for coverage in [1.0, 0.5] {
                let r = try scorer.score(image, coverage: coverage)
                let expected = coverage == 1 ? reference : try Self.referenceScore(model: model, image: image, coverage: coverage)
                XCTAssertEqual(r.logits.values.count, expected.logits.count)
                for (a, b) in zip(r.logits.values, expected.logits) {
                    if b.isNaN { XCTAssertTrue(a.isNaN); continue }
                    XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b)), "batch \(batchSize), coverage \(coverage)")
                }
                XCTAssertEqual(r.score, expected.score, accuracy: 1e-4, "batch \(batchSize), coverage \(coverage)")
                XCTAssertEqual(r.probability, expected.probability, accuracy: 1e-4)
                XCTAssertEqual(r.windowsScored, expected.windows)
            }
        }
    }

    /// Lanes are the scorer's own networks: two scorers of one model, each with two lanes, score the
    /// same frame at the same time on two threads and get what each gets alone, bit for bit (a lane
    /// computes a window the same way whichever lane and thread it is; nothing is shared but the model's
    /// weights, which they only read). The model's network keeps its own execution policy and mode, and
    /// OpenBLAS its thread count.
    func testScorersRunSideBySideWithoutSharedSettings() throws {
        let model = DetectorModel(architecture: .standard, seed: 12)
        model.discriminator.attention.gamma.pointer[0] = 0.5
        model.discriminator.train()
        let image = TestSupport.texture(width: 600, height: 330, seed: 13)
        let blasThreads = BLASRuntime.threadCount
        var alone = ExecutionPolicy.default
        alone.winogradMinimumChannels = Int.max
        let policies = [ExecutionPolicy.default, alone]
        let expected = try policies.map {
            try FrameScorer(model: model, batchSize: 2, threads: 2, executionPolicy: $0).score(image).logits.values
        }
        let scorers = policies.map { FrameScorer(model: model, batchSize: 2, threads: 2, executionPolicy: $0) }
        let results = SideBySideResults(count: scorers.count)
        nonisolated(unsafe) let shared = scorers  // each thread uses its own scorer only
        DispatchQueue.concurrentPerform(iterations: shared.count) { i in
            for _ in 0..<3 { results.record(i, try? shared[i].score(image).logits.values) }
        }
        for i in policies.indices {
            XCTAssertEqual(results.values(i).count, 3)
            for values in results.values(i) {
                XCTAssertTrue(values.elementsEqual(expected[i]) { $0 == $1 || $0.isNaN && $1.isNaN })
            }
        }
        XCTAssertNotEqual(expected[0], expected[1], "Winograd on and off differ in rounding")
        XCTAssertEqual(model.discriminator.conv2.inner.executionPolicy, .default)
        XCTAssertTrue(model.discriminator.isTraining)
        XCTAssertEqual(BLASRuntime.threadCount, blasThreads)
    }

    /// An execution policy set on a network reaches every layer that runs in parallel.
    func testExecutionPolicyReachesEveryLayer() {
        let d = Discriminator(architecture: DetectorArchitecture(stemWidth: 8), seed: 1)
        let policy = ExecutionPolicy(threads: 3, spreadsBatchOverWorkers: false, winogradTile: .twoByTwo)
        d.setExecutionPolicy(policy)
        let attention = d.attention
        let convs =
            [d.conv0, d.conv1, d.conv2, d.conv3, d.conv4, d.conv5, d.patchHead].compactMap { $0 }
            + [attention.query, attention.key, attention.value, attention.out]
        XCTAssertEqual(convs.count, 11)
        for conv in convs { XCTAssertEqual(conv.inner.executionPolicy, policy) }
        XCTAssertEqual(attention.executionPolicy, policy)
    }

    /// The pre-optimization scoring path, kept deliberately simple as the reference.
    static func referenceScore(
        model: DetectorModel, image: RGBImage, coverage: Double = 1
    ) throws -> (logits: [Float], score: Double, probability: Double, windows: Int) {
        let H = image.height, W = image.width, n = model.architecture.window, S = 8
        let Hp = FrameTiling.paddedSide(H, window: n), Wp = FrameTiling.paddedSide(W, window: n)
        let windows = FrameTiling(height: H, width: W, architecture: model.architecture).windows
        let chosen = FrameTiling.scoredWindowIndices(total: windows.count, coverage: coverage)
        let colsP = Wp / S
        var sums = [Float](repeating: 0, count: Hp / S * colsP), counts = sums
        for w in chosen.map({ windows[$0] }) {
            let window = Tensor(shape: [1, 3, w.height, w.width])
            for c in 0..<3 {
                for y in 0..<w.height {
                    for x in 0..<w.width {
                        let sy = FrameTiling.reflect(w.y + y, H), sx = FrameTiling.reflect(w.x + x, W)
                        window.pointer[(c * w.height + y) * w.width + x] = image.pixels[(c * H + sy) * W + sx]
                    }
                }
            }
            let (patch, _) = model.discriminator.forward(window)
            let mh = w.height / S, mw = w.width / S
            for r in 0..<mh {
                for c in 0..<mw {
                    sums[(w.y / S + r) * colsP + w.x / S + c] += patch.pointer[r * mw + c]
                    counts[(w.y / S + r) * colsP + w.x / S + c] += 1
                }
            }
        }
        XCTAssertTrue(counts.allSatisfy { $0 <= 1 }, "windows overlap")
        let rows = (H + S - 1) / S, columns = (W + S - 1) / S
        var logits = [Float](repeating: .nan, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns where counts[r * colsP + c] > 0 {
                logits[r * columns + c] = sums[r * colsP + c] / counts[r * colsP + c]
            }
        }
        // The frame score, by brute force: the best mean over every 8 × 8 block of scored cells.
        var score = -Double.infinity
        let k = FrameScorer.areaCells
        for r0 in 0...(rows - min(k, rows)) {
            for c0 in 0...(columns - min(k, columns)) {
                var sum = 0.0, n = 0.0
                for r in r0..<(r0 + min(k, rows)) {
                    for c in c0..<(c0 + min(k, columns)) where !logits[r * columns + c].isNaN {
                        sum += Double(logits[r * columns + c]); n += 1
                    }
                }
                if n > 0 { score = max(score, sum / n) }
            }
        }
        return (logits, score, model.calibration.probability(score: score), chosen.count)
    }

    /// Full-HD frame at full coverage with the standard architecture: map and heatmap sizes, windows.
    /// (Its speed is `unmask bench score`'s to measure.)
    func testFullHDFrame() throws {
        let model = DetectorModel(architecture: .standard, seed: 1)
        let scorer = FrameScorer(model: model)
        let image = TestSupport.texture(width: 1920, height: 1080, seed: 4)
        let r = try scorer.score(image)
        XCTAssertEqual(r.logits.rows, 135); XCTAssertEqual(r.logits.columns, 240)
        XCTAssertEqual(r.heatmap.rows, 9); XCTAssertEqual(r.heatmap.columns, 16)
        XCTAssertEqual(r.windowsScored, 40)
        XCTAssertTrue(r.logits.values.allSatisfy { $0.isFinite })
    }

    func testRegionFollowsHighCells() {
        var values = [Float](repeating: 0.1, count: 10 * 10)
        for r in 3...4 { for c in 6...8 { values[r * 10 + c] = 0.9 } }
        values[0] = 0.95 - 0.9 + 0.1  // low, not connected
        let g = ScoreGrid(rows: 10, columns: 10, values: values)
        let region = FrameScorer.suspiciousRegion(g, peak: (3, 6), threshold: 0.5, frameWidth: 80, frameHeight: 80)
        // cells 6…8 × 3…4 cover pixels 48..<72 × 24..<40
        XCTAssertEqual(region, PixelRegion(x: 48, y: 24, width: 24, height: 16))
        // clipped to the frame: the same cells in a 70×30 frame
        XCTAssertEqual(
            FrameScorer.suspiciousRegion(g, peak: (3, 6), threshold: 0.5, frameWidth: 70, frameHeight: 30),
            PixelRegion(x: 48, y: 24, width: 22, height: 6))
        let heat = FrameScorer.downsample(g, maxRows: 5, maxColumns: 5)
        XCTAssertEqual(heat.rows, 5)
        XCTAssertEqual(heat[1, 3], 0.9)
    }

    /// A frame whose cells are all below the threshold gets no box; one cell at the threshold gets the
    /// box of that cell alone, also when it lies outside the most suspicious area.
    func testNoRegionWithoutEvidence() {
        var values = [Float](repeating: 0.1, count: 10 * 10)
        for r in 3...4 { for c in 6...8 { values[r * 10 + c] = 0.45 } }
        let g = ScoreGrid(rows: 10, columns: 10, values: values)
        XCTAssertEqual(
            FrameScorer.suspiciousRegion(g, peak: (3, 6), threshold: 0.5, frameWidth: 80, frameHeight: 80),
            PixelRegion(x: 0, y: 0, width: 0, height: 0))
        values[3 * 10 + 6] = 0.5
        XCTAssertEqual(
            FrameScorer.suspiciousRegion(
                ScoreGrid(rows: 10, columns: 10, values: values), peak: (3, 6), threshold: 0.5, frameWidth: 80, frameHeight: 80),
            PixelRegion(x: 48, y: 24, width: 8, height: 8))
        values[3 * 10 + 6] = 0.45
        values[9 * 10 + 1] = 0.7
        XCTAssertEqual(
            FrameScorer.suspiciousRegion(
                ScoreGrid(rows: 10, columns: 10, values: values), peak: (3, 6), threshold: 0.5, frameWidth: 80, frameHeight: 80),
            PixelRegion(x: 8, y: 72, width: 8, height: 8))
    }
}

final class FramePoolingTests: XCTestCase {
    func testFrameScoreIsTheMostSuspicious64PixelAreaNotASingleCell() {
        // 30 × 40 cells of 0; one isolated cell at 10 (noise) and an 8 × 8 block of 2 (a manipulation).
        var values = [Float](repeating: 0, count: 30 * 40)
        values[2 * 40 + 3] = 10
        for r in 20..<28 { for c in 30..<38 { values[r * 40 + c] = 2 } }
        values[24 * 40 + 33] = 3
        let area = FrameScorer.mostSuspiciousArea(ScoreGrid(rows: 30, columns: 40, values: values), side: 8)
        XCTAssertEqual(area.mean, (63 * 2 + 3) / 64, accuracy: 1e-9)
        XCTAssertTrue(area.peak == (24, 33), "peak \(area.peak)")
        XCTAssertEqual(area.count, (30 - 7) * (40 - 7), "every 8 × 8 block position has scored cells")
    }

    func testAreaSkipsUnscoredCellsAndShrinksToSmallMaps() {
        var values = [Float](repeating: .nan, count: 3 * 5)
        values[7] = 4; values[8] = 2
        let area = FrameScorer.mostSuspiciousArea(ScoreGrid(rows: 3, columns: 5, values: values), side: 8)
        XCTAssertEqual(area.mean, 3, accuracy: 1e-9)
        XCTAssertTrue(area.peak == (1, 2), "peak \(area.peak)")
        XCTAssertEqual(area.count, 1, "the block shrinks to the whole 3 × 5 map")
    }

    /// Every 8 × 8 block's mean, by position: on a 10 × 12 grid of cell value = column, the block at
    /// column c has mean c + 3.5; 3 × 5 positions; the quantiles are nearest-rank over them.
    func testAreaMeansAndTheirQuantiles() {
        let values = (0..<(10 * 12)).map { Float($0 % 12) }
        let grid = ScoreGrid(rows: 10, columns: 12, values: values)
        let areas = FrameScorer.areaMeans(grid, side: 8)
        XCTAssertEqual([areas.rows, areas.columns, areas.side.rows, areas.side.columns], [3, 5, 8, 8])
        for r in 0..<3 {
            for c in 0..<5 { XCTAssertEqual(areas.means[r * 5 + c], Double(c) + 3.5, accuracy: 1e-9) }
        }
        // 15 means: 3.5…7.5, three of each; ranks 7, 13 and 14 of the sorted list.
        XCTAssertEqual(FrameEvaluation.areaLogitQuantiles(grid), [5.5, 7.5, 7.5])
        XCTAssertNil(FrameEvaluation.areaLogitQuantiles(ScoreGrid(rows: 2, columns: 2, values: [.nan, .nan, .nan, .nan])))
        // The largest mean per side: the rightmost block, c from 12 − k to 11, mean 11 − (k − 1) / 2; sides
        // past the grid's 10 rows or 12 columns shrink to it (mean 5.5).
        let maxima = FrameEvaluation.areaLogitMaxima(grid)
        XCTAssertEqual(maxima?["16"], 10.5)
        XCTAssertEqual(maxima?["32"], 9.5)
        XCTAssertEqual(maxima?["96"], 5.5)
        XCTAssertEqual(maxima?["256"], 5.5)
        XCTAssertEqual(maxima?.count, FrameEvaluation.studiedAreaSides.count)
        XCTAssertNil(FrameEvaluation.areaLogitMaxima(ScoreGrid(rows: 2, columns: 2, values: [.nan, .nan, .nan, .nan])))
    }

    /// On a 10 × 12 grid of logit = column, the 8 × 8 areas start at columns 0…4 (means 3.5…7.5). A box
    /// on pixel columns 88…95 (cell column 11) overlaps only the areas starting at column 4; one on
    /// pixel columns 0…7 only those starting at column 0; a box over the whole frame leaves no area
    /// outside it, and an unscored grid has neither.
    func testRegionAreaLogitsSplitTheAreasByTheBox() {
        let grid = ScoreGrid(rows: 10, columns: 12, values: (0..<120).map { Float($0 % 12) })
        let right = FrameEvaluation.regionAreaLogits(grid, box: PixelRegion(x: 88, y: 30, width: 8, height: 8))
        XCTAssertEqual(right.region, 7.5)
        XCTAssertEqual(right.outside, 6.5)
        let left = FrameEvaluation.regionAreaLogits(grid, box: PixelRegion(x: 0, y: 0, width: 8, height: 80))
        XCTAssertEqual(left.region, 3.5)
        XCTAssertEqual(left.outside, 7.5)
        let whole = FrameEvaluation.regionAreaLogits(grid, box: PixelRegion(x: 0, y: 0, width: 96, height: 80))
        XCTAssertEqual(whole.region, 7.5)
        XCTAssertNil(whole.outside)
        let unscored = ScoreGrid(rows: 10, columns: 12, values: [Float](repeating: .nan, count: 120))
        let none = FrameEvaluation.regionAreaLogits(unscored, box: PixelRegion(x: 0, y: 0, width: 8, height: 8))
        XCTAssertNil(none.region)
        XCTAssertNil(none.outside)
    }

    /// Cell texture is the mean luminance step to the right and below over a cell's pixels with both
    /// neighbours: vertical stripes 0 / 1 step by 1 to the right and 0 below; the 9th row has no pixel
    /// below it, so the second row of cells has no such pixel at all.
    func testCellTextureIsTheMeanLuminanceStepPerCell() {
        let (W, H) = (10, 9)
        let stripes = RGBImage(width: W, height: H, pixels: (0..<(3 * W * H)).map { Float($0 % W % 2) })
        let texture = FrameEvaluation.cellTexture(stripes)
        XCTAssertEqual([texture.rows, texture.columns], [2, 2])
        XCTAssertEqual(texture[0, 0], 1, accuracy: 1e-5)
        XCTAssertEqual(texture[0, 1], 1, accuracy: 1e-5)
        XCTAssertTrue(texture[1, 0].isNaN && texture[1, 1].isNaN)
    }

    /// On an 8 × 10 grid (three 8 × 8 areas, at columns 0, 1 and 2) of logit = column and texture =
    /// 0.001 · column, the areas' means are c + 3.5 and 0.001 · (c + 3.5): the first two fall in the
    /// first texture class (< 0.005), the third in the second; the other classes have no area.
    func testAreaLogitsAreMaximizedPerTextureClass() {
        let logits = ScoreGrid(rows: 8, columns: 10, values: (0..<80).map { Float($0 % 10) })
        let texture = ScoreGrid(rows: 8, columns: 10, values: (0..<80).map { Float($0 % 10) * 0.001 })
        let byTexture = FrameEvaluation.areaLogitByTexture(logits, texture: texture)
        XCTAssertEqual(byTexture?.count, FrameEvaluation.textureClassEdges.count + 1)
        XCTAssertEqual(byTexture?[0] ?? nil, 4.5)
        XCTAssertEqual(byTexture?[1] ?? nil, 5.5)
        XCTAssertEqual(byTexture?.dropFirst(2).allSatisfy { $0 == nil }, true)
        XCTAssertNil(FrameEvaluation.areaLogitByTexture(logits, texture: ScoreGrid(rows: 8, columns: 9, values: [])))
        let unscored = ScoreGrid(rows: 8, columns: 10, values: [Float](repeating: .nan, count: 80))
        XCTAssertNil(FrameEvaluation.areaLogitByTexture(unscored, texture: texture))
    }

    /// A 10 × 8 rectangle raised by 0.1 in every channel on a flat frame: change 0.1, texture 0; on a
    /// frame of vertical stripes 0 / 1 the texture is the mean luminance step, 1 to the right, 0 below.
    func testRegionStatisticsMeasureTheChangeUnderTheMaskAndTheTextureItReplaced() throws {
        var rng = RandomGenerator(seed: 5)
        let box = PixelRegion(x: 4, y: 6, width: 10, height: 8)
        let mask = try RegionMask.placed(.rectangle, in: box, width: 20, height: 16, feather: 0, rng: &rng)
        let flat = RGBImage(width: 20, height: 16, pixels: [Float](repeating: 0.5, count: 3 * 320))
        var fake = flat
        for c in 0..<3 {
            for y in 6..<14 { for x in 4..<14 { fake.pixels[c * 320 + y * 20 + x] += 0.1 } }
        }
        let statistics = RegionStatistics.measure(real: flat, fake: fake, mask: mask)
        XCTAssertEqual(statistics.change, 0.1, accuracy: 1e-6)
        XCTAssertEqual(statistics.texture, 0, accuracy: 1e-9)
        XCTAssertEqual(RegionStatistics.measure(real: flat, fake: flat, mask: mask).change, 0)
        let stripes = RGBImage(width: 20, height: 16, pixels: (0..<(3 * 320)).map { Float($0 % 2) })
        XCTAssertEqual(RegionStatistics.measure(real: stripes, fake: stripes, mask: mask).texture, 1, accuracy: 1e-6)
    }

    func testForgedRegionChangesOnlyTheRegionAndThresholdKeepsFalsePositivesWithinTarget() {
        var rng = RandomGenerator(seed: 3)
        let g = Generator(architecture: GeneratorArchitecture(latentSize: 8, baseWidth: 16, minimumWidth: 8, patchSize: 16))
        let image = RGBImage(width: 100, height: 80, pixels: [Float](repeating: 0.5, count: 3 * 100 * 80))
        let region = FrameForgery.randomRegion(width: 100, height: 80, rng: &rng)
        XCTAssertTrue(region.x >= 0 && region.y >= 0 && region.x + region.width <= 100 && region.y + region.height <= 80)
        var forged = image
        FrameForgery.blend(FrameForgery.samples(for: region, generator: g, rng: &rng), into: &forged, region: region)
        var inside = 0
        for y in 0..<80 {
            for x in 0..<100 where forged.pixels[y * 100 + x] != 0.5 {
                XCTAssertTrue(FrameEvaluation.overlaps(PixelRegion(x: x, y: y, width: 1, height: 1), region))
                inside += 1
            }
        }
        XCTAssertGreaterThan(inside, region.width * region.height / 3)

        // 100 real probabilities 0.00 … 0.99: at most 2 may reach the threshold.
        let real = (0..<100).map { Double($0) / 100 }
        let t = FrameEvaluation.threshold(forFalsePositiveRate: 0.02, realGroups: [real, [0.1, 0.2]])
        XCTAssertEqual(real.filter { $0 >= t }.count, 2)
        XCTAssertEqual(FrameEvaluation.threshold(forFalsePositiveRate: 0.02, realGroups: [[0.1, 0.2]]), 0.5)
    }

    func testGeneratorFileRoundTripAndErrorsNameTheFile() throws {
        let folder = NSTemporaryDirectory() + "unmask-generator-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let g = Generator(
            architecture: GeneratorArchitecture(latentSize: 8, baseWidth: 16, minimumWidth: 8, patchSize: 16), seed: 5)
        g.eval()
        try GeneratorFile.save(g, to: folder + "/g.safetensors")
        let h = try GeneratorFile.load(path: folder + "/g.safetensors")
        var r1 = RandomGenerator(seed: 1), r2 = RandomGenerator(seed: 1)
        let z1 = Tensor(shape: [0]), z2 = Tensor(shape: [0])
        g.sampleLatents(z1, count: 2, rng: &r1); h.sampleLatents(z2, count: 2, rng: &r2)
        XCTAssertEqual(g.forward(z1).array, h.forward(z2).array)
        XCTAssertThrowsError(try GeneratorFile.load(path: folder + "/missing.safetensors")) {
            XCTAssertTrue("\($0)".contains("missing.safetensors"))
        }
        try DetectorModel(architecture: .standard, seed: 1).save(to: folder + "/model.safetensors")
        XCTAssertThrowsError(try GeneratorFile.load(path: folder + "/model.safetensors")) {
            XCTAssertTrue("\($0)".contains("model.safetensors") && "\($0)".contains("unmask.model/1"))
        }
    }

    /// A 200 × 136 frame of uniform noise from `seed`, a scorer of the standard network (seed 3), and
    /// the frame's score.
    private func scoredNoiseFrame(seed: UInt64) throws -> (RGBImage, FrameScorer, FrameScoreResult) {
        var image = RGBImage(width: 200, height: 136)
        var rng = RandomGenerator(seed: seed)
        for i in image.pixels.indices { image.pixels[i] = rng.uniform() }
        let scorer = FrameScorer(model: DetectorModel(architecture: .standard, seed: 3), threads: 1)
        return (image, scorer, try scorer.score(image))
    }

    /// An evaluated frame records where its score came from (the scorer's peak cell, inside the frame's
    /// cell grid, the highest cell of the most suspicious area, also in the JSON) and where a fake's
    /// region lies.
    func testScoredFrameRecordsThePeakCell() throws {
        let (image, scorer, direct) = try scoredNoiseFrame(seed: 9)
        let real = EvaluationFrame(source: "noise", isFake: false, kind: "real", variant: "original", image: image)
        let fake = EvaluationFrame(
            source: "noise", isFake: true, kind: "partial", variant: "original", image: image,
            region: PixelRegion(x: 40, y: 24, width: 64, height: 48))
        let both = try FrameEvaluation.score([real, fake], scorer: scorer)
        let scored = both[0]
        XCTAssertEqual(scored.peakCell, [direct.peakCell.row, direct.peakCell.column])
        XCTAssertNil(scored.manipulatedX)
        XCTAssertEqual(
            [both[1].manipulatedX, both[1].manipulatedY, both[1].manipulatedWidth, both[1].manipulatedHeight], [40, 24, 64, 48])
        let (rows, columns) = FrameScorer.cellGrid(height: 136, width: 200)
        let cell = try XCTUnwrap(scored.peakCell)
        XCTAssertTrue((0..<rows).contains(cell[0]) && (0..<columns).contains(cell[1]), "peak \(cell) in \(rows) × \(columns)")
        let area = FrameScorer.mostSuspiciousArea(direct.logits, side: FrameScorer.areaCells)
        XCTAssertTrue(area.peak == (cell[0], cell[1]))
        let json = String(decoding: try JSONEncoder().encode(scored), as: UTF8.self)
        XCTAssertTrue(json.contains("\"peakCell\":[\(cell[0]),\(cell[1])]"), json)
    }

    /// A region fake is paired with the real frame of its source and variant scored before it, in the
    /// same call or an earlier one with the same pairing: made from the real frame's own pixels, its
    /// region scores exactly as the real frame does there. A fake of another source, or of a variant
    /// with no real frame yet, has no pair; a real frame and a fake without a region get none of the
    /// region fields.
    func testRegionFakesArePairedWithTheirRealFrame() throws {
        let (image, scorer, direct) = try scoredNoiseFrame(seed: 11)
        let box = PixelRegion(x: 40, y: 24, width: 64, height: 48)
        func frame(_ source: String, fake: Bool, variant: String = "original", region: PixelRegion? = nil) -> EvaluationFrame {
            EvaluationFrame(
                source: source, isFake: fake, kind: fake ? "partial" : "real", variant: variant, image: image, region: region)
        }
        var pairing = RealFramePairing()
        let real = try FrameEvaluation.score([frame("a", fake: false)], scorer: scorer, pairing: &pairing)[0]
        let later = try FrameEvaluation.score(
            [
                frame("a", fake: true, region: box), frame("b", fake: true, region: box),
                frame("a", fake: true, variant: "jpeg-q90", region: box), frame("a", fake: true),
            ], scorer: scorer, pairing: &pairing)
        let expected = FrameEvaluation.regionAreaLogits(direct.logits, box: box)
        XCTAssertNotNil(expected.region)
        XCTAssertNotNil(expected.outside)
        XCTAssertEqual(later[0].regionAreaLogit, expected.region)
        XCTAssertEqual(later[0].outsideAreaLogit, expected.outside)
        XCTAssertEqual(later[0].realRegionAreaLogit, expected.region)
        XCTAssertEqual(later[1].regionAreaLogit, expected.region)
        XCTAssertNil(later[1].realRegionAreaLogit)
        XCTAssertNil(later[2].realRegionAreaLogit)
        for scored in [real, later[3]] {
            XCTAssertNil(scored.regionAreaLogit)
            XCTAssertNil(scored.outsideAreaLogit)
            XCTAssertNil(scored.realRegionAreaLogit)
        }
        let json = String(decoding: try JSONEncoder().encode(later[0]), as: UTF8.self)
        XCTAssertTrue(json.contains("\"realRegionAreaLogit\":"), json)
    }
}

final class ModelFileTests: XCTestCase {
    func testSaveLoadRoundTripGivesIdenticalScores() throws {
        let dir = temporaryFolder("model")
        let model = DetectorModel(architecture: TestSupport.tinyDetector, seed: 9)
        model.calibration = Calibration(a: 1.5, b: -0.25)
        model.threshold = 0.6
        model.training = TrainingSummary(realFiles: 3, steps: 10, notes: "test")
        let path = dir + "/m.safetensors"
        try model.save(to: path)
        let loaded = try DetectorModel.load(path: path)
        XCTAssertEqual(loaded.architecture, model.architecture)
        XCTAssertEqual(loaded.calibration, model.calibration)
        XCTAssertEqual(loaded.threshold, 0.6)
        XCTAssertEqual(loaded.training, model.training)
        let image = TestSupport.texture(width: 130, height: 77, seed: 3)
        let a = try FrameScorer(model: model).score(image), b = try FrameScorer(model: loaded).score(image)
        XCTAssertEqual(a.logits.values, b.logits.values)
        XCTAssertEqual(a.probability, b.probability)
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.metadata["format"], "unmask.model/1")
    }

    func testLoadErrorsNameTheFile() throws {
        let dir = temporaryFolder("errors")
        // missing
        XCTAssertThrowsError(try DetectorModel.load(path: dir + "/nope.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("nope.safetensors") && "\(e)".contains("does not exist"), "\(e)")
        }
        // corrupt
        let corrupt = dir + "/corrupt.safetensors"
        try Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).write(to: URL(fileURLWithPath: corrupt))
        XCTAssertThrowsError(try DetectorModel.load(path: corrupt)) { e in
            XCTAssertTrue("\(e)".contains(corrupt) && "\(e)".contains("corrupt"), "\(e)")
        }
        // truncated real model
        let good = dir + "/good.safetensors"
        try DetectorModel(architecture: TestSupport.tinyDetector).save(to: good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let truncated = dir + "/truncated.safetensors"
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        XCTAssertThrowsError(try DetectorModel.load(path: truncated)) { e in XCTAssertTrue("\(e)".contains(truncated), "\(e)") }
        // another architecture: expected config differs
        XCTAssertThrowsError(try DetectorModel.load(path: good, expecting: .standard)) { e in
            XCTAssertTrue("\(e)".contains(good) && "\(e)".contains("architecture"), "\(e)")
        }
        // weights of another architecture under this metadata: shape mismatch
        var file = try DetectorModel(architecture: .standard).safeTensorsFile()
        let other = try DetectorModel(architecture: TestSupport.tinyDetector).safeTensorsFile()
        file.metadata["architecture"] = other.metadata["architecture"]
        let mixed = dir + "/mixed.safetensors"
        try file.write(toPath: mixed)
        XCTAssertThrowsError(try DetectorModel.load(path: mixed)) { e in
            XCTAssertTrue("\(e)".contains(mixed) && "\(e)".contains("do not match the architecture"), "\(e)")
        }
        // a training checkpoint is not a model
        let trainer = try Trainer(config: TestSupport.tinyConfig(), data: TestSupport.syntheticData(files: 2, size: 48))
        let ckpt = dir + "/ckpt.safetensors"
        try trainer.saveCheckpoint(to: ckpt)
        XCTAssertThrowsError(try DetectorModel.load(path: ckpt)) { e in
            XCTAssertTrue("\(e)".contains(ckpt) && "\(e)".contains("checkpoint"), "\(e)")
        }
    }
}

/// Logit maps that threads scoring side by side hand over under a lock.
private final class SideBySideResults: Sendable {
    private let results: Mutex<[[[Float]]]>
    init(count: Int) { results = Mutex(Array(repeating: [], count: count)) }
    func record(_ index: Int, _ values: [Float]?) { if let values { results.withLock { $0[index].append(values) } } }
    func values(_ index: Int) -> [[Float]] { results.withLock { $0[index] } }
}
