// Owns the patch VAE (Kingma & Welling 2014) that imitates autoencoder face-swap tools: it encodes a
// real patch to a latent and decodes it back; reconstructions blended into the real patch and decoded
// prior samples are fakes for the detector. Loss: L1 reconstruction + β·KL + λ·adversarial (on D's logits).
// Glossary: N batch, P patch side, Z latent size, h = P/8, C2 encoder width at P/8.
import Foundation
import NeuralNet

/// VAE hyper-parameters; stored in checkpoints.
public struct VAEArchitecture: Codable, Equatable, Sendable {
    public var latentSize: Int
    /// Encoder widths at P/2, P/4, P/8 (the decoder mirrors them).
    public var widths: [Int]
    public var patchSize: Int
    /// KL weight β.
    public var klWeight: Float
    /// Weight λ of the adversarial term (D's fakeness logits on reconstructions, to be lowered).
    public var adversarialWeight: Float

    public init(
        latentSize: Int = 64, widths: [Int] = [16, 32, 64], patchSize: Int = 64, klWeight: Float = 1e-3,
        adversarialWeight: Float = 0.01
    ) {
        self.latentSize = latentSize; self.widths = widths; self.patchSize = patchSize
        self.klWeight = klWeight; self.adversarialWeight = adversarialWeight
    }

    public func validate() throws {
        guard widths.count == 3, widths.allSatisfy({ $0 > 0 }), latentSize > 0, patchSize >= 16, patchSize % 8 == 0 else {
            throw DetectorError.invalidConfiguration(
                "VAE needs 3 positive widths, latent > 0 and a patch size multiple of 8, got \(self)")
        }
    }
}

/// Convolutional VAE: enc k4 s2 ×3 (LeakyReLU 0.2) → linear μ, log σ²; z = μ + σ·ε;
/// linear → (C2, h, h) → [nearest 2×, conv 3×3] ×3 (ReLU, ReLU, sigmoid) → (N, 3, P, P) in 0…1.
public final class VAE: ModuleContainer {
    public var isTraining = true { didSet { propagateTrainingMode() } }
    public let architecture: VAEArchitecture
    public let enc1: Conv2D, enc2: Conv2D, enc3: Conv2D
    public let mu: Linear, logVar: Linear
    public let decFC: Linear
    public let dec1: Conv2D, dec2: Conv2D, dec3: Conv2D
    private let up1 = Upsample2x(), up2 = Upsample2x(), up3 = Upsample2x()
    private let reluFC = ReLU()
    private let sigmoid = Sigmoid()
    /// ε of the last forward (N, Z).
    public let epsilon = Tensor(shape: [0])
    private let z = Tensor(shape: [0])  // (N, Z)
    private let dz = Tensor(shape: [0])  // (N, Z)
    private let dMu = Tensor(shape: [0])  // (N, Z)
    private let dLogVar = Tensor(shape: [0])  // (N, Z)
    private let dEncoded = Tensor(shape: [0])  // (N, C2, h, h)
    private var muOut: Tensor?, logVarOut: Tensor?

    public init(architecture: VAEArchitecture = VAEArchitecture(), seed: UInt64 = 3) {
        precondition((try? architecture.validate()) != nil, "VAE: invalid architecture \(architecture)")
        self.architecture = architecture
        var rng = RandomGenerator(seed: seed)
        let w = architecture.widths, h = architecture.patchSize / 8, flat = w[2] * h * h
        enc1 = Conv2D(inChannels: 3, outChannels: w[0], kernelSize: 4, stride: 2, padding: 1, rng: &rng)
        enc2 = Conv2D(inChannels: w[0], outChannels: w[1], kernelSize: 4, stride: 2, padding: 1, rng: &rng)
        enc3 = Conv2D(inChannels: w[1], outChannels: w[2], kernelSize: 4, stride: 2, padding: 1, rng: &rng)
        mu = Linear(inFeatures: flat, outFeatures: architecture.latentSize, rng: &rng)
        logVar = Linear(inFeatures: flat, outFeatures: architecture.latentSize, rng: &rng)
        decFC = Linear(inFeatures: architecture.latentSize, outFeatures: flat, rng: &rng)
        dec1 = Conv2D(inChannels: w[2], outChannels: w[1], kernelSize: 3, padding: 1, rng: &rng)
        dec2 = Conv2D(inChannels: w[1], outChannels: w[0], kernelSize: 3, padding: 1, rng: &rng)
        dec3 = Conv2D(inChannels: w[0], outChannels: 3, kernelSize: 3, padding: 1, rng: &rng)
        enc1.needsInputGradient = false
        for c in [enc1, enc2, enc3] { c.fusedActivation = .leakyReLU(0.2) }
        for c in [dec1, dec2] { c.fusedActivation = .relu }
    }

