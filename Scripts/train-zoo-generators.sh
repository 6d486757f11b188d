#!/usr/bin/env bash
# Makes Models/zoo/, the generator files behind the fake-maker zoo's trained families: the autoencoders
# and the VAE with `unmask zoo train`, the two GAN generators with short `unmask train` runs (their
# generator.safetensors, copied under the family's name). Training media only: never the
# evaluation-only folder. GAN_SEEDS (default 1) lists the seeds of the GAN runs: seed 1 gives
# gan-KIND.safetensors, any other seed N the instance gan-KIND.sN.safetensors of the same family
# (Docs/fake-zoo.md, "Instances"), e.g. GAN_SEEDS="1 2 3 4".
# Usage: Scripts/train-zoo-generators.sh REAL_DIR [MINUTES_EACH]   (after `swift build -c release`)
set -euo pipefail
cd "$(dirname "$0")/.."
UNMASK=${UNMASK:-.build/release/unmask}
REAL=${1:?usage: $0 REAL_DIR [MINUTES_EACH]}
MINUTES=${2:-3}
WORK=${WORK:-$(mktemp -d)}
mkdir -p Models/zoo

"$UNMASK" zoo train --real "$REAL" --out Models/zoo --minutes "$MINUTES" --seed 1

read -r -a gan_seeds <<<"${GAN_SEEDS:-1}"
for seed in "${gan_seeds[@]}"; do
  [[ $seed =~ ^[0-9]+$ ]] || { echo "train-zoo-generators: GAN_SEEDS: '$seed' is not a seed" >&2; exit 64; }
  for kind in upsampling transposed-conv; do
    "$UNMASK" train --real "$REAL" --out "$WORK/gan-$kind-s$seed" --minutes "$MINUTES" --seed "$seed" \
      --generator-kind "$kind" --quiet
    name="gan-$kind"
    [[ $seed == 1 ]] || name="gan-$kind.s$seed"
    cp "$WORK/gan-$kind-s$seed/generator.safetensors" "Models/zoo/$name.safetensors"
  done
done
ls -l Models/zoo/*.safetensors
sha256sum Models/zoo/*.safetensors
