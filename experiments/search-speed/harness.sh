#!/usr/bin/env bash
# The search loop in process (`bench search`: L2OEvolve.Benchmarks/SearchLoopTiming.cs), this tree ("new") against an
# older commit ("old", built once into runs/search-speed/harness-<commit>/ with this tree's harness), alternating round
# by round on poly.csv. Prints evals/s, evals per CPU-second, the split of CPU time (row evaluator, compiling, constant
# fitting, the rest) and the final search state's digest, which must be the same for old and new (same search).
#   BASE=37c04c9 ROUNDS=5 THREADS=1 GENERATIONS=3000 experiments/search-speed/harness.sh
# Each part is timed with a wall clock around it: on a loaded machine, time the thread spends descheduled lands in
# whichever part was running, so read the split from a quiet machine (or the lowest-load rounds).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/search-speed}
BASE=${BASE:-37c04c9}
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-1}
WARM=${WARM:-500}
GENERATIONS=${GENERATIONS:-3000}
mkdir -p "$OUT/data"
[ -f "$OUT/data/poly.csv" ] || /usr/bin/python3 experiments/search-speed/make_data.py "$OUT/data" >&2

dotnet build experiments/L2OEvolve.Benchmarks -c Release -v quiet -nologo -clp:NoSummary >&2
new=experiments/L2OEvolve.Benchmarks/bin/Release/net10.0/L2OEvolve.Benchmarks.dll
base_dir="$OUT/harness-$BASE"
old="$base_dir/experiments/L2OEvolve.Benchmarks/bin/Release/net10.0/L2OEvolve.Benchmarks.dll"
if [ ! -f "$old" ]; then
  echo "== building $BASE with this tree's harness into $base_dir" >&2
  rm -rf "$base_dir" && mkdir -p "$base_dir"
  git archive "$BASE" | tar -x -C "$base_dir"
  cp experiments/L2OEvolve.Benchmarks/SearchLoopTiming.cs experiments/L2OEvolve.Benchmarks/Program.cs "$base_dir/experiments/L2OEvolve.Benchmarks/"
  dotnet build "$base_dir/experiments/L2OEvolve.Benchmarks" -c Release -v quiet -nologo -clp:NoSummary >&2
fi

echo "### In-process search loop: poly.csv, grammars/arith.json, $THREADS thread(s), generations $WARM..$((WARM + GENERATIONS)), seed 1 (old = $BASE)"
echo
echo "| round | program | load before | evals/s | evals per CPU-s | row evaluator µs/eval | compile µs/eval | LM µs/eval | rest µs/eval | overhead / evaluator | GC pauses s | digest |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for r in $(seq 1 "$ROUNDS"); do
  for prog in old new; do
    dll=$([ "$prog" = old ] && echo "$old" || echo "$new")
    l=$(cut -d' ' -f1 /proc/loadavg)
    out=$(dotnet "$dll" search --data "$OUT/data/poly.csv" --threads "$THREADS" --warm "$WARM" --generations "$GENERATIONS")
    us() { grep -F "| $1" <<< "$out" | awk -F'|' '{ gsub(/ /, "", $5); print $5 }'; }
    rate=$(sed -n 's/^evals\/s \([0-9]*\) .*/\1/p' <<< "$out")
    cpu=$(sed -n 's/.*evals per CPU-s \([0-9]*\) .*/\1/p' <<< "$out")
    ratio=$(sed -n 's/^search overhead \/ row evaluation = \([0-9.]*\) .*/\1/p' <<< "$out")
    pauses=$(sed -n 's/.*GC pauses \([0-9.]*\) s.*/\1/p' <<< "$out")
    digest=$(sed -n 's/^final state digest //p' <<< "$out")
    echo "| $r | $prog | $l | $rate | $cpu | $(us 'row evaluator') | $(us 'compiling') | $(us 'constant fitting') | $(us 'the rest') | $ratio | $pauses | $digest |"
  done
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
