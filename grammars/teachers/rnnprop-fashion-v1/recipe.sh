#!/usr/bin/env bash
# Reproduces the published teacher rnnprop-fashion-v1 from scratch (run from anywhere in the repository):
#   1. experiments/teacher/beat_adam_fashion.sh with VALIDATE=1: RNNprop 2x20 meta-trained on mlp-fashion, 130 epochs
#      of 100 steps, unroll 20, meta-Adam lr 0.002, 8 imitation warm-up epochs then imitation with probability 0.3,
#      a one-stage curriculum evaluating every 5 epochs on 3 optimizees drawn from the training seed and keeping the
#      best weights (epoch 105 in the published run); then the held-out comparison with lr-tuned Adam at 100, 200 and
#      500 steps (seeds 0-9; Adam tuned on seeds 1000000-1000002 over 17 points 1e-3..1e-1). Recording and sr skipped.
#      The published run took 14.5 min of training on 2 cores (THREADS=2, the script's default).
#   2. teacher publish of the validation-selected best weights, with this script as recipe.sh; the fresh held-out
#      summaries are appended to the generated evaluation.md.
# Usage: recipe.sh [WORK_DIR] [OUT_DIR]   (defaults: runs/teacher/rnnprop-fashion-validated, runs/teacher/rnnprop-fashion-v1)
# The shipped folder came from experiments/teacher/results/rnnprop-fashion-validated/teacher, the committed output
# of step 1. Weights equal to the shipped ones bit for bit are expected only with the same thread count and CPU
# kernels; compare a rebuild by its evaluation.md and its teacher.json check figure.
set -euo pipefail
script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(git -C "$(dirname "$script")" rev-parse --show-toplevel)"
work=${1:-runs/teacher/rnnprop-fashion-validated}; out=${2:-runs/teacher/rnnprop-fashion-v1}
VALIDATE=1 SKIP_RECORD=1 SKIP_SR=1 experiments/teacher/beat_adam_fashion.sh "$work"
./run.sh teacher publish --teacher "$work/teacher" --weights best --name rnnprop-fashion --version 1 \
  --description 'RNNprop 2x20 meta-trained on mlp-fashion at a 100-step horizon, validation-selected: beats lr-tuned Adam on 10/10 held-out seeds at 1x and 2x its horizon, ties at 5x' \
  --recipe "$script" --out "$out"
for h in 1 2 5; do
  { echo; echo "## Held-out comparison at ${h}x the training horizon (rebuilt: $work/eval-${h}x/summary.md)"; echo; sed '1s/^# /**/;1s/$/**/' "$work/eval-${h}x/summary.md"; } >> "$out/evaluation.md"
done
