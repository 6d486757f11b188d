// Interaction with a person at a terminal: a progress bar on standard error, and Ctrl-C turned into
// a prompt, clean stop (the first press stops the scan; a second press quits at once).
import Audit
import Foundation
import Synchronization

/// Set by SIGINT; polled by long-running work (a lock-free atomic, so the signal handler may set it).
private let interruptReceived = Atomic<Bool>(false)

/// Turns the first Ctrl-C into a flag the scan polls; the second one ends the process as usual.
struct InterruptFlag {
    static func install() -> InterruptFlag {
        signal(SIGINT) { _ in
            interruptReceived.store(true, ordering: .relaxed)
            signal(SIGINT, SIG_DFL)
        }
        return InterruptFlag()
    }

    var isSet: Bool { interruptReceived.load(ordering: .relaxed) }
}

/// One line on standard error, redrawn in place: frames analysed, media time, rate and ETA.
final class ProgressBar {
    let label: String
    private let started = DispatchTime.now().uptimeNanoseconds
    private var lastDrawn: UInt64 = 0
    private var drewSomething = false

    init(label: String) { self.label = (label as NSString).lastPathComponent }

    func update(_ progress: ScanProgress) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDrawn > 100_000_000 else { return }  // at most 10 redraws a second
        lastDrawn = now
        let elapsed = Double(now - started) / 1e9
        let rate = Double(progress.framesAnalysed) / max(elapsed, 1e-9)
        var line = "\(label): \(progress.framesAnalysed) frames, \(String(format: "%.1f", rate)) frames/s"
        if let duration = progress.duration, duration > 0 {
            let fraction = min(1, max(0, progress.mediaTime / duration))
            let width = 24
            let filled = Int(fraction * Double(width))
            let eta = fraction > 0.01 ? elapsed * (1 - fraction) / fraction : .nan
            line =
                "\(label) [\(String(repeating: "#", count: filled))\(String(repeating: "-", count: width - filled))] "
                + String(
                    format: "%3.0f%%  %d frames  %.1f frames/s  ETA %@", fraction * 100, progress.framesAnalysed, rate,
                    eta.isFinite ? String(format: "%.0f s", eta) : "-")
        }
        Terminal.writeRaw("\r\u{1B}[K" + line)
        drewSomething = true
    }

    func finish() {
        if drewSomething { Terminal.writeRaw("\r\u{1B}[K") }
    }
}
