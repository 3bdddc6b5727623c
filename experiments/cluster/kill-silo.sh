#!/usr/bin/env bash
# One search on three silo processes (localhost, Redis membership), the silo running the job's coordinator killed
# with SIGKILL midway; the result is compared with the single-process daemon's for the same job.
#   experiments/cluster/kill-silo.sh        (no arguments; GENERATIONS=N, FITNESS=funnel|mse, STEPS=N resize the job)
# The default job uses the funnel fitness (rollouts on an MLP; see common.sh) and runs a few minutes on two cores.
# Ends with one line containing 'identical' or 'DIFFERENT'.
set -euo pipefail
cd "$(dirname "$0")/../.."
fitness=${FITNESS:-funnel}
if [ "$fitness" = funnel ]; then generations=${GENERATIONS:-30}; else generations=${GENERATIONS:-240}; fi
threads=1
me=kill-silo
. experiments/cluster/common.sh
echo "kill-silo: $generations generations, $describe; load average at start $(cut -d' ' -f1-3 /proc/loadavg)"

# The job is queued first and the silos come up at their own pace: islands spread as silos join (each island moves to
# its home silo at the next generation).
start=$(date +%s.%N)
submit "$work/shared"
declare -A silo_pid
for i in 1 2 3; do
  sp=$(free_port); gp=$(free_port)
  printf '{ "clusterId": "kill-silo", "redis": "127.0.0.1:%s", "siloPort": %s, "gatewayPort": %s }\n' "$port" "$sp" "$gp" >"$work/silo$i.json"
  # dotnet itself in the background (not the cli function), so $! is the silo's own pid.
  dotnet "$dll" daemon --home "$work/shared" --cluster "$work/silo$i.json" --checkpoint-generations 2 --poll 200ms --exit-when-idle >"$work/silo$i.log" 2>&1 &
  pids+=($!)
  silo_pid[$sp]=$!
done
# Midway: kill -9 the silo that runs the coordinator (the harder case: its islands and the barrier loop die together).
gen() { local g; g=$(field "$work/shared/jobs/job/status.json" 'd["generation"]'); echo "${g:-0}"; }
for _ in $(seq 36000); do [ "$(gen)" -ge $((generations / 2)) ] && break; sleep 0.2; done
coordinator=$(field "$work/shared/jobs/job/islands.json" 'd["coordinator"]')
victim_port=$(echo "$coordinator" | cut -d: -f2)
killed_at=$(gen)
kill -9 "${silo_pid[$victim_port]}"
echo "kill-silo: SIGKILL to the silo on port $victim_port (coordinator, islands $(field "$work/shared/jobs/job/islands.json" '[i for i, s in enumerate(d["islands"]) if s == "'"$coordinator"'"]')) at generation $killed_at"

state=$(wait_done "$work/shared")
cluster_s=$(echo "$(date +%s.%N) - $start" | bc)
echo "kill-silo: cluster job $state"
cli status --home "$work/shared" job | grep -E "^(state|generation|coordinator)|  S[0-9]" || true
grep -h "resumed at generation" "$work"/silo*.log | sed 's/^/kill-silo: /' || true
for p in "${pids[@]:1}"; do kill -TERM "$p" 2>/dev/null || true; done

submit "$work/single"
start=$(date +%s.%N)
cli daemon --home "$work/single" --checkpoint-generations 2 --poll 200ms --exit-when-idle >"$work/single.log" 2>&1
single_s=$(echo "$(date +%s.%N) - $start" | bc)
printf 'kill-silo: %s generations: 3 silos with one killed %.1f s, single-process daemon %.1f s (load average %s)\n' \
  "$generations" "$cluster_s" "$single_s" "$(cut -d' ' -f1-3 /proc/loadavg)"
rollouts() { field "$1/jobs/job/status.json" 'd.get("counters", {}).get("rollouts", "?")'; }
[ "$fitness" = funnel ] && echo "kill-silo: rollouts run by the single-process daemon: $(rollouts "$work/single")"
if [ "$state" = finished ] && cmp -s "$work/single/jobs/job/hall_of_fame.csv" "$work/shared/jobs/job/hall_of_fame.csv" \
   && cmp -s "$work/single/jobs/job/result.txt" "$work/shared/jobs/job/result.txt"; then
  echo "kill-silo: hall of fame and result identical to the single-process daemon's"
else
  diff "$work/single/jobs/job/result.txt" "$work/shared/jobs/job/result.txt" | head -20 || true
  echo "kill-silo: hall of fame DIFFERENT from the single-process daemon's"
fi
