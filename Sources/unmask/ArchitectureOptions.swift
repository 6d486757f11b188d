// The detector-architecture options shared by `train` and `bench untrained-model`: residual
// inputs beside RGB and a full-resolution stem, applied on top of the standard architecture.
import ArgumentParser
import Detector

/// Architecture candidates of the detector (Docs/generalization.md, "Architecture candidates").
struct DetectorArchitectureOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Residual inputs beside RGB, comma-separated: npr (x − up(down(x))), srm (high-pass on luminance), "
                + "contrast (the high-pass energy against its 65-pixel surroundings), constrained (srm's kernels "
                + "learned, kept zero-sum).",
            valueName: "kinds"),
        transform: DetectorArchitectureOptions.residualKinds)
    var residualInputs: [ResidualInputKind] = []

    @Option(
        parsing: .unconditional, help: "Width of a full-resolution stem convolution before the first stride-2 one (0 = none).")
    var stemWidth: Int = 0

    @Option(
        help: ArgumentHelp(
            "Pixels enter the network as SCALE·(x − 0.5) (default 64): a spectrally normalized network cannot "
                + "amplify faint traces itself.", valueName: "scale"))
    var inputScale: Float?

    func validate() throws {
        guard stemWidth >= 0 else { throw ValidationError("--stem-width must be 0 (no stem) or more (got \(stemWidth)).") }
        if let inputScale, !(inputScale > 0 && inputScale <= 4096) {
            throw ValidationError("--input-scale must be in (0, 4096] (got \(inputScale)).")
        }
    }

    /// `base` with these options applied (residual inputs at their default scales).
    func applied(to base: DetectorArchitecture) -> DetectorArchitecture {
        var a = base
        a.residualInputs = residualInputs.map { ResidualInput(kind: $0) }
        a.stemWidth = stemWidth
        if let inputScale { a.inputScale = inputScale }
        return a
    }

    /// A short description, e.g. "standard", "npr+srm, stem 8".
    func summary() -> String {
        let parts =
            (residualInputs.isEmpty ? [] : [residualInputs.map(\.rawValue).joined(separator: "+")])
            + (stemWidth > 0 ? ["stem \(stemWidth)"] : [])
            + (inputScale.map { ["input scale \($0)"] } ?? [])
        return parts.isEmpty ? "standard" : parts.joined(separator: ", ")
    }

    /// Parses "npr,srm": known names, each once.
    static func residualKinds(_ text: String) throws -> [ResidualInputKind] {
        var kinds: [ResidualInputKind] = []
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            guard let kind = ResidualInputKind(rawValue: name) else {
                throw ValidationError(
                    "unknown residual input '\(name)'; choose from \(ResidualInputKind.allCases.map(\.rawValue).joined(separator: ", "))."
                )
            }
            guard !kinds.contains(kind) else { throw ValidationError("residual input '\(name)' is given twice.") }
            kinds.append(kind)
        }
        return kinds
    }
}
