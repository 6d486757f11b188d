#!/usr/bin/env python3
"""What the training-free scale-consistency evidence adds to the network's frame score.

usage: Scripts/scale-consistency.py FIT.json TEST.json

Both are `unmask evaluate ... --json` files, which record each frame's network score (`score`) and
its scale-consistency evidence (`scale_consistency`, `ScaleConsistency.frameScore`). FIT must come
from training sources only (e.g. `--real DEST/real --split calibration` with the families trained
on); TEST from the evaluation-only sources. A logistic fusion of the two (standardized on FIT) is
fitted on FIT, its threshold set for a 1 % false-positive rate on FIT's real frames, and both are
applied unchanged to TEST. Printed per variant and per fake kind: AUC of the network score, of the
scale evidence alone and of the fusion; then TPR and FPR of the fusion at its threshold. Frames
without scale evidence (under 64 px on a side) are left out.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402


def load(path):
    with open(path) as f:
        return [x for x in json.load(f)["frames"] if x.get("scale_consistency") is not None]


def features(frame, centre):
    return [(frame["score"] - centre[0][0]) / centre[0][1], (frame["scale_consistency"] - centre[1][0]) / centre[1][1]]


def fit_logistic(rows, labels, steps=50, ridge=1e-3):
    """Newton's method on the L2-regularized log-loss; returns weights (bias last)."""
    w = [0.0, 0.0, 0.0]
    for _ in range(steps):
        grad = [ridge * v for v in w]
        hess = [[ridge if i == j else 0.0 for j in range(3)] for i in range(3)]
        for x, y in zip(rows, labels):
            v = x + [1.0]
            z = sum(a * b for a, b in zip(w, v))
            p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
            for i in range(3):
                grad[i] += (p - y) * v[i]
                for j in range(3):
                    hess[i][j] += p * (1 - p) * v[i] * v[j]
        step = solve3(hess, grad)
        w = [a - b for a, b in zip(w, step)]
    return w


def solve3(a, b):
    m = [row[:] + [rhs] for row, rhs in zip(a, b)]
    for i in range(3):
        pivot = max(range(i, 3), key=lambda r: abs(m[r][i]))
        m[i], m[pivot] = m[pivot], m[i]
        for r in range(3):
            if r != i:
                factor = m[r][i] / m[i][i]
                m[r] = [x - factor * y for x, y in zip(m[r], m[i])]
    return [m[i][3] / m[i][i] for i in range(3)]


def text(value):
    return "  -  " if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    fit, test = load(sys.argv[1]), load(sys.argv[2])
    if not any(f["is_fake"] for f in fit) or all(f["is_fake"] for f in fit):
        sys.exit(f"{sys.argv[1]}: needs real and fake frames with scale evidence")

    def moments(key):
        values = [f[key] for f in fit]
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
        return mean, sd

    centre = (moments("score"), moments("scale_consistency"))
    w = fit_logistic([features(f, centre) for f in fit], [1.0 if f["is_fake"] else 0.0 for f in fit])

    def fused(frame):
        return sum(a * b for a, b in zip(w, features(frame, centre) + [1.0]))

    real_fit = sorted(fused(f) for f in fit if not f["is_fake"])
    threshold = real_fit[min(len(real_fit) - 1, math.ceil(0.99 * len(real_fit)))]
    print(f"fusion fitted on {len(fit)} frames of {sys.argv[1]}: {w[0]:+.3f}·score' {w[1]:+.3f}·scale' "
          f"{w[2]:+.3f} (standardized), threshold {threshold:.3f} (FPR 1 % on its {len(real_fit)} real frames)")
    print(f"{'':36s} {'real':>5s} {'fake':>5s}  network  scale  fusion   TPR    FPR")
    groups = [("variant " + v, lambda f, v=v: f["variant"] == v) for v in sorted({f["variant"] for f in test})]
    groups += [("kind " + k, lambda f, k=k: f["kind"] in (k, "real")) for k in sorted({f["kind"] for f in test} - {"real"})]
    for label, keep in [("all", lambda f: True)] + groups:
        chosen = [f for f in test if keep(f)]
        real = [f for f in chosen if not f["is_fake"]]
        fakes = [f for f in chosen if f["is_fake"]]
        if not real or not fakes:
            continue
        row = [auc([f[key] for f in fakes], [f[key] for f in real]) for key in ("score", "scale_consistency")]
        row.append(auc([fused(f) for f in fakes], [fused(f) for f in real]))
        tpr = sum(fused(f) > threshold for f in fakes) / len(fakes)
        fpr = sum(fused(f) > threshold for f in real) / len(real)
        print(f"{label:36s} {len(real):5d} {len(fakes):5d}  " + "  ".join(text(v) for v in row)
              + f"  {tpr:.3f}  {fpr:.3f}")


if __name__ == "__main__":
    main()
