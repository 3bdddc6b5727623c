#!/usr/bin/env bash
# Compiling a rule for the row evaluator, revisions against this working tree, run alternately for N rounds so that
# load drifts hit every side (compile/Program.cs: after two seconds of warm-up over all rules, best ns per call over
# 400 batches of 2,000, and bytes per call).
# Usage: experiments/operators/compile-ab.sh ROUNDS REV [REV...]
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
rounds=$1; shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sides=("$@" new)
. experiments/operators/revisions.sh
for side in "${sides[@]}"; do
  tree=$(tree_of "$side" "$tmp" engine Directory.Build.props Directory.Build.targets Directory.Packages.props global.json)
  old=0; [ -e "$tree/engine/L2OEvolve.Engine/Evaluation/Compiler.cs" ] && old=1
  mkdir -p "$tmp/$side"
  cp experiments/operators/compile/Program.cs "$tmp/$side/"
  sed "s#@TREE@#$tree#; s#@OLD@#$old#" experiments/operators/compile/compile.csproj.in > "$tmp/$side/compile.csproj"
  dotnet build "$tmp/$side" -c Release -v quiet -nologo -clp:NoSummary -o "$tmp/$side/out" >/dev/null
done
for r in $(seq 1 "$rounds"); do
  for side in "${sides[@]}"; do
    echo "round $r, $(label_of "$side"), load $(cut -d' ' -f1-3 /proc/loadavg):"
    dotnet "$tmp/$side/out/compile.dll" | sed 's/^/    /'
  done
done
