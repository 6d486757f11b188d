#!/usr/bin/env python3
"""Frame AUC of a non-local copy-move measure (numpy and scipy), on frames made by
Scripts/scale-consistency-settings.sh with FAMILIES=copy-move.

usage: Scripts/copy-move-settings.py WORK [--jpeg-quality Q | --h264-crf CRF]

A copy-moved region repeats another part of its own frame, so no statistic of the region alone can
tell it from a real one; what gives it away is the match. The measure:
1. luma (8-bit units), band-passed as y − box5(box5(y)), whitened by its RMS over 15 × 15 pixels
   (+1 level) and clipped to ±3, so every textured area counts alike;
2. the frame's self-correlation over every shift s (FFT, zero-padded), divided by √(overlap); shifts
   under 32 pixels (Chebyshev), shifts that are multiples of 8 on both axes (the compression grid
   repeats every 8 pixels) and overlaps under 4,096 pixels are left out; the K largest are the
   candidate shifts;
3. per candidate s, the local correlation ρ_s of the whitened band-pass with itself shifted by s,
   over 32 × 32 boxes in which both sides have a mean band-pass energy of at least 4 levels²;
4. sharpness: ρ_s minus the largest of ρ at s ± 4 pixels along each axis, at the same place. A real
   copy matches at one shift only; an edge, a stripe or a smooth gradient matches along a line of
   shifts and loses its ρ here.
The frame's score is the largest value over places and candidates. Settings: the sharpness step (0:
ρ_s alone, or 4) with K = 20, and step 2's largest value alone (in standard deviations of every shift
kept). --jpeg-quality Q / --h264-crf CRF first re-encode every frame as `unmask evaluate` does
(Scripts/scale-consistency-settings.py's loader). Prints each setting's AUC (every fake against every
real frame) and, per frame, the score and best shift of the real frame and of its fake.
"""
import os
import sys

import numpy as np
from scipy.ndimage import uniform_filter1d

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402
from settings_common import sibling, work_and_variant  # noqa: E402

_scale = sibling("scale_settings", "scale-consistency-settings.py")

WINDOW = 32       # side of the boxes the local correlation is taken over
MIN_SHIFT = 32    # smallest shift considered (Chebyshev, pixels)
FLOOR = 4.0       # least mean band-pass energy (8-bit levels²) on both sides of a match
CANDIDATES = 20   # candidate shifts taken from the self-correlation
STEPS = (0, 4)


def box(a, k):
    """Mean over the k × k box centred on each pixel (rows r − k/2 …< r − k/2 + k), clipped to the
    plane: the same values as box_means of Scripts/scale-consistency-settings.py, about 6× faster on
    a 20-megapixel frame (its summed-area table is indexed with fancy indexing)."""
    def along(x, axis):
        n = x.shape[axis]
        counts = uniform_filter1d(np.ones(n), k, mode="constant")
        shape = [1, 1]
        shape[axis] = n
        return uniform_filter1d(x, k, axis=axis, mode="constant") / counts.reshape(shape)
    return along(along(a, 0), 1)


def band_pass(image):
    """The whitened band-pass z and its raw energy over WINDOW-side boxes."""
    y = (image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])) * 255
    bp = y - box(box(y, 5), 5)
    energy = np.maximum(box(bp * bp, WINDOW), 0)
    rms = np.sqrt(np.maximum(box(bp * bp, 15), 0)) + 1.0
    return np.clip(bp / rms, -3, 3), energy


