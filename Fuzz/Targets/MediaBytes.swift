// libFuzzer target `media-bytes`: bytes probed and decoded by MediaIO as a file of unknown type, with
// small pixel and frame limits so that every input stays cheap. Built by Scripts/fuzz.sh, not SwiftPM.
import Foundation
import MediaIO

private let inputPath = fuzzScratchFolder() + "/unmask-fuzz-media-\(getpid())"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard FileManager.default.createFile(atPath: inputPath, contents: Data(bytes: data, count: size)) else { return 0 }
    defer { unlink(inputPath) }
    let maxPixels = 1 << 20
    guard (try? probeMedia(path: inputPath, maxPixels: maxPixels)) != nil else { return 0 }
    // The sampling follows the input's length, so the corpus covers each mode without a header byte.
    let samplings: [FrameSampling] = [.everyFrame, .rate(5), .keyframesOnly, .everyNth(2)]
    let sampling = samplings[size % samplings.count]
    guard
        let decoder = try? VideoDecoder(
            path: inputPath, sampling: sampling, maxFrames: 8, outputSize: .longSide(48), threads: 1,
            maxPixels: maxPixels)
    else { return 0 }
    var image = RGBImage()
    while let frame = try? decoder.nextFrame(into: &image) {
        guard frame.width == image.width, frame.height == image.height, image.pixels.count == 3 * image.width * image.height
        else { fatalError("decoded frame \(frame.width)×\(frame.height) does not match its image") }
        guard image.pixels.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { fatalError("a decoded pixel is outside 0...1") }
    }
    return 0
}
