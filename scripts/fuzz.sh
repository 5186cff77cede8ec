#!/usr/bin/env bash
# Runs each libFuzzer target for FUZZ_SECONDS on a scratch copy of its seed
# corpus (fuzz/corpus/<name>/, with fuzz/<name>.dict if there is one; the
# repository is not modified) and prints
# executions and coverage per target. Fails if any target finds a crash.
#   FUZZ_SECONDS=15 scripts/fuzz.sh build/fuzz/fuzz_sig ...
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-15}
out=${FUZZ_OUT:-build/fuzz/runs}
mkdir -p "$out"
status=0
passed=0
failed=0
for bin in "$@"; do
  name=$(basename "$bin"); name=${name#fuzz_}
  seeds=fuzz/corpus/$name
  work=$(mktemp -d)
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
  log=$out/$name.log
  dict=()
  [ -f "fuzz/$name.dict" ] && dict=(-dict="fuzz/$name.dict")
  if "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
       -rss_limit_mb=2048 -artifact_prefix="$out/$name-" "${dict[@]}" "$work" >"$log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'cov: [0-9]*' || true)
    ft=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'ft: [0-9]*' || true)
    printf 'fuzz %-8s ok   %8s execs  %s  %s  corpus %s files\n' "$name" "${execs:-?}" \
      "$cov" "$ft" "$(ls "$work" | wc -l)"
    passed=$((passed + 1))
  else
    echo "fuzz $name FAILED — see $log"; tail -40 "$log"; status=1
    failed=$((failed + 1))
  fi
  rm -rf "$work"
done
echo "fuzz: $passed passed, $failed failed"
exit $status
