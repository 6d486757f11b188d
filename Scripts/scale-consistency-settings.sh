#!/usr/bin/env bash
# How ScaleConsistency's settings were chosen, on training packages only: one frame of every fourth
# still image of DEST/real, forged once by each of eight zoo families (`unmask forge --family`, square
# regions of 64–256 px at random places), then Scripts/scale-consistency-settings.py scores the
# originals and the fakes with 24 settings of the measure (numpy).
#
#   Scripts/scale-consistency-settings.sh DEST WORK
#
# DEST is the folder Scripts/fetch-training-media.sh filled; WORK gets the frames. Environment:
# UNMASK (binary, default .build/release/unmask), FAMILIES (the families forged, default the eight
# below), SCORE (the script run on WORK afterwards, default scale-consistency-settings.py; "none" to
# only make the frames). Run from the repository (Models/zoo).
set -euo pipefail
if [[ $# -ne 2 ]]; then
    echo "usage: Scripts/scale-consistency-settings.sh DEST WORK" >&2
    exit 64
fi
dest=$1 work=$2
unmask=${UNMASK:-.build/release/unmask}
families=${FAMILIES:-"denoise resample copy-move self-blend upsampler-bilinear-random autoencoder-bilinear vae-reconstruction gan-upsampling"}
score=${SCORE:-scale-consistency-settings.py}
mkdir -p "$work"
RANDOM=1  # regions are drawn in this shell (the loop reads from a process substitution), so reproducible
i=0
while read -r file; do
    i=$((i + 1))
    frame=$work/f$i
    mkdir -p "$frame"
    "$unmask" frames --max-frames 1 --out "$frame/real" "$file" >/dev/null 2>&1 || continue
    png=$(ls "$frame"/real/*.png | head -1)
    size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$png")
    w=${size%,*} h=${size#*,}
    : >"$frame/regions.txt"
    for family in $families; do
        s=$((RANDOM % 193 + 64))
        ((s > w - 2)) && s=$((w - 2))
        ((s > h - 2)) && s=$((h - 2))
        x=$((RANDOM % (w - s))) y=$((RANDOM % (h - s)))
        "$unmask" forge --family "$family" --zoo-generators Models/zoo --input "$png" --output "$frame/$family.png" \
            --region "$x,$y,$s,$s" --seed "$i" >/dev/null 2>&1 && echo "$family $x $y $s $s" >>"$frame/regions.txt"
    done
done < <(find -L "$dest/real" -type f \( -name '*.jpg' -o -name '*.png' -o -name '*.jpeg' \) | sort | awk 'NR%4==1')
[[ $score == none ]] || python3 "$(dirname "$0")/$score" "$work"
