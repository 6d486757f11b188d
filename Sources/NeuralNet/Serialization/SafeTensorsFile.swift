// A whole safetensors file: named arrays plus string metadata, with a validating reader (every
// number in the header is checked before it is used to slice or allocate) and a deterministic,
// atomic writer (sorted layout, contiguous data, header space-padded to 8 bytes, temp file + rename).
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The contents of a safetensors file: named arrays in a stable order plus string metadata.
///
/// `names` keeps insertion order for files built in memory and data-layout order for files read from
/// disk. Writing always uses `layoutOrder()` (sorted, like Python's `safetensors`), so output is deterministic.
/// Equality compares tensors and metadata, not the order of `names`.
public struct SafeTensorsFile: Sendable, Equatable {
    /// Largest header accepted when reading (the JSON part, in bytes).
    public static let maximumHeaderLength = 100 * 1024 * 1024

    /// Tensor names in order (see the type's documentation).
    public private(set) var names: [String] = []
    /// Tensors by name.
    public private(set) var tensors: [String: SafeTensorsArray] = [:]
    /// The `__metadata__` string map.
    public var metadata: [String: String]

    /// Creates an empty file with the given metadata.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Creates a file from (name, array) pairs in order; a repeated name replaces the earlier array in place.
    public init(tensors: [(String, SafeTensorsArray)], metadata: [String: String] = [:]) {
        self.metadata = metadata
        for (name, array) in tensors { self[name] = array }
    }

    /// The array named `name`; assigning `nil` removes it, assigning a new name appends it to `names`.
    public subscript(name: String) -> SafeTensorsArray? {
        get { tensors[name] }
        set {
            if let newValue {
                if tensors.updateValue(newValue, forKey: name) == nil { names.append(name) }
            } else if tensors.removeValue(forKey: name) != nil {
                names.removeAll { $0 == name }
            }
        }
    }

    /// The array named `name`, or a `missingTensor` error.
    public func array(named name: String) throws -> SafeTensorsArray {
        guard let array = tensors[name] else { throw SafeTensorsError(.missingTensor(name)) }
        return array
    }

    public static func == (lhs: SafeTensorsFile, rhs: SafeTensorsFile) -> Bool {
        lhs.tensors == rhs.tensors && lhs.metadata == rhs.metadata
    }
}

// MARK: - Reading

