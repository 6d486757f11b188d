// Audit — the self-contained HTML report: verdict banner, file metadata, an inline-SVG timeline,
// thumbnails with heatmap and region overlays (base64 data URIs), model, scan details, warnings.
// Page structure is built with Plot; the SVG figures (ScanReportSVG.swift) by hand; every string from
// outside goes through `Markup.escape`.
import Foundation
import Plot

enum HTMLReport {
    static func render(_ report: ScanReport) -> String {
        let assessment = report.assessment
        let title = "Unmask report: \(report.file.fileName)"
        let html = HTML(
            .lang(.english),
            HTMLReport.head(title: title, stylesheet: stylesheet),
            .body(
                banner(report),
                warningsSection(report),
                .h2(.text("File")),
                fileTable(report.file),
                .h2(.text(report.frames.count == 1 ? "Score" : "Timeline")),
                .div(
                    .class("timeline"),
                    .raw(report.frames.count == 1 ? ScoreScaleSVG.render(report) : TimelineSVG.render(report))),
                report.frames.count == 1 ? .empty : segmentsSection(assessment),
                thumbnailsSection(report),
                suspiciousFramesSection(assessment),
                .h2(.text("Model")),
                modelTable(report.model),
                .h2(.text("Scan")),
                scanTable(report),
                .footer(
                    .text(
                        "Schema \(ScanReport.schemaIdentifier) · created "
                            + ScanReport.dateFormatter.string(from: report.createdAt) + " · Unmask")
                )
            )
        )
        return html.render()
    }

    /// A text node for a string that came from outside (file, tags, model, warnings).
    static func untrusted<Context>(_ text: String) -> Node<Context> {
        .raw(Markup.escape(text))
    }

    // MARK: Sections

    static func banner(_ report: ScanReport) -> Node<HTML.BodyContext> {
        let assessment = report.assessment
        let policy = assessment.policy
        let headline: String
        switch assessment.verdict {
        case .fake: headline = "Likely fake"
        case .real: headline = "No confident evidence of manipulation found (not proof of authenticity)"
        case .uncertain: headline = "Uncertain"
        }
        let rule: String
        switch assessment.rule {
        case _ where report.frames.count == 1:
            rule = "The score of the single analysed frame."
        case .confidentFrames:
            rule =
                "Mean of \(assessment.confidentFrameCount) confidently fake frames "
                + "(smoothed score > \(format(policy.confidentLevel, 2)))."
        case .smoothedMean:
            rule =
                "Mean smoothed score of all \(report.frames.count) frames "
                + "(\(assessment.confidentFrameCount) confidently fake, too few to decide)."
        case .segment:
            rule = "Mean smoothed score over the threshold in the most suspicious segment."
        }
        return .div(
            .class("banner verdict-\(assessment.verdict.rawValue)"),
            .div(.class("verdict"), .text(assessment.verdict.rawValue.uppercased())),
            .div(
                .class("headline"),
                .text("\(headline): fake probability \(format(assessment.fakeProbability, 3))")),
            .div(
                .class("detail"),
                .text(
                    "Threshold \(format(policy.threshold, 2)), uncertain band \(format(policy.uncertainBand.lowerBound, 2))–"
                        + "\(format(policy.uncertainBand.upperBound, 2)). "
                        + rule + " " + counted(report.frames.count, "frame") + " analysed, "
                        + (assessment.segments.isEmpty ? "no" : String(assessment.segments.count)) + " suspicious segment"
                        + (assessment.segments.count == 1 ? "." : "s."))),
            .div(.class("filename"), untrusted(report.file.path))
        )
    }

    static func warningsSection(_ report: ScanReport) -> Node<HTML.BodyContext> {
        guard !report.warnings.isEmpty else { return .empty }
        return .div(
            .class("warnings"),
            .h2(.text("Warnings")),
            .ul(.forEach(report.warnings) { .li(untrusted($0)) })
        )
    }

    static func fileTable(_ file: FileMetadata) -> Node<HTML.BodyContext> {
        var rows: [(String, String)] = [
            ("Path", file.path),
            ("SHA-256", file.sha256 ?? "unknown"),
            ("Container", file.container ?? "unknown"),
            ("Codec", file.codec ?? "unknown"),
            ("Size", file.sizeBytes.map(byteCount) ?? "unknown"),
            ("Dimensions", dimensions(file) ?? "unknown"),
            ("Duration", file.durationSeconds.map { "\(format($0, 3)) s" } ?? "unknown"),
            ("Frame rate", file.frameRate.map { "\(format($0, 3)) fps" } ?? "unknown"),
        ]
        for key in file.tags.keys.sorted() {
            rows.append(("Tag “\(key)”", file.tags[key] ?? ""))
        }
        return keyValueTable(rows, monospaceRows: ["Path", "SHA-256"])
    }

