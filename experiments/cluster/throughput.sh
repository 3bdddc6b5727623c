#!/usr/bin/env bash
# Seconds per generation of one job with 1, 2 and 3 silo processes on localhost (Redis membership), beside the
# single-process daemon on the same job in the same run; every run's hall of fame is checked against the baseline's.
#   experiments/cluster/throughput.sh        (no arguments; FITNESS=funnel|mse, GENERATIONS=N, STEPS=N, ROWS=N)
# The default fitness is the funnel (rollouts on an MLP, seconds per generation; see common.sh); FITNESS=mse measures
# the barrier alone. On one machine, more silos add no cores: the figure shows the cost of lockstep and of several
# processes sharing the cores, not a speed-up.
set -euo pipefail
cd "$(dirname "$0")/../.."
fitness=${FITNESS:-funnel}
if [ "$fitness" = funnel ]; then generations=${GENERATIONS:-10}; else generations=${GENERATIONS:-60}; fi
threads=2
me=throughput
. experiments/cluster/common.sh
# The job's own clock (status.json) over its generations: silo start-up and joining are not counted.
per_generation() { field "$1/jobs/job/status.json" '"%.3f" % (d["elapsedSeconds"] / max(1, d["generation"]))'; }

submit "$work/single"
cli daemon --home "$work/single" --checkpoint-generations 10 --poll 100ms --exit-when-idle >"$work/single.log" 2>&1
base=$(per_generation "$work/single")
printf 'throughput: %s generations, %s, %s threads; load average before the silo runs: %s\n' "$generations" "$describe" "$threads" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'throughput: single-process daemon   %s s/generation (baseline)\n' "$base"

for n in 1 2 3; do
  home="$work/silos$n"
  mine=()
  for i in $(seq "$n"); do
    printf '{ "clusterId": "throughput-%s", "redis": "127.0.0.1:%s", "siloPort": %s, "gatewayPort": %s }\n' "$n" "$port" "$(free_port)" "$(free_port)" >"$work/c$n-$i.json"
    dotnet "$dll" daemon --home "$home" --cluster "$work/c$n-$i.json" --checkpoint-generations 10 --poll 100ms >"$work/s$n-$i.log" 2>&1 &
    pids+=($!); mine+=($!)
  done
  for _ in $(seq 900); do
    [ "$(field "$home/cluster/silos.json" 'sum(s["status"] == "active" for s in d["silos"])')" = "$n" ] && break
    sleep 0.2
  done
  submit "$home"
  wait_done "$home" >/dev/null
  for p in "${mine[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${mine[@]}"; do wait "$p" 2>/dev/null || true; done
  same=DIFFERENT
  cmp -s "$work/single/jobs/job/hall_of_fame.csv" "$home/jobs/job/hall_of_fame.csv" && same=identical
  printf 'throughput: %s silo(s)              %s s/generation (%s x baseline), hall of fame %s, islands per silo: %s\n' \
    "$n" "$(per_generation "$home")" "$(python3 -c "print('%.2f' % ($(per_generation "$home") / $base))")" "$same" \
    "$(field "$home/jobs/job/islands.json" '" ".join(str(d["islands"].count(s)) for s in sorted(set(d["islands"])))')"
done
printf 'throughput: load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
