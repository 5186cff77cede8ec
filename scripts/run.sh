#!/usr/bin/env bash
# Starts a conclave server with the embedded defaults (self-signed TLS,
# SQLite in ./data) and prints a fresh meeting's links. Settings can be
# passed through: scripts/run.sh --listen 0.0.0.0:9443 ...
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/conclave
"$bin" meeting create "$@"
echo
echo "Starting the server (Ctrl-C stops it). The certificate is self-signed:"
echo "your browser will ask you to accept it once."
echo
exec "$bin" serve "$@"
