#!/usr/bin/env python3
"""Frame AUC of one training-free evidence alone, per variant, from an `unmask evaluate --json` file.

usage: Scripts/evidence-auc.py EVALUATION.json [lattice_consistency | grid_consistency | scale_consistency |
                                                 channel_consistency | copy_move_consistency]

Prints, for each variant, the evidence's AUC over every real and fake frame, and over the sources
whose real frame has the evidence (> 0) on original frames: for the lattice, the sources whose last
save was a JPEG. A frame without the evidence scores 0. The copy-move evidence is in the file only
when `unmask evaluate` ran with --copy-move-evidence (or its model weighs it).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    key = sys.argv[2] if len(sys.argv) == 3 else "lattice_consistency"
    with open(sys.argv[1]) as f:
        frames = json.load(f)["frames"]
    value = lambda frame: frame.get(key) or 0.0  # noqa: E731
    with_evidence = {f["source"] for f in frames if f["variant"] == "original" and not f["is_fake"] and value(f) > 0}
    for variant in sorted({f["variant"] for f in frames}):
        rows = [f for f in frames if f["variant"] == variant]
        real = [value(f) for f in rows if not f["is_fake"]]
        fake = [value(f) for f in rows if f["is_fake"]]
        real_there = [value(f) for f in rows if not f["is_fake"] and f["source"] in with_evidence]
        fake_there = [value(f) for f in rows if f["is_fake"] and f["source"] in with_evidence]
        overall, there = auc(fake, real), auc(fake_there, real_there)
        print(f"{variant}: {key} AUC {overall:.3f} ({len(real)} real, {len(fake)} fake, "
              f"{sum(r > 0 for r in real)} real with evidence); on the {len(with_evidence)} sources with it "
              f"on original frames {there:.3f}" if overall is not None and there is not None else
              f"{variant}: too few frames")


if __name__ == "__main__":
    main()
