#!/usr/bin/env bash
# bench-audit.sh — the README's audit benchmark: files per second of `unmask audit` on a folder of
# short clips, against the shell loop a user would otherwise write (one `unmask scan` per file), and
# the cost of a rerun with nothing left to do.
# Usage: Scripts/bench-audit.sh [CLIPS] [WORKDIR]   (default 200 clips in /tmp/unmask-bench-audit)
# Needs the release build (.build/release/unmask) and the ffmpeg command-line tool.
set -euo pipefail

count=${1:-200}
work=${2:-/tmp/unmask-bench-audit}
unmask=$(realpath "$(dirname "$0")/../.build/release/unmask")
[[ -x $unmask ]] || { echo "bench-audit: build first: swift build -c release" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "bench-audit: needs the ffmpeg command-line tool" >&2; exit 1; }

clips=$work/clips
mkdir -p "$clips"
# 2-s 320×240 H.264 clips at 25 fps, each a different hue so that no two are identical.
for ((i = 0; i < count; i++)); do
    out=$clips/clip-$i.mp4
    [[ -f $out ]] || ffmpeg -loglevel error -f lavfi -i "testsrc2=size=320x240:rate=25:duration=2" \
        -vf "hue=h=$((i * 360 / count))" -c:v libx264 -pix_fmt yuv420p "$out"
done

seconds() { local start=$1; echo "$(date +%s.%N) - $start" | bc; }

rm -rf "$work/audit" "$work/loop"
start=$(date +%s.%N)
"$unmask" audit "$clips" --out "$work/audit" --quiet
audit_time=$(seconds "$start")

start=$(date +%s.%N)
"$unmask" audit "$clips" --out "$work/audit" --quiet
rerun_time=$(seconds "$start")

# The fixed cost of any audit (start-up, loading the model), to separate from the per-file cost.
mkdir -p "$work/empty"
rm -rf "$work/empty-audit"
start=$(date +%s.%N)
"$unmask" audit "$work/empty" --out "$work/empty-audit" --quiet
empty_time=$(seconds "$start")

mkdir -p "$work/loop"
start=$(date +%s.%N)
for clip in "$clips"/*.mp4; do
    "$unmask" scan "$clip" --output "$work/loop/$(basename "$clip").json" --quiet
done
loop_time=$(seconds "$start")

echo "clips: $count; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'audit:           %.1f s  (%.2f files/s)\n' "$audit_time" "$(echo "$count / $audit_time" | bc -l)"
printf 'scan loop:       %.1f s  (%.2f files/s)\n' "$loop_time" "$(echo "$count / $loop_time" | bc -l)"
printf 'audit / loop:    %.2fx faster\n' "$(echo "$loop_time / $audit_time" | bc -l)"
printf 'rerun, no work:  %.2f s; an empty folder %.2f s; so %.2f s per 1,000 files (hashing included)\n' \
    "$rerun_time" "$empty_time" "$(echo "($rerun_time - $empty_time) * 1000 / $count" | bc -l)"
