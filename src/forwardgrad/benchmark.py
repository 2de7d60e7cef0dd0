r"""The runner of the benchmark of Belouze (2022), section 5: plan, chunk, sweep.

A protocol (:mod:`forwardgrad.protocols`) is resolved into *chunks*, one per (function, dimension)
pair with a known minimum (:func:`plan`). All runs of one chunk, every optimizer, gradient, start
and repeat, advance together through ONE call of :func:`forwardgrad.descent.descend_arms`
(:func:`run_chunk`), and :func:`sweep` runs the chunks, serially or in parallel (joblib's loky
processes, or a Dask cluster), into one tidy table with one row per run (the columns of
:data:`forwardgrad.results.COLUMNS`).

The starting points and the random stream of a chunk come from
:func:`forwardgrad.protocols.seed_sequence`, keyed by the master seed, the function, the dimension
and a role, never by the order of execution: every optimizer and every protocol sees the same
starts, and the table is the same for any number of jobs, any backend and any chunk order. With
``out=...`` each finished chunk is stored in ``<out>.parts/``; a rerun with the same configuration
skips the finished chunks, and the final CSV and its sidecar appear once every chunk is done
(:mod:`forwardgrad.results`).
"""

import functools
import math
import os
import re
import time
import warnings
from typing import NamedTuple

import joblib
import numpy as np
import pandas as pd
from tqdm import tqdm

from forwardgrad import descent, engines, objectives, optimizers, protocols, results
from forwardgrad.protocols import LADDER_EXPONENTS, BenchmarkError, rung_column, seed_sequence

PARALLEL_BACKENDS = ("loky", "dask")


class Chunk(NamedTuple):
    """One (function, dimension) pair of a sweep, with its known minimum value."""

    function: str
    dim: int
    f_star: float


class Plan(NamedTuple):
    """The chunks of a sweep in table order, and the pairs left out with the reason."""

    chunks: tuple
    skipped: tuple  # of dicts: function, dim, reason


def _objective(name, custom=None):
    if custom and name in custom:
        return custom[name]
    try:
        return objectives.get(name)
    except KeyError as err:
        raise BenchmarkError(err.args[0] if err.args else f"unknown function {name!r}") from None


def plan(p, custom=None):
    """Resolve the functions of protocol ``p`` per dimension into chunks.

    Pairs whose minimum the literature does not give (``UnknownMinimum``) are skipped and listed
    with the reason; an unknown name, or a dimension an explicitly named function does not accept,
    raises :class:`~forwardgrad.protocols.BenchmarkError`. ``custom`` maps extra names to objective
    records (with ``f``, ``accepts``, ``bounds``, ``minimum``) that take precedence over the
    collection.
    """
    p = protocols.validate(p)
    chunks, skipped = [], []
    for d in p.dims:
        for name in protocols.select(p.functions, d):
            if not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
                raise BenchmarkError(f"function names may hold letters, digits and _.+- only, got {name!r}")
            obj = _objective(name, custom)
            if not obj.accepts(d):
                raise BenchmarkError(f"function {name!r} does not accept dimension {d}")
            try:
                _, f_star = obj.minimum(d)
            except objectives.UnknownMinimum as err:
                skipped.append({"function": name, "dim": d, "reason": str(err) or "unknown minimum"})
                continue
            if not math.isfinite(f_star):
                skipped.append({"function": name, "dim": d, "reason": "its minimum is not a finite number"})
                continue
            chunks.append(Chunk(name, d, float(f_star)))
    if not chunks:
        raise BenchmarkError("the sweep is empty: no function has a known minimum in these dimensions")
    return Plan(tuple(chunks), tuple(skipped))


def arms(p):
    """``(optimizer, gradient, tangent, repeats)`` for each arm of protocol ``p``, in table order.

    Every oracle but ``true`` is stochastic: it gets the protocol's tangent law and ``repeats``.
    """
    return [
        (opt, grad, "none", p.true_repeats) if grad == "true" else (opt, grad, p.arm.tangent, p.repeats)
        for opt in p.optimizers
        for grad in p.gradients
    ]


def runs_per_chunk(p):
    """The number of runs (table rows) of one chunk of protocol ``p``."""
    return p.starts * sum(r for *_, r in arms(p))


def starting_points(p, function, dim, seed, objective=None):
    """The ``(starts, dim)`` uniform starting points of a chunk, shared by every optimizer."""
    obj = objective or _objective(function)
    lower, upper = (np.broadcast_to(np.asarray(b, dtype=float), (dim,)) for b in obj.bounds(dim))
    rng = np.random.default_rng(seed_sequence(seed, function, dim, "starts"))
    return lower + (upper - lower) * rng.random((p.starts, dim))


