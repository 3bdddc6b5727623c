#!/usr/bin/env bash
# Memory of a long daemon job: the daemon's resident set size (RSS) and its live managed heap, sampled against the
# job's generation, for an sr job (MSE fitness) and, with FUNNEL=1, the funnel fitness (imitation + rollouts on a
# quadratic). Ends with least-squares slopes (MiB per 1,000 generations) over the whole run and over its second
# half: a slope near zero in the second half means the run's memory does not grow with its length.
#   experiments/daemon/memory.sh [GENERATIONS (default 50000)] [SAMPLE_SECONDS (default 5)] [MAX_SECONDS (default 0: until the job ends)]
# Columns:
#   RSS MiB        the daemon's VmRSS: managed heap + native memory (libtorch, the runtime, malloc arenas) + code
#   anon MiB       its anonymous part (RssAnon: heaps of every kind; RSS minus this is mapped code and files)
#   heap MiB       live managed objects, from a dotnet-gcdump every HEAP_EVERY-th sample (default 6); the dump
#                  forces a full collection, so this is what is reachable, not garbage awaiting collection
#   memo, records  entries held by the search's bounded caches (the fitness memo, and with the funnel its rollout
#                  records), from the job's status: they fill up to their fixed capacities and stay there
# Needs dotnet-gcdump for the heap column (`dotnet tool install -g dotnet-gcdump`); without it the column reads '-'.
# With dotnet-counters installed it also prints the GC's committed memory at the end. The daemon inherits the
# environment, so e.g. MALLOC_ARENA_MAX=2 tries glibc's allocator with fewer arenas.
# (On an idle 2-core machine an MSE generation of this job takes about a millisecond; under load, many more.)
set -euo pipefail
cd "$(dirname "$0")/../.."
generations=${1:-50000}
every=${2:-5}
max_seconds=${3:-0}
heap_every=${HEAP_EVERY:-6}
# L2O_CLI: a built l2oevolve.dll to measure instead of building this tree's (e.g. while this tree is rebuilt).
dll=${L2O_CLI:-host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll}
[ -n "${L2O_CLI:-}" ] || dotnet build host/L2OEvolve.Cli -c Release -v quiet -nologo -clp:NoSummary >/dev/null
cli() { dotnet "$dll" "$@"; }
gcdump=$(command -v dotnet-gcdump || echo "$HOME/.dotnet/tools/dotnet-gcdump")
[ -x "$gcdump" ] || gcdump=""

work=$(mktemp -d)
daemon_pid=""
trap '[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null; rm -rf "$work"' EXIT
# A recorded-like table: g0, mt0, gt0 and the target -2·mt0 (so the funnel's rollouts have rules worth running).
awk 'BEGIN { srand(5); print "g0,mt0,gt0,y";
             for (i = 0; i < 500; i++) { g = rand()*2-1; m = 0.5*g + 0.5*(rand()*2-1); t = rand();
                                          printf "%.6f,%.6f,%.6f,%.6f\n", g, m, t, -2*m } }' > "$work/data.csv"
extra=()
[ "${FUNNEL:-0}" = 1 ] && extra=(--rollout-optimizee quadratic --rollout-steps 10 --rollout-seeds 1 --imitation-pass 0.9)
cli submit --home "$work/home" --name long --data "$work/data.csv" --grammar grammars/arith.json \
  --generations "$generations" --islands 2 --population 32 --threads 1 --seed 1 "${extra[@]}" >/dev/null
# Started directly (not through the cli function) so that $! is the daemon's own process.
dotnet "$dll" daemon --home "$work/home" --checkpoint-generations 1000 --keep 3 \
  --poll 1s --exit-when-idle > "$work/daemon.log" 2>&1 &
daemon_pid=$!
# The GC's committed memory (its share of the anon column, garbage included), if dotnet-counters is installed;
# attached once the job runs (attached at the daemon's very start, it held the runtime up), it ends with the daemon
# and is summarised at the end.
counters=$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")
[ -x "$counters" ] || counters=""

