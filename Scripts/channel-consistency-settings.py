#!/usr/bin/env python3
"""Frame AUC of the channel-consistency measure under 120 settings, on frames made by
Scripts/scale-consistency-settings.sh (with FAMILIES naming the families to forge).

usage: Scripts/channel-consistency-settings.py WORK [--jpeg-quality Q | --h264-crf CRF]

As Sources/Detector/ChannelConsistency.swift: per 16-pixel block, κ = the mean of corr(R, G) and
corr(B, G) over the block's second differences [1 −2 1]ᵀ[1 −2 1] of each colour channel (8-bit units),
corr(a, b) = mean(a·b) / √(mean(a²)·mean(b²) + ε), for blocks whose mean(d_G²) reaches a detail floor T
(the others left out); then each area's mean κ (over at least half its blocks) minus its context's mean,
the largest |difference| or the largest negative one. Settings: the scale (full resolution, or each
channel averaged over 2×2 or 4×4 pixels first), ε (0.1, 1 or 10 at full resolution; 0.25 and 0.06 on the
coarser scales), T (0, 0.25, 1 or 4 8-bit levels squared), area and context (64/384, 128/384, 128/768 px). --jpeg-quality Q first passes every frame
through libjpeg's quality-Q tables as `unmask evaluate --jpeg-quality Q`, --h264-crf CRF through one
libx264 intra frame as `--h264-crf CRF`. Prints each setting's mean AUC over the families present and
each family's AUC (every fake against every real frame).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402
from settings_common import sibling, work_and_variant  # noqa: E402

_scale = sibling("scale_settings", "scale-consistency-settings.py")

SCALES = (("full", 1, (0.1, 1.0, 10.0)), ("2x2", 2, (0.25,)), ("4x4", 4, (0.06,)))
AREAS = ((4, 24), (8, 24), (8, 48))
FLOORS = (0.0, 0.25, 1.0, 4.0)


def average(a, f):
    h, w = a.shape
    return a[:h // f * f, :w // f * f].reshape(h // f, f, w // f, f).mean(axis=(1, 3))


def correlations(image):
    """κ maps of one frame (8-bit units) per (scale, ε, T), 16-pixel blocks of the frame, NaN under T."""
    rgb = image * 255
    rows, columns = (rgb.shape[0] - 8) // 16, (rgb.shape[1] - 8) // 16
    maps = {}
    for name, factor, epsilons in SCALES:
        r, g, b = (_scale.laplacian(average(rgb[..., k], factor)) for k in range(3))
        block = 16 // factor
        means = {key: _scale.block_means(x * y, block, rows, columns)
                 for key, (x, y) in {"rg": (r, g), "bg": (b, g), "rr": (r, r), "gg": (g, g), "bb": (b, b)}.items()}
        for eps in epsilons:
            kappa = 0.5 * (means["rg"] / np.sqrt(means["rr"] * means["gg"] + eps)
                           + means["bg"] / np.sqrt(means["bb"] * means["gg"] + eps))
            for floor in FLOORS:
                maps[(name, eps, floor)] = np.where(means["gg"] > floor if floor == 0 else means["gg"] >= floor,
                                                    kappa, np.nan)
    return maps


def box_sums(a, k):
    """Sums over the k × k box centred on each cell, clipped to the map, as ContextDeviation."""
    h, w = a.shape
    s = np.pad(a, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    i0, i1 = np.clip(np.arange(h) - k // 2, 0, h), np.clip(np.arange(h) - k // 2 + k, 0, h)
    j0, j1 = np.clip(np.arange(w) - k // 2, 0, w), np.clip(np.arange(w) - k // 2 + k, 0, w)
    return s[i1][:, j1] - s[i0][:, j1] - s[i1][:, j0] + s[i0][:, j0]


def masked_means(kappa, k, minimum_fraction):
    """Means over the measured cells of each box; NaN where they are under minimum_fraction of its cells."""
    measured = ~np.isnan(kappa)
    total, count = box_sums(np.where(measured, kappa, 0.0), k), box_sums(measured.astype(float), k)
    cells = box_sums(np.ones_like(kappa), k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((count > 0) & (count >= minimum_fraction * cells), total / count, np.nan)


def score(kappa, area, context, absolute):
    if min(kappa.shape) < area:
        return 0.0
    d = masked_means(kappa, area, 0.5) - masked_means(kappa, context, 0.0)
    d = d[~np.isnan(d)]
    if d.size == 0:
        return 0.0
    return float(np.abs(d).max() if absolute else (-d).max())


def main():
    work, variant = work_and_variant(__doc__)
    frames, families = _scale.frames(work, variant, correlations)
    print(f"{len(frames)} real frames; families: {' '.join(families)}")
    for setting in frames[0]["real"]:
        for area, context in AREAS:
            for absolute in (True, False):
                def scores(name):
                    return [score(f[name][setting], area, context, absolute) for f in frames if name in f]
                real = scores("real")
                row = [auc(scores(family), real) for family in families]
                print(f"{setting[0]:4s} ε {setting[1]:<4} T {setting[2]:<4} area {16 * area:3d} px, context {16 * context:3d} px, "
                      f"{'|d|' if absolute else '-d '}: mean {np.mean(row):.3f} | " + " ".join(f"{v:.2f}" for v in row))


if __name__ == "__main__":
    main()
