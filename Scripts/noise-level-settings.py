#!/usr/bin/env python3
"""Frame AUC of a local noise-level consistency measure (tried) under 48 settings, on frames made by
Scripts/scale-consistency-settings.sh (with FAMILIES naming the families to forge).

usage: Scripts/noise-level-settings.py WORK [--jpeg-quality Q | --h264-crf CRF]

Blind local noise estimation after Lyu, Pan & Zhang (IJCV 2014): luma (8-bit units) is filtered by the
15 AC functions of the 4×4 orthonormal DCT (TRANSFORMS); per 16-pixel block the moments m2, m4 of
each band are summed, and each block's noise variance σ² is estimated over the W × W window centred
on it from the bands' variances v_k and excess kurtoses κ_k. Adding independent Gaussian noise of
variance σ² scales a band's excess kurtosis by ((v_k − σ²) / v_k)², so √κ_k is linear in 1 / v_k with
intercept √κ (the clean image's, shared by the bands) and slope −√κ·σ²: the least-squares line gives
σ², clamped to 0 … min v_k ("kurtosis"). "min-band" is the smallest band variance, an upper bound of
σ². Windows whose smallest band variance is under a floor T (0, 1 or 4 8-bit levels squared: flat or
clipped content, where no noise can be read) are left out. Each block's ln(σ² + ε) minus the mean over
the measured blocks of the context around it; the frame's score is the largest |difference| or the
largest negative one (less noise than the surroundings). --jpeg-quality Q
and --h264-crf CRF re-encode real and fake frames alike as in channel-consistency-settings.py. Prints
each setting's mean AUC over the families present and each family's AUC (every fake against every
real frame), and the scale-consistency measure's (built setting) on the same frames.
"""
import os
import sys

import numpy as np
from scipy.fft import dct

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402
from settings_common import sibling, work_and_variant  # noqa: E402

scale = sibling("scale_settings", "scale-consistency-settings.py")
channel = sibling("channel_settings", "channel-consistency-settings.py")

TRANSFORMS = (4,)
WINDOWS = (4, 8)  # estimation window, in 16-pixel blocks: 64 and 128 px
CONTEXTS = (24,)  # 384 px
EPSILONS = (0.25, 2.0)
FLOORS = (0.0, 1.0, 4.0)


def band_moments(y, n, rows, columns):
    """Per block and band (n² − 1 AC functions of the orthonormal n × n DCT): sums of r² and r⁴ over
    the block's filter positions, shape (bands, rows, columns)."""
    basis = dct(np.eye(n), norm="ortho", axis=0)  # row u is the u-th 1-D basis function
    h, w = y.shape
    m2, m4 = [], []
    for u in range(n):
        rowwise = sum(basis[u, k] * y[:, k:k + w - n + 1] for k in range(n))
        for v in range(n):
            if u == 0 and v == 0:
                continue
            r = sum(basis[v, k] * rowwise[k:k + h - n + 1, :] for k in range(n))
            r2 = r * r
            m2.append(scale.block_means(r2, 16, rows, columns))
            m4.append(scale.block_means(r2 * r2, 16, rows, columns))
    return np.array(m2), np.array(m4)


def box_means(a, k):
    return np.stack([scale.box_means(plane, k) for plane in a])


def noise_maps(image):
    """ln σ² maps per (transform, estimator, window), before ε: raw σ² per block."""
    y = (image @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.float64) * 255
    h, w = y.shape
    rows, columns = (h - 8) // 16, (w - 8) // 16
    maps = {}
    if rows < 1 or columns < 1:
        return maps
    for n in TRANSFORMS:
        m2, m4 = band_moments(y, n, rows, columns)
        for window in WINDOWS:
            v, q = box_means(m2, window), box_means(m4, window)
            kurt = np.sqrt(np.maximum(q / np.maximum(v * v, 1e-12) - 3, 0))
            x = 1 / np.maximum(v, 1e-6)
            xm, ym = x.mean(0), kurt.mean(0)
            slope = ((x - xm) * (kurt - ym)).mean(0) / np.maximum(((x - xm) ** 2).mean(0), 1e-18)
            intercept = ym - slope * xm
            lowest = v.min(0)
            with np.errstate(divide="ignore", invalid="ignore"):
                sigma2 = np.where(intercept > 0, -slope / intercept, lowest)
            for floor in FLOORS:
                keep = lowest >= floor
                maps[(n, "kurtosis", window, floor)] = np.where(keep, np.clip(sigma2, 0, lowest), np.nan)
                maps[(n, "min-band", window, floor)] = np.where(keep, lowest, np.nan)
    return maps


def score(sigma2, eps, context, absolute):
    """Each block's ln(σ² + ε) against its context's measured blocks (an "area" of one block)."""
    return channel.score(np.log(sigma2 + eps), 1, context, absolute)


def main():
    work, variant = work_and_variant(__doc__)

    def convert(image):
        return {"noise": noise_maps(image), "scale": scale.ratios(image)}

    frames, families = scale.frames(work, variant, convert)
    frames = [f for f in frames if f["real"]["noise"] and min(f["real"]["scale"].shape) >= 4]
    print(f"{len(frames)} real frames; families: {' '.join(families)}")

    def row(measure):
        real = [measure(f["real"]) for f in frames]
        return [auc([measure(f[family]) for f in frames if family in f], real) for family in families]

    for setting in frames[0]["real"]["noise"]:
        for eps in EPSILONS:
            for context in CONTEXTS:
                for absolute in (True, False):
                    values = row(lambda m: score(m["noise"][setting], eps, context, absolute))
                    print(f"dct{setting[0]} {setting[1]:8s} window {16 * setting[2]:3d} px T {setting[3]:<3} ε {eps:<4} "
                          f"context {16 * context:3d} px {'|d|' if absolute else '-d '}: mean {np.mean(values):.3f} | "
                          + " ".join(f"{v:.2f}" for v in values))
    values = row(lambda m: scale.score(m["scale"], 4, 24, True, False))
    print(f"scale consistency (built setting): mean {np.mean(values):.3f} | " + " ".join(f"{v:.2f}" for v in values))


if __name__ == "__main__":
    main()
