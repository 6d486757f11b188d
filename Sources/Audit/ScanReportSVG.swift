// Audit — the figures of the scan's HTML report as inline SVG: the probability timeline of a video,
// the score scale of a single image, and a thumbnail with its heatmap and region overlays. Built by
// hand, with every string passed through `Markup.escape`.
import Foundation

/// The per-frame probability timeline as inline SVG.
enum TimelineSVG {
    static let width = 960.0, height = 260.0
    static let left = 52.0, right = 16.0, top = 14.0, bottom = 58.0

    static func render(_ report: ScanReport) -> String {
        let n = SVG.number
        let assessment = report.assessment
        let policy = assessment.policy
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let lastTime = assessment.frames.map(\.time).max() ?? 0
        let firstTime = min(assessment.frames.map(\.time).min() ?? 0, 0)
        var endTime = max(lastTime, report.file.durationSeconds.flatMap { $0.isFinite ? $0 : nil } ?? 0)
        if endTime - firstTime <= 0 { endTime = firstTime + 1 }
        func x(_ time: Double) -> Double { left + (time - firstTime) / (endTime - firstTime) * plotWidth }
        func y(_ probability: Double) -> Double { top + (1 - min(max(probability, 0), 1)) * plotHeight }

        var svg: [String] = []
        let label = "Fake probability over time for " + report.file.fileName
        svg.append(
            "<svg viewBox=\"0 0 \(n(width)) \(n(height))\" "
                + "role=\"img\" aria-label=\"\(Markup.escape(label))\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">")
        svg.append("<title>\(Markup.escape(label))</title>")
        svg.append(
            SVG.rect(x: left, y: top, width: plotWidth, height: plotHeight, attributes: "fill=\"#ffffff\" stroke=\"#bdbdbd\""))

        // Uncertain band, then suspicious segments (under the data).
        let bandTop = y(policy.uncertainBand.upperBound), bandBottom = y(policy.uncertainBand.lowerBound)
        svg.append(
            SVG.rect(
                x: left, y: bandTop, width: plotWidth, height: bandBottom - bandTop,
                attributes: "fill=\"#9e9e9e\" fill-opacity=\"0.18\" class=\"uncertain-band\""))
        for segment in assessment.segments {
            let start = x(segment.start), end = max(x(segment.end), start + 3)
            svg.append(
                SVG.rect(
                    x: start, y: top, width: end - start, height: plotHeight,
                    attributes: "fill=\"#e53935\" fill-opacity=\"0.18\" class=\"segment\""))
        }

        // The part of the file that was not analysed (partial coverage), hatched.
        if !report.coverage.isFull, endTime - lastTime > (endTime - firstTime) * 0.01 {
            let start = x(lastTime)
            svg.append(
                "<defs><pattern id=\"not-analysed-hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
                    + "patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#bdbdbd\" "
                    + "stroke-width=\"2\"/></pattern></defs>")
            svg.append(
                SVG.rect(
                    x: start, y: top, width: left + plotWidth - start, height: plotHeight,
                    attributes: "fill=\"url(#not-analysed-hatch)\" fill-opacity=\"0.6\" class=\"not-analysed\""))
            svg.append(
                "<text x=\"\(n((start + left + plotWidth) / 2))\" y=\"\(n(top + 16))\" text-anchor=\"middle\" "
                    + "fill=\"#616161\">not analysed</text>")
        }

        // Grid and axes.
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            svg.append(
                "<line x1=\"\(n(left))\" y1=\"\(n(y(tick)))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(y(tick)))\" "
                    + "stroke=\"#eeeeee\"/>")
            svg.append(
                "<text x=\"\(n(left - 6))\" y=\"\(n(y(tick) + 4))\" text-anchor=\"end\" fill=\"#555\">"
                    + String(format: "%.2f", tick) + "</text>")
        }
        let step = tickStep(endTime - firstTime)
        var tick = (firstTime / step).rounded(.up) * step
        while tick <= endTime + step * 1e-6 {
            svg.append(
                "<line x1=\"\(n(x(tick)))\" y1=\"\(n(top + plotHeight))\" x2=\"\(n(x(tick)))\" "
                    + "y2=\"\(n(top + plotHeight + 4))\" stroke=\"#757575\"/>")
            svg.append(
                "<text x=\"\(n(x(tick)))\" y=\"\(n(top + plotHeight + 17))\" text-anchor=\"middle\" fill=\"#555\">"
                    + timeLabel(tick, step: step) + "</text>")
            tick += step
        }
        svg.append(
            "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(top + plotHeight + 33))\" text-anchor=\"middle\" "
                + "fill=\"#333\">time (s)</text>")
        svg.append(
            "<text x=\"14\" y=\"\(n(top + plotHeight / 2))\" text-anchor=\"middle\" fill=\"#333\" "
                + "transform=\"rotate(-90 14 \(n(top + plotHeight / 2)))\">P(fake)</text>")

        // Threshold, raw points, smoothed line.
        svg.append(
            "<line x1=\"\(n(left))\" y1=\"\(n(y(policy.threshold)))\" x2=\"\(n(left + plotWidth))\" "
                + "y2=\"\(n(y(policy.threshold)))\" stroke=\"#424242\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\" class=\"threshold\"/>"
        )
        let radius = assessment.frames.count > 600 ? 1.2 : 2.2
        for frame in assessment.frames {
            svg.append(
                "<circle cx=\"\(n(x(frame.time)))\" cy=\"\(n(y(frame.fakeProbability)))\" r=\"\(n(radius))\" "
                    + "fill=\"#78909c\" fill-opacity=\"0.75\"/>")
        }
        let points = zip(assessment.frames, assessment.smoothed).map { "\(n(x($0.time))),\(n(y($1)))" }
        if points.count > 1 {
            svg.append(
                "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#1565c0\" "
                    + "stroke-width=\"2\" stroke-linejoin=\"round\" class=\"smoothed\"/>")
        }

        // Legend.
        let legendY = height - 10
        svg.append("<g class=\"legend\" fill=\"#333\">")
        svg.append(
            "<circle cx=\"\(n(left + 6))\" cy=\"\(n(legendY - 4))\" r=\"3\" fill=\"#78909c\"/>"
                + "<text x=\"\(n(left + 14))\" y=\"\(n(legendY))\">frame score</text>")
        svg.append(
            "<line x1=\"\(n(left + 110))\" y1=\"\(n(legendY - 4))\" x2=\"\(n(left + 134))\" y2=\"\(n(legendY - 4))\" "
                + "stroke=\"#1565c0\" stroke-width=\"2\"/><text x=\"\(n(left + 140))\" y=\"\(n(legendY))\">smoothed (moving median)</text>"
        )
        svg.append(
            "<line x1=\"\(n(left + 310))\" y1=\"\(n(legendY - 4))\" x2=\"\(n(left + 334))\" y2=\"\(n(legendY - 4))\" "
                + "stroke=\"#424242\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
                + "<text x=\"\(n(left + 340))\" y=\"\(n(legendY))\">threshold \(String(format: "%.2f", policy.threshold))</text>")
        svg.append(
            SVG.rect(x: left + 450, y: legendY - 10, width: 20, height: 12, attributes: "fill=\"#9e9e9e\" fill-opacity=\"0.3\"")
                + "<text x=\"\(n(left + 476))\" y=\"\(n(legendY))\">uncertain band</text>")
        svg.append(
            SVG.rect(x: left + 590, y: legendY - 10, width: 20, height: 12, attributes: "fill=\"#e53935\" fill-opacity=\"0.3\"")
                + "<text x=\"\(n(left + 616))\" y=\"\(n(legendY))\">suspicious segment</text>")
        svg.append("</g>")
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// A tick spacing giving at most about ten ticks.
    static func tickStep(_ span: Double) -> Double {
        let steps: [Double] = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]
        return steps.first { span / $0 <= 10 } ?? (span / 10).rounded(.up)
    }

