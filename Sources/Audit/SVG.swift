// Audit — the primitives every hand-built SVG of the reports shares (scan figures, training charts):
// coordinates written with at most two decimals, and rectangles that never get a negative size.
import Foundation

enum SVG {
    /// A coordinate with at most two decimals ("12.5", "3"); "0" for NaN or infinity.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    /// A `<rect>` with `attributes` appended; negative sizes become 0.
    static func rect(x: Double, y: Double, width: Double, height: Double, attributes: String) -> String {
        let n = number
        return "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(max(width, 0)))\" height=\"\(n(max(height, 0)))\" \(attributes)/>"
    }
}
