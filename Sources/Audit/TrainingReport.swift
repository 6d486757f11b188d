// Audit — the self-contained HTML report of a training run: a summary table, inline-SVG line charts
// (losses, validation AUC, false-positive rate, sample diversity: whatever curves the caller
// gives) and a grid of generated samples as PNG data URIs. Input is plain values, so Audit stays
// independent of Detector: the training command turns its events into `Series`. Page structure is
// built with Plot (sharing HTMLReport's stylesheet and table helper); the SVG by hand, with every
// string passed through `Markup.escape`.
import Foundation
import MediaIO
import Plot

/// One training run, ready to render as an HTML page.
public struct TrainingReport: Sendable {
    /// One line of a chart. Points whose x or y is NaN or infinite are skipped when drawn.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }

        /// The points that can be drawn (both coordinates finite), in the given order.
        public var finitePoints: [(x: Double, y: Double)] { points.filter { $0.x.isFinite && $0.y.isFinite } }
    }

    /// A line chart: one polyline per series with data, a legend when there are several series.
    public struct Chart: Sendable {
        public var title: String
        public var xLabel: String
        public var yLabel: String
        public var series: [Series]
        /// A fixed y range (e.g. 0…1 for AUC and rates); nil fits the data.
        public var yRange: ClosedRange<Double>?
        public init(
            title: String, xLabel: String = "step", yLabel: String, series: [Series], yRange: ClosedRange<Double>? = nil
        ) {
            self.title = title
            self.xLabel = xLabel
            self.yLabel = yLabel
            self.series = series
            self.yRange = yRange
        }
    }

    /// A generated sample shown in the grid.
    public struct Sample: Sendable {
        /// Pixels in 0…1 (MediaIO's layout); shown enlarged without smoothing.
        public var image: RGBImage
        public var caption: String
        public init(image: RGBImage, caption: String = "") {
            self.image = image
            self.caption = caption
        }
    }

    public var title: String
    /// Key/value rows of the run summary, in order (command line, data, architecture, steps, …).
    public var summary: [(key: String, value: String)]
    public var charts: [Chart]
    public var samples: [Sample]
    /// Heading of the sample grid.
    public var samplesTitle: String
    /// When the report was made; shown in the footer when given.
    public var createdAt: Date?

    public init(
        title: String, summary: [(key: String, value: String)] = [], charts: [Chart] = [], samples: [Sample] = [],
        samplesTitle: String = "Generated samples", createdAt: Date? = nil
    ) {
        self.title = title
        self.summary = summary
        self.charts = charts
        self.samples = samples
        self.samplesTitle = samplesTitle
        self.createdAt = createdAt
    }

    /// The report as one self-contained HTML page (no external resources, no scripts).
    public func html() -> String {
        let page = HTML(
            .lang(.english),
            HTMLReport.head(title: title, stylesheet: HTMLReport.stylesheet + Self.stylesheet),
            .body(
                .h1(.class("run-title"), HTMLReport.untrusted(title)),
                summary.isEmpty
                    ? .empty
                    : .group(.h2(.text("Run")), HTMLReport.keyValueTable(summary.map { ($0.key, $0.value) }, monospaceRows: [])),
                charts.isEmpty
                    ? .empty
                    : .group(
                        .h2(.text("Curves")),
                        .div(
                            .class("charts"),
                            .group(charts.map { .div(.class("chart"), .raw(ChartSVG.render($0))) }))),
                samplesSection(),
                .footer(
                    .text(
                        (createdAt.map { "Created " + ScanReport.dateFormatter.string(from: $0) + " · " } ?? "") + "Unmask"))
            )
        )
        return page.render()
    }

    /// Renders the page and writes it atomically to `path` (temporary file in the same folder, then
    /// rename), with `ReportWriter`'s errors.
    public func write(to path: String) throws {
        try ReportWriter.write(Data(html().utf8), to: path)
    }

    func samplesSection() -> Node<HTML.BodyContext> {
        guard !samples.isEmpty else { return .empty }
        return .group(
            .h2(HTMLReport.untrusted(samplesTitle)),
            .div(
                .class("samples"),
                .group(
                    samples.map { sample in
                        let picture: Node<HTML.BodyContext>
                        // An image that cannot be encoded (e.g. 0×0) costs its tile, not the whole report.
                        if sample.image.width > 0, sample.image.height > 0,
                            let png = try? ImageEncoder.pngData(clamped(sample.image))
                        {
                            picture = .raw(
                                "<img src=\"data:image/png;base64,\(png.base64EncodedString())\" "
                                    + "alt=\"\(Markup.escape(sample.caption))\" width=\"\(sample.image.width)\" "
                                    + "height=\"\(sample.image.height)\">")
                        } else {
                            picture = .div(.class("missing"), .text("not encodable"))
                        }
                        return .element(
                            named: "figure",
                            nodes: [
                                picture,
                                sample.caption.isEmpty
                                    ? .empty : .element(named: "figcaption", nodes: [HTMLReport.untrusted(sample.caption)]),
                            ])
                    }))
        )
    }

    /// Generator outputs can stray slightly outside 0…1 (and NaN after a divergence): clamp, NaN → 0.
    func clamped(_ image: RGBImage) -> RGBImage {
        var copy = image
        for i in copy.pixels.indices {
            let v = copy.pixels[i]
            copy.pixels[i] = v.isNaN ? 0 : min(max(v, 0), 1)
        }
        return copy
    }

    static let stylesheet = """

        h1.run-title { font-size: 1.5em; margin: 0 0 12px; word-break: break-word; }
        .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 14px; }
        .chart svg { width: 100%; height: auto; display: block; background: #fff; border: 1px solid #ddd;
                     border-radius: 6px; }
        .samples { display: grid; grid-template-columns: repeat(auto-fill, minmax(132px, 1fr)); gap: 10px; }
        .samples figure img { width: 100%; height: auto; display: block; image-rendering: pixelated; }
        .samples .missing { aspect-ratio: 1; display: flex; align-items: center; justify-content: center;
                            color: #777; background: #eee; }
        """
}

