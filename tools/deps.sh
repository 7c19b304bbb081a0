#!/usr/bin/env bash
# Installs every Debian package gossipchain's build, tests, benchmarks and tools need
# (prometheus for promtool, which checks /metrics in the integration tests; chromium for the
# browser test of /dashboard and the docs screenshots; python3-matplotlib for netsim's plots;
# iproute2 for netsim --netns, whose smoke test CI runs as root; python3-cryptography, whose
# Ed25519 (OpenSSL's) is independent of libsodium, for the signed-transaction vectors).
# Fast no-op when all are present; otherwise one `apt-get update`, then one install.
set -euo pipefail
PACKAGES=(
    build-essential cmake pkg-config git ca-certificates
    libuv1-dev libmsgpack-cxx-dev libsodium-dev node-llhttp libsqlite3-dev
    nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
    python3 python3-flask python3-requests curl openssl wrk procps
    prometheus chromium fonts-dejavu-core python3-matplotlib iproute2 python3-cryptography
)
find_missing() {
    missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
}
find_missing
[ ${#missing[@]} -eq 0 ] && exit 0
# Several run.sh started at once must not race for apt's lock: take turns, then look again.
exec 9>"${TMPDIR:-/tmp}/gossipchain-deps.lock"
flock 9
find_missing
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]}; run as root or install them" >&2
    exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
