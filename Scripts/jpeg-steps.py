#!/usr/bin/env python3
"""How finely the JPEGs under each folder were last quantized: per file the mean of the luma table's
first five AC steps (zig-zag order, from the DQT segment), then their median and quartiles.

usage: Scripts/jpeg-steps.py FOLDER...   (e.g. DEST/real DEST/eval-real)

libjpeg's quality 75 gives 6.0 (steps 6, 6, 7, 6, 5), quality 90 gives 2.2 (2, 2, 3, 2, 2), quality 95 gives 1.0.
"""
import glob
import os
import statistics
import sys


def luma_table(path):
    """The 8-bit luma quantization table (id 0) in zig-zag order, or None."""
    with open(path, "rb") as f:
        data = f.read()
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF and data[i + 1] != 0xDA:
        length = data[i + 2] << 8 | data[i + 3]
        if data[i + 1] == 0xDB:
            j = i + 4
            while j + 65 <= i + 2 + length:
                if data[j] == 0:  # 8-bit precision, table 0
                    return list(data[j + 1:j + 65])
                j += 65 if data[j] >> 4 == 0 else 129
        i += 2 + length
    return None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for folder in sys.argv[1:]:
        steps = []
        for path in glob.glob(os.path.join(folder, "**", "*"), recursive=True):
            if path.lower().endswith((".jpg", ".jpeg")) and os.path.isfile(path):
                table = luma_table(path)
                if table:
                    steps.append(statistics.mean(table[1:6]))
        if not steps:
            print(f"{folder}: no JPEG with a luma table")
            continue
        steps.sort()
        print(f"{folder}: {len(steps)} JPEGs; first five AC luma steps, mean per file: median {statistics.median(steps):.1f}, "
              f"quartiles {steps[len(steps) // 4]:.1f}–{steps[3 * len(steps) // 4]:.1f}")


if __name__ == "__main__":
    main()
