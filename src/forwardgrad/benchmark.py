r"""The benchmark of Belouze (2022), section 5: protocols, and the sweep of a grid into a tidy table.

A *protocol* fixes everything about an experiment except the master seed and the engine: the test
functions and dimensions, the optimizers and gradient oracles, the tangent law, the starting
points and repeats, the learning rate, the budget, the targets, the divergence rule, and how the
runs of a stochastic solver become one cost. Three are registered in :data:`PROTOCOLS`:

``paper``
    What section 5 of the paper states: ``paper_selection(d)`` for $d \in \{2, 10, 100\}$, 5
    uniform starts in the box, 5 repeats per start for forward gradients and 1 for true gradients,
    lr 0.01, target $f^\star + 0.1$, at most 50,000 steps, projection onto the box for constrained
    functions, Rademacher tangents. The paper states no divergence rule; we use the documented
    relative rule :func:`forwardgrad.descent.relative_divergence` (never at step 0). The paper
    measures "the number of function evaluations to reach the minimum up to 0.1"; for a
    stochastic solver we read that as the aRT of its repeats (failures count).
``as-coded``
    ``paper`` plus what the original code did (DESIGN.md, section 5): the absolute divergence rule
    $f(x_k) - \text{target} > 10^5$ checked from step 0; the cost of a stochastic solver is the
    mean over its *successful* repeats only (one success in five counts as solved); a start
    already at the target scores as a failure.
``honest``
    Failures count through the aRT; the relative divergence rule; a start already at the target
    is solved in 0 steps; and every run goes on until the last rung of the COCO-style ladder
    $f^\star + 10^k$, $k = 2, \dots, -8$, or the budget, recording the first step at each rung.

Targets and the ladder. ``target = f_star + target_gap`` (0.1 everywhere) is the fixed target of
the profiles and of the ``hit``/``success`` columns. A run *stops* at ``stop_target = f_star +
stop_gap``: 0.1 for ``paper`` and ``as-coded``, $10^{-8}$ (the last rung) for ``honest``. The
rungs at or above the stopping target are recorded for every protocol; rungs below it are not
measured (their columns are NaN) since the run stops before it could reach them.

Costs are counted in *evaluations*: one oracle call evaluates $f$ and a gradient at $x_k$, so a
run that first meets a target at step ``hit`` used ``hit + 1`` evaluations, and a run that ended
after ``steps`` updates used ``steps + 1``. A start at the target thus costs 1 evaluation, which
keeps performance ratios finite.

Batching, seeding, files. All runs of one (function, dimension) pair, every optimizer, gradient,
start and repeat, advance together through ONE call of :func:`forwardgrad.descent.descend_arms`
(a *chunk*). The starting points and the descent's random stream of a chunk come from
:func:`seed_sequence` (``numpy.random.SeedSequence`` keyed by the master seed, the function name,
the dimension and a role), never from the order of execution: every optimizer and every protocol
sees the same starts, and the table is the same for any number of jobs, any backend and any chunk
order. With ``out=...`` each finished chunk is written atomically to ``<out>.parts/``; a rerun
with the same configuration skips finished chunks, and the final CSV and its JSON sidecar appear
(atomically) only when every chunk is done.
"""

import datetime
import functools
import hashlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from forwardgrad import descent as _descent
from forwardgrad import engines as _engines
from forwardgrad import optimizers as _optimizers
from forwardgrad import tangents as _tangents

FORMAT = "forwardgrad-benchmark/1"
PAPER_DIMS = (2, 10, 100)
LADDER_EXPONENTS = tuple(range(2, -9, -1))  # f* + 10^k for k = 2, ..., -8
DIVERGENCE_RULES = {
    "relative": _descent.relative_divergence,
    "absolute": _descent.absolute_divergence,
}
COST_RULES = ("art", "mean_of_successes")
AT_TARGET_RULES = ("solved", "failure")
PARALLEL_BACKENDS = ("loky", "dask")


class BenchmarkError(ValueError):
    """Bad input to a sweep (an unknown name, an impossible grid, a foreign file)."""


