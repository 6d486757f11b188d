// AuditTests — writing reports to disk: atomic replace, nothing left behind on failure, clear
// errors naming the path and cause, and every format through `write(_:format:to:)`.
import XCTest

@testable import Audit

final class AtomicWriteTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try Fixtures.temporaryFolder()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func contents(_ url: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func testWritingIntoAMissingFolderFailsClearlyAndLeavesNothing() throws {
        let missing = folder.appendingPathComponent("no-such-folder")
        let path = missing.appendingPathComponent("report.json").path
        XCTAssertThrowsError(try ReportWriter.write(Data("{}".utf8), to: path)) { error in
            XCTAssertEqual(error as? ReportWriteError, .folderMissing(path: path, folder: missing.path))
            let message = String(describing: error)
            XCTAssertTrue(message.contains(path), message)
            XCTAssertTrue(message.contains("does not exist"), message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path))
        XCTAssertEqual(try contents(folder), [])
    }

    func testWritingBelowAFileFails() throws {
        let file = folder.appendingPathComponent("plain-file")
        try ReportWriter.write(Data("x".utf8), to: file.path)
        let path = file.appendingPathComponent("report.json").path
        XCTAssertThrowsError(try ReportWriter.write(Data("{}".utf8), to: path)) { error in
            XCTAssertEqual(error as? ReportWriteError, .notAFolder(path: path, folder: file.path))
        }
    }

    func testWritingOverAFolderFails() throws {
        let target = folder.appendingPathComponent("report.html")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        XCTAssertThrowsError(try ReportWriter.write(Data("x".utf8), to: target.path)) { error in
            XCTAssertEqual(error as? ReportWriteError, .destinationIsAFolder(path: target.path))
        }
        XCTAssertEqual(try contents(folder), ["report.html"], "no temporary file left behind")
    }

    func testWritingIntoAReadOnlyFolderFailsWithTheSystemReason() throws {
        try XCTSkipIf(getuid() == 0, "root may write into read-only folders, so the refusal cannot be provoked")
        let readOnly = folder.appendingPathComponent("read-only")
        try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: readOnly.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: readOnly.path) }
        let path = readOnly.appendingPathComponent("r.json").path
        XCTAssertThrowsError(try ReportWriter.write(Data("{}".utf8), to: path)) { error in
            guard case .cannotWrite(path: path, reason: let reason)? = error as? ReportWriteError else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(reason.lowercased().contains("permission"), reason)
        }
    }

    func testWritingOverAnExistingReportReplacesItCompletely() throws {
        let path = folder.appendingPathComponent("report.json").path
        try ReportWriter.write(Data(String(repeating: "old report ", count: 1000).utf8), to: path)
        try ReportWriter.write(Data("new".utf8), to: path)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data("new".utf8))
        XCTAssertEqual(try contents(folder), ["report.json"], "no temporary file left behind")
    }

    func testEveryFormatWritesWhatItRenders() throws {
        let report = try Fixtures.sampleReport()
        for format in ReportFormat.allCases {
            let path = folder.appendingPathComponent("report.\(format.fileExtension)").path
            try ReportWriter.write(report, format: format, to: path)
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: path)), try ReportWriter.data(report, format: format),
                format.rawValue)
        }
        XCTAssertEqual(try contents(folder), ["report.csv", "report.html", "report.json", "report.txt"])
    }

    func testFormatFromPathExtension() {
        XCTAssertEqual(ReportFormat(pathExtension: "HTM"), .html)
        XCTAssertEqual(ReportFormat(pathExtension: "txt"), .text)
        XCTAssertNil(ReportFormat(pathExtension: "pdf"))
        for format in ReportFormat.allCases { XCTAssertEqual(ReportFormat(pathExtension: format.fileExtension), format) }
    }

    func testRelativePathInTheCurrentFolder() throws {
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(folder.path))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        try ReportWriter.write(Data("x".utf8), to: "relative.txt")
        XCTAssertEqual(try contents(folder), ["relative.txt"])
    }

    // MARK: Destinations that are not plain files

    func testAFifoIsRefusedAndStaysAFifo() throws {
        let fifo = folder.appendingPathComponent("pipe").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        XCTAssertThrowsError(try ReportWriter.write(Data("{}".utf8), to: fifo)) { error in
            XCTAssertEqual(error as? ReportWriteError, .notARegularFile(path: fifo))
        }
        var info = stat()
        XCTAssertEqual(lstat(fifo, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO, "the fifo must not be replaced")
        XCTAssertEqual(try contents(folder), ["pipe"])
    }

    func testALinkIsWrittenThroughAndStaysALink() throws {
        let target = folder.appendingPathComponent("real.json").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        let link = folder.appendingPathComponent("link.json").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try ReportWriter.write(Data("new".utf8), to: link)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), target)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "new")
        XCTAssertEqual(try contents(folder), ["link.json", "real.json"])
    }

    func testARewrittenReportKeepsItsPermissions() throws {
        let path = folder.appendingPathComponent("private.json").path
        try ReportWriter.write(Data("1".utf8), to: path)
        XCTAssertEqual(chmod(path, 0o600), 0)
        try ReportWriter.write(Data("2".utf8), to: path)
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "2")
    }

    func testNamesUpToTheFileSystemLimitCanBeWritten() throws {
        for length in [215, 240, 255] {
            let name = String(repeating: "r", count: length - 5) + ".json"
            let path = folder.appendingPathComponent(name).path
            try ReportWriter.write(Data("{}".utf8), to: path)
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), "\(length)-byte name")
        }
        XCTAssertEqual(try contents(folder).count, 3, "no temporary file left")
    }

    func testSeveralFilesAreWrittenAllOrNothing() throws {
        let first = folder.appendingPathComponent("a.json").path
        let second = folder.appendingPathComponent("b").path
        try FileManager.default.createDirectory(atPath: second, withIntermediateDirectories: false)
        XCTAssertThrowsError(try ReportWriter.write([(Data("a".utf8), first), (Data("b".utf8), second)])) { error in
            XCTAssertEqual(error as? ReportWriteError, .destinationIsAFolder(path: second))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: first), "the first is not written when the second fails")
        XCTAssertEqual(try contents(folder), ["b"])
        try ReportWriter.write([(Data("a".utf8), first), (Data("c".utf8), folder.appendingPathComponent("c.json").path)])
        XCTAssertEqual(try contents(folder), ["a.json", "b", "c.json"])
    }

    func testTheFileBeingScannedIsNeverADestination() throws {
        let input = folder.appendingPathComponent("clip.mp4").path
        try Data("video".utf8).write(to: URL(fileURLWithPath: input))
        let other = folder.appendingPathComponent("./clip.mp4").path
        XCTAssertThrowsError(try ReportWriter.checkedDestination(other, inputs: [input])) { error in
            XCTAssertEqual(error as? ReportWriteError, .destinationIsAnInput(path: other))
        }
        XCTAssertNoThrow(try ReportWriter.checkedDestination(folder.appendingPathComponent("r.json").path, inputs: [input]))
    }
}
