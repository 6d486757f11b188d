#!/usr/bin/env bash
# render-report.sh — screenshot an Unmask HTML report with headless Chromium, to look at it.
# Usage: Scripts/render-report.sh REPORT.html OUT.png [WIDTHxHEIGHT]   (default 1280x2000)
# Needs Debian's chromium: apt-get install -y --no-install-recommends chromium
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2
    exit 2
fi
html=$1
png=$2
size=${3:-1280x2000}

if [[ ! -f $html ]]; then
    echo "render-report: no such file: $html" >&2
    exit 1
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
    echo "render-report: chromium not found (apt-get install -y --no-install-recommends chromium)" >&2
    exit 1
fi

html_abs=$(realpath "$html")
png_abs=$(realpath -m "$png")
# A private profile so concurrent runs do not fight over one; removed afterwards.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$profile" --no-first-run --no-default-browser-check \
    --screenshot="$png_abs" --window-size="${size/x/,}" "file://$html_abs" >/dev/null 2>&1

if [[ ! -s $png_abs ]]; then
    echo "render-report: chromium wrote no screenshot to $png_abs" >&2
    exit 1
fi
echo "$png_abs"
