#!/usr/bin/python3
"""DEAP genetic-programming symbolic regression on one sanity table, under a wall-clock budget.

The baseline for experiments/sanity/run.sh: the same CSV (g0..g19 -> y), the same operator set as
grammars/lags.json with the same protected semantics (x/0 = 1, sqrt|x|), and the same time budget.
Individuals are evaluated vectorised with numpy (DEAP's fastest ordinary use), loss = MSE.
Prints one line: DEAP r2=... mse=... evals=... seconds=... evals_per_s=... formula=...
"""
import argparse
import operator
import random
import time

import numpy as np
from deap import base, creator, gp, tools


def pdiv(a, b):
    with np.errstate(all="ignore"):
        b = np.asarray(b, dtype=np.float64)
        return np.where(b == 0, 1.0, np.divide(a, np.where(b == 0, 1.0, b)))


def psqrt(a):
    return np.sqrt(np.abs(a))


def square(a):
    with np.errstate(all="ignore"):
        return np.multiply(a, a)


def pexp(a):
    with np.errstate(all="ignore"):
        return np.exp(a)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--time", type=float, required=True, help="budget in seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--population", type=int, default=500)
    a = ap.parse_args()

    with open(a.data) as f:
        names = f.readline().strip().split(",")[:-1]
    table = np.loadtxt(a.data, delimiter=",", skiprows=1, dtype=np.float64)
    columns = [table[:, j] for j in range(len(names))]
    y = table[:, -1]
    variance = float(np.var(y))

    random.seed(a.seed)
    np.random.seed(a.seed)
    pset = gp.PrimitiveSet("MAIN", len(names))
    pset.renameArguments(**{f"ARG{i}": n for i, n in enumerate(names)})
    for fn, arity in [(np.add, 2), (np.subtract, 2), (np.multiply, 2), (pdiv, 2),
                      (np.negative, 1), (square, 1), (psqrt, 1), (pexp, 1), (np.tanh, 1)]:
        pset.addPrimitive(fn, arity, name=fn.__name__)
    pset.addEphemeralConstant("const", lambda: random.uniform(-1.0, 1.0))

    creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
    creator.create("Individual", gp.PrimitiveTree, fitness=creator.FitnessMin)
    tb = base.Toolbox()
    tb.register("expr", gp.genHalfAndHalf, pset=pset, min_=1, max_=3)
    tb.register("individual", tools.initIterate, creator.Individual, tb.expr)
    tb.register("population", tools.initRepeat, list, tb.individual)
    tb.register("select", tools.selTournament, tournsize=3)
    tb.register("mate", gp.cxOnePoint)
    tb.register("expr_mut", gp.genFull, min_=0, max_=2)
    tb.register("mutate", gp.mutUniform, expr=tb.expr_mut, pset=pset)
    limit = gp.staticLimit(key=operator.attrgetter("height"), max_value=17)
    tb.decorate("mate", limit)
    tb.decorate("mutate", limit)

    def mse(individual):
        f = gp.compile(individual, pset)
        with np.errstate(all="ignore"):
            pred = np.broadcast_to(np.asarray(f(*columns), dtype=np.float64), y.shape)
            err = float(np.mean((pred - y) ** 2))
        return (err if np.isfinite(err) else float("inf"),)

    start = time.perf_counter()
    evals = 0
    pop = tb.population(n=a.population)
    for ind in pop:
        ind.fitness.values = mse(ind)
    evals += len(pop)
    hof = tools.HallOfFame(1)
    hof.update(pop)
    while time.perf_counter() - start < a.time:
        offspring = [tb.clone(i) for i in tb.select(pop, len(pop))]
        for i in range(1, len(offspring), 2):
            if random.random() < 0.5:
                offspring[i - 1], offspring[i] = tb.mate(offspring[i - 1], offspring[i])
                del offspring[i - 1].fitness.values, offspring[i].fitness.values
        for i in range(len(offspring)):
            if random.random() < 0.1:
                offspring[i], = tb.mutate(offspring[i])
                del offspring[i].fitness.values
        for ind in offspring:
            if not ind.fitness.valid:
                ind.fitness.values = mse(ind)
                evals += 1
                if time.perf_counter() - start >= a.time:
                    break
        pop = [ind for ind in offspring if ind.fitness.valid] + [ind for ind in pop[: len(pop) - sum(1 for o in offspring if o.fitness.valid)]]
        hof.update(pop)
    seconds = time.perf_counter() - start
    best = hof[0]
    loss = best.fitness.values[0]
    r2 = 1.0 - loss / variance if variance > 0 else float("nan")
    print(f"DEAP r2={r2:.6f} mse={loss:.6g} evals={evals} seconds={seconds:.1f} "
          f"evals_per_s={evals / seconds:.0f} formula={best}")


if __name__ == "__main__":
    main()