extension SafeTensorsFile {
    /// Reads and validates the file at `path`; errors carry the path.
    ///
    /// Only regular files are read (a device such as /dev/zero would never end), and they are read
    /// into memory rather than mapped, so a file truncated by another process cannot crash the reader.
    /// Before anything large is allocated, the file's size is checked against `maximumFileSize` and its
    /// 8-byte header length against `maximumHeaderLength` and the size, so a huge or sparse file costs
    /// nothing to refuse.
    public init(path: String, maximumFileSize: Int = SafeTensorsFile.defaultMaximumFileSize) throws {
        // O_NONBLOCK: opening a fifo must not wait for a writer; it is refused below as not a regular file.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SafeTensorsError(.io("cannot read file: \(String(cString: strerror(errno)))"), path: path)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw SafeTensorsError(.io("cannot read file: \(String(cString: strerror(errno)))"), path: path)
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw SafeTensorsError(.io("not a regular file"), path: path) }
        let size = Int(status.st_size)
        guard size <= maximumFileSize else {
            throw SafeTensorsError(.fileTooLarge(byteCount: size, limit: maximumFileSize), path: path)
        }
        guard size > 0 else { throw SafeTensorsError(.emptyFile, path: path) }
        guard size >= 8 else { throw SafeTensorsError(.fileTooShort(byteCount: size), path: path) }
        var bytes = [UInt8](repeating: 0, count: 8)
        try Self.readFully(descriptor, into: &bytes, path: path)
        var lengthField: UInt64 = 0
        for index in (0..<8).reversed() { lengthField = lengthField << 8 | UInt64(bytes[index]) }
        guard lengthField <= UInt64(Self.maximumHeaderLength) else {
            throw SafeTensorsError(.headerTooLarge(length: lengthField, limit: Self.maximumHeaderLength), path: path)
        }
        guard lengthField <= UInt64(size - 8) else {
            throw SafeTensorsError(.headerLengthExceedsFile(length: lengthField, available: size - 8), path: path)
        }
        bytes += [UInt8](repeating: 0, count: size - 8)
        try bytes.withUnsafeMutableBytes { buffer in
            try Self.readFully(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[8...]), path: path)
        }
        try self.init(serialized: bytes, sourcePath: path)
    }

    /// Largest file `init(path:)` reads by default (1 GiB): the shipped model is 350 KB and a training
    /// checkpoint of the largest architecture a file may declare stays well below it.
    public static let defaultMaximumFileSize = 1 << 30

    /// Reads exactly `buffer.count` bytes (retrying short reads and EINTR); a file that shrank while it
    /// was read is an error.
    private static func readFully(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let count = read(descriptor, base + done, buffer.count - done)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let cause = count == 0 ? "file shrank while it was read" : String(cString: strerror(errno))
                throw SafeTensorsError(.io("cannot read file: \(cause)"), path: path)
            }
            done += count
        }
    }

    private static func readFully(_ descriptor: Int32, into bytes: inout [UInt8], path: String) throws {
        try bytes.withUnsafeMutableBytes { try readFully(descriptor, into: $0, path: path) }
    }

    /// Reads and validates the file at `url`.
    public init(contentsOf url: URL) throws {
        try self.init(path: url.path)
    }

    /// Parses and validates serialized safetensors bytes; `sourcePath` only labels errors.
    public init(serialized data: Data, sourcePath: String? = nil) throws {
        do {
            self = try data.withUnsafeBytes { try Self.parse($0) }
        } catch var error as SafeTensorsError {
            error.path = sourcePath
            throw error
        }
    }

    /// Parses and validates serialized safetensors bytes.
    public init(serialized bytes: [UInt8], sourcePath: String? = nil) throws {
        do {
            self = try bytes.withUnsafeBytes { try Self.parse($0) }
        } catch var error as SafeTensorsError {
            error.path = sourcePath
            throw error
        }
    }

    /// One validated header entry, before its bytes are copied.
    private struct Entry {
        var name: String
        var dtype: SafeTensorsArray.DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    private static func parse(_ file: UnsafeRawBufferPointer) throws -> SafeTensorsFile {
        // 1. Header length, bounded by a fixed cap and by the file before anything is sliced.
        guard !file.isEmpty else { throw SafeTensorsError(.emptyFile) }
        guard file.count >= 8 else { throw SafeTensorsError(.fileTooShort(byteCount: file.count)) }
        var lengthField: UInt64 = 0
        for index in (0..<8).reversed() { lengthField = lengthField << 8 | UInt64(file[index]) }
        guard lengthField <= UInt64(maximumHeaderLength) else {
            throw SafeTensorsError(.headerTooLarge(length: lengthField, limit: maximumHeaderLength))
        }
        let available = file.count - 8
        guard lengthField <= UInt64(available) else {
            throw SafeTensorsError(.headerLengthExceedsFile(length: lengthField, available: available))
        }
        let headerLength = Int(lengthField)
        let header = UnsafeRawBufferPointer(rebasing: file[8..<(8 + headerLength)])
        let buffer = UnsafeRawBufferPointer(rebasing: file[(8 + headerLength)...])

        // 2. Header text: UTF-8, then a JSON object.
        guard isValidUTF8(header) else { throw SafeTensorsError(.headerNotUTF8) }
        let json: SafeTensorsJSONValue
        do {
            json = try SafeTensorsJSONParser.parse(header)
        } catch let failure as SafeTensorsJSONParser.Failure {
            throw SafeTensorsError(.invalidJSON(failure.message))
        }
        guard case .object(let members) = json else { throw SafeTensorsError(.headerNotObject) }

        // 3. Every entry: dtype, shape, offsets, sizes.
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try parseMetadata(value)
            } else {
                entries.append(try parseEntry(name: name, value: value, bufferSize: buffer.count))
            }
        }

        // 4. Ranges: sorted, non-overlapping, covering the buffer without gaps.
        entries.sort { lhs, rhs in
            if lhs.begin != rhs.begin { return lhs.begin < rhs.begin }
            if lhs.end != rhs.end { return lhs.end < rhs.end }
            return Array(lhs.name.utf8).lexicographicallyPrecedes(Array(rhs.name.utf8))
        }
        var covered = 0
        var previousName: String?
        for entry in entries {
            if entry.begin < covered {
                throw SafeTensorsError(.overlappingRanges(first: previousName ?? entry.name, second: entry.name))
            }
            if entry.begin > covered {
                throw SafeTensorsError(.gap(before: entry.name, offset: covered, length: entry.begin - covered))
            }
            covered = entry.end
            if entry.end > entry.begin { previousName = entry.name }
        }
        if covered < buffer.count {
            throw SafeTensorsError(.gap(before: nil, offset: covered, length: buffer.count - covered))
        }

        // 5. Only now copy bytes; every size has been checked against the buffer.
        var file = SafeTensorsFile(metadata: metadata)
        for entry in entries {
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[entry.begin..<entry.end])
            file[entry.name] = SafeTensorsArray(
                validatedShape: entry.shape,
                data: decode(bytes, as: entry.dtype))
        }
        return file
    }

    private static func parseMetadata(_ value: SafeTensorsJSONValue) throws -> [String: String] {
        switch value {
        case .null:
            return [:]
        case .object(let members):
            var metadata: [String: String] = [:]
            for (key, member) in members {
                guard case .string(let text) = member else {
                    throw SafeTensorsError(
                        .invalidMetadata("value of \(key.debugDescription) is \(member.kindName), not a string"))
                }
                metadata[key] = text
            }
            return metadata
        default:
            throw SafeTensorsError(.invalidMetadata("is \(value.kindName), not an object"))
        }
    }

    private static func parseEntry(name: String, value: SafeTensorsJSONValue, bufferSize: Int) throws -> Entry {
        func invalid(_ detail: String) -> SafeTensorsError {
            SafeTensorsError(.invalidEntry(tensor: name, detail))
        }
        guard case .object(let fields) = value else { throw invalid("entry is \(value.kindName), not an object") }
        var dtypeValue: SafeTensorsJSONValue?
        var shapeValue: SafeTensorsJSONValue?
        var offsetsValue: SafeTensorsJSONValue?
        for (key, field) in fields {
            switch key {
            case "dtype": dtypeValue = field
            case "shape": shapeValue = field
            case "data_offsets": offsetsValue = field
            default: throw invalid("unexpected field \(key.debugDescription)")
            }
        }
        guard let dtypeValue else { throw invalid("missing 'dtype'") }
        guard let shapeValue else { throw invalid("missing 'shape'") }
        guard let offsetsValue else { throw invalid("missing 'data_offsets'") }

        guard case .string(let dtypeName) = dtypeValue else { throw invalid("'dtype' is \(dtypeValue.kindName), not a string") }
        guard let dtype = SafeTensorsArray.DType(rawValue: dtypeName) else {
            throw SafeTensorsError(.unsupportedDType(tensor: name, dtype: dtypeName))
        }

        let shape = try integers(shapeValue, field: "shape", tensor: name)
        let elementCount = try SafeTensorsArray.elementCount(of: shape, tensor: name)
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw SafeTensorsError(.shapeOverflow(tensor: name, shape: shape)) }

        let offsets = try integers(offsetsValue, field: "data_offsets", tensor: name)
        guard offsets.count == 2 else { throw invalid("'data_offsets' has \(offsets.count) numbers, not 2") }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, end >= 0 else { throw invalid("'data_offsets' [\(begin), \(end)] has a negative number") }
        guard begin <= end else { throw invalid("'data_offsets' [\(begin), \(end)] ends before it begins") }
        guard end <= bufferSize else {
            throw SafeTensorsError(.offsetsOutOfBounds(tensor: name, begin: begin, end: end, bufferSize: bufferSize))
        }
        guard end - begin == byteCount else {
            throw SafeTensorsError(.byteCountMismatch(tensor: name, expected: byteCount, actual: end - begin))
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// The value as an array of integers; anything else (fractions, out-of-range numbers, strings) is rejected.
    private static func integers(_ value: SafeTensorsJSONValue, field: String, tensor: String) throws -> [Int] {
        guard case .array(let elements) = value else {
            throw SafeTensorsError(.invalidEntry(tensor: tensor, "'\(field)' is \(value.kindName), not an array"))
        }
        return try elements.map { element in
            switch element {
            case .integer(let integer):
                return integer
            case .otherNumber(let text):
                throw SafeTensorsError(.invalidEntry(tensor: tensor, "'\(field)' contains \(text), not an integer in range"))
            default:
                throw SafeTensorsError(.invalidEntry(tensor: tensor, "'\(field)' contains \(element.kindName), not an integer"))
            }
        }
    }

    private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// Little-endian bytes (length already checked to be a multiple of the element size) to typed storage.
    private static func decode(_ bytes: UnsafeRawBufferPointer, as dtype: SafeTensorsArray.DType) -> SafeTensorsArray.Storage {
        let count = bytes.count / dtype.byteSize
        switch dtype {
        case .f32:
            return .f32(copyLittleEndian(bytes, count: count) { Float(bitPattern: UInt32(littleEndian: $0)) })
        case .i64:
            return .i64(copyLittleEndian(bytes, count: count) { Int64(littleEndian: $0) })
        }
    }

    /// `count` elements from little-endian `bytes`: one memcpy on little-endian hosts, else word by word.
    private static func copyLittleEndian<Element, Word: FixedWidthInteger>(
        _ bytes: UnsafeRawBufferPointer, count: Int, converting convert: (Word) -> Element
    ) -> [Element] {
        #if _endian(little)
            return [Element](unsafeUninitializedCapacity: count) { destination, initializedCount in
                if count > 0 { UnsafeMutableRawBufferPointer(destination).copyMemory(from: bytes) }
                initializedCount = count
            }
        #else
            return (0..<count).map { convert(bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<Word>.size, as: Word.self)) }
        #endif
    }
}

