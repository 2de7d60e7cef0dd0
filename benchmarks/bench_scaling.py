"""Wall time of one SGD step per gradient estimator of the scaling chapter, side by side (JAX).

Issue 20, part 3(c): for the digits MLP at a few widths, one jitted step (estimate, then
theta - lr * g) of each estimator of :data:`forwardgrad.experiments.scaling.ESTIMATORS`, timed in
turns (:func:`forwardgrad.timing.interleaved_times`, so a slow spell of the shared machine hits
all of them alike), minibatch of 32, one network. Prints each estimator's time over the
true-gradient (backpropagation) step: ratios only, absolute times depend on the machine.

Usage: python benchmarks/bench_scaling.py [--widths 16,256,1333] [--repeat 7]
"""

import argparse

import numpy as np

from forwardgrad import timing
from forwardgrad.engines import load_jax
from forwardgrad.experiments import digits as nets, scaling


def step_calls(width, data, batch_size=32, seed=0):
    """One zero-argument callable per estimator: a jitted SGD step, its result made ready."""
    jax = load_jax()
    jnp = jax.numpy
    sizes = (data.x_train.shape[1], width, 10)
    rng = np.random.default_rng(seed)
    theta = np.concatenate([nets.init_params(rng, nets.Net(sizes), 1)[0], np.zeros(scaling.n_heads(sizes))])
    theta = jnp.asarray(theta[None])
    idx = rng.integers(0, len(data.y_train), size=batch_size)
    x, y = jnp.asarray(data.x_train[idx]), jnp.asarray(data.y_train[idx])
    key = jax.random.key(seed, impl="rbg")
    calls = {}
    for name in scaling.ESTIMATORS:
        step = jax.jit(lambda th, k, name=name: th - 0.01 * scaling.estimate(name, th, x, y, sizes, k)[1])
        step(theta, key).block_until_ready()  # compile outside the timing
        calls[name] = lambda step=step: step(theta, key).block_until_ready()
    return nets.n_params(sizes), calls


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="16,256,1333", help="hidden widths, comma-separated")
    parser.add_argument("--repeat", type=int, default=7, help="rounds of the interleaved timing")
    args = parser.parse_args(argv)
    try:
        widths = [int(w) for w in args.widths.split(",")]
    except ValueError:
        parser.error(f"--widths must be integers separated by commas, got {args.widths!r}")
    data = nets.load_digits()
    print(f"{'P':>8} " + " ".join(f"{name:>12}" for name in scaling.ESTIMATORS) + "   (step time / true step)")
    for width in widths:
        p, calls = step_calls(width, data)
        seconds = timing.interleaved_times(calls, repeat=args.repeat, min_time=0.02)
        print(f"{p:>8} " + " ".join(f"{seconds[name] / seconds['true']:>12.2f}" for name in scaling.ESTIMATORS))


if __name__ == "__main__":
    main()
