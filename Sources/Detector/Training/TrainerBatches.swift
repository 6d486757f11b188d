// Owns the D step's batch: real crops (some of them mined hard negatives), generator samples and
// supervised fakes (partial, self-blended, media, VAE) drawn by the fake mix, augmented alike, with
// the per-cell and global targets of the supervised rows; and the copies between RGBImage patches and
// (N, 3, P, P) tensors.
// Glossary: N patches in a batch, P patch side, m = P/8 logit cells per side, Nr/Ng/No real,
// generated and other-fake counts.
import MediaIO
import NeuralNet

/// Targets of the supervised rows of a D batch: the real rows first, then the other fakes.
struct SupervisedTargets {
    /// 0 for real cells; for fake ones the mean of the fake's mask over the cell (1 without a mask).
    let cells: Tensor  // (Nr + No, 1, m, m)
    /// 0 real, 1 fake.
    let global: Tensor  // (Nr + No, 1)
}

extension Trainer {
    /// A random stored frame of a random file.
    func randomFrame(of sources: [MediaSource], rng: inout RandomGenerator) -> StoredFrame {
        let source = sources[Int(rng.next() % UInt64(sources.count))]
        return source.frames[Int(rng.next() % UInt64(source.frames.count))]
    }

    /// A textured P × P crop of a random frame of `sources`.
    func realPatch(_ sources: [MediaSource], rng: inout RandomGenerator) -> RGBImage {
        PatchOps.texturedCrop(
            randomFrame(of: sources, rng: &rng), size: P, minimumEnergy: config.minimumTextureEnergy, rng: &rng)
    }

    /// A fake patch from a random frame of fake media: a textured crop labelled fake everywhere, or,
    /// when the frame's sidecar gives where it is fake, a window over that area with a mask that is 1
    /// only inside it (cells outside the area are trained as real).
    func mediaFake(_ sources: [MediaSource], rng: inout RandomGenerator) -> FakePatch {
        let frame = randomFrame(of: sources, rng: &rng)
        guard let area = frame.fakeArea else {
            return FakePatch(
                image: PatchOps.texturedCrop(frame, size: P, minimumEnergy: config.minimumTextureEnergy, rng: &rng), mask: nil,
                kind: .media)
        }
        let box = area.box
        /// A window start on one axis that covers as much of the box as fits, at an even offset when
        /// possible (the frame's 2×2 grid, as real crops keep it).
        func origin(_ start: Int, _ length: Int, _ limit: Int) -> Int {
            let low = max(0, min(start, start + length - P)), high = min(max(start, start + length - P), limit - P)
            guard high >= low else { return max(0, min(low, limit - P)) }
            let evenLow = (low + 1) / 2 * 2, evenHigh = high / 2 * 2
            guard evenLow <= evenHigh else { return low }
            return evenLow + 2 * Int(rng.next() % UInt64((evenHigh - evenLow) / 2 + 1))
        }
        let x0 = origin(box.x, box.width, frame.width), y0 = origin(box.y, box.height, frame.height)
        var image = RGBImage(width: P, height: P)
        var mask = [Float](repeating: 0, count: P * P)
        for c in 0..<3 {
            for y in 0..<P {
                for x in 0..<P {
                    let fx = min(x0 + x, frame.width - 1), fy = min(y0 + y, frame.height - 1)
                    image.pixels[(c * P + y) * P + x] = frame.value(c, fx, fy)
                    if c == 0 && x0 + x < frame.width && y0 + y < frame.height
                        && area.contains(x: fx, y: fy, frameWidth: frame.width)
                    {
                        mask[y * P + x] = 1
                    }
                }
            }
        }
        return FakePatch(image: image, mask: mask, kind: .media)
    }

    /// Copies image `index` of a (N, 3, P, P) tensor into an RGBImage.
    func image(from tensor: Tensor, index: Int) -> RGBImage {
        let n = 3 * P * P
        return RGBImage(width: P, height: P, pixels: Array(UnsafeBufferPointer(start: tensor.pointer + index * n, count: n)))
    }

    /// Copies a P × P patch into image `index` of a (N, 3, P, P) tensor.
    func write(_ patch: RGBImage, into tensor: Tensor, index: Int) {
        let n = 3 * P * P
        patch.pixels.withUnsafeBufferPointer { (tensor.pointer + index * n).update(from: $0.baseAddress!, count: n) }  // n > 0
    }

