#!/usr/bin/env python3
"""What the training-free evidences add to the network's frame score, per held-out group of the zoo.

usage: Scripts/evidence-fusion.py FIT.json TEST.json [GROUP ...]

Both are `unmask evaluate ... --json` files made with every zoo family (`--zoo all --zoo-generators
Models/zoo`); each frame records the network's area logit (`area_logit`), its scale-consistency
evidence (`scale_consistency`), its grid-consistency evidence (`grid_consistency`), its
lattice-consistency evidence (`lattice_consistency`) and its channel-consistency evidence
(`channel_consistency`). FIT must come
from training sources only (`--real DEST/real --split calibration`), TEST from the evaluation-only
sources. For each held-out GROUP (default: every group): the fusions are fitted on FIT's real frames
and its fakes of the other groups only, the same way `unmask calibrate` fits them (a logistic
regression on standardized features with the classes weighted equally; an evidence whose weight comes
out negative is dropped and the rest refitted), each threshold set for a 1 % false-positive rate on
FIT's real frames; then they are applied unchanged to TEST's real frames and its fakes of GROUP.
Beside them, the fusion that uses no fakes, as `unmask calibrate --evidence-weights real-frames` makes
it ("real-frames": each score standardized by its mean and standard deviation over FIT's real frames,
an evidence over those where it is > 0 and only when at least 5 are; the frame's score the largest
standardized score, an evidence of 0 not counting; its threshold likewise at FPR 1 %), which cannot
learn from the trained families how much to trust the network, with every evidence and without the
channel evidence ("real-frames, no channel"). Printed: each score's AUC on the fit
frames; then per variant of TEST, AUC of the network, of each
evidence alone and of the fusions, and TPR / FPR of the fusions at their thresholds; last, each
score's AUC on the original frames of the sources whose real frame has lattice evidence, and the
real-frames fusion's there and on the other sources' original frames. Frames without evidence (too
small to compare an area) count as 0, as in the frame score.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402

GROUPS = {
    "classical": ["resample", "denoise", "copy-move", "splice", "jpeg-region"],
    "self-blend": ["self-blend"],
    "upsampling-decoder": ["upsampler-nearest-random", "upsampler-bilinear-random", "upsampler-pixelshuffle-random",
                           "transposed-conv-random"],
    "autoencoder": ["autoencoder-nearest", "autoencoder-bilinear", "autoencoder-pixelshuffle",
                    "autoencoder-transposed-conv"],
    "vae": ["vae-reconstruction", "vae-sample"],
    "adversarial": ["gan-upsampling", "gan-transposed-conv"],
}
EVIDENCE = ("scale_consistency", "grid_consistency", "lattice_consistency", "channel_consistency")
FUSIONS = (("network+scale", ("scale_consistency",)), ("network+grid", ("grid_consistency",)),
           ("network+lattice", ("lattice_consistency",)), ("network+all", EVIDENCE))
REAL_FRAMES = (("real-frames, no channel", EVIDENCE[:3]), ("real-frames", EVIDENCE))


def load(path):
    with open(path) as f:
        return json.load(f)["frames"]


def value(frame, key):
    if key == "network":
        return frame["area_logit"] if frame.get("area_logit") is not None else frame["score"]
    return frame.get(key) or 0.0


def solve(a, b):
    n = len(b)
    m = [row[:] + [rhs] for row, rhs in zip(a, b)]
    for i in range(n):
        pivot = max(range(i, n), key=lambda r: abs(m[r][i]))
        m[i], m[pivot] = m[pivot], m[i]
        for r in range(n):
            if r != i:
                factor = m[r][i] / m[i][i]
                m[r] = [x - factor * y for x, y in zip(m[r], m[i])]
    return [m[i][n] / m[i][i] for i in range(n)]


def fit_fusion(frames, keys):
    """Weights (in the features' own units) of network and evidence, and the bias, as
    FrameEvaluation.fitEvidenceFusion: evidence with a non-positive weight is dropped and the rest refitted."""
    keys = list(keys)
    while True:
        features = ["network"] + keys
        rows = [[value(f, k) for k in features] for f in frames]
        labels = [1.0 if f["is_fake"] else 0.0 for f in frames]
        n = len(features)
        mean = [sum(r[k] for r in rows) / len(rows) for k in range(n)]
        sd = [math.sqrt(sum((r[k] - mean[k]) ** 2 for r in rows) / len(rows)) or 1.0 for k in range(n)]
        x = [[(r[k] - mean[k]) / sd[k] for k in range(n)] + [1.0] for r in rows]
        positives = sum(labels)
        negatives = len(labels) - positives
        target = {1.0: (positives + 1) / (positives + 2), 0.0: 1 / (negatives + 2)}
        weight = {1.0: 0.5 * len(labels) / positives, 0.0: 0.5 * len(labels) / negatives}
        w = [0.0] * (n + 1)
        for _ in range(50):
            grad = [0.0] * (n + 1)
            hess = [[1e-9 if i == j else 0.0 for j in range(n + 1)] for i in range(n + 1)]
            for v, y in zip(x, labels):
                z = sum(a * b for a, b in zip(w, v))
                p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
                c = weight[y] * max(p * (1 - p), 1e-12)
                for i in range(n + 1):
                    grad[i] += weight[y] * (p - target[y]) * v[i]
                    for j in range(n + 1):
                        hess[i][j] += c * v[i] * v[j]
            step = solve(hess, grad)
            w = [a - b for a, b in zip(w, step)]
            if sum(abs(s) for s in step) < 1e-9:
                break
        unscaled = [w[k] / sd[k] for k in range(n)]
        bias = w[n] - sum(unscaled[k] * mean[k] for k in range(n))
        if unscaled[0] <= 0:
            return {"network": 1.0}, 0.0  # the network alone (its Platt scaling does not change the ranking)
        worst = min(range(1, n), key=lambda k: unscaled[k], default=None)
        if worst is not None and unscaled[worst] <= 0:
            keys.remove(features[worst])
            continue
        return dict(zip(features, unscaled)), bias


def moments(values):
    """Mean and population standard deviation; None when constant (FrameEvaluation.moments)."""
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return (mean, sd) if sd > 1e-9 * max(1.0, abs(mean)) else None


def fit_real_frames(frames, keys=EVIDENCE):
    """Moments of the network's and each of `keys`' score over the real frames, as FrameEvaluation.fitRealFrameFusion: the network's over
    all, an evidence's over those where it is > 0 (at least 5); None when it falls back to the network alone."""
    real = [f for f in frames if not f["is_fake"]]
    network = moments([value(f, "network") for f in real])
    if network is None:
        return None
    standardization = {"network": network}
    for k in keys:
        applying = [value(f, k) for f in real if value(f, k) > 0]
        m = moments(applying) if len(applying) >= 5 else None
        if m:
            standardization[k] = m
    return standardization if len(standardization) > 1 else None


def fused(frame, fusion):
    if isinstance(fusion, dict):  # standardized on real frames: the largest standardized score
        return max((value(frame, k) - m) / sd for k, (m, sd) in fusion.items()
                   if k == "network" or value(frame, k) > 0)
    weights, bias = fusion
    return sum(w * value(frame, k) for k, w in weights.items()) + bias


def text(v):
    return "  -  " if v is None else f"{v:.3f}"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    fit_all, test_all = load(sys.argv[1]), load(sys.argv[2])
    groups = sys.argv[3:] or list(GROUPS)
    for group in groups:
        held = {"zoo:" + f for f in GROUPS[group]}
        fit = [f for f in fit_all if not f["is_fake"] or (f["kind"].startswith("zoo:") and f["kind"] not in held)]
        test = [f for f in test_all if not f["is_fake"] or f["kind"] in held]
        if not any(f["is_fake"] for f in test):
            print(f"{group}: no fakes of this group in {sys.argv[2]}")
            continue
        fusions = []
        fit_real = [f for f in fit if not f["is_fake"]]
        for name, keys in FUSIONS + REAL_FRAMES:
            fusion = (fit_real_frames(fit, keys) or ({"network": 1.0}, 0.0)) if name.startswith("real-frames") \
                else fit_fusion(fit, keys)
            real_fit = sorted(fused(f, fusion) for f in fit if not f["is_fake"])
            threshold = real_fit[min(len(real_fit) - 1, math.floor(0.99 * len(real_fit)))]
            fusions.append((name, fusion, threshold))
        print(f"\nheld out: {group} ({len(fit)} fit frames, {len(test)} test frames)")
        fit_fake = [f for f in fit if f["is_fake"]]
        print("  AUC on the fit frames (families trained on): " + ", ".join(
            f"{k} {text(auc([value(f, k) for f in fit_fake], [value(f, k) for f in fit_real]))}"
            for k in ("network",) + EVIDENCE))
        for name, fusion, threshold in fusions:
            if isinstance(fusion, dict):
                print(f"  {name}: " + ", ".join(f"{k} mean {m:+.3f} sd {sd:.3f}" for k, (m, sd) in fusion.items())
                      + f", threshold {threshold:.3f}")
                continue
            weights, bias = fusion
            print(f"  {name}: " + " ".join(f"{k} {w:+.3f}" for k, w in weights.items()) + f", bias {bias:+.3f}, "
                  f"threshold {threshold:.3f}")
        header = "  ".join(f"{n:>18s}" for n, _, _ in fusions)
        print(f"  {'variant':12s} {'real':>4s} {'fake':>4s}  network   scale    grid lattice channel  {header}")
        for variant in sorted({f["variant"] for f in test}) + ["all"]:
            chosen = [f for f in test if variant in ("all", f["variant"])]
            real = [f for f in chosen if not f["is_fake"]]
            fakes = [f for f in chosen if f["is_fake"]]
            row = [auc([value(f, k) for f in fakes], [value(f, k) for f in real]) for k in ("network",) + EVIDENCE]
            cells = []
            for _, fusion, threshold in fusions:
                a = auc([fused(f, fusion) for f in fakes], [fused(f, fusion) for f in real])
                tpr = sum(fused(f, fusion) > threshold for f in fakes) / len(fakes)
                fpr = sum(fused(f, fusion) > threshold for f in real) / len(real)
                cells.append(f"{text(a)} {tpr:.2f}/{fpr:.2f}")
            print(f"  {variant:12s} {len(real):4d} {len(fakes):4d}  " + "  ".join(f"{text(v):>6s}" for v in row)
                  + "  " + "  ".join(f"{c:>18s}" for c in cells))
        # The lattice evidence is 0 on frames whose last compression left no JPEG lattice (never JPEG, a
        # JPEG at quality ≳ 95, a video): each score's AUC where the real frame has one, and the
        # real-frames fusion's where it has one and where it has none.
        original = [f for f in test if f["variant"] == "original"]
        latticed = {f["source"] for f in original if not f["is_fake"] and value(f, "lattice_consistency") > 0}
        sources = {f["source"] for f in original}
        real_frames = fusions[-1][1]

        def split_auc(chosen, score):
            return auc([score(f) for f in chosen if f["is_fake"]], [score(f) for f in chosen if not f["is_fake"]])
        if latticed:
            chosen = [f for f in original if f["source"] in latticed]
            row = [split_auc(chosen, lambda f, k=k: value(f, k)) for k in ("network",) + EVIDENCE]
            print(f"  original frames of the {len(latticed)} of {len(sources)} sources whose real frame has lattice "
                  "evidence: " + ", ".join(f"{k} {text(v)}" for k, v in zip(("network",) + EVIDENCE, row))
                  + f", real-frames {text(split_auc(chosen, lambda f: fused(f, real_frames)))}")
        if sources - latticed:
            chosen = [f for f in original if f["source"] not in latticed]
            print(f"  original frames of the {len(sources - latticed)} without: real-frames "
                  f"{text(split_auc(chosen, lambda f: fused(f, real_frames)))}")


if __name__ == "__main__":
    main()
