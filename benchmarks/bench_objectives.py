"""Speed of the test functions: f and one jvp on a 1024-row batch, autograd and JAX side by side.

For every function: a batch of 1024 rows at d = 10 and d = 100 (or the function's fixed d), the
time of ``f`` and of one forward-mode jvp (``make_jvp`` on autograd, jitted ``jax.jvp`` on JAX),
and the ratio jvp / f. Targets flagged in the last column:

- autograd: one 1024-row jvp under 1 ms for d <= 10;
- JAX: a jitted jvp at most 3x the jitted f.

Usage: ``python benchmarks/bench_objectives.py [--repeat 5] [--only NAME ...]``. Timings are the
minimum over repeats of the mean over a loop, in microseconds; on a shared machine they vary.
"""

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from autograd.differential_operators import make_jvp  # noqa: E402

import forwardgrad as fg  # noqa: E402
from forwardgrad import timing  # noqa: E402
from forwardgrad.engines import has_jax, load_jax  # noqa: E402

ROWS = 1024
AUTOGRAD_TARGET_US = 1000.0  # one 1024-row autograd jvp, d <= 10
JAX_TARGET_RATIO = 3.0  # jitted jvp / jitted f


def best_time(run, repeat):
    """:func:`forwardgrad.timing.best_time` of ``run()`` in microseconds (rounds of at least 50 ms)."""
    return 1e6 * timing.best_time(run, repeat=repeat, min_time=0.05)


def points(obj, d, rng):
    lower, upper = obj.bounds(d)
    x = lower + (upper - lower) * rng.uniform(0.05, 0.95, (ROWS, d))
    return x, rng.standard_normal((ROWS, d))


def time_autograd(obj, x, v, repeat):
    jvp = make_jvp(obj.f)
    with np.errstate(all="ignore"):
        return best_time(lambda: obj.f(x), repeat), best_time(lambda: jvp(x)(v), repeat)


def time_jax(obj, x, v, repeat):
    jax = load_jax()
    f = jax.jit(obj.f)
    jvp = jax.jit(lambda x, v: jax.jvp(obj.f, (x,), (v,)))
    xj, vj = jax.numpy.asarray(x), jax.numpy.asarray(v)
    return (best_time(lambda: f(xj).block_until_ready(), repeat),
            best_time(lambda: jax.block_until_ready(jvp(xj, vj)), repeat))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="function names (default: all 78)")
    args = parser.parse_args()
    names = args.only or fg.objectives.names()
    engines = ("autograd", "jax") if has_jax() else ("autograd",)
    rng = np.random.default_rng(0)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{len(names)} functions, {ROWS} rows, engines {', '.join(engines)}; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs (timings scale with it)")
    header = (f"{'function':24s} {'d':>4s} {'engine':8s} {'f us':>10s} {'jvp us':>10s} "
              f"{'jvp/f':>7s}  flag")
    print(header)
    print("-" * len(header))
    misses, ratios = [], {engine: [] for engine in engines}
    for name in names:
        obj = fg.objectives.get(name)
        dims = [obj.dim] if obj.dim is not None else [10, 100]
        for d in dims:
            x, v = points(obj, d, rng)
            for engine in engines:
                timer = time_autograd if engine == "autograd" else time_jax
                f_us, jvp_us = timer(obj, x, v, args.repeat)
                ratio = jvp_us / f_us
                ratios[engine].append(ratio)
                flag = ""
                if engine == "autograd" and d <= 10 and jvp_us > AUTOGRAD_TARGET_US:
                    flag = f"MISS jvp > {AUTOGRAD_TARGET_US:.0f} us"
                if engine == "jax" and ratio > JAX_TARGET_RATIO:
                    flag = f"MISS jvp/f > {JAX_TARGET_RATIO:.0f}"
                if flag:
                    misses.append((name, d, engine, flag))
                print(f"{name:24s} {d:4d} {engine:8s} {f_us:10.1f} {jvp_us:10.1f} {ratio:7.2f}  "
                      f"{flag}", flush=True)
    print()
    for engine in engines:
        r = np.array(ratios[engine])
        print(f"{engine}: jvp/f median {np.median(r):.2f}, max {r.max():.2f} over {r.size} cases")
    print(f"{len(misses)} misses" + (":" if misses else ""))
    for name, d, engine, flag in misses:
        print(f"  {name} d={d} {engine}: {flag}")


if __name__ == "__main__":
    main()
