// AuditTests — the video-level aggregation rule: verdicts, robustness to noisy frames, segment
// boundaries, merging and blips, single-frame and empty input, invalid input and policies.
// Unless a test says otherwise: default policy, frames at 10 fps, times exact multiples of 0.1 s.
import XCTest

@testable import Audit

final class AggregationTests: XCTestCase {
    /// Segment boundaries may be off by one frame (0.1 s at 10 fps) plus float slack.
    let oneFrame = 0.1 + 1e-9

    func testAllRealFramesGiveRealWithNoSegments() throws {
        var noise = SeededNoise(seed: 1)
        let frames = Fixtures.frames(seconds: 10, fps: 10) { _ in 0 }.map { frame -> FrameScore in
            var frame = frame
            frame.fakeProbability = 0.02 + noise.next() * 0.2  // 0.02…0.22
            return frame
        }
        let assessment = try Aggregator.assess(frames)
        XCTAssertEqual(assessment.verdict, .real)
        XCTAssertLessThan(assessment.fakeProbability, 0.3)
        XCTAssertEqual(assessment.rule, .smoothedMean)
        XCTAssertTrue(assessment.segments.isEmpty)
        XCTAssertEqual(assessment.smoothed.count, frames.count)
    }

    func testFakeSegmentInTheMiddleGivesFakeWithOneSegmentAtTheRightPlace() throws {
        // Fake from 4.0 s to 5.9 s inclusive (20 frames), real elsewhere.
        let frames = Fixtures.frames(seconds: 10, fps: 10) { time in (4.0..<6.0).contains(time + 1e-9) ? 0.95 : 0.05 }
        let assessment = try Aggregator.assess(frames)
        XCTAssertEqual(assessment.verdict, .fake)
        XCTAssertEqual(assessment.rule, .confidentFrames)
        XCTAssertEqual(assessment.fakeProbability, 0.95, accuracy: 1e-9)
        XCTAssertEqual(assessment.segments.count, 1)
        let segment = try XCTUnwrap(assessment.segments.first)
        XCTAssertEqual(segment.start, 4.0, accuracy: oneFrame)
        XCTAssertEqual(segment.end, 5.9, accuracy: oneFrame)
        XCTAssertEqual(segment.peakProbability, 0.95, accuracy: 1e-9)
        XCTAssertTrue((segment.start...segment.end).contains(segment.peakTime))
        XCTAssertEqual(segment.frameCount, 20, accuracy: 2)
    }

    func testIsolatedNoisyHighFramesDoNotSwingARealVideo() throws {
        // 10 s of clearly real frames with 8 isolated spikes (two of them adjacent pairs) at 0.99.
        let spikes: Set<Int> = [5, 17, 18, 33, 50, 61, 62, 88]
        let frames = Fixtures.frames(seconds: 10, fps: 10) { _ in 0.05 }.map { frame -> FrameScore in
            var frame = frame
            if spikes.contains(frame.index) { frame.fakeProbability = 0.99 }
            return frame
        }
        let assessment = try Aggregator.assess(frames)
        XCTAssertEqual(assessment.verdict, .real)
        XCTAssertLessThan(assessment.fakeProbability, 0.1)
        XCTAssertEqual(assessment.confidentFrameCount, 0)
        XCTAssertTrue(assessment.segments.isEmpty, "spikes must not become segments: \(assessment.segments)")
    }

    func testIsolatedSpikesAreRemovedAtSparseSampling() throws {
        // One frame per second: the window holds only the frame itself, so the minimum radius of one
        // neighbour per side makes it a median of three.
        let frames = Fixtures.frames(seconds: 20, fps: 1) { time in [3.0, 9.0, 15.0].contains(time) ? 0.97 : 0.1 }
        let assessment = try Aggregator.assess(frames)
        XCTAssertEqual(assessment.verdict, .real)
        XCTAssertTrue(assessment.segments.isEmpty)
    }

    func testBorderlineScoresAreUncertain() throws {
        var noise = SeededNoise(seed: 7)
        let frames = Fixtures.frames(seconds: 6, fps: 10) { _ in 0 }.map { frame -> FrameScore in
            var frame = frame
            frame.fakeProbability = 0.47 + noise.next() * 0.06  // 0.47…0.53
            return frame
        }
        let assessment = try Aggregator.assess(frames)
        XCTAssertEqual(assessment.verdict, .uncertain)
        XCTAssertEqual(assessment.fakeProbability, 0.5, accuracy: 0.03)
    }

