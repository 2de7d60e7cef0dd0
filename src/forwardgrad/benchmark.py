r"""The runner of the benchmark of Belouze (2022), section 5: plan, chunk, sweep.

A protocol (:mod:`forwardgrad.protocols`) is resolved into *chunks*, one per (function, dimension)
pair with a known minimum (:func:`plan`). All runs of one chunk, every optimizer, gradient, start
and repeat, advance together through ONE call of :func:`forwardgrad.descent.descend_arms`
(:func:`run_chunk`), and :func:`sweep` runs the chunks, serially or in parallel (joblib's loky
processes, or a Dask cluster), into one tidy table with one row per run (the columns of
:data:`forwardgrad.results.COLUMNS`).

The starting points of a chunk come from :func:`forwardgrad.protocols.seed_sequence`, keyed by
the master seed, the function and the dimension, and every run draws its tangents from a stream
keyed by its own identity (:func:`forwardgrad.protocols.run_keys`: seed, function, dimension,
start, repeat), never by the order of execution or by the other runs of its batch: every
optimizer and every protocol sees the same starts and, for the same start and repeat, the same
tangents; a run's row is the same in any grid, for any number of jobs, any backend and any chunk
order. The lockstep batch is compacted as runs stop, which changes no result. With
``out=...`` each finished chunk is stored in ``<out>.parts/``; a rerun with the same configuration
skips the finished chunks, and the final CSV and its sidecar appear once every chunk is done
(:mod:`forwardgrad.results`).
"""

import functools
import math
import os
import re
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import NamedTuple

import joblib
import joblib.externals.loky.process_executor
import numpy as np
import pandas as pd
from tqdm import tqdm

from forwardgrad import descent, engines, objectives, optimizers, plugins, protocols, results
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
    if isinstance(name, plugins.Plugin):
        return name.obj
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
        for entry in protocols.select(p.functions, d):
            name = plugins.name(entry)
            if not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
                raise BenchmarkError(f"function names may hold letters, digits and _.+- only, got {name!r}")
            obj = _objective(entry, custom)
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


def _solvers(p):
    """``(optimizer, gradient, stochastic)`` entries of protocol ``p`` in table order; an oracle
    is stochastic when it draws tangents (all but ``true`` among the registered ones)."""
    return [(opt, grad, plugins.obj(grad, "gradient").tangents is not None)
            for opt in p.optimizers for grad in p.gradients]


