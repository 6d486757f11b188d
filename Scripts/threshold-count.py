#!/usr/bin/env python3
"""How far a calibrated threshold holds, and how that depends on the count of real frames it was set on.

    python3 Scripts/threshold-count.py OUT/G [OUT/G ...]

Each OUT/G is a folder of Scripts/lofo.sh (calibration.json, validation.json, evaluation.json). The
threshold `unmask calibrate --fpr 0.01` sets on n real frames per variant lies just above their
largest (⌊0.01·n⌋ = 0 may reach it for n < 100); for exchangeable frames the share of new real frames
above the largest of n is 1/(n + 1) on average, 4.5 % for n = 21. Per run this prints, at thresholds
set from the calibration split's real frames (CAL) or from those and the validation split's (CAL+VAL,
the held-out training-package files that `evaluate --split test` reads):
  - the FPR on the validation split's real frames of a threshold set on CAL alone (a check that needs
    no evaluation-only source);
  - the FPR on the evaluation-only packages' real frames, and the TPR on their held-out-group fakes,
    for the largest real frame (the built rule, with its floor of 0.5) and for mean + 3 standard
    deviations of the real frames' logits.
The rule to use is read from the validation columns; the evaluation columns show whether it held.
"""
import json
import math
import statistics
import sys


def load(path):
    with open(path) as f:
        return json.load(f)["frames"]


def logit(p):
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def real_logits(frames):
    return [logit(f["probability"]) for f in frames if not f["is_fake"]]


def above(values, threshold):
    return sum(v >= threshold for v in values) / len(values) if values else float("nan")


def rules(real):
    """Thresholds in logit units: the largest real frame (floor at probability 0.5) and mean + 3 sd."""
    m, s = statistics.mean(real), statistics.stdev(real)
    return {"largest": math.nextafter(max(0.0, max(real)), math.inf), "mean+3sd": max(0.0, m + 3 * s)}


def main(folders):
    if not folders:
        print(__doc__.strip(), file=sys.stderr)
        return 64
    print("| run | real frames CAL / VAL / EVAL | CAL → VAL FPR: largest, mean+3sd | "
          "CAL → EVAL FPR / TPR: largest, mean+3sd | CAL+VAL → EVAL FPR / TPR: largest, mean+3sd |")
    print("|---|---|---|---|---|")
    sums = {}
    for folder in folders:
        cal, val, ev = (load(f"{folder}/{name}.json") for name in ("calibration", "validation", "evaluation"))
        cr, vr, er = real_logits(cal), real_logits(val), real_logits(ev)
        ef = [logit(f["probability"]) for f in ev if f["is_fake"]]
        cells = []
        one = rules(cr)
        both = rules(cr + vr)
        to_val = [above(vr, t) for t in one.values()]
        to_eval = [(above(er, t), above(ef, t)) for t in one.values()]
        pooled = [(above(er, t), above(ef, t)) for t in both.values()]
        for key, values in (("val", to_val), ("eval", [x for x, _ in to_eval]), ("pooled", [x for x, _ in pooled])):
            for name, v in zip(one, values):
                sums.setdefault((key, name), []).append(v)
        cells.append(", ".join(f"{v:.3f}" for v in to_val))
        cells.append(", ".join(f"{x:.3f} / {y:.2f}" for x, y in to_eval))
        cells.append(", ".join(f"{x:.3f} / {y:.2f}" for x, y in pooled))
        print(f"| {folder} | {len(cr)} / {len(vr)} / {len(er)} | " + " | ".join(cells) + " |")
    print()
    for (key, name), values in sums.items():
        over = sum(v > 0.01 for v in values)
        print(f"{key:6s} {name:9s} FPR mean {statistics.mean(values):.3f}, median {statistics.median(values):.3f}, "
              f"largest {max(values):.3f}; over 1 % in {over} of {len(values)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