def rung_column(k):
    """The column holding the first step with $f \\le f^\\star + 10^k$: ``hit_1e{k}``."""
    return f"hit_1e{int(k)}"


RUNG_COLUMNS = tuple(rung_column(k) for k in LADDER_EXPONENTS)

COLUMNS = {
    "protocol": "protocol name (paper, as-coded, honest)",
    "engine": "AD engine that produced the row (jax or autograd)",
    "function": "test function name",
    "dim": "dimension d",
    "optimizer": "optimizer name",
    "gradient": "gradient oracle: true, forward, projected, guided or fd",
    "tangent": "tangent law of a stochastic oracle ('none' for true gradients; guided draws N(0, Sigma))",
    "start": "index of the starting point (shared by every optimizer)",
    "repeat": "index of the repeat from that start",
    "seed": "master seed; the streams derive from (seed, function, dim, role)",
    "lr": "learning rate",
    "max_steps": "budget: the most updates a run may make",
    "f_star": "the minimum value f* from the literature",
    "target_gap": "the fixed target is f* + target_gap",
    "target": "f* + target_gap, the target of hit and success",
    "stop_target": "the run stops once f <= stop_target",
    "status": "solved (reached stop_target), budget, or diverged",
    "success": "the protocol's verdict for the fixed target",
    "hit": "updates made before f <= target for the first time (NaN if never)",
    "steps": "updates made in total",
    "oracle_calls": "gradient evaluations used by those updates",
    "f_start": "f at the starting point",
    "f_best": "lowest f seen",
    "f_final": "f at the last iterate",
    **{rung_column(k): f"first step with f <= f* + 1e{k} (NaN: never, or not measured)"
       for k in LADDER_EXPONENTS},
}


class Protocol(NamedTuple):
    """Everything that defines an experiment except the master seed and the engine.

    ``functions`` is ``("paper",)`` for ``paper_selection(d)``, ``("all",)`` for every function
    accepting ``d``, or explicit names. ``repeats`` counts the repeats per start of a stochastic
    solver (every oracle but ``true``; all but ``guided`` draw their tangents from ``tangent``),
    ``true_repeats`` those of a true-gradient solver (deterministic, hence 1). ``k`` (tangents per
    step), ``eps`` (finite-difference step), ``alpha`` (guided mixing) and ``beta`` (decay of the
    guide) are those of :class:`forwardgrad.descent.Arm`.
    """

    name: str
    functions: tuple = ("paper",)
    dims: tuple = PAPER_DIMS
    optimizers: tuple = ("sgd", "clipped_sgd", "adam", "adabelief")
    gradients: tuple = ("true", "forward")
    tangent: str = "rademacher"
    starts: int = 5
    repeats: int = 5
    true_repeats: int = 1
    lr: float = 0.01
    max_steps: int = 50_000
    target_gap: float = 0.1
    stop_gap: float = 0.1
    ladder: tuple = LADDER_EXPONENTS
    divergence: str = "relative"
    divergence_threshold: float = 1e5
    cost: str = "art"
    at_target: str = "solved"
    k: int = 1
    eps: float = 1e-4
    alpha: float = 0.5
    beta: float = 0.9


PROTOCOLS = {
    "paper": Protocol("paper"),
    "as-coded": Protocol("as-coded", divergence="absolute", cost="mean_of_successes", at_target="failure"),
    "honest": Protocol("honest", stop_gap=1e-8),
}


def protocol(name, **overrides):
    """The registered protocol ``name`` with some fields replaced, validated.

    ``protocol("paper", dims=(2,), starts=2, max_steps=500)`` keeps every other field of
    ``paper``. Raises :class:`BenchmarkError` for an unknown name or field, or a bad value.
    """
    if name not in PROTOCOLS:
        raise BenchmarkError(f"unknown protocol {name!r}; valid protocols are {', '.join(PROTOCOLS)}")
    unknown = set(overrides) - set(Protocol._fields)
    if unknown:
        raise BenchmarkError(f"unknown protocol field(s) {', '.join(sorted(unknown))}")
    return validate(PROTOCOLS[name]._replace(**{k: v for k, v in overrides.items() if v is not None}))


