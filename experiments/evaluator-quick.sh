#!/usr/bin/env bash
# Evaluator throughput figures in well under a minute, without BenchmarkDotNet: node evaluations per second per
# core for size-20 arithmetic and transcendental trees on 10,000 rows beside the same expressions as plain C#
# loops, whole-candidate evaluations per second on 200 rows for x1*x2+cos(x3), Adam trajectories and a constant fit.
# Usage: experiments/evaluator-quick.sh [--block ROWS]
# The full BenchmarkDotNet suite: ./run.sh bench --filter '*EvaluatorBenchmarks*' [--job short]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build experiments/L2OEvolve.Benchmarks -c Release -v quiet -nologo -clp:NoSummary >/dev/null
dotnet experiments/L2OEvolve.Benchmarks/bin/Release/net10.0/L2OEvolve.Benchmarks.dll --quick "$@"
