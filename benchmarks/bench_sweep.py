"""Speed of the benchmark sweep as a user sees it, side by side with a per-run loop like the original code's.

Everything is measured in one run of this script, and only ratios are compared with the goals:

1. ``forwardgrad bench`` as a whole process (start to exit, compilation included) on 8 full chunks
   of the paper protocol (sphere, sum_squares, rotated_hyper_ellipsoid, zakharov in d = 10 and
   100; 5 starts, 5 repeats, 50,000 steps), ``--jobs 1``: on JAX cold (an empty compilation cache)
   and warm (the cache the cold run filled), and on autograd with a 2,000-step cap. For each: the
   *useful* run-steps (the sum of ``oracle_calls``, the work the runs asked for) per second of wall
   time, and the *lockstep* row-steps the batches computed (from the sidecar), whose difference
   is the work spent on rows that had stopped; and XLA's compilation seconds per chunk.
2. A per-run autograd loop the way the original code ran: one run at a time, one autograd call per
   step, on start 0 and repeat 0 of every solver of the same grid.
3. The JAX descent alone at d = 100 on one chunk of 120 runs, warm: microseconds per lockstep
   row-step.
4. The full paper protocol (8,040 runs) with ``--jobs 2``, cold, in wall seconds.

Goals (issue "Performance"): JAX >= 150x the per-run loop in useful run-steps per second, compile
included; the full protocol <= 90 s with 2 jobs, cold; <= 1 us per lockstep row-step warm at
d = 100; autograd >= 30x the per-run loop.

Usage: ``python benchmarks/bench_sweep.py [--skip-full] [--loop-steps 150]``.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from autograd import value_and_grad as autograd_value_and_grad
from autograd.core import make_jvp

from forwardgrad import benchmark, descent, engines, objectives, optimizers, protocols, tangents

GRID = ("sphere", "sum_squares", "rotated_hyper_ellipsoid", "zakharov")
DIMS = (10, 100)
GOALS = {"jax": 150.0, "autograd": 30.0, "full_seconds": 90.0, "row_step_us": 1.0}


def bench_process(folder, engine, max_steps, cache, jobs=1, functions=GRID, dims=DIMS):
    """Run ``forwardgrad bench`` in a fresh process; return its wall seconds, table and sidecar."""
    exe = shutil.which("forwardgrad", path=str(Path(sys.executable).parent))
    out = Path(folder) / f"{engine}-{max_steps}-{cache.name}-{jobs}.csv"
    for stale in (out, out.with_suffix(".json")):
        stale.unlink(missing_ok=True)
    argv = [exe, "bench", "--protocol", "paper", "--dims", ",".join(map(str, dims)), "--engine", engine,
            "--max-steps", str(max_steps), "--jobs", str(jobs), "--out", str(out), "--quiet"]
    if functions is not None:
        argv += ["--functions", ",".join(functions)]
    env = {**os.environ, engines.JAX_CACHE_ENV: str(cache)}
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    table = pd.read_csv(out)
    side = json.loads(out.with_suffix(".json").read_text())
    return wall, table, side


def describe(label, wall, table, side):
    """Useful and lockstep work of one bench process; prints a line and returns µs per useful run-step."""
    chunks = side["timing"]["chunks"]
    useful = table["oracle_calls"].sum()
    lockstep = sum(c["row_steps"] for c in chunks)
    compile_s = [c["compile"] for c in chunks]
    per_useful = 1e6 * wall / useful
    print(f"  {label}: {wall:6.1f} s wall, {useful:,.0f} useful run-steps ({per_useful:.2f} us each), "
          f"{lockstep:,.0f} lockstep row-steps ({useful / lockstep:.0%} useful), "
          f"compilation {np.sum(compile_s):.1f} s ({np.mean(compile_s):.2f} s per chunk)")
    return per_useful


def per_run_loop(table, cap, seed=0):
    """Seconds per run-step of the original style: one run alone, one autograd call per step.

    Start 0 and repeat 0 of every solver on every chunk of ``table``, each for as many steps as the
    sweep made (at most ``cap``).
    """
    sample = table[(table.start == 0) & (table.repeat == 0)]
    work, seconds = 0, 0.0
    rng = np.random.default_rng(seed)
    for (function, dim), runs in sample.groupby(["function", "dim"], sort=False):
        obj = objectives.get(function)
        p = protocols.protocol("paper", functions=(function,), dims=(dim,))
        x0 = benchmark.starting_points(p, function, dim, seed)[0]
        lower, upper = obj.bounds(dim)
        grad = autograd_value_and_grad(obj.f)
        for run in runs.itertuples():
            opt = optimizers.get(run.optimizer, lr=run.lr)
            x, state = x0, opt.init(x0)
            n = int(min(run.steps, cap))
            start = time.perf_counter()
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
            seconds += time.perf_counter() - start
            work += n
    return seconds / work


def descent_row_step(dim=100, function="sphere", steps=20_000):
    """Warm µs per lockstep row-step of the JAX descent on one paper chunk (120 runs), no compaction."""
    p = protocols.protocol("paper", functions=(function,), dims=(dim,), max_steps=steps)
    obj = objectives.get(function)
    grid = benchmark.arms(p)
    arms = [p.arm._replace(optimizer=optimizers.get(o, lr=p.lr), gradient=g) for o, g, _, _ in grid]
    x0 = benchmark.starting_points(p, function, dim, 0)
    starts = [np.repeat(x0, r, axis=0) for *_, r in grid]
    rows = sum(len(s) for s in starts)
    options = dict(keys=np.arange(rows, dtype=np.uint64), max_steps=steps, target=-np.inf, engine="jax")
    descent.descend_arms(obj.f, arms, starts, **options)  # compile
    start = time.perf_counter()
    result = descent.descend_arms(obj.f, arms, starts, **options)
    return 1e6 * (time.perf_counter() - start) / result.row_steps, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop-steps", type=int, default=150, help="steps per run of the per-run loop")
    parser.add_argument("--skip-full", action="store_true", help="do not time the full paper protocol")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"grid: paper protocol, {', '.join(GRID)} in d = {', '.join(map(str, DIMS))} (8 chunks of 120 runs)")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        cold_cache, none = folder / "jax-cache", folder / "no-cache"
        print("1. forwardgrad bench, whole process, --jobs 1:")
        wall, table, side = bench_process(folder, "jax", 50_000, cold_cache)
        jax_cold = describe("JAX, 50,000 steps, cold (empty compilation cache)", wall, table, side)
        wall, table, side = bench_process(folder, "jax", 50_000, cold_cache)
        jax_warm = describe("JAX, 50,000 steps, warm (the cache of the cold run)", wall, table, side)
        wall, ag_table, side = bench_process(folder, "autograd", 2_000, none)
        autograd = describe("autograd, 2,000 steps", wall, ag_table, side)
        print("2. per-run autograd loop, the original code's way:")
        with np.errstate(all="ignore"):
            loop = 1e6 * per_run_loop(ag_table, args.loop_steps)
        print(f"  {loop:.1f} us per run-step")
        print("ratios to the per-run loop (useful run-steps per second, compilation included):")
        for label, us, goal in (("JAX cold", jax_cold, GOALS["jax"]), ("JAX warm", jax_warm, GOALS["jax"]),
                                ("autograd", autograd, GOALS["autograd"])):
            ratio = loop / us
            print(f"  {label:9s} {ratio:6.0f}x  (goal >= {goal:.0f}x: {'met' if ratio >= goal else 'MISSED'})")
        print(f"  JAX / autograd: {autograd / jax_cold:.1f}x cold, {autograd / jax_warm:.1f}x warm")
        us, rows = descent_row_step()
        print(f"3. JAX descent, d = 100, {rows} runs, warm: {us:.2f} us per lockstep row-step "
              f"(goal <= {GOALS['row_step_us']:.0f} us: {'met' if us <= GOALS['row_step_us'] else 'MISSED'})")
        if args.skip_full:
            return
        wall, table, side = bench_process(folder, "jax", 50_000, folder / "full-cache", jobs=2, functions=None,
                                          dims=protocols.PAPER_DIMS)
        chunks = side["timing"]["chunks"]
        cpu = sum(c["cpu"] for c in chunks)
        print(f"4. full paper protocol, JAX, --jobs 2, cold: {wall:.0f} s wall for {len(table):,} runs "
              f"(goal <= {GOALS['full_seconds']:.0f} s: {'met' if wall <= GOALS['full_seconds'] else 'MISSED'}); "
              f"CPU {cpu:.0f} s in the chunks, compilation {sum(c['compile'] for c in chunks):.0f} s, "
              f"{table['oracle_calls'].sum() / sum(c['row_steps'] for c in chunks):.0%} of the lockstep work useful")
        costly = sorted(chunks, key=lambda c: -c["cpu"])[:4]
        print("  costliest chunks (CPU s): " + ", ".join(f"{c['function']} d={c['dim']} {c['cpu']:.0f}" for c in costly))


if __name__ == "__main__":
    main()
