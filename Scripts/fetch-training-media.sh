#!/usr/bin/env bash
# Fetches the real photographs and camera footage the detector is trained and evaluated on, from
# Debian packages only (apt-get download + dpkg -x, nothing is installed), into a folder that is not
# committed. Usage: Scripts/fetch-training-media.sh [DEST]   (default: training-media/)
#
# Result: DEST/real/<package>/<files> for training and calibration, DEST/eval-real/<package>/<files>
# for held-out evaluation only, and DEST/MANIFEST.tsv (role, package, version, file, bytes, sha256)
# so that a run can name exactly what it saw. Each package is kept whole on one side, so evaluation
# never sees a source the model was trained on. Docs/training-data.md lists the packages, their
# licences and counts. Artwork, screenshots, renders, edited copies and resized duplicates are left
# out by the per-package filters below.
set -euo pipefail

dest=${1:-training-media}

# Training (and calibration) sources.
training_packages=(
  lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 plasma-workspace-wallpapers mate-backgrounds
  opencv-doc visp-images-data kphotoalbum python-kivy-examples
  palapeli-data tuxpaint-data libelementary-data libjxl-testdata gdk-pixbuf-tests
  qtdeclarative5-examples qtmultimedia5-examples python3-mecavideo node-opencv gem-doc libdlib19.1
)
# Evaluation-only sources: never trained or calibrated on. The sample images of scikit-image,
# scikit-learn and matplotlib must stay here; the others hold modern phone and DSLR photos and
# camera video, so that the held-out test sees cameras and scenes the model never saw.
evaluation_packages=(
  python3-skimage python3-sklearn python-matplotlib-data
  forensics-samples-files python3-imageio labelme-examples lxqt-themes
)
for package in "${training_packages[@]}"; do
  case "$package" in
    python3-skimage|python3-sklearn|python-matplotlib-data)
      echo "fetch-training-media: $package is evaluation-only and must not be a training source" >&2
      exit 1 ;;
  esac
done
packages=("${training_packages[@]}" "${evaluation_packages[@]}")

mkdir -p "$dest/debs" "$dest/extracted"
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

