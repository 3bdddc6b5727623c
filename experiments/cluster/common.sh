# Shared by the cluster experiments (sourced, after setting generations, threads, fitness and the script's name in
# me): builds the CLI, starts a throwaway redis-server on a free local port with its data in a temporary directory,
# writes the job's inputs, and cleans everything up on exit. Provides cli, free_port, field, submit, wait_done,
# $work, $port, $dll, pids, and describe (one line saying what the job is).
#
# fitness=funnel (the pipeline's fitness): imitation of a teacher's recorded update (y = -2·mt0) on 400 rows, then
#   rollouts of every candidate that passes it on mlp-fashion (an MLP on Fashion-MNIST, STEPS steps x 2 seeds, with
#   the step multiplier tuned): a generation costs seconds. Needs Debian's dataset-fashion-mnist.
# fitness=mse: y = x0^2 x1 + cos(x2) on ROWS rows: about a millisecond per island, so it measures the barrier only.
command -v redis-server >/dev/null || { echo "$me: redis-server is not installed (apt-get install redis-server)" >&2; exit 2; }
case "$fitness" in
  funnel) [ -d /usr/share/datasets/fashion-mnist ] || { echo "$me: fitness=funnel needs Fashion-MNIST (apt-get install dataset-fashion-mnist)" >&2; exit 2; } ;;
  mse) ;;
  *) echo "$me: FITNESS must be funnel or mse, not '$fitness'" >&2; exit 2 ;;
esac
dotnet build host/L2OEvolve.Cli -c Release -v quiet -nologo -clp:NoSummary >/dev/null
dll=host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll
cli() { dotnet "$dll" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# field FILE EXPR: EXPR evaluated over the JSON document d of FILE (empty when the file is missing or half-written).
field() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@" 2>/dev/null || true; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
if [ "$fitness" = funnel ]; then
  steps=${STEPS:-20}
  awk 'BEGIN { srand(5); print "g0,mt0,gt0,y";
               for (i = 0; i < 400; i++) { g = rand()*2-1; m = 0.5*g + 0.5*(rand()*2-1); t = rand();
                                            printf "%.6f,%.6f,%.6f,%.6f\n", g, m, t, -2*m } }' >"$work/data.csv"
  echo '{"name": "tiny", "features": "from-data", "operators": {"+": 1, "*": 1, "neg": 1}, "maxsize": 9}' >"$work/grammar.json"
  job=(--grammar "$work/grammar.json" --islands 6 --population 16 --warm-start "-1 * g0"
       --rollout-optimizee mlp-fashion --rollout-steps "$steps" --rollout-seeds 2 --rollout-scale 0.02 --imitation-pass 0.9)
  describe="6 islands x 16, funnel fitness (imitation on 400 rows, then rollouts on mlp-fashion, $steps steps x 2 seeds)"
else
  rows=${ROWS:-4000}
  # y = x0^2 x1 + cos(x2) from a fixed awk seed: selection sees all rows, so a generation costs real work.
  awk -v n="$rows" 'BEGIN { srand(17); print "x0,x1,x2,y";
    for (i = 0; i < n; i++) { a = rand()*4-2; b = rand()*4-2; c = rand()*4-2; printf "%.6f,%.6f,%.6f,%.6f\n", a, b, c, a*a*b + cos(c) } }' >"$work/data.csv"
  job=(--grammar grammars/arith.json --islands 6 --population 60 --batch-rows 0)
  describe="6 islands x 60, MSE fitness on $rows rows"
fi
submit() {
  cli submit --home "$1" --name job --data "$work/data.csv" --generations "$generations" --threads "$threads" --seed 21 "${job[@]}" >/dev/null
}
# wait_done HOME: until the job there is finished or failed; prints its state.
wait_done() {
  local state=
  for _ in $(seq 36000); do
    state=$(field "$1/jobs/job/status.json" 'd["state"].lower()')
    if [ "$state" = finished ] || [ "$state" = failed ]; then break; fi
    sleep 0.2
  done
  echo "$state"
}
