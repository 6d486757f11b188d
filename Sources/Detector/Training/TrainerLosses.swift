// Owns the trainer's losses on D's logits: the adversarial loss (hinge, Wasserstein or BCE) on real
// vs generated rows, the supervised BCE on real vs other-fake rows, and G's loss on D's logits for
// its samples. Each writes its gradient into D's dPatch / dGlobal (or a given tensor) and returns the loss.
// Glossary: N patches in a batch, m = P/8 logit cells per side, Nr/Ng/No real, generated and
// other-fake counts, k logits per row.
import NeuralNet

extension Trainer {
    /// Adds the gradient of a loss on rows `rows` of `logits` (N, k) into the same rows of `grad`,
    /// scaled by `weight`; `compute` gets a copy of those rows and a gradient tensor to fill, and
    /// returns the loss.
    func sliceLoss(
        _ logits: Tensor, _ grad: Tensor, rows: Range<Int>, weight: Float,
        _ compute: (_ logits: Tensor, _ dLogits: Tensor) -> Float
    ) -> Float {
        let valuesPerRow = logits.count / logits.shape[0]
        let offset = rows.lowerBound * valuesPerRow
        let slice = Tensor(shape: [rows.count * valuesPerRow]), dSlice = Tensor(shape: [rows.count * valuesPerRow])
        slice.pointer.update(from: logits.pointer + offset, count: slice.count)
        let loss = compute(slice, dSlice)
        for i in 0..<dSlice.count { grad.pointer[offset + i] += weight * dSlice.pointer[i] }
        return loss
    }

    /// D's adversarial loss: logits are "fakeness" (positive = fake), so for hinge real samples are
    /// pushed below −1 and generated ones above +1.
    func adversarialLoss(_ logits: Tensor, _ grad: Tensor, real: Range<Int>, generated: Range<Int>, weight: Float)
        -> Float
    {
        switch config.loss {
        case .hinge:
            return sliceLoss(logits, grad, rows: real, weight: weight) {
                Losses.hinge($0, isReal: false, dLogits: $1)
            }
                + sliceLoss(logits, grad, rows: generated, weight: weight) {
                    Losses.hinge($0, isReal: true, dLogits: $1)
                }
        case .wasserstein:
            // mean(f_real) − mean(f_generated)
            return sliceLoss(logits, grad, rows: real, weight: weight) { logits, dLogits in
                dLogits.resize(to: logits.shape); dLogits.fill(1 / Float(logits.count))
                return sum(logits.pointer, count: logits.count) / Float(logits.count)
            }
                + sliceLoss(logits, grad, rows: generated, weight: weight) { logits, dLogits in
                    dLogits.resize(to: logits.shape); dLogits.fill(-1 / Float(logits.count))
                    return -sum(logits.pointer, count: logits.count) / Float(logits.count)
                }
        case .bce:
            return sliceLoss(logits, grad, rows: real, weight: weight) { logits, dLogits in
                Losses.bceWithLogits(logits: logits, targets: Tensor(shape: logits.shape, repeating: 0), dLogits: dLogits)
            }
                + sliceLoss(logits, grad, rows: generated, weight: weight) { logits, dLogits in
                    Losses.bceWithLogits(logits: logits, targets: Tensor(shape: logits.shape, repeating: 1), dLogits: dLogits)
                }
        }
    }

    /// G's loss on D's logits for generated samples (gradient written into `grad`): hinge and
    /// Wasserstein −mean(realness) = mean(f); BCE non-saturating −log σ(−f) (target "real" = 0).
    func generatorLoss(_ logits: Tensor, _ grad: Tensor, weight: Float) -> Float {
        grad.resize(to: logits.shape)
        grad.zero()
        switch config.loss {
        case .hinge, .wasserstein:
            return sliceLoss(logits, grad, rows: 0..<logits.shape[0], weight: weight) { logits, dLogits in
                dLogits.resize(to: logits.shape); dLogits.fill(1 / Float(logits.count))
                return sum(logits.pointer, count: logits.count) / Float(logits.count)
            }
        case .bce:
            return sliceLoss(logits, grad, rows: 0..<logits.shape[0], weight: weight) { logits, dLogits in
                Losses.bceWithLogits(logits: logits, targets: Tensor(shape: logits.shape, repeating: 0), dLogits: dLogits)
            }
        }
    }

    /// The supervised BCE of the D step on the real rows 0..<Nr and the other-fake rows Nr+Ng..<N,
    /// per cell (patch map) and per patch (global), plus the pooled-area loss when configured (on the
    /// patch map); its gradient, times half the supervised weight per head, is added into `dPatch`
    /// and `dGlobal`. 0 when the batch has no other fakes.
    func supervisedLoss(patchLogits: Tensor, globalLogits: Tensor, targets: SupervisedTargets) -> Float {
        let Nr = config.realPerBatch, Ng = config.generatedPerBatch, No = config.otherFakesPerBatch
        guard No > 0 else { return 0 }
        let supervisedHeadWeight = 0.5 * config.supervisedWeight
        // The supervised rows gathered into contiguous tensors, real first.
        let supervisedPatchLogits = Tensor(shape: [Nr + No, 1, m, m])
        let supervisedGlobalLogits = Tensor(shape: [Nr + No, 1])
        let dSupervisedPatchLogits = Tensor(shape: [0]), dSupervisedGlobalLogits = Tensor(shape: [0])
        supervisedPatchLogits.pointer.update(from: patchLogits.pointer, count: Nr * m * m)
        (supervisedPatchLogits.pointer + Nr * m * m).update(from: patchLogits.pointer + (Nr + Ng) * m * m, count: No * m * m)
        supervisedGlobalLogits.pointer.update(from: globalLogits.pointer, count: Nr)
        (supervisedGlobalLogits.pointer + Nr).update(from: globalLogits.pointer + Nr + Ng, count: No)
        var loss =
            Losses.bceWithLogits(logits: supervisedPatchLogits, targets: targets.cells, dLogits: dSupervisedPatchLogits)
            + Losses.bceWithLogits(logits: supervisedGlobalLogits, targets: targets.global, dLogits: dSupervisedGlobalLogits)
        if let pooled = config.pooledLoss {
            loss += pooled.add(
                patchLogits: supervisedPatchLogits, cellTargets: targets.cells, rowTargets: targets.global,
                into: dSupervisedPatchLogits)
        }
        for i in 0..<(Nr * m * m) { dPatch.pointer[i] += supervisedHeadWeight * dSupervisedPatchLogits.pointer[i] }
        for i in 0..<(No * m * m) {
            dPatch.pointer[(Nr + Ng) * m * m + i] += supervisedHeadWeight * dSupervisedPatchLogits.pointer[Nr * m * m + i]
        }
        for i in 0..<Nr { dGlobal.pointer[i] += supervisedHeadWeight * dSupervisedGlobalLogits.pointer[i] }
        for i in 0..<No { dGlobal.pointer[Nr + Ng + i] += supervisedHeadWeight * dSupervisedGlobalLogits.pointer[Nr + i] }
        return loss
    }
}
