// The detector as the scan pipeline's scorer: a `FrameScorer` behind `FrameScoring`, turning its
// grids into report values (unscored heatmap cells shown as 0) and carrying the model's threshold,
// so every scan judges frames by the threshold the model was calibrated with.
import Detector
import Foundation
import MediaIO

/// Scores frames with a detector model for `ScanPipeline`.
public final class DetectorScoring: FrameScoring {
    public let scorer: FrameScorer
    public let model: ModelMetadata
    public var threshold: Double { scorer.model.threshold }
    /// The side of the patches the model was trained on: a smaller frame holds less than one of them.
    public var smallestReliableFrameSide: Int? { scorer.model.architecture.patchSize }

    /// `modelPath` names the model in reports (file name and SHA-256 of its bytes, and for a retrained
    /// model the parent its lineage names).
    public init(model: DetectorModel, modelPath: String) {
        scorer = FrameScorer(model: model)
        let digest = try? FileDigest.sha256Hex(path: modelPath)
        let lineage = model.training.lineage
        self.model = ModelMetadata(
            name: (modelPath as NSString).lastPathComponent, sha256: digest, version: model.fileVersion,
            parentSHA256: lineage?.parentSHA256, parentName: lineage?.parentName)
    }

    public func analyse(_ image: RGBImage, coverage: Double) throws -> FrameAnalysis {
        let result = try scorer.score(image, coverage: coverage)
        let heatmap = Heatmap(
            rows: result.heatmap.rows, columns: result.heatmap.columns,
            values: result.heatmap.values.map { $0.isNaN ? 0 : min(1, max(0, $0)) })
        let region = Region(x: result.region.x, y: result.region.y, w: result.region.width, h: result.region.height)
        return FrameAnalysis(fakeProbability: result.probability, heatmap: heatmap, region: region)
    }
}
