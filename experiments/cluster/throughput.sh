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
# The job's own clock (status.json) over all its generations: silo start-up and joining are not counted, but each
# process's first generations are (loading the data, the rollouts' reference runs, compiling).
per_generation() { field "$1/jobs/job/status.json" '"%.3f" % (d["elapsedSeconds"] / max(1, d["generation"]))'; }
# steady HOME: waits for the job there to end; prints the seconds per generation after the first two, by the wall
# clock (polled every 0.2 s), which leaves the processes' warm-up out.
steady() {
  local t2= now gs
  for _ in $(seq 36000); do
    gs=$(field "$1/jobs/job/status.json" '"%d %s" % (d["generation"], d["state"].lower())')
    now=$(date +%s.%N)
    if [ -z "$t2" ] && [ "${gs%% *}" -ge 2 ] 2>/dev/null; then t2=$now; fi
    case "${gs#* }" in finished|failed) break ;; esac
    sleep 0.2
  done
  python3 -c "print('%.3f' % (($now - ${t2:-$now}) / max(1, $generations - 2)))"
}

submit "$work/single"
cli daemon --home "$work/single" --checkpoint-generations 10 --poll 100ms --exit-when-idle >"$work/single.log" 2>&1 &
pids+=($!)
base_steady=$(steady "$work/single")
wait "${pids[-1]}" 2>/dev/null || true
base=$(per_generation "$work/single")
printf 'throughput: %s generations, %s, %s threads; load average before the silo runs: %s\n' "$generations" "$describe" "$threads" "$(cut -d' ' -f1-3 /proc/loadavg)"
base_rollouts=$(field "$work/single/jobs/job/status.json" 'd.get("counters", {}).get("rollouts", 0)')
printf 'throughput: single-process daemon   %s s/generation, %s after generation 2 (baseline), %s rollouts\n' "$base" "$base_steady" "$base_rollouts"

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
  st=$(steady "$home")
  for p in "${mine[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${mine[@]}"; do wait "$p" 2>/dev/null || true; done
  same=DIFFERENT
  cmp -s "$work/single/jobs/job/hall_of_fame.csv" "$home/jobs/job/hall_of_fame.csv" && same=identical
  # Each silo logs the rollouts it ran for its islands when it stops (its own cache's misses).
  rollouts=$(cat "$work/s$n-"*.log | sed -n 's/.*this silo ran \([0-9]*\) rollouts.*/\1/p' | paste -sd+ - | bc)
  printf 'throughput: %s silo(s)              %s s/generation (%s x baseline), %s after generation 2 (%s x), %s rollouts, hall of fame %s, islands per silo: %s\n' \
    "$n" "$(per_generation "$home")" "$(python3 -c "print('%.2f' % ($(per_generation "$home") / $base))")" \
    "$st" "$(python3 -c "print('%.2f' % ($st / max(1e-9, $base_steady)))")" "${rollouts:-?}" "$same" \
    "$(field "$home/jobs/job/islands.json" '" ".join(str(d["islands"].count(s)) for s in sorted(set(d["islands"])))')"
done
printf 'throughput: load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