/// A line chart as inline SVG: axes with round-number ticks, one polyline per series with finite
/// points (markers too when points are sparse), a legend for several series, "no data" when empty.
enum ChartSVG {
    static let width = 640.0, height = 320.0
    static let left = 62.0, right = 16.0, top = 34.0, bottom = 46.0
    /// Tableau 10: distinguishable, and readable on white.
    static let palette = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ]

    static func render(_ chart: TrainingReport.Chart) -> String {
        let n = SVG.number
        let drawn = chart.series.map(\.finitePoints)
        let all = drawn.joined()
        // The legend takes rows of up to three entries under the plot when there is more than one series.
        let legendRows = chart.series.count > 1 ? (chart.series.count + 2) / 3 : 0
        let totalHeight = height + Double(legendRows) * 18 + (legendRows > 0 ? 8 : 0)
        let plotWidth = width - left - right, plotHeight = height - top - bottom

        var svg: [String] = []
        svg.append(
            "<svg viewBox=\"0 0 \(n(width)) \(n(totalHeight))\" role=\"img\" aria-label=\"\(Markup.escape(chart.title))\" "
                + "font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">")
        svg.append("<title>\(Markup.escape(chart.title))</title>")
        svg.append(
            "<text x=\"\(n(left))\" y=\"20\" font-size=\"14\" font-weight=\"bold\" fill=\"#212121\">"
                + Markup.escape(chart.title) + "</text>")
        svg.append(
            SVG.rect(
                x: left, y: top, width: plotWidth, height: plotHeight, attributes: "fill=\"#ffffff\" stroke=\"#bdbdbd\""))

        if all.isEmpty {
            svg.append(
                "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(top + plotHeight / 2))\" text-anchor=\"middle\" "
                    + "fill=\"#757575\" font-size=\"16\" class=\"no-data\">no data</text>")
        } else {
            let xs = all.map(\.x), ys = all.map(\.y)  // not empty: min and max exist
            let xRange = padded(xs.min()!...xs.max()!, fraction: 0)
            let yRange = chart.yRange ?? padded(ys.min()!...ys.max()!, fraction: 0.05)
            func x(_ v: Double) -> Double { left + (v - xRange.lowerBound) / span(xRange) * plotWidth }
            // Points outside a fixed range are pinned to its edge rather than drawn outside the plot.
            func y(_ v: Double) -> Double {
                top + (1 - min(max((v - yRange.lowerBound) / span(yRange), 0), 1)) * plotHeight
            }

            // Grid and tick labels.
            for tick in ticks(yRange) {
                svg.append(
                    "<line x1=\"\(n(left))\" y1=\"\(n(y(tick)))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(y(tick)))\" "
                        + "stroke=\"#eeeeee\"/>")
                svg.append(
                    "<text x=\"\(n(left - 6))\" y=\"\(n(y(tick) + 4))\" text-anchor=\"end\" fill=\"#555\">"
                        + label(tick) + "</text>")
            }
            for tick in ticks(xRange) {
                svg.append(
                    "<line x1=\"\(n(x(tick)))\" y1=\"\(n(top + plotHeight))\" x2=\"\(n(x(tick)))\" "
                        + "y2=\"\(n(top + plotHeight + 4))\" stroke=\"#757575\"/>")
                svg.append(
                    "<text x=\"\(n(x(tick)))\" y=\"\(n(top + plotHeight + 17))\" text-anchor=\"middle\" fill=\"#555\">"
                        + label(tick) + "</text>")
            }

            // Data: polyline per series; markers when sparse enough to show where the samples are.
            for (index, points) in drawn.enumerated() where !points.isEmpty {
                let colour = palette[index % palette.count]
                let coordinates = points.map { "\(n(x($0.x))),\(n(y($0.y)))" }.joined(separator: " ")
                svg.append(
                    "<polyline class=\"series\" points=\"\(coordinates)\" fill=\"none\" stroke=\"\(colour)\" "
                        + "stroke-width=\"1.8\" stroke-linejoin=\"round\"/>")
                if points.count <= 60 {
                    svg.append(
                        "<g fill=\"\(colour)\">"
                            + points.map { "<circle cx=\"\(n(x($0.x)))\" cy=\"\(n(y($0.y)))\" r=\"2.5\"/>" }.joined()
                            + "</g>")
                }
            }
        }

        // Axis titles.
        svg.append(
            "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(top + plotHeight + 34))\" text-anchor=\"middle\" "
                + "fill=\"#333\">\(Markup.escape(chart.xLabel))</text>")
        svg.append(
            "<text x=\"14\" y=\"\(n(top + plotHeight / 2))\" text-anchor=\"middle\" fill=\"#333\" "
                + "transform=\"rotate(-90 14 \(n(top + plotHeight / 2)))\">\(Markup.escape(chart.yLabel))</text>")

        // Legend, three entries per row; a series without drawable points says so.
        if legendRows > 0 {
            svg.append("<g class=\"legend\" fill=\"#333\">")
            for (index, series) in chart.series.enumerated() {
                let entryX = left + Double(index % 3) * (plotWidth / 3)
                let entryY = height + 8 + Double(index / 3) * 18  // below the x-axis title
                let colour = palette[index % palette.count]
                let name = series.name + (drawn[index].isEmpty ? " (no data)" : "")
                svg.append(
                    "<line x1=\"\(n(entryX))\" y1=\"\(n(entryY - 4))\" x2=\"\(n(entryX + 22))\" y2=\"\(n(entryY - 4))\" "
                        + "stroke=\"\(colour)\" stroke-width=\"2.5\"/>"
                        + "<text x=\"\(n(entryX + 28))\" y=\"\(n(entryY))\">\(Markup.escape(name))</text>")
            }
            svg.append("</g>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    static func span(_ range: ClosedRange<Double>) -> Double { range.upperBound - range.lowerBound }

    /// The range widened by `fraction` of its span on each side; a single value gets ±1 (or ±10 %).
    static func padded(_ range: ClosedRange<Double>, fraction: Double) -> ClosedRange<Double> {
        let s = span(range)
        guard s > 0 else {
            let half = range.lowerBound == 0 ? 1 : abs(range.lowerBound) * 0.1
            return (range.lowerBound - half)...(range.upperBound + half)
        }
        return (range.lowerBound - s * fraction)...(range.upperBound + s * fraction)
    }

    /// Round-number ticks (1, 2 or 5 × 10^k apart, about five of them) inside the range.
    static func ticks(_ range: ClosedRange<Double>) -> [Double] {
        let rough = span(range) / 5
        guard rough > 0, rough.isFinite else { return [range.lowerBound] }
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        // Multiples k·step (not a running sum, which drifts).
        let first = Int((range.lowerBound / step - 1e-9).rounded(.up))
        let last = Int((range.upperBound / step + 1e-9).rounded(.down))
        guard first <= last else { return [] }
        return (first...last).map { $0 == 0 ? 0 : Double($0) * step }
    }

    /// A tick label: up to four significant digits, thousands as "k" ("0.25", "1500", "12k").
    static func label(_ value: Double) -> String {
        if abs(value) >= 10_000 { return String(format: "%gk", value / 1000) }
        return String(format: "%.4g", value)
    }
}
