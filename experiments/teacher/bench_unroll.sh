#!/usr/bin/env bash
# Meta-training time per unroll: l2oevolve (TorchSharp/libtorch 2.10) beside Debian's python3-torch 1.13 with the
# OpenMP build of OpenBLAS, same workload in the same run, interleaved so both see the same machine load.
# Workload: RNNprop 2x20 (Linear(2,20)+ELU, LSTMCell 20, LSTMCell 20, Linear, tanh) meta-trained on an MLP
# 784-20-10 sigmoid (mlp-mnist-dm) on Fashion-MNIST, batch 128, unroll 20, 100 steps per epoch (5 unrolls), 3 epochs.
#   experiments/teacher/bench_unroll.sh [THREADS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-1}
rounds=${2:-2}
if [ "$(id -u)" = 0 ]; then
  dpkg -s python3-torch libopenblas0-openmp >/dev/null 2>&1 || apt-get install -y -q python3-torch libopenblas0-openmp >/dev/null
fi
./run.sh version >/dev/null   # builds once
cli() { dotnet host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll "$@"; }
blas=/usr/lib/x86_64-linux-gnu/openblas-openmp
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), threads=$threads"
for r in $(seq 1 "$rounds"); do
  echo "== round $r: l2oevolve"
  cli teacher train --model rnnprop --optimizee mlp-mnist-dm --epochs 3 --steps 100 --unroll 20 --threads "$threads" \
    --out "$tmp/run$r" 2>&1 | grep -E "epoch|time"
  echo "== round $r: pytorch (OpenBLAS OpenMP)"
  LD_LIBRARY_PATH=$blas OMP_NUM_THREADS=$threads /usr/bin/python3 experiments/teacher/bench_unroll.py --epochs 3 --steps 100 --unroll 20 --threads "$threads"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