    public var children: [(String, Module)] {
        [
            ("enc1", enc1), ("enc2", enc2), ("enc3", enc3), ("mu", mu), ("log_var", logVar), ("dec_fc", decFC),
            ("dec1", dec1), ("dec2", dec2), ("dec3", dec3),
        ]
    }

    /// Encodes patches x (N, 3, P, P) to (μ, log σ²), each (N, Z).
    public func encode(_ x: Tensor) -> (mu: Tensor, logVar: Tensor) {
        var h = enc1.forward(x)  // (N, w0, P/2, P/2)
        h = enc2.forward(h)  // (N, w1, P/4, P/4)
        h = enc3.forward(h)  // (N, C2, h, h)
        let m = mu.forward(h), l = logVar.forward(h)  // (N, Z), (N, Z)
        muOut = m; logVarOut = l
        return (m, l)
    }

    /// Decodes latents z (N, Z) to patches (N, 3, P, P) in 0…1.
    public func decode(_ latents: Tensor) -> Tensor {
        let N = latents.shape[0], w = architecture.widths, hh = architecture.patchSize / 8
        let f = decFC.forward(latents)  // (N, C2·h·h)
        f.reshape(to: [N, w[2], hh, hh])  // (N, C2, h, h)
        var h = reluFC.forward(f)  // (N, C2, h, h)
        h = dec1.forward(up1.forward(h))  // (N, w1, P/4, P/4)
        h = dec2.forward(up2.forward(h))  // (N, w0, P/2, P/2)
        return sigmoid.forward(dec3.forward(up3.forward(h)))  // (N, 3, P, P)
    }

    /// Reconstruction of x: encode, z = μ + exp(½ log σ²)·ε with ε ~ N(0, 1) from `rng`, decode.
    public func forward(_ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        let (m, l) = encode(x)
        epsilon.resize(to: m.shape); z.resize(to: m.shape)
        for i in 0..<m.count {
            epsilon.pointer[i] = rng.normal()
            z.pointer[i] = m.pointer[i] + exp(0.5 * l.pointer[i]) * epsilon.pointer[i]
        }
        return decode(z)
    }

    /// Backward from dLoss/dReconstruction plus the KL term β·KL, KL = −½·mean_N Σ_Z (1 + l − μ² − eˡ)
    /// (its gradient is added here); returns the KL value. Accumulates parameter gradients.
    @discardableResult
    public func backward(_ dRecon: Tensor, klWeight beta: Float) -> Float {
        guard let m = muOut, let l = logVarOut else { preconditionFailure("VAE.backward before forward") }
        let N = Float(m.shape[0])
        var d = dec3.backward(sigmoid.backward(dRecon))  // (N, w0, P, P)
        d = dec2.backward(up3.backward(d))  // (N, w1, P/2, P/2)
        d = dec1.backward(up2.backward(d))  // (N, C2, P/4, P/4)
        d = reluFC.backward(up1.backward(d))  // (N, C2, h, h)
        let dzv = decFC.backward(d)  // (N, Z)
        dz.copy(from: dzv)
        dMu.resize(to: m.shape); dLogVar.resize(to: m.shape)
        var kl = 0.0
        for i in 0..<m.count {
            let mv = m.pointer[i], lv = l.pointer[i], s = exp(0.5 * lv)
            kl += Double(-0.5 * (1 + lv - mv * mv - s * s))
            dMu.pointer[i] = dz.pointer[i] + beta * mv / N
            dLogVar.pointer[i] = dz.pointer[i] * epsilon.pointer[i] * 0.5 * s + beta * 0.5 * (s * s - 1) / N
        }
        let a = mu.backward(dMu)  // (N, C2, h, h)
        dEncoded.copy(from: a)
        let b = logVar.backward(dLogVar)
        accumulate(b.pointer, into: dEncoded.pointer, count: dEncoded.count)
        var e = enc3.backward(dEncoded)  // (N, w1, P/4, P/4)
        e = enc2.backward(e)  // (N, w0, P/2, P/2)
        _ = enc1.backward(e)  // zero-size (no input gradient)
        return Float(kl / Double(N))
    }
}
