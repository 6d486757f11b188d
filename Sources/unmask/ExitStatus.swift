// The exit codes of every `unmask` command, in one place: each code, its meaning, and the help text
// built from them (the root `--help` and each command's discussion). The README's table is checked
// against this list by a test.
import ArgumentParser

/// Why `unmask` exited, as a number a script can act on (sysexits.h values where one fits).
enum ExitStatus: Int32, CaseIterable {
    case success = 0
    case failure = 1
    case refused = 3
    case verdictMatched = 10
    case usage = 64
    case badMedia = 65
    case badModel = 66
    case cannotWrite = 73
    case locked = 75
    case interrupted = 130

    /// One line for the README table and `--help`.
    var meaning: String {
        switch self {
        case .success: return "success"
        case .failure: return "any other failure"
        case .refused:
            return "`train --base-model`, `retrain`: refused — the new model is worse than the base (kept as "
                + "`*.rejected.safetensors`), or `retrain` has too little data to calibrate or judge it"
        case .verdictMatched:
            return "`scan --fail-on`, `audit --fail-on`: the verdict (of any file, for `audit`) met the condition"
        case .usage: return "usage error (a bad option or value)"
        case .badMedia: return "unreadable or invalid media (missing, empty, corrupt, not media, too large)"
        case .badModel: return "the model, generator or checkpoint file is missing, corrupt or of another architecture"
        case .cannotWrite: return "an output could not be written"
        case .locked: return "`audit`, `merge`: another audit is writing the output folder (its lock file is held)"
        case .interrupted:
            return "interrupted with Ctrl-C (`scan` writes no report, `train` and `retrain` save a checkpoint, `audit` keeps "
                + "finished files)"
        }
    }

    /// "Exit codes: 0 success; 1 …" for the given codes, in numeric order (all of them by default).
    static func help(_ codes: [ExitStatus] = allCases) -> String {
        let items = codes.sorted { $0.rawValue < $1.rawValue }.map { "\($0.rawValue) \($0.plainMeaning)" }
        return "Exit codes: " + items.joined(separator: "; ") + "."
    }

    /// The meaning without Markdown code quotes, for the terminal.
    private var plainMeaning: String { meaning.replacingOccurrences(of: "`", with: "") }
}

extension ExitCode {
    /// `throw ExitCode(.badModel)`: the documented code for a cause.
    init(_ status: ExitStatus) { self.init(status.rawValue) }
}
