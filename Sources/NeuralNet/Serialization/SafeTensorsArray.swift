// The value types of the safetensors format: one typed, shaped array (`SafeTensorsArray`) and the
// error every reader/writer failure is reported as (`SafeTensorsError`). Deliberately independent
// of the engine's Tensor type so serialization can be used, and tested, on its own.
import Foundation

/// One named entry of a safetensors file: an element type, a shape and the elements in row-major order.
///
/// The element count always equals the product of `shape` (1 for a scalar, shape `[]`);
/// the initializers enforce this, so a value of this type is always consistent.
public struct SafeTensorsArray: Sendable, Equatable {
    /// Element types this implementation reads and writes.
    public enum DType: String, Sendable, CaseIterable {
        case f32 = "F32"
        case i64 = "I64"

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .f32: return 4
            case .i64: return 8
            }
        }
    }

    /// The elements, typed.
    public enum Storage: Sendable, Equatable {
        case f32([Float])
        case i64([Int64])

        /// Number of elements.
        public var count: Int {
            switch self {
            case .f32(let values): return values.count
            case .i64(let values): return values.count
            }
        }

        /// Custom equality: Float compared bit for bit, so NaN payloads and -0 round-trip checks are exact.
        public static func == (lhs: Storage, rhs: Storage) -> Bool {
            switch (lhs, rhs) {
            case (.f32(let a), .f32(let b)):
                return a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
            case (.i64(let a), .i64(let b)):
                return a == b
            default:
                return false
            }
        }
    }

    /// Dimensions, outermost first; `[]` for a scalar.
    public let shape: [Int]
    /// The elements in row-major order.
    public let data: Storage

    /// Element type of `data`.
    public var dtype: DType {
        switch data {
        case .f32: return .f32
        case .i64: return .i64
        }
    }

    /// Number of elements (product of `shape`).
    public var elementCount: Int { data.count }

    /// Size of the elements in the file, in bytes.
    public var byteCount: Int { data.count * dtype.byteSize }

    /// Creates an array from typed storage; throws unless `shape` is non-negative and its product equals the element count.
    public init(shape: [Int], data: Storage) throws {
        let expected = try Self.elementCount(of: shape, tensor: nil)
        guard expected == data.count else {
            throw SafeTensorsError(.elementCountMismatch(shape: shape, elementCount: data.count))
        }
        self.shape = shape
        self.data = data
    }

    /// Creates a Float32 array; throws unless the shape's product equals `floats.count`.
    public init(shape: [Int], floats: [Float]) throws {
        try self.init(shape: shape, data: .f32(floats))
    }

    /// Creates an Int64 array; throws unless the shape's product equals `int64s.count`.
    public init(shape: [Int], int64s: [Int64]) throws {
        try self.init(shape: shape, data: .i64(int64s))
    }

    /// Creates a Float32 scalar (shape `[]`).
    public init(scalar: Float) {
        self.shape = []
        self.data = .f32([scalar])
    }

    /// Creates an Int64 scalar (shape `[]`).
    public init(scalar: Int64) {
        self.shape = []
        self.data = .i64([scalar])
    }

    /// Internal unchecked initializer for values the reader has already validated.
    init(validatedShape shape: [Int], data: Storage) {
        self.shape = shape
        self.data = data
    }

    /// The elements as Float; throws `wrongDType` unless the array is F32.
    public func floats() throws -> [Float] {
        guard case .f32(let values) = data else {
            throw SafeTensorsError(.wrongDType(expected: .f32, actual: dtype))
        }
        return values
    }

    /// The elements as Int64; throws `wrongDType` unless the array is I64.
    public func int64s() throws -> [Int64] {
        guard case .i64(let values) = data else {
            throw SafeTensorsError(.wrongDType(expected: .i64, actual: dtype))
        }
        return values
    }

    /// Product of `shape`, checked: throws on a negative dimension or on overflow.
    static func elementCount(of shape: [Int], tensor: String?) throws -> Int {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else {
                throw SafeTensorsError(.negativeDimension(tensor: tensor, shape: shape))
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw SafeTensorsError(.shapeOverflow(tensor: tensor, shape: shape))
            }
            count = product
        }
        return count
    }
}

