#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test with ctest. Non-zero exit on any failure.
# Usage: tools/test.sh [--sanitize address,undefined|thread] [extra ctest args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
cmake_args=()
if [ "${1:-}" = "--sanitize" ]; then
    san=${2:?--sanitize needs a value such as address,undefined or thread}
    shift 2
    build=$root/build-${san//,/-}
    cmake_args+=("-DGOSSIPCHAIN_SANITIZE=${san//,/;}" -DGOSSIPCHAIN_BENCH=OFF)
fi
"$root/tools/deps.sh"
"$root/tools/build.sh" "$build" RelWithDebInfo "${cmake_args[@]}"
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 300 "$@"
