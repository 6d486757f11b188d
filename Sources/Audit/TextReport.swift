// Audit — the terminal summary: a few printable-ASCII lines (verdict, probability, segments,
// frames analysed, time taken), with optional ANSI colour on the verdict. Anything from the file
// is made terminal-safe, so a hostile file name cannot send escape sequences.
import Foundation

enum TextReport {
    static func render(_ report: ScanReport, color: Bool) -> String {
        let assessment = report.assessment
        let policy = assessment.policy
        var lines: [String] = []

        let verdictWord = assessment.verdict.rawValue.uppercased()
        let shownVerdict = color ? colored(verdictWord, for: assessment.verdict) : verdictWord
        lines.append(
            "Verdict:  \(shownVerdict) - fake probability \(fixed(assessment.fakeProbability, 3))"
                + " (threshold \(fixed(policy.threshold, 2)), uncertain \(fixed(policy.uncertainBand.lowerBound, 2))"
                + "-\(fixed(policy.uncertainBand.upperBound, 2)))")
        if assessment.verdict == .real {
            lines.append("Meaning:  no confident evidence of manipulation found (not proof that the file is authentic)")
        }
        lines.append("File:     \(terminalSafe(report.file.path))")

        var framesLine = "Frames:   \(report.frames.count) analysed"
        if let last = report.frames.last, let first = report.frames.first, report.frames.count > 1 {
            framesLine += " over \(fixed(last.time - first.time, 1)) s"
        }
        framesLine += report.coverage.isFull ? ", full coverage" : ", partial coverage (\(percent(report.coverage.fraction)))"
        lines.append(framesLine)

        switch assessment.rule {
        case _ where report.frames.count == 1:
            lines.append("Rule:     the score of the single analysed frame")
        case .confidentFrames:
            lines.append(
                "Rule:     mean of \(assessment.confidentFrameCount) confidently fake frames"
                    + " (smoothed > \(fixed(policy.confidentLevel, 2)))")
        case .smoothedMean:
            lines.append(
                "Rule:     mean of smoothed frame scores"
                    + " (\(assessment.confidentFrameCount) confidently fake frames, too few to decide)")
        case .segment:
            lines.append("Rule:     the most suspicious segment's mean smoothed score over the threshold")
        }

        if assessment.segments.isEmpty {
            lines.append("Segments: none over the threshold")
        } else {
            let shown = assessment.segments.prefix(5).map { segment in
                "\(fixed(segment.start, 2))-\(fixed(segment.end, 2)) s (peak \(fixed(segment.peakProbability, 3))"
                    + " at \(fixed(segment.peakTime, 2)) s)"
            }
            let more = assessment.segments.count > 5 ? ", and \(assessment.segments.count - 5) more" : ""
            lines.append("Segments: \(assessment.segments.count): " + shown.joined(separator: ", ") + more)
        }

        lines.append(
            "Time:     \(fixed(report.timings.totalSeconds, 2)) s total (decode \(fixed(report.timings.decodeSeconds, 2)) s,"
                + " score \(fixed(report.timings.scoreSeconds, 2)) s)")
        let parent = report.model.parentSHA256.map {
            " (retrained from \(terminalSafe(report.model.parentName ?? "unknown")), sha256 \(terminalSafe(String($0.prefix(12))))...)"
        }
        lines.append("Model:    \(terminalSafe(report.model.name))" + (parent ?? ""))
        for warning in report.warnings {
            let text = "Warning:  \(terminalSafe(warning))"
            lines.append(color ? "\u{1B}[33m\(text)\u{1B}[0m" : text)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The verdict wrapped in bold ANSI colour: red for fake, green for real, yellow for uncertain.
    static func colored(_ text: String, for verdict: Verdict) -> String {
        let code: String
        switch verdict {
        case .fake: code = "1;31"
        case .real: code = "1;32"
        case .uncertain: code = "1;33"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    /// Printable ASCII kept as is; everything else (control characters, escape sequences,
    /// non-ASCII letters) written as `\u{HEX}` so nothing from the file can steer the terminal.
    static func terminalSafe(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value < 0x7F && scalar != "\\" {
                result.unicodeScalars.append(scalar)
            } else if scalar == "\\" {
                result += "\\\\"
            } else {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return result
    }

    static func fixed(_ value: Double, _ places: Int) -> String {
        guard value.isFinite else { return "n/a" }
        return String(format: "%.\(places)f", value)
    }

    static func percent(_ fraction: Double) -> String {
        String(format: "%.1f%%", fraction * 100)
    }
}
