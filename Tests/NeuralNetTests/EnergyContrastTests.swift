// What the SRM energy contrast shows: a patch of weaker noise inside a frame reads as a negative log
// ratio where it is and about zero far from it, and a frame's overall noise level does not move it.
import NeuralNet
import XCTest

final class EnergyContrastTests: XCTestCase {
    /// A 96×96 grey frame with uniform noise of half-width `outside`, and `inside` in the 24×24 square
    /// at rows and columns 36..<60.
    private func noiseFrame(outside: Float, inside: Float, seed: UInt64) -> Tensor {
        let n = 96, x = Tensor(shape: [1, 3, n, n])
        var rng = RandomGenerator(seed: seed)
        for c in 0..<3 {
            for i in 0..<n {
                for j in 0..<n {
                    let amplitude = (36..<60).contains(i) && (36..<60).contains(j) ? inside : outside
                    x[0, c, i, j] = 0.5 + amplitude * (2 * rng.uniform() - 1)
                }
            }
        }
        return x
    }

    /// At the square's centre the 9-pixel box holds only the weak noise (energy E/16) and the 65-pixel
    /// box 576 weak and 3,649 strong pixels: log(1 / (576/4225 + 16·3649/4225)) ≈ −2.6 on every
    /// channel. Where the 65-pixel box misses the square (the 16×16 corner blocks), both boxes hold the
    /// same noise and the ratio is about 0 (a 9-pixel box's mean energy spreads by about ±0.3 in log).
    func testAWeakerNoisePatchReadsAsNegativeAndTheRestAsZero() {
        let layer = SRMEnergyContrast()
        let y = layer.forward(noiseFrame(outside: 0.1, inside: 0.025, seed: 1))
        XCTAssertEqual(y.shape, [1, 3, 96, 96])
        for k in 0..<3 {
            var centre = 0.0, corner = 0.0, cornerCount = 0.0
            for i in 44..<52 { for j in 44..<52 { centre += Double(y[0, k, i, j]) / 64 } }
            for (i0, j0) in [(0, 0), (0, 80), (80, 0), (80, 80)] {
                for i in i0..<(i0 + 16) {
                    for j in j0..<(j0 + 16) {
                        corner += Double(y[0, k, i, j]); cornerCount += 1
                    }
                }
            }
            corner /= cornerCount
            XCTAssertEqual(centre, -2.6, accuracy: 0.4, "channel \(k)")
            XCTAssertEqual(corner, 0, accuracy: 0.15, "channel \(k)")
        }
    }

    /// Twice the noise everywhere multiplies every energy by 4; the log ratio changes only through ε,
    /// by at most ¾·ε/E. The smallest expected energy is the square's under the third kernel (its
    /// Σw² = 1.5, luminance weights Σw² = 0.447, uniform noise of half-width 0.05: variance 8.3e-4,
    /// E ≈ 5.6e-4), so ¾·ε/E ≈ 0.02; a 9-pixel box's mean energy falling to half of that, 0.04.
    func testTheFramesOverallNoiseLevelDoesNotMoveIt() {
        let layer = SRMEnergyContrast()
        let weak = layer.forward(noiseFrame(outside: 0.2, inside: 0.05, seed: 2)).copy()
        let strong = layer.forward(noiseFrame(outside: 0.4, inside: 0.1, seed: 2))
        var largest: Float = 0
        for i in 0..<weak.count { largest = max(largest, abs(weak[i] - strong[i])) }
        XCTAssertLessThan(largest, 0.05)
        XCTAssertGreaterThan(largest, 0)
    }
}
