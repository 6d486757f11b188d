#!/usr/bin/env bash
# Makes Samples/city-manipulated.mp4, the demo's known fake: Samples/city.mp4 with a 128×128 region of
# the central tower replaced, from 2.5 s to 5.5 s, by the project's own generator (the one trained
# with the default model, Models/unmask-v1-generator.safetensors), blended in through a soft
# elliptical mask. Every frame, manipulated or not, goes through the same H.264 encoder.
# Usage: Scripts/make-manipulated-sample.sh   (after `swift build -c release`)
set -euo pipefail
cd "$(dirname "$0")/.."
UNMASK=${UNMASK:-.build/release/unmask}
"$UNMASK" forge \
  --generator Models/unmask-v1-generator.safetensors \
  --input Samples/city.mp4 --output Samples/city-manipulated.mp4 \
  --region 320,140,128,128 --start 2.5 --end 5.5 --crf 23 --seed 1
sha256sum Samples/city-manipulated.mp4
