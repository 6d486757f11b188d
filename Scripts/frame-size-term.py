#!/usr/bin/env python3
"""Measures how real frames' scores grow with frame size, and what removing that growth would do.

usage: Scripts/frame-size-term.py FIT.json TEST.json
FIT and TEST are `unmask evaluate ... --json` files. A frame's score is its most suspicious area's
mean logit, a maximum over more areas in a larger frame, so real frames score higher the larger they
are. The script fits score = a + b·ln(pixels) over FIT's real frames (least squares; FIT must be a
split the model may be tuned on, such as the training packages' calibration split, never an
evaluation-only source), then prints, for each variant of TEST, the AUC of the frame score and of
the score minus b·ln(pixels), and the FPR and TPR of each at a threshold set on FIT's real frames
(their highest score, FPR 0 there).
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402


def frames(path):
    with open(path) as f:
        return json.load(f)["frames"]


def log_pixels(frame):
    return math.log(frame["width"] * frame["height"])


def fit(real):
    xs = [log_pixels(f) for f in real]
    ys = [f["score"] for f in real]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    if sxx == 0 or syy == 0:
        sys.exit("frame-size-term: FIT's real frames need more than one size and more than one score")
    return sxy / sxx, sxy / math.sqrt(sxx * syy)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    fit_frames, test_frames = frames(sys.argv[1]), frames(sys.argv[2])
    fit_real = [f for f in fit_frames if not f["is_fake"]]
    if len(fit_real) < 3:
        sys.exit(f"frame-size-term: {sys.argv[1]} has {len(fit_real)} real frames; 3 or more are needed")
    slope, r = fit(fit_real)
    print(f"FIT: {len(fit_real)} real frames; score = a + {slope:.3f}·ln(pixels), r = {r:.2f}")
    for name, b in [("frame score", 0.0), ("minus size term", slope)]:
        def score(f):
            return f["score"] - b * log_pixels(f)

        threshold = max(score(f) for f in fit_real)
        for variant in sorted({f["variant"] for f in test_frames}):
            group = [f for f in test_frames if f["variant"] == variant]
            real = [score(f) for f in group if not f["is_fake"]]
            fake = [score(f) for f in group if f["is_fake"]]
            value = auc(fake, real)
            if value is None:
                continue
            fpr = sum(s > threshold for s in real) / len(real)
            tpr = sum(s > threshold for s in fake) / len(fake)
            print(f"{name:16s} {variant:12s} real {len(real):4d} fake {len(fake):4d}  AUC {value:.3f}  "
                  f"FPR {fpr:.3f}  TPR {tpr:.3f}")


if __name__ == "__main__":
    main()
