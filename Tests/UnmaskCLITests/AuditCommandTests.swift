// `unmask audit` and `unmask merge` as a pipeline runs them: the summary files and exit codes, the
// lock against a second audit, a damaged manifest, SIGKILL and Ctrl-C part-way then a rerun, and
// shards run as separate processes with the Kubernetes and Slurm environment variables, merged.
import Audit
import Detector
import Foundation
import MediaIO
import XCTest

final class AuditCommandTests: CLITestCase {
    /// An untrained detector whose calibration maps every frame to p ≈ σ(bias).
    func makeModel(bias: Double) throws -> String {
        let model = DetectorModel(architecture: .standard, seed: 7)
        model.calibration = Calibration(a: 0, b: bias)
        let modelPath = path("model-\(bias).safetensors")
        try model.save(to: modelPath)
        return modelPath
    }

    /// `count` distinct 1 s clips (32×24, 5 fps) in `folder`, plus a copy of the first and a text file.
    func makeMediaFolder(_ folder: String, count: Int) throws -> String {
        let root = path(folder)
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        for index in 0..<count {
            let clip = root + (index % 2 == 0 ? "/" : "/sub/") + "clip \(index).mp4"
            let encoder = try VideoEncoder(path: clip, codec: .h264(crf: 20), width: 32, height: 24, frameRate: 5, gopSize: 5)
            for frame in 0..<5 {
                var image = RGBImage(width: 32, height: 24)
                for pixel in 0..<(32 * 24) {
                    image.pixels[pixel] = Float(index) / Float(count)
                    image.pixels[32 * 24 + pixel] = Float((pixel + frame) % 32) / 32
                    image.pixels[2 * 32 * 24 + pixel] = 0.5
                }
                try encoder.append(image)
            }
            try encoder.finish()
        }
        try FileManager.default.copyItem(atPath: root + "/clip 0.mp4", toPath: root + "/copy.mp4")
        try Data("notes\n".utf8).write(to: URL(fileURLWithPath: root + "/notes.txt"))
        return root
    }

    /// The fast, fixed settings every audit here uses.
    let settings = ["--max-frames", "2", "--no-confirmation", "--quiet"]

    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func manifestLines(_ out: String) -> Int {
        ((try? String(contentsOfFile: out + "/manifest.jsonl", encoding: .utf8)) ?? "").filter { $0 == "\n" }.count
    }

