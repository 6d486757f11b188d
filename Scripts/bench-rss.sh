#!/usr/bin/env bash
# bench-rss.sh — the README's memory figure: peak resident memory of `unmask scan` on a 1-minute and
# a 10-minute 1080p30 H.264 clip at default settings. Frames are decoded into a bounded queue of
# reused buffers and reports keep per-frame scores only, so the peak must not grow with the length.
# Usage: Scripts/bench-rss.sh [WORKDIR]   (default /tmp/unmask-bench-rss; the clips, 85 MB and 850 MB,
# are made there once and kept out of the repository)
# Needs the release build (.build/release/unmask), the ffmpeg command-line tool and GNU time.
set -euo pipefail

work=${1:-/tmp/unmask-bench-rss}
unmask=$(realpath "$(dirname "$0")/../.build/release/unmask")
[[ -x $unmask ]] || { echo "bench-rss: build first: make build" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "bench-rss: needs the ffmpeg command-line tool" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench-rss: needs GNU time (/usr/bin/time, Debian package time)" >&2; exit 1; }

mkdir -p "$work"
for seconds in 60 600; do
    clip=$work/1080p-$seconds.mp4
    [[ -f $clip ]] || ffmpeg -loglevel error -f lavfi -i "testsrc2=size=1920x1080:rate=30" -t "$seconds" \
        -c:v libx264 -preset ultrafast -crf 28 -pix_fmt yuv420p "$clip"
done

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for seconds in 60 600; do
    clip=$work/1080p-$seconds.mp4
    /usr/bin/time -v -o "$work/time-$seconds.txt" "$unmask" scan "$clip" --output "$work/report-$seconds.json" --quiet
    peak=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time-$seconds.txt")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time-$seconds.txt")
    printf '%4d s of 1080p30: peak RSS %6.1f MB, %s wall\n' "$seconds" "$(echo "$peak / 1024" | bc -l)" "$wall"
done
