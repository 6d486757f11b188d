// Audit — the one escaping helper for markup the HTML report builds by hand (inline SVG) and for
// every string that came from the scanned file. Plot 0.14 escapes text nodes but not attribute
// values, and keeps entity-like input ("&amp;") unescaped, so untrusted strings go through here.
import Foundation

/// Escaping for HTML and SVG (XML) text and attribute values.
public enum Markup {
    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references, and control
    /// characters other than tab and newline replaced by U+FFFD, so the result is safe both as
    /// element content and inside a double- or single-quoted attribute, in HTML and in SVG.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                    result += "\u{FFFD}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}