@functools.lru_cache(maxsize=None)
def _optimizer(name, lr):
    # one object per (name, lr), so that the descent's cache of compiled loops can hit
    return optimizers.get(name, lr=lr)


@functools.lru_cache(maxsize=None)
def _divergence(rule, threshold):
    # one rule object per (rule, threshold), for the same reason
    return protocols.DIVERGENCE_RULES[rule](threshold)


def _is_constrained(obj):
    constrained = getattr(obj, "constrained", None)
    if constrained is not None:
        return bool(constrained)
    return "constrained" in getattr(obj, "tags", frozenset())


def run_chunk(p, chunk, *, seed, engine, objective=None):
    """Run every optimizer, gradient, start and repeat of one chunk in ONE lockstep batch.

    ``objective`` is the chunk's objective record when it is not in the collection. Returns the
    chunk's rows of the result table (see :data:`forwardgrad.results.COLUMNS`).
    """
    function, dim, f_star = chunk
    obj = objective or _objective(function)
    lower, upper = (np.broadcast_to(np.asarray(b, dtype=float), (dim,)) for b in obj.bounds(dim))
    x0 = starting_points(p, function, dim, seed, obj)
    grid = arms(p)
    rungs = protocols.measured_rungs(p.ladder, p.stop_gap)
    ladder = [f_star + 10.0**k for k in rungs] + [f_star + p.target_gap]
    stop_target = f_star + p.stop_gap
    # a diverging run overflows before the rule freezes it; its status records that, so the
    # floating-point warnings would only be noise
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = descent.descend_arms(
            obj.f,
            [p.arm._replace(optimizer=_optimizer(opt, p.lr), gradient=grad) for opt, grad, _, _ in grid],
            [np.repeat(x0, r, axis=0) for *_, r in grid],
            rng=np.random.default_rng(seed_sequence(seed, function, dim, "descent")),
            max_steps=p.max_steps,
            target=stop_target,
            bounds=(lower, upper) if _is_constrained(obj) else None,
            ladder=ladder,
            divergence=_divergence(p.divergence, p.divergence_threshold),
            engine=engine,
        )
    sizes = [p.starts * r for *_, r in grid]
    hit = result.ladder_hits[:, -1]
    table = pd.DataFrame(
        {
            "protocol": p.name,
            "engine": engine,
            "function": function,
            "dim": dim,
            "optimizer": np.repeat([a[0] for a in grid], sizes),
            "gradient": np.repeat([a[1] for a in grid], sizes),
            "tangent": np.repeat([a[2] for a in grid], sizes),
            "start": np.concatenate([np.repeat(np.arange(p.starts), r) for *_, r in grid]),
            "repeat": np.concatenate([np.tile(np.arange(r), p.starts) for *_, r in grid]),
            "seed": int(seed),
            "lr": p.lr,
            "max_steps": p.max_steps,
            "f_star": f_star,
            "target_gap": p.target_gap,
            "target": f_star + p.target_gap,
            "stop_target": stop_target,
            "status": result.status.astype(str),
            "success": protocols.success(hit, p.at_target),
            "hit": hit,
            "steps": result.steps,
            "oracle_calls": result.oracle_calls,
            "f_start": result.f_start,
            "f_best": result.f_best,
            "f_final": result.f_final,
        }
    )
    for k in LADDER_EXPONENTS:
        table[rung_column(k)] = result.ladder_hits[:, rungs.index(k)] if k in rungs else np.nan
    return table


def default_engine():
    """``"jax"`` when JAX is installed, else ``"autograd"``."""
    return "jax" if engines.has_jax() else "autograd"


def _run_chunks(todo, p, seed, engine, custom, jobs, parallel, client):
    """Yield ``(chunk, table, seconds)`` as chunks finish, run by joblib on loky processes or on Dask."""
    # the largest dimensions first, so that no worker is left with a long chunk at the end
    todo = sorted(todo, key=lambda c: -c.dim)
    home = os.getpid()
    calls = (joblib.delayed(_run_timed)(p, c, seed, engine, custom.get(c.function), home) for c in todo)
    if parallel == "dask":
        with joblib.parallel_config(backend="dask", client=client):
            yield from joblib.Parallel(n_jobs=-1, return_as="generator_unordered")(calls)
    elif jobs == 1:
        yield from (_run_timed(p, c, seed, engine, custom.get(c.function), home) for c in todo)
    else:
        yield from joblib.Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")(calls)


def _run_timed(p, chunk, seed, engine, objective, home):
    wall, cpu = time.perf_counter(), time.process_time()
    table = run_chunk(p, chunk, seed=seed, engine=engine, objective=objective)
    seconds = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    if engine == "jax" and os.getpid() != home:
        # a worker process never meets this function again: drop its compiled loops, which
        # otherwise pile up until loky restarts the worker for a suspected memory leak
        engines.load_jax().clear_caches()
    return chunk, table, seconds