def _names(value):
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _count(value, name, minimum=1):
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise BenchmarkError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def validate(p):
    """Check every field of the protocol ``p``; return it with normalised types."""
    optimizers = _names(p.optimizers)
    for name in optimizers:
        if name not in _optimizers.OPTIMIZERS:
            raise BenchmarkError(
                f"unknown optimizer {name!r}; valid optimizers are {', '.join(_optimizers.OPTIMIZERS)}"
            )
    gradients = _names(p.gradients)
    for name in gradients:
        if name not in _descent.GRADIENTS:
            raise BenchmarkError(f"unknown gradient {name!r}; valid gradients are {', '.join(_descent.GRADIENTS)}")
    if p.tangent not in _tangents.TANGENTS:
        raise BenchmarkError(
            f"unknown tangent law {p.tangent!r}; valid laws are {', '.join(sorted(_tangents.TANGENTS))}"
        )
    if not optimizers or not gradients:
        raise BenchmarkError("a sweep needs at least one optimizer and one gradient")
    dims = tuple(_count(d, "a dimension") for d in (_names(p.dims) if isinstance(p.dims, str) else p.dims))
    if not dims:
        raise BenchmarkError("a sweep needs at least one dimension")
    functions = _names(p.functions)
    if not functions:
        raise BenchmarkError("a sweep needs at least one function")
    lr = float(p.lr)
    if not (math.isfinite(lr) and lr > 0):
        raise BenchmarkError(f"lr must be a positive number, got {p.lr}")
    for field in ("target_gap", "stop_gap", "divergence_threshold", "eps"):
        value = float(getattr(p, field))
        if not (math.isfinite(value) and value > 0):
            raise BenchmarkError(f"{field} must be a positive number, got {value}")
    eps, alpha, beta = float(p.eps), float(p.alpha), float(p.beta)
    if not 0 < alpha <= 1:
        raise BenchmarkError(f"alpha must lie in (0, 1], got {p.alpha}")
    if not 0 <= beta < 1:
        raise BenchmarkError(f"beta must lie in [0, 1), got {p.beta}")
    if p.stop_gap > p.target_gap:
        raise BenchmarkError("stop_gap must not exceed target_gap: runs would stop before the target")
    if p.divergence not in DIVERGENCE_RULES:
        raise BenchmarkError(f"unknown divergence rule {p.divergence!r}; valid: {', '.join(DIVERGENCE_RULES)}")
    if p.cost not in COST_RULES:
        raise BenchmarkError(f"unknown cost rule {p.cost!r}; valid: {', '.join(COST_RULES)}")
    if p.at_target not in AT_TARGET_RULES:
        raise BenchmarkError(f"unknown at-target rule {p.at_target!r}; valid: {', '.join(AT_TARGET_RULES)}")
    return p._replace(
        functions=functions,
        dims=tuple(dict.fromkeys(dims)),
        optimizers=tuple(dict.fromkeys(optimizers)),
        gradients=tuple(dict.fromkeys(gradients)),
        starts=_count(p.starts, "starts"),
        repeats=_count(p.repeats, "repeats"),
        true_repeats=_count(p.true_repeats, "true_repeats"),
        max_steps=_count(p.max_steps, "max_steps"),
        lr=lr,
        ladder=tuple(int(k) for k in p.ladder),
        k=_count(p.k, "k"),
        eps=eps,
        alpha=alpha,
        beta=beta,
    )


def measured_rungs(p):
    """The ladder exponents $k$ a run of protocol ``p`` can record: $10^k \\ge$ ``stop_gap``."""
    return tuple(k for k in p.ladder if 10.0**k >= p.stop_gap * (1 - 1e-12))


def _name_key(name):
    return int.from_bytes(hashlib.sha256(str(name).encode()).digest()[:8], "little")


def seed_sequence(seed, function, dim, role):
    """The ``SeedSequence`` of one stream: keyed by names, not by the order of execution.

    ``SeedSequence(seed, spawn_key=(h(function), dim, h(role)))`` with ``h`` the first 8 bytes of
    SHA-256; the roles are ``"starts"`` and ``"descent"``.
    """
    return np.random.SeedSequence(int(seed), spawn_key=(_name_key(function), int(dim), _name_key(role)))