    static func modelTable(_ model: ModelMetadata) -> Node<HTML.BodyContext> {
        var rows = [
            ("Name", model.name),
            ("Version", model.version ?? "unknown"),
            ("SHA-256", model.sha256 ?? "unknown"),
        ]
        if let parent = model.parentSHA256 {
            rows.append(("Retrained from", model.parentName ?? "unknown"))
            rows.append(("Parent SHA-256", parent))
        }
        return keyValueTable(rows, monospaceRows: ["SHA-256", "Parent SHA-256"])
    }

    static func scanTable(_ report: ScanReport) -> Node<HTML.BodyContext> {
        let coverage = report.coverage
        var coverageText = coverage.isFull ? "Full" : "Partial: \(format(coverage.fraction * 100, 1)) %"
        if let decoded = coverage.framesDecoded, let expected = coverage.framesExpected {
            coverageText += " (\(decoded) of \(expected) frames decoded)"
        }
        let policy = report.assessment.policy
        return keyValueTable(
            [
                ("Frames analysed", String(report.frames.count)),
                ("Coverage", coverageText),
                ("Decode time", "\(format(report.timings.decodeSeconds, 2)) s"),
                ("Scoring time", "\(format(report.timings.scoreSeconds, 2)) s"),
                ("Total time", "\(format(report.timings.totalSeconds, 2)) s"),
                (
                    "Aggregation",
                    "\(report.assessment.rule.rawValue); moving median over "
                        + "\(format(policy.smoothingWindowSeconds, 2)) s (≥ \(policy.minimumSmoothingRadiusFrames) frame each side); "
                        + "confident > \(format(policy.confidentFakeProbability, 2)) on ≥ \(policy.minimumConfidentFrames) frames "
                        + "or ≥ \(format(policy.minimumConfidentFraction * 100, 0)) % of frames; segments merged across "
                        + "≤ \(format(policy.segmentMergeGapSeconds, 2)) s, at least \(policy.minimumSegmentFrames) frames"
                ),
            ], monospaceRows: [])
    }

    static func keyValueTable(_ rows: [(String, String)], monospaceRows: Set<String>) -> Node<HTML.BodyContext> {
        .table(
            .class("facts"),
            .group(
                rows.map { key, value in
                    .tr(
                        .th(untrusted(key)),
                        .td(.class(monospaceRows.contains(key) ? "mono" : "plain"), untrusted(value)))
                })
        )
    }

    static func segmentsSection(_ assessment: VideoAssessment) -> Node<HTML.BodyContext> {
        guard !assessment.segments.isEmpty else {
            return .p(.class("note"), .text("No suspicious segments: the smoothed score never stays above the threshold."))
        }
        return .table(
            .class("list"),
            .tr(
                .th(.text("#")), .th(.text("Start (s)")), .th(.text("End (s)")), .th(.text("Frames")),
                .th(.text("Peak probability")), .th(.text("Peak time (s)"))),
            .group(
                assessment.segments.enumerated().map { number, segment in
                    .tr(
                        .td(.text(String(number + 1))), .td(.text(format(segment.start, 2))),
                        .td(.text(format(segment.end, 2))), .td(.text(String(segment.frameCount))),
                        .td(.text(format(segment.peakProbability, 3))), .td(.text(format(segment.peakTime, 2))))
                })
        )
    }

    static func thumbnailsSection(_ report: ScanReport) -> Node<HTML.BodyContext> {
        let framesByIndex = Dictionary(report.frames.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
        let shown = report.thumbnails
            .compactMap { thumbnail in framesByIndex[thumbnail.frameIndex].map { (thumbnail, $0) } }
            .sorted { ($0.1.fakeProbability, -$0.1.time) > ($1.1.fakeProbability, -$1.1.time) }
        guard !shown.isEmpty else { return .empty }
        let frameSize = frameSize(report)
        return .group(
            .h2(.text("Most suspicious frames")),
            .p(
                .class("note"),
                .text(
                    "Red cells: parts of the frame whose fake probability reaches the model's threshold, deeper red "
                        + "closer to 1; cells below the threshold are left clear. Yellow box: the connected area of such "
                        + "cells around the most suspicious one (no box when no cell reaches the threshold).")),
            .raw(HeatmapScale.legend(threshold: report.assessment.policy.threshold)),
            .div(
                .class("thumbnails"),
                .group(
                    shown.map { thumbnail, frame in
                        .element(
                            named: "figure",
                            nodes: [
                                .raw(
                                    ThumbnailSVG.render(
                                        thumbnail: thumbnail, frame: frame, frameSize: frameSize,
                                        threshold: report.assessment.policy.threshold)),
                                .element(
                                    named: "figcaption",
                                    nodes: [
                                        .text(
                                            "Frame \(frame.index) · \(format(frame.time, 2)) s · P(fake) "
                                                + format(frame.fakeProbability, 3) + (frame.isKeyframe ? " · keyframe" : ""))
                                    ]),
                            ])
                    }))
        )
    }

    static func suspiciousFramesSection(_ assessment: VideoAssessment) -> Node<HTML.BodyContext> {
        let top = zip(assessment.frames, assessment.smoothed)
            .sorted { ($0.0.fakeProbability, -$0.0.time) > ($1.0.fakeProbability, -$1.0.time) }
            .prefix(10)
        return .group(
            .h2(.text("Highest-scoring frames")),
            .table(
                .class("list"),
                .tr(
                    .th(.text("Frame")), .th(.text("Time (s)")), .th(.text("P(fake)")), .th(.text("Smoothed")),
                    .th(.text("Label")), .th(.text("Region (x, y, w, h)")), .th(.text("Heatmap max"))),
                .group(
                    top.map { frame, smoothed in
                        .tr(
                            .td(.text(String(frame.index))), .td(.text(format(frame.time, 2))),
                            .td(.text(format(frame.fakeProbability, 3))), .td(.text(format(smoothed, 3))),
                            .td(
                                .class("label-\(assessment.label(of: frame).rawValue)"),
                                .text(assessment.label(of: frame).rawValue)),
                            .td(.text("\(frame.region.x), \(frame.region.y), \(frame.region.w), \(frame.region.h)")),
                            .td(.text(frame.heatmap.maximum.map { format(Double($0), 3) } ?? "–")))
                    })
            )
        )
    }

    // MARK: Helpers

    /// "1 frame", "12 frames".
    static func counted(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)" + (count == 1 ? "" : "s")
    }

