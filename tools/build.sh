#!/usr/bin/env bash
# Configures and builds gossipchain. Usage: tools/build.sh [BUILD_DIR] [BUILD_TYPE] [extra cmake args...]
# BUILD_TARGET=gossipchain builds only the node.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
type=${2:-RelWithDebInfo}
shift $(( $# > 2 ? 2 : $# ))
# Builds into one directory take turns (three run.sh started together share build-release).
mkdir -p "$build"
exec 8>"$build/.build.lock"
flock 8
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