    func data(_ file: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: file)) }

    func testAuditWritesTheSummaryAndFailOnGivesExitCode10() throws {
        let media = try makeMediaFolder("media", count: 3)
        let fake = try makeModel(bias: 6)
        let run = try unmask(["audit", media, "--out", path("out"), "--model", fake, "--max-frames", "2", "--no-confirmation"])
        XCTAssertEqual(run.status, 0, run.standardError)
        XCTAssertTrue(run.standardOutput.contains("Summary: \(path("out"))/index.html"), run.standardOutput)
        XCTAssertTrue(run.standardOutput.contains("5 files: 3 scanned, 1 duplicates, 0 errors, 1 not media"), run.standardOutput)
        XCTAssertTrue(run.standardError.contains("[1/3]"), "plain progress lines off a terminal: \(run.standardError)")
        let summary = try AuditSummary.decode(data(path("out/summary.json")))
        XCTAssertEqual(summary.counts["fake"], 4, "three clips and the duplicate")
        XCTAssertEqual(summary.settings.maxFrames, 2)
        XCTAssertEqual(
            try unmask(["audit", media, "--out", path("out"), "--model", fake, "--fail-on", "fake"] + settings).status, 10)
        XCTAssertEqual(
            try unmask(["audit", media, "--out", path("out"), "--model", fake, "--fail-on", "error"] + settings).status, 0)
        let real = try makeModel(bias: -6)
        XCTAssertEqual(
            try unmask(["audit", media, "--out", path("real"), "--model", real, "--fail-on", "uncertain"] + settings).status, 0)
    }

    func testEmptyFolderMissingPathAndBadShardOptions() throws {
        let model = try makeModel(bias: 6)
        try FileManager.default.createDirectory(atPath: path("empty"), withIntermediateDirectories: true)
        let empty = try unmask(["audit", path("empty"), "--out", path("out"), "--model", model])
        XCTAssertEqual(empty.status, 0, empty.standardError)
        XCTAssertTrue(empty.standardOutput.contains("0 files"), empty.standardOutput)
        try assertOneLineError(["audit", path("gone"), "--out", path("out"), "--model", model], naming: path("gone"), status: 65)
        let badShard = try unmask(["audit", path("empty"), "--out", path("out"), "--model", model, "--shard", "3/3"])
        XCTAssertEqual(badShard.status, 64, badShard.standardError)
    }

    func testASecondAuditOfTheSameOutputFolderIsRefused() throws {
        let media = try makeMediaFolder("media", count: 1)
        let model = try makeModel(bias: 6)
        try FileManager.default.createDirectory(atPath: path("out"), withIntermediateDirectories: true)
        let held = try OutputFolderLock(folder: path("out"))
        try assertOneLineError(["audit", media, "--out", path("out"), "--model", model], naming: path("out"), status: 75)
        withExtendedLifetime(held) {}
    }

    func testADamagedManifestLineIsNamed() throws {
        let media = try makeMediaFolder("media", count: 2)
        let model = try makeModel(bias: 6)
        XCTAssertEqual(try unmask(["audit", media, "--out", path("out"), "--model", model] + settings).status, 0)
        let manifest = path("out/manifest.jsonl")
        var lines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2)
        lines[0] = "garbage"
        try (lines.joined(separator: "\n") + "\n").write(toFile: manifest, atomically: false, encoding: .utf8)
        let run = try unmask(["audit", media, "--out", path("out"), "--model", model] + settings)
        XCTAssertEqual(run.status, 1, run.standardError)
        XCTAssertTrue(run.standardError.contains("manifest.jsonl: line 1 is damaged"), run.standardError)
    }

    func testKilledPartWayThenRerunGivesOneRecordPerFileAndTheSameSummary() throws {
        let media = try makeMediaFolder("media", count: 6)
        let model = try makeModel(bias: 6)
        let whole = try unmask(["audit", media, "--out", path("whole"), "--model", model] + settings)
        XCTAssertEqual(whole.status, 0, whole.standardError)
        for (point, records) in [0, 1, 3].enumerated() {
            let out = path("killed-\(point)")
            let process = try start(["audit", media, "--out", out, "--model", model] + settings)
            let deadline = Date().addingTimeInterval(120)
            while manifestLines(out) < records, process.isRunning, Date() < deadline { usleep(2_000) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let rerun = try unmask(["audit", media, "--out", out, "--model", model] + settings)
            XCTAssertEqual(rerun.status, 0, rerun.standardError)
            let contents = try AuditManifest.read(path: out + "/manifest.jsonl")
            XCTAssertEqual(contents.records.count, 6, "one record per distinct file, kill point \(point)")
            XCTAssertEqual(Set(contents.records.map(\.key)).count, 6)
            XCTAssertEqual(try data(out + "/summary.json"), try data(path("whole/summary.json")), "kill point \(point)")
            for name in try FileManager.default.contentsOfDirectory(atPath: out + "/reports") {
                XCTAssertFalse(name.hasPrefix("."), "no temporary file left: \(name)")
                if name.hasSuffix(".json") {
                    XCTAssertNoThrow(try JSONDecoder().decode(ScanReport.self, from: data(out + "/reports/" + name)), name)
                }
            }
        }
    }

    func testCtrlCStopsCleanlyAndSaysHowToResume() throws {
        let media = try makeMediaFolder("media", count: 6)
        let model = try makeModel(bias: 6)
        let out = path("out")
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["audit", media, "--out", out, "--model", model, "--max-frames", "2", "--no-confirmation"]
        let errorPipe = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errorPipe
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while manifestLines(out) < 1, process.isRunning, Date() < deadline { usleep(2_000) }
        kill(process.processIdentifier, SIGINT)
        let errorOutput = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 130 else {
            // The audit may finish before the signal lands on a fast machine; then there is nothing to resume.
            XCTAssertEqual(process.terminationStatus, 0, errorOutput)
            return
        }
        XCTAssertTrue(errorOutput.contains("Run the same command again to resume"), errorOutput)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/index.html"))
        let rerun = try unmask(["audit", media, "--out", out, "--model", model] + settings)
        XCTAssertEqual(rerun.status, 0, rerun.standardError)
        XCTAssertEqual(try AuditManifest.read(path: out + "/manifest.jsonl").records.count, 6)
    }

    func testShardProcessesFromKubernetesAndSlurmVariablesMergeToTheSingleRun() throws {
        let media = try makeMediaFolder("media", count: 5)
        let model = try makeModel(bias: 6)
        XCTAssertEqual(try unmask(["audit", media, "--out", path("single"), "--model", model] + settings).status, 0)

        // Kubernetes Indexed Job: JOB_COMPLETION_INDEX 0…2 with the count given as an option.
        let kubernetes = try (0..<3).map { index in
            try start(
                ["audit", media, "--out", path("k8s-\(index)"), "--model", model, "--shard-count", "3"] + settings,
                environment: ["JOB_COMPLETION_INDEX": "\(index)"])
        }
        // Slurm job array --array=1-2: SLURM_ARRAY_TASK_ID 1…2 with the count and minimum from Slurm.
        let slurm = try (1...2).map { id in
            try start(
                ["audit", media, "--out", path("slurm-\(id)"), "--model", model] + settings,
                environment: ["SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "2"])
        }
        for process in kubernetes + slurm {
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0)
        }
        let single = try AuditSummary.decode(data(path("single/summary.json")))
        for (name, folders) in [("k8s", (0..<3).map { path("k8s-\($0)") }), ("slurm", (1...2).map { path("slurm-\($0)") })] {
            let perShard = try folders.map { try AuditSummary.decode(data($0 + "/summary.json")).files.map(\.path) }
            XCTAssertEqual(
                perShard.flatMap { $0 }.sorted(), single.files.map(\.path).sorted(), "\(name): every file exactly once")
            let merge = try unmask(["merge"] + folders + ["--out", path("\(name)-merged")])
            XCTAssertEqual(merge.status, 0, merge.standardError)
            for file in ["summary.json", "summary.csv", "index.html"] {
                XCTAssertEqual(try data(path("\(name)-merged/\(file)")), try data(path("single/\(file)")), "\(name) \(file)")
            }
        }
        try FileManager.default.createDirectory(atPath: path("empty"), withIntermediateDirectories: true)
        let other = try unmask(["audit", path("empty"), "--out", path("other"), "--model", model, "--max-frames", "3", "--quiet"])
        XCTAssertEqual(other.status, 0, other.standardError)
        let mismatched = try unmask(["merge", path("single"), path("other"), "--out", path("bad")])
        XCTAssertEqual(mismatched.status, 1, mismatched.standardError)
        XCTAssertTrue(mismatched.standardError.contains("other settings"), mismatched.standardError)
        let notAudit = try unmask(["merge", path("media"), "--out", path("bad2")])
        XCTAssertEqual(notAudit.status, 1, notAudit.standardError)
        XCTAssertTrue(notAudit.standardError.contains("not an audit output folder"), notAudit.standardError)
    }
}

/// The summary page and the per-file reports in a real browser: markup in file names stays text.
final class AuditMarkupTests: CLITestCase {
    /// The DOM headless Chromium builds from `page` after its scripts ran, or nil without Chromium.
    func renderedDOM(_ page: String) throws -> String? {
        let browsers = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        guard let browser = browsers.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + path("chromium-profile"),
            "--virtual-time-budget=2000", "--dump-dom", URL(fileURLWithPath: page).absoluteString,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let dom = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return dom
    }

    func testMarkupInFileNamesIsEscapedAndNeverRunsInChromium() throws {
        let media = path("media")
        try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
        let hostile = [
            "<script>document.title='owned-1'</script>.mp4", "<img src=x onerror=\"document.title='owned-2'\">.mp4",
            "quote\"&amp;'.mp4",
        ]
        let clip = try makeClip()
        for (index, name) in hostile.enumerated() {
            // Distinct contents, so that each name gets its own report rather than a duplicate row.
            var bytes = try Data(contentsOf: URL(fileURLWithPath: clip))
            bytes.append(contentsOf: [UInt8](repeating: UInt8(index), count: index + 1))
            // "</script>" holds a slash: that name is a folder "<script>…<" holding "script>.mp4".
            let url = URL(fileURLWithPath: media + "/" + name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try bytes.write(to: url)
        }
        let model = DetectorModel(architecture: .standard, seed: 7)
        try model.save(to: path("model.safetensors"))
        let run = try unmask([
            "audit", media, "--out", path("out"), "--model", path("model.safetensors"), "--max-frames", "1", "--quiet",
        ])
        XCTAssertEqual(run.status, 0, run.standardError)
        let summary = try AuditSummary.decode(Data(contentsOf: URL(fileURLWithPath: path("out/summary.json"))))
        XCTAssertEqual(Set(summary.files.map(\.path)), Set(hostile))
        var pages = [path("out/index.html")]
        pages += summary.files.compactMap(\.reportHTML).map { path("out/" + $0) }
        XCTAssertEqual(pages.count, 4)
        for page in pages {
            let source = try String(contentsOfFile: page, encoding: .utf8)
            XCTAssertFalse(source.contains("<img src=x"), page)
            XCTAssertFalse(source.contains("<script>document.title"), page)
        }
        guard let dom = try renderedDOM(pages[0]) else { throw XCTSkip("headless Chromium is not installed") }
        XCTAssertTrue(dom.contains("data-sorting=\"ready\""), "the page's own sorting script runs: \(dom.prefix(300))")
        XCTAssertTrue(dom.contains("&lt;script&gt;document.title="), "the name is shown as text")
        for page in pages {
            let rendered = try XCTUnwrap(try renderedDOM(page))
            XCTAssertFalse(rendered.contains("<title>owned-"), "a file name's markup ran in \(page)")
            XCTAssertFalse(rendered.contains("<img src=\"x\""), "a file name became an element in \(page)")
        }
    }
}

/// A folder of many small media files of mixed formats, audited and killed at several points. The
/// file count is 300 (about a minute in the release test build; UNMASK_AUDIT_LOAD_FILES sets fewer for
/// a debug build, where 300 took about 20 minutes).
final class AuditLoadTests: CLITestCase {
    func testManyMixedFilesKilledAtSeveralPointsResumeToTheSameSummary() throws {
        let count = ProcessInfo.processInfo.environment["UNMASK_AUDIT_LOAD_FILES"].flatMap { Int($0) } ?? 300
        let media = path("media")
        try FileManager.default.createDirectory(atPath: media + "/deeper/still", withIntermediateDirectories: true)
        for index in 0..<count {
            var image = RGBImage(width: 16, height: 16)
            for pixel in 0..<(16 * 16) {
                image.pixels[pixel] = Float(index % 17) / 17
                image.pixels[256 + pixel] = Float(index / 17 % 17) / 17
                image.pixels[512 + pixel] = Float(pixel % 16) / 16
            }
            let folder = media + ["", "/deeper", "/deeper/still"][index % 3]
            switch index % 5 {
            case 0: try ImageEncoder.write(image, to: folder + "/image-\(index).png")
            case 1: try ImageEncoder.write(image, to: folder + "/image-\(index).jpg")
            case 2: try ImageEncoder.write(image, to: folder + "/image-\(index).bmp")
            default:
                let name = folder + "/clip-\(index)." + (index % 5 == 3 ? "mp4" : "avi")
                let codec: VideoCodecChoice = index % 5 == 3 ? .h264(crf: 30) : .mjpeg(quality: 5)
                let encoder = try VideoEncoder(path: name, codec: codec, width: 16, height: 16, frameRate: 5, gopSize: 5)
                for _ in 0..<3 { try encoder.append(image) }
                try encoder.finish()
            }
        }
        let model = DetectorModel(architecture: .standard, seed: 7)
        try model.save(to: path("model.safetensors"))
        let arguments = ["audit", media, "--model", path("model.safetensors"), "--max-frames", "1", "--quiet", "--jobs", "1"]
        let whole = try unmask(arguments + ["--out", path("whole")])
        XCTAssertEqual(whole.status, 0, whole.standardError)
        let expected = try Data(contentsOf: URL(fileURLWithPath: path("whole/summary.json")))
        let summary = try AuditSummary.decode(expected)
        let distinct = Set(summary.files.compactMap(\.contentSHA256)).count
        XCTAssertEqual(summary.files.count, count)
        XCTAssertEqual(summary.counts["error"], 0)

        for (point, fraction) in [0.1, 0.5, 0.9].enumerated() {
            let out = path("killed-\(point)")
            let process = Process()
            process.executableURL = Self.executable
            process.arguments = arguments + ["--out", out]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let target = Int(Double(distinct) * fraction)
            let deadline = Date().addingTimeInterval(600)
            while process.isRunning, Date() < deadline {
                let lines = ((try? String(contentsOfFile: out + "/manifest.jsonl", encoding: .utf8)) ?? "").filter { $0 == "\n" }
                if lines.count >= target { break }
                usleep(1000)
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let rerun = try unmask(arguments + ["--out", out])
            XCTAssertEqual(rerun.status, 0, rerun.standardError)
            let records = try AuditManifest.read(path: out + "/manifest.jsonl").records
            XCTAssertEqual(records.count, distinct, "one record per distinct file after a kill at \(fraction)")
            XCTAssertEqual(Set(records.map(\.contentSHA256)).count, distinct)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")), expected, "kill at \(fraction)")
            for name in try FileManager.default.contentsOfDirectory(atPath: out + "/reports") where name.hasSuffix(".json") {
                let data = try Data(contentsOf: URL(fileURLWithPath: out + "/reports/" + name))
                XCTAssertNoThrow(try JSONDecoder().decode(ScanReport.self, from: data), name)
            }
        }
    }
}
