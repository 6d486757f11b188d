#!/usr/bin/env python3
"""Paired comparison of two `unmask evaluate --json` results on the same frames.

    Scripts/compare-evaluations.py A.json B.json [A2.json B2.json …] [--boots 2000] [--seed 1]

Two recipes' validation.json files (the held-out group on the training packages' test half) hold the
same frames: the same source files, the same fakes of each (the zoo draws them from a seed per frame)
and the same variants. Their AUCs then differ by the recipes plus the noise of which files happened
to be in the set; with 14 real files that noise is several hundredths. This prints each AUC, the
difference B − A, and a 95 % interval of the difference from a paired bootstrap over source files
(a drawn file brings all its frames, real and fake, in every variant, scored by both models), so a
recipe is called better only when the interval excludes 0. Frames are matched by (source, kind,
variant); files whose frames do not all match are refused.

More pairs (A2 B2, …: the same two recipes trained with other seeds, evaluated on the same frames)
give the mean difference over the pairs, bootstrapped over the same draws of files for every pair:
whether a recipe is better over seeds, with the file noise counted once.
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


def paired_by_file(path_a, path_b, a, b):
    """The frames of two results by source file: (is_fake, (score in A, score in B)) each."""
    if set(a) != set(b):
        only_a, only_b = len(set(a) - set(b)), len(set(b) - set(a))
        sys.exit(f"compare-evaluations: {path_a} and {path_b} hold different frames ({only_a} only in A, "
                 f"{only_b} only in B)")
    by_file = defaultdict(list)
    for key, (is_fake, score_a) in a.items():
        is_fake_b, score_b = b[key]
        if is_fake != is_fake_b:
            sys.exit(f"compare-evaluations: frame {key} is fake in one result and real in the other")
        by_file[key[0]].append((is_fake, (score_a, score_b)))
    return by_file


def mean_difference(pairs, files):
    """The mean over pairs of AUC(B) − AUC(A) on `files`; None when a pair lacks a class."""
    total = 0.0
    for by_file in pairs:
        da, db = pooled_auc(by_file, files, 0), pooled_auc(by_file, files, 1)
        if da is None or db is None:
            return None
        total += db - da
    return total / len(pairs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", metavar="A.json B.json")
    parser.add_argument("--boots", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if len(args.results) % 2:
        sys.exit("compare-evaluations: results come in pairs, A.json B.json [A2.json B2.json …]")
    paths = list(zip(args.results[0::2], args.results[1::2]))
    loaded = [(load(pa), load(pb)) for pa, pb in paths]
    pairs = [paired_by_file(pa, pb, a, b) for (pa, pb), (a, b) in zip(paths, loaded)]
    files = sorted(pairs[0])
    if any(sorted(p) != files for p in pairs[1:]):
        sys.exit("compare-evaluations: the pairs hold frames of different source files")
    aucs = [(pooled_auc(p, files, 0), pooled_auc(p, files, 1)) for p in pairs]
    if any(x is None for pair in aucs for x in pair):
        sys.exit("compare-evaluations: the results need both real and fake frames")
    rng = random.Random(args.seed)
    differences = []
    for _ in range(args.boots):
        drawn = [rng.choice(files) for _ in files]
        d = mean_difference(pairs, drawn)
        if d is not None:
            differences.append(d)
    differences.sort()
    low = differences[int(0.025 * (len(differences) - 1))]
    high = differences[int(0.975 * (len(differences) - 1))]
    first = pairs[0]
    reals = sum(1 for entries in first.values() for is_fake, _ in entries if not is_fake)
    frames = sum(len(entries) for entries in first.values())
    print(f"{len(files)} source files, {reals} real and {frames - reals} fake frames, {len(differences)} bootstrap draws")
    for i, ((pa, pb), (auc_a, auc_b)) in enumerate(zip(paths, aucs)):
        suffix = str(i + 1) if len(paths) > 1 else ""
        print(f"A{suffix}  {auc_a:.3f}  {pa}")
        print(f"B{suffix}  {auc_b:.3f}  {pb}")
    mean = sum(auc_b - auc_a for auc_a, auc_b in aucs) / len(aucs)
    verdict = "B better" if low > 0 else "A better" if high < 0 else "no difference shown"
    label = "B − A" if len(paths) == 1 else f"B − A, mean of {len(paths)} pairs"
    print(f"{label}  {mean:+.3f}  95 % interval [{low:+.3f}, {high:+.3f}]: {verdict}")


if __name__ == "__main__":
    main()
