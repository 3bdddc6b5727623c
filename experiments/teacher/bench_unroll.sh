#!/usr/bin/env bash
# Meta-training time per unroll: l2oevolve (TorchSharp/libtorch 2.10) with its fused LSTM cell and with libtorch's
# LSTMCell, beside Debian's python3-torch 1.13 with the OpenMP build of OpenBLAS: the same workload in the same run,
# interleaved so all three see the same machine load.
# Workload: RNNprop 2x20 (Linear(2,20)+ELU, LSTMCell 20, LSTMCell 20, Linear, tanh) meta-trained on an MLP 784-20-10
# sigmoid (mlp-mnist-dm) on Fashion-MNIST, batch 128, unroll 20, 100 steps per epoch (5 unrolls), 3 epochs.
#   experiments/teacher/bench_unroll.sh [THREADS] [ROUNDS]
# Prints every run's time split, then a table: mean seconds per unroll (sum of the timed phases over all unrolls,
# the same phases on both sides), steady-state wall seconds per unroll (epochs 2-3), peak memory, ratio to PyTorch.
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-1}
rounds=${2:-2}
if [ "$(id -u)" = 0 ]; then
  dpkg -s python3-torch libopenblas0-openmp time >/dev/null 2>&1 || apt-get install -y -q python3-torch libopenblas0-openmp time >/dev/null
fi
./run.sh version >/dev/null   # builds once
cli=host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll
blas=/usr/lib/x86_64-linux-gnu/openblas-openmp
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
measure() { # NAME COMMAND...: runs it under /usr/bin/time, keeps its output and its peak RSS
  local name=$1; shift
  /usr/bin/time -f "maxrss %M" -o "$tmp/$name.rss" "$@" > "$tmp/$name.out" 2>&1
  grep -E "epoch|time per|per unroll" "$tmp/$name.out" | sed "s/^/  /"
  cat "$tmp/$name.out" >> "$tmp/$name.all"
  cat "$tmp/$name.rss" >> "$tmp/$name.rssall"
}
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), threads=$threads"
for r in $(seq 1 "$rounds"); do
  for kernel in fused libtorch; do
    echo "== round $r: l2oevolve, --lstm-kernel $kernel"
    rm -rf "$tmp/run"
    measure "$kernel" dotnet "$cli" teacher train --model rnnprop --optimizee mlp-mnist-dm --epochs 3 --steps 100 --unroll 20 \
      --threads "$threads" --lstm-kernel "$kernel" --out "$tmp/run"
  done
  echo "== round $r: pytorch (OpenBLAS OpenMP)"
  measure pytorch env LD_LIBRARY_PATH=$blas OMP_NUM_THREADS=$threads /usr/bin/python3 experiments/teacher/bench_unroll.py \
    --epochs 3 --steps 100 --unroll 20 --threads "$threads"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$tmp" <<'EOF'
import re, sys, statistics as st
tmp = sys.argv[1]
def parse(name):
    text = open(f"{tmp}/{name}.all").read()
    per = [float(x) for x in re.findall(r"per unroll ([0-9.]+) s =", text)]
    # steady state: epochs 2 and 3 of every run (the first pays for JIT and first-touch of memory)
    if name == "pytorch":
        walls = [[float(v) for v in m.split(", ")] for m in re.findall(r"epoch wall s/unroll: (.*)", text)]
        steady = [w for run in walls for w in run[1:]]
    else:
        steady = [float(x) for e, x in re.findall(r"epoch (\d+)/3 meta .*? ([0-9.]+) s/unroll", text) if e != "1"]
    rss = [int(x) / 1024 for x in re.findall(r"maxrss (\d+)", open(f"{tmp}/{name}.rssall").read())]
    return st.mean(per), st.mean(steady), max(rss)
rows = {n: parse(n) for n in ("fused", "libtorch", "pytorch")}
base = rows["pytorch"]
print(f"\n| implementation | s/unroll (timed phases) | steady wall s/unroll | peak RSS MB | time vs PyTorch |")
print("|---|---:|---:|---:|---:|")
names = {"fused": "l2oevolve, fused LSTM cell", "libtorch": "l2oevolve, libtorch LSTMCell", "pytorch": "PyTorch 1.13 + OpenBLAS (OpenMP)"}
for n, (per, steady, rss) in rows.items():
    print(f"| {names[n]} | {per:.4f} | {steady:.3f} | {rss:.0f} | {per / base[0]:.2f}x |")
EOF
