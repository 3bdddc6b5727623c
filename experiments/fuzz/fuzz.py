#!/usr/bin/env python3
"""Longer fuzz pass of the CLI: hostile inputs per class through the real verbs, classified by outcome.

Outcomes: clean   - exit 2 and exactly one 'error:' line, no stack trace
          ok      - exit 0 (a valid result)
          other   - another exit code with one error line (1: an I/O failure or no result)
          crash   - a stack trace or 'Unhandled exception'
          hang    - no exit within the timeout
Usage: [ONLY=CLASS] experiments/fuzz/fuzz.py [CASES_PER_CLASS (default 12)] [SEED (default 1)]; builds nothing: run
`dotnet build host/L2OEvolve.Cli -c Release` first. Prints one row per class and the inputs that crashed or hung.
"""
import json, os, random, struct, subprocess, sys, tempfile
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = ["dotnet", os.environ.get("L2O_CLI") or os.path.join(ROOT, "host/L2OEvolve.Cli/bin/Release/net10.0/l2oevolve.dll")]
N = int(sys.argv[1]) if len(sys.argv) > 1 else 12
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
TIMEOUT = 60
work = tempfile.mkdtemp(prefix="l2o-fuzz-")
GRAMMAR = os.path.join(ROOT, "grammars/arith.json")

TOKENS = ["{", "}", "[", "]", ",", ":", '"', "(", ")", "+", "*", "-", "/", "\n", "1e400", "-1e400", "1e-50", "NaN", "nan",
          "inf", "null", "true", "2147483648", "99999999999999999999", "-1", "0", "sin", "ema(0.9,", "lag(0,", "x1+x2", "é"]

def mutate(text):
    s = text
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(s))
        k = rng.randint(0, 4)
        if k == 0: s = s[:at] + s[at + rng.randint(1, 10):]
        elif k == 1: s = s[:at] + rng.choice(TOKENS) + s[at:]
        elif k == 2: s = s[:at] + s[at:at + 20] + s[at:]
        elif k == 3: s = s[:at]
        else: s = s[:at] + rng.choice(TOKENS) * rng.randint(10, 2000) + s[at:]
    return s

def write(name, data, mode="w"):
    path = os.path.join(work, name)
    with open(path, mode) as f: f.write(data)
    return path

def npy(name, shape, descr="<f4", payload=None):
    n = 1
    for d in shape: n *= d
    dims = "(%s)" % ", ".join(str(d) for d in shape) if len(shape) != 1 else "(%d,)" % shape[0]
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, dims)
    hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
    item = 8 if descr.endswith("8") else 4
    body = payload if payload is not None else bytes(item * max(0, min(n, 10**6)))
    return write(name, b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + body, "wb")

def table(rows=20, header="x0,x1,y"):
    return header + "\n" + "".join(f"{i*0.1},{i*0.2+1},{i*0.3}\n" for i in range(rows))

ok_csv = write("ok.csv", table())
sgd = write("sgd.rule.json", json.dumps({"name": "sgd", "rule": "-0.01 * g"}))

def sr(data, grammar=GRAMMAR, *extra):
    return ["sr", "--data", data, "--grammar", grammar, "--generations", "2", "--islands", "2", "--population", "8",
            "--out", os.path.join(work, "out%d" % rng.randint(0, 10**9))] + list(extra)

def case_unbounded(i):
    return [sr(ok_csv, "/dev/zero"), ["score", "--data", write("z%d.csv" % i, "x0,y\n" + "1" * rng.randint(10**6, 2 * 10**7)), "--equation", "x0"],
            ["export", "--rule", "/dev/zero", "--to", "latex"]][i % 3]

def case_arithmetic(i):
    opt, val = rng.choice([("--time", "1e9h"), ("--time", "%de99s" % rng.randint(1, 9)), ("--population", str(rng.randint(10**6, 2**31 - 1))),
                           ("--islands", str(rng.randint(10**4, 2**31 - 1))), ("--threads", str(rng.randint(2000, 2**31 - 1))),
                           ("--evaluations", "9223372036854775807"), ("--generations", "2147483647"), ("--batch-rows", "-5")])
    if opt == "--generations": return ["sr", "--data", ok_csv, "--grammar", GRAMMAR, "--time", "1s", "--islands", "1", "--population", "4", opt, val, "--out", os.path.join(work, "g%d" % i)]
    return sr(ok_csv, GRAMMAR, opt, val)