def _objectives():
    from forwardgrad import objectives

    return objectives


def _objective(name, custom=None):
    if custom and name in custom:
        return custom[name]
    try:
        return _objectives().get(name)
    except KeyError as err:
        raise BenchmarkError(err.args[0] if err.args else f"unknown function {name!r}") from None


def _is_constrained(obj):
    constrained = getattr(obj, "constrained", None)
    if constrained is not None:
        return bool(constrained)
    return "constrained" in getattr(obj, "tags", frozenset())


class Chunk(NamedTuple):
    """One (function, dimension) pair of a sweep, with its known minimum value."""

    function: str
    dim: int
    f_star: float


class Plan(NamedTuple):
    """The chunks of a sweep in table order, and the pairs left out with the reason."""

    chunks: tuple
    skipped: tuple  # of dicts: function, dim, reason


def plan(p, objectives=None):
    """Resolve the functions of protocol ``p`` per dimension into chunks.

    Pairs whose minimum the literature does not give (``UnknownMinimum``) are skipped and listed
    with the reason; an unknown name, or a dimension an explicitly named function does not accept,
    raises :class:`BenchmarkError`. ``objectives`` maps extra names to objective records (with
    ``f``, ``accepts``, ``bounds``, ``minimum``) that take precedence over the collection.
    """
    p = validate(p)
    registry = _objectives()
    unknown_minimum = getattr(registry, "UnknownMinimum", ())
    chunks, skipped = [], []
    for d in p.dims:
        if p.functions == ("paper",):
            if d not in PAPER_DIMS:
                raise BenchmarkError(
                    f"the paper selection exists for d = 2, 10, 100 only, not d = {d}; name the functions"
                )
            names = list(registry.paper_selection(d))
        elif p.functions == ("all",):
            names = [n for n in registry.names() if registry.get(n).accepts(d)]
        else:
            names = list(p.functions)
        for name in names:
            if not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
                raise BenchmarkError(f"function names may hold letters, digits and _.+- only, got {name!r}")
            obj = _objective(name, objectives)
            if not obj.accepts(d):
                raise BenchmarkError(f"function {name!r} does not accept dimension {d}")
            try:
                _, f_star = obj.minimum(d)
            except unknown_minimum as err:
                skipped.append({"function": name, "dim": d, "reason": str(err) or "unknown minimum"})
                continue
            chunks.append(Chunk(name, d, float(f_star)))
    if not chunks:
        raise BenchmarkError("the sweep is empty: no function has a known minimum in these dimensions")
    return Plan(tuple(chunks), tuple(skipped))


def _arms(p):
    """(optimizer, gradient, tangent, repeats) for each arm, in table order.

    Every oracle but ``true`` is stochastic: it gets the protocol's tangent law and ``repeats``.
    """
    return [
        (opt, grad, "none", p.true_repeats) if grad == "true" else (opt, grad, p.tangent, p.repeats)
        for opt in p.optimizers
        for grad in p.gradients
    ]


def _arm(p, optimizer, gradient):
    """The :class:`~forwardgrad.descent.Arm` of one (optimizer, gradient) pair of protocol ``p``."""
    return _descent.Arm(_optimizer(optimizer, p.lr), gradient, p.tangent, k=p.k, eps=p.eps, alpha=p.alpha,
                        beta=p.beta)


def runs_per_chunk(p):
    """The number of runs (table rows) of one chunk of protocol ``p``."""
    return p.starts * sum(r for *_, r in _arms(p))


def starting_points(p, function, dim, seed, objective=None):
    """The ``(starts, dim)`` uniform starting points of a chunk, shared by every optimizer."""
    obj = objective or _objective(function)
    lower, upper = (np.broadcast_to(np.asarray(b, dtype=float), (dim,)) for b in obj.bounds(dim))
    rng = np.random.default_rng(seed_sequence(seed, function, dim, "starts"))
    return lower + (upper - lower) * rng.random((p.starts, dim))


