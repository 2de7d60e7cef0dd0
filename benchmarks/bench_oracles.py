"""Speed of one forward-gradient step on both engines, measured side by side.

Prints per run-step times and the ratios the core issue targets:
  * batched autograd oracle vs a per-run Python loop (target: >= 50x at 128 runs, d = 10);
  * jvp / f and vjp / f at 1024 x 100 (target for JAX: jvp <= 3x f);
  * a whole descent of 120 runs x 50,000 steps on Rosenbrock, d = 100 (target for JAX: <= 1.5 us
    per run-step). autograd's descent is timed on fewer steps: its cost per step is flat.

Usage: python benchmarks/bench_oracles.py [--quick]
"""

import argparse
import time
from functools import partial

import numpy as np

import forwardgrad as fg
from forwardgrad.timing import best_time as _best_time
from forwardgrad.engines import load_jax, namespace

best_time = partial(_best_time, min_time=0.05)


def rosenbrock(x):
    xp = namespace(x)
    return xp.sum(100.0 * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (1.0 - x[..., :-1]) ** 2, axis=-1)


def oracle_table(rng, sizes, dims):
    jax = load_jax()
    print("\n## One forward-gradient step (tangent draw + jvp), microseconds per run-step")
    print(f"{'runs':>5} {'d':>4} {'autograd':>10} {'loop':>10} {'jax':>10} {'loop/ag':>8} {'ag/jax':>8}")
    key = jax.random.PRNGKey(0)

    def jax_step(x, key):
        stream = fg.tangents.JaxStream(key)
        v = fg.tangents.rademacher(stream, x.shape)
        return fg.oracles.forward_estimate(rosenbrock, x, v, "jax")

    jax_step = jax.jit(jax_step)
    for d in dims:
        for runs in sizes:
            x = rng.uniform(-2, 2, size=(runs, d))

            def batched():
                return fg.oracles.forward_gradient(rosenbrock, x, fg.tangents.rademacher(rng, x.shape))

            def loop():
                for r in range(runs):
                    fg.oracles.forward_gradient(rosenbrock, x[r], fg.tangents.rademacher(rng, (d,)))

            xj = jax.numpy.asarray(x)
            t_ag = best_time(batched) / runs
            t_loop = best_time(loop, repeat=3) / runs
            t_jax = best_time(lambda: jax_step(xj, key)[1].block_until_ready()) / runs
            print(f"{runs:>5} {d:>4} {1e6 * t_ag:>10.2f} {1e6 * t_loop:>10.2f} {1e6 * t_jax:>10.3f}"
                  f" {t_loop / t_ag:>8.1f} {t_ag / t_jax:>8.1f}")


def cost_ratios(rng, runs=1024, d=100):
    jax = load_jax()
    x = rng.uniform(-2, 2, size=(runs, d))
    v = fg.tangents.rademacher(rng, x.shape)
    t_f = best_time(lambda: rosenbrock(x))
    t_jvp = best_time(lambda: fg.oracles.value_and_directional(rosenbrock, x, v))
    t_vjp = best_time(lambda: fg.oracles.value_and_grad(rosenbrock, x))
    xj, vj = jax.numpy.asarray(x), jax.numpy.asarray(v)
    f_j = jax.jit(rosenbrock)
    jvp_j = jax.jit(lambda x, v: jax.jvp(rosenbrock, (x,), (v,)))
    vjp_j = jax.jit(lambda x: fg.oracles.value_and_grad(rosenbrock, x, "jax"))
    tj_f = best_time(lambda: f_j(xj).block_until_ready())
    tj_jvp = best_time(lambda: jvp_j(xj, vj)[1].block_until_ready())
    tj_vjp = best_time(lambda: vjp_j(xj)[1].block_until_ready())
    print(f"\n## Cost relative to one evaluation of f, Rosenbrock, {runs} x {d}")
    print(f"{'engine':>9} {'f (us)':>9} {'jvp/f':>7} {'vjp/f':>7}")
    print(f"{'autograd':>9} {1e6 * t_f:>9.1f} {t_jvp / t_f:>7.2f} {t_vjp / t_f:>7.2f}")
    print(f"{'jax':>9} {1e6 * tj_f:>9.1f} {tj_jvp / tj_f:>7.2f} {tj_vjp / tj_f:>7.2f}")
    return tj_jvp / tj_f


def descent_cost(engine, runs=120, d=100, steps=50_000):
    x0 = np.random.default_rng(1).uniform(-2, 2, size=(runs, d))
    opt = fg.optimizers.adam(0.01)

    def go(n):
        return fg.descent.descend(rosenbrock, x0, opt, "forward", rng=np.random.default_rng(2),
                                  max_steps=n, engine=engine)

    start = time.perf_counter()
    res = go(steps)
    total = time.perf_counter() - start
    if engine == "jax":  # second call of the same shape: compile cost shows as the difference
        start = time.perf_counter()
        go(steps)
        run_only = time.perf_counter() - start
    else:
        run_only = total
    assert np.all(res.status == "budget"), "the timing descent must run its whole budget"
    return total, run_only, runs * steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and steps")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    sizes = [1, 16, 128] if args.quick else [1, 16, 128, 1024]
    oracle_table(rng, sizes, [2, 10, 100])
    jvp_ratio = cost_ratios(rng)
    print("\n## Whole descent, Rosenbrock d = 100, 120 runs, forward Adam")
    _, jax_run, jax_work = descent_cost("jax", steps=5_000 if args.quick else 50_000)
    ag_total, _, ag_work = descent_cost("autograd", steps=300 if args.quick else 2_000)
    jax_us, ag_us = 1e6 * jax_run / jax_work, 1e6 * ag_total / ag_work
    print(f"jax      : {jax_us:.3f} us per run-step ({jax_work // 120} steps, compile excluded)")
    print(f"autograd : {ag_us:.3f} us per run-step ({ag_work // 120} steps)")
    print(f"ratio autograd/jax: {ag_us / jax_us:.1f}")
    print("\n## Targets")
    print(f"jax jvp/f at 1024 x 100 <= 3 : {jvp_ratio:.2f} {'PASS' if jvp_ratio <= 3 else 'MISS'}")
    print(f"jax descent <= 1.5 us/run-step: {jax_us:.3f} {'PASS' if jax_us <= 1.5 else 'MISS'}")
    print("(batched autograd >= 50x loop at 128 runs, d = 10: read 'loop/ag' in the first table)")


if __name__ == "__main__":
    main()