// MARK: - Writing

extension SafeTensorsFile {
    /// Tensor names in the order the writer lays them out, which is Python `safetensors`' order:
    /// wider dtypes first (I64 before F32, keeping 8-byte data 8-byte aligned), then byte-wise by name.
    public func layoutOrder() -> [String] {
        // Names and keys below come from the dictionaries they index, so every lookup succeeds.
        tensors.keys.sorted { lhs, rhs in
            let lhsSize = tensors[lhs]!.dtype.byteSize, rhsSize = tensors[rhs]!.dtype.byteSize
            if lhsSize != rhsSize { return lhsSize > rhsSize }
            return Array(lhs.utf8).lexicographicallyPrecedes(Array(rhs.utf8))
        }
    }

    /// The file's bytes: header with `__metadata__` first (keys sorted) and tensors in `layoutOrder()`,
    /// space-padded to a multiple of 8, then the tensors' little-endian data back to back.
    /// For the dtypes supported here the bytes equal Python `safetensors`' `save_file` output.
    public func serialized() throws -> [UInt8] {
        if tensors["__metadata__"] != nil { throw SafeTensorsError(.reservedName("__metadata__")) }
        let sortedNames = layoutOrder()

        var header: [UInt8] = [UInt8(ascii: "{")]
        var needsComma = false
        if !metadata.isEmpty {
            header.append(contentsOf: Array("\"__metadata__\":{".utf8))
            let sortedKeys = metadata.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for (index, key) in sortedKeys.enumerated() {
                if index > 0 { header.append(UInt8(ascii: ",")) }
                SafeTensorsJSONWriter.appendString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                SafeTensorsJSONWriter.appendString(metadata[key]!, to: &header)
            }
            header.append(UInt8(ascii: "}"))
            needsComma = true
        }
        var offset = 0
        for name in sortedNames {
            let array = tensors[name]!
            if needsComma { header.append(UInt8(ascii: ",")) }
            needsComma = true
            SafeTensorsJSONWriter.appendString(name, to: &header)
            header.append(contentsOf: Array(":{\"dtype\":\"\(array.dtype.rawValue)\",\"shape\":[".utf8))
            for (index, dimension) in array.shape.enumerated() {
                if index > 0 { header.append(UInt8(ascii: ",")) }
                SafeTensorsJSONWriter.appendInteger(dimension, to: &header)
            }
            header.append(contentsOf: Array("],\"data_offsets\":[".utf8))
            SafeTensorsJSONWriter.appendInteger(offset, to: &header)
            header.append(UInt8(ascii: ","))
            offset += array.byteCount
            SafeTensorsJSONWriter.appendInteger(offset, to: &header)
            header.append(contentsOf: Array("]}".utf8))
        }
        header.append(UInt8(ascii: "}"))
        let padding = (8 - header.count % 8) % 8
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))

        var output: [UInt8] = []
        output.reserveCapacity(8 + header.count + offset)
        let headerLength = UInt64(header.count)
        for index in 0..<8 { output.append(UInt8(truncatingIfNeeded: headerLength >> (8 * UInt64(index)))) }
        output.append(contentsOf: header)
        for name in sortedNames {
            switch tensors[name]!.data {
            case .f32(let values):
                #if _endian(little)
                    values.withUnsafeBytes { output.append(contentsOf: $0) }
                #else
                    for value in values { appendLittleEndian(value.bitPattern, to: &output) }
                #endif
            case .i64(let values):
                #if _endian(little)
                    values.withUnsafeBytes { output.append(contentsOf: $0) }
                #else
                    for value in values { appendLittleEndian(UInt64(bitPattern: value), to: &output) }
                #endif
            }
        }
        return output
    }

    /// Writes the file atomically: a temporary file in the same directory, flushed, then renamed over `path`.
    public func write(toPath path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try serialized()
        } catch var error as SafeTensorsError {
            error.path = path
            throw error
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporaryPath = "\(directory)/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func ioError(_ action: String) -> SafeTensorsError {
            SafeTensorsError(.io("\(action): \(String(cString: strerror(errno)))"), path: path)
        }
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw ioError("cannot create temporary file \(temporaryPath)") }
        var succeeded = false
        defer {
            if !succeeded { unlink(temporaryPath) }
        }
        do {
            defer { close(descriptor) }
            var written = 0
            while written < bytes.count {
                let result = bytes.withUnsafeBytes { raw in
                    writeToDescriptor(descriptor, UnsafeRawBufferPointer(rebasing: raw[written...]))
                }
                if result < 0 {
                    if errno == EINTR { continue }
                    throw ioError("cannot write temporary file")
                }
                written += result
            }
            guard fsync(descriptor) == 0 else { throw ioError("cannot flush temporary file") }
        }
        guard rename(temporaryPath, path) == 0 else { throw ioError("cannot rename temporary file into place") }
        succeeded = true
    }

    /// Writes the file atomically to `url` (see `write(toPath:)`).
    public func write(to url: URL) throws {
        try write(toPath: url.path)
    }

    private func appendLittleEndian<Word: FixedWidthInteger>(_ word: Word, to output: inout [UInt8]) {
        let littleEndian = word.littleEndian
        withUnsafeBytes(of: littleEndian) { output.append(contentsOf: $0) }
    }
}

/// POSIX `write` of a buffer; a file-scope helper because the type's `write` methods shadow the C function.
private func writeToDescriptor(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    return write(descriptor, base, buffer.count)
}
