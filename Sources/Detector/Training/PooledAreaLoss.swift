// Owns the pooled-area loss: a BCE on each training patch's soft maximum over areas of its logit map
// (Losses.pooledBCEWithLogits), added to the per-cell loss by the probe and the trainer. A frame is
// scored by its most suspicious area (`FrameScorer.areaCells`), so what decides a whole-frame AUC is
// a real frame's highest areas and a fake region's highest, not the mean cell the per-cell loss weighs.
// Glossary: N rows, m logit cells per side, a area side in cells, b = m − a + 1 areas per side.
import NeuralNet

/// A second loss on each patch's most suspicious area; stored in checkpoints.
public struct PooledAreaLoss: Codable, Equatable, Sendable {
    /// Weight beside the per-cell loss (0…100).
    public var weight: Float
    /// Temperature of the soft maximum in logits (0.01…100): smaller is closer to the highest area.
    public var temperature: Float
    /// Side of an area in cells (1 = single cells; `FrameScorer.areaCells` is the frame score's).
    public var areaCells: Int

    public init(weight: Float, temperature: Float = 1, areaCells: Int = 1) {
        self.weight = weight; self.temperature = temperature; self.areaCells = areaCells
    }

    /// Throws unless the weight and temperature are in range and an area fits in a patch.
    public func validate(patchSize: Int) throws {
        let cells = patchSize / DetectorArchitecture.stride
        guard (0...100).contains(weight), (0.01...100).contains(temperature), (1...max(1, cells)).contains(areaCells)
        else {
            throw DetectorError.invalidConfiguration(
                "pooled loss: weight in 0…100, temperature in 0.01…100, areas of 1…\(cells) cells (the patch's cells per "
                    + "side); got \(weight), \(temperature), \(areaCells)")
        }
    }

    /// `Losses.pooledBCEWithLogits` on the areas of every row of `patchLogits` (N, 1, m, m): each
    /// `areaCells`² block of cells (stride one cell) is one area, its logit the block's mean. Its
    /// gradient times `weight` is added into `dPatch` (an area's share to each of its cells); returns
    /// the loss times `weight`. A row whose target is 0 pools every area; a fake row pools the areas
    /// that touch a cell with a target of at least 0.5, or, when its region covers no cell that much,
    /// a cell with its highest target.
    public func add(patchLogits: Tensor, cellTargets: Tensor, rowTargets: Tensor, into dPatch: Tensor) -> Float {
        let N = patchLogits.shape[0], m = patchLogits.shape[2], a = areaCells
        precondition(
            patchLogits.shape == [N, 1, m, m] && cellTargets.shape == patchLogits.shape && dPatch.shape == patchLogits.shape
                && rowTargets.count == N && (1...m).contains(a),
            "PooledAreaLoss.add: logits, targets and gradient (N, 1, m, m), one row target each, areas of 1…m cells")
        let b = m - a + 1, k = m * m, inverseArea = 1 / Float(a * a)
        let areas = Tensor(shape: [N, b * b]), pool = Tensor(shape: [N, b * b]), dAreas = Tensor(shape: [0])
        var region = [Bool](repeating: false, count: k)
        for r in 0..<N {
            let x = patchLogits.pointer + r * k, t = cellTargets.pointer + r * k
            let isReal = rowTargets.pointer[r] == 0
            if !isReal {
                var highest: Float = 0
                for i in 0..<k { highest = max(highest, t[i]) }
                precondition(highest > 0, "PooledAreaLoss.add: fake row \(r) has no cell of its region")
                let cut = min(0.5, highest)
                for i in 0..<k { region[i] = t[i] >= cut }
            }
            for by in 0..<b {
                for bx in 0..<b {
                    var sum: Float = 0, touches = isReal
                    for y in by..<(by + a) {
                        for x0 in bx..<(bx + a) {
                            sum += x[y * m + x0]
                            if !isReal && region[y * m + x0] { touches = true }
                        }
                    }
                    areas.pointer[r * b * b + by * b + bx] = sum * inverseArea
                    pool.pointer[r * b * b + by * b + bx] = touches ? 1 : 0
                }
            }
        }
        let loss = Losses.pooledBCEWithLogits(
            logits: areas, pool: pool, targets: (0..<N).map { rowTargets.pointer[$0] }, temperature: temperature,
            dLogits: dAreas)
        for r in 0..<N {
            let d = dPatch.pointer + r * k
            for by in 0..<b {
                for bx in 0..<b {
                    let g = weight * inverseArea * dAreas.pointer[r * b * b + by * b + bx]
                    guard g != 0 else { continue }
                    for y in by..<(by + a) { for x0 in bx..<(bx + a) { d[y * m + x0] += g } }
                }
            }
        }
        return weight * loss
    }
}
