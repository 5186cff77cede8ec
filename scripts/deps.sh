#!/usr/bin/env bash
# Installs what conclave needs on Debian 12 — only what is missing — and the
# npm packages of the web app and the tests (from their lock files).
#
#   scripts/deps.sh run    what building and running the server needs
#   scripts/deps.sh test   that, plus what the tests need (default)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-test}

run_pkgs=(build-essential pkg-config libwebsockets-dev libwebsockets-evlib-ev libev-dev libjansson-dev
          libsrtp2-dev libsqlite3-dev libssl-dev nettle-dev zlib1g-dev ca-certificates
          openssl curl)
test_pkgs=(clang libclang-rt-14-dev chromium iproute2 ethtool gnuplot-nox sqlite3)

pkgs=("${run_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: run as root (or install these packages yourself)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "deps: Node.js $node_major is too old to build the web app; Node.js 20 or newer is needed" >&2
  exit 1
fi

# npm packages, reinstalled only when the lock file changed
npm_dirs=(web)
[ "$what" = test ] && npm_dirs+=(tests bench)
for d in "${npm_dirs[@]}"; do
  if [ ! -f "$d/node_modules/.package-lock.json" ] ||
     [ "$d/package-lock.json" -nt "$d/node_modules/.package-lock.json" ]; then
    echo "deps: npm ci in $d"
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
