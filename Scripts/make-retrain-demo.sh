#!/bin/sh
# Makes the small data set of the README's retrain walk-through: real frames of the two sample
# clips, and fakes forged from other frames of them by the trained bilinear autoencoder of Models/zoo
# (a family unmask-v2 trained on among sixteen and scores under its threshold in these boxes), with
# a fakes.csv giving each box.
# Usage: Scripts/make-retrain-demo.sh [OUT] (default /tmp/retrain-demo); needs a built unmask.
set -eu
OUT=${1:-/tmp/retrain-demo}
UNMASK=${UNMASK:-.build/release/unmask}
rm -rf "$OUT"
mkdir -p "$OUT/frames" "$OUT/real" "$OUT/new-fakes"
"$UNMASK" frames Samples/city.mp4 --fps 4.4 --max-frames 32 --max-size 480 --out "$OUT/frames/city" >/dev/null
"$UNMASK" frames Samples/cockatoo.mp4 --fps 2.3 --max-frames 32 --max-size 480 --out "$OUT/frames/cockatoo" >/dev/null
# Alternate frames: even ones stay real, odd ones are forged.
echo "file,x,y,w,h" > "$OUT/new-fakes/fakes.csv"
i=0
for frame in "$OUT"/frames/*/*.png; do
    name=$(basename "$(dirname "$frame")")-$(basename "$frame")
    if [ $((i % 2)) -eq 0 ]; then
        cp "$frame" "$OUT/real/$name"
    else
        # a 128×128 box at one of four places
        x=$((40 + (i % 4) * 60)); y=$((30 + (i % 3) * 40))
        "$UNMASK" forge --family autoencoder-bilinear --zoo-generators Models/zoo --input "$frame" \
            --output "$OUT/new-fakes/$name" --region "$x,$y,128,128" --seed "$i" 2>/dev/null
        echo "$name,$x,$y,128,128" >> "$OUT/new-fakes/fakes.csv"
    fi
    i=$((i + 1))
done
rm -rf "$OUT/frames"
echo "$(ls "$OUT/real" | wc -l) real frames in $OUT/real, $(ls "$OUT/new-fakes" | grep -c png) fakes in $OUT/new-fakes"
