#!/usr/bin/env bash
# Before/after speed of the operator registry, measured in one run on one machine: the evaluator's quick timing
# (row evaluator, forward-mode constant fit) and the rule executor timing (fused kernel, op chain, rollouts) of a
# baseline revision (default: the last commit before the registry) and of this working tree, alternated
# base, new, base, new so that load drifts hit both sides.
# Usage: experiments/operators/bench-before-after.sh [BASELINE_REV] [--no-rules] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
base=167c022
rules=1
rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --no-rules) rules=0 ;;
    --rounds) rounds="$2"; shift ;;
    *) base="$1" ;;
  esac
  shift
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# An exported copy of the baseline (no worktree, so the repository is left as it is).
git archive "$base" | tar -x -C "$tmp"
dotnet build "$tmp/experiments/L2OEvolve.Benchmarks" -c Release -v quiet -nologo -clp:NoSummary >/dev/null
dotnet build experiments/L2OEvolve.Benchmarks -c Release -v quiet -nologo -clp:NoSummary >/dev/null
dll=experiments/L2OEvolve.Benchmarks/bin/Release/net10.0/L2OEvolve.Benchmarks.dll
for round in $(seq 1 "$rounds"); do
  for side in base new; do
    dir=.
    [ "$side" = base ] && dir="$tmp"
    echo "=== $side ($( [ "$side" = base ] && echo "$base" || git rev-parse --short HEAD )$( [ "$side" = new ] && ! git diff --quiet && echo "+changes" )), round $round; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    dotnet "$dir/$dll" --quick
    if [ "$rules" = 1 ]; then dotnet "$dir/$dll" rules --quick; fi
  done
done
