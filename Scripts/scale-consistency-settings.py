#!/usr/bin/env python3
"""Frame AUC of the scale-consistency measure under 24 settings, on frames made by
Scripts/scale-consistency-settings.sh.

usage: Scripts/scale-consistency-settings.py WORK [--jpeg]

Per 16-pixel block ρ = ln(E1 + ε) − ln(E2 + ε) (E1: mean |second difference| of luma, E2: the same on
luma averaged over 2×2; ε = 0.3 of an 8-bit level), as Sources/Detector/ScaleConsistency.swift; then
each area's mean ρ minus its context's mean, for area sides 32/64 px, contexts 192/384/768 px, the
largest signed or absolute difference, with or without dividing by the frame's spread of ρ. --jpeg
first passes every frame through ffmpeg's JPEG encoder (-q:v 3). Prints, per setting, the mean AUC
over the families and each family's AUC (every fake against every real frame).
"""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402

FAMILIES = ("denoise resample copy-move self-blend upsampler-bilinear-random autoencoder-bilinear "
            "vae-reconstruction gan-upsampling").split()
KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


ANNEX_K_LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
                14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
ANNEX_K_CHROMA = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
                  47, 66] + [99] * 38


def libjpeg_table(table, quality):
    """libjpeg's jpeg_set_quality scaling, as Sources/MediaIO/JPEGQuality.swift."""
    percent = 5000 // quality if quality < 50 else 200 - 2 * quality
    return ",".join(str(min(max((v * percent + 50) // 100, 1), 255)) for v in table)


def load(path, jpeg):
    """RGB in 0…1; jpeg True: first through ffmpeg's JPEG encoder at -q:v 3 (FFmpeg's own matrix);
    ("qscale", N): at -q:v N, 4:2:0; an int Q: 4:2:0 with libjpeg's quality-Q tables, as Unmask's
    `--jpeg-quality Q` encodes; ("h264", CRF): one intra frame through libx264 at CRF, 4:2:0, the last row and
    column dropped on odd sizes, as `--h264-crf CRF` with the settings of Reencoder.h264RoundTrip."""
    if isinstance(jpeg, tuple) and jpeg[0] == "h264":
        with tempfile.NamedTemporaryFile(suffix=".mp4") as t:
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", path, "-vf", "crop=trunc(iw/2)*2:trunc(ih/2)*2",
                            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-crf", str(jpeg[1]),
                            "-pix_fmt", "yuv420p", t.name], check=True)
            return load(t.name, False)
    if jpeg is not False:
        if jpeg is True:
            quality = ["-q:v", "3"]
        elif isinstance(jpeg, tuple):
            quality = ["-pix_fmt", "yuvj420p", "-q:v", str(jpeg[1])]
        else:
            quality = ["-pix_fmt", "yuvj420p", "-q:v", "8", "-intra_matrix", libjpeg_table(ANNEX_K_LUMA, jpeg),
                       "-chroma_intra_matrix", libjpeg_table(ANNEX_K_CHROMA, jpeg)]
        with tempfile.NamedTemporaryFile(suffix=".jpg") as t:
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", path, *quality, t.name], check=True)
            return load(t.name, False)
    size = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                           "stream=width,height", "-of", "csv=p=0", path], capture_output=True, text=True, check=True)
    w, h = map(int, size.stdout.strip().split(","))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(np.float32) / 255


def frames(work, jpeg, convert, keep=lambda real: True, families=None):
    """The frame set of WORK: per folder fN with a real frame that `keep`s, {"real": convert(real),
    family: convert(fake), …} for each family in `families` (default: every PNG beside real/), and the
    sorted families found."""
    out, found = [], set()
    for frame in sorted(glob.glob(os.path.join(work, "f[0-9]*"))):
        reals = glob.glob(os.path.join(frame, "real", "*.png"))
        if not reals:
            continue
        entry = {"real": convert(load(reals[0], jpeg))}
        if not keep(entry["real"]):
            continue
        names = families if families is not None else [os.path.basename(p)[:-4]
                                                        for p in glob.glob(os.path.join(frame, "*.png"))]
        for family in names:
            path = os.path.join(frame, family + ".png")
            if os.path.exists(path):
                entry[family] = convert(load(path, jpeg))
                found.add(family)
        out.append(entry)
    return out, sorted(found)


def laplacian(y):
    """y ⊛ [1 −2 1]ᵀ[1 −2 1] over the pixels whose 3×3 neighbourhood lies inside the plane."""
    h, w = y.shape
    out = np.zeros((h - 2, w - 2), np.float32)
    for i in range(3):
        for j in range(3):
            out += KERNEL[i, j] * y[i:i + h - 2, j:j + w - 2]
    return out


def second_difference(y):
    return np.abs(laplacian(y))


def block_means(a, block, rows, columns):
    return a[:rows * block, :columns * block].reshape(rows, block, columns, block).mean(axis=(1, 3))


def ratios(image, block=16, eps=0.3 / 255):
    y = image @ np.array([0.299, 0.587, 0.114], np.float32)
    h, w = y.shape
    coarse = y[:h // 2 * 2, :w // 2 * 2].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    rows = min((h - 2) // block, (h // 2 - 2) // (block // 2))
    columns = min((w - 2) // block, (w // 2 - 2) // (block // 2))
    fine = block_means(second_difference(y), block, rows, columns)
    half = block_means(second_difference(coarse), block // 2, rows, columns)
    return np.log(fine + eps) - np.log(half + eps)


def box_means(a, k):
    h, w = a.shape
    s = np.pad(a, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    i0, i1 = np.clip(np.arange(h) - k // 2, 0, h), np.clip(np.arange(h) - k // 2 + k, 0, h)
    j0, j1 = np.clip(np.arange(w) - k // 2, 0, w), np.clip(np.arange(w) - k // 2 + k, 0, w)
    total = s[i1][:, j1] - s[i0][:, j1] - s[i1][:, j0] + s[i0][:, j0]
    return total / ((i1 - i0)[:, None] * (j1 - j0)[None, :])


def score(r, area, context, absolute, normalize):
    d = box_means(r, area) - box_means(r, context)
    if normalize:
        d = d / (np.median(np.abs(r - np.median(r))) + 1e-3)
    return float(np.abs(d).max() if absolute else (-d).max())


def main():
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] != "--jpeg"):
        sys.exit(__doc__)
    jpeg = len(sys.argv) == 3
    maps = [e for e in frames(sys.argv[1], jpeg, ratios, families=FAMILIES)[0] if min(e["real"].shape) >= 4]
    print(f"{len(maps)} real frames; families: {' '.join(FAMILIES)}")
    for area in (2, 4):
        for context in (12, 24, 48):
            for absolute in (False, True):
                for normalize in (False, True):
                    real = [score(m["real"], area, context, absolute, normalize) for m in maps]
                    row = [auc([score(m[f], area, context, absolute, normalize) for m in maps if f in m], real)
                           for f in FAMILIES]
                    print(f"area {16 * area:3d} px, context {16 * context:3d} px, {'|d|' if absolute else '-d '}, "
                          f"{'normalized' if normalize else 'raw       '}: mean {np.mean(row):.3f} | "
                          + " ".join(f"{v:.2f}" for v in row))


if __name__ == "__main__":
    main()
