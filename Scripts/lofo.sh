#!/usr/bin/env bash
# The leave-one-family-out protocol: for each group of fake-maker families, train a detector on every
# family but that group, calibrate it on held-out files of the training packages with the families it
# trained on, and evaluate it on the held-out group over evaluation-only real sources (other Debian
# packages), whole frames at native resolution, original and after JPEG q90 / H.264 CRF 23 / CRF 32.
#
#   Scripts/lofo.sh DEST OUT
#
# DEST is the folder Scripts/fetch-training-media.sh filled (DEST/real for training and calibration,
# DEST/eval-real for evaluation only). OUT gets one folder per group and OUT/table.md. Rerunning skips
# groups already evaluated and resumes interrupted trainings from their checkpoints, so the protocol can
# span several sessions. Each group's folder also gets calibration.json, the calibration frames with
# their network logits and evidence: `Scripts/evidence-fusion.py OUT/G/calibration.json
# OUT/G/evaluation.json G` weighs the training-free evidence beside the network for group G. Each
# group's folder also gets validation.json: the held-out group's fakes on the training packages' files
# that neither training nor calibration used (`evaluate --split test`), so a recipe or a calibration
# option can be chosen by transfer to an unseen family without looking at the evaluation-only sources.
# validation-both.json is the same over both halves of those files (`evaluate --split validation`: the
# calibration half too, whose real frames placed the threshold, so read its AUC, not its FPR); twice
# the files, and what `Scripts/compare-evaluations.py A/G/validation-both.json B/G/validation-both.json`
# pairs to say whether one recipe beats another by more than the draw of files.
# Environment: UNMASK (binary, default .build/release/unmask), LOFO_GROUPS
# (default: every group), TRAINER (pooled, the default: `unmask train`, the adversarial game then the
# frozen-generator phase; probe: `unmask bench learn`, supervised on fixed real/fake pairs with the
# group's families never drawn, STEPS steps, default 8000, not resumable but about 12 minutes at 128-px
# patches), PAIRS (the probe's training pairs, default 8192; a 128-px pair holds about 0.5 MB of
# memory), STEPS (adversarial training steps per group, default 1500), FROZEN_STEPS
# (then steps with the generator frozen and the detector's learning rate at 1e-4, as the shipped
# model's last phase: cheaper steps that consolidate the detector; default 3000), MINUTES (time cap
# of one training invocation, default 30), FRAMES (frames per evaluation file, default 1), TRAIN_ARGS (extra
# options of the trainer, e.g. an architecture, or --patch-size 128 --seed 2 --cosine-decay for the probe), CALIBRATE_ARGS (extra `unmask calibrate` options, e.g.
# --scale-evidence --grid-evidence --lattice-evidence --channel-evidence, or --split validation to rest the
# threshold on both halves of the held-out files, whereupon validation.json's real frames are the calibration's own), ZOO_ARGS (extra options naming the zoo's families
# for train, calibrate and evaluate alike; default --zoo-generators Models/zoo, run from the repository).
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: Scripts/lofo.sh DEST OUT" >&2
    exit 64
fi
dest=$1 out=$2
unmask=${UNMASK:-.build/release/unmask}
trainer=${TRAINER:-pooled}
[[ $trainer == pooled || $trainer == probe ]] || { echo "lofo: TRAINER must be pooled or probe (got $trainer)" >&2; exit 64; }
default_steps=1500
[[ $trainer == probe ]] && default_steps=8000
steps=${STEPS:-$default_steps} pairs=${PAIRS:-8192} frozen_steps=${FROZEN_STEPS:-3000} minutes=${MINUTES:-30} frames=${FRAMES:-1}
read -r -a train_args <<<"${TRAIN_ARGS:-}"
read -r -a calibrate_args <<<"${CALIBRATE_ARGS:-}"
read -r -a zoo_args <<<"${ZOO_ARGS:---zoo-generators Models/zoo}"
for folder in "$dest/real" "$dest/eval-real"; do
    [[ -d $folder ]] || { echo "lofo: $folder: no such folder (run Scripts/fetch-training-media.sh $dest)" >&2; exit 66; }
