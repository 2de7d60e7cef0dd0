r"""Solvers whose steps cost different amounts, run under one budget counted in cost units.

A forward gradient with $k$ tangents costs $k$ jvps a step, a forward difference $k + 1$
evaluations of $f$, a true gradient one vjp: comparing them per step would favour the expensive
ones. Here every solver gets the same budget in *cost units* and as many steps as it can afford
(:func:`steps_allowed`), and its runs are scored in those units (:func:`score`,
:func:`problem_costs`, the aRT of :func:`forwardgrad.protocols.art`), ready for a performance
profile. Used by the chapters *Multi-tangent forward gradients*, *Guided tangents* and *Forward
gradients against zeroth-order estimates*.

- :func:`stack` glues several test functions into ONE row-separable objective, so that a whole
  selection of functions runs through ONE compiled descent (on JAX the compilation, not the
  descent, dominates a short sweep);
- :func:`equal_cost_runs` runs the solvers from the same starts; :func:`paired_runs` does the same
  with common tangents, so that two oracles are compared along the same random directions.
"""

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from forwardgrad import descent, objectives, protocols
from forwardgrad.engines import namespace


def stack(fs, shifts, sizes):
    r"""One row-separable objective made of blocks: rows of block $i$ get $f_i(x) - s_i$.

    The rows of ``x`` (shape ``(..., n, d)``) are read in periods of ``P = sum(sizes)`` rows:
    within each period, the first ``sizes[0]`` rows belong to ``fs[0]``, the next ``sizes[1]``
    to ``fs[1]``, and so on. The descent hands every arm's rows to the objective in the same
    layout, one period per arm (or several arms' periods at once), so ``n`` is a multiple of
    ``P``. Subtracting ``shifts`` (the minima $f^\star_i$) gives every block the target 0 + gap.
    """
    sizes = [int(s) for s in sizes]
    if len(fs) != len(sizes) or len(shifts) != len(sizes) or min(sizes) < 1:
        raise ValueError("stack needs one shift and one positive size per function")
    edges = np.concatenate([[0], np.cumsum(sizes)])
    period = int(edges[-1])
    shifts = [float(s) for s in shifts]

    def f(x):
        xp = namespace(x)
        n, d = x.shape[-2], x.shape[-1]
        if n % period:
            raise ValueError(f"a stacked objective takes rows in periods of {period}, got {n} rows")
        lead = tuple(x.shape[:-2])
        xr = xp.reshape(x, lead + (n // period, period, d))
        values = [fi(xr[..., a:b, :]) - s for fi, s, a, b in zip(fs, shifts, edges[:-1], edges[1:])]
        return xp.reshape(xp.concatenate(values, axis=-1), lead + (n,))

    f.period = period
    return f


# --------------------------------------------------------------------------------------------
# Solvers of different cost per step under one budget


class Solver(NamedTuple):
    """A labelled :class:`~forwardgrad.descent.Arm` and its cost per step in cost units."""

    label: str
    arm: descent.Arm
    cost: float = 1.0


def steps_allowed(cost, budget):
    """The evaluations a solver of ``cost`` units per step can afford: ``floor(budget / cost)``."""
    return int(math.floor(budget / cost + 1e-9))


def _starts(obj, name, d, starts, seed):
    lower, upper = obj.bounds(d)
    rng = np.random.default_rng(protocols.seed_sequence(seed, name, d, "starts"))
    return lower + (upper - lower) * rng.random((starts, d))


def plan(names, d, *, starts, seed):
    """Starting points of each usable function in dimension ``d``, and the skipped ones.

    Returns ``(usable, skipped)``: ``usable`` lists ``(name, objective, f_star, x0)`` with ``x0``
    of shape ``(starts, d)`` (uniform in the box, the same points as
    :func:`forwardgrad.benchmark.starting_points` for the same seed); ``skipped`` lists dicts
    ``function, dim, reason`` for a function without a known minimum in ``d`` or whose value is not
    finite at any start (``perm_zero_d_beta`` overflows at d = 100).
    """
    usable, skipped = [], []
    for name in names:
        obj = objectives.get(name)
        if not obj.accepts(d):
            skipped.append({"function": name, "dim": d, "reason": f"not defined for d = {d}"})
            continue
        try:
            _, f_star = obj.minimum(d)
        except objectives.UnknownMinimum as err:
            skipped.append({"function": name, "dim": d, "reason": str(err) or "unknown minimum"})
            continue
        x0 = _starts(obj, name, d, starts, seed)
        with np.errstate(all="ignore"):
            finite = np.isfinite(np.asarray(obj.f(x0), dtype=float))
        if not finite.any():
            skipped.append({"function": name, "dim": d, "reason": "f is not finite at any start"})
            continue
        usable.append((name, obj, float(f_star), x0))
    return usable, skipped


def equal_cost_runs(names, d, solvers, *, budget, starts, seed, repeats=1, target_gap=0.1,
                    steps=None, engine="jax"):
    r"""Run every solver from the same starts on the functions ``names`` in dimension ``d``.

    A solver of ``cost`` units per step makes at most ``steps_allowed(cost, budget) - 1``
    updates (or ``steps[label]``, to score the runs later under a cheaper cost model), so that its
    evaluations fit the budget. Solvers with the same number of updates advance together: for
    each such group, the unconstrained functions go through ONE
    :func:`~forwardgrad.descent.descend_arms` call on their :func:`stack` (one arm per solver,
    each start repeated ``repeats`` times), the constrained ones (projected on their box) through
    one call each. A run stops at $f \le f^\star$ + ``target_gap``; :func:`score` then charges
    it ``cost`` units per evaluation.

    Returns ``(table, skipped)``; ``table`` has one row per run with the columns ``function, dim,
    start, repeat, solver, status, hit, steps, f_star, f_start, f_best`` plus those of
    :func:`score`. ``hit`` counts the updates made before $f \le$ target (NaN if never). The
    runs use the benchmark's relative divergence rule.
    """
    solvers = list(solvers)
    labels = [s.label for s in solvers]
    if len(set(labels)) != len(labels):
        raise ValueError("solver labels must be unique")
    steps = dict(steps or {})
    horizon = {s.label: int(steps.get(s.label, steps_allowed(s.cost, budget) - 1)) for s in solvers}
    if min(horizon.values()) < 1:
        raise ValueError("the budget does not pay for a single update of every solver")
    usable, skipped = plan(names, d, starts=starts, seed=seed)
    free = [u for u in usable if not u[1].constrained]
    calls = ([("+".join(u[0] for u in free), free, None)] if free else [])
    calls += [(u[0], [u], u[1].bounds(d)) for u in usable if u[1].constrained]
    frames = []
    for key, members, bounds in calls:
        f = stack([m[1].f for m in members], [m[2] for m in members], [starts * repeats] * len(members))
        x0 = np.concatenate([np.repeat(m[3], repeats, axis=0) for m in members])
        block = pd.DataFrame({
            "function": np.repeat([m[0] for m in members], starts * repeats),
            "start": np.tile(np.repeat(np.arange(starts), repeats), len(members)),
            "repeat": np.tile(np.arange(repeats), starts * len(members)),
            "f_star": np.repeat([m[2] for m in members], starts * repeats),
        })
        for n_steps in sorted(set(horizon.values())):
            group = [s for s in solvers if horizon[s.label] == n_steps]
            result = descent.descend_arms(
                f, [s.arm for s in group], x0,
                rng=np.random.default_rng(protocols.seed_sequence(seed, f"{key}|{n_steps}", d, "descent")),
                max_steps=n_steps, target=target_gap, bounds=bounds, engine=engine,
                divergence=protocols.relative_divergence(),
            )
            for i, s in enumerate(group):
                rows = slice(i * len(x0), (i + 1) * len(x0))
                part = block.copy()
                part["solver"] = s.label
                part["cost"] = float(s.cost)
                part["status"] = result.status[rows].astype(str)
                part["hit"] = result.hit[rows]
                part["steps"] = result.steps[rows]
                part["f_start"] = result.f_start[rows] + part["f_star"]
                part["f_best"] = result.f_best[rows] + part["f_star"]
                frames.append(part)
    table = pd.concat(frames, ignore_index=True)
    table.insert(1, "dim", d)
    table["solver"] = pd.Categorical(table["solver"], categories=labels)
    table = table.sort_values(["function", "start", "repeat", "solver"], kind="stable")
    table["solver"] = table["solver"].astype(str)
    return score(table.reset_index(drop=True), budget), skipped


def paired_runs(names, d, solvers, **options):
    r""":func:`equal_cost_runs` with common tangents: every solver in its own descent, from one seed.

    The descent of :func:`equal_cost_runs` is seeded by the seed, the functions, the number of
    steps and ``d``, never by the solvers, and a descent with one arm draws its tangents in the
    same order whatever its oracle. So solvers with the same tangent law, the same ``k`` and the
    same number of steps see the same tangents at every step, and their runs differ by their
    oracle alone (a jvp against a finite difference along the same tangents, say). ``options``
    are those of :func:`equal_cost_runs`; each solver costs one more compilation on JAX.
    Returns ``(table, skipped)`` as :func:`equal_cost_runs` does.
    """
    solvers = list(solvers)
    labels = [s.label for s in solvers]
    if len(set(labels)) != len(labels):
        raise ValueError("solver labels must be unique")
    parts = [equal_cost_runs(names, d, [s], **options) for s in solvers]
    table = pd.concat([t for t, _ in parts], ignore_index=True)
    table["solver"] = pd.Categorical(table["solver"], categories=labels)
    table = table.sort_values(["function", "start", "repeat", "solver"], kind="stable")
    table["solver"] = table["solver"].astype(str)
    return table.reset_index(drop=True), parts[0][1]


def score(table, budget, costs=None):
    r"""Charge every run its cost: success within ``budget`` and the units it spent.

    ``costs`` maps solver labels to cost units per step (default: the table's ``cost`` column).
    A run that first met the target after ``hit`` updates used ``hit + 1`` evaluations, i.e.
    ``cost * (hit + 1)`` units; it is a success iff that is at most ``budget``. A failure spent
    ``cost * min(steps + 1, steps_allowed)`` units (a diverged run stops early). Returns a copy
    with the columns ``cost, success, spent``.
    """
    out = table.copy()
    if costs is not None:
        out["cost"] = out["solver"].map(costs).astype(float)
        if out["cost"].isna().any():
            raise ValueError("costs must give every solver of the table a cost")
    cost = out["cost"].to_numpy(dtype=float)
    allowed = np.floor(budget / cost + 1e-9)
    hit = out["hit"].to_numpy(dtype=float)
    success = np.isfinite(hit) & (hit + 1 <= allowed)
    used = np.where(success, hit + 1, np.minimum(out["steps"].to_numpy(dtype=float) + 1, allowed))
    out["success"] = success
    out["spent"] = cost * used
    return out


def problem_costs(table):
    r"""Per problem (function, dim, start) and solver: the aRT in cost units, $\infty$ if never solved.

    $\mathrm{aRT} = \sum_r \mathrm{spent}_r / \#\{\text{successful repeats}\}$
    (:func:`forwardgrad.protocols.art`), the input of
    :func:`forwardgrad.profiles.performance_profile`. Columns keep the solvers' order of first
    appearance.
    """
    keys = ["function", "dim", "start"]
    order = list(dict.fromkeys(table["solver"]))
    runs = table[keys + ["solver"]].assign(evals=table["spent"], success=table["success"])
    values = protocols.grouped_costs(runs, keys + ["solver"], "art")
    return values.unstack("solver").sort_index().reindex(columns=order)


def success_rates(table, by=("dim",)):
    """The fraction of successful runs of each solver, per ``by`` (rows) and solver (columns)."""
    order = list(dict.fromkeys(table["solver"]))
    rates = table.groupby(list(by) + ["solver"], sort=True)["success"].mean().unstack("solver")
    return rates.reindex(columns=order)


