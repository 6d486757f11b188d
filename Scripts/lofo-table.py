#!/usr/bin/env python3
"""Prints the leave-one-family-out table (Markdown) from OUT/<group>/evaluation.json files.

usage: Scripts/lofo-table.py OUT GROUP...
One row per held-out group: AUC per variant, then over all variants TPR at the calibrated threshold,
FPR on the evaluation-only real frames and the share of detected fakes whose region has IoU >= 0.3,
then the AUC on original frames of the fakes that changed their region by at least VISIBLE_CHANGE
(mean |fake - real| under the mask, in 0...1; "-" for evaluations that did not record it), and last
the group's AUC over every variant on the training packages' unused files (OUT/<group>/validation.json;
"-" for runs without it), the figure a recipe may be chosen by.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402

VARIANTS = ["original", "jpeg-q90", "h264-crf23", "h264-crf32"]
# 5/255: fakes that change their region less than this score at chance with every detector measured
# (Docs/generalization.md, "Which fakes are missed").
VISIBLE_CHANGE = 0.02


def visible_auc(frames):
    original = [f for f in frames if f["variant"] == "original"]
    fakes = [f for f in original if f["is_fake"]]
    if not fakes or any(f.get("region_statistics") is None for f in fakes):
        return None
    visible = [f["score"] for f in fakes if f["region_statistics"]["change"] >= VISIBLE_CHANGE]
    return auc(visible, [f["score"] for f in original if not f["is_fake"]])


def validation_auc(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)["overall"]["auc"]


def cell(value):
    if value is None or isinstance(value, str) or value != value:
        return "-"
    return f"{value:.3f}"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, groups = sys.argv[1], sys.argv[2:]
    header = ["held-out group", "real / fake frames"] + [f"AUC {v}" for v in VARIANTS] + [
        "TPR", "FPR", "IoU ≥ 0.3", "threshold", f"AUC original, change ≥ {VISIBLE_CHANGE}", "validation AUC"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for group in groups:
        path = os.path.join(out, group, "evaluation.json")
        if not os.path.exists(path):
            print(f"| {group} | not evaluated yet |" + " |" * (len(header) - 2))
            continue
        with open(path) as f:
            result = json.load(f)
        overall, by_variant = result["overall"], result["by_variant"]
        row = [group, f"{overall['real_frames']} / {overall['fake_frames']}"]
        row += [cell(by_variant.get(v, {}).get("auc")) for v in VARIANTS]
        row += [cell(overall["true_positive_rate"]), cell(overall["false_positive_rate"]),
                cell(overall.get("localized_rate")), cell(result["threshold"]), cell(visible_auc(result["frames"])),
                cell(validation_auc(os.path.join(out, group, "validation.json")))]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
