#!/usr/bin/env bash
# Evidence for the teachers: an RNNprop teacher meta-trained on mlp-fashion (MLP 784-100-10 ReLU on Fashion-MNIST),
# compared to lr-tuned Adam on held-out seeds at its training horizon and at 2x and 5x that horizon, then a
# distillation dataset recorded from it (lag rows over the paper-rp grammar's features + trajectories).
#
#   EPOCHS=6 STEPS=100 SEEDS=10 experiments/teacher/train_rnnprop_fashion.sh [OUT]
#
# Defaults keep it to minutes on a shared 2-core machine; the paper's recipe is EPOCHS=200 STEPS=200 (unroll 20),
# i.e. 2000 meta-updates. Training resumes where it stopped when rerun with the same OUT and settings.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/teacher/rnnprop-fashion}
EPOCHS=${EPOCHS:-6}; STEPS=${STEPS:-100}; UNROLL=${UNROLL:-20}; LR=${LR:-0.001}; IMIT=${IMIT:-0}
SEEDS=${SEEDS:-10}; HORIZONS=${HORIZONS:-"1 2 5"}; SAMPLES=${SAMPLES:-5000}; THREADS=${THREADS:-1}  # SR_TIME: sr budget (default 2m)
# L2O_CLI: a prebuilt l2oevolve.dll to run (lets a long run go on while the tree is rebuilt); default: build here.
if [ -z "${L2O_CLI:-}" ]; then ./run.sh version >/dev/null; L2O_CLI=host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll; fi
cli() { dotnet "$L2O_CLI" "$@"; }

cli teacher train --model rnnprop --optimizee mlp-fashion --epochs "$EPOCHS" --steps "$STEPS" --unroll "$UNROLL" \
  --lr "$LR" --imitation "$IMIT" --threads "$THREADS" --out "$out/teacher"

# Held-out seeds 0..SEEDS-1 (training epochs draw 63-bit seeds from the master seed); Adam's lr is tuned on seeds
# 1000000.. at the same horizon.
for h in $HORIZONS; do
  cli teacher eval --teacher "$out/teacher" --steps $((STEPS * h)) --seeds "$SEEDS" --baseline adam --threads "$THREADS" \
    --out "$out/eval-${h}x" | sed -n '1,8p'
done

cli teacher record --teacher "$out/teacher" --samples "$SAMPLES" --grammar grammars/paper-rp.json --steps 300 \
  --threads "$THREADS" --out "$out/data/rp.npy"

# Symbolic regression on the recorded rows (R2 at complexity <= 20 and the best R2 are in the hall of fame).
if cli sr --help >/dev/null 2>&1; then
  cli sr --data "$out/data/rp.npy" --grammar grammars/paper-rp.json --time "${SR_TIME:-2m}" --threads "$THREADS" \
    --seed 0 --quiet --out "$out/sr"
else
  echo "sr verb not in this build: run ./run.sh sr --data $out/data/rp.npy --grammar grammars/paper-rp.json --out $out/sr"
fi
