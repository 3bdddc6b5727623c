#!/usr/bin/env python3
"""Final train loss (mean of the last 10 minibatch losses, as the eval harness defines it) at a shorter horizon,
read from an eval run's losses.csv. Runs are deterministic per seed (fixed init and minibatch sequence), so the
first H steps of a longer run are exactly an H-step run; this saves rerunning the teacher at every horizon.

    final_loss_at.py LOSSES.CSV H [H ...]
"""
import csv
import statistics
import sys
from collections import defaultdict

path, horizons = sys.argv[1], [int(h) for h in sys.argv[2:]]
curves = defaultdict(dict)  # (optimizer, seed) -> {step: loss}
with open(path) as f:
    for row in csv.DictReader(f):
        curves[(row["optimizer"], int(row["seed"]))][int(row["step"])] = float(row["train_loss"])
for h in horizons:
    per_opt = defaultdict(list)
    for (opt, seed), c in curves.items():
        window = [c[t] for t in range(h - 9, h + 1) if t in c]
        if len(window) == 10:
            per_opt[opt].append(sum(window) / 10)
    for opt, v in per_opt.items():
        sd = statistics.stdev(v) if len(v) > 1 else 0.0
        print(f"{h} steps  {opt}: final train loss {statistics.mean(v):.4f} ± {sd:.4f} over {len(v)} seeds")
