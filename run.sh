#!/usr/bin/env bash
# L2OEvolve's one entry point.
#   ./run.sh                 the main job on its default, embedded configuration (l2oevolve run)
#   ./run.sh --config FILE   the main job on another configuration (experiments/paper-scale.pipeline.json)
#   ./run.sh test            the whole test suite
#   ./run.sh bench [ARGS]    BenchmarkDotNet suites (e.g. --filter '*Evaluator*')
#   ./run.sh pack [DIR]      NuGet packages of the libraries (L2OEvolve.Engine, L2OEvolve.Torch) into DIR (default artifacts/packages)
#   ./run.sh VERB [ARGS]     any CLI verb (sr, score, eval, teacher, tune, export, daemon, submit, ...); ./run.sh --help
# Every install step (system packages, data, the TorchSharp native fix) happens here or in the build it runs.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
config=Release

apt_install() { # Installs Debian packages when missing and we are root; never fatal by itself.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "run.sh: installing ${missing[*]}" >&2
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; } \
      || echo "run.sh: could not install ${missing[*]}" >&2
  else
    echo "run.sh: please install ${missing[*]} (apt-get install ${missing[*]})" >&2
  fi
}

# The TorchSharp native fix (build/torchsharp-fix.sh, run by the build) needs these on Debian 12.
prepare_native() { command -v dpkg >/dev/null 2>&1 && apt_install patchelf g++ || true; }

build() {
  prepare_native
  dotnet build L2OEvolve.sln -c "$config" -v quiet -nologo -clp:NoSummary "$@"
}

cli() {
  # A search allocates small trees at a high rate and keeps few: with the runtime's default gen-0 budget (a few MB)
  # it collects about fifty times a second, each collection stopping every search thread. A 64 MB budget cuts that
  # tenfold (sr on 2 threads: 7-16% more evaluations per second, experiments/search-speed/README.md). The runtime
  # reads this only from the environment; a value the caller set is kept.
  case "${1:-}" in
    sr|daemon) export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x4000000}" ;;
  esac
  dotnet "host/L2OEvolve.Cli/bin/$config/net10.0/l2oevolve.dll" "$@"
}

case "${1:-}" in
  test)
    shift
    # Debian's PyTorch lets the export tests run the generated torch.optim.Optimizer against the C# executor;
    # redis-server is the membership store of the cluster-mode tests (each starts its own on a free local port);
    # Debian's chromium loads the daemon's page headless in the browser test.
    command -v dpkg >/dev/null 2>&1 && apt_install python3-torch redis-server chromium
    build
    # Fashion-MNIST is not needed by the tests: they write tiny IDX files of their own.
    log=$(mktemp)
    set +e
    dotnet test L2OEvolve.sln -c "$config" --no-build -nologo -v quiet --logger "console;verbosity=minimal" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    # One closing line over both test assemblies, in the plain 'N passed, N failed' form CI reads.
    awk -F'[:,]' '/(Passed|Failed)! +- +Failed:/ { for (i = 1; i <= NF; i++) { if ($i ~ /Failed$/) f += $(i+1); if ($i ~ /Passed$/) p += $(i+1); if ($i ~ /Skipped$/) s += $(i+1) } }
                  END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
    rm -f "$log"
    exit "$rc"
    ;;
  bench)
    shift
    build
    dotnet "experiments/L2OEvolve.Benchmarks/bin/$config/net10.0/L2OEvolve.Benchmarks.dll" "$@"
    ;;
  pack)
    shift
    build
    out="${1:-artifacts/packages}"
    for project in engine/L2OEvolve.Engine engine/L2OEvolve.Torch; do
      dotnet pack "$project" -c "$config" --no-build -nologo -v quiet -o "$out"
    done
    # Each package names its id, version and readme, and carries the readme and the doc comments.
    for package in "$out"/L2OEvolve.Engine.*.nupkg "$out"/L2OEvolve.Torch.*.nupkg; do
      name=$(basename "$package" .nupkg); id=${name%%.[0-9]*}
      nuspec=$(unzip -p "$package" "$id.nuspec")
      grep -q "<readme>README.md</readme>" <<<"$nuspec" && unzip -l "$package" README.md "lib/net10.0/$id.xml" >/dev/null \
        || { echo "run.sh: $package lacks its readme or doc comments" >&2; exit 1; }
      echo "$package: id $id, version $(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' <<<"$nuspec"), readme and docs included"
    done
    ;;
  ""|--config|--config=*|--out|--out=*)
    # No verb, or only run's options: the pipeline (./run.sh --config FILE runs another configuration).
    command -v dpkg >/dev/null 2>&1 && apt_install dataset-fashion-mnist
    build
    cli run "$@"
    ;;
  *)
    case "$1" in run|eval|teacher|evolve|tune) command -v dpkg >/dev/null 2>&1 && apt_install dataset-fashion-mnist ;; esac
    build
    cli "$@"
    ;;
esac
