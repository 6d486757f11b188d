// Owns a model's lineage, kept in its file's training summary: the parent model (SHA-256 and name),
// the data a retrain used (counts, folders, SHA-256 of the sorted file lists, sidecar), the replayed
// zoo families, the command, the date, the guard's before/after numbers and the decision.
import Foundation

/// Where a retrained model comes from and why it was accepted or refused.
public struct ModelLineage: Codable, Equatable, Sendable {
    /// The data of the retrain, summarized.
    public struct DataSummary: Codable, Equatable, Sendable {
        public var realFolder: String
        public var fakeFolder: String
        public var realFiles: Int
        public var fakeFiles: Int
        /// SHA-256 of the sorted relative paths, one per line, of the files used.
        public var realFileListSHA256: String
        public var fakeFileListSHA256: String
        /// Training / calibration / guard files of each kind.
        public var realParts: [Int]
        public var fakeParts: [Int]
        /// "fakes.csv: 12 files with a box, mask or time" or "none: whole files are fake".
        public var fakeAreas: String
        /// The guard-only real media, when there were any: folder, file count, SHA-256 of the list.
        public var guardRealFolder: String?
        public var guardRealFiles: Int?
        public var guardRealFileListSHA256: String?
        public init(
            realFolder: String, fakeFolder: String, realFiles: Int, fakeFiles: Int, realFileListSHA256: String,
            fakeFileListSHA256: String, realParts: [Int], fakeParts: [Int], fakeAreas: String,
            guardRealFolder: String? = nil, guardRealFiles: Int? = nil, guardRealFileListSHA256: String? = nil
        ) {
            self.realFolder = realFolder; self.fakeFolder = fakeFolder; self.realFiles = realFiles; self.fakeFiles = fakeFiles
            self.realFileListSHA256 = realFileListSHA256; self.fakeFileListSHA256 = fakeFileListSHA256
            self.realParts = realParts; self.fakeParts = fakeParts; self.fakeAreas = fakeAreas
            self.guardRealFolder = guardRealFolder; self.guardRealFiles = guardRealFiles
            self.guardRealFileListSHA256 = guardRealFileListSHA256
        }
    }

    /// What was decided: accepted, accepted over the guard's objections (`--accept-regression`), or refused.
    public enum Decision: String, Codable, Sendable {
        case accepted
        case acceptedDespiteRegression = "accepted-despite-regression"
        case refused
    }

    public var parentSHA256: String
    public var parentName: String
    /// The parent's own parent, when it has one (one generation; `unmask models` follows the rest).
    public var grandparentSHA256: String?
    public var command: String
    /// ISO 8601, UTC.
    public var date: String
    public var data: DataSummary
    /// The zoo configuration replayed; the next retrain of this model replays the same.
    public var replay: ZooTrainingConfig
    public var steps: Int
    public var guardReport: GuardReport
    public var decision: Decision
    /// The guard's objections (empty when it passed).
    public var reasons: [String]

    public init(
        parentSHA256: String, parentName: String, grandparentSHA256: String?, command: String, date: Date,
        data: DataSummary, replay: ZooTrainingConfig, steps: Int, guardReport: GuardReport, decision: Decision
    ) {
        self.parentSHA256 = parentSHA256; self.parentName = parentName; self.grandparentSHA256 = grandparentSHA256
        self.command = command
        self.date = ISO8601DateFormatter().string(from: date)
        self.data = data; self.replay = replay; self.steps = steps; self.guardReport = guardReport
        self.decision = decision; self.reasons = guardReport.failures
    }
}
