#!/usr/bin/env python3
"""Breaks an evaluation's AUC down by what the fakes did and where they are.

usage: Scripts/evaluation-breakdown.py J [J...]
J are `unmask evaluate ... --json J` files (their frames pooled). For each variant: AUC of every
fake against every real frame; then by the fake's mean change in its region and by the texture it
replaced (`region_statistics`, zoo fakes), with the share of those fakes scoring above every real
frame; by the larger side of the manipulated region's box against every real frame; by frame size
(real and fake frames of the same size class compared); and with the frame score taken over square
areas of other sides (`area_logit_maxima`; 64 px is the frame score itself); and each region fake
against the real frame it was made from (the only real frame of its file and variant): the share
that scores higher, the same (the region never outscored the frame's most suspicious real area) or
lower (the region replaced that area with something less suspicious). Sections whose fields an
evaluation did not record are left out.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402

BINS = [0, 0.005, 0.01, 0.02, 0.04, 0.08, float("inf")]
MEGAPIXEL_CLASSES = [(0, 1, "under 1 MP"), (1, float("inf"), "1 MP and over")]
AREA_SIDES = ["16", "32", "64", "96", "128", "192", "256"]
REGION_SIDES = [0, 64, 128, 192, 256, float("inf")]


def text(value):
    return "-" if value is None else f"{value:.3f}"


def by_statistic(fakes, real_scores, key, label):
    if not fakes or any(f.get("region_statistics") is None for f in fakes):
        return
    top = max(real_scores)
    print(f"  by {label}")
    for low, high in zip(BINS[:-1], BINS[1:]):
        chosen = [f["score"] for f in fakes if low <= f["region_statistics"][key] < high]
        if chosen:
            above = sum(s > top for s in chosen) / len(chosen)
            print(f"    [{low:.3f}, {high:.3f})  fakes {len(chosen):4d}  AUC {text(auc(chosen, real_scores))}"
                  f"  above every real frame {above:.2f}")


def by_region_side(fakes, real_scores):
    if not fakes or any(f.get("manipulated_width") is None for f in fakes):
        return
    print("  by the larger side of the manipulated region's box (pixels)")
    for low, high in zip(REGION_SIDES[:-1], REGION_SIDES[1:]):
        chosen = [f["score"] for f in fakes
                  if low <= max(f["manipulated_width"], f["manipulated_height"]) < high]
        if chosen:
            print(f"    [{low}, {high})  fakes {len(chosen):4d}  AUC {text(auc(chosen, real_scores))}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    frames = []
    for path in sys.argv[1:]:
        with open(path) as f:
            frames += json.load(f)["frames"]
    for variant in sorted({f["variant"] for f in frames}):
        chosen = [f for f in frames if f["variant"] == variant]
        real = [f for f in chosen if not f["is_fake"]]
        fakes = [f for f in chosen if f["is_fake"]]
        real_scores = [f["score"] for f in real]
        print(f"{variant}: {len(real)} real, {len(fakes)} fake, AUC {text(auc([f['score'] for f in fakes], real_scores))}")
        if not real or not fakes:
            continue
        by_statistic(fakes, real_scores, "change", "mean |fake - real| in the region")
        by_statistic(fakes, real_scores, "texture", "the real region's texture energy")
        by_region_side(fakes, real_scores)
        print("  by frame size (same-size real and fake frames)")
        for low, high, label in MEGAPIXEL_CLASSES:
            def inside(f):
                return low <= f["width"] * f["height"] / 1e6 < high
            r = [f["score"] for f in real if inside(f)]
            k = [f["score"] for f in fakes if inside(f)]
            print(f"    {label:14s} real {len(r):4d}  fake {len(k):4d}  AUC {text(auc(k, r))}")
        if all(f.get("area_logit_maxima") for f in chosen):
            def area(f, side):
                return f["score"] if side == "64" else f["area_logit_maxima"][side]
            print("  by the side of the area the frame score is taken over (pixels)")
            print("    " + "  ".join(
                f"{side}: {text(auc([area(f, side) for f in fakes], [area(f, side) for f in real]))}"
                for side in AREA_SIDES))
        against_partner(real, fakes)


def against_partner(real, fakes):
    partners = {}
    for f in real:
        key = f["source"]
        partners[key] = None if key in partners else f
    print("  against its own real frame (higher / same / lower)")
    for low, high, label in MEGAPIXEL_CLASSES:
        counts = [0, 0, 0]
        for f in fakes:
            partner = partners.get(f["source"])
            if partner is None or not low <= f["width"] * f["height"] / 1e6 < high:
                continue
            difference = f["score"] - partner["score"]
            counts[0 if difference > 1e-6 else 2 if difference < -1e-6 else 1] += 1
        n = sum(counts)
        if n:
            print(f"    {label:14s} fakes {n:4d}  " + " / ".join(f"{c / n:.2f}" for c in counts))


if __name__ == "__main__":
    main()
