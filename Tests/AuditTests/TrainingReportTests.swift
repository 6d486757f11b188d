// AuditTests — the training-run HTML report: one SVG per chart with a polyline per series that has
// data, "no data" for empty charts, NaN/infinite points skipped, sample images as PNG data URIs,
// escaping of hostile strings, and the atomic write.
import Foundation
import MediaIO
import XCTest

@testable import Audit

final class TrainingReportTests: XCTestCase {
    func occurrences(_ needle: String, in page: String) -> Int {
        page.components(separatedBy: needle).count - 1
    }

    /// A small run: two loss curves, AUC with three series, and a diversity chart with no values.
    func sampleReport(title: String = "Training run 2026-11-27", samples: Int = 3) -> TrainingReport {
        let steps = stride(from: 0.0, through: 1000, by: 50)
        let auc = [
            TrainingReport.Series(name: "overall", points: steps.map { ($0, 0.5 + 0.4 * $0 / 1000) }),
            TrainingReport.Series(name: "generated", points: steps.map { ($0, 0.5 + 0.45 * $0 / 1000) }),
            TrainingReport.Series(name: "partial", points: steps.map { ($0, 0.5 + 0.3 * $0 / 1000) }),
        ]
        return TrainingReport(
            title: title,
            summary: [("Command", "unmask train --real data/real"), ("Steps", "1000")],
            charts: [
                TrainingReport.Chart(
                    title: "Discriminator loss", yLabel: "loss",
                    series: [TrainingReport.Series(name: "D", points: steps.map { ($0, 2 - $0 / 1000) })]),
                TrainingReport.Chart(
                    title: "Generator loss", yLabel: "loss",
                    series: [TrainingReport.Series(name: "G", points: steps.map { ($0, sin($0 / 100)) })]),
                TrainingReport.Chart(title: "Validation AUC", yLabel: "AUC", series: auc, yRange: 0...1),
                TrainingReport.Chart(
                    title: "Sample diversity", yLabel: "mean pairwise distance",
                    series: [TrainingReport.Series(name: "diversity", points: [])]),
            ],
            samples: (0..<samples).map { i in
                TrainingReport.Sample(image: gradient(size: 16, shift: Float(i) / 10), caption: "sample \(i)")
            },
            createdAt: Date(timeIntervalSince1970: 1_800_000_000))
    }

    func gradient(size: Int, shift: Float) -> RGBImage {
        var image = RGBImage(width: size, height: size)
        for y in 0..<size {
            for x in 0..<size { image.setPixel(x: x, y: y, (Float(x) / Float(size), Float(y) / Float(size), shift)) }
        }
        return image
    }

    func testOneSVGPerChartWithAPolylinePerSeries() {
        let page = sampleReport().html()
        XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(occurrences("<svg", in: page), 4, "one SVG per chart")
        XCTAssertEqual(occurrences("<polyline", in: page), 1 + 1 + 3, "one polyline per series with data")
        XCTAssertEqual(occurrences("class=\"no-data\"", in: page), 1, "the empty diversity chart says so")
        XCTAssertEqual(occurrences("class=\"legend\"", in: page), 1, "a legend only where there are several series")
        for name in ["overall", "generated", "partial"] { XCTAssertTrue(page.contains(">\(name)</text>"), name) }
        XCTAssertTrue(page.contains("unmask train --real data/real"))
        XCTAssertTrue(page.contains("Created 2027-01-15T08:00:00Z"))
        XCTAssertFalse(page.lowercased().contains("http:") || page.lowercased().contains("https:"), "self-contained")
    }