def _check_run(p, engine, jobs, parallel, scheduler, seed):
    p = protocols.protocol(p) if isinstance(p, str) else protocols.validate(p)
    engine = default_engine() if engine is None else engine
    if engine not in engines.ENGINES:
        raise BenchmarkError(f"unknown engine {engine!r}; valid engines are {', '.join(engines.ENGINES)}")
    if engine == "jax" and not engines.has_jax():
        raise BenchmarkError(engines.JAX_MISSING)
    if parallel not in PARALLEL_BACKENDS:
        raise BenchmarkError(f"unknown parallel backend {parallel!r}; valid: {', '.join(PARALLEL_BACKENDS)}")
    if parallel == "dask" and not scheduler:
        raise BenchmarkError("--parallel dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    return p, engine, protocols.count(jobs, "jobs"), protocols.count(seed, "seed", minimum=0)


def sweep(p, *, seed=0, engine=None, jobs=1, out=None, parallel="loky", scheduler=None, progress=False,
          objectives=None, overwrite=False):
    """Run protocol ``p`` (a :class:`~forwardgrad.protocols.Protocol` or a registered name) over its grid.

    Returns the tidy table, one row per run (columns :data:`forwardgrad.results.COLUMNS`), chunks
    in plan order. ``engine`` defaults to :func:`default_engine`. ``jobs`` loky processes run
    chunks in parallel (never more than there are chunks); ``parallel="dask"`` sends them to the
    Dask scheduler at ``scheduler`` instead. With ``out``, finished chunks go to ``<out>.parts/``
    as they finish, and the CSV and its sidecar are written once all are done; a rerun skips the
    finished chunks, and a finished ``out`` of the same configuration is read back
    (``table.attrs["reused"]`` is True). A finished ``out`` of another configuration is an error
    unless ``overwrite``. ``objectives`` maps extra function names to objective records (see
    :func:`plan`). The wall and CPU seconds of the chunks run by this call are in
    ``table.attrs["timing"]`` (and in the sidecar).
    """
    started = time.perf_counter()
    p, engine, jobs, seed = _check_run(p, engine, jobs, parallel, scheduler, seed)
    custom = dict(objectives or {})
    sweep_plan = plan(p, custom)
    config = results.configuration(p, sweep_plan, seed=seed, engine=engine, custom=custom)
    done, parts = {}, None
    per_chunk = runs_per_chunk(p)
    if out is not None:
        out = results.check_output(out)
        try:
            if results.finished(out, config) == "reused":
                table = results.load(out)
                table.attrs.update(reused=True, timing={})
                return table
        except BenchmarkError:
            if not overwrite:
                raise
    # connect before writing anything, so that a failed connection leaves no file behind
    client = _dask_client(scheduler) if parallel == "dask" else None
    try:
        if out is not None:
            parts = results.open_parts(out, config)
            for chunk in sweep_plan.chunks:
                table = results.read_part(parts, chunk, config, per_chunk)
                if table is not None:
                    done[chunk] = table
        todo = [c for c in sweep_plan.chunks if c not in done]
        jobs = min(jobs, max(len(todo), 1))
        if parallel == "loky" and jobs > (os.cpu_count() or 1):
            warnings.warn(f"{jobs} jobs on {os.cpu_count()} CPUs: the workers will share cores", UserWarning,
                          stacklevel=2)
        timing = []
        with tqdm(total=per_chunk * len(sweep_plan.chunks), initial=per_chunk * len(done), unit="run",
                  desc=f"{p.name} ({engine})", disable=not progress) as bar:
            for chunk, table, seconds in _run_chunks(todo, p, seed, engine, custom, jobs, parallel, client):
                timing.append({"function": chunk.function, "dim": chunk.dim, **seconds})
                if parts is not None:
                    results.write_part(parts, chunk, table, config)
                done[chunk] = table
                bar.update(len(table))
    finally:
        if client is not None:
            client.close()
    table = pd.concat([done[c] for c in sweep_plan.chunks], ignore_index=True)
    timing = {"wall_seconds": time.perf_counter() - started, "jobs": jobs, "parallel": parallel, "chunks": timing}
    if out is not None:
        results.finish(out, table, config, timing)
        table = results.load(out)  # the same table, whether chunks came from this run or from the parts
    table.attrs.update(timing=timing, reused=False)
    return table


def _dask_client(scheduler):
    """A Dask client connected to ``scheduler``, or one line of error."""
    try:  # an optional dependency, needed only for --parallel dask: imported when used
        from dask.distributed import Client
    except ImportError:
        raise BenchmarkError("--parallel dask needs dask[distributed]: pip install forwardgrad[dask]") from None
    try:
        return Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as err:
        raise BenchmarkError(f"cannot connect to the Dask scheduler at {scheduler}: {err}") from None
