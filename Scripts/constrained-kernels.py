#!/usr/bin/env python3
"""How far a trained constrained high-pass moved from the kernels it started as.

usage: Scripts/constrained-kernels.py START TRAINED

START and TRAINED are detector models with `--residual-inputs …constrained`: START as it began
(`unmask bench untrained-model --residual-inputs npr,constrained --out START` holds SRM's kernels),
TRAINED after training. Each file's `constrained.weight` v (3 × 25) gives kernel k = n_k·u/‖u‖ with
u = v_k − mean(v_k), n_k the norm of START's kernel k (ConstrainedHighPass in
Sources/NeuralNet/Layers/Residuals.swift). Prints, per kernel, the cosine between the two kernels,
the largest change of a single tap and START's largest tap, both at START's norm.
Reads the safetensors layout directly (an 8-byte header length, a JSON header, raw data), so it
needs no Python packages.
"""
import json
import math
import struct
import sys

KERNELS, TAPS = 3, 25


def constrained_weight(path):
    try:
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            if length > 100_000_000:
                raise ValueError(f"header of {length} bytes")
            header = json.loads(f.read(length))
            entry = header["constrained.weight"]
            if entry["dtype"] != "F32" or entry["shape"] != [KERNELS, TAPS]:
                raise ValueError(f"constrained.weight is {entry['dtype']} {entry['shape']}, not F32 [3, 25]")
            start, end = entry["data_offsets"]
            f.seek(8 + length + start)
            raw = f.read(end - start)
        if len(raw) != 4 * KERNELS * TAPS:
            raise ValueError("constrained.weight is cut short")
    except (OSError, ValueError, KeyError, TypeError, struct.error) as error:
        sys.exit(f"constrained-kernels: {path}: not a model with a constrained high-pass ({error})")
    values = struct.unpack(f"<{KERNELS * TAPS}f", raw)
    return [list(values[k * TAPS:(k + 1) * TAPS]) for k in range(KERNELS)]


def centred(row):
    mean = sum(row) / len(row)
    return [x - mean for x in row]


def unit(row):
    u = centred(row)
    norm = math.sqrt(sum(x * x for x in u))
    return [x / norm for x in u] if norm > 0 else u


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2])
    start, trained = constrained_weight(sys.argv[1]), constrained_weight(sys.argv[2])
    for k in range(KERNELS):
        norm = math.sqrt(sum(x * x for x in centred(start[k])))
        a, b = unit(start[k]), unit(trained[k])
        cosine = sum(x * y for x, y in zip(a, b))
        moved = max(abs(x - y) for x, y in zip(a, b)) * norm
        largest = max(abs(x) for x in a) * norm
        print(f"kernel {k}: cosine {cosine:.3f}, largest tap change {moved:.3f} (largest tap {largest:.3f})")


if __name__ == "__main__":
    main()
