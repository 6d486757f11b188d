// AuditTests — writes a sample report in every format for eyeballing (Scripts/render-report.sh
// screenshots the HTML). Skipped unless UNMASK_SAMPLE_REPORT_DIR names an existing folder;
// UNMASK_SAMPLE_JPEGS may list JPEG files (colon-separated) to use as thumbnails.
import Foundation
import XCTest

@testable import Audit

final class SampleReportTests: XCTestCase {
    func testWriteSampleReportWhenAsked() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let folder = environment["UNMASK_SAMPLE_REPORT_DIR"] else {
            throw XCTSkip("set UNMASK_SAMPLE_REPORT_DIR to write a sample report")
        }
        let jpegs = try (environment["UNMASK_SAMPLE_JPEGS"] ?? "").split(separator: ":").map {
            try Data(contentsOf: URL(fileURLWithPath: String($0)))
        }

        // 12 s at 10 fps; a face swap from 4.2 s to 7.4 s; a few noisy frames elsewhere.
        var noise = SeededNoise(seed: 2026)
        let frames: [FrameScore] = (0..<120).map { i in
            let time = Double(i) / 10
            let swapped = (4.2..<7.4).contains(time + 1e-9)
            var p = swapped ? 0.86 + noise.next() * 0.13 : 0.04 + noise.next() * 0.18
            if [17, 93, 94].contains(i) { p = 0.91 }  // noisy frames that must not make a segment
            let face = (x: 500, y: 160, w: 280, h: 360)
            var values: [Float] = []
            for row in 0..<9 {
                for column in 0..<16 {
                    let cx = (Double(column) + 0.5) * 80, cy = (Double(row) + 0.5) * 80
                    let inFace = abs(cx - 640) < 140 && abs(cy - 340) < 180
                    values.append(Float(inFace ? p * (0.75 + noise.next() * 0.25) : p * 0.2 * noise.next()))
                }
            }
            return FrameScore(
                index: i, time: time, fakeProbability: p, heatmap: Heatmap(rows: 9, columns: 16, values: values),
                region: Region(x: face.x, y: face.y, w: face.w, h: face.h), isKeyframe: i % 30 == 0)
        }
        let assessment = try Aggregator.assess(frames)
        let ranked = assessment.frames.sorted { $0.fakeProbability > $1.fakeProbability }
        let thumbnails = zip(ranked.prefix(jpegs.count), jpegs).map { Thumbnail(frameIndex: $0.index, jpeg: $1) }
        let report = ScanReport(
            file: FileMetadata(
                path: "/evidence/case 17/<script>alert(1)</script>\"&.mp4",
                sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                container: "mov,mp4,m4a,3gp,3g2,mj2", codec: "h264", sizeBytes: 18_874_368,
                width: 1280, height: 720, durationSeconds: 20.0, frameRate: 30000.0 / 1001.0,
                tags: ["encoder": "Lavf60.16.100", "title": "<b>interview</b> & \"statement\""]),
            model: ModelMetadata(name: "unmask-efficientnet-b0", sha256: String(repeating: "3c", count: 32), version: "0.1.0"),
            assessment: assessment,
            warnings: ["file ends early: decoded 120 of ~200 frames"],
            timings: Timings(decodeSeconds: 1.84, scoreSeconds: 6.27, totalSeconds: 8.3),
            coverage: .frames(decoded: 120, expected: 200),
            thumbnails: thumbnails,
            createdAt: Date(timeIntervalSince1970: 1_795_737_600))
        for format in ReportFormat.allCases {
            try ReportWriter.write(report, format: format, to: folder + "/sample-report.\(format.fileExtension)")
        }

        // A still image judged real, with one thumbnail.
        let image = FrameScore(
            index: 0, time: 0, fakeProbability: 0.12, heatmap: Fixtures.heatmap(level: 0.15),
            region: Region(x: 500, y: 160, w: 280, h: 360))
        let imageReport = ScanReport(
            file: FileMetadata(
                path: "/evidence/portrait.jpg", container: "image2", codec: "mjpeg", sizeBytes: 84_211,
                width: 1280, height: 720),
            model: report.model, assessment: try Aggregator.assess([image]),
            timings: Timings(decodeSeconds: 0.01, scoreSeconds: 0.2, totalSeconds: 0.22),
            thumbnails: jpegs.prefix(1).map { Thumbnail(frameIndex: 0, jpeg: $0) },
            createdAt: report.createdAt)
        try ReportWriter.write(imageReport, format: .html, to: folder + "/sample-image.html")

        // A borderline video: uncertain, no thumbnails.
        let borderline = (0..<50).map { i in
            FrameScore(
                index: i, time: Double(i) / 10, fakeProbability: 0.45 + noise.next() * 0.12,
                region: Region(x: 0, y: 0, w: 10, h: 10))
        }
        let borderlineReport = ScanReport(
            file: FileMetadata(path: "clip.webm", durationSeconds: 5), model: report.model,
            assessment: try Aggregator.assess(borderline),
            timings: Timings(decodeSeconds: 0.3, scoreSeconds: 1.1, totalSeconds: 1.5), createdAt: report.createdAt)
        try ReportWriter.write(borderlineReport, format: .html, to: folder + "/sample-uncertain.html")
    }
}