def case_grammar_limits(i):
    g = {"features": "from-data", "operators": {"+": 1, "*": 1}, "maxsize": rng.choice([0, 1, 1000, 1001, 2**31 - 1, 10**12]),
         "maxdepth": rng.choice([1, 1000, 5000, 2**31 - 1])}
    if rng.random() < 0.5: g["stateful"] = {"lag": {"max": rng.choice([1, 1000, 10**6])}, "complexity": 1}
    if rng.random() < 0.3: g["features"] = ["x0", "x%d[0..%d]" % (rng.randint(0, 9), rng.choice([10, 9999, 10**6]))]
    return sr(ok_csv, write("g%d.json" % i, json.dumps(g)))

def case_shapes(i):
    shape = rng.choice([(10, 0), (0, 3), (0,), (), (5, 1), (3, 0, 2), (2, 0, 3), (2, 3, 1), (1, 1), (2**31, 2**31)])
    return ["score", "--data", npy("s%d.npy" % i, shape), "--equation", "1"]

def case_recursion(i):
    n = rng.choice([999, 1000, 1001, 5000, 10000, 30000])
    op = rng.choice([" + ", "*", " - ", "/"])
    eq = op.join(["x0"] * n) if rng.random() < 0.7 else "-" * n + "x0" if rng.random() < 0.5 else "(" * n + "x0" + ")" * n
    # One command-line argument holds at most 128 KiB on Linux; longer equations go through a rule file.
    if rng.random() < 0.5 and len(eq) < 100_000: return ["score", "--data", ok_csv, "--equation", eq]
    rule = write("r%d.rule.json" % i, json.dumps({"rule": eq.replace("x0", "g")}))
    return ["export", "--rule", rule, "--to", rng.choice(["latex", "sympy", "pytorch", "torchsharp"])]

def case_paths(i):
    d = os.path.join(work, "dir%d" % i); os.makedirs(d, exist_ok=True)
    return [sr(ok_csv, GRAMMAR)[:-1] + [""] if False else ["sr", "--data", ok_csv, "--grammar", GRAMMAR, "--generations", "1", "--out", ""],
            ["export", "--rule", sgd, "--to", "latex", "--out", d], ["export", "--rule", sgd, "--to", "latex", "--out", ""],
            sr(ok_csv, GRAMMAR)[:-1] + [ok_csv], ["score", "--data", d, "--equation", "1"], sr(ok_csv, d)][i % 6]

def case_misreads(i):
    k = i % 6
    if k == 0: return ["score", "--data", write("nh%d.csv" % i, table(header="%d,%d,%d" % (1, 2, 3))), "--equation", "1"]
    if k == 1: return sr(write("nm%d.csv" % i, table(header=rng.choice(["sin", "x1+x2", "nan", "inf", "2x", "a b", "exp", "ema", "lag"]) + ",x1,y")))
    if k == 2: return ["score", "--data", write("fr%d.csv" % i, "x0,y\n" + rng.choice(["1e-50", "1e50", "-3e39", "1e-46"]) + ",1\n2,3\n"), "--equation", "x0"]
    if k == 3: return sr(ok_csv, write("dk%d.json" % i, '{"features": "from-data", "operators": {"+": 1}, "operators": {"*": 1}}'))
    if k == 4: return ["export", "--rule", write("dr%d.rule.json" % i, '{"rule": "g", "rule": "-0.01 * g"}'), "--to", "latex"]
    return ["export", "--rule", sgd, "--to", rng.choice(["pytorch", "torchsharp"]), "--class", rng.choice(["1x", "a-b", "None", "class", "", "é"])]

def case_mutated_files(i):
    k = i % 3
    if k == 0: return sr(ok_csv, write("mg%d.json" % i, mutate(open(GRAMMAR).read())))
    if k == 1: return ["score", "--data", write("mc%d.csv" % i, mutate(table())), "--equation", "x0 + x1"]
    return ["export", "--rule", write("mr%d.rule.json" % i, mutate(json.dumps({"name": "adam", "rule": "-0.001 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1e-8)"}))), "--to", "pytorch"]