    /// A supervised fake kind drawn by the fake mix (media only with fake training files, VAE kinds
    /// only with a VAE, zoo only with a zoo); self-blended when every weight is zero.
    func drawFakeKind(_ rng: inout RandomGenerator) -> FakeKind {
        let weights = config.fakeMix.drawableWeights(
            media: data.fake?.training.isEmpty == false, vae: vae != nil, zoo: zoo != nil)
        let total = weights.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return .selfBlended }
        var draw = Double(rng.uniform()) * total
        for (kind, weight) in weights where weight > 0 {
            if draw < weight { return kind }
            draw -= weight
        }
        return weights.last { $0.weight > 0 }!.kind
    }

    /// Fills `batch` with the D step's N patches: Nr real crops, Ng generator samples, then No
    /// supervised fakes, each augmented; returns the supervised rows' targets. The supervised kinds
    /// are drawn first because partial fakes need extra generator samples.
    func buildDiscriminatorBatch() -> SupervisedTargets {
        let Nr = config.realPerBatch, Ng = config.generatedPerBatch, No = config.otherFakesPerBatch, N = Nr + Ng + No
        let fakeKinds = (0..<No).map { _ in drawFakeKind(&rng) }
        let partialCount = fakeKinds.filter { $0 == .partial }.count
        let pooled = pooledZooPairs(count: fakeKinds.filter { $0 == .zoo }.count, rng: &rng)  // [] without a pool

        // Generator samples (no gradient needed in the D step).
        generator.train()
        generator.sampleLatents(z, count: Ng + partialCount, rng: &rng)
        let generated = generator.forward(z)  // (Ng + partials, 3, P, P)

        batch.resize(to: [N, 3, P, P])
        let targets = SupervisedTargets(cells: Tensor(shape: [Nr + No, 1, m, m]), global: Tensor(shape: [Nr + No, 1]))
        // Up to half of the real rows are the pooled zoo fakes' partners; the rest stay plain crops, so the
        // real rows keep the encode paths of the other fake kinds (a partner went through the pair's
        // shared re-encoding, the generator's samples did not).
        let partners = min(pooled.count, Nr / 2)
        // The last rows are mined hard negatives when the configuration asks for them (at most half
        // of the rows, so they never take a partner's place).
        let mined = hardNegativeRows()
        for i in 0..<Nr {
            var patch =
                i < partners
                ? pooled[i].real
                : i >= Nr - mined.count ? mined[i - (Nr - mined.count)] : realPatch(data.real.training, rng: &rng)
            augmenter.apply(&patch, rng: &rng)
            write(patch, into: batch, index: i)
        }
        for i in 0..<Ng {
            var patch = image(from: generated, index: i)
            augmenter.apply(&patch, rng: &rng)
            write(patch, into: batch, index: Nr + i)
        }
        var nextPartial = Ng, nextPooled = 0
        for (j, kind) in fakeKinds.enumerated() {
            var fake: FakePatch
            switch kind {
            case .partial:
                fake = FakeSynthesis.partial(
                    real: realPatch(data.real.training, rng: &rng), generated: image(from: generated, index: nextPartial),
                    rng: &rng)
                nextPartial += 1
            case .media:
                // drawFakeKind draws .media only when there are fake training files
                fake = mediaFake(data.fake!.training, rng: &rng)
            case .vaeBlended, .vaeSample:
                fake = vaeFake(kind, real: realPatch(data.real.training, rng: &rng), rng: &rng)
            case .zoo where nextPooled < pooled.count:
                fake = FakePatch(image: pooled[nextPooled].fake, mask: pooled[nextPooled].mask, kind: .zoo)
                nextPooled += 1
            case .zoo:
                fake =
                    zooFake(sources: data.real.training, rng: &rng)
                    ?? FakeSynthesis.selfBlended(real: realPatch(data.real.training, rng: &rng), rng: &rng)
            case .selfBlended, .generated:
                fake = FakeSynthesis.selfBlended(real: realPatch(data.real.training, rng: &rng), rng: &rng)
            }
            // The mask moves with the image (flips, resizing), so each cell's target stays on the pixels
            // that were replaced: a mirrored target would train the region as real half of the time.
            augmenter.apply(&fake.image, mask: &fake.mask, rng: &rng)
            write(fake.image, into: batch, index: Nr + Ng + j)
            FakeSynthesis.cellTargets(mask: fake.mask, size: P, into: targets.cells.pointer + (Nr + j) * m * m)
            targets.global.pointer[Nr + j] = 1
        }
        return targets
    }
}