# Prints the largest of a wallpaper's size variants (files named WIDTHxHEIGHT.jpg): the others are
# downscaled copies of it.
largest_variant() {
  printf '%s\n' "$1"/*.jpg | awk '{ name = $0; sub(/.*\//, "", name); split(name, size, /[x.]/); print size[1] * size[2], $0 }' |
    sort -n | tail -n 1 | cut -d' ' -f2-
}

# Prints the photographs and camera footage of one extracted package, one path per line.
select_media() {
  local package=$1 root=$dest/extracted/$1
  case "$package" in
    lomiri-wallpapers-16.04)
      # Photographs; umang is a rendered gradient.
      find "$root/usr/share/backgrounds" -type f -iname '*.jpg' ! -name 'umang_*' ;;
    lomiri-wallpapers-20.04)
      # Kleiber is the one photograph; Fossa, Infinite-Sea and Painting-Colors are artwork.
      find "$root/usr/share/backgrounds" -type f -name 'Kleiber_*.jpg' ;;
    plasma-workspace-wallpapers)
      # The photographs, each at its largest size; the other wallpapers (Autumn, Flow, Honeywave,
      # PastelHills, SafeLanding, Shell, Volna and every PNG one) are rendered artwork.
      local wallpaper
      for wallpaper in BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite \
        OneStandsOut Path summer_1am; do
        largest_variant "$root/usr/share/wallpapers/$wallpaper/contents/images"
      done ;;
    mate-backgrounds)
      # nature/ holds the photographs; abstract/ and desktop/ are artwork (Elephants in three sizes).
      find "$root/usr/share/backgrounds/mate/nature" -type f -iname '*.jpg' ;;
    opencv-doc)
      # Camera photographs and videos by name. Left out: renders (Blender_Suzanne*, blox, ml),
      # logos and cartoons (HappyFish, *Logo*, opencv-logo*), the painting starry_night, synthetic
      # patterns (ellipses, pic*, gradient, detect_blob, cards, notes, digits, imageText*), the
      # edited ela_modified and synthetic licenseplate_motion / text_motion, the CGI clip Megamind*,
      # the second view of stereo pairs (aloeR, leuvenB, graf3, basketball2, rubberwhale2, right*) and
      # all calibration views but left01.
      local name
      for name in aero1.jpg aero3.jpg aloeL.jpg apple.jpg baboon.jpg board.jpg building.jpg butterfly.jpg \
        ela_original.jpg fruits.jpg home.jpg leuvenA.jpg messi5.jpg orange.jpg pca_test1.jpg squirrel_cls.jpg \
        stuff.jpg left.jpg left01.jpg basketball1.png box.png box_in_scene.png chicky_512.png graf1.png \
        rubberwhale1.png smarties.png sudoku.png tree.avi vtest.avi; do
        find "$root/usr/share/doc/opencv-doc/examples/data" -maxdepth 1 -type f -name "$name"
      done ;;
    visp-images-data)
      # Grey camera sequences, a few frames each (neighbouring frames are near-duplicates), the
      # camera clip video/cube.mpeg and one copy of the Solvay 1927 photograph. Left out: warp/
      # (resampled copies), the other Solvay sizes, Klimt (a painting), AprilTag and calibration
      # boards, the simulated Castle-simu renders and the synthetic circle/ellipse images.
      local images=$root/usr/share/visp-images-data/ViSP-images
      find "$images/mbt/cube" -type f -name 'image*.pgm' | sort | awk 'NR % 60 == 1'
      find "$images/mbt-depth/castel/castel" -type f -name 'image_*.pgm' | sort | head -n 1
      find "$images/mire-2" -type f -name 'image.*.pgm' | sort | awk 'NR % 100 == 1'
      find "$images/video" -type f -name '*.mpeg'
      find "$images/Solvay" -type f -name '*_2126x1463.png' ;;
    kphotoalbum)
      # The demo album's photographs and its clip; CategoryImages/ holds 128-pixel crops of them.
      find "$root/usr/share/kphotoalbum/demo" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.avi' \) ;;
    python-kivy-examples)
      # A city clip and two photographs; Bubbles, Ill1 and tex3 are rendered.
      find "$root/usr/share/kivy-examples" -type f \( -name 'cityCC0.mpg' -o -path '*/pictures/images/Wall.jpg' \
        -o -path '*/pictures/images/faust_github.jpg' \) ;;
    palapeli-data)
      # The puzzle photographs; backgrounds/ holds rendered textures.
      find "$root/usr/share/palapeli/collection" -type f -iname '*.jpg' ;;
    tuxpaint-data)
      # The template photographs and the photographic layer of one starter; the other starters,
      # stamps and brushes are drawings.
      find "$root/usr/share/tuxpaint" -type f \( -path '*/templates/*.jpg' -o -name 'skyline-sf-dusk-back.jpeg' \) ;;
    libelementary-data)
      # The widget-test photographs; logos, the space render, GIFs and the polaroid-framed PNGs are left out.
      find "$root/usr/share/elementary/images" -maxdepth 1 -type f -name '*.jpg' ;;
    libjxl-testdata)
      # The full-size flower photograph and three 500-pixel camera photographs in sRGB. Left out: the
      # flower's recompressed, cropped, grey and bit-depth copies, the 64-pixel raw crops, the
      # wide-gamut and alpha variants, hdr_room (a tone-mapped merge) and the synthetic test images.
      find "$root/usr/share/libjxl-testdata" -type f \( -path '*/jxl/flower/flower.png' \
        -o -path '*/wesaturate/500px/*_srgb8.png' \) ;;
    gdk-pixbuf-tests)
      # A phone photograph, a Panasonic GF1 photograph and a grey cat; bug143608-comment.jpg repeats the
      # GF1 one, large.jpg and issue205.jpg are blank giants, the rest are tiny or broken on purpose.
      find "$root/usr/libexec/installed-tests/gdk-pixbuf" -type f \( -name 'issue70.jpg' \
        -o -name 'bug725582-testrotate.jpg' -o -path '*/reftests/cat.jpg' \) ;;
    qtdeclarative5-examples)
      # Three photographs among the Qt Quick examples' images (the others are drawings and screenshots).
      find "$root/usr/lib" -type f \( -name 'niagara_falls.jpg' -o -name 'backgroundLeaves.jpg' -o -name 'cork.jpg' \) ;;
    qtmultimedia5-examples)
      find "$root/usr/lib" -type f -name 'leaves.jpg' ;;
    python3-mecavideo)
      # Camcorder clips of classroom physics experiments (PAL, MPEG-4 Part 2, Theora, H.264, VP9);
      # retroMars2018.avi is a rendered planetarium animation.
      find "$root/usr/share/pymecavideo/data/video" -type f ! -name 'retroMars2018.avi' ;;
    node-opencv)
      # Two car photographs and a camera clip. Left out: stuff.png (opencv-doc's stuff.jpg again),
      # mona.png (a painting), the synthetic shapes, quads and multipage images, and the example
      # outputs (the clip re-encoded with boxes drawn on it).
      find "$root/usr/share/doc/node-opencv/examples/files" -type f \( -name 'car1.jpg' -o -name 'car2.jpg' \
        -o -name 'motion.mov' \) ;;
    gem-doc)
      # The GLSL examples' photographs: four toned city views from a rooftop and three close-ups.
      # Left out: the rendered and cartoon clips (alea, anim-1, homer), the fractals, ducks.png (a
      # composite) and the manual's figures.
      find "$root/usr/share/gem/examples/10.glsl" -type f \( -name 'cam?.jpg' -o -name 'img?.jpg' \) ;;
    libdlib19.1)
      # A portrait, two street photographs and every 50th frame of a grey office clip. Left out: the
      # PASCAL VOC photographs under faces/ (the VOC Flickr collection is an evaluation source, through
      # labelme-examples), the collages bald_guys and dogs, and the 150-pixel aligned face crops.
      local examples=$root/usr/share/doc/libdlib19.1/examples
      find "$examples/faces" -type f -name 'Tom_Cruise_*.jpg'
      find "$examples" -maxdepth 1 -type f -name 'mmod_cars_test_image*.jpg'
      find "$examples/video_frames" -type f -name 'frame_*.jpg' | sort | awk 'NR % 50 == 1' ;;
    python3-skimage)
      # Evaluation only. Camera photographs; hubble_deep_field, ihc, retina, moon and cell are
      # telescope or microscope images, the rest synthetic or scanned text.
      local name
      for name in astronaut.png brick.png camera.png chelsea.png coffee.png coins.png grass.png gravel.png \
        motorcycle_left.png rocket.jpg; do
        find "$root/usr/lib/python3/dist-packages/skimage/data" -maxdepth 1 -type f -name "$name"
      done ;;
    python3-sklearn)
      # Evaluation only.
      find "$root/usr/lib/python3/dist-packages/sklearn/datasets/images" -type f -name '*.jpg' ;;
    python-matplotlib-data)
      # Evaluation only. The one photograph of sample_data/.
      find "$root/usr/share/matplotlib/mpl-data/sample_data" -type f -name 'grace_hopper.jpg' ;;
    forensics-samples-files)
      # Phone and compact-camera photographs and a phone video. Left out: the Debian logo images,
      # and movie-hello.*, a screen recording.
      find "$root/usr/share/forensics-samples/original-files" -type f \( -iname 'IMG*.jpg' -o -name 'VID_*.mp4' \) ;;
    python3-imageio)
      # Two camera clips; astronaut.png and chelsea.png are scikit-image's (see python3-skimage).
      find "$root/usr/lib" -type f \( -name 'cockatoo.mp4' -o -name 'realshort.mp4' \) ;;
    labelme-examples)
      # The annotated photographs, each once (three folders repeat the same three VOC photographs;
      # data_dataset_* holds recompressed copies and overlays), and one frame of the video example
      # (the other four are near-duplicates).
      local examples=$root/usr/share/doc/labelme-examples/examples
      find "$examples/bbox_detection/data_annotated" "$examples/classification/data_annotated" -type f -name '*.jpg'
      find "$examples/tutorial" -maxdepth 1 -type f -name 'apc2016_obj3.jpg'
      find "$examples/video_annotation/data_annotated" -type f -name '00000100.jpg' ;;
    lxqt-themes)
      # The photographs by name; the origami, waves, triangles, plasma and logo wallpapers are artwork.
      local name
      for name in Butterfly-Kenneth-Wimer.jpg after-the-rain.jpg fog.jpg this-is-not-windows.jpg Valendas.png \
        appleflower.png beam.png butterfly.png cloud.png drop.png flowers.png; do
        find "$root/usr/share/lxqt/wallpapers" -maxdepth 1 -type f -name "$name"
      done ;;
  esac
}

