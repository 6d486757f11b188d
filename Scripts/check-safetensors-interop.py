#!/usr/bin/env python3
"""Cross-checks our Swift safetensors reader/writer against Python's `safetensors` library.

Run by hand (never by CI), with a Python that has `safetensors` and `numpy`:

    # (re)create the committed fixture that the Swift tests load with exact values
    python Scripts/check-safetensors-interop.py write-fixture Tests/NeuralNetTests/Fixtures/python-written.safetensors

    # check a file written by the Swift side
    UNMASK_INTEROP_OUT=/tmp/swift-written.safetensors \
        swift test --filter SafeTensorsTests.testWriteFileForPythonInteropCheck
    python Scripts/check-safetensors-interop.py check /tmp/swift-written.safetensors

The values of both files are fixed here and in SafeTensorsTests.swift (`interopExpected...`).
"""
import struct
import sys

import numpy as np
from safetensors.numpy import load_file, save_file


def expected_tensors():
    """The tensors both sides agree on (see SafeTensorsTests.swift)."""
    return {
        "weights": np.array([[0.0, 1.5, -2.25], [3.0e-8, 1.0e30, -0.0]], dtype=np.float32),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "indices": np.array([-1, 0, 1, 2**62], dtype=np.int64),
    }


EXPECTED_METADATA = {"format": "pt", "note": "interop fixture"}


def write_fixture(path):
    save_file(expected_tensors(), path, metadata=EXPECTED_METADATA)
    print(f"wrote {path}")


def check(path):
    loaded = load_file(path)
    expected = expected_tensors()
    assert sorted(loaded) == sorted(expected), f"names differ: {sorted(loaded)} vs {sorted(expected)}"
    for name, want in expected.items():
        got = loaded[name]
        assert got.dtype == want.dtype, f"{name}: dtype {got.dtype} != {want.dtype}"
        assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
        assert got.tobytes() == want.tobytes(), f"{name}: values differ: {got} vs {want}"
    with open(path, "rb") as handle:
        (header_length,) = struct.unpack("<Q", handle.read(8))
        header = handle.read(header_length).decode("utf-8")
    import json

    metadata = json.loads(header).get("__metadata__", {})
    assert metadata == EXPECTED_METADATA, f"metadata {metadata} != {EXPECTED_METADATA}"
    assert header_length % 8 == 0, f"header length {header_length} not a multiple of 8"
    # Python re-serialization gives the same layout and data. (Python's own metadata order is
    # random between runs, a Rust HashMap; ours is sorted, so compare headers as parsed JSON.)
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        again = os.path.join(directory, "again.safetensors")
        save_file(loaded, again, metadata=metadata)
        ours, theirs = (split_file(p) for p in (path, again))
    same_layout = ours[0] == theirs[0] and list(ours[1]) == list(theirs[1]) and ours[1] == theirs[1] and ours[2] == theirs[2]
    assert same_layout, "Python lays out the same tensors differently"
    print(f"OK: {path} loads in Python safetensors with exact values and metadata;"
          " Python re-saves it with identical header length, tensor order, offsets and data")


def split_file(path):
    """(header length, header dict, data bytes) of a safetensors file."""
    import json

    raw = open(path, "rb").read()
    (header_length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_length])
    return header_length, header, raw[8 + header_length:]

def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("write-fixture", "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "write-fixture":
        write_fixture(sys.argv[2])
    else:
        check(sys.argv[2])


if __name__ == "__main__":
    main()
