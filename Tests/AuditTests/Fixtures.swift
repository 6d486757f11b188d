// AuditTests — synthetic frame scores and reports shared by the tests: a deterministic
// pseudo-random noise source, frame sequences at a fixed rate, a complete sample report, and a
// counter that the scoring thread and the decoding thread (which polls cancellation) can share.
import Foundation
import Synchronization

@testable import Audit

/// A count one thread raises and another reads (a cancellation condition polled by the decoder).
final class SharedCount: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .sequentiallyConsistent) }
    func increment() { count.add(1, ordering: .sequentiallyConsistent) }
}

/// Deterministic noise (SplitMix64), so every run of the tests sees the same "random" scores.
struct SeededNoise {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A value uniformly in 0..<1.
    mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}

enum Fixtures {
    /// Frames at `fps` over `seconds`, frame i at time i / fps with probability `probability(time)`.
    static func frames(seconds: Double, fps: Double, probability: (Double) -> Double) -> [FrameScore] {
        let count = Int((seconds * fps).rounded())
        return (0..<count).map { i in
            let time = Double(i) / fps
            return FrameScore(
                index: i, time: time, fakeProbability: probability(time),
                heatmap: heatmap(level: Float(probability(time))),
                region: Region(x: 100 + i % 7, y: 80, w: 160, h: 200), isKeyframe: i % 30 == 0)
        }
    }

    /// A 4 × 6 heatmap peaking at `level` in the middle.
    static func heatmap(level: Float) -> Heatmap {
        let rows = 4, columns = 6
        var values: [Float] = []
        for row in 0..<rows {
            for column in 0..<columns {
                let central = (row == 1 || row == 2) && (column == 2 || column == 3)
                values.append(central ? level : level * 0.25)
            }
        }
        return Heatmap(rows: rows, columns: columns, values: values)
    }

    static let hostilePath = "/evidence/<script>alert(1)</script>\"&.mp4"

    /// A complete report: 12 s at 10 fps, fake between 4 s and 7 s, with hostile strings in every
    /// field that comes from the file, the model or warnings.
    static func sampleReport(path: String = hostilePath, thumbnails: [Thumbnail]? = nil) throws -> ScanReport {
        var noise = SeededNoise(seed: 42)
        let frames = Fixtures.frames(seconds: 12, fps: 10) { time in
            (4.0..<7.0).contains(time) ? 0.93 : 0.06
        }.map { frame -> FrameScore in
            var frame = frame
            frame.fakeProbability = min(max(frame.fakeProbability + (noise.next() - 0.5) * 0.08, 0), 1)
            return frame
        }
        let assessment = try Aggregator.assess(frames)
        let file = FileMetadata(
            path: path,
            sha256: String(repeating: "ab", count: 32),
            container: "mov,mp4,m4a,3gp,3g2,mj2",
            codec: "h264",
            sizeBytes: 12_345_678,
            width: 1280,
            height: 720,
            durationSeconds: 20.0,
            frameRate: 30000.0 / 1001.0,
            tags: ["title": "<img src=x onerror=alert(2)>", "encoder": "Lavf60.16.100, \"quoted\""])
        return ScanReport(
            file: file,
            model: ModelMetadata(
                name: "unmask-vit-s</title><script>alert(3)</script>",
                sha256: String(repeating: "0f", count: 32), version: "1.0.0",
                parentSHA256: String(repeating: "e1", count: 32), parentName: "unmask-v1.safetensors"),
            assessment: assessment,
            warnings: ["file ends early: decoded 120 of ~200 frames <script>alert(4)</script>"],
            timings: Timings(decodeSeconds: 1.23456, scoreSeconds: 4.5, totalSeconds: 5.9),
            coverage: .frames(decoded: 120, expected: 200),
            thumbnails: thumbnails ?? [Thumbnail(frameIndex: 50, jpeg: tinyJPEG), Thumbnail(frameIndex: 5, jpeg: tinyJPEG)],
            createdAt: Date(timeIntervalSince1970: 1_800_000_000))
    }

    /// Bytes that start like a JPEG; the HTML writer embeds them without decoding.
    static let tinyJPEG = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0xFF, 0xD9])

    /// A fresh empty folder under the system temporary folder.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("audit-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The repository root, found from this file's path.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
