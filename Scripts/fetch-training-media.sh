#!/usr/bin/env bash
# Fetches the real photographs and camera footage the default model is trained on, from Debian
# packages only (apt-get download + dpkg -x, nothing is installed), into a folder that is not
# committed. Usage: Scripts/fetch-training-media.sh [DEST]   (default: training-media/)
#
# Result: DEST/real/<package>/<files>, plus DEST/MANIFEST.tsv (package, version, path, bytes, sha256)
# so that a training run can name exactly what it saw. Artwork (vector or rendered wallpapers) is
# left out where the package mixes it with photographs: see the per-package filters below.
set -euo pipefail

dest=${1:-training-media}
packages=(
  lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 plasma-workspace-wallpapers mate-backgrounds
  forensics-samples-files opencv-doc visp-images-data kphotoalbum python3-imageio python-kivy-examples
)
mkdir -p "$dest/debs" "$dest/extracted" "$dest/real"
dest=$(cd "$dest" && pwd)

if ! apt-cache show "${packages[0]}" >/dev/null 2>&1; then
  echo "fetch-training-media: apt lists are empty; running apt-get update" >&2
  apt-get update -qq
fi

for package in "${packages[@]}"; do
  if ! ls "$dest/debs/${package}"_*.deb >/dev/null 2>&1; then
    (cd "$dest/debs" && apt-get download "$package" >/dev/null) || { echo "fetch-training-media: cannot download $package" >&2; exit 1; }
  fi
  deb=$(ls "$dest/debs/${package}"_*.deb | head -n 1)
  if [ ! -d "$dest/extracted/$package" ]; then
    dpkg -x "$deb" "$dest/extracted/$package"
  fi
done

# Keep photographs and camera footage; drop icons, thumbnails, artwork and synthetic test patterns.
select_media() {
  local package=$1 root=$dest/extracted/$1
  case "$package" in
    lomiri-wallpapers-16.04|lomiri-wallpapers-20.04|mate-backgrounds)
      # Photographic wallpapers only (JPEG); the PNG/SVG ones are rendered artwork.
      find "$root/usr/share" -type f -iname '*.jpg' ;;
    plasma-workspace-wallpapers)
      # Full-size photographs; skip the many downscaled copies and the screenshots.
      find "$root/usr/share/wallpapers" -type f -iname '*.jpg' -path '*/contents/images/*' ! -name 'screenshot*' |
        awk -F/ '{ key = $0; sub(/\/contents\/images\/.*/, "", key); if (!(key in seen)) { seen[key] = 1; print } }' ;;
    forensics-samples-files)
      find "$root/usr/share" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.mp4' -o -iname '*.mov' \) \
        ! -iname '*logo*' ! -size -20k ;;
    opencv-doc)
      find "$root/usr/share" -type f -path '*examples/data*' \( -iname '*.jpg' -o -iname '*.avi' \) \
        ! -iname '*chessboard*' ! -iname '*left0*' ! -iname '*right0*' ! -iname '*text*' ! -iname '*digits*' ;;
    visp-images-data)
      # Camera images only: no rendered AprilTag boards, no filtered copies of the same painting.
      find "$root/usr/share" -type f \( -iname '*.jpg' -o -iname '*.png' -o -iname '*.mpg' -o -iname '*.mp4' \) -size +30k \
        ! -path '*AprilTag*' ! -path '*Gaussian-filter*' ! -iname '*klimt*' ;;
    kphotoalbum)
      find "$root/usr/share" -type f \( -iname '*.jpg' -o -iname '*.avi' \) -path '*demo*' ;;
    python3-imageio)
      find "$root/usr/lib" -type f \( -name 'cockatoo.mp4' -o -name 'realshort.mp4' \) ;;
    python-kivy-examples)
      find "$root/usr/share" -type f -name 'cityCC0.mpg' ;;
  esac
}

manifest=$dest/MANIFEST.tsv
printf 'package\tversion\tfile\tbytes\tsha256\n' > "$manifest.tmp"
for package in "${packages[@]}"; do
  version=$(dpkg-deb -f "$(ls "$dest/debs/${package}"_*.deb | head -n 1)" Version)
  mkdir -p "$dest/real/$package"
  while IFS= read -r file; do
    [ -n "$file" ] || continue
    name=$(echo "${file#"$dest/extracted/$package/"}" | tr '/' '_')
    ln -sf "$file" "$dest/real/$package/$name"
    printf '%s\t%s\t%s\t%s\t%s\n' "$package" "$version" "$package/$name" "$(stat -c %s "$file")" "$(sha256sum "$file" | cut -d' ' -f1)" >> "$manifest.tmp"
  done < <(select_media "$package" | sort)
done
mv "$manifest.tmp" "$manifest"
echo "fetch-training-media: $(($(wc -l < "$manifest") - 1)) files in $dest/real (manifest: $manifest)"
