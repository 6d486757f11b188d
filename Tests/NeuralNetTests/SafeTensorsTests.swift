// Tests of the safetensors reader/writer: round trips, deterministic bytes, interop with files
// written by Python's `safetensors` (committed fixture), and rejection of corrupted or hostile files.
import Foundation
import XCTest

@testable import NeuralNet

final class SafeTensorsTests: XCTestCase {
    // MARK: Helpers

    /// A file made of a raw header text (padded as given) and a data buffer.
    private func rawFile(header: String, buffer: [UInt8] = [], lengthOverride: UInt64? = nil) -> [UInt8] {
        let headerBytes = Array(header.utf8)
        let length = lengthOverride ?? UInt64(headerBytes.count)
        var bytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) }
        bytes += headerBytes
        bytes += buffer
        return bytes
    }

    /// Asserts that parsing `bytes` throws a SafeTensorsError whose reason satisfies `matches`.
    private func assertRejects(
        _ bytes: [UInt8], _ label: String, file: StaticString = #filePath, line: UInt = #line,
        where matches: (SafeTensorsError.Reason) -> Bool
    ) {
        do {
            let parsed = try SafeTensorsFile(serialized: bytes, sourcePath: "/tmp/\(label).safetensors")
            XCTFail("\(label): accepted, got \(parsed.names)", file: file, line: line)
        } catch let error as SafeTensorsError {
            XCTAssertTrue(matches(error.reason), "\(label): wrong error: \(error)", file: file, line: line)
            XCTAssertTrue(
                error.description.hasPrefix("/tmp/\(label).safetensors: "), "\(label): \(error)", file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), "\(label): multi-line error", file: file, line: line)
        } catch {
            XCTFail("\(label): unexpected error type \(error)", file: file, line: line)
        }
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func sampleFile() throws -> SafeTensorsFile {
        var file = SafeTensorsFile(metadata: ["case": "sample"])
        file["b.weight"] = try SafeTensorsArray(shape: [2, 3], floats: [1, -2, 3.5, .pi, -0.0, .greatestFiniteMagnitude])
        file["a.scalar"] = SafeTensorsArray(scalar: Float(0.25))
        file["steps"] = SafeTensorsArray(scalar: Int64(-7))
        file["ids"] = try SafeTensorsArray(shape: [2, 2], int64s: [0, .max, .min, 42])
        file["empty"] = try SafeTensorsArray(shape: [3, 0, 2], floats: [])
        file["empty_ids"] = try SafeTensorsArray(shape: [0], int64s: [])
        file["conv"] = try SafeTensorsArray(shape: [2, 1, 3, 3], floats: (0..<18).map { Float($0) * 0.1 - 0.9 })
        return file
    }

    // MARK: Round trips

    func testRoundTripInMemoryPreservesEveryArrayExactly() throws {
        let original = try sampleFile()
        let restored = try SafeTensorsFile(serialized: original.serialized())
        XCTAssertEqual(restored, original)
        XCTAssertEqual(restored.names, original.layoutOrder(), "read order is the data-layout order")
        XCTAssertEqual(try restored.array(named: "b.weight").shape, [2, 3])
        XCTAssertEqual(try restored.array(named: "a.scalar").shape, [])
        XCTAssertEqual(try restored.array(named: "a.scalar").floats(), [0.25])
        XCTAssertEqual(try restored.array(named: "steps").int64s(), [-7])
        XCTAssertEqual(try restored.array(named: "ids").int64s(), [0, .max, .min, 42])
        XCTAssertEqual(try restored.array(named: "empty").shape, [3, 0, 2])
        XCTAssertEqual(try restored.array(named: "empty").floats(), [])
        XCTAssertEqual(try restored.array(named: "empty_ids").dtype, .i64)
        XCTAssertEqual(try restored.array(named: "b.weight").floats()[4].sign, .minus, "-0 keeps its sign")
    }

    func testRoundTripThroughFileAndAtomicReplace() throws {
        let directory = try temporaryDirectory()
        let path = directory.appendingPathComponent("model.safetensors").path
        try SafeTensorsFile(tensors: [("old", SafeTensorsArray(scalar: Float(1)))]).write(toPath: path)
        let original = try sampleFile()
        try original.write(toPath: path)
        XCTAssertEqual(try SafeTensorsFile(path: path), original)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(leftovers, ["model.safetensors"], "no temporary files left behind")
    }

    func testNaNRoundTripsBitForBit() throws {
        let payloadNaN = Float(bitPattern: 0x7FC0_1234)
        let file = SafeTensorsFile(tensors: [("x", try SafeTensorsArray(shape: [3], floats: [.nan, payloadNaN, -.infinity]))])
        let restored = try SafeTensorsFile(serialized: file.serialized())
        XCTAssertEqual(
            try restored.array(named: "x").floats().map(\.bitPattern),
            [Float.nan.bitPattern, 0x7FC0_1234, (-Float.infinity).bitPattern])
    }

    func testMetadataRoundTripIncludingCharactersThatNeedEscaping() throws {
        let metadata = [
            "case": "discriminator",
            "widths": "8,16,32,64",
            "quote\"and\\backslash": "line\nbreak\ttab\u{01}control",
            "unicode": "σ = ‖W‖₂ 🙂",
            "": "empty key",
        ]
        let file = SafeTensorsFile(tensors: [("w", SafeTensorsArray(scalar: Float(2)))], metadata: metadata)
        XCTAssertEqual(try SafeTensorsFile(serialized: file.serialized()).metadata, metadata)
        let noMetadata = SafeTensorsFile(tensors: [("w", SafeTensorsArray(scalar: Float(2)))])
        XCTAssertEqual(try SafeTensorsFile(serialized: noMetadata.serialized()).metadata, [:])
    }

    func testEmptyFileWithNoTensorsRoundTrips() throws {
        let file = SafeTensorsFile()
        let bytes = try file.serialized()
        XCTAssertEqual(bytes, rawFile(header: "{}      "))
        XCTAssertEqual(try SafeTensorsFile(serialized: bytes), file)
    }

    // MARK: Deterministic bytes

    func testBytesAreDeterministicAndIndependentOfInsertionOrder() throws {
        let forward = try sampleFile()
        var backward = SafeTensorsFile(metadata: forward.metadata)
        for name in forward.names.reversed() { backward[name] = forward[name] }
        XCTAssertEqual(try forward.serialized(), try backward.serialized())
        XCTAssertEqual(try forward.serialized(), try forward.serialized())
    }

    func testExactBytesOfASmallFile() throws {
        let file = SafeTensorsFile(
            tensors: [("x", try SafeTensorsArray(shape: [2], floats: [1, -2])), ("n", SafeTensorsArray(scalar: Int64(3)))],
            metadata: ["k": "v"])
        let header =
            #"{"__metadata__":{"k":"v"},"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"#
            + #""x":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        let data: [UInt8] = [3, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]
        let bytes = try file.serialized()
        XCTAssertEqual(bytes, rawFile(header: padded, buffer: data))
        XCTAssertEqual((bytes.count - data.count) % 8, 0, "header padded to a multiple of 8")
    }

    // MARK: Interop with Python's safetensors

    /// Values of Tests/NeuralNetTests/Fixtures/python-written.safetensors (see Scripts/check-safetensors-interop.py).
    private func interopExpected() throws -> SafeTensorsFile {
        SafeTensorsFile(
            tensors: [
                ("weights", try SafeTensorsArray(shape: [2, 3], floats: [0.0, 1.5, -2.25, 3.0e-8, 1.0e30, -0.0])),
                ("scalar", SafeTensorsArray(scalar: Float(3.25))),
                ("empty", try SafeTensorsArray(shape: [0, 4], floats: [])),
                ("indices", try SafeTensorsArray(shape: [4], int64s: [-1, 0, 1, 1 << 62])),
            ],
            metadata: ["format": "pt", "note": "interop fixture"])
    }

    private func fixtureURL(_ name: String) throws -> URL {
        try XCTUnwrap(
            Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures"),
            "missing fixture \(name).safetensors")
    }

    func testFileWrittenByPythonLoadsWithExactValues() throws {
        let url = try fixtureURL("python-written")
        let loaded = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(loaded, try interopExpected())
        XCTAssertEqual(loaded.names, ["indices", "empty", "scalar", "weights"])
        // Our writer reproduces Python's bytes exactly (Python's metadata order varies between runs;
        // the committed fixture happens to have it sorted, as we write it).
        XCTAssertEqual(try loaded.serialized(), Array(try Data(contentsOf: url)))
    }

    /// The PyTorch parity fixtures (Scripts/make-parity-fixtures.py) load here and carry the contract's keys.
    func testParityFixturesLoadWithContractKeys() throws {
        let expectedKeys: [String: [String]] = [
            "conv": ["input", "param.weight", "param.bias", "output", "grad_output", "grad.input", "grad.weight", "grad.bias"],
            "conv_transpose": [
                "input", "param.weight", "param.bias", "output", "grad_output", "grad.input", "grad.weight", "grad.bias",
            ],
            "snconv": ["input", "param.weight", "param.u", "output", "grad.input", "grad.weight", "after.u"],
            "snconv_eval": ["input", "param.u", "output", "grad.input", "after.u"],
            "snlinear": ["input", "param.weight", "param.bias", "param.u", "output", "grad.weight", "after.u"],
            "attention": [
                "input", "param.query.weight", "param.key.u", "param.value.weight", "param.out.weight",
                "param.gamma", "output", "grad.gamma", "grad.input", "after.out.u",
            ],
            "batchnorm_train": [
                "input", "param.weight", "param.running_mean", "param.running_var", "output",
                "grad.input", "grad.bias", "after.running_mean", "after.running_var",
            ],
            "batchnorm_eval": ["input", "param.running_var", "output", "grad.input", "after.running_var"],
            "discriminator": [
                "input", "param.block1.conv1.weight", "param.attn.gamma", "param.global_logit.u",
                "output.patch", "output.global", "grad_output.patch", "grad_output.global",
                "grad.input", "grad.block4.conv1.weight", "after.patch_logits.u",
            ],
            "generator": [
                "z", "param.fc.weight", "param.bn0.running_mean", "param.up1.conv.u", "param.up4.bn.weight",
                "param.attn.gamma", "param.out.weight", "output", "grad_output", "grad.input",
                "grad.fc.weight", "after.up3.bn.running_var", "after.attn.query.u",
            ],
            "adam": [
                "param.block1.conv1.weight", "grad.attn.gamma", "after.global_logit.bias",
                "after_weight_decay.block3.conv2.weight",
            ],
        ]
        for (name, keys) in expectedKeys.sorted(by: { $0.key < $1.key }) {
            let file = try SafeTensorsFile(contentsOf: try fixtureURL(name))
            XCTAssertEqual(file.metadata["case"], name)
            XCTAssertNotNil(file.metadata["torch_version"], name)
            for key in keys {
                XCTAssertNotNil(file[key], "\(name).safetensors lacks \(key)")
            }
            for (key, array) in file.tensors {
                XCTAssertTrue(try array.floats().allSatisfy(\.isFinite), "\(name): \(key) has non-finite values")
            }
        }
        let discriminator = try SafeTensorsFile(contentsOf: try fixtureURL("discriminator"))
        XCTAssertEqual(discriminator.metadata["widths"], "8,16,32,64")
        XCTAssertEqual(try discriminator.array(named: "input").shape, [2, 3, 32, 32])
        XCTAssertEqual(try discriminator.array(named: "output.patch").shape, [2, 1, 4, 4])
        XCTAssertEqual(try discriminator.array(named: "param.block2.conv2.weight").shape, [16, 16, 4, 4])
        let generator = try SafeTensorsFile(contentsOf: try fixtureURL("generator"))
        XCTAssertEqual(try generator.array(named: "output").shape, [2, 3, 64, 64])
        XCTAssertEqual(try generator.array(named: "z").shape, [2, 128])
    }

    /// Writes the interop file for `Scripts/check-safetensors-interop.py check` when UNMASK_INTEROP_OUT is set.
    func testWriteFileForPythonInteropCheck() throws {
        let expected = try interopExpected()
        guard let path = ProcessInfo.processInfo.environment["UNMASK_INTEROP_OUT"] else {
            XCTAssertEqual(try SafeTensorsFile(serialized: expected.serialized()), expected)
            return
        }
        try expected.write(toPath: path)
    }

    // MARK: Construction and accessors

    func testConstructionRejectsInconsistentShapes() {
        XCTAssertThrowsError(try SafeTensorsArray(shape: [2, 2], floats: [1, 2, 3])) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.reason, .elementCountMismatch(shape: [2, 2], elementCount: 3))
        }
        XCTAssertThrowsError(try SafeTensorsArray(shape: [-1], int64s: [])) { error in
            guard case .negativeDimension = (error as? SafeTensorsError)?.reason else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try SafeTensorsArray(shape: [1 << 40, 1 << 40], floats: [])) { error in
            guard case .shapeOverflow = (error as? SafeTensorsError)?.reason else { return XCTFail("\(error)") }
        }
    }

    func testAccessorsCheckDType() throws {
        XCTAssertThrowsError(try SafeTensorsArray(scalar: Int64(1)).floats()) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.reason, .wrongDType(expected: .f32, actual: .i64))
        }
        XCTAssertThrowsError(try SafeTensorsArray(scalar: Float(1)).int64s()) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.reason, .wrongDType(expected: .i64, actual: .f32))
        }
        XCTAssertThrowsError(try SafeTensorsFile().array(named: "nope")) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.reason, .missingTensor("nope"))
        }
    }

    func testSubscriptKeepsInsertionOrderAndRemoves() throws {
        var file = SafeTensorsFile()
        file["z"] = SafeTensorsArray(scalar: Float(1))
        file["a"] = SafeTensorsArray(scalar: Float(2))
        file["z"] = SafeTensorsArray(scalar: Float(3))
        XCTAssertEqual(file.names, ["z", "a"])
        file["z"] = nil
        XCTAssertEqual(file.names, ["a"])
        XCTAssertNil(file["z"])
    }

    func testWritingReservedNameIsRejected() {
        let file = SafeTensorsFile(tensors: [("__metadata__", SafeTensorsArray(scalar: Float(1)))])
        XCTAssertThrowsError(try file.serialized()) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.reason, .reservedName("__metadata__"))
        }
    }

    // MARK: Corrupted and hostile files

    func testRejectsEmptyAndTooShortFiles() {
        assertRejects([], "empty") { $0 == .emptyFile }
        assertRejects([1, 0, 0], "short") { $0 == .fileTooShort(byteCount: 3) }
    }

    func testRejectsTruncatedFiles() throws {
        let bytes = try sampleFile().serialized()
        assertRejects(Array(bytes.dropLast(3)), "truncated-data") {
            if case .offsetsOutOfBounds = $0 { return true }
            return false
        }
        assertRejects(Array(bytes.prefix(20)), "truncated-header") {
            if case .headerLengthExceedsFile = $0 { return true }
            return false
        }
    }

    func testRejectsHeaderLengthLargerThanFile() {
        assertRejects(rawFile(header: "{}", lengthOverride: 1000), "long-header") {
            $0 == .headerLengthExceedsFile(length: 1000, available: 2)
        }
    }

    func testRejectsAbsurdHeaderLengthWithoutAllocating() {
        assertRejects(rawFile(header: "{}", lengthOverride: 1 << 63), "absurd-header") {
            $0 == .headerTooLarge(length: 1 << 63, limit: SafeTensorsFile.maximumHeaderLength)
        }
        assertRejects(rawFile(header: "{}", lengthOverride: .max), "max-header") {
            if case .headerTooLarge = $0 { return true }
            return false
        }
    }

    func testRejectsInvalidJSON() {
        for (index, header) in [
            #"{"a": "#, "{'a': 1}", #"{"a":1,}"#, "{} x", #"{"a":1,"a":2}"#, "", "[" + String(repeating: "[", count: 10_000),
        ].enumerated() {
            assertRejects(rawFile(header: header), "invalid-json-\(index)") {
                if case .invalidJSON = $0 { return true }
                return false
            }
        }
        assertRejects(rawFile(header: "{\"\u{FF}\":1}").enumerated().map { $0.offset == 10 ? 0xFF : $0.element }, "not-utf8") {
            $0 == .headerNotUTF8
        }
    }

    func testRejectsNonObjectJSON() {
        for (index, header) in ["[]", "42", #""text""#, "null"].enumerated() {
            assertRejects(rawFile(header: header), "non-object-\(index)") { $0 == .headerNotObject }
        }
        assertRejects(rawFile(header: #"{"a":[1]}"#), "entry-not-object") {
            if case .invalidEntry(tensor: "a", _) = $0 { return true }
            return false
        }
    }

    func testRejectsOverlappingRanges() {
        let header =
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        assertRejects(rawFile(header: header, buffer: Array(repeating: 0, count: 12)), "overlap") {
            $0 == .overlappingRanges(first: "a", second: "b")
        }
        let same = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: same, buffer: Array(repeating: 0, count: 4)), "aliased") {
            $0 == .overlappingRanges(first: "a", second: "b")
        }
    }

    func testRejectsGaps() {
        let middle =
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        assertRejects(rawFile(header: middle, buffer: Array(repeating: 0, count: 12)), "gap") {
            $0 == .gap(before: "b", offset: 4, length: 4)
        }
        let start = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        assertRejects(rawFile(header: start, buffer: Array(repeating: 0, count: 8)), "gap-start") {
            $0 == .gap(before: "a", offset: 0, length: 4)
        }
        let trailing = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: trailing, buffer: Array(repeating: 0, count: 6)), "trailing") {
            $0 == .gap(before: nil, offset: 4, length: 2)
        }
    }

    func testRejectsShapeThatDisagreesWithRange() {
        let header = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        assertRejects(rawFile(header: header, buffer: Array(repeating: 0, count: 8)), "size") {
            $0 == .byteCountMismatch(tensor: "a", expected: 12, actual: 8)
        }
        let int64 = #"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: int64, buffer: Array(repeating: 0, count: 4)), "size-i64") {
            $0 == .byteCountMismatch(tensor: "a", expected: 8, actual: 4)
        }
    }

    func testRejectsAbsurdShapes() {
        let overflow = #"{"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: overflow, buffer: [0, 0, 0, 0]), "overflow") {
            $0 == .shapeOverflow(tensor: "a", shape: [1 << 40, 1 << 40])
        }
        let bytesOverflow = #"{"a":{"dtype":"I64","shape":[2305843009213693952],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: bytesOverflow, buffer: [0, 0, 0, 0]), "byte-overflow") {
            if case .shapeOverflow = $0 { return true }
            return false
        }
        let huge = #"{"a":{"dtype":"F32","shape":[1e300],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: huge, buffer: [0, 0, 0, 0]), "huge") {
            if case .invalidEntry(tensor: "a", _) = $0 { return true }
            return false
        }
        let beyondInt = #"{"a":{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: beyondInt, buffer: [0, 0, 0, 0]), "beyond-int") {
            if case .invalidEntry(tensor: "a", _) = $0 { return true }
            return false
        }
        let fraction = #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: fraction, buffer: [0, 0, 0, 0]), "fraction") {
            if case .invalidEntry(tensor: "a", _) = $0 { return true }
            return false
        }
    }

    func testRejectsNegativeNumbers() {
        let shape = #"{"a":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}"#
        assertRejects(rawFile(header: shape, buffer: Array(repeating: 0, count: 16)), "negative-shape") {
            $0 == .negativeDimension(tensor: "a", shape: [-1, -4])
        }
        let offsets = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#
        assertRejects(rawFile(header: offsets, buffer: []), "negative-offsets") {
            if case .invalidEntry(tensor: "a", _) = $0 { return true }
            return false
        }
    }

    func testRejectsBadOffsets() {
        let outside = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        assertRejects(rawFile(header: outside, buffer: [0, 0, 0, 0]), "outside") {
            $0 == .offsetsOutOfBounds(tensor: "a", begin: 0, end: 8, bufferSize: 4)
        }
        let reversed = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#
        assertRejects(rawFile(header: reversed, buffer: [0, 0, 0, 0]), "reversed") {
            if case .invalidEntry(tensor: "a", _) = $0 { return true }
            return false
        }
        let three = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}"#
        assertRejects(rawFile(header: three, buffer: [0, 0, 0, 0]), "three-offsets") {
            if case .invalidEntry(tensor: "a", _) = $0 { return true }
            return false
        }
        let missing = #"{"a":{"dtype":"F32","shape":[1]}}"#
        assertRejects(rawFile(header: missing, buffer: [0, 0, 0, 0]), "missing-offsets") {
            $0 == .invalidEntry(tensor: "a", "missing 'data_offsets'")
        }
    }

    func testRejectsUnknownAndUnsupportedDTypes() {
        let unknown = #"{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: unknown, buffer: [0, 0, 0, 0]), "unknown-dtype") {
            $0 == .unsupportedDType(tensor: "a", dtype: "Q7")
        }
        let bf16 = #"{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: bf16, buffer: [0, 0, 0, 0]), "bf16") {
            $0 == .unsupportedDType(tensor: "a", dtype: "BF16")
        }
        let controlName = #"{"line\nbreak":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: controlName, buffer: [0, 0, 0, 0]), "control-name") {
            $0 == .unsupportedDType(tensor: "line\nbreak", dtype: "Q7")
        }
        let notString = #"{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}"#
        assertRejects(rawFile(header: notString, buffer: [0, 0, 0, 0]), "dtype-number") {
            if case .invalidEntry(tensor: "a", _) = $0 { return true }
            return false
        }
    }

    func testRejectsNonStringMetadata() {
        for (index, metadata) in [#"{"k":1}"#, #"{"k":{"x":"y"}}"#, #"{"k":null}"#, #"["k"]"#, "7"].enumerated() {
            assertRejects(rawFile(header: #"{"__metadata__":"# + metadata + "}"), "metadata-\(index)") {
                if case .invalidMetadata = $0 { return true }
                return false
            }
        }
        XCTAssertEqual(try SafeTensorsFile(serialized: rawFile(header: #"{"__metadata__":null}"#)).metadata, [:])
    }

    /// Deterministic byte mutations and truncations of a valid file: each either parses or throws
    /// a SafeTensorsError; none crashes.
    func testMutatedFilesNeverCrash() throws {
        let original = try sampleFile().serialized()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func nextRandom() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var rejected = 0
        for iteration in 0..<3000 {
            var bytes = original
            if iteration % 10 == 0 {
                bytes.removeLast(nextRandom() % bytes.count)
            } else {
                for _ in 0...(nextRandom() % 3) {
                    bytes[nextRandom() % bytes.count] = UInt8(truncatingIfNeeded: nextRandom())
                }
            }
            do {
                _ = try SafeTensorsFile(serialized: bytes)
            } catch is SafeTensorsError {
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 1000)
    }

    func testReadingMissingFileReportsPath() {
        XCTAssertThrowsError(try SafeTensorsFile(path: "/nonexistent/dir/x.safetensors")) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/dir/x.safetensors: "), "\(error)")
        }
    }

    func testReadingADeviceOrDirectoryIsRejected() throws {
        XCTAssertThrowsError(try SafeTensorsFile(path: "/dev/zero")) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.reason, .io("not a regular file"))
        }
        let directory = try temporaryDirectory()
        XCTAssertThrowsError(try SafeTensorsFile(path: directory.path)) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.reason, .io("not a regular file"))
        }
    }

    func testFileSizeAndHeaderLengthAreCheckedBeforeTheFileIsRead() throws {
        let directory = try temporaryDirectory()
        // A sparse 8 GiB file whose header length field is small: over the default size limit, refused
        // from its size alone.
        let sparse = directory.appendingPathComponent("sparse.safetensors").path
        let header = rawFile(header: "{}")
        XCTAssertTrue(FileManager.default.createFile(atPath: sparse, contents: Data(header)))
        XCTAssertEqual(truncate(sparse, 8 << 30), 0)
        XCTAssertThrowsError(try SafeTensorsFile(path: sparse)) { error in
            XCTAssertEqual(
                (error as? SafeTensorsError)?.reason,
                .fileTooLarge(byteCount: 8 << 30, limit: SafeTensorsFile.defaultMaximumFileSize))
            XCTAssertTrue("\(error)".hasPrefix(sparse + ": "), "\(error)")
        }
        // With the limit lifted, the absurd header length is refused from the first 8 bytes, before the
        // 8 GiB are read (this would take seconds and 8 GiB of memory otherwise).
        let absurd = directory.appendingPathComponent("absurd.safetensors").path
        XCTAssertTrue(
            FileManager.default.createFile(atPath: absurd, contents: Data(rawFile(header: "{}", lengthOverride: 1 << 62))))
        XCTAssertEqual(truncate(absurd, 8 << 30), 0)
        let started = Date()
        XCTAssertThrowsError(try SafeTensorsFile(path: absurd, maximumFileSize: .max)) { error in
            XCTAssertEqual(
                (error as? SafeTensorsError)?.reason, .headerTooLarge(length: 1 << 62, limit: SafeTensorsFile.maximumHeaderLength)
            )
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        // A small limit applies to ordinary files too.
        let small = directory.appendingPathComponent("small.safetensors").path
        try sampleFile().write(toPath: small)
        XCTAssertNoThrow(try SafeTensorsFile(path: small))
        XCTAssertThrowsError(try SafeTensorsFile(path: small, maximumFileSize: 16)) { error in
            guard case .fileTooLarge(_, 16)? = (error as? SafeTensorsError)?.reason else { return XCTFail("\(error)") }
        }
    }

    func testReadingAFifoIsRejectedWithoutWaitingForAWriter() throws {
        let fifo = try temporaryDirectory().appendingPathComponent("pipe.safetensors").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try SafeTensorsFile(path: fifo)) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.reason, .io("not a regular file"))
        }
    }

    func testWritingIntoMissingDirectoryReportsPath() {
        XCTAssertThrowsError(try SafeTensorsFile().write(toPath: "/nonexistent/dir/x.safetensors")) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/dir/x.safetensors: "), "\(error)")
        }
    }
}
