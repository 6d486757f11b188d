// Owns where the fake is inside a fake file: the `fakes.csv` sidecar of a folder of fakes (per file a
// box or a mask image, and a start/end time), its parsing with errors that name the sidecar line, and
// the per-frame area (box plus optional mask) that training crops fake patches from.
import Foundation
import MediaIO

/// Where a frame is fake: a box in frame pixels and, optionally, a mask inside it.
public struct FakeArea: Equatable, Sendable {
    public var box: PixelRegion
    /// width × height values of the whole frame, 255 where fake (from a mask image); nil = the whole box.
    public var mask: [UInt8]?
    public init(box: PixelRegion, mask: [UInt8]? = nil) { self.box = box; self.mask = mask }

    /// Whether pixel (x, y) of the frame is fake.
    @inline(__always) public func contains(x: Int, y: Int, frameWidth: Int) -> Bool {
        guard x >= box.x, x < box.x + box.width, y >= box.y, y < box.y + box.height else { return false }
        return mask.map { $0[y * frameWidth + x] >= 128 } ?? true
    }
}

/// One row of a sidecar: a file of the fake folder and where it is fake.
public struct FakeAreaRow: Equatable, Sendable {
    /// Path relative to the fake folder.
    public var file: String
    public var box: PixelRegion?
    /// A mask image (path relative to the fake folder), white where fake.
    public var maskImage: String?
    /// The manipulated stretch of a video in seconds; nil ends are the file's start and end.
    public var start: Double?
    public var end: Double?
    /// The line of the sidecar (for errors).
    public var line: Int
}

/// A folder's `fakes.csv`: a header naming the columns, then one row per fake file. Columns:
/// `file` (required), `x,y,w,h` (a box, all four or none), `mask` (a mask image), `start`, `end`
/// (seconds). Files without a row are fake as a whole.
public struct FakeAreaSidecar: Equatable, Sendable {
    public static let fileName = "fakes.csv"
    public var path: String
    public var rows: [String: FakeAreaRow]