# Live managed MiB after the full collection a heap dump forces ('-' without dotnet-gcdump).
heap() {
  [ -n "$gcdump" ] || { echo "-"; return; }
  rm -f "$work/heap.gcdump"
  "$gcdump" collect -p "$daemon_pid" -o "$work/heap.gcdump" >/dev/null 2>&1 || { echo "-"; return; }
  "$gcdump" report "$work/heap.gcdump" 2>/dev/null | awk '/GC Heap bytes/ { b = $1; gsub(",", "", b); printf "%.1f", b / 1048576; exit }'
}
status() { grep -o "\"$1\": [0-9]*" "$work/home/jobs/long/status.json" 2>/dev/null | grep -o '[0-9]*$' || echo "${2:--}"; }

printf "%8s %10s %9s %9s %9s %7s %8s   (%s generations%s; load %s)\n" seconds generation "RSS MiB" "anon MiB" "heap MiB" memo records \
  "$generations" "${FUNNEL:+, funnel}" "$(cut -d' ' -f1-3 /proc/loadavg)"
start=$SECONDS
sample=0
samples="$work/samples"
: > "$samples"
while kill -0 "$daemon_pid" 2>/dev/null; do
  if [ "$max_seconds" -gt 0 ] && [ $((SECONDS - start)) -ge "$max_seconds" ]; then
    echo "stopping the daemon after ${max_seconds} s (SIGTERM: it saves the job and exits)"
    kill -TERM "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null || true
    break
  fi
  rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$daemon_pid/status" 2>/dev/null || echo "-")
  anon=$(awk '/RssAnon/ { printf "%.1f", $2 / 1024 }' "/proc/$daemon_pid/status" 2>/dev/null || echo "-")
  gen=$(status generation 0)
  mib="-"
  if [ -n "$counters" ] && [ "$gen" -gt 0 ]; then
    "$counters" collect -p "$daemon_pid" --counters "System.Runtime[dotnet.gc.last_collection.memory.committed_size]" \
      --refresh-interval "$every" --format csv -o "$work/counters.csv" >/dev/null 2>&1 &
    counters=""
  fi
  if [ $((sample % heap_every)) -eq 0 ] && [ "$gen" -gt 0 ]; then mib=$(heap); fi
  printf "%8d %10s %9s %9s %9s %7s %8s\n" $((SECONDS - start)) "$gen" "$rss" "$anon" "${mib:--}" "$(status cacheEntries)" "$(status rolloutRecords)" | tee -a "$samples"
  sample=$((sample + 1))
  sleep "$every"
done
daemon_pid=""
grep -o '"state": "[A-Za-z]*"' "$work/home/jobs/long/status.json" || true
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# Least-squares slope of column COL against the generation, in MiB per 1,000 generations, over the samples whose
# generation is at least FROM (samples without a value are skipped).
slope() {
  awk -v col="$1" -v from="$2" '$2 >= from && $col != "-" && $2 > 0 { n++; x = $2 / 1000; y = $col; sx += x; sy += y; sxx += x*x; sxy += x*y }
    END { if (n < 3 || n * sxx - sx * sx == 0) { printf "-" } else { printf "%+.2f (%d samples)", (n * sxy - sx * sy) / (n * sxx - sx * sx), n } }' "$samples"
}
last=$(awk '$2 > 0 { g = $2 } END { print g + 0 }' "$samples")
half=$((last / 2))
if [ -s "$work/counters.csv" ]; then
  echo "GC committed MiB (dotnet-counters, every ${every} s; 12 points evenly spaced over the run):"
  grep committed_size "$work/counters.csv" | awk -F, '{ t[NR] = $1; v[NR] = $NF / 1048576 } END { for (i = 1; i <= 12; i++) { k = int(1 + (NR - 1) * (i - 1) / 11); printf "  %s %.1f\n", t[k], v[k] } }'
fi
echo "slope, MiB per 1,000 generations: RSS $(slope 3 0) overall, $(slope 3 "$half") from generation $half;" \
     "anon $(slope 4 0) overall, $(slope 4 "$half") from generation $half;" \
     "live heap $(slope 5 0) overall, $(slope 5 "$half") from generation $half"
