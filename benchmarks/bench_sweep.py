"""Speed of the benchmark sweep, measured side by side with a per-run loop like the original code's.

Prints, for each engine:

- the sweep's throughput in run-steps per second (updates made by the runs / wall or CPU time; the
  CPU time of this process is the figure to trust on a machine shared with other jobs) on a fixed
  subset of the ``paper`` protocol (d = 100, every optimizer and gradient, 5 starts, 5 repeats:
  120 runs per function in one lockstep batch), once with compilation and once warm;
- the throughput of a per-run Python loop doing the same work the way the original code did: one
  run at a time, one autograd call (``value_and_grad`` or one ``make_jvp``) per step;
- their ratio (targets: JAX >= 200x, autograd >= 20x);
- the wall time of the full ``paper`` protocol (every dimension, 5 starts, 5 repeats, 50,000-step
  cap) with ``--jobs`` processes on the JAX engine, compile time included (target: <= 5 minutes
  with 2 jobs), with the chunks' CPU seconds; and for autograd an estimate (said so in the output):
  each chunk's lockstep length in the JAX run times autograd's CPU seconds per lockstep step on
  that chunk, measured on a short sweep of every chunk, divided by the jobs.

Usage: ``python benchmarks/bench_sweep.py [--jobs 2] [--skip-full | --full-only] [--steps 2000]``.
"""

import argparse
import math
import os
import time

import numpy as np
import pandas as pd
from autograd import value_and_grad as autograd_value_and_grad
from autograd.core import make_jvp

from forwardgrad import benchmark, engines, objectives, optimizers, protocols, tangents

SUBSET = ("sphere", "dixon_price", "zakharov", "schwefel_2_22")
SUBSET_DIM = 100


def _subset(steps, dim=SUBSET_DIM, functions=SUBSET):
    return protocols.protocol("paper", functions=functions, dims=(dim,), max_steps=steps)


def sweep_throughput(engine, steps, dim=SUBSET_DIM, functions=SUBSET):
    """Time the sweep of the subset twice (cold: compilation included; warm: cached loops).

    Returns ``(cold, warm, table, rows)``: the (wall, cpu) times, the table, and the lockstep
    row-steps computed (every row of a chunk advances until the chunk's last run stops).
    """
    p = _subset(steps, dim, functions)
    table, cold = timed(benchmark.sweep, p, seed=0, engine=engine)
    _, warm = timed(benchmark.sweep, p, seed=0, engine=engine)  # compiled loops are cached here
    rows = ((table.groupby("function")["steps"].max() + 1) * benchmark.runs_per_chunk(p)).sum()
    return cold, warm, table, rows


