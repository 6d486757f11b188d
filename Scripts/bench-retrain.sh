#!/usr/bin/env bash
# bench-retrain.sh — the README's retrain benchmark: `unmask retrain` from a model (MODEL, default the
# shipped Models/unmask-v2.safetensors), default settings, on 500 new fake images and on 20 short
# clips; prints wall time, training steps per second, data-loading time and peak memory of each run.
# Data (made here, with the project's own tools): frames and 2-s windows of the two sample clips at
# 480 px, and fakes forged from them by the trained bilinear autoencoder of Models/zoo (unmask-v1
# never trained on it; unmask-v2 trained on it among sixteen families) in a 128×128 box, with a
# fakes.csv giving each box (and, for clips, the 0.5–1.5 s it spans). A clip's real window and its
# forged copy are both in the data.
# Usage: Scripts/bench-retrain.sh [WORKDIR] [STEPS]   (default /tmp/unmask-bench-retrain, 600 steps);
# SETS="clips" times one data set only. Data already made in WORKDIR is reused.
# Needs the release build (.build/release/unmask), ffmpeg (to cut clips) and GNU time (/usr/bin/time).
set -euo pipefail

work=${1:-/tmp/unmask-bench-retrain}
steps=${2:-600}
root=$(realpath "$(dirname "$0")/..")
unmask=$root/.build/release/unmask
model=${MODEL:-Models/unmask-v2.safetensors}
[[ -x $unmask ]] || { echo "bench-retrain: build first: swift build -c release" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "bench-retrain: needs the ffmpeg command-line tool" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench-retrain: needs GNU time (/usr/bin/time)" >&2; exit 1; }
cd "$root"

forge() { # forge INPUT OUTPUT X Y SEED [START END]
    local times=()
    [[ $# -gt 5 ]] && times=(--start "$6" --end "$7")
    "$unmask" forge --family autoencoder-bilinear --zoo-generators Models/zoo --input "$1" --output "$2" \
        --region "$3,$4,128,128" --seed "$5" "${times[@]}" 2>/dev/null
}

# 500 fake images: every frame of both clips; every fourth stays real, the other frames are forged
# (in turn, until there are 500, so some twice with another box and seed).
images=$work/images
if [[ ! -f $images/ready ]]; then
    rm -rf "$images"
    mkdir -p "$images/frames" "$images/real" "$images/new-fakes"
    for clip in city cockatoo; do
        "$unmask" frames "Samples/$clip.mp4" --all-frames --max-size 480 --out "$images/frames/$clip" >/dev/null
    done
    sources=()
    i=0
    for frame in "$images"/frames/*/*.png; do
        name=$(basename "$(dirname "$frame")")-$(basename "$frame")
        if ((i % 4 == 0)); then cp "$frame" "$images/real/$name"; else sources+=("$frame"); fi
        i=$((i + 1))
    done
    echo "file,x,y,w,h" >"$images/new-fakes/fakes.csv"
    for ((k = 0; k < 500; k++)); do
        frame=${sources[k % ${#sources[@]}]}
        name=fake$k-$(basename "$(dirname "$frame")")-$(basename "$frame")
        x=$((40 + (k % 4) * 60)) y=$((30 + (k % 3) * 40))
        forge "$frame" "$images/new-fakes/$name" "$x" "$y" "$k"
        echo "$name,$x,$y,128,128" >>"$images/new-fakes/fakes.csv"
    done
    rm -rf "$images/frames"
    touch "$images/ready"
fi

# 20 short clips: 2-s windows of both clips at 480 px (8 of city, 12 of cockatoo) are the real
# clips; each forged in a box from 0.5 s to 1.5 s is a new fake clip.
clips=$work/clips
if [[ ! -f $clips/ready ]]; then
    rm -rf "$clips"
    mkdir -p "$clips/real" "$clips/new-fakes"
    echo "file,x,y,w,h,start,end" >"$clips/new-fakes/fakes.csv"
    k=0
    for window in city:0 city:0.75 city:1.5 city:2.25 city:3 city:3.75 city:4.5 city:5.25 \
        cockatoo:0 cockatoo:1 cockatoo:2 cockatoo:3 cockatoo:4 cockatoo:5 cockatoo:6 cockatoo:7 \
        cockatoo:8 cockatoo:9 cockatoo:10 cockatoo:11; do
        clip=${window%%:*} start=${window#*:}
        name=$clip-$start.mp4
        # -ss after -i: decode from the start (a fast seek lands on undecodable frames of cockatoo.mp4)
        ffmpeg -nostdin -loglevel error -i "Samples/$clip.mp4" -ss "$start" -t 2 -an -vf scale=480:-2 -c:v libx264 \
            -crf 18 -pix_fmt yuv420p "$clips/real/$name"
        x=$((40 + (k % 4) * 60)) y=$((30 + (k % 3) * 40))
        forge "$clips/real/$name" "$clips/new-fakes/$name" "$x" "$y" "$k" 0.5 1.5
        echo "$name,$x,$y,128,128,0.5,1.5" >>"$clips/new-fakes/fakes.csv"
        k=$((k + 1))
    done
    touch "$clips/ready"
fi

lscpu | grep -E '^(Model name|CPU\(s\)):' | sed 's/  */ /g'
for set in ${SETS:-images clips}; do
    rm -rf "$work/$set/models"
    mkdir -p "$work/$set/models"
    echo "== $set: $(ls "$work/$set/real" | grep -vc csv) real, $(ls "$work/$set/new-fakes" | grep -vc csv) new fakes"
    retrain=(retrain --model "$model" --fake "$work/$set/new-fakes" --real "$work/$set/real"
        --out "$work/$set/models/tuned.safetensors" --steps "$steps")
    echo "unmask ${retrain[*]}"
    status=0
    /usr/bin/time -v -o "$work/$set/time.txt" "$unmask" "${retrain[@]}" \
        >"$work/$set/stdout.txt" 2>"$work/$set/stderr.txt" || status=$?
    # Exit 3 is the guard refusing the model: still a full, timed run.
    [[ $status == 0 || $status == 3 ]] || { cat "$work/$set/stderr.txt" >&2; exit "$status"; }
    grep '^unmask: loaded' "$work/$set/stderr.txt" || true
    jq -r 'select(.event == "stop") | "training: \(.step) steps in \(.seconds | floor) s, \(.step / .seconds * 100 | round / 100) steps/s"' \
        "$work/$set/models/tuned.retrain/log.jsonl"
    grep -E 'Elapsed \(wall|Maximum resident' "$work/$set/time.txt" | sed 's/^\t//'
    grep -E '^(Accepted|Refused)' "$work/$set/stdout.txt" || true
done
