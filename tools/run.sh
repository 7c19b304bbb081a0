#!/usr/bin/env bash
# Installs what is missing, builds Release, and starts one gossipchain node (default port 5000).
# Extra arguments pass through to the node, e.g. tools/run.sh --port 5001 --peer 127.0.0.1:5000
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/deps.sh"
BUILD_TARGET=gossipchain "$root/tools/build.sh" "$root/build-release" Release -DGOSSIPCHAIN_BENCH=OFF >&2
has_port=0
for a in "$@"; do case "$a" in --port|--port=*) has_port=1 ;; esac; done
if [ $has_port = 0 ]; then set -- --port 5000 "$@"; fi
exec "$root/build-release/bin/gossipchain" "$@"
