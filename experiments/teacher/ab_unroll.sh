#!/usr/bin/env bash
# Meta-training before/after: the l2oevolve of git revision BASE against this checkout's, on bench_unroll.sh's
# workload (RNNprop 2x20 on mlp-mnist-dm, 3 epochs x 100 steps, unroll 20, fused teacher step), interleaved round by
# round so both see the same machine load.
#   experiments/teacher/ab_unroll.sh BASE [ROUNDS] [THREADS]
# Per run it prints the timed seconds per unroll (all 15 unrolls, as bench_unroll.sh), the first epoch's and the
# later epochs' wall seconds per unroll, and what load does not change: minor page faults, peak RSS, and the
# meta-losses (which must be equal), and the run's CPU seconds (user+sys, start-up included). Then the medians per
# build and the ratio after/before per round.
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:?usage: ab_unroll.sh BASE [ROUNDS] [THREADS]}
rounds=${2:-3}
threads=${3:-1}
if [ "$(id -u)" = 0 ]; then dpkg -s time >/dev/null 2>&1 || apt-get install -y -q time >/dev/null; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$base" | tar -x -C "$tmp" --one-top-level=base
echo "building $base and this checkout"
dotnet build "$tmp/base/host/L2OEvolve.Cli" -c Release -v quiet >/dev/null
./run.sh version >/dev/null
declare -A cli=([before]="$tmp/base/host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll"
                [after]=host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll)
echo "machine: $(nproc) cores, threads=$threads, rounds=$rounds, before=$(git rev-parse --short "$base"), after=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- engine host || echo '+changes'); $(uptime)"
for r in $(seq 1 "$rounds"); do
  for side in before after; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    rm -rf "$tmp/run"
    /usr/bin/time -f "minor %R maxrss %M cpu %U %S" -o "$tmp/$side.$r.time" dotnet "${cli[$side]}" teacher train --model rnnprop \
      --optimizee mlp-mnist-dm --epochs 3 --steps 100 --unroll 20 --threads "$threads" --lstm-kernel fused --out "$tmp/run" \
      > "$tmp/$side.$r.out" 2>&1
    echo "load $load" >> "$tmp/$side.$r.out"
  done
done
python3 - "$tmp" "$rounds" <<'EOF'
import re, sys, statistics as st
tmp, rounds = sys.argv[1], int(sys.argv[2])
def run(side, r):
    text = open(f"{tmp}/{side}.{r}.out").read()
    t = open(f"{tmp}/{side}.{r}.time").read()
    epochs = re.findall(r"epoch (\d)/3 meta .*? meta-loss ([0-9.]+) ([0-9.]+) s/unroll", text)
    return dict(per=float(re.search(r"per unroll ([0-9.]+) s =", text).group(1)),
                first=float(epochs[0][2]), later=st.mean(float(e[2]) for e in epochs[1:]),
                losses=" ".join(e[1] for e in epochs), faults=int(re.search(r"minor (\d+)", t).group(1)),
                rss=int(re.search(r"maxrss (\d+)", t).group(1)) // 1024,
                cpu=sum(float(v) for v in re.search(r"cpu ([0-9.]+) ([0-9.]+)", t).groups()), load=float(re.search(r"^load ([0-9.]+)", text, re.M).group(1)))
runs = {s: [run(s, r) for r in range(1, rounds + 1)] for s in ("before", "after")}
print("\n| round | build | load | s/unroll (timed) | epoch 1 wall | epochs 2-3 wall | CPU s (user+sys, whole run) | minor faults | peak RSS MB | meta-losses |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
for r in range(rounds):
    for s in ("before", "after"):
        x = runs[s][r]
        print(f"| {r + 1} | {s} | {x['load']:.2f} | {x['per']:.4f} | {x['first']:.3f} | {x['later']:.3f} | {x['cpu']:.2f} | {x['faults']} | {x['rss']} | {x['losses']} |")
print("\nmedians over the rounds:")
for s in ("before", "after"):
    m = lambda k: st.median(x[k] for x in runs[s])
    print(f"  {s}: {m('per'):.4f} s/unroll timed, epoch 1 {m('first'):.3f}, epochs 2-3 {m('later'):.3f} s/unroll wall, {m('cpu'):.2f} s CPU, {m('faults'):.0f} minor faults")
ratios = sorted(runs["after"][r]["per"] / runs["before"][r]["per"] for r in range(rounds))
print(f"after/before per round (timed): median {st.median(ratios):.2f}x, range {ratios[0]:.2f}x-{ratios[-1]:.2f}x")
same = all(runs["after"][r]["losses"] == runs["before"][r]["losses"] for r in range(rounds))
print(f"meta-losses equal in every round: {same}")
EOF
echo "after: $(uptime)"
