#!/usr/bin/env python3
"""Paired comparison of two `unmask evaluate --json` results on the same frames.

    Scripts/compare-evaluations.py A.json B.json [--boots 2000] [--seed 1]

Two recipes' validation.json files (the held-out group on the training packages' test half) hold the
same frames: the same source files, the same fakes of each (the zoo draws them from a seed per frame)
and the same variants. Their AUCs then differ by the recipes plus the noise of which files happened
to be in the set; with 14 real files that noise is several hundredths. This prints each AUC, the
difference B − A, and a 95 % interval of the difference from a paired bootstrap over source files
(a drawn file brings all its frames, real and fake, in every variant, scored by both models), so a
recipe is called better only when the interval excludes 0. Frames are matched by (source, kind,
variant); files whose frames do not all match are refused.
"""

import argparse
import json
import random
import sys
from collections import defaultdict

from roc_auc import auc


def load(path):
    try:
        with open(path) as f:
            frames = json.load(f)["frames"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        sys.exit(f"compare-evaluations: {path}: not an `unmask evaluate --json` result ({error})")
    scored = {}
    for frame in frames:
        key = (frame["source"], frame["kind"], frame["variant"])
        if key in scored:
            sys.exit(f"compare-evaluations: {path}: frame {key} appears twice")
        scored[key] = (frame["is_fake"], frame["score"])
    return scored


def pooled_auc(by_file, files, model):
    """AUC over the frames of `files` (a file may be drawn more than once), model 0 or 1."""
    positives, negatives = [], []
    for name in files:
        for is_fake, scores in by_file[name]:
            (positives if is_fake else negatives).append(scores[model])
    return auc(positives, negatives)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--boots", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    a, b = load(args.a), load(args.b)
    if set(a) != set(b):
        only_a, only_b = len(set(a) - set(b)), len(set(b) - set(a))
        sys.exit(f"compare-evaluations: the two results hold different frames ({only_a} only in A, {only_b} only in B)")
    by_file = defaultdict(list)
    for key, (is_fake, score_a) in a.items():
        is_fake_b, score_b = b[key]
        if is_fake != is_fake_b:
            sys.exit(f"compare-evaluations: frame {key} is fake in one result and real in the other")
        by_file[key[0]].append((is_fake, (score_a, score_b)))
    files = sorted(by_file)
    auc_a, auc_b = pooled_auc(by_file, files, 0), pooled_auc(by_file, files, 1)
    if auc_a is None or auc_b is None:
        sys.exit("compare-evaluations: the results need both real and fake frames")
    rng = random.Random(args.seed)
    differences = []
    for _ in range(args.boots):
        drawn = [rng.choice(files) for _ in files]
        da, db = pooled_auc(by_file, drawn, 0), pooled_auc(by_file, drawn, 1)
        if da is not None and db is not None:
            differences.append(db - da)
    differences.sort()
    low = differences[int(0.025 * (len(differences) - 1))]
    high = differences[int(0.975 * (len(differences) - 1))]
    reals = sum(1 for entries in by_file.values() for is_fake, _ in entries if not is_fake)
    print(f"{len(files)} source files, {reals} real and {len(a) - reals} fake frames, {len(differences)} bootstrap draws")
    print(f"A  {auc_a:.3f}  {args.a}")
    print(f"B  {auc_b:.3f}  {args.b}")
    verdict = "B better" if low > 0 else "A better" if high < 0 else "no difference shown"
    print(f"B − A  {auc_b - auc_a:+.3f}  95 % interval [{low:+.3f}, {high:+.3f}]: {verdict}")


if __name__ == "__main__":
    main()
