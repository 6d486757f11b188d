// Owns `Tensor`: a Float32, contiguous, row-major (NCHW for images) array with a shape and
// reference semantics. Storage is reused across `resize` calls so layers can keep workspaces
// without allocating in steady state.
// Glossary: N batch, C channels, H height, W width, P = H*W pixels per map.

/// A contiguous Float32 array with a shape; layers and optimizers share tensors by reference.
///
/// Storage grows on demand and never shrinks, so `resize(to:)` to an equal or smaller element count
/// does not allocate. Contents after a resize that changes the element count are unspecified.
public final class Tensor {
    /// The dimensions, outermost first (for images (N, C, H, W)).
    public private(set) var shape: [Int]
    /// The number of elements (product of `shape`).
    public private(set) var count: Int
    /// The first element; valid for `count` elements until the next `resize` that grows the tensor.
    public private(set) var pointer: UnsafeMutablePointer<Float>
    /// Allocated elements (≥ count).
    public private(set) var capacity: Int

    /// Creates a tensor of `shape` with every element `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        let n = Tensor.elementCount(shape)
        self.shape = shape
        self.count = n
        self.capacity = max(n, 1)
        self.pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: value, count: capacity)
    }

    /// Creates a tensor of `shape` holding `data` (row-major); `data.count` must match the shape.
    public convenience init(shape: [Int], data: [Float]) {
        let n = Tensor.elementCount(shape)
        precondition(data.count == n, "Tensor(shape: \(shape), data:) needs \(n) elements, got \(data.count)")
        self.init(shape: shape)
        for i in 0..<n { pointer[i] = data[i] }
    }

    /// Creates a tensor from data read from outside (files); throws instead of stopping when the
    /// shape has a negative dimension or does not match `data.count`.
    public convenience init(validatingShape shape: [Int], data: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw NeuralNetError.invalidInputShape("negative dimension in \(shape)")
        }
        let n = shape.reduce(1, *)
        guard n == data.count else {
            throw NeuralNetError.invalidInputShape("shape \(shape) needs \(n) elements, got \(data.count)")
        }
        self.init(shape: shape, data: data)
    }

    deinit { pointer.deallocate() }

    static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "Tensor shape \(shape) has a negative dimension")
            n *= d
        }
        return n
    }

    /// Changes the shape, reallocating only when more elements than `capacity` are needed.
    /// Contents are kept when the element count is unchanged (a reshape), unspecified otherwise.
    public func resize(to newShape: [Int]) {
        if newShape == shape { return }
        let n = Tensor.elementCount(newShape)
        if n > capacity {
            pointer.deallocate()
            pointer = .allocate(capacity: n)
            pointer.initialize(repeating: 0, count: n)
            capacity = n
        }
        shape = newShape
        count = n
    }

    /// Reinterprets the same elements with another shape of equal element count.
    public func reshape(to newShape: [Int]) {
        precondition(
            Tensor.elementCount(newShape) == count,
            "reshape from \(shape) to \(newShape) changes the element count")
        resize(to: newShape)
    }

    /// The size of dimension `i`.
    @inline(__always) public func dim(_ i: Int) -> Int { shape[i] }

    /// The elements as a buffer (valid until the next growing resize).
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// A copy of the elements as an array.
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Element `i` of the flattened tensor.
    @inline(__always) public subscript(i: Int) -> Float {
        get { precondition(i >= 0 && i < count, "index \(i) out of range 0..<\(count)"); return pointer[i] }
        set { precondition(i >= 0 && i < count, "index \(i) out of range 0..<\(count)"); pointer[i] = newValue }
    }

    /// Element (n, c, h, w) of a 4-D tensor.
    public subscript(n: Int, c: Int, h: Int, w: Int) -> Float {
        get { pointer[flatIndex(n, c, h, w)] }
        set { pointer[flatIndex(n, c, h, w)] = newValue }
    }

    private func flatIndex(_ n: Int, _ c: Int, _ h: Int, _ w: Int) -> Int {
        precondition(shape.count == 4, "4-index subscript on a tensor of shape \(shape)")
        precondition(
            n < shape[0] && c < shape[1] && h < shape[2] && w < shape[3] && min(n, c, h, w) >= 0,
            "index (\(n), \(c), \(h), \(w)) out of range for shape \(shape)")
        return ((n * shape[1] + c) * shape[2] + h) * shape[3] + w
    }

    /// Sets every element to `value`.
    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// Resizes to `other`'s shape and copies its elements.
    public func copy(from other: Tensor) {
        resize(to: other.shape)
        pointer.update(from: other.pointer, count: count)
    }

    /// A deep copy.
    public func copy() -> Tensor {
        let t = Tensor(shape: shape)
        t.pointer.update(from: pointer, count: count)
        return t
    }

    /// Stops with a clear message unless the shape is `expected` (a programmer error).
    public func expectShape(_ expected: [Int], _ context: @autoclosure () -> String) {
        Swift.precondition(shape == expected, "\(context()): expected shape \(expected), got \(shape)")
    }

    /// Stops with a clear message unless the tensor is 4-D (a programmer error).
    public func expect4D(_ context: @autoclosure () -> String) {
        Swift.precondition(shape.count == 4, "\(context()): expected a 4-D (N, C, H, W) tensor, got shape \(shape)")
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = (0..<min(count, 8)).map { String(pointer[$0]) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", …" : "")])"
    }
}
