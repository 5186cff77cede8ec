#!/usr/bin/env bash
# The fuzzing campaign (docs/security.md, "Fuzzing"): gives every libFuzzer
# target CPU time in turns, one fuzzer process at a time under nice -n 19,
# grows the target's seed corpus fuzz/corpus/<name>/ with what the turn
# found, and appends one line per turn to the ledger fuzz/campaign.tsv, so
# that a campaign can go on across sessions.
#
#   scripts/fuzz-campaign.sh build/fuzz/fuzz_stun build/fuzz/fuzz_sig ...
#   scripts/fuzz-campaign.sh --table   the ledger summed up per target, as
#                                      the Markdown table in docs/security.md
#
# Settings (environment):
#   FUZZ_CPU=3600   CPU seconds each target gets in this run
#   FUZZ_TOPUP=1    count the ledger as well: a target is done once its
#                   total CPU time in the ledger reaches FUZZ_CPU (this is
#                   how the campaign is continued)
#   FUZZ_SLICE=900  seconds per turn; turns rotate, least-fuzzed target first
#   FUZZ_UNTIL=HH:MM  (UTC, optional) start no turn after this time, and cut
#                   the last one short so that it ends by then (a time
#                   already past today means tomorrow)
#   FUZZ_OUT=build/fuzz/campaign   logs and crash artifacts
#   FUZZ_LEDGER=fuzz/campaign.tsv  the ledger
#   FUZZ_REV=...    what the binaries were built from, for the ledger's
#                   "head" column (default: this tree's HEAD, "+wip" when
#                   src/ or fuzz/ differ from it)
#
# CPU time is what the fuzzer process used (user + system, /usr/bin/time),
# not wall time: a niced fuzzer on a shared machine gets less than a core,
# so a target may need more turns than FUZZ_CPU / FUZZ_SLICE.
#
# Two corpora per target. The working corpus, FUZZ_OUT/corpus/<name>/, is
# what a turn starts from (with the seeds): after each turn it is merged
# with libFuzzer's -merge=1 into a minimal set keeping every feature (edges
# and their hit counts) found so far; it stays on this machine. The seed
# corpus in the repository, fuzz/corpus/<name>/, gets a smaller minimal set
# that keeps every edge (-merge=1 -use_counters=0): hand-written seeds (any
# name that is not a 40-digit SHA-1) always stay, files named by their
# SHA-1 are the campaign's and are replaced by the new set. A campaign on
# another machine starts from the seed corpus and finds the hit-count
# variety again quickly.
#
# A target that crashes (or leaks, times out, runs out of memory) is not run
# again in this invocation; its reproducer stays in FUZZ_OUT and the script
# exits 1 at the end. Fixing it, and adding the input to the corpus as
# crash-<hash>, is a person's job. SIGINT/SIGTERM end the current turn
# cleanly (it is merged and recorded) and stop the campaign.
#
# The whole script is one { } block, which bash reads before it runs any of
# it: editing this file while a campaign runs cannot change that campaign.
{
set -uo pipefail
cd "$(dirname "$0")/.."

cpu_goal=${FUZZ_CPU:-3600}
slice=${FUZZ_SLICE:-900}
topup=${FUZZ_TOPUP:-0}
out=${FUZZ_OUT:-build/fuzz/campaign}
ledger=${FUZZ_LEDGER:-fuzz/campaign.tsv}
# a turn shorter than this is not worth its start-up and merge
min_turn=60
# time kept free before FUZZ_UNTIL for the last merge
merge_reserve=30
until_epoch=
if [ -n "${FUZZ_UNTIL:-}" ]; then
  until_epoch=$(date -u -d "${FUZZ_UNTIL}" +%s) || exit 2
  # a time of day already past means that time tomorrow
  [ "$until_epoch" -gt "$(date -u +%s)" ] || until_epoch=$((until_epoch + 86400))
fi

if [ "${1:-}" = --table ]; then
  awk -F'\t' -v goal="$cpu_goal" '
    NR == 1 { next }
    !($2 in cpu) { order[++n] = $2 }
    { cpu[$2] += $3; ex[$2] += $5
      if ($6 > 0) cov[$2] = $6; if ($7 > 0) ft[$2] = $7   # (a turn cut short at start has none)
      files[$2] = $8; bytes[$2] = $9; cr[$2] += $10; turns[$2]++ }
    END {
      print "| target | turns | CPU time | executions | cov | ft | corpus | crashes | CPU to 1 h |"
      print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
      for (i = 2; i <= n; i++)            # by name
        for (j = i; j > 1 && order[j] < order[j - 1]; j--) {
          t = order[j]; order[j] = order[j - 1]; order[j - 1] = t
        }
      for (i = 1; i <= n; i++) {
        t = order[i]; left = goal - cpu[t]; if (left < 0) left = 0
        execs = ex[t] >= 1e6 ? sprintf("%.1f M", ex[t] / 1e6) : sprintf("%.0f k", ex[t] / 1e3)
        # the seed corpus as it is now (the last turn may predate a merge)
        cmd = "find fuzz/corpus/" t " -type f -printf \"%s\\n\" 2>/dev/null | awk \"{ n++; s += \\$1 } END { print n + 0, s + 0 }\""
        if ((cmd | getline line) > 0) { split(line, fb, " "); files[t] = fb[1]; bytes[t] = fb[2] }
        close(cmd)
        printf "| %s | %d | %d min %02d s | %s | %d | %d | %d files, %.0f KB | %d | %d min %02d s |\n",
          t, turns[t], cpu[t] / 60, cpu[t] % 60, execs, cov[t], ft[t],
          files[t], bytes[t] / 1000, cr[t], left / 60, left % 60
      }
    }' "$ledger"
  exit 0
fi
[ "$#" -gt 0 ] || { echo "usage: $0 FUZZ_BINARY..." >&2; exit 2; }
rev=${FUZZ_REV:-$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src 'fuzz/*.c' || echo +wip)}
mkdir -p "$out"
header='date_utc	target	cpu_s	wall_s	execs	cov	ft	corpus_files	corpus_bytes	crashes	head'
[ -s "$ledger" ] || printf '%s\n' "$header" >"$ledger"

