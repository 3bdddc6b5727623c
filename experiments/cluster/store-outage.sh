#!/usr/bin/env bash
# The membership store going away mid-run: two silo processes on localhost run a job while redis-server is frozen
# (SIGSTOP) for OUTAGE seconds, then thawed; the result is compared with the single-process daemon's, and the silos'
# log lines about the store are shown.
#   experiments/cluster/store-outage.sh      (no arguments; GENERATIONS=N, ROWS=N, OUTAGE=S resize it; FITNESS=funnel|mse)
# Ends with one line containing 'identical' or 'DIFFERENT'.
set -euo pipefail
cd "$(dirname "$0")/../.."
fitness=${FITNESS:-mse}
generations=${GENERATIONS:-120}
outage=${OUTAGE:-20}
threads=1
me=store-outage
. experiments/cluster/common.sh
redis_pid=${pids[0]}

submit "$work/shared"
for i in 1 2; do
  printf '{ "clusterId": "outage", "redis": "127.0.0.1:%s", "siloPort": %s, "gatewayPort": %s }\n' "$port" "$(free_port)" "$(free_port)" >"$work/silo$i.json"
  dotnet "$dll" daemon --home "$work/shared" --cluster "$work/silo$i.json" --checkpoint-generations 5 --poll 200ms --exit-when-idle >"$work/silo$i.log" 2>&1 &
  pids+=($!)
done
gen() { local g; g=$(field "$work/shared/jobs/job/status.json" 'd["generation"]'); echo "${g:-0}"; }
for _ in $(seq 6000); do [ "$(gen)" -ge $((generations / 3)) ] && break; sleep 0.2; done
echo "store-outage: redis-server frozen at generation $(gen) for $outage s"
kill -STOP "$redis_pid"
sleep "$outage"
echo "store-outage: redis-server thawed at generation $(gen)"
kill -CONT "$redis_pid"
state=$(wait_done "$work/shared")
echo "store-outage: job $state at generation $(gen)"
for p in "${pids[@]:1}"; do wait "$p" 2>/dev/null || true; done
grep -hE "membership store|Membership|membership table|IAmAlive" "$work"/silo*.log | cut -c1-220 | awk '!seen[substr($0, 14, 100)]++' | head -8 | sed 's/^/store-outage: log: /' || true

submit "$work/single"
cli daemon --home "$work/single" --checkpoint-generations 5 --poll 200ms --exit-when-idle >"$work/single.log" 2>&1
if cmp -s "$work/single/jobs/job/hall_of_fame.csv" "$work/shared/jobs/job/hall_of_fame.csv"; then
  echo "store-outage: hall of fame identical to the single-process daemon's"
else
  echo "store-outage: hall of fame DIFFERENT from the single-process daemon's"
fi
