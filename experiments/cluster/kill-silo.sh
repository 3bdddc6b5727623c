#!/usr/bin/env bash
# One search on three silo processes (localhost, Redis membership), the silo running the job's coordinator killed
# with SIGKILL midway; the result is compared with the single-process daemon's for the same job.
#   experiments/cluster/kill-silo.sh        (no arguments; GENERATIONS=N and ROWS=N resize the job)
# Ends with one line containing 'identical' or 'DIFFERENT'.
set -euo pipefail
cd "$(dirname "$0")/../.."
generations=${GENERATIONS:-240}
rows=${ROWS:-4000}
command -v redis-server >/dev/null || { echo "kill-silo: redis-server is not installed (apt-get install redis-server)" >&2; exit 2; }
dotnet build host/L2OEvolve.Cli -c Release -v quiet -nologo -clp:NoSummary >/dev/null
dll=host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll
cli() { dotnet "$dll" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
field() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$@" 2>/dev/null || true; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
# y = x0^2 x1 + cos(x2) on $rows rows from a fixed awk seed: selection sees all rows, so a generation costs real work.
awk -v n="$rows" 'BEGIN { srand(17); print "x0,x1,x2,y";
  for (i = 0; i < n; i++) { a = rand()*4-2; b = rand()*4-2; c = rand()*4-2; printf "%.6f,%.6f,%.6f,%.6f\n", a, b, c, a*a*b + cos(c) } }' >"$work/data.csv"
submit() {
  cli submit --home "$1" --name job --data "$work/data.csv" --grammar grammars/arith.json --generations "$generations" \
    --islands 6 --population 60 --threads 1 --seed 21 --batch-rows 0 >/dev/null
}

# The job is queued first and the silos come up at their own pace: islands spread as silos join (each island moves to its
# home silo at the next generation).
start=$(date +%s.%N)
submit "$work/shared"
declare -A silo_pid
for i in 1 2 3; do
  sp=$(free_port); gp=$(free_port)
  printf '{ "clusterId": "kill-silo", "redis": "127.0.0.1:%s", "siloPort": %s, "gatewayPort": %s }\n' "$port" "$sp" "$gp" >"$work/silo$i.json"
  # dotnet itself in the background (not the cli function), so $! is the silo's own pid.
  dotnet "$dll" daemon --home "$work/shared" --cluster "$work/silo$i.json" --checkpoint-generations 5 --poll 200ms --exit-when-idle >"$work/silo$i.log" 2>&1 &
  pids+=($!)
  silo_pid[$sp]=$!
done
# Midway: kill -9 the silo that runs the coordinator (the harder case: its islands and the barrier loop die together).
gen() { local g; g=$(field "$work/shared/jobs/job/status.json" 'd["generation"]'); echo "${g:-0}"; }
for _ in $(seq 6000); do [ "$(gen)" -ge $((generations / 2)) ] && break; sleep 0.2; done
coordinator=$(field "$work/shared/jobs/job/islands.json" 'd["coordinator"]')
victim_port=$(echo "$coordinator" | cut -d: -f2)
killed_at=$(field "$work/shared/jobs/job/status.json" 'd["generation"]')
kill -9 "${silo_pid[$victim_port]}"
echo "kill-silo: SIGKILL to the silo on port $victim_port (coordinator, islands $(field "$work/shared/jobs/job/islands.json" '[i for i, s in enumerate(d["islands"]) if s == "'"$coordinator"'"]')) at generation $killed_at"

for _ in $(seq 3000); do
  state=$(field "$work/shared/jobs/job/status.json" 'd["state"].lower()')
  if [ "$state" = finished ] || [ "$state" = failed ]; then break; fi
  sleep 0.2
done
cluster_s=$(echo "$(date +%s.%N) - $start" | bc)
cli status --home "$work/shared" job | grep -E "^(state|generation|coordinator)|  S[0-9]" || true
grep -h "resumed at generation" "$work"/silo*.log | sed 's/^/kill-silo: /' || true
for p in "${pids[@]:1}"; do kill -TERM "$p" 2>/dev/null || true; done

submit "$work/single"
start=$(date +%s.%N)
cli daemon --home "$work/single" --checkpoint-generations 5 --poll 200ms --exit-when-idle >"$work/single.log" 2>&1
single_s=$(echo "$(date +%s.%N) - $start" | bc)
printf 'kill-silo: %s generations: 3 silos with one killed %.1f s, single-process daemon %.1f s (load average %s)\n' \
  "$generations" "$cluster_s" "$single_s" "$(cut -d' ' -f1-3 /proc/loadavg)"
if cmp -s "$work/single/jobs/job/hall_of_fame.csv" "$work/shared/jobs/job/hall_of_fame.csv" \
   && cmp -s "$work/single/jobs/job/result.txt" "$work/shared/jobs/job/result.txt"; then
  echo "kill-silo: hall of fame and result identical to the single-process daemon's"
else
  diff "$work/single/jobs/job/result.txt" "$work/shared/jobs/job/result.txt" | head -20 || true
  echo "kill-silo: hall of fame DIFFERENT from the single-process daemon's"
fi
