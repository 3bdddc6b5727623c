#!/usr/bin/env bash
# Cost of exact rollouts: a small funnel search (imitation + rollouts on mlp-fashion, 20 steps x 2 seeds, 8
# generations) timed with this build and with a baseline build of another commit, interleaved, at 1 and 2 threads.
# Needs Fashion-MNIST (apt-get install dataset-fashion-mnist). The baseline is built from a git archive (no worktree):
#   experiments/rollouts/exactness-cost.sh [BASELINE_COMMIT (default dbcc458, before per-copy rollouts)] [REPEATS (2)]
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:-dbcc458}
repeats=${2:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build host/L2OEvolve.Cli -c Release -v quiet -nologo -clp:NoSummary >/dev/null
git archive "$base" | tar -x -C "$work" --one-top-level=baseline
(cd "$work/baseline" && dotnet build host/L2OEvolve.Cli -c Release -v quiet -nologo -clp:NoSummary >/dev/null)
new=$PWD/host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll
old=$work/baseline/host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll
awk 'BEGIN { srand(5); print "g0,mt0,gt0,y";
             for (i = 0; i < 400; i++) { g = rand()*2-1; m = 0.5*g + 0.5*(rand()*2-1); t = rand();
                                          printf "%.6f,%.6f,%.6f,%.6f\n", g, m, t, -2*m } }' > "$work/rows.csv"
echo '{"name": "tiny", "features": "from-data", "operators": {"+": 1, "*": 1, "neg": 1}, "maxsize": 9}' > "$work/g.json"
run() { # DLL THREADS NAME -> prints the search's own time
  dotnet "$1" sr --data "$work/rows.csv" --grammar "$work/g.json" --generations 8 --islands 2 --population 16 --seed 8 \
    --threads "$2" --quiet --warm-start "-1 * g0" --rollout-optimizee mlp-fashion --rollout-steps 20 --rollout-seeds 2 \
    --rollout-scale 0.02 --imitation-pass 0.9 --out "$work/$3" | grep -o 'in [0-9.]* s' | grep -o '[0-9.]*'
}
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%8s %7s %14s %14s\n" threads repeat "baseline s" "this build s"
for t in 1 2; do
  for r in $(seq "$repeats"); do printf "%8s %7s %14s %14s\n" "$t" "$r" "$(run "$old" "$t" "o$t$r")" "$(run "$new" "$t" "n$t$r")"; done
done
echo "this build, hall of fame at 1 and 2 threads: $(cmp -s "$work/n11/hall_of_fame.csv" "$work/n21/hall_of_fame.csv" && echo identical || echo DIFFERENT)"
