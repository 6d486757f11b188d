// Owns the zoo's trainable region autoencoder: a fully convolutional encoder down to a narrow
// bottleneck 2^k times smaller than the region (k = 2…4: 4×–16×) and a decoder back up through k
// 2× stages of one upsampler (nearest + conv, bilinear + conv, pixel shuffle, or transposed conv).
// Glossary: N batch, C width, L bottleneck channels, k active stages, F = 2^k, H/W input size (multiples of F).
import Foundation
import NeuralNet

/// Hyper-parameters of a `RegionAutoencoder`; stored in zoo generator files.
public struct AutoencoderArchitecture: Codable, Equatable, Sendable {
    /// The decoder's 2× stage.
    public var upsampler: DecoderUpsampler
    /// Channels C of every stage.
    public var width: Int
    /// Channels L of the bottleneck.
    public var bottleneckChannels: Int
    /// Stage counts k the network runs with (bottleneck factor 2^k); the network holds the largest.
    public var minimumStages: Int
    public var maximumStages: Int

    public init(
        upsampler: DecoderUpsampler, width: Int = 32, bottleneckChannels: Int = 8, minimumStages: Int = 2,
        maximumStages: Int = 4
    ) {
        self.upsampler = upsampler; self.width = width; self.bottleneckChannels = bottleneckChannels
        self.minimumStages = minimumStages; self.maximumStages = maximumStages
    }

    /// Bottleneck factors 2^k the network supports, smallest first.
    public var bottleneckFactors: [Int] { (minimumStages...maximumStages).map { 1 << $0 } }

    /// Throws unless every size is positive and within the limits a zoo file may ask for.
    public func validate() throws {
        guard (1...ZooGeneratorLimits.maximumWidth).contains(width),
            (1...ZooGeneratorLimits.maximumWidth).contains(bottleneckChannels),
            (1...ZooGeneratorLimits.maximumStages).contains(minimumStages),
            (minimumStages...ZooGeneratorLimits.maximumStages).contains(maximumStages)
        else {
            throw DetectorError.invalidConfiguration(
                "autoencoder needs widths 1…\(ZooGeneratorLimits.maximumWidth) and 1 ≤ minimum stages ≤ maximum "
                    + "stages ≤ \(ZooGeneratorLimits.maximumStages), got \(self)")
        }
    }
}

/// Fully convolutional autoencoder: conv 3×3 3→C, k × conv k4 s2 C→C, conv 3×3 C→L (the bottleneck,
/// linear), conv 3×3 L→C, k × (2× upsampler with conv), conv 3×3 C→3, sigmoid; LeakyReLU 0.2 after
/// every other conv. With k < maximum stages it uses the first k down stages and the last k up
/// stages, so one network serves every bottleneck factor.
public final class RegionAutoencoder: ModuleContainer {
    public var isTraining = true { didSet { propagateTrainingMode() } }
    public let architecture: AutoencoderArchitecture
    let stem: Conv2D, toBottleneck: Conv2D, fromBottleneck: Conv2D, head: Conv2D
    let down: [Conv2D]
    let up: [AutoencoderUpStage]
    private let sigmoid = Sigmoid()
    private var activeStages = 0

    public convenience init(architecture: AutoencoderArchitecture, seed: UInt64 = 5) {
        self.init(architecture: architecture, seed: seed, negativeSlope: 0.2)
    }