    /// The frame's pixel size: the file's, else the smallest size holding every region, else 640 × 360.
    static func frameSize(_ report: ScanReport) -> (width: Int, height: Int) {
        if let width = report.file.width, let height = report.file.height, width > 0, height > 0 {
            return (width, height)
        }
        let width = report.frames.map { $0.region.x + $0.region.w }.max() ?? 0
        let height = report.frames.map { $0.region.y + $0.region.h }.max() ?? 0
        return width > 0 && height > 0 ? (width, height) : (640, 360)
    }

    static func dimensions(_ file: FileMetadata) -> String? {
        guard let width = file.width, let height = file.height else { return nil }
        return "\(width) × \(height) px"
    }

    static func byteCount(_ bytes: Int64) -> String {
        let grouped = NumberFormatter()
        grouped.numberStyle = .decimal
        grouped.groupingSeparator = ","
        grouped.usesGroupingSeparator = true
        let text = grouped.string(from: NSNumber(value: bytes)) ?? String(bytes)
        let mebibytes = Double(bytes) / 1_048_576
        return mebibytes >= 0.1 ? "\(text) bytes (\(format(mebibytes, 1)) MiB)" : "\(text) bytes"
    }

    static func format(_ value: Double, _ places: Int) -> String {
        guard value.isFinite else { return "n/a" }
        return String(format: "%.\(places)f", value)
    }

    /// The page head both HTML reports share. A Content-Security-Policy as defence in depth: even if
    /// something slipped through escaping, no script runs and nothing is fetched from anywhere.
    static func head(title: String, stylesheet: String) -> Node<HTML.DocumentContext> {
        .head(
            .meta(.charset(.utf8)),
            .meta(
                .attribute(named: "http-equiv", value: "Content-Security-Policy"),
                .attribute(named: "content", value: "default-src 'none'; img-src data:; style-src 'unsafe-inline'")),
            .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
            .element(named: "title", nodes: [Node<HTML.HeadContext>.raw(Markup.escape(title))]),
            .style(stylesheet))
    }

    static let stylesheet = """
        :root { color-scheme: light; }
        body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 24px auto; max-width: 1040px;
               padding: 0 16px; color: #212121; background: #fafafa; }
        h2 { font-size: 1.15em; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        .banner { border-radius: 8px; padding: 18px 22px; color: #fff; }
        .banner .verdict { font-size: 2.2em; font-weight: bold; letter-spacing: 0.08em; }
        .banner .headline { font-size: 1.25em; margin-top: 4px; }
        .banner .detail { margin-top: 6px; opacity: 0.92; }
        .banner .filename { margin-top: 8px; font-family: "DejaVu Sans Mono", monospace; word-break: break-all; opacity: 0.92; }
        .verdict-fake { background: #b71c1c; }
        .verdict-real { background: #1b5e20; }
        .verdict-uncertain { background: #e65100; }
        .warnings { background: #fff8e1; border: 1px solid #ffb300; border-radius: 6px; padding: 4px 16px; margin-top: 16px; }
        .warnings h2 { border: none; margin-top: 8px; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #eee; vertical-align: top; }
        table.facts th { width: 180px; color: #555; font-weight: normal; }
        table.list th { color: #555; }
        td.mono { font-family: "DejaVu Sans Mono", monospace; word-break: break-all; }
        td.plain { word-break: break-word; }
        td.label-fake { color: #b71c1c; font-weight: bold; }
        td.label-uncertain { color: #e65100; font-weight: bold; }
        td.label-real { color: #1b5e20; }
        .timeline svg { width: 100%; height: auto; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
        .thumbnails { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; }
        figure { margin: 0; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 6px; }
        figure svg { width: 100%; height: auto; display: block; }
        figcaption { font-size: 0.9em; color: #444; margin-top: 4px; }
        .note { color: #555; }
        footer { margin-top: 32px; color: #777; font-size: 0.85em; }
        """
}
