// The comparison shared by the training-free evidences: a per-block map of some local measure, each
// area's mean against the mean of the neighbourhood around it, the largest departure, and where it
// lies in the frame.
import MediaIO

/// A training-free evidence that a frame score can weigh beside the network: each compares every
/// area of the frame with its surroundings, or (copy-move) with the rest of the frame, and needs no
/// knowledge of the generator.
public enum FrameEvidence: String, CaseIterable, Codable, Sendable {
    /// `ScaleConsistency`: finest detail against the next octave.
    case scale
    /// `GridConsistency`: the 8-pixel compression grid.
    case grid
    /// `LatticeConsistency`: the JPEG quantization lattice of the DCT coefficients.
    case lattice
    /// `ChannelConsistency`: whether the colour channels share their finest detail.
    case channel
    /// `CopyMoveConsistency`: whether an area repeats another part of the frame.
    case copyMove = "copy-move"

    /// The frame's evidence and the region it points at; nil for frames too small to compare an area.
    public func analyse(_ image: RGBImage) -> (score: Double, region: PixelRegion)? {
        switch self {
        case .scale: return ScaleConsistency.analyse(image)
        case .grid: return GridConsistency.analyse(image)
        case .lattice: return LatticeConsistency.analyse(image)
        case .channel: return ChannelConsistency.analyse(image)
        case .copyMove: return CopyMoveConsistency.analyse(image)
        }
    }
}

/// Departures of areas from their surroundings on a per-block map.
public struct ContextDeviation: Sendable {
    /// Side of a map block in pixels.
    public var blockSide: Int
    /// Side of an area, and of the neighbourhood it is compared with, in blocks.
    public var areaBlocks: Int, contextBlocks: Int

    public init(blockSide: Int, areaBlocks: Int, contextBlocks: Int) {
        self.blockSide = blockSide; self.areaBlocks = areaBlocks; self.contextBlocks = contextBlocks
    }

    /// Mean of every `areaBlocks`-square area minus the mean of the `contextBlocks`-square
    /// neighbourhood centred on it (both clipped to the grid), one value per block position. A map may
    /// mark blocks without a measure as NaN: means are then over the blocks with one, and an area with
    /// a measure in fewer than half its blocks gets NaN (no comparison).
    public func deviations(_ map: ScoreGrid) -> ScoreGrid {
        let area = ContextDeviation.centredBoxMeans(map, side: areaBlocks, minimumFraction: 0.5)
        let context = ContextDeviation.centredBoxMeans(map, side: contextBlocks)
        return ScoreGrid(rows: map.rows, columns: map.columns, values: zip(area, context).map { $0 - $1 })
    }

    /// The largest |deviation| over the map's areas and the region of the areas around it that depart
    /// the same way by at least half as much (`region`); nil when the map holds fewer than
    /// `areaBlocks` blocks on a side (no whole area to compare); 0 with an empty region when no area
    /// has enough blocks with a measure.
    public func analyse(_ map: ScoreGrid, frameWidth: Int, frameHeight: Int) -> (score: Double, region: PixelRegion)? {
        guard map.rows >= areaBlocks, map.columns >= areaBlocks else { return nil }
        let d = deviations(map)
        guard
            let peak = d.values.indices.filter({ !d.values[$0].isNaN })
                .max(by: { abs(d.values[$0]) < abs(d.values[$1]) })
        else { return (0, PixelRegion(x: 0, y: 0, width: 0, height: 0)) }
        return (Double(abs(d.values[peak])), region(d, peak: peak, frameWidth: frameWidth, frameHeight: frameHeight))
    }