    /// Reads `path`; every error names the file and line and says what is wrong.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DetectorError.trainingData(path: path, reason: "cannot read the sidecar")
        }
        self.path = path
        rows = [:]
        let lines = String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let headerIndex = lines.firstIndex(where: { !$0.isEmpty && !$0.hasPrefix("#") }) else {
            throw DetectorError.trainingData(path: path, reason: "the sidecar is empty; its first line names the columns")
        }
        let header = lines[headerIndex].split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let known: Set<String> = ["file", "x", "y", "w", "h", "mask", "start", "end"]
        if let unknown = header.first(where: { !known.contains($0) }) {
            throw DetectorError.trainingData(
                path: "\(path):\(headerIndex + 1)",
                reason: "unknown column '\(unknown)'; the columns are file, x, y, w, h, mask, start, end")
        }
        guard header.contains("file") else {
            throw DetectorError.trainingData(path: "\(path):\(headerIndex + 1)", reason: "no 'file' column")
        }
        for (index, text) in lines.enumerated().dropFirst(headerIndex + 1) where !text.isEmpty && !text.hasPrefix("#") {
            let where_ = "\(path):\(index + 1)"
            let cells = text.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count == header.count else {
                throw DetectorError.trainingData(
                    path: where_, reason: "\(cells.count) values for \(header.count) columns (\(header.joined(separator: ",")))")
            }
            var value: [String: String] = [:]
            for (name, cell) in zip(header, cells) where !cell.isEmpty { value[name] = cell }
            guard let file = value["file"] else { throw DetectorError.trainingData(path: where_, reason: "no file named") }
            func number(_ name: String) throws -> Double? {
                guard let text = value[name] else { return nil }
                guard let number = Double(text), number.isFinite, number >= 0 else {
                    throw DetectorError.trainingData(path: where_, reason: "\(name) '\(text)' is not a number ≥ 0")
                }
                return number
            }
            let boxValues = try ["x", "y", "w", "h"].map { try number($0) }
            var box: PixelRegion?
            if boxValues.contains(where: { $0 != nil }) {
                let whole = boxValues.compactMap { $0 }.map { Int($0) }
                guard whole.count == 4, whole[2] > 0, whole[3] > 0 else {
                    throw DetectorError.trainingData(path: where_, reason: "a box needs x, y, w and h, with w and h > 0")
                }
                box = PixelRegion(x: whole[0], y: whole[1], width: whole[2], height: whole[3])
            }
            let start = try number("start"), end = try number("end")
            if let start, let end, !(end > start) {
                throw DetectorError.trainingData(path: where_, reason: "end \(end) s is not after start \(start) s")
            }
            if box == nil && value["mask"] == nil && start == nil && end == nil {
                throw DetectorError.trainingData(path: where_, reason: "\(file): give a box, a mask or a start/end time")
            }
            if let earlier = rows[file] {
                throw DetectorError.trainingData(path: where_, reason: "\(file) is already described on line \(earlier.line)")
            }
            rows[file] = FakeAreaRow(file: file, box: box, maskImage: value["mask"], start: start, end: end, line: index + 1)
        }
    }

    /// Throws for the first row naming a file that is not among `files` (relative paths).
    public func checkFilesExist(in files: Set<String>) throws {
        for row in rows.values.sorted(by: { $0.line < $1.line }) where !files.contains(row.file) {
            throw DetectorError.trainingData(
                path: "\(path):\(row.line)", reason: "names \(row.file), which is not in the fake folder")
        }
    }

    /// The fake area of a frame of `row`'s file: its box (checked to lie inside the frame) and mask
    /// image (checked to have the frame's size), or nil when the row only gives a time.
    public static func area(of row: FakeAreaRow, sidecarPath: String, folder: String, width: Int, height: Int) throws
        -> FakeArea?
    {
        let where_ = "\(sidecarPath):\(row.line)"
        var mask: [UInt8]?
        var box = row.box
        if let maskImage = row.maskImage {
            let maskPath = folder + "/" + maskImage
            let image: RGBImage
            do {
                let decoder = try VideoDecoder(path: maskPath, sampling: .everyFrame, maxFrames: 1, outputSize: .native)
                var frame = RGBImage()
                guard try decoder.nextFrame(into: &frame) != nil else {
                    throw DetectorError.trainingData(path: maskPath, reason: "no image decoded")
                }
                image = frame
            } catch {
                throw DetectorError.trainingData(path: where_, reason: "mask \(maskImage) cannot be read (\(error))")
            }
            guard image.width == width, image.height == height else {
                throw DetectorError.trainingData(
                    path: where_,
                    reason:
                        "mask \(maskImage) is \(image.width)×\(image.height), the frames of \(row.file) are \(width)×\(height)")
            }
            let values = (0..<(width * height)).map { UInt8(clamping: Int((image.pixels[$0] * 255).rounded())) }
            var minX = width, minY = height, maxX = -1, maxY = -1
            for y in 0..<height {
                for x in 0..<width where values[y * width + x] >= 128 {
                    minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
                }
            }
            guard maxX >= 0 else {
                throw DetectorError.trainingData(path: where_, reason: "mask \(maskImage) is black: nothing is fake")
            }
            let maskBox = PixelRegion(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
            box = box.map { FakeAreaSidecar.intersection($0, maskBox) } ?? maskBox
            mask = values
        }
        guard let box else { return nil }
        guard box.x + box.width <= width, box.y + box.height <= height, box.width > 0, box.height > 0 else {
            throw DetectorError.trainingData(
                path: where_,
                reason:
                    "box \(box.x),\(box.y),\(box.width),\(box.height) of \(row.file) lies outside its \(width)×\(height) frame")
        }
        return FakeArea(box: box, mask: mask)
    }

    static func intersection(_ a: PixelRegion, _ b: PixelRegion) -> PixelRegion {
        let x = max(a.x, b.x), y = max(a.y, b.y)
        return PixelRegion(
            x: x, y: y, width: max(0, min(a.x + a.width, b.x + b.width) - x),
            height: max(0, min(a.y + a.height, b.y + b.height) - y))
    }
}
