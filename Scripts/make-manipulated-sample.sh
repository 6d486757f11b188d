#!/usr/bin/env bash
# Makes Samples/city-manipulated.mp4, the demo's known fake: Samples/city.mp4 with a 128×128 region of
# the central tower replaced, from 2.5 s to 5.5 s, by samples of the transposed-conv GAN of the fake-maker
# zoo (Models/zoo/gan-transposed-conv.safetensors), blended in through a soft elliptical mask. The shipped
# model never trained on that family (`--zoo-exclude gan-transposed-conv`, Models/MODEL_CARD.md), so the
# demo shows a generator it never saw. Every frame, manipulated or not, goes through the same H.264 encoder.
# Usage: Scripts/make-manipulated-sample.sh   (after `swift build -c release`)
set -euo pipefail
cd "$(dirname "$0")/.."
UNMASK=${UNMASK:-.build/release/unmask}
"$UNMASK" forge \
  --generator Models/zoo/gan-transposed-conv.safetensors \
  --input Samples/city.mp4 --output Samples/city-manipulated.mp4 \
  --region 320,140,128,128 --start 2.5 --end 5.5 --crf 23 --seed 1
sha256sum Samples/city-manipulated.mp4
