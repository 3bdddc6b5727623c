#!/usr/bin/env bash
# kill -9 the daemon at random moments of one sr job, restart it, repeat; then compare the final hall of fame with
# that of the same job run without interruption (it must be identical, byte for byte).
#   experiments/daemon/kill-stress.sh [CYCLES] [GENERATIONS]
set -uo pipefail
cd "$(dirname "$0")/../.."
cycles=${1:-20}
generations=${2:-3000}
./run.sh version >/dev/null  # builds
cli() { dotnet host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk 'BEGIN { srand(3); print "x0,x1,y";
             for (i = 0; i < 200; i++) { a = rand()*4-2; b = rand()*4-2; printf "%.6f,%.6f,%.6f\n", a, b, a*a + 2.5*b } }' > "$work/data.csv"
for home in reference crashed; do
  cli submit --home "$work/$home" --name job --data "$work/data.csv" --grammar grammars/arith.json \
    --generations "$generations" --islands 2 --population 40 --threads 1 --seed 9 >/dev/null
done
cli daemon --home "$work/reference" --exit-when-idle --poll 100ms >/dev/null 2>&1

RANDOM=42  # the kill moments are random but reproducible
kills=0
echo -n "killed at generations:"
for _ in $(seq 1 "$cycles"); do
  # Started directly (not through the cli function) so that $! is the daemon's own pid, not a subshell's.
  dotnet host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll daemon --home "$work/crashed" --poll 100ms --checkpoint-generations 1 >/dev/null 2>&1 &
  pid=$!
  sleep "1.$((RANDOM % 10))"
  if grep -q '"state": "Finished"' "$work/crashed/jobs/job/status.json" 2>/dev/null; then kill -TERM $pid; wait $pid; break; fi
  kill -9 $pid; wait $pid 2>/dev/null
  kills=$((kills + 1))
  echo -n " $(grep -o '"generation": [0-9]*' "$work/crashed/jobs/job/status.json" 2>/dev/null | head -1 | cut -d' ' -f2)"
done
echo
cli daemon --home "$work/crashed" --exit-when-idle --poll 100ms >/dev/null 2>&1
echo "kill -9 cycles: $kills of a $generations-generation job"
if cmp -s "$work/reference/jobs/job/hall_of_fame.csv" "$work/crashed/jobs/job/hall_of_fame.csv"; then
  echo "final hall of fame: identical to the uninterrupted run"
else
  echo "final hall of fame: DIFFERENT from the uninterrupted run"; exit 1
fi
