#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in build-fuzz and runs one.
# Usage: tools/fuzz.sh TARGET SECONDS [libFuzzer args...]
#        tools/fuzz.sh all SECONDS          (each target in turn, SECONDS each)
#        tools/fuzz.sh list
#        tools/fuzz.sh check                (every target built, then `ctest -L fuzz`: 5 s each)
# TARGET is a file name of tests/fuzz without .cpp, e.g. frame_codec_fuzz. The run starts from
# the checked-in seeds (tests/fuzz/corpus/TARGET) plus what earlier runs found
# (build-fuzz/fuzz-corpus/TARGET); crashes are written to build-fuzz/crashes/. A summary line
# "TARGET: N executions in S s, C crashes" is printed at the end. Exit status 1 on a crash.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
targets=()
for src in "$root"/tests/fuzz/*_fuzz.cpp; do
    targets+=("$(basename "$src" .cpp)")
done
if [ "${1:-}" = "list" ]; then
    printf '%s\n' "${targets[@]}"
    exit 0
fi
target=${1:?usage: tools/fuzz.sh TARGET|all|check SECONDS [libFuzzer args...]}
if [ "$target" = check ]; then
    seconds=0
    shift 1
else
    seconds=${2:?usage: tools/fuzz.sh TARGET|all SECONDS [libFuzzer args...]}
    shift 2
fi
if [ "$target" = all ] || [ "$target" = check ]; then
    selected=("${targets[@]}")
else
    [ -f "$root/tests/fuzz/$target.cpp" ] || { echo "fuzz.sh: no tests/fuzz/$target.cpp" >&2; exit 2; }
    selected=("$target")
fi

# clang and its libFuzzer runtime are needed only here, so this script installs them, not deps.sh.
if ! command -v clang++ >/dev/null ||
    [ ! -f "$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "fuzz.sh: needs clang and libclang-rt-dev; run as root or install them" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends clang libclang-rt-dev \
        >/dev/null
fi
"$root/tools/deps.sh"

mkdir -p "$build"
(
    flock 8
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
        -DCMAKE_CXX_COMPILER=clang++ -DGOSSIPCHAIN_FUZZ=ON -DGOSSIPCHAIN_BENCH=OFF >/dev/null
    cmake --build "$build" -j"$(nproc)" --target "${selected[@]}"
) 8>"$build/.build.lock"

if [ "$target" = check ]; then
    cd "$build"
    exec ctest --output-on-failure -L fuzz
fi

status=0
for name in "${selected[@]}"; do
    corpus=$build/fuzz-corpus/$name
    crashes=$build/crashes
    mkdir -p "$corpus" "$crashes"
    log=$build/fuzz-$name.log
    set +e
    started=$(date +%s)
    "$build/bin/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$crashes/$name-" "$@" \
        "$corpus" "$root/tests/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    elapsed=$(($(date +%s) - started))
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    took=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    found=$(ls "$crashes" | grep -c "^$name-" || true)
    echo "$name: ${runs:-?} executions in ${elapsed} s (${took:-?}/s), $found crash files, exit $rc"
    if [ "$rc" -ne 0 ]; then
        tail -40 "$log" >&2
        status=1
    fi
done
exit $status
