#!/usr/bin/env bash
# Makes Models/zoo/, the generator files behind the fake-maker zoo's trained families: the autoencoders
# and the VAE with `unmask zoo train`, the two GAN generators with short `unmask train` runs (their
# generator.safetensors, copied under the family's name). Training media only: never the
# evaluation-only folder.
# Usage: Scripts/train-zoo-generators.sh REAL_DIR [MINUTES_EACH]   (after `swift build -c release`)
set -euo pipefail
cd "$(dirname "$0")/.."
UNMASK=${UNMASK:-.build/release/unmask}
REAL=${1:?usage: $0 REAL_DIR [MINUTES_EACH]}
MINUTES=${2:-3}
WORK=${WORK:-$(mktemp -d)}
mkdir -p Models/zoo

"$UNMASK" zoo train --real "$REAL" --out Models/zoo --minutes "$MINUTES" --seed 1

for kind in upsampling transposed-conv; do
  "$UNMASK" train --real "$REAL" --out "$WORK/gan-$kind" --minutes "$MINUTES" --seed 1 \
    --generator-kind "$kind" --quiet
  cp "$WORK/gan-$kind/generator.safetensors" "Models/zoo/gan-$kind.safetensors"
done
ls -l Models/zoo/*.safetensors
sha256sum Models/zoo/*.safetensors
