#!/usr/bin/env python3
"""Whether the seams between scoring windows matter to an evaluation.

usage: Scripts/window-seams.py J [BAND]

J is an `unmask evaluate ... --json J` file whose frames carry `peak_cell` and, for region fakes,
`manipulated_x/_y/_width/_height`. A frame is scored in 256-pixel windows, each with its own zero
padding (FrameTiling), so cells near a window's edge see less context. Two questions:

1. Do real frames' scores come from window edges? For real and for fake frames, the share whose
   peak cell lies 0, 1, 2 or 3+ cells from the nearest window edge, beside the share of all cells
   at that distance (what a peak placed at random would give).
2. Are fakes whose region lies on a seam missed? Fakes by the share of their region's box within
   BAND pixels (default 16) of a seam between two windows (none, under half, half or more), each
   group's AUC against every real frame.
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402

WINDOW, PATCH, CELL = 256, 64, 8  # DetectorArchitecture.standard: window, patch size; FrameScorer.stride


def padded(n):
    return max(WINDOW, (n + 15) // 16 * 16)


def spans(n):
    """The windows along a frame side of n pixels (FrameTiling.windowSpans), as (origin, size)."""
    p = padded(n)
    full = max(1, p // WINDOW)
    remainder = p - full * WINDOW
    out = [[i * WINDOW, WINDOW] for i in range(full)]
    if remainder >= PATCH:
        out.append([full * WINDOW, remainder])
    elif remainder > 0:
        out[-1][1] += remainder
    return out


def cells_to_edge(pixel, n):
    for origin, size in spans(n):
        if origin <= pixel < origin + size:
            return min((pixel - origin) // CELL, (origin + size - CELL - pixel) // CELL)
    raise ValueError(f"pixel {pixel} outside a side of {n}")


def seam_band(n, band):
    """For each pixel of a side of n: whether it lies within `band` pixels of an inner seam."""
    near = [False] * n
    for origin, _ in spans(n)[1:]:
        for x in range(max(0, origin - band), min(n, origin + band)):
            near[x] = True
    return near


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    path = sys.argv[1]
    band = int(sys.argv[2]) if len(sys.argv) == 3 else 16
    try:
        with open(path) as f:
            frames = json.load(f)["frames"]
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"window-seams: {path}: cannot read an evaluation: {e}")
    if not any("peak_cell" in fr for fr in frames):
        sys.exit(f"window-seams: {path}: no frame has peak_cell (an evaluation from an older unmask)")

    for is_fake in (False, True):
        chosen = [fr for fr in frames if fr["is_fake"] == is_fake and "peak_cell" in fr]
        if not chosen:
            continue
        observed, uniform = [0.0] * 4, [0.0] * 4
        for fr in chosen:
            r, c = fr["peak_cell"]
            h, w = fr["height"], fr["width"]
            observed[min(3, cells_to_edge(r * CELL, h), cells_to_edge(c * CELL, w))] += 1
            rows, columns = (h + CELL - 1) // CELL, (w + CELL - 1) // CELL
            to_row = [cells_to_edge(i * CELL, h) for i in range(rows)]
            to_column = [cells_to_edge(j * CELL, w) for j in range(columns)]
            for a in to_row:
                for b in to_column:
                    uniform[min(3, a, b)] += 1.0 / (rows * columns)
        print(f"{'fake' if is_fake else 'real'} frames: {len(chosen)}; peak cell's distance to the nearest window edge")
        for k, label in enumerate(["0", "1", "2", "3+"]):
            print(f"  {label:>2} cells: {observed[k] / len(chosen):.3f} of peaks, {uniform[k] / len(chosen):.3f} of cells")

    real = [fr["score"] for fr in frames if not fr["is_fake"]]
    groups = {}
    for fr in frames:
        if not fr["is_fake"] or fr.get("manipulated_x") is None:
            continue
        x, y = fr["manipulated_x"], fr["manipulated_y"]
        w, h = fr["manipulated_width"], fr["manipulated_height"]
        if w <= 0 or h <= 0:
            continue
        in_rows = sum(seam_band(fr["height"], band)[y : y + h]) / h
        in_columns = sum(seam_band(fr["width"], band)[x : x + w]) / w
        share = 1 - (1 - in_rows) * (1 - in_columns)
        key = "none" if share == 0 else "under half" if share < 0.5 else "half or more"
        groups.setdefault(key, []).append((fr["score"], w * h))
    if real and groups:
        print(f"region fakes by the share of their box within {band} px of a seam, AUC against {len(real)} real frames")
        for key in ("none", "under half", "half or more"):
            if key in groups:
                g = groups[key]
                area = statistics.median(a for _, a in g)
                print(f"  {key:>12}: {len(g):4d} fakes, AUC {auc([s for s, _ in g], real):.3f}, median box {area:.0f} px²")


if __name__ == "__main__":
    main()
