#!/usr/bin/env python3
"""Frame AUC of an aligned double-JPEG measure (tried, not built), on frames made by
Scripts/scale-consistency-settings.sh, after a JPEG re-encode of real and fake frames alike.

usage: Scripts/double-jpeg-settings.py WORK (--jpeg-quality Q | --qscale N)

After a second JPEG save with steps q2, an area decoded from a first JPEG with steps q1 (not a
divisor of q2) leaves the histogram of its coefficients' q2 bins periodic, and an area made after
the first decode does not (Bianchi & Piva 2012). Per frequency (blocks read as in
lattice-consistency-settings.py): q2 is the lattice step; the single-compression distribution is
read from the blocks shifted by 4 pixels; q1 is the candidate 2…40 whose double-compression model
(each multiple of q1 smeared by σ = 0.5 before the second quantization) gains the most mean
log-likelihood over the single one, kept when the gain is at least 0.01. Per block, each
coefficient's log-likelihood ratio minus its frequency's frame mean; per 128-pixel area the negated
sum over its chance standard deviation, z; the frame's score its largest z. --jpeg-quality Q
re-encodes with libjpeg's quality-Q tables (as `unmask evaluate --jpeg-quality Q`), --qscale N with
FFmpeg's own matrix at -q:v N. Prints each family's AUC (every fake against every real frame), their
mean and the lattice evidence's on the same frames.
"""
import os
import sys

import numpy as np
from scipy.special import ndtr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402
from settings_common import sibling  # noqa: E402

lat = sibling("lattice_settings", "lattice-consistency-settings.py")
scale = sibling("scale_settings", "scale-consistency-settings.py")
K = 60  # the largest |coefficient / q2| modelled


def fits(read, sigma=0.5, gain_min=0.01):
    """Per block the summed log-likelihood-ratio excess, its variance and the count, from what the
    lattice script's `blocks` read."""
    y, (py, px), co, steps, clipped = read
    shifted = lat.transform(y, (py + 4) % 8, (px + 4) % 8)
    rows, cols = co.shape[:2]
    excess, variance, count = np.zeros((rows, cols)), np.zeros((rows, cols)), np.zeros((rows, cols))
    ks = np.arange(-K, K + 1)
    informative = np.abs(ks) >= 1
    for (u, v), q2 in zip(lat.ZIGZAG, steps):
        if q2 < 2:
            continue
        k = np.rint(co[:, :, u, v] / q2).astype(int)
        m = (np.abs(k) >= 1) & (np.abs(k) <= K) & ~clipped
        if m.sum() < 100:
            continue
        reference = np.sort(shifted[:, :, u, v].ravel())
        cdf = lambda x: np.searchsorted(reference, x) / len(reference)  # noqa: E731
        single = cdf((ks + 0.5) * q2) - cdf((ks - 0.5) * q2) + 1e-6
        best = None
        for q1 in range(2, 41):
            if q1 == q2 or q2 % q1 == 0:
                continue
            ms = np.arange(-(K * q2 // q1) - 2, K * q2 // q1 + 3)
            weight = cdf((ms + 0.5) * q1) - cdf((ms - 0.5) * q1)
            lo = ((ks[:, None] - 0.5) * q2 - ms[None, :] * q1) / sigma
            hi = ((ks[:, None] + 0.5) * q2 - ms[None, :] * q1) / sigma
            double = (ndtr(hi) - ndtr(lo)) @ weight + 1e-6
            llr = np.zeros_like(single)
            llr[informative] = (np.log(double[informative] / double[informative].sum())
                                - np.log(single[informative] / single[informative].sum()))
            llr = np.clip(llr, -3, 3)
            gain = llr[k[m] + K].mean()
            if best is None or gain > best[0]:
                best = (gain, llr)
        if best is None or best[0] < gain_min:
            continue
        fit = best[1][np.clip(k + K, 0, 2 * K)]
        excess += np.where(m, fit - fit[m].mean(), 0)
        variance += np.where(m, fit[m].var() + 1e-3, 0)
        count += m
    return excess, variance, count


def both(image):
    """The frame's largest area z (the lattice script's "z" statistic) of the double-JPEG measure and
    of the lattice, from one reading of its blocks."""
    read = lat.blocks(image, "rayleigh")
    return lat.scores(fits(read))[1], lat.scores(lat.lattice_fits(read))[1]


def main():
    args = sys.argv[1:]
    if len(args) != 3 or args[1] not in ("--jpeg-quality", "--qscale") or not args[2].isdigit():
        sys.exit(__doc__)
    jpeg = int(args[2]) if args[1] == "--jpeg-quality" else ("qscale", int(args[2]))
    frames, families = scale.frames(args[0], jpeg, lambda image: image)
    table = [{k: both(image) for k, image in e.items()} for e in frames]
    for i, name in enumerate(("double-JPEG", "lattice")):
        real = [t["real"][i] for t in table]
        row = [auc([t[f][i] for t in table if f in t], real) for f in families]
        print(f"{name}: mean {np.mean(row):.3f}; " + " ".join(f"{f} {v:.2f}" for f, v in zip(families, row))
              + f"; real frames with evidence {sum(r > 0 for r in real)}/{len(real)}", flush=True)


if __name__ == "__main__":
    main()
