// AuditTests — the HTML report: verdict banner, inline SVG timeline, data-URI thumbnails with
// overlays, self-containment (no http(s) anywhere), escaping of hostile strings, and the escaping helper.
import XCTest

@testable import Audit

final class HTMLReportTests: XCTestCase {
    func html(_ report: ScanReport) throws -> String {
        String(decoding: try ReportWriter.html(report), as: UTF8.self)
    }

    func testContainsVerdictTimelineAndThumbnails() throws {
        let report = try Fixtures.sampleReport()
        let page = try html(report)
        XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(page.contains("class=\"banner verdict-fake\""))
        XCTAssertTrue(page.contains(">FAKE<"))
        XCTAssertEqual(
            page.components(separatedBy: "<svg").count - 1, 2 + report.thumbnails.count,
            "one timeline, the heatmap legend and one SVG per thumbnail")
        XCTAssertTrue(page.contains("class=\"heatmap-legend\""))
        XCTAssertTrue(page.contains("class=\"threshold\""))
        XCTAssertTrue(page.contains("stroke-dasharray"))
        XCTAssertTrue(page.contains("class=\"uncertain-band\""))
        XCTAssertEqual(page.components(separatedBy: "class=\"segment\"").count - 1, report.segments.count)
        XCTAssertTrue(page.contains("class=\"smoothed\""))
        XCTAssertTrue(page.contains("class=\"not-analysed\""), "partial coverage: the rest of the file is hatched")
        XCTAssertEqual(
            page.components(
                separatedBy: "href=\"data:image/jpeg;base64,"
                    + Fixtures.tinyJPEG.base64EncodedString() + "\""
            ).count - 1, 2)
        XCTAssertEqual(page.components(separatedBy: "class=\"region\"").count - 1, 2)
        XCTAssertTrue(page.contains("class=\"heatmap\""))
        // Most suspicious thumbnail first: frame 50 (inside the fake stretch) before frame 5.
        let frame50 = try XCTUnwrap(page.range(of: "Frame 50 ·"))
        let frame5 = try XCTUnwrap(page.range(of: "Frame 5 ·"))
        XCTAssertLessThan(frame50.lowerBound, frame5.lowerBound)
    }

    func testVerdictColourClassFollowsVerdict() throws {
        var report = try Fixtures.sampleReport()
        report.assessment.verdict = .uncertain
        XCTAssertTrue(try html(report).contains("class=\"banner verdict-uncertain\""))
        report.assessment.verdict = .real
        XCTAssertTrue(try html(report).contains("class=\"banner verdict-real\""))
    }

    func testSelfContainedWithoutExternalReferences() throws {
        let page = try html(try Fixtures.sampleReport())
        XCTAssertFalse(page.lowercased().contains("http:"), "no http references at all")
        XCTAssertFalse(page.lowercased().contains("https:"), "no https references at all")
        XCTAssertFalse(page.lowercased().contains("<link"))
        XCTAssertNil(page.range(of: "url\\((?!#)", options: .regularExpression), "only in-document url(#id) references")
        // Every src/href points at inline data.
        let references = try NSRegularExpression(pattern: "(?:src|href)=\"([^\"]*)\"")
        for match in references.matches(in: page, range: NSRange(page.startIndex..., in: page)) {
            let value = String(page[Range(match.range(at: 1), in: page)!])
            XCTAssertTrue(value.hasPrefix("data:"), value.prefix(40).description)
        }
        XCTAssertTrue(page.contains("Content-Security-Policy"))
    }

    func testHostileStringsAreEscaped() throws {
        let page = try html(try Fixtures.sampleReport())
        XCTAssertFalse(page.lowercased().contains("<script"), "no script element from any input")
        XCTAssertFalse(page.lowercased().contains("<img"), "no img element from the tags")
        XCTAssertEqual(
            page.components(separatedBy: "</title>").count - 1, 2,
            "only the page title and the timeline's SVG title close a title; the model name cannot")
        XCTAssertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;.mp4"), "file path shown escaped")
        XCTAssertTrue(page.contains("&lt;img src=x onerror=alert(2)&gt;"), "tag value shown escaped")
        XCTAssertTrue(page.contains("Lavf60.16.100, &quot;quoted&quot;"))
        XCTAssertTrue(page.contains("alert(4)"), "warning shown")
        // The <title> carries the escaped last path component ("script>\"&.mp4": the name holds a "/").
        XCTAssertTrue(page.contains("<title>Unmask report: script&gt;&quot;&amp;.mp4</title>"))
    }