    static func timeLabel(_ time: Double, step: Double) -> String {
        step < 1 ? String(format: "%.1f", time) : String(format: "%.0f", time)
    }
}

/// For a single frame (an image) a time axis means nothing: its score on a 0…1 scale instead,
/// with the uncertain band and the threshold, as SVG.
enum ScoreScaleSVG {
    static let width = 960.0, height = 110.0, left = 40.0, right = 40.0, barTop = 34.0, barHeight = 26.0

    static func render(_ report: ScanReport) -> String {
        let n = SVG.number
        let policy = report.assessment.policy
        let probability = min(max(report.assessment.fakeProbability, 0), 1)
        let scaleWidth = width - left - right
        func x(_ p: Double) -> Double { left + min(max(p, 0), 1) * scaleWidth }
        let label = "Fake probability of " + report.file.fileName
        var svg: [String] = []
        svg.append(
            "<svg viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"\(Markup.escape(label))\" "
                + "font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">")
        svg.append("<title>\(Markup.escape(label))</title>")
        svg.append(
            SVG.rect(
                x: left, y: barTop, width: scaleWidth, height: barHeight,
                attributes: "fill=\"#ffffff\" stroke=\"#bdbdbd\""))
        let bandStart = x(policy.uncertainBand.lowerBound), bandEnd = x(policy.uncertainBand.upperBound)
        svg.append(
            SVG.rect(
                x: bandStart, y: barTop, width: bandEnd - bandStart, height: barHeight,
                attributes: "fill=\"#9e9e9e\" fill-opacity=\"0.25\" class=\"uncertain-band\""))
        svg.append(
            "<line x1=\"\(n(x(policy.threshold)))\" y1=\"\(n(barTop - 6))\" x2=\"\(n(x(policy.threshold)))\" "
                + "y2=\"\(n(barTop + barHeight + 6))\" stroke=\"#424242\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\" class=\"threshold\"/>"
        )
        for tick in stride(from: 0.0, through: 1.0, by: 0.1) {
            svg.append(
                "<text x=\"\(n(x(tick)))\" y=\"\(n(barTop + barHeight + 20))\" text-anchor=\"middle\" fill=\"#555\">"
                    + String(format: "%.1f", tick) + "</text>")
        }
        let colour: String
        switch report.assessment.verdict {
        case .fake: colour = "#b71c1c"
        case .real: colour = "#1b5e20"
        case .uncertain: colour = "#e65100"
        }
        svg.append(
            "<circle cx=\"\(n(x(probability)))\" cy=\"\(n(barTop + barHeight / 2))\" r=\"9\" fill=\"\(colour)\" "
                + "stroke=\"#ffffff\" stroke-width=\"2\" class=\"score\"/>")
        svg.append(
            "<text x=\"\(n(x(probability)))\" y=\"\(n(barTop - 12))\" text-anchor=\"middle\" fill=\"#212121\" "
                + "font-weight=\"bold\">P(fake) " + String(format: "%.3f", probability) + "</text>")
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }
}

/// One thumbnail with its heatmap and region (yellow box), as SVG. The heatmap has one fixed colour
/// scale for every frame and file: a cell is shaded only when its probability reaches the model's
/// threshold t, from light red at t to deep red at 1 (`HeatmapScale`), so a frame without evidence
/// shows no red however its own values rank.
enum ThumbnailSVG {
    static func render(thumbnail: Thumbnail, frame: FrameScore, frameSize: (width: Int, height: Int), threshold: Double) -> String
    {
        let width = Double(frameSize.width), height = Double(frameSize.height)
        let n = SVG.number
        let mime = thumbnail.jpeg.starts(with: [0x89, 0x50, 0x4E, 0x47]) ? "image/png" : "image/jpeg"
        let dataURI = "data:\(mime);base64," + thumbnail.jpeg.base64EncodedString()
        let label = "Frame \(frame.index) with heatmap overlay"
        var svg: [String] = []
        svg.append(
            "<svg viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" "
                + "aria-label=\"\(Markup.escape(label))\">")
        svg.append(
            "<image href=\"\(Markup.escape(dataURI))\" x=\"0\" y=\"0\" width=\"\(n(width))\" height=\"\(n(height))\" "
                + "preserveAspectRatio=\"none\"/>")
        let heatmap = frame.heatmap
        if heatmap.isWellFormed, heatmap.rows > 0, heatmap.columns > 0 {
            let cellWidth = width / Double(heatmap.columns), cellHeight = height / Double(heatmap.rows)
            var cells: [String] = []
            for row in 0..<heatmap.rows {
                for column in 0..<heatmap.columns {
                    guard
                        let opacity = HeatmapScale.opacity(
                            Double(heatmap.values[row * heatmap.columns + column]), threshold: threshold)
                    else { continue }
                    cells.append(
                        "<rect x=\"\(n(Double(column) * cellWidth))\" y=\"\(n(Double(row) * cellHeight))\" "
                            + "width=\"\(n(cellWidth))\" height=\"\(n(cellHeight))\" fill-opacity=\"\(n(opacity))\"/>")
                }
            }
            if !cells.isEmpty {
                svg.append("<g class=\"heatmap\" fill=\"\(HeatmapScale.colour)\">\n" + cells.joined(separator: "\n") + "\n</g>")
            }
        }
        let region = frame.region
        if region.w > 0, region.h > 0 {
            let stroke = max(2, min(width, height) / 120)
            svg.append(
                "<rect class=\"region\" x=\"\(region.x)\" y=\"\(region.y)\" width=\"\(region.w)\" height=\"\(region.h)\" "
                    + "fill=\"none\" stroke=\"#ffeb3b\" stroke-width=\"\(n(stroke))\"/>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }
}

/// The heatmap's fixed colour scale: one colour whose opacity grows linearly from `lowest` at the
/// model threshold t to `highest` at probability 1; cells below t are not shaded.
enum HeatmapScale {
    static let colour = "#d50000"
    static let lowest = 0.25, highest = 0.75

    /// The fill opacity of a cell with probability p, nil when p is below t (or not a number).
    static func opacity(_ p: Double, threshold t: Double) -> Double? {
        guard p.isFinite, p >= t else { return nil }
        let fraction = t < 1 ? min(max((p - t) / (1 - t), 0), 1) : 1
        return lowest + (highest - lowest) * fraction
    }

    /// The legend: a bar from t to 1 in the scale's colours, with its labels.
    static func legend(threshold t: Double) -> String {
        let n = SVG.number
        let steps = 10, barLeft = 150.0, barWidth = 200.0, step = barWidth / Double(steps)
        var svg = [
            "<svg class=\"heatmap-legend\" viewBox=\"0 0 480 28\" width=\"480\" height=\"28\" role=\"img\" "
                + "aria-label=\"Heatmap colour scale\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"11\">",
            "<text x=\"0\" y=\"16\">cell P(fake) below \(String(format: "%.2f", t)): clear</text>",
        ]
        for i in 0..<steps {
            let p = t + (1 - t) * (Double(i) + 0.5) / Double(steps)
            let opacity = opacity(p, threshold: t) ?? 0
            svg.append(
                SVG.rect(
                    x: barLeft + Double(i) * step, y: 4, width: step, height: 14,
                    attributes: "fill=\"\(colour)\" fill-opacity=\"\(n(opacity))\""))
        }
        svg.append(SVG.rect(x: barLeft, y: 4, width: barWidth, height: 14, attributes: "fill=\"none\" stroke=\"#757575\""))
        svg.append("<text x=\"\(n(barLeft + barWidth + 6))\" y=\"16\">\(String(format: "%.2f", t)) (threshold) … 1</text>")
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }
}
