#!/usr/bin/env python3
"""Other ways to fuse the network with the training-free evidence, beside the real-frames rule.

usage: Scripts/fusion-rules.py OUT GROUP [GROUP ...]

OUT is a Scripts/lofo.sh output folder: for each GROUP it reads OUT/GROUP/calibration.json (FIT:
training packages, the families trained on) and OUT/GROUP/validation.json and evaluation.json (the
held-out group on the training packages' unused files and on the evaluation-only packages). Every
rule is fitted on FIT's real frames only, as `unmask calibrate --evidence-weights real-frames` is
(Scripts/evidence-fusion.py, "real-frames, no channel": scale, grid and lattice evidence), and uses
no fakes except the last, which uses FIT's fakes of the trained families:
- network: the network's area logit alone;
- largest z: the largest standardized score (the rule `unmask calibrate` builds);
- network z x1.5: the same with the network's standardized score weighted 1.5;
- sum z: the sum of the standardized scores of the evidences that apply;
- tail: the largest -ln(share of FIT's real frames at or above the score), each score's normal tail
  beyond the sample, so a heavy-tailed score counts less than its standard deviation says;
- by medium: the largest z over the evidences whose AUC on FIT's frames of the same medium (video:
  H.264 variants and video sources; image: the rest) is at least 0.6, the network alone where none is.
Printed: per group and file, AUC on original frames / all variants per rule; then the mean over the
groups.
"""
import bisect
import importlib.util
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from roc_auc import auc  # noqa: E402

spec = importlib.util.spec_from_file_location("evidence_fusion", os.path.join(here, "evidence-fusion.py"))
fusion = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fusion)

KEYS = fusion.EVIDENCE[:3]
VIDEO = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".ogv", ".m4v", ".mpg", ".mpeg")
VARIANTS = ("original", "all")
RULES = ("network", "largest z", "network z x1.5", "sum z", "tail", "by medium")


def medium(frame):
    return "video" if frame["variant"].startswith("h264") or frame["source"].lower().endswith(VIDEO) else "image"


def present(frame, moments):
    """(key, standardized score) of the network and of each evidence that applies to the frame."""
    return [(k, (fusion.value(frame, k) - m) / sd) for k, (m, sd) in moments.items()
            if k == "network" or fusion.value(frame, k) > 0]


def tail(frame, moments, sorted_real):
    best = -math.inf
    for k, z in present(frame, moments):
        values = sorted_real[k]
        above = len(values) - bisect.bisect_left(values, fusion.value(frame, k))
        share = (above + 0.5) / (len(values) + 1) if above else min(0.5 * math.erfc(z / math.sqrt(2)),
                                                                     0.5 / (len(values) + 1))
        best = max(best, -math.log(max(share, 1e-300)))
    return best


def rules_for(fit):
    moments = fusion.fit_real_frames(fit, KEYS)
    real = [f for f in fit if not f["is_fake"]]
    sorted_real = {k: sorted(fusion.value(f, k) for f in real if k == "network" or fusion.value(f, k) > 0)
                   for k in moments}
    by_medium = {}
    for kind in ("image", "video"):
        chosen = [f for f in fit if medium(f) == kind]
        kept = {"network"} | {k for k in KEYS if k in moments and (auc(
            [fusion.value(f, k) for f in chosen if f["is_fake"]],
            [fusion.value(f, k) for f in chosen if not f["is_fake"]]) or 0) >= 0.6}
        by_medium[kind] = {k: v for k, v in moments.items() if k in kept}
    return {
        "network": lambda f: fusion.value(f, "network"),
        "largest z": lambda f: fusion.fused(f, moments),
        "network z x1.5": lambda f: max(z * (1.5 if k == "network" else 1.0) for k, z in present(f, moments)),
        "sum z": lambda f: sum(z for _, z in present(f, moments)),
        "tail": lambda f: tail(f, moments, sorted_real),
        "by medium": lambda f: fusion.fused(f, by_medium[medium(f)]),
    }


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, groups = sys.argv[1], sys.argv[2:]
    totals = {}
    for group in groups:
        held = {"zoo:" + f for f in fusion.GROUPS[group]}
        fit = [f for f in fusion.load(os.path.join(out, group, "calibration.json"))
               if not f["is_fake"] or (f["kind"].startswith("zoo:") and f["kind"] not in held)]
        rules = rules_for(fit)
        for name in ("validation", "evaluation"):
            frames = [f for f in fusion.load(os.path.join(out, group, name + ".json"))
                      if not f["is_fake"] or f["kind"] in held]
            cells = []
            for rule in RULES:
                scored = [(f, rules[rule](f)) for f in frames]
                pair = []
                for variant in VARIANTS:
                    chosen = [(f, x) for f, x in scored if variant in ("all", f["variant"])]
                    a = auc([x for f, x in chosen if f["is_fake"]], [x for f, x in chosen if not f["is_fake"]])
                    totals.setdefault((name, rule, variant), []).append(a)
                    pair.append(f"{a:.3f}")
                cells.append(f"{rule} " + "/".join(pair))
            print(f"{group:18s} {name:10s}  " + "  ".join(cells))
    for name in ("validation", "evaluation"):
        cells = []
        for rule in RULES:
            cells.append(f"{rule} " + "/".join(f"{sum(totals[(name, rule, v)]) / len(groups):.3f}" for v in VARIANTS))
        print(f"{'mean':18s} {name:10s}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
