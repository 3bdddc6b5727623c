#!/usr/bin/env bash
# Memory of a long daemon job: the daemon's resident set size (RSS) sampled against the job's generation, for an
# sr job (MSE fitness) and, with FUNNEL=1, the funnel fitness (imitation + rollouts on a quadratic). A flat RSS
# column means the run's memory does not grow with its length; a rising one measures the growth per generation.
#   experiments/daemon/memory.sh [GENERATIONS (default 50000)] [SAMPLE_SECONDS (default 5)]
# (on an idle 2-core machine a generation of this job takes about a millisecond; under load, many more)
set -euo pipefail
cd "$(dirname "$0")/../.."
generations=${1:-50000}
every=${2:-5}
dotnet build host/L2OEvolve.Cli -c Release -v quiet -nologo -clp:NoSummary >/dev/null
cli() { dotnet host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll "$@"; }

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
dotnet host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll daemon --home "$work/home" --checkpoint-generations 1000 --keep 3 \
  --poll 1s --exit-when-idle > "$work/daemon.log" 2>&1 &
daemon_pid=$!
printf "%8s %12s %10s   (%s generations%s; load %s)\n" seconds generation "RSS MiB" "$generations" "${FUNNEL:+, funnel}" "$(cut -d' ' -f1-3 /proc/loadavg)"
start=$SECONDS
while kill -0 "$daemon_pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$daemon_pid/status" 2>/dev/null || echo "-")
  gen=$(grep -o '"generation": [0-9]*' "$work/home/jobs/long/status.json" 2>/dev/null | grep -o '[0-9]*' || echo 0)
  printf "%8d %12s %10s\n" $((SECONDS - start)) "$gen" "$rss"
  sleep "$every"
done
daemon_pid=""
grep -o '"state": "[A-Za-z]*"' "$work/home/jobs/long/status.json"
