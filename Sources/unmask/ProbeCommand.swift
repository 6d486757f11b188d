// `unmask probe`: what a media file is (container, codec, size, rate, duration…), as a table or JSON.
import ArgumentParser
import Foundation
import MediaIO

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show container, codec, size, frame rate, duration and more for media files.",
        discussion: ExitStatus.help([.success, .failure, .badMedia]))

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print a JSON array instead of a table.")
    var json = false

    @Argument(help: "Video or image files.")
    var files: [String]

    func run() throws {
        global.apply()
        var probed: [MediaInfo] = []
        var worstExit: ExitCode?
        for file in files {
            do {
                probed.append(try MediaInfo.probe(path: file))
            } catch {
                worstExit = Terminal.report(error)
            }
        }
        if json {
            try StandardOutput.printJSON(probed, snakeCaseKeys: true)
        } else if !probed.isEmpty {
            StandardOutput.print(Self.table(probed))
        }
        if let worstExit { throw worstExit }
    }

    /// One row per file, columns aligned.
    static func table(_ infos: [MediaInfo]) -> String {
        let header = [
            "file", "container", "codec", "size", "rotation", "fps", "frames", "duration", "pixels", "bit rate", "audio",
        ]
        let rows = infos.map { info -> [String] in
            [
                info.path,
                info.containerName,
                info.videoCodec,
                "\(info.displayWidth)×\(info.displayHeight)",
                "\(info.rotationDegrees)°",
                info.frameRate.map { String(format: "%.3g", $0) } ?? "-",
                info.estimatedFrameCount.map(String.init) ?? "-",
                info.isStillImage ? "still" : info.durationSeconds.map { String(format: "%.2f s", $0) } ?? "-",
                info.pixelFormat,
                info.bitRate.map { String(format: "%.0f kb/s", Double($0) / 1000) } ?? "-",
                info.hasAudio ? "yes" : "no",
            ]
        }
        return TextTable.render(header: header, rows: rows)
    }
}

/// Left-aligned text columns separated by two spaces.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