    func testHostileStringsAreEscaped() {
        var report = sampleReport(title: "<script>alert(1)</script>")
        report.summary.append(("<img src=x onerror=alert(2)>", "\"><script>alert(3)</script>"))
        report.charts[0].title = "</title><script>alert(4)</script>"
        report.charts[2].series[0].name = "<script>alert(5)</script>"
        report.samples[0].caption = "\" onload=\"alert(6)"
        let page = report.html()
        XCTAssertFalse(page.lowercased().contains("<script"), "no script element from any input")
        XCTAssertEqual(occurrences("<img", in: page), report.samples.count, "only the sample images")
        XCTAssertTrue(page.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>"))
        XCTAssertTrue(page.contains("&lt;img src=x onerror=alert(2)&gt;"))
        XCTAssertTrue(page.contains("alt=\"&quot; onload=&quot;alert(6)\""))
        XCTAssertFalse(page.contains("onload=\"alert"), "the caption cannot open an attribute")
        XCTAssertEqual(
            occurrences("</title>", in: page), 1 + report.charts.count,
            "the page title and one per chart SVG; a chart title cannot close one")
    }

    func testSamplesAreInlinePNGImages() throws {
        var report = sampleReport(samples: 5)
        let page = report.html()
        XCTAssertEqual(occurrences("<img", in: page), 5)
        XCTAssertEqual(occurrences("<img src=\"data:image/png;base64,", in: page), 5)
        let first = try XCTUnwrap(page.range(of: "data:image/png;base64,"))
        let base64 = page[first.upperBound...].prefix { $0 != "\"" }
        let png = try XCTUnwrap(Data(base64Encoded: String(base64)))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertTrue(page.contains("<figcaption>sample 4</figcaption>"))

        // An image that cannot be encoded loses its tile only; out-of-range and NaN pixels are clamped.
        report.samples.append(TrainingReport.Sample(image: RGBImage(), caption: "empty"))
        var wild = gradient(size: 8, shift: 0)
        wild.pixels[0] = .nan; wild.pixels[1] = 7; wild.pixels[2] = -3
        report.samples.append(TrainingReport.Sample(image: wild, caption: "wild"))
        let more = report.html()
        XCTAssertEqual(occurrences("<img", in: more), 6)
        XCTAssertEqual(occurrences("not encodable", in: more), 1)

        report.samples = []
        XCTAssertFalse(report.html().contains("Generated samples"), "no empty sample section")
    }

    func testNonFinitePointsAreSkipped() throws {
        let series = TrainingReport.Series(
            name: "FPR", points: [(0, 0.5), (100, .nan), (200, 0.25), (.infinity, 0.1), (300, -.infinity), (400, 0)])
        XCTAssertEqual(series.finitePoints.map(\.x), [0, 200, 400])
        let chart = TrainingReport.Chart(title: "False-positive rate", yLabel: "FPR", series: [series], yRange: 0...1)
        let svg = ChartSVG.render(chart)
        let points = try XCTUnwrap(svg.range(of: "points=\""))
        let coordinates = svg[points.upperBound...].prefix { $0 != "\"" }.split(separator: " ")
        XCTAssertEqual(coordinates.count, 3)
        XCTAssertFalse(svg.lowercased().contains("nan"))
        XCTAssertFalse(svg.lowercased().contains("inf"))

        let allMissing = TrainingReport.Chart(
            title: "AUC", yLabel: "AUC",
            series: [
                TrainingReport.Series(name: "a", points: [(0, .nan)]), TrainingReport.Series(name: "b", points: []),
            ])
        let empty = ChartSVG.render(allMissing)
        XCTAssertTrue(empty.contains(">no data</text>"))
        XCTAssertFalse(empty.contains("<polyline"))
        XCTAssertTrue(empty.contains(">a (no data)</text>"))
    }

    func testTicksAreRoundNumbersInsideTheRange() {
        func assertTicks(_ range: ClosedRange<Double>, _ expected: [Double], line: UInt = #line) {
            let ticks = ChartSVG.ticks(range)
            XCTAssertEqual(ticks.count, expected.count, "\(ticks)", line: line)
            for (a, b) in zip(ticks, expected) { XCTAssertEqual(a, b, accuracy: 1e-12, "\(ticks)", line: line) }
        }
        assertTicks(0...1, [0, 0.2, 0.4, 0.6, 0.8, 1])
        assertTicks(0...5000, [0, 1000, 2000, 3000, 4000, 5000])
        assertTicks(-0.3...0.3, [-0.2, 0, 0.2])
        assertTicks(0.93...1.07, [0.95, 1, 1.05])
        XCTAssertEqual(ChartSVG.label(25_000), "25k")
        XCTAssertEqual(ChartSVG.label(0.25), "0.25")
        // A constant series still gets a drawable range.
        let constant = ChartSVG.padded(2...2, fraction: 0.05)
        XCTAssertEqual(constant.lowerBound, 1.8, accuracy: 1e-12)
        XCTAssertEqual(constant.upperBound, 2.2, accuracy: 1e-12)
    }

    func testWriteIsAtomicAndLeavesNoTemporaryFile() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("training.html").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        let report = sampleReport()
        try report.write(to: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["training.html"])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), report.html())

        let missing = folder.appendingPathComponent("missing/training.html").path
        XCTAssertThrowsError(try report.write(to: missing)) { error in
            XCTAssertEqual(
                error as? ReportWriteError, .folderMissing(path: missing, folder: folder.appendingPathComponent("missing").path))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["training.html"])
    }

    /// A realistic-looking run for checking the page by eye: noisy losses, AUC per kind, FPR, diversity
    /// missing at the first validations, 16 textured samples. With UNMASK_TRAINING_REPORT_PREVIEW=path
    /// set it is also written there (e.g. to screenshot with headless Chromium).
    func testPreviewReport() throws {
        var rng = SystemRandomNumberGenerator()
        let steps = Array(stride(from: 0.0, through: 5000, by: 10))
        let validations = Array(stride(from: 200.0, through: 5000, by: 200))
        func noisy(_ f: (Double) -> Double, _ amplitude: Double) -> [(x: Double, y: Double)] {
            steps.map { ($0, f($0) + Double.random(in: -amplitude...amplitude, using: &rng)) }
        }
        func rising(_ top: Double, _ rate: Double) -> [(x: Double, y: Double)] {
            validations.map { ($0, 0.5 + (top - 0.5) * (1 - exp(-$0 / rate))) }
        }
        let report = TrainingReport(
            title: "Unmask training: standard detector vs upsampling generator",
            summary: [
                ("Command line", "unmask train --real /work/training-media/real --steps 5000 --out model.safetensors"),
                ("Data", "412 real files (371 training, 41 validation), 0 fake files, 3 skipped"),
                ("Architecture", "detector widths 16-32-64, patch 64; generator z 64, base 128"),
                ("Steps", "5000 D steps, 2500 G steps"), ("Duration", "1 h 12 min"),
                ("Final metrics", "AUC 0.962, FPR 0.031 at score 0"),
            ],
            charts: [
                TrainingReport.Chart(
                    title: "Discriminator loss", yLabel: "loss",
                    series: [TrainingReport.Series(name: "D", points: noisy({ 1.2 * exp(-$0 / 1500) + 0.4 }, 0.15))]),
                TrainingReport.Chart(
                    title: "Generator loss", yLabel: "loss",
                    series: [TrainingReport.Series(name: "G", points: noisy({ 0.3 + 0.4 * (1 - exp(-$0 / 2000)) }, 0.2))]),
                TrainingReport.Chart(
                    title: "Validation AUC", yLabel: "AUC",
                    series: [
                        TrainingReport.Series(name: "overall", points: rising(0.96, 900)),
                        TrainingReport.Series(name: "generated", points: rising(0.99, 500)),
                        TrainingReport.Series(name: "partial", points: rising(0.93, 1500)),
                        TrainingReport.Series(name: "self-blended", points: rising(0.9, 2000)),
                        TrainingReport.Series(name: "media", points: []),
                    ], yRange: 0...1),
                TrainingReport.Chart(
                    title: "False-positive rate", yLabel: "FPR at score 0",
                    series: [TrainingReport.Series(name: "FPR", points: validations.map { ($0, 0.03 + 0.4 * exp(-$0 / 800)) })],
                    yRange: 0...1),
                TrainingReport.Chart(
                    title: "Generator sample diversity", yLabel: "mean pairwise L1",
                    series: [
                        TrainingReport.Series(
                            name: "diversity", points: validations.map { ($0, $0 < 1000 ? .nan : 0.12 + 0.02 * sin($0 / 500)) })
                    ]),
            ],
            samples: (0..<16).map { i in
                var image = RGBImage(width: 64, height: 64)
                for y in 0..<64 {
                    for x in 0..<64 {
                        let t = Float(i) * 0.4
                        image.setPixel(
                            x: x, y: y,
                            (0.5 + 0.4 * sin(Float(x) * 0.2 + t), 0.5 + 0.4 * cos(Float(y) * 0.15 - t), Float(x + y) / 128))
                    }
                }
                return TrainingReport.Sample(image: image, caption: "step 5000 · #\(i + 1)")
            },
            createdAt: Date())
        let page = report.html()
        XCTAssertEqual(occurrences("<svg", in: page), 5)
        XCTAssertEqual(occurrences("<polyline", in: page), 1 + 1 + 4 + 1 + 1)
        XCTAssertEqual(occurrences("<img", in: page), 16)
        if let path = ProcessInfo.processInfo.environment["UNMASK_TRAINING_REPORT_PREVIEW"] { try report.write(to: path) }
    }
}