def arms(p):
    """``(optimizer, gradient, tangent, repeats)`` names for each arm of protocol ``p``, in table order.

    Every oracle that draws tangents (all but ``true``) is stochastic: it gets the protocol's
    tangent law and ``repeats``; a deterministic one runs ``true_repeats`` times with tangent ``"none"``.
    """
    return [
        (plugins.name(opt), plugins.name(grad), plugins.name(p.arm.tangent), p.repeats) if stochastic
        else (plugins.name(opt), plugins.name(grad), "none", p.true_repeats)
        for opt, grad, stochastic in _solvers(p)
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
def _optimizer(entry, lr):
    # one object per (entry, lr), so that the descent's cache of compiled loops can hit
    if isinstance(entry, plugins.Plugin):
        return entry.obj if isinstance(entry.obj, optimizers.Optimizer) else entry.obj(lr=lr)
    return optimizers.get(entry, lr=lr)


@functools.lru_cache(maxsize=None)
def _divergence(rule, threshold):
    # one rule object per (rule, threshold), for the same reason
    return protocols.DIVERGENCE_RULES[rule](threshold)


def _object(entry):
    """A registered name as it is (the descent looks it up), a plugin as its object."""
    return entry.obj if isinstance(entry, plugins.Plugin) else entry


def _is_constrained(obj):
    constrained = getattr(obj, "constrained", None)
    if constrained is not None:
        return bool(constrained)
    return "constrained" in getattr(obj, "tags", frozenset())


def run_chunk(p, chunk, *, seed, engine, objective=None, progress=None):
    """Run every optimizer, gradient, start and repeat of one chunk in ONE lockstep batch.

    ``objective`` is the chunk's objective record when it is not in the collection;
    ``progress(t, stopped)`` is called as the batch advances (see
    :func:`forwardgrad.descent.descend_arms`). Returns the chunk's rows of the result table (see
    :data:`forwardgrad.results.COLUMNS`).
    """
    function, dim, f_star = chunk
    obj = objective or _objective(function)
    lower, upper = (np.broadcast_to(np.asarray(b, dtype=float), (dim,)) for b in obj.bounds(dim))
    x0 = starting_points(p, function, dim, seed, obj)
    grid = arms(p)
    start = np.concatenate([np.repeat(np.arange(p.starts), r) for *_, r in grid])
    repeat = np.concatenate([np.tile(np.arange(r), p.starts) for *_, r in grid])
    rungs = protocols.measured_rungs(p.ladder, p.stop_gap)
    ladder = [f_star + 10.0**k for k in rungs] + [f_star + p.target_gap]
    stop_target = f_star + p.stop_gap
    # a diverging run overflows before the rule freezes it; its status records that, so the
    # floating-point warnings would only be noise
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = descent.descend_arms(
            obj.f,
            [p.arm._replace(optimizer=_optimizer(opt, p.lr), gradient=_object(grad), tangent=_object(p.arm.tangent))
             for opt, grad, _ in _solvers(p)],
            [np.repeat(x0, r, axis=0) for *_, r in grid],
            keys=protocols.run_keys(seed, function, dim, start, repeat),
            max_steps=p.max_steps,
            target=stop_target,
            bounds=(lower, upper) if _is_constrained(obj) else None,
            ladder=ladder,
            divergence=_divergence(p.divergence, p.divergence_threshold),
            engine=engine,
            progress=progress,
            compact=True,
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
            "start": start,
            "repeat": repeat,
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
    table.attrs["row_steps"] = result.row_steps  # the lockstep work, for the sweep's timing record
    return table


def default_engine():
    """``"jax"`` when JAX is installed, else ``"autograd"``."""
    return "jax" if engines.has_jax() else "autograd"


class _Progress:
    """A progress bar of run-steps: a run that stops counts for its whole budget at once, so the
    bar moves as the runs advance (every segment of the descent), within a chunk too."""

    def __init__(self, bar, budget, runs_per_chunk):
        self.bar, self.budget, self.runs = bar, budget, runs_per_chunk
        self.done = {}
        self.lock = threading.Lock()

    def report(self, name, t, stopped):
        work = stopped * self.budget + (self.runs - stopped) * min(t, self.budget)
        with self.lock:
            new = work - self.done.get(name, 0)
            if new > 0:
                self.done[name] = work
                self.bar.update(new)

    def finish(self, chunk):
        self.report(f"{chunk.function}-d{chunk.dim}", self.budget, self.runs)


class _Reporter:
    """The progress callback of one chunk, picklable for a worker process: in a worker it writes
    its latest report to a small file that the sweep's process polls; here it hands it to the bar."""

    def __init__(self, name, folder=None, progress=None):
        self.name, self.folder, self.progress = name, folder, progress

    def __call__(self, t, stopped):
        if self.folder is not None:
            path = Path(self.folder) / self.name
            tmp = path.with_name(f".{self.name}.{os.getpid()}")
            tmp.write_text(f"{t} {stopped}")
            os.replace(tmp, path)
        elif self.progress is not None:
            self.progress.report(self.name, t, stopped)


def _run_chunks(todo, p, seed, engine, custom, jobs, parallel, client, progress):
    """Yield ``(chunk, table, seconds)`` as chunks finish, run by joblib on loky processes or on Dask."""
    # the largest dimensions first, so that no worker is left with a long chunk at the end
    todo = sorted(todo, key=lambda c: -c.dim)
    home = os.getpid()
    name = lambda c: f"{c.function}-d{c.dim}"  # noqa: E731
    if parallel == "dask":  # remote workers: the bar moves as chunks finish
        calls = (joblib.delayed(_run_timed)(p, c, seed, engine, custom.get(c.function), home, None) for c in todo)
        with joblib.parallel_config(backend="dask", client=client):
            yield from joblib.Parallel(n_jobs=-1, return_as="generator_unordered")(calls)
        return
    if jobs == 1:
        for c in todo:
            yield _run_timed(p, c, seed, engine, custom.get(c.function), home, _Reporter(name(c), progress=progress))
        return
    with tempfile.TemporaryDirectory(prefix="forwardgrad-progress-") as folder:
        stop = threading.Event()
        poll = threading.Thread(target=_poll, args=(folder, progress, stop), daemon=True)
        poll.start()
        calls = (joblib.delayed(_run_timed)(p, c, seed, engine, custom.get(c.function), home,
                                            _Reporter(name(c), folder=folder)) for c in todo)
        try:
            yield from joblib.Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")(calls)
        finally:
            stop.set()
            poll.join(timeout=5)


def _poll(folder, progress, stop):
    """Read the workers' progress files every half second until ``stop``."""
    while not stop.wait(0.5):
        for path in Path(folder).iterdir():
            if path.name.startswith("."):
                continue
            try:
                t, stopped = (int(v) for v in path.read_text().split())
            except (OSError, ValueError):
                continue
            progress.report(path.name, t, stopped)


def _watch_parent(home):
    """In a worker process: exit when the process that started the sweep is gone.

    loky keeps its workers alive between tasks; if the sweep's process is killed (SIGKILL leaves
    it no time to stop them) they would otherwise linger, each holding hundreds of MB.
    """
    def watch():
        while True:
            time.sleep(2.0)
            if not _alive(home):
                os._exit(1)

    if home not in _WATCHED:
        _WATCHED.add(home)
        threading.Thread(target=watch, daemon=True).start()


_WATCHED = set()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_timed(p, chunk, seed, engine, objective, home, reporter):
    if os.getpid() != home:
        _watch_parent(home)
    wall, cpu, compiling = time.perf_counter(), time.process_time(), engines.compile_seconds()
    compiles = engines.compile_count()
    table = run_chunk(p, chunk, seed=seed, engine=engine, objective=objective, progress=reporter)
    seconds = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
               "compile": engines.compile_seconds() - compiling, "compiles": engines.compile_count() - compiles,
               "row_steps": table.attrs.pop("row_steps", 0)}
    if engine == "jax" and os.getpid() != home:
        # a worker process never meets this function again: drop its compiled loops, which
        # otherwise pile up until loky restarts the worker for a suspected memory leak
        engines.load_jax().clear_caches()
    return chunk, table, seconds


def _check_run(p, engine, jobs, parallel, scheduler, seed):
    p = protocols.protocol(p) if isinstance(p, str) else protocols.validate(p)
    chosen, engine = engine, default_engine() if engine is None else engine
    if engine not in engines.ENGINES:
        raise BenchmarkError(f"unknown engine {engine!r}; valid engines are {', '.join(engines.ENGINES)}")
    if engine == "jax" and not engines.has_jax():
        raise BenchmarkError(engines.JAX_MISSING)
    if engine == "jax":
        engine = _engine_for_plugins(p, chosen)
    if parallel not in PARALLEL_BACKENDS:
        raise BenchmarkError(f"unknown parallel backend {parallel!r}; valid: {', '.join(PARALLEL_BACKENDS)}")
    if parallel == "dask" and not scheduler:
        raise BenchmarkError("--parallel dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    return p, engine, protocols.count(jobs, "jobs"), protocols.count(seed, "seed", minimum=0)


def _engine_for_plugins(p, chosen):
    """``"jax"`` when every plugin of ``p`` traces on JAX; else ``"autograd"`` with a warning
    when the engine was left to the default, or one line of error when JAX was asked for."""
    for entry in protocols.plugin_entries(p):
        problem = plugins.jax_problem(entry, p.lr)
        if problem is None:
            continue
        where = entry.path or entry.name
        if chosen == "jax":
            raise BenchmarkError(f"{entry.kind} plugin {where} does not trace on JAX ({problem}); "
                                 f"{plugins.TRACEABLE_HINT}")
        warnings.warn(f"{entry.kind} plugin {where} does not trace on JAX ({problem}): the sweep runs on "
                      "autograd", UserWarning, stacklevel=3)
        return "autograd"
    return "jax"


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
    :func:`plan`). The wall and CPU seconds of the chunks run by this call, and XLA's compilations
    in them (seconds and count), are in ``table.attrs["timing"]`` (and in the sidecar).
    """
    started = time.perf_counter()
    p, engine, jobs, seed = _check_run(p, engine, jobs, parallel, scheduler, seed)
    custom = dict(objectives or {})
    sweep_plan = plan(p, custom)
    # the worker processes receive the objects of the test-function plugins with their chunks
    custom.update({e.name: e.obj for e in protocols.plugin_entries(p) if e.kind == "function"})
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
        total = per_chunk * len(sweep_plan.chunks) * p.max_steps
        with tqdm(total=total, initial=per_chunk * len(done) * p.max_steps, unit="run-step", unit_scale=True,
                  desc=f"{p.name} ({engine})", disable=not progress, mininterval=1.0) as bar:
            bars = _Progress(bar, p.max_steps, per_chunk)
            try:
                for chunk, table, seconds in _run_chunks(todo, p, seed, engine, custom, jobs, parallel, client, bars):
                    timing.append({"function": chunk.function, "dim": chunk.dim, **seconds})
                    if parts is not None:
                        results.write_part(parts, chunk, table, config)
                    done[chunk] = table
                    bars.finish(chunk)
            except (joblib.externals.loky.process_executor.TerminatedWorkerError, BlockingIOError) as err:
                raise BenchmarkError(f"the worker processes failed ({type(err).__name__}: {str(err).splitlines()[0]}); "
                                     "try fewer --jobs") from None
    finally:
        if client is not None:
            client.close()
        if parts is not None and not any(results.part_path(parts, c).exists() for c in sweep_plan.chunks) \
                and not done:
            shutil.rmtree(parts, ignore_errors=True)  # nothing finished: leave no empty folder behind
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
