// The pooled-area loss options shared by `train` and `bench learn`: a second loss on each training
// patch's most suspicious area, weighted beside the per-cell loss (Detector's `PooledAreaLoss`).
import ArgumentParser
import Detector

struct PooledLossOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Weight of a second loss on each patch's soft maximum over its areas (real patches: every area; fakes: "
                + "the areas touching the cells their region covers at least half), the way a frame is scored by its "
                + "most suspicious area (0…100; off when not given).", valueName: "weight"))
    var poolLossWeight: Float?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Temperature of that soft maximum in logits, 0.01…100: smaller is closer to the highest area (default 1).",
            valueName: "τ"))
    var poolTemperature: Float?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Side in cells of the areas pooled, each area its cells' mean logit: 1 (the default) for single cells, 8 "
                + "for the 64-pixel area a frame is scored by; at most the patch side / 8.", valueName: "cells"))
    var poolAreaCells: Int?

    /// The loss these options ask for (nil when off), checked against a patch side.
    func loss(patchSize: Int) throws -> PooledAreaLoss? {
        guard let weight = poolLossWeight else {
            if poolTemperature != nil || poolAreaCells != nil {
                throw ValidationError("--pool-temperature and --pool-area-cells need --pool-loss-weight.")
            }
            return nil
        }
        let loss = PooledAreaLoss(weight: weight, temperature: poolTemperature ?? 1, areaCells: poolAreaCells ?? 1)
        let cells = patchSize / DetectorArchitecture.stride
        guard (0...100).contains(loss.weight) else {
            throw ValidationError("--pool-loss-weight must be in 0…100 (got \(weight)).")
        }
        guard (0.01...100).contains(loss.temperature) else {
            throw ValidationError("--pool-temperature must be in 0.01…100 (got \(loss.temperature)).")
        }
        guard (1...cells).contains(loss.areaCells) else {
            throw ValidationError(
                "--pool-area-cells must be in 1…\(cells), the patch's cells per side (got \(loss.areaCells)).")
        }
        return loss.weight > 0 ? loss : nil
    }
}
