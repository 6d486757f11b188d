#!/usr/bin/env python3
"""Where a region fake is lost: at its region, or to the rest of the frames.

usage: Scripts/region-decomposition.py J [--by-kind]

J is an `unmask evaluate ... --json J` file whose region fakes carry `region_area_logit`,
`outside_area_logit` and `real_region_area_logit` (the largest 64-pixel area mean of the network over
the areas that overlap the fake's box, over those that do not, and over the box's areas of the real
frame the fake was made from, in the same variant). All scores are the network's area logits, before
the size prior and Platt scaling. Per variant (and per fake kind with --by-kind), over the fakes that
have all three:

- region vs own real: AUC of the fakes' region against the same areas of their real frames. Below
  about 0.9 the network does not see the manipulation where it is.
- region vs real frames: AUC of the fakes' region against every real frame's score (its largest area
  anywhere): what the frame AUC would be if the region always gave the fake frame its score.
- frame: the frame AUC itself (fake frames' scores against real frames').
- region on top: the share of fakes whose region outscores the rest of their own frame.

The drop from the first column to the second is what the real frames' highest areas cost; the first
column is what the network sees at the region at best.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roc_auc import auc  # noqa: E402

VARIANTS = ["original", "jpeg-q90", "h264-crf23", "h264-crf32"]


def network_score(frame):
    return frame.get("area_logit", frame["score"])


def row(label, fakes, real):
    own = auc([f["region_area_logit"] for f in fakes], [f["real_region_area_logit"] for f in fakes])
    anywhere = auc([f["region_area_logit"] for f in fakes], [network_score(f) for f in real])
    frame = auc([network_score(f) for f in fakes], [network_score(f) for f in real])
    on_top = sum(f["region_area_logit"] > f["outside_area_logit"] for f in fakes) / len(fakes)
    cells = [own, anywhere, frame, on_top]
    return f"| {label} | {len(real)} / {len(fakes)} | " + " | ".join(
        "-" if v is None else f"{v:.3f}" for v in cells) + " |"


def main():
    arguments = sys.argv[1:]
    by_kind = "--by-kind" in arguments
    arguments = [a for a in arguments if a != "--by-kind"]
    if len(arguments) != 1:
        sys.exit(__doc__)
    path = arguments[0]
    try:
        with open(path) as f:
            frames = json.load(f)["frames"]
    except (OSError, ValueError, KeyError) as error:
        sys.exit(f"region-decomposition: {path}: cannot read an evaluation ({error})")
    fields = ("region_area_logit", "outside_area_logit", "real_region_area_logit")
    paired = [f for f in frames if f["is_fake"] and all(f.get(k) is not None for k in fields)]
    if not paired:
        sys.exit(f"region-decomposition: {path}: no region fake carries {', '.join(fields)} "
                 "(an evaluation from an older unmask, or no region fakes)")
    print("| variant | real / fake frames | region vs own real | region vs real frames | frame | region on top |")
    print("|---|---|---|---|---|---|")
    variants = [v for v in VARIANTS if any(f["variant"] == v for f in paired)]
    variants += sorted({f["variant"] for f in paired} - set(VARIANTS))
    for variant in variants:
        real = [f for f in frames if not f["is_fake"] and f["variant"] == variant]
        fakes = [f for f in paired if f["variant"] == variant]
        if by_kind:
            for kind in sorted({f["kind"] for f in fakes}):
                print(row(f"{variant}: {kind.split(':', 1)[-1]}", [f for f in fakes if f["kind"] == kind], real))
        else:
            print(row(variant, fakes, real))


if __name__ == "__main__":
    main()
