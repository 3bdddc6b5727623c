#!/usr/bin/env bash
# kill -9 the daemon at random moments of one sr job, restart it, repeat; then compare the final hall of fame with
# that of the same job run without interruption (it must be identical, byte for byte).
#   experiments/daemon/kill-stress.sh [CYCLES] [GENERATIONS]
# With FUNNEL=1 the job scores with the funnel fitness (imitation, then rollouts on mlp-fashion: Fashion-MNIST from
# dataset-fashion-mnist, 8 steps x 2 seeds); the uninterrupted reference runs with --threads 1 and the killed job
# with --threads 2, so the comparison also covers the thread count. Its generations are slow and libtorch's start-up
# is long, so each kill waits for progress instead of a fixed time: until the job has passed a random generation
# 1-GAP generations beyond the last kill (GAP = GENERATIONS / (CYCLES + 1)), then 0.0-0.9 s more (often inside a
# rollout), at most 300 s.
set -uo pipefail
cd "$(dirname "$0")/../.."
cycles=${1:-20}
funnel=${FUNNEL:-0}
generations=${2:-$([ "$funnel" = 1 ] && echo 300 || echo 3000)}
./run.sh version >/dev/null  # builds
cli() { dotnet host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$funnel" = 1 ]; then
  awk 'BEGIN { srand(5); print "g0,mt0,gt0,y";
               for (i = 0; i < 400; i++) { g = rand()*2-1; m = 0.5*g + 0.5*(rand()*2-1); t = rand();
                                            printf "%.6f,%.6f,%.6f,%.6f\n", g, m, t, -2*m } }' > "$work/data.csv"
  job=(--islands 2 --population 16 --warm-start "-1 * g0" --rollout-optimizee mlp-fashion --rollout-steps 8 --rollout-seeds 2
       --rollout-scale 0.02 --imitation-pass 0.9)
  threads=(1 2)
else
  awk 'BEGIN { srand(3); print "x0,x1,y";
               for (i = 0; i < 200; i++) { a = rand()*4-2; b = rand()*4-2; printf "%.6f,%.6f,%.6f\n", a, b, a*a + 2.5*b } }' > "$work/data.csv"
  job=(--islands 2 --population 40)
  threads=(1 1)
fi
i=0
for home in reference crashed; do
  cli submit --home "$work/$home" --name job --data "$work/data.csv" --grammar grammars/arith.json \
    --generations "$generations" --threads "${threads[$i]}" --seed 9 "${job[@]}" >/dev/null
  i=$((i + 1))
done
cli daemon --home "$work/reference" --exit-when-idle --poll 100ms >/dev/null 2>&1

RANDOM=42  # the kill moments are random but reproducible
kills=0
last=0
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
echo -n "killed at generations:"
for _ in $(seq 1 "$cycles"); do
  # Started directly (not through the cli function) so that $! is the daemon's own pid, not a subshell's.
  dotnet host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll daemon --home "$work/crashed" --poll 100ms --checkpoint-generations 1 >/dev/null 2>&1 &
  pid=$!
  if [ "$funnel" = 1 ]; then
    target=$((last + 1 + RANDOM % (generations / (cycles + 1))))
    for _ in $(seq 1 3000); do
      g=$(grep -o '"generation": [0-9]*' "$work/crashed/jobs/job/status.json" 2>/dev/null | head -1 | cut -d' ' -f2)
      [ "${g:-0}" -ge "$target" ] && break
      grep -q '"state": "Finished"' "$work/crashed/jobs/job/status.json" 2>/dev/null && break
      sleep 0.1
    done
    sleep "0.$((RANDOM % 10))"
  else
    sleep "1.$((RANDOM % 10))"
  fi
  if grep -q '"state": "Finished"' "$work/crashed/jobs/job/status.json" 2>/dev/null; then kill -TERM $pid; wait $pid; break; fi
  kill -9 $pid; wait $pid 2>/dev/null
  kills=$((kills + 1))
  last=$(grep -o '"generation": [0-9]*' "$work/crashed/jobs/job/status.json" 2>/dev/null | head -1 | cut -d' ' -f2)
  echo -n " ${last:-0}"
  last=${last:-0}
done
echo
cli daemon --home "$work/crashed" --exit-when-idle --poll 100ms >/dev/null 2>&1
echo "kill -9 cycles: $kills of a $generations-generation job${FUNNEL:+ (funnel on mlp-fashion, reference 1 thread, killed run 2 threads)}"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$funnel" = 1 ]; then
  # The reference must have run rollouts for the comparison to mean anything: a member scored below 2 got some.
  echo "reference members scored by rollouts: $(awk -F'|' 'NR > 1 && $2 + 0 > 0 && $2 + 0 < 2' "$work/reference/jobs/job/hall_of_fame.csv" | wc -l)"
fi
if cmp -s "$work/reference/jobs/job/hall_of_fame.csv" "$work/crashed/jobs/job/hall_of_fame.csv"; then
  echo "final hall of fame: identical to the uninterrupted run"
else
  echo "final hall of fame: DIFFERENT from the uninterrupted run"; exit 1
fi
