#!/usr/bin/env python3
"""Prints the leave-one-family-out table (Markdown) from OUT/<group>/evaluation.json files.

usage: Scripts/lofo-table.py [--by-family] OUT GROUP...
One row per held-out group: AUC per variant, then over all variants TPR at the calibrated threshold,
FPR on the evaluation-only real frames and the share of detected fakes whose region has IoU >= 0.3,
then the AUC on original frames of the fakes that changed their region by at least VISIBLE_CHANGE
(mean |fake - real| under the mask, in 0...1; "-" for evaluations that did not record it), and last
the group's AUC over every variant on the training packages' unused files: the test half
(OUT/<group>/validation.json) and both halves (OUT/<group>/validation-both.json; "-" for runs without
them), the figures a recipe may be chosen by.
With --by-family, one row per family of each group instead (the bar asks for every held-out family):
its fakes against every real frame of the variant, TPR and IoU over its own fakes, the group's FPR.
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


def family_rows(result, group):
    """One row per fake family of an evaluation: per-variant AUC, TPR, FPR and IoU rate from its frames."""
    frames, threshold = result["frames"], result["threshold"]
    real = [f for f in frames if not f["is_fake"]]
    fpr = sum(f["probability"] >= threshold for f in real) / len(real) if real else None
    rows = []
    for kind in sorted({f["kind"] for f in frames if f["is_fake"]}):
        fakes = [f for f in frames if f["is_fake"] and f["kind"] == kind]
        aucs = []
        for v in VARIANTS:
            fake_scores = [f["score"] for f in fakes if f["variant"] == v]
            real_scores = [f["score"] for f in real if f["variant"] == v]
            aucs.append(auc(fake_scores, real_scores))
        detected = [f for f in fakes if f["probability"] >= threshold]
        located = [f for f in detected if f.get("region_io_u") is not None]
        iou = sum(f["region_io_u"] >= 0.3 for f in located) / len(located) if located else None
        name = kind.split(":", 1)[-1]
        rows.append([f"{group}: {name}", f"{len(real)} / {len(fakes)}"] + [cell(a) for a in aucs]
                    + [cell(len(detected) / len(fakes)), cell(fpr), cell(iou), cell(threshold)])
    return rows


def cell(value):
    if value is None or isinstance(value, str) or value != value:
        return "-"
    return f"{value:.3f}"


def main():
    arguments = sys.argv[1:]
    by_family = "--by-family" in arguments
    arguments = [a for a in arguments if a != "--by-family"]
    if len(arguments) < 2:
        sys.exit(__doc__)
    out, groups = arguments[0], arguments[1:]
    header = ["held-out group", "real / fake frames"] + [f"AUC {v}" for v in VARIANTS] + [
        "TPR", "FPR", "IoU ≥ 0.3", "threshold"]
    if by_family:
        header[0] = "held-out family"
    else:
        header += [f"AUC original, change ≥ {VISIBLE_CHANGE}", "validation AUC (test half)", "validation AUC (both halves)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for group in groups:
        path = os.path.join(out, group, "evaluation.json")
        if not os.path.exists(path):
            print(f"| {group} | not evaluated yet |" + " |" * (len(header) - 2))
            continue
        with open(path) as f:
            result = json.load(f)
        if by_family:
            for row in family_rows(result, group):
                print("| " + " | ".join(row) + " |")
            continue
        overall, by_variant = result["overall"], result["by_variant"]
        row = [group, f"{overall['real_frames']} / {overall['fake_frames']}"]
        row += [cell(by_variant.get(v, {}).get("auc")) for v in VARIANTS]
        row += [cell(overall["true_positive_rate"]), cell(overall["false_positive_rate"]),
                cell(overall.get("localized_rate")), cell(result["threshold"]), cell(visible_auc(result["frames"])),
                cell(validation_auc(os.path.join(out, group, "validation.json"))),
                cell(validation_auc(os.path.join(out, group, "validation-both.json")))]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
