#!/usr/bin/env bash
# Checkpoint overhead of the search daemon for a population of 1,000 (4 islands x 250 members):
# time per checkpoint (encode + SHA-256 frame + write + flush to disk + rename + prune) and its share of a generation.
# Runs one sr job with a checkpoint after every generation and prints the daemon's own timing line and status.
#   experiments/daemon/checkpoint-overhead.sh [GENERATIONS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/../.."
generations=${1:-40}
threads=${2:-2}
./run.sh version >/dev/null  # builds
cli() { dotnet host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# 1,000 rows of y = x0^2 + 2.5 x1 - x2, from a fixed awk seed.
awk 'BEGIN { srand(7); print "x0,x1,x2,y";
             for (i = 0; i < 1000; i++) { a = rand()*4-2; b = rand()*4-2; c = rand()*4-2;
                                           printf "%.6f,%.6f,%.6f,%.6f\n", a, b, c, a*a + 2.5*b - c } }' > "$work/data.csv"

cli submit --home "$work/home" --name pop1000 --data "$work/data.csv" --grammar grammars/arith.json \
  --generations "$generations" --islands 4 --population 250 --threads "$threads" --seed 1 >/dev/null
cli daemon --home "$work/home" --checkpoint-generations 1 --keep 3 --poll 100ms --exit-when-idle 2>&1 \
  | grep -E "checkpoint overhead|failed" || true
cli status --home "$work/home" pop1000 | grep -E "^(generation|evaluations|elapsed|checkpoint|timing)"
