#!/usr/bin/env bash
# A focused before/after of the evaluator paths the quick timing found noisy on a loaded machine: Adam over
# 100 coordinates x 100 steps and 1 x 10,000, the x1*x2+cos(x3) MSE on 200 rows, and compiling Adam's tree.
# Builds the baseline engine (default: the commit before the operator registry) and this tree's, one small program
# against each, and runs them alternately (base, new) for N rounds, each best of 15 timings after a 2 s warm-up.
# Usage: experiments/operators/ab.sh [BASELINE_REV] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
base=${1:-167c022}
rounds=${2:-4}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/baseline"
git archive "$base" engine/L2OEvolve.Engine Directory.Build.props Directory.Build.targets Directory.Packages.props global.json | tar -x -C "$tmp/baseline"
dotnet build "$tmp/baseline/engine/L2OEvolve.Engine" -c Release -v quiet -nologo -clp:NoSummary >/dev/null
dotnet build engine/L2OEvolve.Engine -c Release -v quiet -nologo -clp:NoSummary >/dev/null
tensors=$(grep -oP 'System.Numerics.Tensors" Version="\K[^"]+' Directory.Packages.props)
msgpack=$(grep -oP 'Include="MessagePack" Version="\K[^"]+' Directory.Packages.props)
for side in base new; do
  mkdir -p "$tmp/$side"
  cp experiments/operators/ab/Program.cs "$tmp/$side/"
  sed "s/@TENSORS@/$tensors/; s/@MSGPACK@/$msgpack/" experiments/operators/ab/abench.csproj.in > "$tmp/$side/abench.csproj"
  engine="$PWD/engine/L2OEvolve.Engine/bin/Release/net10.0/L2OEvolve.Engine.dll"
  [ "$side" = base ] && engine="$tmp/baseline/engine/L2OEvolve.Engine/bin/Release/net10.0/L2OEvolve.Engine.dll"
  dotnet build "$tmp/$side" -c Release -v quiet -nologo -clp:NoSummary -p:EngineDll="$engine" -o "$tmp/$side/out" >/dev/null
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  echo "base $base: $(dotnet "$tmp/base/out/abench.dll")"
  echo "new:          $(dotnet "$tmp/new/out/abench.dll")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
