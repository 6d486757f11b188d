// The README and the commands' own `--help` tell the same story: the same exit codes with the same
// meanings in numeric order, a README section for every command, and no option in the README that
// the command does not take.
import Foundation
import XCTest

final class HelpAndReadmeTests: CLITestCase {
    var readme: String {
        get throws { try String(contentsOf: Self.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8) }
    }

    /// `--help` output of `unmask` with these arguments, lines joined by spaces (the help wraps at 80 columns).
    func help(_ command: [String]) throws -> String {
        let run = try unmask(command + ["--help"])
        XCTAssertEqual(run.status, 0, "unmask \(command.joined(separator: " ")) --help")
        return run.standardOutput.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    func testExitCodesAgreeBetweenReadmeAndHelpInNumericOrder() throws {
        let rows = try readme.split(separator: "\n").compactMap { line -> (Int32, String)? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard line.hasPrefix("| "), cells.count == 2, let code = Int32(cells[0]) else { return nil }
            return (code, cells[1].replacingOccurrences(of: "`", with: ""))
        }
        XCTAssertEqual(rows.map(\.0), rows.map(\.0).sorted(), "README exit codes in numeric order")

        let rootHelp = try help([])
        let start = try XCTUnwrap(rootHelp.range(of: "Exit codes: "), "root --help lists the exit codes")
        let tail = rootHelp[start.upperBound...]
        let end = try XCTUnwrap(tail.range(of: ". USAGE:"), "the exit codes end the discussion")
        let fromHelp = tail[..<end.lowerBound].components(separatedBy: "; ").map { item -> (Int32, String) in
            let parts = item.split(separator: " ", maxSplits: 1).map(String.init)
            return (Int32(parts[0]) ?? -1, parts.count > 1 ? parts[1] : "")
        }
        XCTAssertEqual(rows.map(\.0), fromHelp.map(\.0))
        for (readmeRow, helpItem) in zip(rows, fromHelp) {
            XCTAssertEqual(readmeRow.1, helpItem.1, "meaning of exit code \(readmeRow.0)")
        }
    }

    /// README sections "### `unmask NAME …`" and the text under each, up to the next heading.
    func readmeSections() throws -> [(heading: String, body: String)] {
        var sections: [(String, String)] = []
        for chunk in try readme.components(separatedBy: "\n### `unmask ").dropFirst() {
            let heading = String(chunk.prefix { $0 != "`" })
            let body = chunk.components(separatedBy: "\n## ")[0]
            sections.append((heading, body))
        }
        return sections
    }

    func testEveryCommandHasAReadmeSectionAndEveryOptionThereExists() throws {
        let sections = try readmeSections()
        XCTAssertFalse(sections.isEmpty)
        let rootHelp = try help([])
        let subcommands = try XCTUnwrap(rootHelp.components(separatedBy: "SUBCOMMANDS:").last)
        for name in [
            "scan", "audit", "merge", "train", "evaluate", "calibrate", "retrain", "models", "forge", "probe", "frames", "bench",
            "zoo",
        ] {
            XCTAssertTrue(subcommands.contains(" \(name) "), "root --help lists \(name)")
            XCTAssertTrue(sections.contains { $0.heading.hasPrefix(name + " ") }, "README has a section for \(name)")
        }
        // "### `unmask bench decode|scan|…`": one section for every bench subcommand, named in its heading.
        let benchHeading = try XCTUnwrap(sections.first { $0.heading.hasPrefix("bench ") }?.heading)
        let benchNames = benchHeading.dropFirst("bench ".count).split(separator: "|").map(String.init)
        let benchHelp = try help(["bench"])
        let benchListed = try XCTUnwrap(benchHelp.components(separatedBy: "SUBCOMMANDS:").last)
        for name in ["decode", "scan", "score", "gemm", "nn", "untrained-model"] {
            XCTAssertTrue(benchListed.contains(" \(name) "), "bench --help lists \(name)")
            XCTAssertTrue(benchNames.contains(name), "the README's bench heading names \(name)")
        }

        let flag = try NSRegularExpression(pattern: "--[a-z][a-z0-9-]*")
        for section in sections {
            let words = section.heading.split(separator: " ").map(String.init)
            let command = words[0]
            // "zoo train …": a command group's section is about one of its subcommands.
            let subcommand =
                words.count > 1 && words[1].first?.isLowercase == true && words[1].allSatisfy({ $0.isLowercase || $0 == "-" })
                ? words[1] : nil
            let helps =
                command == "bench"
                ? try benchNames.map { try help(["bench", $0]) }
                : [try help([command] + (subcommand.map { [$0] } ?? []))]
            let body = section.heading + section.body
            let flags = Set(
                flag.matches(in: body, range: NSRange(body.startIndex..., in: body)).map {
                    String(body[Range($0.range, in: body)!])
                })
            XCTAssertFalse(flags.isEmpty, "README section for \(command) names its options")
            for option in flags {
                XCTAssertTrue(
                    helps.contains { $0.contains(option + " ") || $0.contains(option + ",") },
                    "README names \(option) for unmask \(command), which its --help does not list")
            }
        }
    }
}