# The links are remade on every run so that a file a filter no longer keeps does not linger.
rm -rf "$dest/real" "$dest/eval-real"
mkdir -p "$dest/real" "$dest/eval-real"
manifest=$dest/MANIFEST.tsv
printf 'role\tpackage\tversion\tfile\tbytes\tsha256\n' > "$manifest.tmp"
link_package() {
  local role=$1 package=$2 folder=$3 version file name count=0 videos=0
  version=$(dpkg-deb -f "$(ls "$dest/debs/${package}"_*.deb | head -n 1)" Version)
  mkdir -p "$dest/$folder/$package"
  while IFS= read -r file; do
    [ -n "$file" ] || continue
    name=$(echo "${file#"$dest/extracted/$package/"}" | tr '/' '_')
    ln -sf "$file" "$dest/$folder/$package/$name"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$role" "$package" "$version" "$folder/$package/$name" "$(stat -c %s "$file")" \
      "$(sha256sum "$file" | cut -d' ' -f1)" >> "$manifest.tmp"
    count=$((count + 1))
    case "$name" in *.mp4|*.avi|*.mpg|*.mpeg|*.mov|*.ogv) videos=$((videos + 1)) ;; esac
  done < <(select_media "$package" | sort)
  if [ "$count" -eq 0 ]; then
    echo "fetch-training-media: no media selected from $package $version (did its layout change?)" >&2
    exit 1
  fi
  printf 'fetch-training-media: %-5s %-28s %3d images %2d videos\n' "$role" "$package" $((count - videos)) "$videos"
}
for package in "${training_packages[@]}"; do link_package train "$package" real; done
for package in "${evaluation_packages[@]}"; do link_package eval "$package" eval-real; done
mv "$manifest.tmp" "$manifest"
training_files=$(awk -F'\t' '$1 == "train"' "$manifest" | wc -l)
evaluation_files=$(awk -F'\t' '$1 == "eval"' "$manifest" | wc -l)
echo "fetch-training-media: $training_files files in $dest/real (training), $evaluation_files in $dest/eval-real (evaluation only); manifest: $manifest"
