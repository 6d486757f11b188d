// AuditTests — the CSV report (rows, header, quoting of hostile paths, neutralized formula-like paths,
// read back with CSV.swift's reader) and the terminal summary (content, ASCII safety, colour only when
// asked).
import CSV
import XCTest

@testable import Audit

final class CSVReportTests: XCTestCase {
    func rows(_ data: Data) throws -> [[String]] {
        let reader = try CSVReader(string: String(decoding: data, as: UTF8.self))
        var rows: [[String]] = []
        while let row = reader.next() { rows.append(row) }
        return rows
    }

    func testOneRowPerFramePlusHeader() throws {
        let report = try Fixtures.sampleReport(path: "/media/clip.mp4")
        let rows = try rows(try ReportWriter.csv(report))
        XCTAssertEqual(rows.count, report.frames.count + 1)
        XCTAssertEqual(rows[0], ReportWriter.csvHeader)
        XCTAssertEqual(
            rows[0],
            [
                "file", "index", "time", "fake_probability", "smoothed_probability", "label",
                "is_keyframe", "region_x", "region_y", "region_w", "region_h", "heatmap_max",
            ])
        XCTAssertTrue(rows.allSatisfy { $0.count == 12 })
        let frame = report.frames[45]
        let row = rows[46]
        XCTAssertEqual(row[0], "/media/clip.mp4")
        XCTAssertEqual(row[1], String(frame.index))
        XCTAssertEqual(Double(row[2]) ?? -1, frame.time, accuracy: 1e-6)
        XCTAssertEqual(Double(row[3]) ?? -1, frame.fakeProbability, accuracy: 0.00005)
        XCTAssertEqual(row[5], report.assessment.label(of: frame).rawValue)
        XCTAssertEqual(Array(row[7...10]), [frame.region.x, frame.region.y, frame.region.w, frame.region.h].map(String.init))
        XCTAssertEqual(Double(row[11]) ?? -1, Double(frame.heatmap.maximum ?? -2), accuracy: 0.00005)
    }

    func testHostilePathIsQuotedAndReadsBackExactly() throws {
        let path = "/cases/a,b \"quoted\"\nsecond line.mp4"
        let report = try Fixtures.sampleReport(path: path)
        let data = try ReportWriter.csv(report)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("\"/cases/a,b \"\"quoted\"\"\nsecond line.mp4\""), "RFC 4180 quoting")
        let rows = try rows(data)
        XCTAssertEqual(rows.count, report.frames.count + 1, "a newline inside quotes is not a row break")
        XCTAssertTrue(rows.dropFirst().allSatisfy { $0[0] == path })
        XCTAssertTrue(text.hasSuffix("\n"))
    }

    /// OWASP CSV injection: a path a spreadsheet would run as a formula gets a leading quote; others
    /// are untouched.
    func testFormulaLikePathsAreNeutralized() throws {
        for path in ["=HYPERLINK(\"http://x\",\"y\").mp4", "+1.mp4", "-2+3.mp4", "@SUM(A1).mp4", "\tx.mp4", "\rx.mp4"] {
            let rows = try rows(try ReportWriter.csv(try Fixtures.sampleReport(path: path)))
            XCTAssertTrue(rows.dropFirst().allSatisfy { $0[0] == "'" + path }, "\(path.debugDescription): \(rows[1][0])")
        }
        for path in ["/cases/=a.mp4", "clip.mp4", "'quoted.mp4", ""] {
            XCTAssertEqual(ReportWriter.spreadsheetSafe(path), path)
        }
        // Numbers stay numbers: only text from the file is touched.
        let rows = try rows(try ReportWriter.csv(try Fixtures.sampleReport(path: "-x.mp4")))
        XCTAssertNotNil(Double(rows[1][3]))
    }

    func testEmptyHeatmapGivesEmptyCell() throws {
        var report = try Fixtures.sampleReport(path: "x.mp4")
        report.assessment.frames = report.assessment.frames.map { frame in
            var frame = frame
            frame.heatmap = .empty
            return frame
        }
        let rows = try rows(try ReportWriter.csv(report))
        XCTAssertEqual(rows[1][11], "")
    }
}

final class TextReportTests: XCTestCase {
    func testSummaryLines() throws {
        let report = try Fixtures.sampleReport(path: "/media/clip.mp4")
        let text = ReportWriter.text(report)
        XCTAssertTrue(text.contains("Verdict:  FAKE"), text)
        XCTAssertTrue(text.contains(String(format: "fake probability %.3f", report.fakeProbability)))
        XCTAssertTrue(text.contains("Frames:   120 analysed"))
        XCTAssertTrue(text.contains("partial coverage (60.0%)"))
        XCTAssertTrue(text.contains("Segments: 1:"))
        XCTAssertTrue(text.contains("Time:     5.90 s total"))
        XCTAssertTrue(text.contains("Warning:  file ends early"))
        XCTAssertLessThanOrEqual(text.split(separator: "\n").count, 10)
    }

    func testPlainTextIsPrintableASCIIEvenForHostileNames() throws {
        let path = "/x/\u{1B}]0;pwned\u{07}vidéo\u{202E}.mp4"
        let text = ReportWriter.text(try Fixtures.sampleReport(path: path), color: false)
        XCTAssertTrue(text.unicodeScalars.allSatisfy { $0 == "\n" || (0x20..<0x7F).contains($0.value) }, text)
        XCTAssertTrue(text.contains("\\u{1B}]0;pwned\\u{7}vid\\u{E9}o\\u{202E}.mp4"), text)
    }

    func testColourOnlyWhenAsked() throws {
        let report = try Fixtures.sampleReport(path: "/media/clip.mp4")
        XCTAssertFalse(ReportWriter.text(report, color: false).contains("\u{1B}"))
        let coloured = ReportWriter.text(report, color: true)
        XCTAssertTrue(coloured.contains("\u{1B}[1;31mFAKE\u{1B}[0m"))
    }
}
