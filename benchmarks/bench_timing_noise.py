"""How far apart two measurements of the same timing ratio fall on this machine.

The cost chapter reads a ratio of two times (jvp over vjp) as "cheaper" or "dearer" only when an
interval excludes 1: a bootstrap interval over functions for a median, and the range of repeated
measurements for a single network. This script shows why a fixed band would not do: it measures
the jvp/vjp ratio of a few test functions and of the digits MLP ``--rounds`` times each, on both
engines, with the chapter's settings (best of 7 interleaved rounds), and prints for each case the
spread max/min of the repeated ratios, then the largest spread: the factor by which one
measurement of a ratio can differ from the next (measured: up to 2.3 on JAX, 1.25 on autograd).

Usage: python benchmarks/bench_timing_noise.py [--rounds 8]
"""

import argparse

import numpy as np

import forwardgrad as fg
from forwardgrad.experiments import cost as costs, digits as nets


def cases():
    """(label, f, x) for three test functions in d = 100 (1024 rows) and the widest digits MLP."""
    rng = np.random.default_rng(0)
    for name in ("sphere", "rosenbrock", "griewank"):
        obj = fg.objectives.get(name)
        lower, upper = obj.bounds(100)
        yield name, obj.f, rng.uniform(lower, upper, size=(1024, 100))
    digits = nets.load_digits(seed=0)
    batch = np.random.default_rng(1).choice(len(digits.y_train), size=32, replace=False)
    for h in (133, 13333):  # P = 10,000 and 1,000,000, as in the chapter
        net = nets.mlp(h)
        loss = nets.loss_function(net, digits.x_train[batch], digits.y_train[batch])
        yield f"MLP P = {net.n_params:,}", loss, nets.init_params(np.random.default_rng(2), net, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="measurements of each ratio (default: 8)")
    args = parser.parse_args(argv)
    if args.rounds < 2:
        parser.error("--rounds must be at least 2")
    spreads = []
    print(f"{'case':>24} {'engine':>9} {'median jvp/vjp':>15} {'max/min':>8}")
    for label, f, x in cases():
        for engine in fg.engines.ENGINES:
            ratios = []
            for _ in range(args.rounds):
                s = costs.measure_modes(f, x, engine=engine, repeat=7, min_time=0.01, memory=False)["seconds"]
                ratios.append(s["jvp"] / s["vjp"])
            spread = max(ratios) / min(ratios)
            spreads.append(spread)
            print(f"{label:>24} {engine:>9} {np.median(ratios):>15.3f} {spread:>8.3f}", flush=True)
    print(f"largest spread of a repeated ratio: {max(spreads):.3f}")


if __name__ == "__main__":
    main()
