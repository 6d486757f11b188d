// Shared by the fuzz targets: where a target keeps the files it writes each input to, and the
// seed-writing mode (`UNMASK_FUZZ_WRITE_SEEDS=<folder>`).
import Foundation

/// /dev/shm when it exists (no disk writes per input), else the temporary folder.
func fuzzScratchFolder() -> String {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isFolder), isFolder.boolValue { return "/dev/shm" }
    return NSTemporaryDirectory()
}

/// With `UNMASK_FUZZ_WRITE_SEEDS` set, writes the seeds there and returns the exit status (nothing of
/// it is still referenced when the caller exits, so LeakSanitizer stays quiet); nil otherwise.
func writeSeedsIfAsked(_ write: (String) throws -> Void) -> CInt? {
    guard let folder = ProcessInfo.processInfo.environment["UNMASK_FUZZ_WRITE_SEEDS"] else { return nil }
    do { try write(folder) } catch {
        FileHandle.standardError.write(Data("cannot write seeds: \(error)\n".utf8))
        return 1
    }
    return 0
}
