#!/usr/bin/env bash
# Search-loop speed, side by side in one run: `sr` of this tree (new), `sr` of an older commit (old, built into
# runs/), and DEAP's GP (Debian python3-deap, experiments/sanity/deap_gp.py), on the same 800 training rows.
#   experiments/search-speed/run.sh              old = dbcc458, 20 s per speed run, 3 interleaved rounds
#   BASE=<commit> TIME=30 ROUNDS=5 THREADS=2 EVALS="20000 100000 300000" SEEDS="1 2" OUT=dir experiments/search-speed/run.sh
# Prints two tables (also saved as $OUT/table.md):
#  1. evaluations per second under a wall-clock budget, old / new / DEAP alternating (so machine load hits all alike),
#     with the load average before each run; "evals" counts every candidate scored (memo hits included, the figure
#     the search's budget counts), "computed" only those the evaluator ran (sr's progress line shows this one);
#     "per CPU-s" divides evals by the process's user+system time, which a loaded machine distorts far less;
#  2. best training MSE at fixed evaluation budgets (--evaluations) on three data sets, old vs new: the same seed must
#     give the same loss when the speed-up kept the search's arithmetic (determinism), whatever the machine load.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/search-speed}
BASE=${BASE:-dbcc458}
TIME=${TIME:-20}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
EVALS=${EVALS:-20000 100000 300000}
SEEDS=${SEEDS:-1}
GRAMMAR=grammars/arith.json
mkdir -p "$OUT/data"
PY=/usr/bin/python3

if ! $PY -c 'import deap, numpy' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q python3-deap python3-numpy >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q python3-deap python3-numpy >/dev/null 2>&1; } || true
  fi
fi
$PY -c 'import deap, numpy' 2>/dev/null || { echo "search-speed: needs python3-deap and python3-numpy (apt-get install python3-deap)" >&2; exit 2; }
$PY experiments/search-speed/make_data.py "$OUT/data" >&2

# The new binary is this tree's; the old one is built once from `git archive` of $BASE in $OUT/base-$BASE.
./run.sh version >/dev/null   # builds once
new=host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll
base_dir="$OUT/base-$BASE"
old="$base_dir/host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll"
if [ ! -f "$old" ]; then
  echo "== building $BASE into $base_dir" >&2
  rm -rf "$base_dir" && mkdir -p "$base_dir"
  git archive "$BASE" | tar -x -C "$base_dir"
  dotnet build "$base_dir/host/L2OEvolve.Cli" -c Release -v quiet -nologo -clp:NoSummary >&2
fi

load() { cut -d' ' -f1 /proc/loadavg; }
cpu="$OUT/cpu.txt"
# sr_run DLL ARGS... -> "evaluations computed seconds"; its user+system seconds go to $cpu
sr_run() {
  local dll=$1; shift
  /usr/bin/time -f "%U %S" -o "$cpu" dotnet "$dll" sr --grammar "$GRAMMAR" --threads "$THREADS" --quiet "$@" \
    | sed -n 's/^done .* generations, \([0-9]*\) evaluations (\([0-9]*\) computed) in \([0-9.]*\) s;.*/\1 \2 \3/p'
}
cpu_seconds() { awk '{ print $1 + $2 }' "$cpu"; }

table="$OUT/table.md"
{
  echo "### Evaluations per second: poly.csv (800 rows), $GRAMMAR, $THREADS threads, ${TIME} s per run, $ROUNDS interleaved rounds"
  echo
  echo "| round | program | load before | evals/s | computed/s | evals per CPU-s |"
  echo "|---|---|---|---|---|---|"
} > "$table"
declare -A rates cpus
for r in $(seq 1 "$ROUNDS"); do
  for prog in old new deap; do
    l=$(load)
    echo "== round $r: $prog (load $l)" >&2
    if [ "$prog" = deap ]; then
      line=$(/usr/bin/time -f "%U %S" -o "$cpu" $PY experiments/sanity/deap_gp.py --data "$OUT/data/poly.csv" --time "$TIME" --seed "$r" --population 1000)
      rate=$(sed -n 's/.*evals_per_s=\([0-9]*\) .*/\1/p' <<< "$line")
      computed=$rate
      per_cpu=$(awk -v n="$(sed -n 's/.* evals=\([0-9]*\) .*/\1/p' <<< "$line")" -v c="$(cpu_seconds)" 'BEGIN { printf "%.0f", n / c }')
    else
      dll=$([ "$prog" = old ] && echo "$old" || echo "$new")
      read -r evals comp secs < <(sr_run "$dll" --data "$OUT/data/poly.csv" --time "${TIME}s" --seed "$r" --out "$OUT/speed_${prog}_$r")
      rate=$(awk -v n="$evals" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
      computed=$(awk -v n="$comp" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
      per_cpu=$(awk -v n="$evals" -v c="$(cpu_seconds)" 'BEGIN { printf "%.0f", n / c }')
    fi
    rates[$prog]+="$rate "
    cpus[$prog]+="$per_cpu "
    echo "| $r | $prog | $l | $rate | $computed | $per_cpu |" >> "$table"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
range() { tr ' ' '\n' | grep . | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }'; }
{
  echo
  echo "| program | median evals/s | range | median evals per CPU-s | range |"
  echo "|---|---|---|---|---|"
  for prog in old new deap; do
    echo "| $prog | $(median <<< "${rates[$prog]}") | $(range <<< "${rates[$prog]}") | $(median <<< "${cpus[$prog]}") | $(range <<< "${cpus[$prog]}") |"
  done
  mo=$(median <<< "${rates[old]}"); mn=$(median <<< "${rates[new]}"); md=$(median <<< "${rates[deap]}")
  echo
  echo "new/old = $(awk -v a="$mn" -v b="$mo" 'BEGIN { printf "%.2f", a / b }')×, new/DEAP = $(awk -v a="$mn" -v b="$md" 'BEGIN { printf "%.1f", a / b }')×, old/DEAP = $(awk -v a="$mo" -v b="$md" 'BEGIN { printf "%.1f", a / b }')× (medians)"
  echo
  echo "### Best training MSE at a fixed number of evaluations (old = $BASE, new = this tree; seeds: $SEEDS)"
  echo
  echo "| data | evaluations | seed | old best MSE | new best MSE | same | old s | new s |"
  echo "|---|---|---|---|---|---|---|---|"
} >> "$table"
for data in poly trig ratio; do
  for e in $EVALS; do
    for seed in $SEEDS; do
      echo "== $data: $e evaluations, seed $seed" >&2
      best=()
      secs=()
      for prog in old new; do
        dll=$([ "$prog" = old ] && echo "$old" || echo "$new")
        read -r _ _ s < <(sr_run "$dll" --data "$OUT/data/$data.csv" --evaluations "$e" --seed "$seed" --out "$OUT/q_${prog}_${data}_${e}_$seed")
        best+=("$(awk -F'|' 'NR > 1 && (min == "" || $2 + 0 < min + 0) { min = $2 } END { print min }' "$OUT/q_${prog}_${data}_${e}_$seed/hall_of_fame.csv")")
        secs+=("$s")
      done
      same=$([ "${best[0]}" = "${best[1]}" ] && cmp -s "$OUT/q_old_${data}_${e}_$seed/hall_of_fame.csv" "$OUT/q_new_${data}_${e}_$seed/hall_of_fame.csv" && echo "identical front" || echo "differs")
      echo "| $data | $e | $seed | ${best[0]} | ${best[1]} | $same | ${secs[0]} | ${secs[1]} |" >> "$table"
    done
  done
done
echo >> "$table"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >> "$table"
cat "$table"
