#!/usr/bin/python3
"""Writes the three regression tables of the search-speed comparison: 1,000 rows of x0..x4 ~ N(0, 1) each (seed 0),
of which the first 800 (the training rows) go to OUT/{poly,trig,ratio}.csv with y = f(x) + N(0, 0.01^2)."""
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(0)
n, train = 1000, 800
x = rng.normal(size=(n, 5))
targets = {
    "poly": x[:, 0] ** 2 + x[:, 1] * x[:, 2] - 0.5 * x[:, 3],
    "trig": np.sin(x[:, 0]) * x[:, 1] + np.cos(x[:, 2]),
    "ratio": x[:, 0] / (1 + x[:, 1] ** 2) + np.exp(-x[:, 2] ** 2) * x[:, 3],
}
for name, y in targets.items():
    y = y + 0.01 * rng.normal(size=n)
    with open(f"{out}/{name}.csv", "w") as f:
        f.write("x0,x1,x2,x3,x4,y\n")
        for i in range(train):
            f.write(",".join(f"{v:.6g}" for v in x[i]) + f",{y[i]:.6g}\n")
    print(f"{out}/{name}.csv: {train} rows, x0..x4 -> y = {name}")