    func testVerdictBandEdges() {
        let policy = AggregationPolicy(threshold: 0.5, uncertainMargin: 0.1)
        XCTAssertEqual(policy.verdict(for: 0.39), .real)
        XCTAssertEqual(policy.verdict(for: 0.45), .uncertain)
        XCTAssertEqual(policy.verdict(for: 0.55), .uncertain)
        XCTAssertEqual(policy.verdict(for: 0.61), .fake)
        let noBand = AggregationPolicy(threshold: 0.5, uncertainMargin: 0)
        XCTAssertEqual(noBand.verdict(for: 0.5), .fake)
        XCTAssertEqual(noBand.verdict(for: 0.4999), .real)
    }

    /// A calibrated threshold far from 0.5 keeps the band's width in log-odds: at 0.89 the band is
    /// about 0.845…0.924 (not 0.79…0.99), and "confidently fake" starts at its upper edge.
    func testBandAtAHighThresholdKeepsItsLogOddsWidth() throws {
        let policy = AggregationPolicy(threshold: 0.89, uncertainMargin: 0.1)
        XCTAssertEqual(policy.uncertainBand.lowerBound, 0.8446, accuracy: 1e-3)
        XCTAssertEqual(policy.uncertainBand.upperBound, 0.9239, accuracy: 1e-3)
        XCTAssertEqual(policy.verdict(for: 0.84), .real)
        XCTAssertEqual(policy.verdict(for: 0.90), .uncertain)
        XCTAssertEqual(policy.verdict(for: 0.93), .fake)
        XCTAssertEqual(policy.confidentLevel, policy.uncertainBand.upperBound)
        // Six real frames near 0.8 (below the threshold) and four at 0.97: the confident frames are
        // the four, and they decide.
        let frames = (0..<10).map { i in
            FrameScore(
                index: i, time: Double(i), fakeProbability: i < 6 ? 0.8 : 0.97, region: Region(x: 0, y: 0, w: 1, h: 1))
        }
        let assessment = try Aggregator.assess(frames, policy: policy)
        XCTAssertEqual(assessment.rule, .confidentFrames)
        XCTAssertEqual(assessment.verdict, .fake)
        XCTAssertEqual(assessment.fakeProbability, 0.97, accuracy: 1e-9)
    }

    func testSingleFrameImageInput() throws {
        let fake = try Aggregator.assess([
            FrameScore(index: 0, time: 0, fakeProbability: 0.9, region: Region(x: 0, y: 0, w: 10, h: 10))
        ])
        XCTAssertEqual(fake.verdict, .fake)
        XCTAssertEqual(fake.fakeProbability, 0.9, accuracy: 1e-12)
        XCTAssertEqual(fake.segments, [Segment(start: 0, end: 0, peakProbability: 0.9, peakTime: 0, frameCount: 1)])

        let real = try Aggregator.assess([
            FrameScore(index: 0, time: 0, fakeProbability: 0.1, region: Region(x: 0, y: 0, w: 10, h: 10))
        ])
        XCTAssertEqual(real.verdict, .real)
        XCTAssertEqual(real.fakeProbability, 0.1, accuracy: 1e-12)
        XCTAssertTrue(real.segments.isEmpty)

        let middling = try Aggregator.assess([
            FrameScore(index: 0, time: 0, fakeProbability: 0.7, region: Region(x: 0, y: 0, w: 1, h: 1))
        ])
        XCTAssertEqual(middling.rule, .smoothedMean)
        XCTAssertEqual(middling.fakeProbability, 0.7, accuracy: 1e-12)
        XCTAssertEqual(middling.verdict, .fake)
    }

    func testEmptyInputIsAnError() {
        XCTAssertThrowsError(try Aggregator.assess([])) { error in
            XCTAssertEqual(error as? AggregationError, .noFrames)
            XCTAssertTrue(String(describing: error).contains("no frames"))
        }
    }

