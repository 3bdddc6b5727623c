#!/usr/bin/env bash
# Ablation of the search's fitness on the default configuration, same search budget (generations, islands,
# population, seed) and the same evaluation for every variant:
#   funnel     the default: imitation for every candidate, rollouts for good imitators that are real optimizers
#   imitation  imitation only: no candidate is rolled out (the paper's distillation; the step size stays nominal)
#   rollouts   rollouts only: every candidate that reads the gradient is rolled out, imitation has no weight
#              and there is no imitation pre-search (the teacher plays no part)
#
#   experiments/pipeline/ablation.sh [OUT]        (default OUT: runs/ablation)
#
# Each variant is a full pipeline run into OUT/<variant>/ (report.md, results.json). The evaluation is the default's
# cut to what the comparison needs (mlp-fashion at 1x and 2x on 10 held-out seeds, the unseen cnn-fashion at 1x on
# 10 seeds; FULL_EVAL=1 keeps the default's). The table at the end is read from the results.json files: the
# recommended rule's mean final training loss against lr-tuned Adam's per optimizee and horizon, with the per-seed
# wins, and each run's wall time per phase.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/ablation}
mkdir -p "$out"
if [ -z "${L2O_CLI:-}" ]; then ./run.sh --help >/dev/null; L2O_CLI=host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll; fi
cli() { dotnet "$L2O_CLI" "$@"; }
cli run --print-config > "$out/default.json"

python3 - "$out" "${FULL_EVAL:-}" <<'PY'
import json, re, sys
out, full = sys.argv[1], sys.argv[2]
text = re.sub(r'^\s*//.*$', '', open(f"{out}/default.json").read(), flags=re.M)
base = json.loads(text)
variants = {
    "funnel": {},
    "imitation": {"imitationPass": -1.0, "rolloutWeight": 0.0},
    "rollouts": {"imitationPass": 1e9, "imitationWeight": 0.0, "imitationGenerations": 0},
}
if not full:
    base["evaluate"]["optimizees"] = [{"optimizee": "mlp-fashion", "horizons": [1, 2], "seeds": 10},
                                      {"optimizee": "cnn-fashion", "horizons": [1], "seeds": 10}]
for name, change in variants.items():
    c = json.loads(json.dumps(base))
    c["evolve"].update(change)
    json.dump(c, open(f"{out}/{name}.json", "w"), indent=2)
PY

for v in funnel imitation rollouts; do
  if [ ! -f "$out/$v/results.json" ]; then
    echo "ablation: $v" >&2
    cli run --config "$out/$v.json" --out "$out/$v" > "$out/$v.log" 2>&1
  fi
done

python3 - "$out" <<'PY'
import json, statistics, sys, re
out = sys.argv[1]
print("| variant | recommended rule | optimizee | steps | rule | lr-tuned Adam | seeds lower | verdict | wall time |")
print("|---|---|---|---:|---:|---:|---:|---|---|")
for v in ["funnel", "imitation", "rollouts"]:
    r = json.load(open(f"{out}/{v}/results.json"))
    best = r["best_rule"]
    infix = next(x["infix"] for x in r["rules"] if x["name"] == best)
    report = open(f"{out}/{v}/report.md").read()
    wall = re.search(r"Total wall time ([^ ]+) \(([^)]*)\)", report)
    for e in r["evaluations"]:
        rows = {x["optimizer"]: x for x in e["results"]}
        def stat(name):
            xs = [x for x in rows[name]["final_train_loss"] if x is not None]
            return f"{statistics.mean(xs):.4f} ± {statistics.stdev(xs):.4f}" if len(xs) > 1 else "–"
        verdict = e["verdict"]
        print(f"| {v} | `{best}: {infix}` | {e['optimizee']} | {e['steps']} | {stat(best)} | {stat('adam')} | "
              f"{verdict['seeds_won']}/{verdict['seeds']} | {verdict['kind']} | {wall.group(1) + ' (' + wall.group(2) + ')' if wall else ''} |")
PY