@functools.lru_cache(maxsize=None)
def _optimizer(name, lr):
    # one object per (name, lr), so that the descent's cache of compiled loops can hit
    return _optimizers.get(name, lr=lr)


@functools.lru_cache(maxsize=None)
def _divergence(rule, threshold):
    return DIVERGENCE_RULES[rule](threshold)


def run_chunk(p, chunk, *, seed, engine, objective=None):
    """Run every optimizer, gradient, start and repeat of one chunk in ONE lockstep batch.

    ``objective`` is the chunk's objective record when it is not in the collection. Returns the
    chunk's rows of the result table (see :data:`COLUMNS`).
    """
    function, dim, f_star = chunk
    obj = objective or _objective(function)
    lower, upper = (np.broadcast_to(np.asarray(b, dtype=float), (dim,)) for b in obj.bounds(dim))
    x0 = starting_points(p, function, dim, seed, obj)
    arms = _arms(p)
    rungs = measured_rungs(p)
    ladder = [f_star + 10.0**k for k in rungs] + [f_star + p.target_gap]
    stop_target = f_star + p.stop_gap
    # a diverging run overflows before the rule freezes it; its status records that, so the
    # floating-point warnings would only be noise
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = _descent.descend_arms(
            obj.f,
            [_arm(p, opt, grad) for opt, grad, _, _ in arms],
            [np.repeat(x0, r, axis=0) for *_, r in arms],
            rng=np.random.default_rng(seed_sequence(seed, function, dim, "descent")),
            max_steps=p.max_steps,
            target=stop_target,
            bounds=(lower, upper) if _is_constrained(obj) else None,
            ladder=ladder,
            divergence=_divergence(p.divergence, p.divergence_threshold),
            engine=engine,
        )
    sizes = [p.starts * r for *_, r in arms]
    hit = result.ladder_hits[:, -1]
    success = np.isfinite(hit) & ((hit > 0) if p.at_target == "failure" else True)
    table = pd.DataFrame(
        {
            "protocol": p.name,
            "engine": engine,
            "function": function,
            "dim": dim,
            "optimizer": np.repeat([a[0] for a in arms], sizes),
            "gradient": np.repeat([a[1] for a in arms], sizes),
            "tangent": np.repeat([a[2] for a in arms], sizes),
            "start": np.concatenate([np.repeat(np.arange(p.starts), r) for *_, r in arms]),
            "repeat": np.concatenate([np.tile(np.arange(r), p.starts) for *_, r in arms]),
            "seed": int(seed),
            "lr": p.lr,
            "max_steps": p.max_steps,
            "f_star": f_star,
            "target_gap": p.target_gap,
            "target": f_star + p.target_gap,
            "stop_target": stop_target,
            "status": result.status.astype(str),
            "success": success,
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
    return "jax" if _engines.has_jax() else "autograd"


def _versions():
    versions = {"python": platform.python_version()}
    for package in ("forwardgrad", "numpy", "scipy", "pandas", "autograd", "jax", "jaxlib", "joblib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def _git_commit():
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def configuration(p, sweep_plan, *, seed, engine, custom=()):
    """The configuration that determines a table: what the sidecar and the resume check hold."""
    return {
        "custom_functions": sorted(custom),
        "format": FORMAT,
        "protocol": {k: list(v) if isinstance(v, tuple) else v for k, v in p._asdict().items()},
        "seed": int(seed),
        "engine": engine,
        "chunks": [[c.function, c.dim] for c in sweep_plan.chunks],
        "skipped": list(sweep_plan.skipped),
        "measured_rungs": list(measured_rungs(p)),
    }


def _fingerprint(config):
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def _atomic_write_text(path, text):
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _atomic_write_csv(path, table):
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        table.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def sidecar_path(out):
    """The JSON sidecar of a result CSV: same stem, ``.json``."""
    return Path(out).with_suffix(".json")


def parts_dir(out):
    """The folder of finished chunks of an unfinished sweep: ``<out>.parts/``."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def _chunk_file(parts, chunk):
    return parts / f"{chunk.function}-d{chunk.dim}.csv"


def _run_chunks(todo, p, seed, engine, objectives, jobs, parallel, scheduler):
    """Yield ``(chunk, table)`` as chunks finish, run by joblib on loky processes or on Dask."""
    import joblib

    # the largest dimensions first, so that no worker is left with a long chunk at the end
    todo = sorted(todo, key=lambda c: -c.dim)
    home = os.getpid()
    calls = (joblib.delayed(_run_indexed)(p, c, seed, engine, objectives.get(c.function), home) for c in todo)
    if parallel == "dask":
        from dask.distributed import Client

        with Client(scheduler) as client, joblib.parallel_config(backend="dask", client=client):
            yield from joblib.Parallel(n_jobs=-1, return_as="generator_unordered")(calls)
    else:
        yield from joblib.Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")(calls)


def _run_indexed(p, chunk, seed, engine, objective, home):
    wall, cpu = time.perf_counter(), time.process_time()
    table = run_chunk(p, chunk, seed=seed, engine=engine, objective=objective)
    seconds = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    if engine == "jax" and os.getpid() != home:
        # a worker process never meets this function again: drop its compiled loops, which
        # otherwise pile up until loky restarts the worker for a suspected memory leak
        _engines.load_jax().clear_caches()
    return chunk, table, seconds


def sweep(p, *, seed=0, engine=None, jobs=1, out=None, parallel="loky", scheduler=None, progress=False,
          objectives=None):
    """Run protocol ``p`` (a :class:`Protocol` or a registered name) over its grid.

    Returns the tidy table, one row per run (columns: :data:`COLUMNS`), chunks in plan order.
    ``engine`` defaults to :func:`default_engine`. ``jobs`` loky processes run chunks in parallel;
    ``parallel="dask"`` sends them to the Dask scheduler at ``scheduler`` instead. With ``out``,
    finished chunks go to ``<out>.parts/`` as they finish, and the CSV and its JSON sidecar are
    written, atomically, once all are done; a rerun skips the finished chunks. ``objectives``
    maps extra function names to objective records (see :func:`plan`). The wall and CPU seconds
    of the chunks run by this call are in ``table.attrs["timing"]`` (and in the sidecar).
    """
    started = time.perf_counter()
    p = protocol(p) if isinstance(p, str) else validate(p)
    engine = default_engine() if engine is None else engine
    if engine not in _engines.ENGINES:
        raise BenchmarkError(f"unknown engine {engine!r}; valid engines are {', '.join(_engines.ENGINES)}")
    if engine == "jax" and not _engines.has_jax():
        raise BenchmarkError(_engines.JAX_MISSING)
    if parallel not in PARALLEL_BACKENDS:
        raise BenchmarkError(f"unknown parallel backend {parallel!r}; valid: {', '.join(PARALLEL_BACKENDS)}")
    if parallel == "dask" and not scheduler:
        raise BenchmarkError("--parallel dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    jobs = _count(jobs, "jobs")
    seed = _count(seed, "seed", minimum=0)
    objectives = dict(objectives or {})
    sweep_plan = plan(p, objectives)
    config = configuration(p, sweep_plan, seed=seed, engine=engine, custom=objectives)
    done, parts, timing = {}, None, []
    if out is not None:
        out = Path(out)
        if out.suffix != ".csv":
            raise BenchmarkError(f"the output must be a .csv file, got {out.name!r}")
        if out.exists() and _matches(out, config):
            return load(out)
        parts = _open_parts(out, config)
        for chunk in sweep_plan.chunks:
            if _chunk_file(parts, chunk).exists():
                done[chunk] = _read_csv(_chunk_file(parts, chunk))
    todo = [c for c in sweep_plan.chunks if c not in done]
    from tqdm import tqdm

    per_chunk = runs_per_chunk(p)
    with tqdm(
        total=per_chunk * len(sweep_plan.chunks),
        initial=per_chunk * len(done),
        unit="run",
        desc=f"{p.name} ({engine})",
        disable=not progress,
    ) as bar:
        if todo:
            for chunk, table, seconds in _run_chunks(todo, p, seed, engine, objectives, jobs, parallel, scheduler):
                timing.append({"function": chunk.function, "dim": chunk.dim, **seconds})
                if parts is not None:
                    _atomic_write_csv(_chunk_file(parts, chunk), table)
                done[chunk] = table
                bar.update(len(table))
    table = pd.concat([done[c] for c in sweep_plan.chunks], ignore_index=True)
    timing = {"wall_seconds": time.perf_counter() - started, "jobs": jobs, "parallel": parallel, "chunks": timing}
    if out is not None:
        _finish(out, table, config, parts, timing)
        table = load(out)  # the same table, whether chunks came from this run or from the parts
    table.attrs["timing"] = timing
    return table


def _open_parts(out, config):
    parts = parts_dir(out)
    parts.mkdir(parents=True, exist_ok=True)
    stamp = parts / "config.json"
    fingerprint = _fingerprint(config)
    if stamp.exists():
        try:
            previous = json.loads(stamp.read_text()).get("fingerprint")
        except (OSError, ValueError):
            previous = None
        if previous != fingerprint:
            raise BenchmarkError(
                f"{parts.name}/ holds chunks of a sweep with another configuration; "
                "remove it or choose another --out"
            )
    else:
        _atomic_write_text(stamp, json.dumps({"fingerprint": fingerprint, **config}, indent=1))
    return parts


def _matches(out, config):
    try:
        side = json.loads(sidecar_path(out).read_text())
    except (OSError, ValueError):
        return False
    return side.get("fingerprint") == _fingerprint(config)


def _finish(out, table, config, parts, timing):
    """Write the sidecar, then the CSV (each atomically), then drop the parts folder."""
    side = {
        **config,
        "fingerprint": _fingerprint(config),
        "complete": True,
        "runs": len(table),
        "columns": COLUMNS,
        "versions": _versions(),
        "git_commit": _git_commit(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "timing": timing,
    }
    _atomic_write_text(sidecar_path(out), json.dumps(side, indent=1))
    _atomic_write_csv(out, table)
    shutil.rmtree(parts, ignore_errors=True)


def _read_csv(path):
    return pd.read_csv(path, keep_default_na=False, na_values=["", "NaN", "nan"])


TEXT_COLUMNS = ("protocol", "engine", "function", "optimizer", "gradient", "tangent", "status")
REQUIRED = ("protocol", "engine", "function", "dim", "optimizer", "gradient", "tangent", "start",
            "repeat", "f_star", "target_gap", "stop_target", "status", "success", "hit", "steps",
            "f_start", "f_final", "max_steps") + RUNG_COLUMNS


def load(path):
    """Read a result table written by :func:`sweep`; raise :class:`BenchmarkError` for a foreign file."""
    path = Path(path)
    try:
        table = _read_csv(path)
    except FileNotFoundError:
        raise BenchmarkError(f"no such file: {path.name}") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise BenchmarkError(f"cannot read {path.name} as a CSV table: {type(err).__name__}") from None
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
        raise BenchmarkError(f"{path.name} is not a forwardgrad benchmark table (missing columns: {shown})")
    numeric = [c for c in REQUIRED if c in COLUMNS and c not in TEXT_COLUMNS and c != "success"]
    try:
        table[numeric] = table[numeric].apply(pd.to_numeric)
    except (ValueError, TypeError):
        raise BenchmarkError(f"{path.name} has non-numeric values in numeric columns") from None
    if table.empty:
        raise BenchmarkError(f"{path.name} holds no runs")
    table["success"] = table["success"].astype(str).str.lower().map({"true": True, "false": False})
    if table["success"].isna().any():
        raise BenchmarkError(f"{path.name} has a success column that is not True/False")
    for column in TEXT_COLUMNS:
        table[column] = table[column].astype(str)
    return table


def summary(p):
    """A one-line description of protocol ``p`` for logs and book pages."""
    return (
        f"{p.name}: {','.join(p.optimizers)} x {','.join(p.gradients)} (tangent {p.tangent}), "
        f"{p.starts} starts x {p.repeats} repeats, lr {p.lr}, target f*+{p.target_gap}, "
        f"stop f*+{p.stop_gap}, budget {p.max_steps}, divergence {p.divergence}, cost {p.cost}"
    )
