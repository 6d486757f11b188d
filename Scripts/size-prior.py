#!/usr/bin/env python3
"""What `unmask calibrate --size-prior` would do to a run that was calibrated without it.

usage: Scripts/size-prior.py FIT.json [TEST.json ...]

FIT is a `calibrate --json` file (Scripts/lofo.sh writes OUT/G/calibration.json), each TEST an
`evaluate --json` file of the same model (OUT/G/evaluation.json, OUT/G/validation.json). A frame's
network score is the largest of its 64-pixel areas' mean logits, so a frame with more areas scores
higher by chance. As the calibrator does, the size prior is the least-squares slope of FIT's real
frames' network scores on ln(areas) (`area_count`, or for files without it every area position of a
frame of its size), kept within 0...5, and every frame's score loses slope * ln(areas); the threshold
is FIT's real frames' 99th percentile, with and without the prior. Printed per file: AUC per variant
and over all frames, then TPR / FPR at the threshold.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402

STRIDE, AREA_CELLS, MAXIMUM_SLOPE = 8, 8, 5.0


def areas(frame):
    if frame.get("area_count"):
        return frame["area_count"]
    rows, columns = -(-frame["height"] // STRIDE), -(-frame["width"] // STRIDE)
    return max(1, rows - min(AREA_CELLS, rows) + 1) * max(1, columns - min(AREA_CELLS, columns) + 1)


def network(frame):
    return frame["area_logit"] if frame.get("area_logit") is not None else frame["score"]


def slope(real):
    x = [math.log(areas(f)) for f in real]
    y = [network(f) for f in real]
    if len(x) < 2:
        return 0.0
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxx = sum((a - mx) ** 2 for a in x)
    if sxx <= 1e-9:
        return 0.0
    return min(max(0.0, sum((a - mx) * (b - my) for a, b in zip(x, y)) / sxx), MAXIMUM_SLOPE)


def load(path):
    with open(path) as f:
        return json.load(f)["frames"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[2])
    fit = load(sys.argv[1])
    real = [f for f in fit if not f["is_fake"]]
    if len(real) < 2:
        sys.exit(f"size-prior: {sys.argv[1]}: {len(real)} real frames, need at least 2")
    b = slope(real)
    scores = {"network": network, "size prior": lambda f: network(f) - b * math.log(areas(f))}
    thresholds = {}
    for name, s in scores.items():
        ordered = sorted(s(f) for f in real)
        thresholds[name] = ordered[min(len(ordered) - 1, math.floor(0.99 * len(ordered)))]
    print(f"{sys.argv[1]}: slope {b:.4f} per ln(areas) over {len(real)} real frames")
    for path in sys.argv[1:]:
        frames = load(path)
        variants = sorted({f["variant"] for f in frames})
        print(f"{path}: AUC per variant ({', '.join(variants)}), all frames; TPR / FPR at the threshold")
        for name, s in scores.items():
            cells = []
            for chosen in [[f for f in frames if f["variant"] == v] for v in variants] + [frames]:
                value = auc([s(f) for f in chosen if f["is_fake"]], [s(f) for f in chosen if not f["is_fake"]])
                cells.append("-" if value is None else f"{value:.3f}")
            fakes = [s(f) for f in frames if f["is_fake"]]
            reals = [s(f) for f in frames if not f["is_fake"]]
            tpr = sum(v > thresholds[name] for v in fakes) / max(1, len(fakes))
            fpr = sum(v > thresholds[name] for v in reals) / max(1, len(reals))
            print(f"  {name:<10} {' '.join(cells)}  TPR {tpr:.3f} FPR {fpr:.3f}")


if __name__ == "__main__":
    main()