def timed(call, *args, **kwargs):
    """``(result, (wall seconds, cpu seconds of this process))``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call(*args, **kwargs)
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


def per_run_loop(table, cap, seed=0):
    """(wall, cpu) run-steps per second of the original style on the runs of ``table``: each run alone, one
    autograd call per step, as many steps as the sweep made for it (at most ``cap``).

    One run per (function, optimizer, gradient): start 0, repeat 0.
    """
    sample = table[(table.start == 0) & (table.repeat == 0)]
    work, wall, cpu = 0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    for (function, dim), runs in sample.groupby(["function", "dim"], sort=False):
        obj = objectives.get(function)
        p = _subset(1, dim, (function,))
        x0 = benchmark.starting_points(p, function, dim, seed)[0]
        lower, upper = obj.bounds(dim)
        grad = autograd_value_and_grad(obj.f)
        for run in runs.itertuples():
            opt = optimizers.get(run.optimizer, lr=run.lr)
            x, state = x0, opt.init(x0)
            n = int(min(run.steps, cap))
            start = time.perf_counter(), time.process_time()
            for _ in range(n):
                if run.gradient == "true":
                    fx, g = grad(x)
                else:
                    v = tangents.rademacher(rng, (dim,))
                    fx, dd = make_jvp(obj.f, x)(v)
                    g = dd * v
                if fx <= run.target:  # the original checked its stopping rules every step
                    break
                step, state = opt.update(g, state)
                x = x + step
                if obj.constrained:
                    x = np.clip(x, lower, upper)
            wall += time.perf_counter() - start[0]
            cpu += time.process_time() - start[1]
            work += n
    return work / wall, work / cpu


def lockstep_costs(engine, steps):
    """CPU seconds per lockstep step of every chunk of the paper protocol, from a sweep cut at
    ``steps`` steps: a Series indexed by (dim, function)."""
    table = benchmark.sweep(protocols.protocol("paper", max_steps=steps), seed=0, engine=engine)
    lengths = table.groupby(["dim", "function"])["steps"].max() + 1
    cpu = pd.DataFrame(table.attrs["timing"]["chunks"]).set_index(["dim", "function"])["cpu"]
    return cpu / lengths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2000, help="budget of the subset sweep")
    parser.add_argument("--loop-steps", type=int, default=150, help="steps per run of the per-run loop")
    parser.add_argument("--skip-full", action="store_true", help="do not time the full paper protocol")
    parser.add_argument("--full-only", action="store_true", help="only time the full paper protocol")
    parser.add_argument("--out", help="also write the full protocol's table (and its sidecar) to this CSV")
    args = parser.parse_args()

    runs = benchmark.runs_per_chunk(_subset(1))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"subset: paper protocol, d = {SUBSET_DIM}, {', '.join(SUBSET)}; {runs} runs per function")
    available = ["autograd"] + (["jax"] if engines.has_jax() else [])
    targets = {"jax": 200, "autograd": 20}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for engine in [] if args.full_only else available:
            steps = args.steps if engine == "jax" else max(args.steps // 10, 50)
            cold, warm, table, rows = sweep_throughput(engine, steps)
            work = table["steps"].sum()
            loop = per_run_loop(table, args.loop_steps)
            print(f"{engine}: budget {steps} steps, {work:,.0f} run-steps made "
                  f"({rows:,.0f} lockstep row-steps computed)")
            for i, clock in enumerate(("wall", "cpu")):
                ratio = (work / warm[i]) / loop[i]
                print(f"  [{clock}] per-run loop (original style) {loop[i]:9,.0f} run-steps/s "
                      f"({1e6 / loop[i]:.0f} us each) | sweep warm {work / warm[i]:9,.0f} run-steps/s "
                      f"({1e6 * warm[i] / work:.2f} us each, {1e6 * warm[i] / rows:.2f} us per row-step), "
                      f"with compilation {work / cold[i]:9,.0f} ({cold[i]:.1f} s) | ratio {ratio:,.0f}x "
                      f"(target {targets[engine]}x: {'met' if ratio >= targets[engine] else 'MISSED'})")

    if args.skip_full or not engines.has_jax():
        return
    p = protocols.PROTOCOLS["paper"]
    table, (wall, _) = timed(benchmark.sweep, p, seed=0, engine="jax", jobs=args.jobs, progress=True,
                             out=args.out)
    chunk_cpu = [c["cpu"] for c in table.attrs["timing"]["chunks"]] or [math.nan]
    print(f"full paper protocol, jax, --jobs {args.jobs}: {wall:.0f} s wall ({len(table)} runs, "
          f"{table['steps'].sum():,.0f} run-steps, compile included; target <= 300 s: "
          f"{'met' if wall <= 300 else 'MISSED'}, at load average {os.getloadavg()[0]:.1f})")
    print(f"  CPU seconds of the chunks: {sum(chunk_cpu):.0f} in total, longest chunk {max(chunk_cpu):.0f}; "
          f"on {args.jobs} idle cores that is about {max(sum(chunk_cpu) / args.jobs, max(chunk_cpu)):.0f} s")
    by_chunk = sorted(table.attrs["timing"]["chunks"], key=lambda t: -t["cpu"])[:4]
    print("  costliest chunks (CPU s): " + ", ".join(f"{t['function']} d={t['dim']} {t['cpu']:.0f}" for t in by_chunk))
    lengths = table.groupby(["dim", "function"])["steps"].max() + 1
    costs = lockstep_costs("autograd", 40)
    for dim, cost in costs.groupby(level=0):
        print(f"  autograd, d = {dim}: {1e3 * cost.median():.2f} ms CPU per lockstep step of 120 runs "
              f"(median over {len(cost)} functions)")
    estimate = (lengths * costs.reindex(lengths.index)).sum() / args.jobs
    print(f"full paper protocol, autograd, --jobs {args.jobs}: about {estimate / 60:.0f} min on idle cores "
          f"(ESTIMATE: each chunk's lockstep length in the JAX run x autograd's CPU seconds per lockstep "
          f"step on that chunk, measured on a 40-step sweep, with perfect use of the jobs)")


if __name__ == "__main__":
    main()
