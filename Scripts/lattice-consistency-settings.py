#!/usr/bin/env python3
"""Frame AUC of the lattice-consistency measure under 10 settings (2 step estimates × 5 statistics), on frames made by
Scripts/scale-consistency-settings.sh (with FAMILIES naming the families to forge).

usage: Scripts/lattice-consistency-settings.py WORK [--jpeg | --jpeg-quality Q]

As Sources/Detector/LatticeConsistency.swift: blocks at the blocking's phase or the origin, whichever
shows the stronger lattice (the larger sum over frequencies of the step's Rayleigh statistic), the
orthonormal 8×8 DCT of the luma in 8-bit units, the first 27 AC frequencies in zig-zag order, blocks
with a clipped channel left out; per frequency a lattice step q; per block, each informative
coefficient's (|c| > q/2) fit cos(2π c / q) minus the frequency's mean fit over the frame; per
128-pixel area the summed excess, negated. Settings: the step estimate ("local": the largest local
maximum of the mean fit P over the candidates 2…40 with P > 0.2; "rayleigh": the candidate with the
largest m·P², at least 25, P > 0.2) and the area statistic ("mean": −excess / count; "z": −excess /
√variance; "κ": −excess / √(variance + (κ·count)²)). --jpeg first passes every frame through
ffmpeg's JPEG encoder (-q:v 3, FFmpeg's own matrix), --jpeg-quality Q through it with libjpeg's
quality-Q tables (as `unmask evaluate --jpeg-quality Q`). Prints each setting's mean AUC over the families present and each
family's AUC (every fake against every real frame).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402
from settings_common import sibling  # noqa: E402

_scale = sibling("scale_settings", "scale-consistency-settings.py")
load_frames = _scale.frames

ZIGZAG = [(0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0), (4, 0), (3, 1), (2, 2), (1, 3),
          (0, 4), (0, 5), (1, 4), (2, 3), (3, 2), (4, 1), (5, 0), (6, 0), (5, 1), (4, 2), (3, 3), (2, 4), (1, 5),
          (0, 6)]
BASIS = np.array([[(np.sqrt(1 / 8) if u == 0 else np.sqrt(2 / 8)) * np.cos((2 * x + 1) * u * np.pi / 16)
                   for x in range(8)] for u in range(8)])
STATISTICS = ("mean", "z", 0.01, 0.02, 0.05)


def phase(y):
    """Block origin (row, column): one past the boundary with the largest mean second-order step."""
    def strongest(a):
        s = np.abs(1.5 * (a[:, 2:-1] - a[:, 1:-2]) + 0.5 * (a[:, :-3] - a[:, 3:]))
        means = [s[:, (np.arange(1, a.shape[1] - 2) % 8) == p].mean() for p in range(8)]
        return (int(np.argmax(means)) + 1) % 8
    return strongest(y.T), strongest(y)


def step(c, estimator):
    c = c[np.abs(c) > 0.75]
    if c.size > 20000:
        c = c[::c.size // 20000]
    fits, counts = {}, {}
    for s in range(2, 41):
        m = np.abs(c) > s / 2
        if m.sum() < 100:
            break
        fits[s], counts[s] = float(np.cos(2 * np.pi * c[m] / s).mean()), int(m.sum())
    best = 1
    if estimator == "local":
        for s, p in fits.items():
            if p > 0.2 and p >= fits.get(s - 1, -1) and p >= fits.get(s + 1, -1):
                best = s
    else:
        top = 25.0
        for s, p in fits.items():
            if p > 0.2 and counts[s] * p * p >= top:
                best, top = s, counts[s] * p * p
    return best, (counts[best] * fits[best] ** 2 if best >= 2 else 0.0)


def transform(y, py, px):
    rows, cols = (y.shape[0] - py) // 8, (y.shape[1] - px) // 8
    blocks = y[py:py + rows * 8, px:px + cols * 8].reshape(rows, 8, cols, 8).transpose(0, 2, 1, 3) - 128
    return BASIS @ blocks @ BASIS.T


def blocks(image, estimator):
    """The luma, the block phase (row, column), the blocks' DCT coefficients, each ZIGZAG frequency's
    lattice step and which blocks have a clipped channel."""
    y = image @ np.array([0.299, 0.587, 0.114], np.float32) * 255
    # The phase of the blocking or the origin, whichever shows the stronger lattice (summed statistic).
    chosen = None
    for py, px in dict.fromkeys([phase(y), (0, 0)]):
        coefficients = transform(y, py, px)
        steps = [step(coefficients[:, :, u, v].ravel(), estimator) for u, v in ZIGZAG]
        strength = sum(statistic for _, statistic in steps)
        if chosen is None or strength > chosen[0]:
            chosen = (strength, py, px, coefficients, [q for q, _ in steps])
    _, py, px, coefficients, steps = chosen
    rows, cols = coefficients.shape[:2]
    rgb = image[py:py + rows * 8, px:px + cols * 8].reshape(rows, 8, cols, 8, 3)
    clipped = (rgb.min(axis=(1, 3, 4)) <= 0.5 / 255) | (rgb.max(axis=(1, 3, 4)) >= 254.5 / 255)
    return y, (py, px), coefficients, steps, clipped


def block_fits(image, estimator):
    return lattice_fits(blocks(image, estimator))


def lattice_fits(read):
    """Per block the summed lattice-fit excess, its variance and the informative coefficients' count,
    from what `blocks` read."""
    _, _, coefficients, steps, clipped = read
    rows, cols = coefficients.shape[:2]
    excess, variance, count = np.zeros((rows, cols)), np.zeros((rows, cols)), np.zeros((rows, cols))
    for (u, v), q in zip(ZIGZAG, steps):
        c = coefficients[:, :, u, v]
        if q < 2:
            continue
        m = (np.abs(c) > q / 2) & ~clipped
        if m.sum() < 50:
            continue
        fit = np.cos(2 * np.pi * c / q)
        excess += np.where(m, fit - fit[m].mean(), 0)
        variance += np.where(m, fit[m].var() + 1e-3, 0)
        count += m
    return excess, variance, count


def box_sum(a, k):
    s = np.pad(a, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    return s[k:, k:] - s[:-k, k:] - s[k:, :-k] + s[:-k, :-k]


def scores(fits, area=16):
    excess, variance, count = fits
    if count.sum() < 500:
        return [0.0] * len(STATISTICS)
    k = min(area, *count.shape)
    e, v, n = box_sum(excess, k), box_sum(variance, k), box_sum(count, k)
    ok = n >= 64
    if not ok.any():
        return [0.0] * len(STATISTICS)
    out = []
    for statistic in STATISTICS:
        if statistic == "mean":
            d = -e[ok] / n[ok]
        elif statistic == "z":
            d = -e[ok] / np.sqrt(v[ok])
        else:
            d = -e[ok] / np.sqrt(v[ok] + (statistic * n[ok]) ** 2)
        out.append(max(float(d.max()), 0.0))
    return out


def main():
    args = sys.argv[1:]
    if len(args) == 1:
        jpeg = False
    elif len(args) == 2 and args[1] == "--jpeg":
        jpeg = True
    elif len(args) == 3 and args[1] == "--jpeg-quality" and args[2].isdigit() and 1 <= int(args[2]) <= 100:
        jpeg = int(args[2])
    else:
        sys.exit(__doc__)
    frames, families = load_frames(sys.argv[1], jpeg, lambda image: image)
    print(f"{len(frames)} real frames; families: {' '.join(families)}")
    for estimator in ("local", "rayleigh"):
        table = [{k: scores(block_fits(image, estimator)) for k, image in e.items()} for e in frames]
        print(f"{estimator}: {sum(t['real'][0] == 0 for t in table)} real frames without lattice evidence")
        for i, statistic in enumerate(STATISTICS):
            real = [t["real"][i] for t in table]
            row = [auc([t[f][i] for t in table if f in t], real) for f in families]
            row = [v for v in row if v is not None]
            name = statistic if isinstance(statistic, str) else f"κ {statistic}"
            print(f"{np.mean(row):.3f} step {estimator}, {name}: " + " ".join(f"{v:.2f}" for v in row), flush=True)


if __name__ == "__main__":
    main()
