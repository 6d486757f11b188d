// `BatchAudit` and its parts on generated folders, scored by the red-block stand-in: discovery rules
// (hidden, globs, links, loops, the output folder), safe output names, shards, the manifest's crash
// tolerance, the lock, resuming, duplicates, hostile names, time limits and merging shards.
import Foundation
import MediaIO
import XCTest

@testable import Audit

final class BatchAuditTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("audit-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String = "x") throws {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// A 1 s, 10 fps, 48×32 clip whose grey level is `shade`; with `red`, frames 3…7 carry a red block.
    func makeClip(_ name: String, shade: Float, red: Bool = false) throws {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = try VideoEncoder(path: url.path, codec: .h264(crf: 16), width: 48, height: 32, frameRate: 10, gopSize: 5)
        for index in 0..<10 {
            var image = RGBImage(width: 48, height: 32)
            for y in 0..<32 {
                for x in 0..<48 { image.setPixel(x: x, y: y, (shade, 0.4 + 0.2 * Float((x + index) % 48) / 48, 0.5)) }
            }
            if red, (3...7).contains(index) {
                for y in 8..<24 { for x in 16..<32 { image.setPixel(x: x, y: y, (1, 0, 0)) } }
            }
            try encoder.append(image)
        }
        try encoder.finish()
    }

    /// Raw-byte path under the test folder (for names that are not UTF-8).
    func rawPath(_ name: [UInt8]) -> RawPath { RawPath(folder.path).appending(RawPath(bytes: name)) }

    func audit(_ inputs: [String], out: String, configure: (inout AuditConfiguration) -> Void = { _ in }) throws -> AuditOutcome {
        var configuration = AuditConfiguration(inputs: inputs, outputFolder: out)
        configuration.scanOptions.sampling = .everyFrame
        configure(&configuration)
        return try BatchAudit(configuration: configuration, scorer: RedBlockScorer()).run()
    }

    // MARK: Discovery

    func testDiscoverySkipsHiddenNamesLinksAndTheOutputFolderAndDetectsLoops() throws {
        try write("in/a.mp4")
        try write("in/.hidden.mp4")
        try write("in/sub/b.png")
        try write("in/sub/notes.txt")
        try write("in/out/report.json")
        let manager = FileManager.default
        try manager.createSymbolicLink(atPath: path("in/z-link-to-sub"), withDestinationPath: path("in/sub"))
        try manager.createSymbolicLink(atPath: path("in/sub/loop"), withDestinationPath: path("in"))
        try manager.createSymbolicLink(atPath: path("in/broken"), withDestinationPath: path("nowhere"))

        var rules = DiscoveryRules()
        rules.excludedFolders = [path("in/out")]
        let plain = MediaDiscovery.discover([path("in")], rules: rules)
        XCTAssertEqual(plain.files.map(\.relativePath.display), ["a.mp4", "sub/b.png", "sub/notes.txt"])
        XCTAssertEqual(plain.skipped.map(\.relativePath.display), ["broken", "sub/loop", "z-link-to-sub"])
        XCTAssertTrue(plain.skipped.allSatisfy { $0.reason.contains("--follow-symlinks") })

        rules.followSymlinks = true
        rules.includeHidden = true
        let followed = MediaDiscovery.discover([path("in")], rules: rules)
        XCTAssertEqual(followed.files.map(\.relativePath.display), [".hidden.mp4", "a.mp4", "sub/b.png", "sub/notes.txt"])
        let reasons = Dictionary(uniqueKeysWithValues: followed.skipped.map { ($0.relativePath.display, $0.reason) })
        XCTAssertEqual(reasons["broken"], "broken symbolic link")
        XCTAssertEqual(reasons["sub/loop"]?.contains("loop"), true, "\(reasons)")
        XCTAssertEqual(reasons["z-link-to-sub"]?.contains("already audited"), true, "\(reasons)")

        rules.include = ["*.mp4", "*.png"]
        rules.exclude = ["sub"]
        let globbed = MediaDiscovery.discover([path("in")], rules: rules)
        // "sub" itself is pruned; the followed link to it is another path and is walked.
        XCTAssertEqual(globbed.files.map(\.relativePath.display), [".hidden.mp4", "a.mp4", "z-link-to-sub/b.png"])
    }

    func testSeveralInputsArePrefixedByTheirNameAndMissingOnesListed() throws {
        try write("one/x.mp4")
        try write("two/x.mp4")
        try write("single.mp4")
        let result = MediaDiscovery.discover(
            [path("one"), path("two"), path("single.mp4"), path("gone")], rules: DiscoveryRules())
        XCTAssertEqual(result.files.map(\.relativePath.display), ["one/x.mp4", "single.mp4", "two/x.mp4"])
        XCTAssertEqual(result.skipped.count, 1)
        XCTAssertTrue(result.skipped[0].reason.contains("does not exist"), result.skipped[0].reason)
    }

    // MARK: Names and shards

    func testOutputNamesAreOneSafeComponentAndUnique() throws {
        let hostile: [RawPath] = [
            RawPath("../../etc/passwd"), RawPath("/abs/olute.mp4"), RawPath("new\nline.mp4"),
            RawPath(bytes: [0x66, 0xFF, 0xFE, 0x2E]),
            RawPath(String(repeating: "n", count: 255)), RawPath("."), RawPath(".."), RawPath("a b.mp4"), RawPath("a_b.mp4"),
            RawPath("<script>alert(1)</script>&\".mp4"),
        ]
        let stems = hostile.map(AuditOutputNames.stem(for:))
        XCTAssertEqual(Set(stems).count, stems.count, "\(stems)")
        for stem in stems {
            XCTAssertFalse(stem.contains("/"), stem)
            XCTAssertFalse(stem.hasPrefix("."), stem)
            XCTAssertLessThanOrEqual(stem.utf8.count + ".html".count, 255, stem)
            XCTAssertTrue(stem.unicodeScalars.allSatisfy { $0.isASCII && !CharacterSet.controlCharacters.contains($0) }, stem)
        }
    }

    func testShardsCoverEveryPathExactlyOnceAndReadTheEnvironment() throws {
        let paths = (0..<200).map { RawPath("folder/file-\($0).mp4") }
        let shards = try (0..<3).map { try ShardAssignment(index: $0, count: 3) }
        for path in paths { XCTAssertEqual(shards.filter { $0.contains(path) }.count, 1) }
        XCTAssertTrue(shards.allSatisfy { shard in paths.filter { shard.contains($0) }.count > 40 }, "roughly even")

        XCTAssertEqual(
            try ShardAssignment.resolve(explicit: "1/4", count: nil, environment: [:]), try ShardAssignment(index: 1, count: 4))
        XCTAssertEqual(
            try ShardAssignment.resolve(explicit: nil, count: 5, environment: ["JOB_COMPLETION_INDEX": "2"]),
            try ShardAssignment(index: 2, count: 5))
        XCTAssertEqual(
            try ShardAssignment.resolve(
                explicit: nil, count: nil,
                environment: ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"]),
            try ShardAssignment(index: 2, count: 4))
        XCTAssertNil(try ShardAssignment.resolve(explicit: nil, count: nil, environment: ["JOB_COMPLETION_INDEX": "2"]))
        XCTAssertThrowsError(try ShardAssignment.resolve(explicit: "4/4", count: nil, environment: [:]))
        XCTAssertThrowsError(try ShardAssignment.resolve(explicit: "x", count: nil, environment: [:]))
        XCTAssertThrowsError(try ShardAssignment.resolve(explicit: nil, count: 3, environment: [:]))
    }

    // MARK: Manifest and lock

    func testManifestDropsACutLastLineAndNamesAnyOtherDamagedLine() throws {
        let manifestPath = path("manifest.jsonl")
        let manifest = try AuditManifest(path: manifestPath)
        for index in 0..<3 {
            try manifest.append(ManifestRecord(key: "k\(index)", contentSHA256: "c\(index)", path: "p\(index)", status: .error))
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
        try (whole + Data("{\"key\":\"k3\",\"pa".utf8)).write(to: URL(fileURLWithPath: manifestPath))
        let reopened = try AuditManifest(path: manifestPath)
        XCTAssertTrue(reopened.droppedPartialLine)
        XCTAssertEqual(Set(reopened.records.keys), ["k0", "k1", "k2"])
        try reopened.append(ManifestRecord(key: "k3", contentSHA256: "c3", path: "p3", status: .error))
        XCTAssertEqual(try AuditManifest.read(path: manifestPath).records.map(\.key), ["k0", "k1", "k2", "k3"])

        var lines = try String(contentsOfFile: manifestPath, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[1] = "{ damaged"
        try (lines.joined(separator: "\n") + "\n").write(toFile: manifestPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try AuditManifest(path: manifestPath)) { error in
            XCTAssertEqual(
                error as? AuditManifestError, .damagedLine(path: manifestPath, line: 2, reason: "not a manifest record"))
            XCTAssertTrue(String(describing: error).contains("line 2"))
        }
    }

    func testASecondLockOnTheSameFolderIsRefusedUntilTheFirstIsReleased() throws {
        var first: OutputFolderLock? = try OutputFolderLock(folder: folder.path)
        XCTAssertThrowsError(try OutputFolderLock(folder: folder.path)) { error in
            guard case .locked(let lockedFolder, let holder)? = error as? AuditManifestError else {
                return XCTFail("expected locked, got \(error)")
            }
            XCTAssertEqual(lockedFolder, folder.path)
            XCTAssertTrue(holder.contains("\(getpid())"), holder)
        }
        XCTAssertNotNil(first)
        first = nil
        XCTAssertNoThrow(try OutputFolderLock(folder: folder.path))
    }

    // MARK: Whole audits

    func testAuditReportsEveryFileOnceWithDuplicatesNonMediaAndHostileNames() throws {
        try makeClip("media/plain.mp4", shade: 0.2)
        try makeClip("media/forged.mp4", shade: 0.3, red: true)
        try FileManager.default.copyItem(atPath: path("media/plain.mp4"), toPath: path("media/copy of plain.mp4"))
        try makeClip("media/<script>alert(1)</script>&\"q'.mp4", shade: 0.4)
        try makeClip("media/new\nline.mp4", shade: 0.5)
        try write("media/notes.mp4", String(repeating: "not a video\n", count: 100))
        try write("media/empty.mov", "")
        try FileManager.default.createDirectory(atPath: path("media/empty folder"), withIntermediateDirectories: true)
        let invalid = rawPath(Array("media/bad-".utf8) + [0xFF, 0xFE] + Array(".mp4".utf8))
        try FileManager.default.copyItem(atPath: path("media/forged.mp4"), toPath: path("media/tmp.mp4"))
        XCTAssertEqual(invalid.withCString { rename(path("media/tmp.mp4"), $0) }, 0)
        try makeClip("media/locked/secret.mp4", shade: 0.6)
        chmod(path("media/locked/secret.mp4"), 0)

        let out = path("media/out")
        let outcome = try audit([path("media")], out: out)
        XCTAssertFalse(outcome.interrupted)
        let rows = Dictionary(uniqueKeysWithValues: outcome.summary.files.map { ($0.path, $0) })
        XCTAssertEqual(rows["forged.mp4"]?.verdict, .fake)
        // Of identical files the first path in byte order is scanned, the others listed as its duplicates.
        XCTAssertEqual(rows["copy of plain.mp4"]?.verdict, .real)
        XCTAssertEqual(rows["copy of plain.mp4"]?.status, .scanned)
        XCTAssertEqual(rows["plain.mp4"]?.status, .duplicate)
        XCTAssertEqual(rows["plain.mp4"]?.duplicateOf, "copy of plain.mp4")
        XCTAssertEqual(rows["plain.mp4"]?.verdict, .real)
        XCTAssertEqual(rows["notes.mp4"]?.status, .notMedia)
        XCTAssertEqual(rows["empty.mov"]?.status, .notMedia)
        XCTAssertEqual(rows["new\nline.mp4"]?.status, .scanned)
        XCTAssertEqual(rows["<script>alert(1)</script>&\"q'.mp4"]?.status, .scanned)
        XCTAssertEqual(rows["bad-\u{FFFD}\u{FFFD}.mp4"]?.status, .scanned, "a name that is not UTF-8 is still read")
        XCTAssertEqual(rows["bad-\u{FFFD}\u{FFFD}.mp4"]?.verdict, .fake)
        if getuid() != 0 {
            XCTAssertEqual(rows["locked/secret.mp4"]?.status, .error)
            XCTAssertEqual(rows["locked/secret.mp4"]?.reason?.contains("Permission denied"), true)
        }
        XCTAssertFalse(outcome.summary.files.contains { $0.path.hasPrefix("out") }, "the output folder is not audited")
        XCTAssertEqual(outcome.summary.counts["fake"], 2)

        // Every report is inside OUTDIR/reports, parses, and names its file by the relative path.
        let reports = try FileManager.default.contentsOfDirectory(atPath: out + "/reports")
        XCTAssertEqual(reports.filter { $0.hasSuffix(".json") }.count, outcome.summary.counts["scanned"])
        for row in outcome.summary.files where row.status == .scanned {
            let data = try Data(contentsOf: URL(fileURLWithPath: out + "/" + XCTUnwrap(row.reportJSON)))
            let report = try JSONDecoder().decode(ScanReport.self, from: data)
            XCTAssertEqual(report.file.path, row.path)
        }
        let index = try String(contentsOfFile: outcome.indexPath, encoding: .utf8)
        XCTAssertFalse(index.contains("<script>alert"), "file names are escaped")
        XCTAssertTrue(index.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;q&#39;.mp4"))
        XCTAssertEqual(index.components(separatedBy: "<script>").count, 2, "one script: the table sorter")
        XCTAssertTrue(index.contains(AuditSummaryHTML.scriptHash))
        XCTAssertTrue(index.contains("data:image/jpeg;base64,"), "thumbnails are embedded")
        let csv = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix(AuditSummary.csvHeader.joined(separator: ",")))

        // A rerun scans nothing and writes the same summary; --force scans everything again.
        let summaryBytes = try Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))
        let rerun = try audit([path("media")], out: out)
        XCTAssertEqual(rerun.scannedNow, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")), summaryBytes)
        let forced = try audit([path("media")], out: out) { $0.force = true }
        XCTAssertEqual(forced.scannedNow, outcome.scannedNow)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")), summaryBytes)
        XCTAssertEqual(try AuditManifest.read(path: out + "/manifest.jsonl").records.count, outcome.scannedNow)
    }

    func testAnInterruptedAuditResumesToTheSameSummary() throws {
        for index in 0..<4 { try makeClip("media/clip-\(index).mp4", shade: 0.1 + Float(index) * 0.2, red: index == 2) }
        let whole = try audit([path("media")], out: path("whole"))
        XCTAssertEqual(whole.scannedNow, 4)

        let finished = SharedCount()
        var configuration = AuditConfiguration(inputs: [path("media")], outputFolder: path("resumed"))
        configuration.scanOptions.sampling = .everyFrame
        let stopped = try BatchAudit(configuration: configuration, scorer: RedBlockScorer()).run(
            events: { if case .fileFinished = $0 { finished.increment() } }, isCancelled: { finished.value >= 2 })
        XCTAssertTrue(stopped.interrupted)
        XCTAssertEqual(stopped.scannedNow, 2)
        XCTAssertEqual(stopped.summary.files.filter { $0.status == .scanned }.count, 2)
        XCTAssertEqual(stopped.summary.files.filter { $0.status == .pending }.count, 2)
        let resumed = try audit([path("media")], out: path("resumed"))
        XCTAssertEqual(resumed.scannedNow, 2)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: path("resumed/summary.json"))),
            try Data(contentsOf: URL(fileURLWithPath: path("whole/summary.json"))))
    }

    func testFilesDeletedOrTruncatedDuringTheRunBecomeRowsNotFailures() throws {
        for index in 0..<4 { try makeClip("media/clip-\(index).mp4", shade: 0.1 + Float(index) * 0.2) }
        var configuration = AuditConfiguration(inputs: [path("media")], outputFolder: path("out"))
        configuration.scanOptions.sampling = .everyFrame
        let outcome = try BatchAudit(configuration: configuration, scorer: RedBlockScorer()).run(events: { event in
            guard case .fileStarted(1, _, _) = event else { return }
            // clip-1 is already open (decoding ahead), so it is read whole; clip-2 is gone before
            // its turn; clip-3 is cut to a few bytes, as a file still being written may be.
            unlink(self.path("media/clip-1.mp4"))
            unlink(self.path("media/clip-2.mp4"))
            truncate(self.path("media/clip-3.mp4"), 200)
        })
        let rows = Dictionary(uniqueKeysWithValues: outcome.summary.files.map { ($0.path, $0) })
        XCTAssertEqual(rows["clip-0.mp4"]?.status, .scanned)
        XCTAssertEqual(rows["clip-1.mp4"]?.status, .scanned)
        XCTAssertEqual(rows["clip-2.mp4"]?.status, .error)
        XCTAssertEqual(rows["clip-2.mp4"]?.reason?.contains("No such file"), true, "\(rows["clip-2.mp4"]?.reason ?? "")")
        XCTAssertEqual(rows["clip-3.mp4"]?.status, .error)
        XCTAssertFalse(outcome.interrupted)
    }

    func testAPreparedFileDecodesBeforeItIsScored() throws {
        try makeClip("clip.mp4", shade: 0.3, red: true)
        var options = ScanOptions()
        options.sampling = .everyFrame
        let pipeline = ScanPipeline(scorer: RedBlockScorer(), options: options)
        let prepared = try pipeline.prepare(path: path("clip.mp4"))
        let deadline = Date().addingTimeInterval(10)
        while prepared.feeder.decodeSeconds == 0, Date() < deadline { usleep(1000) }
        XCTAssertGreaterThan(prepared.feeder.decodeSeconds, 0, "frames decode before scoring starts")
        let ahead = try pipeline.scan(prepared)
        let direct = try pipeline.scan(path: path("clip.mp4"))
        XCTAssertEqual(ahead.frames, direct.frames)
        XCTAssertEqual(ahead.verdict, .fake)
    }

    func testAFileOverItsTimeLimitBecomesAnErrorRow() throws {
        try makeClip("media/slow.mp4", shade: 0.3)
        let outcome = try audit([path("media")], out: path("out")) { $0.fileTimeout = 1e-9 }
        XCTAssertFalse(outcome.interrupted)
        XCTAssertEqual(outcome.summary.files.first?.status, .error)
        XCTAssertEqual(outcome.summary.files.first?.reason?.contains("--file-timeout"), true)
    }

    func testTenThousandFilesOfWhichAHandfulAreMedia() throws {
        let root = path("many")
        for folder in 0..<10 {
            for index in 0..<1_000 {
                try write("many/\(folder)/note-\(index)" + (index % 3 == 0 ? ".mp4" : ".txt"), "file \(folder)-\(index)\n")
            }
        }
        for index in 0..<3 { try makeClip("many/\(index * 3)/real clip \(index).mp4", shade: 0.2 + Float(index) * 0.2) }
        let started = Date()
        let outcome = try audit([root], out: path("out"))
        XCTAssertEqual(outcome.summary.counts["files"], 10_003)
        XCTAssertEqual(outcome.summary.counts["scanned"], 3)
        XCTAssertEqual(outcome.summary.counts["not_media"], 10_000)
        let rerunStarted = Date()
        let rerun = try audit([root], out: path("out"))
        XCTAssertEqual(rerun.scannedNow, 0)
        // A loose bound for a loaded debug build; the README's benchmark gives release figures.
        XCTAssertLessThan(Date().timeIntervalSince(rerunStarted), 120, "first run \(rerunStarted.timeIntervalSince(started)) s")
    }

    func testAnEmptyFolderGivesAnEmptySummary() throws {
        try FileManager.default.createDirectory(atPath: path("empty"), withIntermediateDirectories: true)
        let outcome = try audit([path("empty")], out: path("out"))
        XCTAssertEqual(outcome.summary.files, [])
        XCTAssertEqual(outcome.summary.counts["files"], 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: outcome.indexPath))
    }

    func testMergedShardsEqualTheSingleRun() throws {
        for index in 0..<6 { try makeClip("media/clip-\(index).mp4", shade: 0.1 + Float(index) * 0.1, red: index % 3 == 0) }
        try FileManager.default.copyItem(atPath: path("media/clip-1.mp4"), toPath: path("media/same-as-1.mp4"))
        try write("media/readme.txt", "hello")
        _ = try audit([path("media")], out: path("single"))
        var shardFolders: [String] = []
        for index in 0..<3 {
            let shard = try ShardAssignment(index: index, count: 3)
            _ = try audit([path("media")], out: path("shard-\(index)")) { $0.shard = shard }
            shardFolders.append(path("shard-\(index)"))
        }
        let merged = try AuditMerge.merge(shardFolders, into: path("merged"))
        XCTAssertEqual(merged.files.count, 8)
        for name in ["summary.json", "summary.csv", "index.html"] {
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: path("merged/" + name))),
                try Data(contentsOf: URL(fileURLWithPath: path("single/" + name))), name)
        }
        for row in merged.files where row.status == .scanned {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path("merged/" + (row.reportJSON ?? "-"))), row.path)
        }
    }

    /// The resource limits are settings: a resumed audit with another limit scans again, and shards
    /// audited with different limits are not merged (the error names the limit and both values).
    func testResourceLimitsAreSettingsForResumeAndMerge() throws {
        try makeClip("media/clip.mp4", shade: 0.3)
        let limits: [(String, (inout ScanOptions) -> Void)] = [
            ("max_frame_pixels 3000000 against 4000000", { $0.maxPixels = 3_000_000 }),
            ("max_analysed_frames 400 against 500", { $0.maxAnalysedFrames = 400 }),
            ("max_decoded_frames 4000 against 5000", { $0.maxDecodedFrames = 4000 }),
            ("max_duration_seconds 500.0 against 600.0", { $0.maxDurationSeconds = 500 }),
        ]
        func baseline(_ options: inout ScanOptions) {
            options.maxPixels = 4_000_000
            options.maxAnalysedFrames = 500
            options.maxDecodedFrames = 5000
            options.maxDurationSeconds = 600
        }
        for (index, (difference, change)) in limits.enumerated() {
            let first = path("first-\(index)"), second = path("second-\(index)")
            XCTAssertEqual(try audit([path("media")], out: first) { baseline(&$0.scanOptions) }.scannedNow, 1)
            XCTAssertEqual(try audit([path("media")], out: first) { baseline(&$0.scanOptions) }.scannedNow, 0, "resumed as is")
            let changed = try audit([path("media")], out: first) {
                baseline(&$0.scanOptions)
                change(&$0.scanOptions)
            }
            XCTAssertEqual(changed.scannedNow, 1, "resumed with \(difference)")
            _ = try audit([path("media")], out: second) { baseline(&$0.scanOptions) }
            XCTAssertThrowsError(try AuditMerge.merge([second, first], into: path("merged-\(index)"))) { error in
                XCTAssertTrue("\(error)".contains(difference), "\(error)")
            }
        }
        let summary = try AuditSummary.decode(Data(contentsOf: URL(fileURLWithPath: path("second-0/summary.json"))))
        XCTAssertEqual(summary.settings.maxFramePixels, 4_000_000)
        XCTAssertEqual(summary.settings.maxDurationSeconds, 600)
    }

    func testMergeRefusesReportNamesOutsideTheShardFolder() throws {
        try makeClip("media/clip.mp4", shade: 0.3)
        _ = try audit([path("media")], out: path("a/b/shard"))
        let manifestPath = path("a/b/shard/manifest.jsonl")
        var record = try XCTUnwrap(AuditManifest.read(path: manifestPath).records.first)
        // From the shard this names a file at the test folder's top; from the merged folder, x/source.json.
        record.reportJSON = "../../../source.json"
        try write("source.json", "{}")
        let encoder = JSONEncoder()
        try (encoder.encode(record) + Data([0x0A])).write(to: URL(fileURLWithPath: manifestPath))

        XCTAssertThrowsError(try AuditMerge.merge([path("a/b/shard")], into: path("x/y/z/merged"))) { error in
            XCTAssertTrue("\(error)".contains("../../../source.json"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("x/source.json")))
        XCTAssertFalse(AuditOutputNames.staysInsideOutputFolder("/etc/passwd"))
        XCTAssertFalse(AuditOutputNames.staysInsideOutputFolder("reports//a.json"))
        XCTAssertTrue(AuditOutputNames.staysInsideOutputFolder("reports/a.json"))
    }
}