    /// `negativeSlope` other than 0.2 only for gradient checks (a gentler kink keeps finite differences meaningful).
    init(architecture: AutoencoderArchitecture, seed: UInt64, negativeSlope: Float) {
        precondition((try? architecture.validate()) != nil, "RegionAutoencoder: invalid architecture \(architecture)")
        self.architecture = architecture
        var rng = RandomGenerator(seed: seed)
        let C = architecture.width, L = architecture.bottleneckChannels
        stem = Conv2D(inChannels: 3, outChannels: C, kernelSize: 3, padding: 1, rng: &rng)
        stem.needsInputGradient = false
        down = (0..<architecture.maximumStages).map { _ in
            Conv2D(inChannels: C, outChannels: C, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
        }
        toBottleneck = Conv2D(inChannels: C, outChannels: L, kernelSize: 3, padding: 1, rng: &rng)
        fromBottleneck = Conv2D(inChannels: L, outChannels: C, kernelSize: 3, padding: 1, rng: &rng)
        up = (0..<architecture.maximumStages).map { _ in
            AutoencoderUpStage(upsampler: architecture.upsampler, width: C, negativeSlope: negativeSlope, rng: &rng)
        }
        head = Conv2D(inChannels: C, outChannels: 3, kernelSize: 3, padding: 1, rng: &rng)
        for conv in [stem, fromBottleneck] + down { conv.fusedActivation = .leakyReLU(negativeSlope) }
    }

    public var children: [(String, Module)] {
        var list: [(String, Module)] = [("stem", stem)]
        for (i, conv) in down.enumerated() { list.append(("down\(i + 1)", conv)) }
        list += [("to_bottleneck", toBottleneck), ("from_bottleneck", fromBottleneck)]
        for (i, stage) in up.enumerated() { list.append(("up\(i + 1)", stage)) }
        list.append(("head", head))
        return list
    }

    /// Reconstructs x (N, 3, H, W), H and W multiples of 2^stages, through a bottleneck 2^stages
    /// smaller; returns (N, 3, H, W) in 0…1, owned by the network until its next forward.
    public func forward(_ x: Tensor, stages: Int) -> Tensor {
        let a = architecture
        precondition(
            (a.minimumStages...a.maximumStages).contains(stages) && x.shape.count == 4
                && x.shape[2] % (1 << stages) == 0 && x.shape[3] % (1 << stages) == 0,
            "RegionAutoencoder.forward: \(stages) stages on \(x.shape)")
        activeStages = stages
        var h = stem.forward(x)  // (N, C, H, W)
        for s in 0..<stages { h = down[s].forward(h) }  // (N, C, H/F, W/F)
        h = fromBottleneck.forward(toBottleneck.forward(h))  // (N, L, H/F, W/F) → (N, C, H/F, W/F)
        for s in a.maximumStages - stages..<a.maximumStages { h = up[s].forward(h) }  // (N, C, H, W)
        return sigmoid.forward(head.forward(h))  // (N, 3, H, W)
    }

    /// Backward of the last forward from dLoss/dOutput (N, 3, H, W); accumulates parameter gradients.
    public func backward(_ dy: Tensor) {
        let a = architecture
        var d = head.backward(sigmoid.backward(dy))  // (N, C, H, W)
        for s in (a.maximumStages - activeStages..<a.maximumStages).reversed() { d = up[s].backward(d) }
        d = toBottleneck.backward(fromBottleneck.backward(d))  // (N, C, H/F, W/F)
        for s in (0..<activeStages).reversed() { d = down[s].backward(d) }  // (N, C, H, W)
        _ = stem.backward(d)  // zero-size (no input gradient)
    }
}

/// One decoder stage, (N, C, h, w) → (N, C, 2h, 2w) then LeakyReLU 0.2: nearest or bilinear 2× then
/// conv 3×3 (saved as `conv`), conv 3×3 to 4C then pixel shuffle (`conv`), or transposed conv k4 s2
/// p1 (`deconv`).
final class AutoencoderUpStage: ModuleContainer, Layer {
    var isTraining = true { didSet { propagateTrainingMode() } }
    private let resize: Layer?
    private let conv: Layer
    private let shuffle: PixelShuffle2x?
    private let activation: LeakyReLU
    private let convKey: String

    init(upsampler: DecoderUpsampler, width C: Int, negativeSlope: Float, rng: inout RandomGenerator) {
        activation = LeakyReLU(negativeSlope: negativeSlope)
        switch upsampler {
        case .nearest, .bilinear:
            resize = upsampler == .nearest ? Upsample2x() as Layer : Bilinear2x()
            conv = Conv2D(inChannels: C, outChannels: C, kernelSize: 3, padding: 1, rng: &rng)
            shuffle = nil; convKey = "conv"
        case .pixelShuffle:
            resize = nil
            conv = Conv2D(inChannels: C, outChannels: 4 * C, kernelSize: 3, padding: 1, rng: &rng)
            shuffle = PixelShuffle2x(); convKey = "conv"
        case .transposedConv:
            resize = nil
            conv = ConvTranspose2D(inChannels: C, outChannels: C, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
            shuffle = nil; convKey = "deconv"
        }
    }

    var children: [(String, Module)] { [(convKey, conv)] }

    func forward(_ x: Tensor) -> Tensor {  // (N, C, h, w) → (N, C, 2h, 2w)
        var h = conv.forward(resize?.forward(x) ?? x)  // (N, C or 4C, 2h or h, 2w or w)
        if let shuffle { h = shuffle.forward(h) }  // (N, C, 2h, 2w)
        return activation.forward(h)
    }

    func backward(_ dy: Tensor) -> Tensor {  // (N, C, 2h, 2w) → (N, C, h, w)
        var d = activation.backward(dy)
        if let shuffle { d = shuffle.backward(d) }
        d = conv.backward(d)
        return resize?.backward(d) ?? d
    }
}

/// Upper bounds on the sizes a zoo generator file may ask for, checked before anything is allocated.
public enum ZooGeneratorLimits {
    /// Channels of any layer.
    public static let maximumWidth = 256
    /// Down/up stages of an autoencoder (16× bottleneck at 4).
    public static let maximumStages = 5
    /// Latent size of a VAE or GAN generator.
    public static let maximumLatentSize = 1024
    /// Patch side of a VAE or GAN generator.
    public static let maximumPatchSize = 256
    /// Weights of any one layer (a VAE's linear layers are the largest).
    public static let maximumLayerWeights = 1 << 22
}
