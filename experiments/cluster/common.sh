# Shared by the cluster experiments (sourced, after setting generations, rows, threads and the script's name in me):
# builds the CLI, starts a throwaway redis-server on a free local port with its data in a temporary directory, writes
# the job's table, and cleans everything up on exit. Provides cli, free_port, field, submit, $work, $port, $dll, pids.
command -v redis-server >/dev/null || { echo "$me: redis-server is not installed (apt-get install redis-server)" >&2; exit 2; }
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
# y = x0^2 x1 + cos(x2) on $rows rows from a fixed awk seed: selection sees all rows, so a generation costs real work.
awk -v n="$rows" 'BEGIN { srand(17); print "x0,x1,x2,y";
  for (i = 0; i < n; i++) { a = rand()*4-2; b = rand()*4-2; c = rand()*4-2; printf "%.6f,%.6f,%.6f,%.6f\n", a, b, c, a*a*b + cos(c) } }' >"$work/data.csv"
submit() {
  cli submit --home "$1" --name job --data "$work/data.csv" --grammar grammars/arith.json --generations "$generations" \
    --islands 6 --population 60 --threads "$threads" --seed 21 --batch-rows 0 >/dev/null
}