names=()
declare -A bin_of spent crashed
for b in "$@"; do
  n=$(basename "$b"); n=${n#fuzz_}
  names+=("$n"); bin_of[$n]=$b; spent[$n]=0; crashed[$n]=0
done

ledger_cpu() {  # total CPU seconds of target $1 in the ledger
  awk -F'\t' -v t="$1" 'NR > 1 && $2 == t { s += $3 } END { printf "%d", s }' "$ledger"
}

done_so_far() {  # CPU seconds that count towards the goal for target $1
  if [ "$topup" = 1 ]; then ledger_cpu "$1"; else echo "${spent[$1]}"; fi
}

# the least-fuzzed target that still has time to go and has not crashed
next_target() {
  local best= best_cpu= n c
  for n in "${names[@]}"; do
    [ "${crashed[$n]}" = 0 ] || continue
    c=$(done_so_far "$n")
    [ "$c" -lt "$cpu_goal" ] || continue
    if [ -z "$best" ] || [ "$c" -lt "$best_cpu" ]; then best=$n; best_cpu=$c; fi
  done
  echo "$best"
}

is_sha1_name() { [[ $(basename "$1") =~ ^[0-9a-f]{40}$ ]]; }

# Replaces the campaign's files in corpus $1 by the minimal set in $2,
# keeping every hand-written seed.
sync_corpus() {
  local seeds=$1 fresh=$2 f h
  declare -A named=() keep=()
  for f in "$seeds"/*; do
    [ -f "$f" ] || continue
    is_sha1_name "$f" || named[$(sha1sum <"$f" | cut -c1-40)]=1
  done
  for f in "$fresh"/*; do
    [ -f "$f" ] || continue
    h=$(basename "$f")
    [ -n "${named[$h]:-}" ] && continue
    keep[$h]=1
    [ -e "$seeds/$h" ] || cp "$f" "$seeds/$h"
  done
  for f in "$seeds"/*; do
    if is_sha1_name "$f" && [ -z "${keep[$(basename "$f")]:-}" ]; then rm -f "$f"; fi
  done
}

stop=0
child=
on_signal() {
  stop=1
  # GNU time ignores SIGINT while it waits: interrupt the fuzzer itself,
  # which then prints its final statistics and exits
  [ -n "$child" ] && pkill -INT -P "$child" 2>/dev/null
}
trap on_signal INT TERM

status=0
while [ "$stop" = 0 ]; do
  n=$(next_target)
  [ -n "$n" ] || break
  want=$((cpu_goal - $(done_so_far "$n")))
  [ "$want" -le "$slice" ] || want=$slice
  if [ -n "$until_epoch" ]; then
    left=$((until_epoch - $(date +%s) - merge_reserve))
    [ "$left" -ge "$min_turn" ] || { echo "fuzz-campaign: FUZZ_UNTIL reached"; break; }
    [ "$want" -le "$left" ] || want=$left
  fi
  [ "$want" -ge "$min_turn" ] || want=$((min_turn < cpu_goal ? min_turn : cpu_goal))

  bin=${bin_of[$n]}
  seeds=fuzz/corpus/$n
  mkdir -p "$seeds"
  full=$out/corpus/$n
  mkdir -p "$full"
  work=$(mktemp -d)
  fresh=$(mktemp -d)
  cp -r "$seeds"/. "$full"/. "$work"/
  dict=()
  [ -f "fuzz/$n.dict" ] && dict=(-dict="fuzz/$n.dict")
  log=$out/$n.log
  before=$(ls "$out" | grep -cE "^$n-(crash|leak|timeout|oom)-")
  echo "fuzz-campaign: $n for ${want}s (CPU so far $(done_so_far "$n")s of $cpu_goal)"

  t0=$(date +%s)
  nice -n 19 /usr/bin/time -f '%U %S' -o "$out/$n.time" \
    "$bin" -max_total_time="$want" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$out/$n-" "${dict[@]}" "$work" \
    >"$log" 2>&1 &
  child=$!
  wait "$child"; rc=$?
  # wait returns early when a trapped signal arrives: wait again
  while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
  child=
  wall=$(( $(date +%s) - t0 ))

  cpu=$(tail -1 "$out/$n.time" | awk '{ printf "%d", $1 + $2 + 0.5 }')
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | awk '{print $2}')
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | awk '{print $2}')
  # libFuzzer's -timeout is wall-clock time: a niced fuzzer that waited
  # for the CPU (other work at a higher priority) can time out on an input
  # that runs in milliseconds. Each new timeout input is run again alone:
  # one that finishes using less than a tenth of the limit in CPU time was
  # a starved turn, not a hang; it is set aside in $out/starved/ and does
  # not count (nor stop the target). A real hang times out again.
  starved=0
  for a in $(ls "$out" | grep -E "^$n-timeout-" || true); do
    [ -e "$out/starved/$a" ] && continue
    if /usr/bin/time -f '%U %S' -o "$out/$n.replay.time" \
         "$bin" -runs=1 -timeout=60 -rss_limit_mb=2048 "$out/$a" \
         >"$out/$n.replay.log" 2>&1 &&
       awk '{ exit !($1 + $2 < 1.0) }' "$out/$n.replay.time"; then
      mkdir -p "$out/starved"
      mv "$out/$a" "$out/starved/$a"
      starved=$((starved + 1))
      echo "fuzz-campaign: $n: $a runs in $(awk '{ print $1 + $2 }' "$out/$n.replay.time") s of CPU alone: the turn was starved of CPU, not hung (set aside)"
    fi
  done
  after=$(ls "$out" | grep -cE "^$n-(crash|leak|timeout|oom)-")
  crashes=$((after - before))
  # 72 is libFuzzer's exit code for an interrupted run
  # (a turn that ended on a starved timeout is not a failure)
  if [ "$crashes" -gt 0 ] || { [ "$rc" != 0 ] && [ "$rc" != 72 ] && [ "$starved" = 0 ]; }; then
    [ "$crashes" -gt 0 ] || crashes=1
    crashed[$n]=1
    status=1
    echo "fuzz-campaign: $n FAILED (exit $rc) — see $log"
    grep -E '^(==[0-9]+==|SUMMARY|artifact_prefix)|Test unit written' "$log" | head -20
  fi

  # every feature into the working corpus; every edge into the seeds
  if nice -n 19 "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$fresh" \
       "$full" "$work" >"$out/$n.merge.log" 2>&1; then
    rm -rf "$full" && mv "$fresh" "$full"
    fresh=$(mktemp -d)
    nice -n 19 "$bin" -merge=1 -use_counters=0 -timeout=10 -rss_limit_mb=2048 \
      "$fresh" "$seeds" "$full" >>"$out/$n.merge.log" 2>&1 &&
      sync_corpus "$seeds" "$fresh"
  fi
  rm -rf "$work" "$fresh"

  files=$(find "$seeds" -type f | wc -l)
  bytes=$(find "$seeds" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
  spent[$n]=$(( ${spent[$n]} + cpu ))
  printf '%s\t%s\t%d\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n' \
    "$(date -u +%FT%TZ)" "$n" "$cpu" "$wall" "${execs:-0}" "${cov:-0}" "${ft:-0}" \
    "$files" "$bytes" "$crashes" "$rev" >>"$ledger"
  printf 'fuzz-campaign: %-6s cpu %4ds  execs %9s  cov %5s  ft %6s  corpus %4d files %7d bytes  crashes %d\n' \
    "$n" "$cpu" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$files" "$bytes" "$crashes"
done

echo "fuzz-campaign: CPU seconds in the ledger per target (goal $cpu_goal):"
for n in "${names[@]}"; do
  printf '  %-6s %6d%s\n' "$n" "$(ledger_cpu "$n")" \
    "$([ "${crashed[$n]}" = 1 ] && echo '  CRASHED')"
done
exit $status
}
