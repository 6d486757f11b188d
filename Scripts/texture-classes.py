#!/usr/bin/env python3
"""Whether judging each area against real areas of like texture separates forged regions better.

usage: Scripts/texture-classes.py FIT.json TEST.json

Both are `unmask calibrate --json` / `unmask evaluate --json` files whose frames record
`area_logit_by_texture`: the largest 64-pixel area logit among the frame's areas of each texture class
(by the area's gradient energy, classes split at 0.005, 0.01, 0.02, 0.04 and 0.08). FIT must come
from training sources only (`Scripts/lofo.sh` writes OUT/G/calibration.json), TEST from the
evaluation-only sources (OUT/G/evaluation.json). Fitted on FIT's real frames only, per class: the mean
and standard deviation of the class's largest logit over the real frames that have the class (at
least 5). The texture-standardized frame score is the largest standardized class maximum; its
threshold is the 99th percentile of FIT's real frames, as the network's is.
Printed: where FIT's real frames have their highest area (the share per class, with the class's mean
maximum); the AUC on FIT's frames (the families trained on, training packages' held-out files) of the
network's frame score and of the texture-standardized one; then per variant of TEST the same two AUCs
and, at each score's threshold, TPR / FPR.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402

EDGES = (0.005, 0.01, 0.02, 0.04, 0.08)
NAMES = [f"< {EDGES[0]}"] + [f"{a}–{b}" for a, b in zip(EDGES, EDGES[1:])] + [f"≥ {EDGES[-1]}"]


def load(path):
    with open(path) as f:
        frames = json.load(f)["frames"]
    if not any(f.get("area_logit_by_texture") for f in frames):
        sys.exit(f"texture-classes: {path}: no frame records area_logit_by_texture (made by an older unmask?)")
    return [f for f in frames if f.get("area_logit_by_texture")]


def network(frame):
    return frame["area_logit"] if frame.get("area_logit") is not None else frame["score"]


def fit(real):
    """Per class: (mean, standard deviation) of the class maximum over real frames, or None."""
    out = []
    for k in range(len(EDGES) + 1):
        values = [f["area_logit_by_texture"][k] for f in real if f["area_logit_by_texture"][k] is not None]
        if len(values) < 5:
            out.append(None)
            continue
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
        out.append((mean, sd) if sd > 0 else None)
    return out


def standardized(frame, moments):
    scores = [(m - mu) / sd for m, fitted in zip(frame["area_logit_by_texture"], moments)
              if m is not None and fitted is not None for mu, sd in [fitted]]
    return max(scores) if scores else -math.inf


def threshold(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.floor(0.99 * len(ordered)))]


def text(v):
    return "  -  " if v is None else f"{v:.3f}"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2])
    fit_frames, test_frames = load(sys.argv[1]), load(sys.argv[2])
    real = [f for f in fit_frames if not f["is_fake"]]
    if len(real) < 10:
        sys.exit(f"texture-classes: {sys.argv[1]}: {len(real)} real frames, need at least 10")
    moments = fit(real)
    print(f"{sys.argv[1]}: {len(real)} real frames; where each has its highest area, and each class's mean maximum:")
    for k, name in enumerate(NAMES):
        top = sum(1 for f in real if f["area_logit_by_texture"][k] is not None
                  and f["area_logit_by_texture"][k] == max(v for v in f["area_logit_by_texture"] if v is not None))
        present = moments[k]
        print(f"  texture {name:>10}: highest in {top / len(real):.2f} of frames, "
              + (f"mean max {present[0]:+.3f} (sd {present[1]:.3f})" if present else "fewer than 5 frames"))
    scores = {"network": network, "texture-standardized": lambda f: standardized(f, moments)}
    thresholds = {name: threshold([s(f) for f in real]) for name, s in scores.items()}
    fakes = [f for f in fit_frames if f["is_fake"]]
    print("AUC on the fit frames (families trained on): "
          + ", ".join(f"{name} {text(auc([s(f) for f in fakes], [s(f) for f in real]))}" for name, s in scores.items()))
    print(f"{sys.argv[2]}, per variant: AUC, then TPR / FPR at the threshold fitted on the real fit frames (FPR 1 %)")
    print(f"{'variant':<12} " + "  ".join(f"{name:>32}" for name in scores))
    for variant in sorted({f["variant"] for f in test_frames}):
        chosen = [f for f in test_frames if f["variant"] == variant]
        t_real = [f for f in chosen if not f["is_fake"]]
        t_fake = [f for f in chosen if f["is_fake"]]
        cells = []
        for name, s in scores.items():
            a = auc([s(f) for f in t_fake], [s(f) for f in t_real])
            tpr = sum(s(f) > thresholds[name] for f in t_fake) / max(1, len(t_fake))
            fpr = sum(s(f) > thresholds[name] for f in t_real) / max(1, len(t_real))
            cells.append(f"{text(a)}  TPR {tpr:.3f} FPR {fpr:.3f}")
        print(f"{variant:<12} " + "  ".join(f"{c:>32}" for c in cells))


if __name__ == "__main__":
    main()