done
[[ -x $unmask ]] || { echo "lofo: $unmask: not built (swift build -c release)" >&2; exit 66; }
read -r -a groups <<<"${LOFO_GROUPS:-classical self-blend upsampling-decoder autoencoder vae adversarial}"
mkdir -p "$out"

for group in "${groups[@]}"; do
    run="$out/$group"
    mkdir -p "$run"
    if [[ -f $run/evaluation.json ]]; then
        echo "lofo: $group: evaluated already ($run/evaluation.json)"
        continue
    fi
    # train_phase MARKER STEPS OPTION…: trains (or resumes) up to STEPS in all, then leaves MARKER
    train_phase() {
        local marker=$1 total=$2
        shift 2
        [[ -f $run/$marker ]] && return 0
        local resume=()
        [[ -f $run/checkpoint.safetensors ]] && resume=(--resume "$run/checkpoint.safetensors")
        echo "lofo: $group: $marker: training on every family but $group to step $total (${resume[*]:-new run})"
        "$unmask" train --real "$dest/real" --zoo-exclude "$group" "${zoo_args[@]}" "${train_args[@]}" \
            --steps "$total" --minutes "$minutes" --out "$run" "${resume[@]}" "$@" -q
        if grep -q '"reason":"time limit"' <(tail -n 5 "$run/log.jsonl"); then
            echo "lofo: $group: time cap reached; rerun to continue from the checkpoint" >&2
            exit 75
        fi
        touch "$run/$marker"
    }
    if [[ $trainer == probe ]]; then
        if [[ ! -f $run/model.safetensors ]]; then
            echo "lofo: $group: probe: $steps supervised steps on every family but $group"
            "$unmask" bench learn --real "$dest/real" --held-out-family "$group" "${zoo_args[@]}" --pairs "$pairs" \
                --validation-pairs 512 --steps "$steps" --evaluate-every 1000 --lr 1e-3 --beta1 0.9 \
                "${train_args[@]}" --out "$run/model.safetensors" >"$run/learn.txt"
        fi
    else
        train_phase adversarial "$steps"
        train_phase frozen-generator $((steps + frozen_steps)) --freeze-generator --lr-d 1e-4 --patience 0
    fi
    echo "lofo: $group: calibrating on held-out training-package files with the families trained on"
    "$unmask" calibrate --model "$run/model.safetensors" --real "$dest/real" --zoo-exclude "$group" "${zoo_args[@]}" \
        --jpeg-quality 90 --h264-crf 28 --fpr 0.01 "${calibrate_args[@]}" --json "$run/calibration.json" \
        --out "$run/calibrated.safetensors" -q \
        >"$run/calibration.txt"
    # evaluate_group NAME REAL_FOLDER [SPLIT OPTION…]: whole frames of the held-out group over REAL_FOLDER,
    # original and re-encoded, into $run/NAME.json (written whole, then moved into place) and NAME.txt
    evaluate_group() {
        local name=$1 real=$2
        shift 2
        "$unmask" evaluate --model "$run/calibrated.safetensors" --real "$real" "$@" --zoo "$group" "${zoo_args[@]}" \
            --frames-per-file "$frames" --jpeg-quality 90 --h264-crf 23 --h264-crf 32 -q \
            --json "$run/$name.json.partial" >"$run/$name.txt"
        mv "$run/$name.json.partial" "$run/$name.json"
    }
    if [[ ! -f $run/validation.json ]]; then
        echo "lofo: $group: validating on $group over the training packages' test-half files"
        evaluate_group validation "$dest/real" --split test
    fi
    if [[ ! -f $run/validation-both.json ]]; then
        echo "lofo: $group: validating on $group over both halves of the training packages' held-out files"
        evaluate_group validation-both "$dest/real" --split validation
    fi
    echo "lofo: $group: evaluating on $group over the evaluation-only sources"
    evaluate_group evaluation "$dest/eval-real"
done

python3 "$(dirname "$0")/lofo-table.py" "$out" "${groups[@]}" | tee "$out/table.md"
