#!/usr/bin/env bash
# Reruns the paper's sanity table (docs/symbolic-l2o.md, 'Sanity problems'): recover known update rules from noisy AR(1) gradient sequences with 20 lags,
# with l2oevolve's `sr` and, side by side on the same data and time budget, DEAP's GP symbolic regression.
#   experiments/sanity/run.sh                 budgets = a tenth of the paper's seconds
#   SCALE=3 experiments/sanity/run.sh         budgets x3;  THREADS=1, SEED=1, OUT=dir also honoured
# Prints a markdown table (also saved as $OUT/table.md). Needs only ./run.sh (dotnet) and, for DEAP, python3-deap.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/sanity}
SCALE=${SCALE:-1}
THREADS=${THREADS:-2}
SEED=${SEED:-0}
mkdir -p "$OUT"

# Building happens in the first ./run.sh call; later calls use the built CLI directly (no rebuild per problem).
./run.sh sanity-data --out "$OUT/data" --seed "$SEED"
cli() { dotnet host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll "$@"; }

PY=/usr/bin/python3
if ! $PY -c 'import deap, numpy' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q python3-deap >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q python3-deap >/dev/null 2>&1; } || true
  fi
fi
have_deap=0; $PY -c 'import deap, numpy' 2>/dev/null && have_deap=1 || echo "sanity: python3-deap unavailable; skipping the DEAP column" >&2

# name | data file | grammar | paper R2 | paper seconds
problems=(
  "sgd|sgd.csv|lags|1.0|49"
  "lagsum|lagsum.csv|lags|0.94|126"
  "mixed|mixed.csv|lags|0.98|256"
  "momentum (lags)|momentum.csv|lags|0.97|90"
  "momentum (ema)|momentum_traj.npy|stateful|0.97|90"
  "adam (lags)|adam.csv|lags|0.89|879"
  "adam (ema)|adam_traj.npy|stateful|0.89|879"
)

table="$OUT/table.md"
{
  echo "| target | paper R2 / s | budget s | l2oevolve R2 | s | evals/s | recovered formula (simplest within 1e-4 of the best R2) | DEAP R2 | DEAP evals/s | DEAP formula (size) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} > "$table"
for p in "${problems[@]}"; do
  IFS='|' read -r name file grammar paper_r2 paper_s <<< "$p"
  budget=$(awk -v s="$paper_s" -v k="$SCALE" 'BEGIN { b = s * k / 10; printf "%d", (b < 1 ? 1 : b + 0.999) }')
  tag=$(echo "$name" | tr -c 'a-z0-9\n' '_')
  log="$OUT/sr_$tag.log"
  echo "== $name: sr for up to ${budget}s" >&2
  cli sr --data "$OUT/data/$file" --grammar "experiments/sanity/grammars/$grammar.json" --time "${budget}s" \
      --target-r2 0.9999999 --seed "$SEED" --threads "$THREADS" --quiet --out "$OUT/sr_$tag" > "$log"
  secs=$(sed -n 's/^done .* in \([0-9.]*\) s;.*/\1/p' "$log")
  computed=$(sed -n 's/^done .*(\([0-9]*\) computed).*/\1/p' "$log")
  rate=$(awk -v n="$computed" -v s="$secs" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 1) }')
  # Reported: the simplest hall-of-fame formula within 1e-4 of the best R2 (the most accurate one often carries
  # terms worth 1e-12 of loss); the full Pareto front is in $OUT/sr_$tag/hall_of_fame.csv.
  read -r r2 formula < <(awk -F'|' 'NR > 1 { c[NR] = $3; f[NR] = $4; if ($3 > best) best = $3 }
      END { for (i = 2; i <= NR; i++) if (c[i] >= best - 1e-4) { printf "%.6f %s\n", c[i], f[i]; exit } }' "$OUT/sr_$tag/hall_of_fame.csv")
  deap_r2="-"; deap_rate="-"; deap_formula="-"
  if [ "$have_deap" = 1 ] && [[ "$file" == *.csv ]]; then
    echo "== $name: DEAP for ${budget}s" >&2
    dl=$($PY experiments/sanity/deap_gp.py --data "$OUT/data/$file" --time "$budget" --seed "$SEED")
    echo "$dl" > "$OUT/deap_$tag.log"
    deap_r2=$(sed -n 's/.*r2=\([-0-9.na]*\) .*/\1/p' <<< "$dl")
    deap_rate=$(sed -n 's/.*evals_per_s=\([0-9]*\) .*/\1/p' <<< "$dl")
    deap_formula=$(sed -n 's/.*formula=//p' <<< "$dl")
    deap_size=$(tr '(),' '\n\n\n' <<< "$deap_formula" | grep -c '[^ ]' || true)
    [ ${#deap_formula} -gt 60 ] && deap_formula="${deap_formula:0:57}..."
    deap_formula="$deap_formula ($deap_size)"
  fi
  echo "| $name | $paper_r2 / $paper_s | $budget | $r2 | $secs | $rate | \`$formula\` | $deap_r2 | $deap_rate | \`$deap_formula\` |" >> "$table"
done
echo "load average while running: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >> "$table"
cat "$table"
