#!/usr/bin/env python3
"""Prints the leave-one-family-out table (Markdown) from OUT/<group>/evaluation.json files.

usage: Scripts/lofo-table.py OUT GROUP...
One row per held-out group: AUC per variant, then over all variants TPR at the calibrated threshold,
FPR on the evaluation-only real frames and the share of detected fakes whose region has IoU >= 0.3.
"""
import json
import os
import sys

VARIANTS = ["original", "jpeg-q90", "h264-crf23", "h264-crf32"]


def cell(value):
    if value is None or isinstance(value, str) or value != value:
        return "-"
    return f"{value:.3f}"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, groups = sys.argv[1], sys.argv[2:]
    header = ["held-out group", "real / fake frames"] + [f"AUC {v}" for v in VARIANTS] + [
        "TPR", "FPR", "IoU ≥ 0.3", "threshold"]
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
                cell(overall.get("localized_rate")), cell(result["threshold"])]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