/// A safetensors read or write failure: what went wrong and, when known, the file it concerns.
///
/// `description` is one line: `"<path>: <cause>"` (or just the cause for in-memory data).
public struct SafeTensorsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The cause, machine-checkable.
    public enum Reason: Sendable, Equatable {
        case emptyFile
        case fileTooLarge(byteCount: Int, limit: Int)
        case fileTooShort(byteCount: Int)
        case headerTooLarge(length: UInt64, limit: Int)
        case headerLengthExceedsFile(length: UInt64, available: Int)
        case headerNotUTF8
        case invalidJSON(String)
        case headerNotObject
        case invalidEntry(tensor: String, String)
        case unsupportedDType(tensor: String, dtype: String)
        case negativeDimension(tensor: String?, shape: [Int])
        case shapeOverflow(tensor: String?, shape: [Int])
        case byteCountMismatch(tensor: String, expected: Int, actual: Int)
        case offsetsOutOfBounds(tensor: String, begin: Int, end: Int, bufferSize: Int)
        case overlappingRanges(first: String, second: String)
        case gap(before: String?, offset: Int, length: Int)
        case invalidMetadata(String)
        case reservedName(String)
        case elementCountMismatch(shape: [Int], elementCount: Int)
        case wrongDType(expected: SafeTensorsArray.DType, actual: SafeTensorsArray.DType)
        case missingTensor(String)
        case io(String)
    }

    public var reason: Reason
    /// The file concerned, when reading from or writing to a file.
    public var path: String?

    public init(_ reason: Reason, path: String? = nil) {
        self.reason = reason
        self.path = path
    }

    public var description: String {
        let cause = reason.description
        guard let path else { return cause }
        return "\(path): \(cause)"
    }
}

extension SafeTensorsError.Reason: CustomStringConvertible {
    public var description: String {
        switch self {
        case .emptyFile:
            return "empty file (a safetensors file starts with an 8-byte header length)"
        case .fileTooLarge(let byteCount, let limit):
            return "file is \(byteCount) bytes, over the limit of \(limit) bytes"
        case .fileTooShort(let byteCount):
            return "file too short: \(byteCount) bytes, need at least 8 for the header length"
        case .headerTooLarge(let length, let limit):
            return "header length \(length) exceeds the limit of \(limit) bytes"
        case .headerLengthExceedsFile(let length, let available):
            return "header length \(length) is larger than the \(available) bytes that follow the length field"
        case .headerNotUTF8:
            return "header is not valid UTF-8"
        case .invalidJSON(let detail):
            return "header is not valid JSON: \(detail)"
        case .headerNotObject:
            return "header JSON is not an object"
        case .invalidEntry(let tensor, let detail):
            return "tensor \(Self.quoted(tensor)): \(detail)"
        case .unsupportedDType(let tensor, let dtype):
            return "tensor \(Self.quoted(tensor)): unsupported dtype \(Self.quoted(dtype)) (supported: F32, I64)"
        case .negativeDimension(let tensor, let shape):
            return "\(Self.subject(tensor))shape \(shape) has a negative dimension"
        case .shapeOverflow(let tensor, let shape):
            return "\(Self.subject(tensor))shape \(shape) overflows when multiplied out"
        case .byteCountMismatch(let tensor, let expected, let actual):
            return "tensor \(Self.quoted(tensor)): shape and dtype need \(expected) bytes but data_offsets span \(actual)"
        case .offsetsOutOfBounds(let tensor, let begin, let end, let bufferSize):
            return "tensor \(Self.quoted(tensor)): data_offsets [\(begin), \(end)] outside the \(bufferSize)-byte data buffer"
        case .overlappingRanges(let first, let second):
            return "tensors \(Self.quoted(first)) and \(Self.quoted(second)) have overlapping data ranges"
        case .gap(let before, let offset, let length):
            let location = before.map { "before tensor \(Self.quoted($0))" } ?? "at the end of the data buffer"
            return "\(length) unused bytes at offset \(offset) \(location)"
        case .invalidMetadata(let detail):
            return "invalid __metadata__: \(detail)"
        case .reservedName(let name):
            return "tensor name \(Self.quoted(name)) is reserved"
        case .elementCountMismatch(let shape, let elementCount):
            return "shape \(shape) does not match \(elementCount) elements"
        case .wrongDType(let expected, let actual):
            return "array is \(actual.rawValue), not \(expected.rawValue)"
        case .missingTensor(let name):
            return "no tensor named \(Self.quoted(name))"
        case .io(let detail):
            return detail
        }
    }

    private static func subject(_ tensor: String?) -> String {
        tensor.map { "tensor \(quoted($0)): " } ?? ""
    }

    /// A name as a Swift string literal, so control characters cannot break the one-line description.
    private static func quoted(_ name: String) -> String {
        name.debugDescription
    }
}
