#!/usr/bin/env bash
# Meta-training time per unroll: l2oevolve (TorchSharp/libtorch 2.10) with its fused teacher step (one autograd node
# per network step) and with libtorch's modules, beside Debian's python3-torch 1.13 with the OpenMP build of
# OpenBLAS: the same workload in the same run, interleaved so all three see the same machine load.
# Workload: RNNprop 2x20 (Linear(2,20)+ELU, LSTMCell 20, LSTMCell 20, Linear, tanh) meta-trained on an MLP 784-20-10
# sigmoid (mlp-mnist-dm) on Fashion-MNIST, batch 128, unroll 20, 100 steps per epoch (5 unrolls), 3 epochs.
#   experiments/teacher/bench_unroll.sh [THREADS] [ROUNDS]
# Prints every run's time split with the load average before it, then a table over the rounds: the median and the
# range (min-max) of each run's seconds per unroll (sum of the timed phases over all unrolls, the same phases on both
# sides) and of its steady-state wall seconds per unroll (epochs 2-3), peak memory, and the ratio to PyTorch taken
# round by round (each round runs the three programs back to back, so a ratio compares runs under the same load),
# as median and range. One run's figure can mislead on a shared machine; the range says how far to trust it.
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
measure() { # NAME ROUND COMMAND...: runs it under /usr/bin/time, keeps its output, peak RSS and the load before it
  local name=$1 round=$2; shift 2
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  echo "  load before: $load"
  /usr/bin/time -f "maxrss %M" -o "$tmp/$name.$round.rss" "$@" > "$tmp/$name.$round.out" 2>&1
  echo "load $load" >> "$tmp/$name.$round.out"
  grep -E "epoch|time per|per unroll" "$tmp/$name.$round.out" | sed "s/^/  /"
}
echo "machine: $(nproc) cores, threads=$threads, rounds=$rounds; $(uptime)"
for r in $(seq 1 "$rounds"); do
  for kernel in fused libtorch; do
    echo "== round $r: l2oevolve, --lstm-kernel $kernel"
    rm -rf "$tmp/run"
    measure "$kernel" "$r" dotnet "$cli" teacher train --model rnnprop --optimizee mlp-mnist-dm --epochs 3 --steps 100 --unroll 20 \
      --threads "$threads" --lstm-kernel "$kernel" --out "$tmp/run"
  done
  echo "== round $r: pytorch (OpenBLAS OpenMP)"
  measure pytorch "$r" env LD_LIBRARY_PATH=$blas OMP_NUM_THREADS=$threads /usr/bin/python3 experiments/teacher/bench_unroll.py \
    --epochs 3 --steps 100 --unroll 20 --threads "$threads"
done
echo "after: $(uptime)"
python3 - "$tmp" "$rounds" <<'EOF'
import re, sys, statistics as st
tmp, rounds = sys.argv[1], int(sys.argv[2])
def run(name, r):
    text = open(f"{tmp}/{name}.{r}.out").read()
    per = float(re.search(r"per unroll ([0-9.]+) s =", text).group(1))
    # steady state: epochs 2 and 3 (the first pays for JIT and first-touch of memory)
    if name == "pytorch":
        walls = [float(v) for v in re.search(r"epoch wall s/unroll: (.*)", text).group(1).split(", ")]
        steady = st.mean(walls[1:])
    else:
        steady = st.mean(float(x) for e, x in re.findall(r"epoch (\d+)/3 meta .*? ([0-9.]+) s/unroll", text) if e != "1")
    rss = int(re.search(r"maxrss (\d+)", open(f"{tmp}/{name}.{r}.rss").read()).group(1)) / 1024
    load = float(re.search(r"^load ([0-9.]+)", text, re.M).group(1))
    return per, steady, rss, load
names = {"fused": "l2oevolve, fused teacher step", "libtorch": "l2oevolve, libtorch modules", "pytorch": "PyTorch 1.13 + OpenBLAS (OpenMP)"}
runs = {n: [run(n, r) for r in range(1, rounds + 1)] for n in names}
def spread(values, fmt):
    return f"{fmt.format(st.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"
print("\nper round (s/unroll, timed phases; load average before each run):")
for r in range(rounds):
    print(f"  round {r + 1}: " + ", ".join(f"{n} {runs[n][r][0]:.4f} (load {runs[n][r][3]:.2f})" for n in names))
loads = [x[3] for n in names for x in runs[n]]
print(f"\nmedian (min–max) over {rounds} rounds; load average before the runs {min(loads):.2f}–{max(loads):.2f}")
print("\n| implementation | s/unroll (timed phases) | steady wall s/unroll | peak RSS MB | time vs PyTorch, per round |")
print("|---|---:|---:|---:|---:|")
for n, label in names.items():
    ratios = [runs[n][r][0] / runs["pytorch"][r][0] for r in range(rounds)]
    print(f"| {label} | {spread([x[0] for x in runs[n]], '{:.4f}')} | {spread([x[1] for x in runs[n]], '{:.3f}')} "
          f"| {max(x[2] for x in runs[n]):.0f} | {spread(ratios, '{:.2f}x')} |")
EOF
