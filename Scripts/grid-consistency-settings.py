#!/usr/bin/env python3
"""Frame AUC of the grid-consistency measure under 96 settings, on frames made by
Scripts/scale-consistency-settings.sh (with FAMILIES naming the families to forge).

usage: Scripts/grid-consistency-settings.py WORK [--jpeg]

Per block, g = ln(B + ε) − ln(I + ε): B the mean second-order step |Δ(c) − (Δ(c−1) + Δ(c+1))/2| at the
frame's grid boundaries, I at the other seven positions of every 8, both axes summed, as
Sources/Detector/GridConsistency.swift; then each area's mean g minus its context's mean. Settings:
block 8 or 16 px; ε 0.2, 0.5 or 1 level; the grid phase the frame's strongest or fixed at the JPEG
boundary (7 mod 8); (area, context) of (32, 384), (64, 384), (64, 768), (128, 384) px; the largest
|difference| or the largest drop. --jpeg first passes every frame through ffmpeg's JPEG encoder
(-q:v 3). Prints each setting's mean AUC over the families present and each family's AUC (every fake
against every real frame), the best eight, then the chosen setting's AUC on the frames whose own
grid is at least a given strength.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402
from settings_common import sibling  # noqa: E402

_scale = sibling("scale_settings", "scale-consistency-settings.py")
block_means, box_means, load, load_frames = _scale.block_means, _scale.box_means, _scale.load, _scale.frames

CHOSEN = (8, 0.5, False, 128, 384, "abs")


def steps(y, axis):
    """The step at the boundary after each pixel along `axis` (0 where the stencil leaves the frame)."""
    d = np.diff(y, axis=axis)
    out = np.zeros_like(y)
    if axis == 1:
        out[:, 1:-2] = np.abs(d[:, 1:-1] - 0.5 * (d[:, :-2] + d[:, 2:]))
    else:
        out[1:-2] = np.abs(d[1:-1] - 0.5 * (d[:-2] + d[2:]))
    return out


def phase_means(s, axis):
    n = s.shape[axis]
    positions = np.arange(1, n - 2)
    inner = s[:, 1:-2] if axis == 1 else s[1:-2]
    return np.array([np.take(inner, np.nonzero(positions % 8 == p)[0], axis=axis).mean() for p in range(8)])


def grid_map(y, block, eps, fixed):
    h, w = y.shape
    rows, cols = h // block, w // block
    total_grid, total_other = 0, 0
    strength = 0.0
    for axis in (1, 0):
        s = steps(y, axis)
        means = phase_means(s, axis)
        phase = 7 if fixed else int(means.argmax())
        strength += np.log(means.max() + eps) - np.log(np.median(means) + eps)
        mask = np.zeros(y.shape, bool)
        if axis == 1:
            mask[:, phase::8] = True
        else:
            mask[phase::8, :] = True
        share = mask[:rows * block, :cols * block].reshape(rows, block, cols, block).mean(axis=(1, 3))
        total_grid = total_grid + block_means(s * mask, block, rows, cols) / share
        total_other = total_other + block_means(s * ~mask, block, rows, cols) / (1 - share)
    return np.log(total_grid + eps) - np.log(total_other + eps), strength


def score(g, block, area, context, mode):
    d = box_means(g, area // block) - box_means(g, context // block)
    return float(np.abs(d).max() if mode == "abs" else (-d).max())


def main():
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] != "--jpeg"):
        sys.exit(__doc__)
    jpeg = len(sys.argv) == 3
    frames, families = load_frames(sys.argv[1], jpeg, lambda image: image @ np.array([0.299, 0.587, 0.114], np.float32)
                                   * 255, keep=lambda luma: min(luma.shape) >= 128)
    print(f"{len(frames)} real frames; families: {' '.join(families)}")
    results = []
    for block in (8, 16):
        for eps in (0.2, 0.5, 1.0):
            for fixed in (False, True):
                maps = [{k: grid_map(y, block, eps, fixed) for k, y in e.items()} for e in frames]
                for area, context in ((32, 384), (64, 384), (64, 768), (128, 384)):
                    if area < 2 * block:
                        continue
                    for mode in ("abs", "drop"):
                        key = (block, eps, fixed, area, context, mode)
                        real = [score(m["real"][0], block, area, context, mode) for m in maps]
                        row = [auc([score(m[f][0], block, area, context, mode) for m in maps if f in m], real)
                               for f in families]
                        row = [v for v in row if v is not None]
                        results.append((float(np.mean(row)), key, row))
                        print(f"{np.mean(row):.3f} block {block:2d}, ε {eps}, phase {'7' if fixed else 'strongest'}, "
                              f"area {area:3d}, context {context}, {mode}: " + " ".join(f"{v:.2f}" for v in row),
                              flush=True)
                if (block, eps, fixed) == CHOSEN[:3]:
                    chosen_maps = maps
    print("best eight:")
    for mean, key, row in sorted(results, key=lambda r: -r[0])[:8]:
        print(f"{mean:.3f} {key}: " + " ".join(f"{v:.2f}" for v in row))
    block, _, _, area, context, mode = CHOSEN
    strengths = np.array([m["real"][1] for m in chosen_maps])
    print(f"chosen {CHOSEN}; real frames' grid strength quantiles (0, ¼, ½, ¾, 1): "
          + " ".join(f"{q:.2f}" for q in np.quantile(strengths, [0, 0.25, 0.5, 0.75, 1])))
    for floor in (-1.0, 0.3, 0.6):
        kept = [m for m, s in zip(chosen_maps, strengths) if s > floor]
        real = [score(m["real"][0], block, area, context, mode) for m in kept]
        row = [auc([score(m[f][0], block, area, context, mode) for m in kept if f in m], real) for f in families]
        row = [v for v in row if v is not None]
        print(f"  grid strength > {floor}: {len(kept)} frames, mean {np.mean(row):.3f}: "
              + " ".join(f"{v:.2f}" for v in row))


if __name__ == "__main__":
    main()
