"""Helpers shared by the *-settings.py scripts (imported from the same folder)."""
import importlib.util
import os
import sys


def sibling(name, file):
    """The script FILE of this folder loaded as a module (its name has hyphens, so no plain import)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(os.path.abspath(__file__)), file))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def work_and_variant(usage):
    """WORK and the re-encoding from `WORK [--jpeg-quality Q | --h264-crf CRF]`, as the loader of
    scale-consistency-settings.py takes it (False: original frames); exits with USAGE otherwise."""
    args = sys.argv[1:]
    if len(args) == 1:
        return args[0], False
    if len(args) == 3 and args[1] == "--jpeg-quality":
        return args[0], int(args[2])
    if len(args) == 3 and args[1] == "--h264-crf":
        return args[0], ("h264", int(args[2]))
    sys.exit(usage)