    /// The 4-connected component of area positions around `peak` whose deviation has the peak's sign
    /// and at least half its size, as the box of those areas' pixels (each position stands for the
    /// area centred on its block: blocks r − areaBlocks/2 …< r + areaBlocks/2), clipped to the frame.
    func region(_ d: ScoreGrid, peak: Int, frameWidth: Int, frameHeight: Int) -> PixelRegion {
        let peakValue = d.values[peak], level = abs(peakValue) / 2
        var seen = [Bool](repeating: false, count: d.values.count)
        var stack = [peak]
        seen[peak] = true
        var minR = peak / d.columns, maxR = minR, minC = peak % d.columns, maxC = minC
        while let i = stack.popLast() {
            let r = i / d.columns, c = i % d.columns
            minR = min(minR, r); maxR = max(maxR, r); minC = min(minC, c); maxC = max(maxC, c)
            for (rr, cc) in [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)]
            where rr >= 0 && rr < d.rows && cc >= 0 && cc < d.columns && !seen[rr * d.columns + cc] {
                let j = rr * d.columns + cc, v = d.values[j]
                if (v > 0) == (peakValue > 0) && abs(v) >= level { seen[j] = true; stack.append(j) }
            }
        }
        let B = blockSide, half = areaBlocks / 2
        let x0 = max(0, (minC - half) * B), y0 = max(0, (minR - half) * B)
        let x1 = min(frameWidth, (maxC + half) * B), y1 = min(frameHeight, (maxR + half) * B)
        return PixelRegion(x: x0, y: y0, width: max(1, x1 - x0), height: max(1, y1 - y0))
    }

    /// BT.601 luma of a planar 0…1 RGB image (its three planes' count must be 3·H·W).
    static func luma(_ image: RGBImage) -> [Float] {
        let plane = image.height * image.width
        var luma = [Float](repeating: 0, count: plane)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<plane { luma[i] = 0.299 * p[i] + 0.587 * p[plane + i] + 0.114 * p[2 * plane + i] }
        }
        return luma
    }

    /// Mean over the side × side box around each cell (rows r − side/2 …< r − side/2 + side, likewise
    /// for columns), clipped to the grid, of the cells that are not NaN; NaN where those are fewer than
    /// `minimumFraction` of the box's cells, or none.
    static func centredBoxMeans(_ g: ScoreGrid, side: Int, minimumFraction: Double = 0) -> [Float] {
        guard g.values.contains(where: \.isNaN) else {
            return centredBoxSums(g.values, rows: g.rows, columns: g.columns, side: side).map {
                Float($0.total / Double($0.cells))
            }
        }
        let sums = centredBoxSums(g.values.map { $0.isNaN ? 0 : $0 }, rows: g.rows, columns: g.columns, side: side)
        let counts = centredBoxSums(g.values.map { $0.isNaN ? 0 : 1 }, rows: g.rows, columns: g.columns, side: side)
        return zip(sums, counts).map { s, n in
            n.total > 0 && n.total >= minimumFraction * Double(n.cells) ? Float(s.total / n.total) : .nan
        }
    }

    /// Sum of `values` (rows × columns, row-major) over the side × side box around each cell, clipped
    /// to the grid as in `centredBoxMeans`, and the number of cells the box holds, by a summed-area table.
    static func centredBoxSums(_ values: [Float], rows R: Int, columns C: Int, side: Int) -> [(total: Double, cells: Int)] {
        let w = C + 1
        var sum = [Double](repeating: 0, count: (R + 1) * w)
        for r in 0..<R {
            for c in 0..<C {
                sum[(r + 1) * w + c + 1] = Double(values[r * C + c]) + sum[r * w + c + 1] + sum[(r + 1) * w + c] - sum[r * w + c]
            }
        }
        var out: [(total: Double, cells: Int)] = []
        out.reserveCapacity(R * C)
        for r in 0..<R {
            let r0 = max(0, r - side / 2), r1 = min(R, r - side / 2 + side)
            for c in 0..<C {
                let c0 = max(0, c - side / 2), c1 = min(C, c - side / 2 + side)
                let total = sum[r1 * w + c1] - sum[r0 * w + c1] - sum[r1 * w + c0] + sum[r0 * w + c0]
                out.append((total, (r1 - r0) * (c1 - c0)))
            }
        }
        return out
    }
}