def case_jobs(i):
    home = os.path.join(work, "home%d" % i)
    extra = rng.choice([["--setting", "islands=100000"], ["--setting", "populationSize=2000000000"], ["--time", "1e300s"], ["--threads", "99999"],
                        ["--setting", "initialMaxSize=5000"], ["--rollout-optimizee", "mlp-fashion:batch=0"], ["--name", "../x"], ["--warm-start", "x0 +"]])
    args = ["submit", "--home", home, "--name", "j", "--data", ok_csv, "--grammar", GRAMMAR, "--generations", "5"] + extra
    if "--name" in extra: args = ["submit", "--home", home, "--data", ok_csv, "--grammar", GRAMMAR, "--generations", "5"] + extra
    return args

def case_time(i):
    """A time budget against a population too big for it: sr must stop inside the initial population or a generation
    (one clean error, or a result) rather than run far past --time; a daemon job likewise (checked by run_daemon)."""
    islands, size = rng.choice([50, 200, 400, 1000]), rng.choice([100, 500, 1000])
    t = rng.choice(["1ms", "50ms", "500ms", "2s"])
    if i % 2 == 0:
        return ["sr", "--data", ok_csv, "--grammar", GRAMMAR, "--time", t, "--islands", str(islands), "--population", str(size),
                "--threads", "1", "--quiet", "--out", os.path.join(work, "t%d" % i)]
    home = os.path.join(work, "thome%d" % i)
    return ["@daemon", home, "submit", "--home", home, "--name", "j", "--data", ok_csv, "--grammar", GRAMMAR, "--time", t,
            "--islands", str(islands), "--population", str(size)]

def run_daemon(home, submit):
    """Submits the job, runs the daemon until idle, and classifies by the job's end: Failed with one message naming
    timeSeconds is a clean error, Finished a valid result."""
    if run(submit) != "ok": return "other(submit)"
    outcome = run(["daemon", "--home", home, "--exit-when-idle", "--poll", "100ms"])
    if outcome != "ok": return outcome
    status = json.load(open(os.path.join(home, "jobs", "j", "status.json")))
    message = status.get("message") or ""
    if status["state"] == "Finished": return "ok"
    if status["state"] == "Failed" and "\n" not in message and message.startswith("timeSeconds:"): return "clean"
    return "other(%s)" % status["state"]

CLASSES = [("unbounded reads", case_unbounded), ("checked arithmetic", case_arithmetic), ("grammar limits", case_grammar_limits),
           ("degenerate shapes", case_shapes), ("recursion depth", case_recursion), ("paths", case_paths),
           ("silent misreads", case_misreads), ("mutated files", case_mutated_files), ("job submissions", case_jobs),
           ("time budgets", case_time)]

def run(args):
    try:
        p = subprocess.run(CLI + args, capture_output=True, text=True, errors="replace", timeout=TIMEOUT, cwd=work)
    except subprocess.TimeoutExpired:
        return "hang"
    err = p.stderr
    if "Unhandled exception" in err or "   at " in err or "Stack overflow" in err: return "crash"
    errors = [l for l in err.splitlines() if "error:" in l]
    if p.returncode == 0: return "ok"
    if p.returncode == 2 and len(errors) >= 1: return "clean"
    return "other(rc=%d)" % p.returncode

# ONLY=SUBSTRING runs just the classes whose name contains it (e.g. ONLY=time).
CLASSES = [c for c in CLASSES if os.environ.get("ONLY", "") in c[0]]
counts = defaultdict(Counter)
bad = []
for name, make in CLASSES:
    for i in range(N):
        args = make(i)
        outcome = run_daemon(args[1], args[2:]) if args[0] == "@daemon" else run(args)
        counts[name][outcome] += 1
        if outcome in ("crash", "hang"): bad.append((name, outcome, " ".join(a[:80] for a in args)))
outcomes = ["clean", "ok", "crash", "hang"]
others = sorted({o for c in counts.values() for o in c if o not in outcomes})
print("%-20s %6s " % ("class", "tried") + " ".join("%8s" % o for o in outcomes + others))
for name, _ in CLASSES:
    c = counts[name]
    print("%-20s %6d " % (name, sum(c.values())) + " ".join("%8d" % c[o] for o in outcomes + others))
total = Counter()
for c in counts.values(): total.update(c)
print("%-20s %6d " % ("all", sum(total.values())) + " ".join("%8d" % total[o] for o in outcomes + others))
for b in bad: print("BAD", *b)
subprocess.run(["rm", "-rf", work])
