"""Price of f, a jvp and a vjp, and of one training step, measured side by side on both engines.

Prints ratios only (absolute times depend on the machine and its load):
  * jvp/f, vjp/f and jvp/vjp on a few test functions at 1024 x 100;
  * the same for the digits MLP as a function of its P parameters (minibatch of 32, one run);
  * seconds of one forward-gradient step over one true-gradient step (JAX, d = 10, 1024 runs).

Usage: python benchmarks/bench_costs.py [--quick]
"""

import argparse

import numpy as np

import forwardgrad as fg
from forwardgrad import timing
from forwardgrad.experiments import cost as costs, digits as nets


def print_ratios(label, frame):
    r = costs.ratios(frame)
    s = frame["seconds"]
    print(f"{label:>32} {1e3 * s['f']:>9.3f} {r['jvp/f']:>7.2f} {r['vjp/f']:>7.2f} {s['jvp'] / s['vjp']:>8.2f}")


def header(title):
    print(f"\n## {title}")
    print(f"{'case':>32} {'f (ms)':>9} {'jvp/f':>7} {'vjp/f':>7} {'jvp/vjp':>8}")


def test_functions(names, repeat):
    header("Test functions, 1024 x 100")
    rng = np.random.default_rng(0)
    for name in names:
        obj = fg.objectives.get(name)
        lower, upper = obj.bounds(100)
        x = rng.uniform(lower, upper, size=(1024, 100))
        for engine in fg.engines.ENGINES:
            frame = costs.measure_modes(obj.f, x, engine=engine, repeat=repeat, min_time=0.005, memory=False)
            print_ratios(f"{name} ({engine})", frame)


def mlp(widths, repeat):
    header("Digits MLP, minibatch of 32, one run")
    data = nets.load_digits(seed=0)
    batch = np.random.default_rng(1).choice(len(data.y_train), size=32, replace=False)
    for h in widths:
        net = nets.mlp(h)
        loss = nets.loss_function(net, data.x_train[batch], data.y_train[batch])
        theta = nets.init_params(np.random.default_rng(2), net, 1)
        for engine in fg.engines.ENGINES:
            frame = costs.measure_modes(loss, theta, engine=engine, repeat=repeat, min_time=0.005, memory=False)
            print_ratios(f"P = {net.n_params:,} ({engine})", frame)


def steps(names, repeat):
    print("\n## One descent step, forward / true, JAX, 1024 runs x d = 10")
    x = np.random.default_rng(3).uniform(-1, 1, size=(1024, 10))
    for name in names:
        f = fg.objectives.get(name).f
        for opt in ("sgd", "adam"):
            optimizer = fg.optimizers.get(opt, lr=0.01)
            calls = {g: costs.step_call(f, x, optimizer, g, engine="jax") for g in ("true", "forward")}
            t = timing.interleaved_times(calls, repeat=repeat, min_time=0.005)
            print(f"{name:>24} {opt:>5}: {t['forward'] / t['true']:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer cases and rounds")
    args = parser.parse_args()
    fg.engines.load_jax()
    repeat = 3 if args.quick else 9
    names = ["sphere", "rosenbrock"] if args.quick else ["sphere", "rosenbrock", "griewank", "zakharov", "trid"]
    test_functions(names, repeat)
    mlp([13, 1333] if args.quick else [13, 133, 1333, 13333], repeat)
    steps(names[:1] if args.quick else ["sphere", "sum_squares", "trid"], repeat)


if __name__ == "__main__":
    main()
