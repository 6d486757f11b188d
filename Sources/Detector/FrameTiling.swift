// Owns the geometry of scoring a frame in windows: the padded frame (each side a multiple of 16 and at
// least one window), the windows that tile it exactly, which windows a partial coverage scores, and the
// reflect tables that map padded coordinates back into the frame. No pixels, no network.
// Glossary: H/W frame size, Hp/Wp padded size.

/// A rectangle of the padded frame scored as one network input (its own zero padding and attention).
public struct Window: Equatable, Sendable {
    public var y: Int, x: Int, height: Int, width: Int
    public init(y: Int, x: Int, height: Int, width: Int) { self.y = y; self.x = x; self.height = height; self.width = width }
}

/// How an H × W frame is cut into network windows: the windows tile the Hp × Wp padded frame exactly
/// (no pixel is scored twice), and padded pixels outside the frame are its reflection.
public struct FrameTiling: Sendable {
    /// A run of a padded side covered by one row or column of windows.
    public struct Span: Equatable, Sendable {
        public var origin: Int, size: Int
        public init(origin: Int, size: Int) { self.origin = origin; self.size = size }
    }

    public let height: Int, width: Int
    public let paddedHeight: Int, paddedWidth: Int
    /// Every window of the frame, row-major.
    public let windows: [Window]
    /// Frame row of each padded row (Hp entries) and frame column of each padded column (Wp entries).
    let rowIndex: [Int], columnIndex: [Int]

    /// The tiling of an H × W frame for a detector's window and patch size.
    public init(height: Int, width: Int, architecture: DetectorArchitecture) {
        let window = architecture.window
        self.height = height
        self.width = width
        paddedHeight = FrameTiling.paddedSide(height, window: window)
        paddedWidth = FrameTiling.paddedSide(width, window: window)
        let rows = FrameTiling.windowSpans(paddedSide: paddedHeight, window: window, minimumEdge: architecture.patchSize)
        let columns = FrameTiling.windowSpans(paddedSide: paddedWidth, window: window, minimumEdge: architecture.patchSize)
        windows = rows.flatMap { y in columns.map { x in Window(y: y.origin, x: x.origin, height: y.size, width: x.size) } }
        rowIndex = (0..<paddedHeight).map { FrameTiling.reflect($0, height) }
        columnIndex = (0..<paddedWidth).map { FrameTiling.reflect($0, width) }
    }

    /// The windows scored at `coverage` in (0, 1], evenly spaced (at least one).
    public func scoredWindows(coverage: Double) -> [Window] {
        FrameTiling.scoredWindowIndices(total: windows.count, coverage: coverage).map { windows[$0] }
    }

    /// Padded size of a frame side: a multiple of 16, at least one window.
    public static func paddedSide(_ n: Int, window: Int) -> Int { max(window, (n + 15) / 16 * 16) }

    /// Windows along a padded side: full windows from 0 in steps of `window`, and the remainder (a
    /// multiple of 16) as a narrower last window, or, if it is narrower than `minimumEdge` (the training
    /// patch size), added to the last full window. The spans tile the side exactly; moving a full last
    /// window back over its neighbour instead would score 25 % more pixels than a 1920×1080 frame has.
    public static func windowSpans(paddedSide p: Int, window: Int, minimumEdge: Int) -> [Span] {
        let full = max(1, p / window), remainder = p - full * window
        var spans = (0..<full).map { Span(origin: $0 * window, size: window) }
        if remainder >= minimumEdge {
            spans.append(Span(origin: full * window, size: remainder))
        } else if remainder > 0 {
            spans[full - 1].size += remainder
        }
        return spans
    }

    /// Evenly spaced window indices for `coverage` in (0, 1] (at least one).
    static func scoredWindowIndices(total: Int, coverage: Double) -> [Int] {
        let c = coverage.isFinite ? min(max(coverage, 0), 1) : 1
        let n = max(1, min(total, Int((c * Double(total)).rounded(.up))))
        if n == total { return Array(0..<total) }
        return (0..<n).map { Int((Double($0) + 0.5) * Double(total) / Double(n)) }
    }

    /// Reflect index i into 0..<n (period 2n − 2; n = 1 maps everything to 0).
    @inline(__always) static func reflect(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        let period = 2 * n - 2
        var m = i % period
        if m < 0 { m += period }
        return m < n ? m : period - m
    }
}
