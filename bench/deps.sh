#!/usr/bin/env bash
# What `make bench` needs beyond `scripts/deps.sh test`: Debian's Janus (the
# server compared against), gnuplot-nox (the chart), iproute2 (tc: the sinks
# of the capacity scenarios) and ethtool (their -split kind; BENCH_NAPI=1),
# and the npm packages of bench/ (from its lock file). Installs only what is
# missing; needs root for apt-get.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
for p in janus gnuplot-nox iproute2 util-linux ethtool; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench deps: run as root (or install these packages yourself)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # Debian's janus package would start a system service: keep it off
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# the packaged service must not run beside the benchmark
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet janus 2>/dev/null; then
  systemctl stop janus || true
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bench deps: npm ci in bench"
  npm ci --no-audit --no-fund --loglevel=error
fi
