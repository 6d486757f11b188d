// Owns the errors NeuralNet throws for user-data problems (state dictionaries, shapes read from
// files). Programmer errors (wrong shapes between layers) are precondition failures instead.

/// An error caused by data handed to NeuralNet (not by a programming mistake).
public enum NeuralNetError: Error, Equatable, CustomStringConvertible {
    /// A state dictionary lacks a key the module needs.
    case missingKey(String)
    /// A state dictionary entry has the wrong shape.
    case shapeMismatch(key: String, expected: [Int], got: [Int])
    /// A state dictionary holds keys the module does not know (strict loading).
    case unexpectedKeys([String])
    /// An input tensor has a shape the network cannot take.
    case invalidInputShape(String)
    /// Serialized state that cannot be decoded.
    case invalidState(String)

    public var description: String {
        switch self {
        case .missingKey(let k): return "state dictionary is missing key '\(k)'"
        case .shapeMismatch(let k, let e, let g): return "state dictionary key '\(k)' has shape \(g), expected \(e)"
        case .unexpectedKeys(let ks): return "state dictionary has unexpected keys: \(ks.sorted().joined(separator: ", "))"
        case .invalidInputShape(let m): return "invalid input shape: \(m)"
        case .invalidState(let m): return "invalid state: \(m)"
        }
    }
}