    func testInvalidProbabilitiesAndTimesAreErrors() {
        let region = Region(x: 0, y: 0, w: 1, h: 1)
        for bad in [Double.nan, -0.2, 1.5, .infinity] {
            XCTAssertThrowsError(try Aggregator.assess([FrameScore(index: 3, time: 0, fakeProbability: bad, region: region)])) {
                error in
                guard case .invalidFrame(index: 3, _)? = error as? AggregationError else {
                    return XCTFail("expected invalidFrame for \(bad), got \(error)")
                }
            }
        }
        XCTAssertThrowsError(try Aggregator.assess([FrameScore(index: 0, time: .nan, fakeProbability: 0.5, region: region)]))
        let shortHeatmap = Heatmap(rows: 2, columns: 2, values: [0.1, 0.2, 0.3])
        XCTAssertThrowsError(
            try Aggregator.assess([
                FrameScore(
                    index: 0, time: 0, fakeProbability: 0.5, heatmap: shortHeatmap,
                    region: region)
            ]))
        let nanHeatmap = Heatmap(rows: 1, columns: 2, values: [0.1, .nan])
        XCTAssertThrowsError(
            try Aggregator.assess([
                FrameScore(
                    index: 0, time: 0, fakeProbability: 0.5, heatmap: nanHeatmap,
                    region: region)
            ]))
        XCTAssertThrowsError(
            try Aggregator.assess([
                FrameScore(
                    index: 0, time: 0, fakeProbability: 0.5,
                    region: Region(x: 0, y: 0, w: -4, h: 2))
            ]))
        // Rounding noise just outside 0…1 is clamped, not rejected.
        let clamped = try? Aggregator.assess([FrameScore(index: 0, time: 0, fakeProbability: 1 + 1e-8, region: region)])
        XCTAssertEqual(clamped?.frames.first?.fakeProbability, 1)
    }

    func testInvalidPolicyIsAnError() {
        let frames = Fixtures.frames(seconds: 1, fps: 10) { _ in 0.1 }
        XCTAssertThrowsError(try Aggregator.assess(frames, policy: AggregationPolicy(threshold: 1.5))) { error in
            guard case .invalidPolicy(let problems)? = error as? AggregationError else { return XCTFail("\(error)") }
            XCTAssertEqual(problems.count, 1)
        }
        XCTAssertTrue(AggregationPolicy().violations.isEmpty)
    }

    func testRunsCloseTogetherMergeAndDistantRunsDoNot() throws {
        // No smoothing, so the runs are exactly the frames over the threshold.
        let policy = AggregationPolicy(smoothingWindowSeconds: 0, minimumSmoothingRadiusFrames: 0)
        // High 2.0–2.9, low 3.0–3.1 (gap 0.3 s ≤ 0.5 s → merged), high 3.2–3.9, low until 6.0, high 6.0–6.9.
        let frames = Fixtures.frames(seconds: 10, fps: 10) { time in
            let t = (time * 10).rounded() / 10
            return (2.0...2.9).contains(t) || (3.2...3.9).contains(t) || (6.0...6.9).contains(t) ? 0.9 : 0.1
        }
        let segments = try Aggregator.assess(frames, policy: policy).segments
        XCTAssertEqual(segments.count, 2, "\(segments)")
        XCTAssertEqual(segments[0].start, 2.0, accuracy: 1e-9)
        XCTAssertEqual(segments[0].end, 3.9, accuracy: 1e-9)
        XCTAssertEqual(segments[0].frameCount, 20, "the two low frames in the merged gap count")
        XCTAssertEqual(segments[1].start, 6.0, accuracy: 1e-9)
        XCTAssertEqual(segments[1].end, 6.9, accuracy: 1e-9)
    }

    func testSingleFrameBlipIsNotASegment() throws {
        let policy = AggregationPolicy(smoothingWindowSeconds: 0, minimumSmoothingRadiusFrames: 0)
        let frames = Fixtures.frames(seconds: 5, fps: 10) { time in abs(time - 2.5) < 1e-9 ? 0.9 : 0.1 }
        let assessment = try Aggregator.assess(frames, policy: policy)
        XCTAssertTrue(assessment.segments.isEmpty)
        XCTAssertEqual(assessment.verdict, .real)
    }

    func testShortWeakFakeSegmentDecidesTheFile() throws {
        // 1.5 s at 0.7 in a 30 s video: over the threshold, never confidently fake. The smoothed mean
        // of the whole file is low, but the segment's own score decides: never "real" with a segment.
        let frames = Fixtures.frames(seconds: 30, fps: 10) { time in (10.0..<11.5).contains(time + 1e-9) ? 0.7 : 0.05 }
        let assessment = try Aggregator.assess(frames)
        XCTAssertEqual(assessment.rule, .segment)
        XCTAssertEqual(assessment.fakeProbability, 0.7, accuracy: 1e-9)
        XCTAssertEqual(assessment.verdict, .fake)
        XCTAssertEqual(assessment.segments.count, 1)
        XCTAssertEqual(assessment.segments[0].start, 10.0, accuracy: oneFrame)
        XCTAssertEqual(assessment.segments[0].end, 11.4, accuracy: oneFrame)
    }

