#!/usr/bin/env bash
# The Adam step, fused kernel and op chain (mlp-mnist-rp's 6 tensors; one tensor of 100,000), and a teacher's feature step over
# 24,380 coordinates for several revisions and this working tree, run alternately for N rounds so that load drifts
# hit every side (fused-step/Program.cs: best of 40 timings after a warm-up, thread CPU time and wall time).
# Usage: experiments/operators/fused-step-ab.sh ROUNDS REV [REV...]
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
rounds=$1; shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
libtorch=$(grep -oP 'Include="libtorch-cpu-linux-x64" Version="\K[^"]+' Directory.Packages.props)
sides=("$@" new)
. experiments/operators/revisions.sh
for side in "${sides[@]}"; do
  tree=$(tree_of "$side" "$tmp" engine Directory.Build.props Directory.Build.targets Directory.Packages.props global.json build)
  mkdir -p "$tmp/$side"
  cp experiments/operators/fused-step/Program.cs "$tmp/$side/"
  sed "s#@TREE@#$tree#; s#@LIBTORCH@#$libtorch#" experiments/operators/fused-step/fstep.csproj.in > "$tmp/$side/fstep.csproj"
  dotnet build "$tmp/$side" -c Release -v quiet -nologo -clp:NoSummary -o "$tmp/$side/out" >/dev/null
  # TorchSharp's native glue needs a newer libstdc++ (see Directory.Build.targets).
  bash build/torchsharp-fix.sh "$tmp/$side/out/" >/dev/null
done
for r in $(seq 1 "$rounds"); do
  for side in "${sides[@]}"; do
    echo "round $r, $(label_of "$side"), load $(cut -d' ' -f1-3 /proc/loadavg):"
    dotnet "$tmp/$side/out/fstep.dll" | sed 's/^/    /'
  done
done