def candidate_shifts(z, count):
    """The `count` shifts of largest self-correlation / √overlap, one of each ± pair, and the largest
    of those values in standard deviations of all the shifts kept."""
    h, w = z.shape
    H, W = 2 * h, 2 * w
    F = np.fft.rfft2(z, s=(H, W))
    r = np.fft.irfft2(F * np.conj(F), s=(H, W))
    O = np.fft.rfft2(np.ones_like(z), s=(H, W))
    n = np.maximum(np.fft.irfft2(O * np.conj(O), s=(H, W)), 1)
    v = r / np.sqrt(n)
    dy = np.arange(H); dy = np.where(dy < H // 2, dy, dy - H)
    dx = np.arange(W); dx = np.where(dx < W // 2, dx, dx - W)
    excluded = (np.abs(dy)[:, None] < MIN_SHIFT) & (np.abs(dx)[None, :] < MIN_SHIFT)
    excluded |= (dy % 8 == 0)[:, None] & (dx % 8 == 0)[None, :]
    excluded |= n < 4096
    # Only one of s and −s: dy > 0, or dy = 0 and dx > 0.
    excluded |= (dy < 0)[:, None] | ((dy == 0)[:, None] & (dx <= 0)[None, :])
    peak = float(v[~excluded].max() / v[~excluded].std())
    v[excluded] = -np.inf
    top = np.argpartition(v.ravel(), -count)[-count:]
    top = top[np.argsort(-v.ravel()[top])]
    return [(int(dy[i // W]), int(dx[i % W])) for i in top], peak


def shifted(a, sy, sx):
    """a(x + s), zero outside the frame."""
    h, w = a.shape
    out = np.zeros_like(a)
    if abs(sy) >= h or abs(sx) >= w:
        return out
    src_y = slice(sy, h) if sy >= 0 else slice(0, h + sy)
    dst_y = slice(0, h - sy) if sy >= 0 else slice(-sy, h)
    src_x = slice(sx, w) if sx >= 0 else slice(0, w + sx)
    dst_x = slice(0, w - sx) if sx >= 0 else slice(-sx, w)
    out[dst_y, dst_x] = a[src_y, src_x]
    return out


def local_correlation(z, zz, energy, sy, sx):
    b = shifted(z, sy, sx)
    rho = box(z * b, WINDOW) / (np.sqrt(np.maximum(zz * box(b * b, WINDOW), 0)) + 1e-3)
    return np.where(np.minimum(energy, shifted(energy, sy, sx)) >= FLOOR, rho, 0)


def scores(image):
    """{(K, step): (score, shift)} for every setting."""
    z, energy = band_pass(image)
    zz = box(z * z, WINDOW)
    per_candidate = []
    shifts, peak = candidate_shifts(z, CANDIDATES)
    for sy, sx in shifts:
        rho = local_correlation(z, zz, energy, sy, sx)
        values = {0: float(rho.max())}
        for step in STEPS:
            if step:
                near = np.maximum.reduce([local_correlation(z, zz, energy, sy + a, sx + b)
                                          for a, b in ((step, 0), (-step, 0), (0, step), (0, -step))])
                values[step] = float((rho - np.maximum(near, 0)).max())
        per_candidate.append(((sy, sx), values))
    out = {(0, 0): (peak, shifts[0])}
    for step in STEPS:
        shift, values = max(per_candidate, key=lambda c: c[1][step])
        out[(CANDIDATES, step)] = (values[step], shift)
    return out


def main():
    work, variant = work_and_variant(__doc__)
    frames, _ = _scale.frames(work, variant, lambda x: x, families=["copy-move"])
    real, fake = {}, {}
    for e in frames:
        if "copy-move" not in e:
            continue
        r, f = scores(e["real"]), scores(e["copy-move"])
        h, w = e["real"].shape[:2]
        best = (CANDIDATES, max(STEPS))
        print(f"{w}x{h}  real {r[best][0]:.2f} at {r[best][1]}  fake {f[best][0]:.2f} at {f[best][1]}", flush=True)
        for key in r:
            real.setdefault(key, []).append(r[key][0])
            fake.setdefault(key, []).append(f[key][0])
    for key in sorted(real):
        name = "self-correlation peak alone" if key[0] == 0 else f"K {key[0]:2d}, sharpness step {key[1]}"
        print(f"{name}: AUC {auc(fake[key], real[key]):.3f} "
              f"({len(fake[key])} fakes, {len(real[key])} real frames)")


if __name__ == "__main__":
    main()