    func testASegmentInsideTheUncertainBandMakesTheFileUncertainNotReal() throws {
        // Threshold 0.9 (band 0.86…0.93): 2 s at 0.91 in 30 s.
        let policy = AggregationPolicy(threshold: 0.9)
        let frames = Fixtures.frames(seconds: 30, fps: 10) { time in (5.0..<7.0).contains(time + 1e-9) ? 0.91 : 0.1 }
        let assessment = try Aggregator.assess(frames, policy: policy)
        XCTAssertEqual(assessment.segments.count, 1)
        XCTAssertEqual(assessment.rule, .segment)
        XCTAssertEqual(assessment.verdict, .uncertain)
    }

    func testNoScoreSequenceIsCalledRealWhileListingASegment() throws {
        // Random sequences of real-looking frames with random stretches of fake-looking ones, at
        // several sampling rates and thresholds: whatever the mix, a listed segment rules out "real".
        var noise = SeededNoise(seed: 7)
        var withSegments = 0
        for trial in 0..<300 {
            let fps = [1.0, 2.0, 5.0, 10.0][trial % 4]
            let threshold = [0.5, 0.7, 0.9][trial % 3]
            let start = noise.next() * 20, length = noise.next() * 4, level = threshold + (1 - threshold) * noise.next()
            let frames = Fixtures.frames(seconds: 30, fps: fps) { time in
                (start..<(start + length)).contains(time) ? level : noise.next() * threshold
            }
            let assessment = try Aggregator.assess(frames, policy: AggregationPolicy(threshold: threshold))
            if !assessment.segments.isEmpty {
                withSegments += 1
                XCTAssertNotEqual(assessment.verdict, .real, "trial \(trial): \(assessment.segments)")
            }
        }
        XCTAssertGreaterThan(withSegments, 50, "the trials must exercise segments")
    }

    func testShortConfidentFakeInALongVideoMakesTheFileFake() throws {
        // 2 s at 0.95 in a 60 s video (3 % of frames): the minimum count of confident frames decides.
        let frames = Fixtures.frames(seconds: 60, fps: 10) { time in (30.0..<32.0).contains(time + 1e-9) ? 0.95 : 0.05 }
        let assessment = try Aggregator.assess(frames)
        XCTAssertEqual(assessment.rule, .confidentFrames)
        XCTAssertEqual(assessment.verdict, .fake)
        XCTAssertEqual(assessment.segments.count, 1)
    }

    func testUnsortedInputIsSortedByTime() throws {
        let frames = Fixtures.frames(seconds: 2, fps: 10) { _ in 0.2 }.reversed()
        let assessment = try Aggregator.assess(Array(frames))
        XCTAssertEqual(assessment.frames.map(\.index), Array(0..<20))
    }

    func testThumbnailCandidatesAreTheMostSuspiciousAndSpreadOut() throws {
        // Two suspicious moments: 3.0–3.4 s at 0.9–0.94 and 8.0 s at 0.85; the rest 0.1.
        let frames = Fixtures.frames(seconds: 10, fps: 10) { time in
            let t = (time * 10).rounded() / 10
            if (3.0...3.4).contains(t) { return 0.9 + (t - 3.0) / 10 }
            return t == 8.0 ? 0.85 : 0.1
        }
        let assessment = try Aggregator.assess(frames)
        let picked = assessment.thumbnailCandidates(count: 3)
        XCTAssertEqual(
            picked.map(\.index), [34, 80, 0], "best of the first moment, then the second, then the earliest of the rest")
        XCTAssertEqual(assessment.thumbnailCandidates(count: 2, minimumSeparationSeconds: 0).map(\.index), [34, 33])
        XCTAssertEqual(assessment.thumbnailCandidates(count: 0), [])
    }

    func testMedianSmoothingValues() throws {
        // Window ±0.5 s at 2 fps = ±1 frame: s_i = median of three (two at the ends).
        let probabilities = [0.1, 0.9, 0.2, 0.3, 0.8]
        let frames = probabilities.enumerated().map { i, p in
            FrameScore(index: i, time: Double(i) * 0.5, fakeProbability: p, region: Region(x: 0, y: 0, w: 1, h: 1))
        }
        let smoothed = try Aggregator.assess(frames).smoothed
        let expected = [0.5, 0.2, 0.3, 0.3, 0.55]
        for (value, wanted) in zip(smoothed, expected) { XCTAssertEqual(value, wanted, accuracy: 1e-12) }
    }
}
