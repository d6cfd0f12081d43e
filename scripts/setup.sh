#!/usr/bin/env bash
# Installs what microarp needs on Debian 12 and builds it. Idempotent: a second run only
# rebuilds what changed. Used by `npm start`, `npm test` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# Debian packages: DPDK 22.11 (headers, libraries, dpdk-testpmd), the toolchain for the addon,
# and the real peers the tests use (iproute2 for netns/veth, arping, ping, python3 for
# dpdk-telemetry.py, python3-scapy that forges the attacker's ARP and ND in the inspection tests,
# ndisc6 that solicits a neighbour from a VM in the IPv6 Neighbor Discovery tests,
# prometheus + promtool that scrape and lint /metrics, etcd 3.4 server + etcdctl that back the
# fabric-wide binding table and its loopback test clusters, openssl that makes the TLS test's
# CA and server certificate, clang + libFuzzer + clang's sanitizer runtimes (libclang-rt-14-dev,
# only recommended by clang, which --no-install-recommends leaves out) that build the fuzz targets).
DEB_PACKAGES=(dpdk dpdk-dev libdpdk-dev pkg-config cmake g++ make iproute2 arping iputils-ping ndisc6 python3 python3-scapy prometheus etcd-server etcd-client openssl clang libfuzzer-14-dev libclang-rt-14-dev)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: microarp targets Debian 12"
  if [[ $(id -u) -ne 0 ]]; then
    die "missing Debian packages: ${missing[*]}. Run as root, or: sudo apt-get install -y ${missing[*]}"
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: check the package sources in /etc/apt"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed (see the messages above)"
fi
pkg-config --atleast-version=22.11 libdpdk ||
  die "pkg-config cannot find libdpdk 22.11: install libdpdk-dev"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
((node_major >= 20)) || die "Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))"

if [[ ! -d node_modules/cmake-js || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error >&2 || die "npm ci failed (see the messages above)"
fi

say "building the native addon"
npx --no-install cmake-js build --out build >/tmp/microarp-build.$$.log 2>&1 || {
  tail -40 /tmp/microarp-build.$$.log >&2
  rm -f /tmp/microarp-build.$$.log
  die "the native build failed (output above)"
}
rm -f /tmp/microarp-build.$$.log
say "building TypeScript"
npm run --silent build:ts >&2 || die "the TypeScript build failed (output above)"
