#!/usr/bin/env bash
# fuzz.sh — builds the libFuzzer targets in Fuzz/Targets and runs them from the seed corpus in
# Fuzz/corpus. SwiftPM builds the library modules with -sanitize=fuzzer,address into .build/fuzz;
# swiftc then links each target file against their objects (a SwiftPM executable target cannot
# take libFuzzer's main).
# Usage: Scripts/fuzz.sh build
#        Scripts/fuzz.sh run [TARGET...]    (default: every target; FUZZ_SECONDS each, default 60)
#        Scripts/fuzz.sh seeds               (rewrites the generated seeds of model-files and audit-files)
# FUZZ_FLAGS adds libFuzzer flags (e.g. "-fork=1 -ignore_ooms=1" to keep going after an out-of-memory).
# A crash stops the run with exit status 1; the input is in .build/fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(model-files media-bytes audit-files)
scratch=.build/fuzz
# swiftc keeps only the last -sanitize option, and SwiftPM passes one per --sanitize: without the
# combined -Xswiftc flag the Swift modules would get AddressSanitizer but no coverage for libFuzzer.
build_flags=(-c release --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address --scratch-path "$scratch")
bin=$scratch/bin
# Swift's own crash backtracer symbolicates for minutes in these large binaries; libFuzzer and
# AddressSanitizer print the stack of a crash themselves.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}

# The target file of each target, besides the shared support file.
source_of() {
    case $1 in
        model-files) echo Fuzz/Targets/ModelFiles.swift ;;
        media-bytes) echo Fuzz/Targets/MediaBytes.swift ;;
        audit-files) echo Fuzz/Targets/AuditFiles.swift ;;
        *) echo "fuzz: unknown target '$1' (targets: ${targets[*]})" >&2; exit 64 ;;
    esac
}

build() {
    swift build "${build_flags[@]}" --target Audit
    local products
    products=$(swift build "${build_flags[@]}" --show-bin-path)
    local checkouts=$scratch/checkouts/swift-crypto/Sources
    local flags=(
        -sanitize=fuzzer,address -parse-as-library -swift-version 6 -O -g -I "$products/Modules"
        -Xcc -fmodule-map-file=Sources/CFFmpeg/module.modulemap
        -Xcc -fmodule-map-file=Sources/COpenBLAS/module.modulemap
        -Xcc -fmodule-map-file="$checkouts/CCryptoBoringSSL/include/module.modulemap"
        -Xcc -I -Xcc "$checkouts/CCryptoBoringSSL/include"
        -Xcc -fmodule-map-file="$checkouts/CCryptoBoringSSLShims/include/module.modulemap"
        -Xcc -I -Xcc "$checkouts/CCryptoBoringSSLShims/include"
    )
    for include in $(pkg-config --cflags-only-I libavformat openblas); do flags+=(-Xcc "$include"); done
    # Every object of the library modules and their dependencies; no executable or test objects.
    local objects=()
    local module
    for module in NeuralNet MediaIO Detector Audit Plot CSV Crypto CryptoBoringWrapper CCryptoBoringSSL \
        CCryptoBoringSSLShims SwiftASN1; do
        [[ -d $products/$module.build ]] || continue
        while IFS= read -r object; do objects+=("$object"); done < <(find "$products/$module.build" -name '*.o')
    done
    local libraries
    read -r -a libraries <<<"$(pkg-config --libs libavformat libavcodec libswscale libavutil openblas)"
    mkdir -p "$bin"
    local target
    for target in "${targets[@]}"; do
        echo "fuzz: linking $bin/$target"
        swiftc "${flags[@]}" -module-name "FuzzTarget" "$(source_of "$target")" Fuzz/Targets/FuzzSupport.swift \
            "${objects[@]}" "${libraries[@]}" -o "$bin/$target"
    done
}

run() {
    local seconds=${FUZZ_SECONDS:-60}
    local selected=("$@")
    [[ ${#selected[@]} -gt 0 ]] || selected=("${targets[@]}")
    local target
    for target in "${selected[@]}"; do
        source_of "$target" >/dev/null
        [[ -x $bin/$target ]] || { echo "fuzz: build first: Scripts/fuzz.sh build" >&2; exit 1; }
        # New inputs go to a working corpus under .build; the committed seeds stay as they are.
        local corpus=$scratch/corpus/$target artifacts=$scratch/artifacts/$target
        mkdir -p "$corpus" "$artifacts"
        echo "fuzz: $target for $seconds s"
        # shellcheck disable=SC2086
        if ! "$bin/$target" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len=65536 \
            -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_FLAGS:-} "$corpus" "Fuzz/corpus/$target"; then
            echo "fuzz: $target found a crash; the input is in $artifacts/" >&2
            exit 1
        fi
    done
}

seeds() {
    local target
    for target in model-files audit-files; do
        [[ -x $bin/$target ]] || { echo "fuzz: build first: Scripts/fuzz.sh build" >&2; exit 1; }
        rm -rf "Fuzz/corpus/$target"
        UNMASK_FUZZ_WRITE_SEEDS="Fuzz/corpus/$target" "$bin/$target"
    done
}

case ${1:-} in
    build) build ;;
    run) shift; run "$@" ;;
    seeds) seeds ;;
    *) echo "usage: Scripts/fuzz.sh build | run [TARGET...] | seeds" >&2; exit 64 ;;
esac
