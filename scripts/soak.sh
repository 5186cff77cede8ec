#!/usr/bin/env bash
# The soak and chaos test (issue 9), `make soak`; never part of `make test`.
# Copies the release server aside (others may rebuild build/ meanwhile),
# runs tests/soak/soak.mjs inside a network namespace of its own
# (scripts/netns.sh) and draws the memory/fd chart with gnuplot.
#   SOAK_MINUTES=60 scripts/soak.sh build/conclave
# Settings (environment): SOAK_MINUTES (60), SOAK_STEADY (2), SOAK_CHURN (3),
# SOAK_RESTARTS (5), SOAK_OUT (build/soak), SOAK_PNG (docs/soak.png for a
# run of 60 minutes or more, else $SOAK_OUT/soak.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/conclave}
export SOAK_MINUTES=${SOAK_MINUTES:-60}
export SOAK_OUT=$(realpath -m "${SOAK_OUT:-build/soak}")
if [ -z "${SOAK_PNG:-}" ]; then
  if [ "$SOAK_MINUTES" -ge 60 ]; then SOAK_PNG=docs/soak.png; else SOAK_PNG=$SOAK_OUT/soak.png; fi
fi
rm -rf "$SOAK_OUT"
mkdir -p "$SOAK_OUT"
cp "$bin" "$SOAK_OUT/conclave"
export CONCLAVE_BIN=$SOAK_OUT/conclave
status=0
(cd tests && ../scripts/netns.sh node soak/soak.mjs) 2>&1 | tee "$SOAK_OUT/soak.log" || status=$?
if [ -s "$SOAK_OUT/samples.csv" ]; then
  gnuplot -e "csv='$SOAK_OUT/samples.csv'; png='$SOAK_PNG'" tests/soak/chart.gp
  echo "soak: chart in $SOAK_PNG, samples in $SOAK_OUT/samples.csv, summary in $SOAK_OUT/summary.json"
fi
exit "$status"