    func testEntityLookalikesInFileNamesAreShownLiterally() throws {
        let page = try html(try Fixtures.sampleReport(path: "/x/a&amp;b&#60;.mp4"))
        XCTAssertTrue(page.contains("a&amp;amp;b&amp;#60;.mp4"), "the name must display exactly as on disk")
    }

    func testEmptyThumbnailsAndNoSegments() throws {
        var report = try Fixtures.sampleReport(thumbnails: [])
        report.assessment.segments = []
        let page = try html(report)
        XCTAssertEqual(page.components(separatedBy: "<svg").count - 1, 1)
        XCTAssertFalse(page.contains("data:image"))
        XCTAssertTrue(page.contains("No suspicious segments"))
    }

    /// The heatmap's colour scale is fixed by the model threshold: cells below it are never shaded,
    /// whatever the frame's own maximum, and opacity grows with the probability above it.
    func testHeatmapShadesOnlyCellsAtOrAboveThreshold() throws {
        XCTAssertNil(HeatmapScale.opacity(0.49, threshold: 0.5))
        XCTAssertNil(HeatmapScale.opacity(.nan, threshold: 0.5))
        XCTAssertEqual(try XCTUnwrap(HeatmapScale.opacity(0.5, threshold: 0.5)), HeatmapScale.lowest, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(HeatmapScale.opacity(1, threshold: 0.5)), HeatmapScale.highest, accuracy: 1e-12)
        XCTAssertLessThan(
            try XCTUnwrap(HeatmapScale.opacity(0.6, threshold: 0.5)), try XCTUnwrap(HeatmapScale.opacity(0.9, threshold: 0.5)))
        func thumbnail(level: Float, threshold: Double) -> String {
            let frame = FrameScore(
                index: 0, time: 0, fakeProbability: Double(level), heatmap: Fixtures.heatmap(level: level),
                region: Region(x: 0, y: 0, w: 0, h: 0))
            return ThumbnailSVG.render(
                thumbnail: Thumbnail(frameIndex: 0, jpeg: Fixtures.tinyJPEG), frame: frame, frameSize: (64, 48),
                threshold: threshold)
        }
        // A real-looking frame (every cell below the threshold): no red, no box.
        let quiet = thumbnail(level: 0.45, threshold: 0.5)
        XCTAssertFalse(quiet.contains("class=\"heatmap\""))
        XCTAssertFalse(quiet.contains("class=\"region\""))
        // Four central cells at 0.9, the rest at 0.225: exactly four shaded cells.
        let loud = thumbnail(level: 0.9, threshold: 0.5)
        XCTAssertEqual(loud.components(separatedBy: "fill-opacity=").count - 1, 4)
    }

    func testSingleFrameReportRenders() throws {
        let frame = FrameScore(
            index: 0, time: 0, fakeProbability: 0.9, heatmap: Fixtures.heatmap(level: 0.9),
            region: Region(x: 10, y: 10, w: 50, h: 50))
        let report = ScanReport(
            file: FileMetadata(path: "photo.jpg", width: 640, height: 480), model: ModelMetadata(name: "m"),
            assessment: try Aggregator.assess([frame]),
            timings: Timings(decodeSeconds: 0, scoreSeconds: 0.1, totalSeconds: 0.1),
            thumbnails: [Thumbnail(frameIndex: 0, jpeg: Fixtures.tinyJPEG)])
        let page = try html(report)
        XCTAssertTrue(page.contains(">FAKE<"))
        XCTAssertFalse(page.contains("nan"))
        XCTAssertTrue(page.contains("class=\"score\""), "a single frame gets a score scale, not a timeline")
        XCTAssertTrue(page.contains("The score of the single analysed frame. 1 frame analysed, 1 suspicious segment."))
    }

    func testMarkupEscape() {
        XCTAssertEqual(Markup.escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        XCTAssertEqual(Markup.escape("plain text é ✓"), "plain text é ✓")
        XCTAssertEqual(Markup.escape("bell\u{07}esc\u{1B}"), "bell\u{FFFD}esc\u{FFFD}")
        XCTAssertEqual(Markup.escape("tab\tnewline\n"), "tab\tnewline\n")
    }
}
