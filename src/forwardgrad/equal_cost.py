r"""Studies beyond the paper: several tangents per step, guided tangents, finite differences.

Three kinds of tools, used by the chapters *Multi-tangent forward gradients*, *Guided tangents*
and *Forward gradients against zeroth-order estimates*:

- Monte Carlo of one estimator at one point (:func:`sample_estimates`, :func:`cosines`,
  :func:`mean_se`) and the closed forms it is checked against (:func:`cosine_moments`,
  :func:`second_moment`, :func:`guided_second_moment`, :func:`sgd_sphere_ratio`);
- :func:`stack`, which glues several test functions into ONE row-separable objective, so that a
  whole selection of functions runs through ONE compiled descent (on JAX the compilation, not the
  descent, dominates a short sweep);
- :func:`equal_cost_runs`, :func:`score` and :func:`problem_costs`, which run solvers whose steps
  cost different amounts (k jvps, k + 1 evaluations of f, ...) under one budget counted in cost
  units rather than in steps, and turn the runs into the per-problem costs of a performance
  profile (:func:`forwardgrad.profiles.performance_profile`); :func:`paired_runs` does the same
  with common tangents, so that two oracles are compared along the same random directions;
- :func:`evaluation_times`, the measured price of a jvp and of a vjp in evaluations of $f$.
"""

import math
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special

from forwardgrad import descent as _descent
from forwardgrad import oracles as _oracles
from forwardgrad import tangents as _tangents
from forwardgrad.engines import namespace

ESTIMATORS = ("forward", "projected", "guided", "fd")


# --------------------------------------------------------------------------------------------
# Monte Carlo of one estimator at one point


def sample_estimates(f, x, gradient, rng, samples, *, k=1, tangent="rademacher", eps=1e-4,
                     guess=None, alpha=0.5, chunk=2**20):
    r"""``samples`` independent estimates of $\nabla f(x)$ at ONE point ``x`` of shape ``(d,)``.

    ``gradient`` is one of :data:`ESTIMATORS`; each estimate uses ``k`` fresh tangents from the
    law ``tangent`` (for ``"guided"``: from :func:`~forwardgrad.oracles.guided_tangent` with the
    guess ``guess`` and mixing ``alpha``). The package oracles (autograd engine) do the work,
    ``chunk`` tangent coordinates at a time. Returns an array ``(samples, d)``.
    """
    if gradient not in ESTIMATORS:
        raise ValueError(f"unknown estimator {gradient!r}; valid: {', '.join(ESTIMATORS)}")
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    law = _tangents.get(tangent)
    rows = max(1, int(chunk) // (k * d))
    out = []
    for start in range(0, int(samples), rows):
        m = min(rows, int(samples) - start)
        xs = np.broadcast_to(x, (m, d)).copy()
        if gradient == "guided":
            u = np.broadcast_to(np.asarray(guess, dtype=float), (m, d)).copy()
            v = _oracles.guided_tangent(rng, u, alpha, (k, m, d))
            g = _oracles.guided_estimate(f, xs, v, u, alpha)[1]
        else:
            v = law(rng, (k, m, d))
            if gradient == "forward":
                g = _oracles.forward_gradient(f, xs, v)[1]
            elif gradient == "projected":
                g = _oracles.projected_estimate(f, xs, v)[1]
            else:
                g = _oracles.finite_difference_estimate(f, xs, v, eps)[1]
        out.append(np.asarray(g))
    return np.concatenate(out)


def cosines(g, grad):
    r"""$\cos(g_r, \nabla f) = g_r\cdot\nabla f / (\|g_r\|\,\|\nabla f\|)$ row by row (0 for $g_r = 0$)."""
    g = np.asarray(g, dtype=float)
    grad = np.asarray(grad, dtype=float)
    norms = np.linalg.norm(g, axis=-1) * np.linalg.norm(grad)
    dots = g @ grad
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)


def mean_se(values, axis=0):
    r"""The Monte Carlo mean and its standard error $s/\sqrt N$ along ``axis``."""
    values = np.asarray(values, dtype=float)
    n = values.shape[axis]
    return values.mean(axis=axis), values.std(axis=axis, ddof=1) / math.sqrt(n)


def _sqrt_beta_mean(a, b):
    """E[sqrt(B)] for B ~ Beta(a, b): B(a + 1/2, b) / B(a, b)."""
    return math.exp(special.betaln(a + 0.5, b) - special.betaln(a, b))


def cosine_moments(gradient, n, k):
    r"""$(\mathbb{E}[\cos], \mathbb{E}[\cos^2])$ of an estimate from $k$ Gaussian tangents in $\mathbb{R}^n$.

    Write $v_j = a_j\hat\nabla + w_j$ with $w_j \perp \nabla f$. The mean of $k$ forward gradients
    has $\cos^2 = A/(A + C)$ with independent $A \sim \chi^2_k$ and $C \sim \chi^2_{n-1}$, so
    $\cos^2 \sim \mathrm{Beta}(\frac k2, \frac{n-1}2)$ and $\mathbb{E}[\cos^2] = \frac{k}{k+n-1}$.
    The projection onto the span of the tangents (a uniform random $k$-plane) has
    $\cos^2 = \|P\hat\nabla\|^2 \sim \mathrm{Beta}(\frac k2, \frac{n-k}2)$, so
    $\mathbb{E}[\cos^2] = \frac kn$ for $k < n$, and $\cos = 1$ for $k \ge n$.
    """
    if gradient == "forward":
        a, b = k / 2, (n - 1) / 2
    elif gradient == "projected":
        if k >= n:
            return 1.0, 1.0
        a, b = k / 2, (n - k) / 2
    else:
        raise ValueError("closed forms exist for the forward and projected estimates only")
    return _sqrt_beta_mean(a, b), a / (a + b)


def second_moment(gradient, n, k=1, tangent="rademacher"):
    r"""$\mathbb{E}\|g\|^2 / \|\nabla f\|^2$ for $k$ tangents in $\mathbb{R}^n$.

    One forward gradient: $\mathbb{E}[(\nabla f\cdot v)^2\|v\|^2] = m_1\|\nabla f\|^2$ with
    $m_1 = n$ for Rademacher and sphere tangents ($\|v\|^2 = n$) and $m_1 = n + 2$ for Gaussian
    ones; the mean of $k$ independent ones has $1 + (m_1 - 1)/k$. The projected estimate
    $\frac nk P\nabla f$ with $\mathbb{E}[P] = \frac kn I$ has $\frac nk$ (for $k \le n$).
    """
    if gradient == "projected":
        return n / min(k, n)
    if gradient != "forward":
        raise ValueError("closed forms exist for the forward and projected estimates only")
    m1 = {"rademacher": n, "sphere": n, "gaussian": n + 2}[tangent]
    return 1 + (m1 - 1) / k


def guided_second_moment(n, alpha, c, k=1):
    r"""$\mathbb{E}\|g\|^2/\|\nabla f\|^2$ of the unbiased guided estimate, guess at cosine $c$.

    With $v = \Sigma^{1/2}w$, $w \sim \mathcal N(0, I)$, the estimate $g = \Sigma^{-1}v\,v^\top\nabla f$
    has $\mathbb{E}\|g\|^2 = \operatorname{tr}(\Sigma^{-1})\,\nabla f^\top\Sigma\nabla f + 2\|\nabla f\|^2$
    (Isserlis). For $\Sigma = \frac\alpha n I + (1-\alpha)\hat u\hat u^\top$, with $s = \alpha/n$
    and $t = 1 - \alpha$: $\operatorname{tr}\Sigma^{-1} = \frac{n-1}s + \frac1{s+t}$ and
    $\hat\nabla^\top\Sigma\hat\nabla = s + t c^2$. The mean of $k$ has $1 + (m - 1)/k$.
    """
    s, t = alpha / n, 1.0 - alpha
    m = ((n - 1) / s + 1 / (s + t)) * (s + t * np.asarray(c, dtype=float) ** 2) + 2
    return 1 + (m - 1) / k


def sgd_sphere_ratio(m, lr):
    r"""$\mathbb{E}[f(x - \eta g)]/f(x)$ on $f = \|x\|^2$ for unbiased $g$ with $\mathbb{E}\|g\|^2 = m\|\nabla f\|^2$.

    $\|x - \eta g\|^2$ has mean $\|x\|^2 - 2\eta\,x\cdot 2x + \eta^2 m\,4\|x\|^2$, i.e. the ratio
    $1 - 4\eta + 4\eta^2 m$: below 1 (expected progress) iff $m < 1/\eta$.
    """
    return 1.0 - 4.0 * lr + 4.0 * lr**2 * np.asarray(m, dtype=float)


def sgd_sphere_calls(n, k, lr, gap, gradient="forward", tangent="rademacher"):
    r"""Predicted oracle calls of SGD on $\|x\|^2$ to shrink $\mathbb{E}f$ by the factor ``gap``.

    Each step multiplies $\mathbb{E}f$ by $\rho_k$ = :func:`sgd_sphere_ratio` of
    :func:`second_moment` and costs $k$ calls, so it takes $k\ln(\text{gap})/(-\ln\rho_k)$
    calls; $\infty$ when $\rho_k \ge 1$. With $\ln\rho_k \approx -4\eta + 4\eta^2(1 + (n-1)/k)$
    the best $k$ is near $2\eta(n-1)/(1-\eta)$ for Rademacher tangents.
    """
    rho = sgd_sphere_ratio(second_moment(gradient, n, k, tangent), lr)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rho < 1, k * np.log(gap) / -np.log(np.where(rho < 1, rho, 0.5)), np.inf)


# --------------------------------------------------------------------------------------------
# Many test functions in one objective


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
    arm: _descent.Arm
    cost: float = 1.0


def steps_allowed(cost, budget):
    """The evaluations a solver of ``cost`` units per step can afford: ``floor(budget / cost)``."""
    return int(math.floor(budget / cost + 1e-9))


def _objectives():
    from forwardgrad import objectives

    return objectives


def _starts(obj, name, d, starts, seed):
    from forwardgrad.benchmark import seed_sequence

    lower, upper = obj.bounds(d)
    rng = np.random.default_rng(seed_sequence(seed, name, d, "starts"))
    return lower + (upper - lower) * rng.random((starts, d))


def plan(names, d, *, starts, seed):
    """Starting points of each usable function in dimension ``d``, and the skipped ones.

    Returns ``(usable, skipped)``: ``usable`` lists ``(name, objective, f_star, x0)`` with ``x0``
    of shape ``(starts, d)`` (uniform in the box, the same points as
    :func:`forwardgrad.benchmark.starting_points` for the same seed); ``skipped`` lists dicts
    ``function, dim, reason`` for a function without a known minimum in ``d`` or whose value is not
    finite at any start (``perm_zero_d_beta`` overflows at d = 100).
    """
    objectives = _objectives()
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
    :func:`score`. ``hit`` counts the updates made before $f \le$ target (NaN if never).
    """
    from forwardgrad.benchmark import seed_sequence

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
            result = _descent.descend_arms(
                f, [s.arm for s in group], x0,
                rng=np.random.default_rng(seed_sequence(seed, f"{key}|{n_steps}", d, "descent")),
                max_steps=n_steps, target=target_gap, bounds=bounds, engine=engine,
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
    (:func:`forwardgrad.profiles.art`), the input of
    :func:`forwardgrad.profiles.performance_profile`. Columns keep the solvers' order of first
    appearance.
    """
    from forwardgrad.profiles import art

    keys = ["function", "dim", "start"]
    order = list(dict.fromkeys(table["solver"]))
    values = table.groupby(keys + ["solver"], sort=True).apply(
        lambda g: art(g["spent"], g["success"]), include_groups=False)
    return values.unstack("solver").reindex(columns=order)


def success_rates(table, by=("dim",)):
    """The fraction of successful runs of each solver, per ``by`` (rows) and solver (columns)."""
    order = list(dict.fromkeys(table["solver"]))
    rates = table.groupby(list(by) + ["solver"], sort=True)["success"].mean().unstack("solver")
    return rates.reindex(columns=order)


# --------------------------------------------------------------------------------------------
# What an oracle call costs


def _best_time(call, repeats):
    import time

    best = math.inf
    for _ in range(int(repeats)):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def evaluation_times(f, x, v, *, engine="jax", repeats=20):
    r"""Seconds for one evaluation of $f$, one jvp and one vjp on the batch ``x`` (best of ``repeats``).

    ``x`` and the tangents ``v`` have shape ``(n, d)``. On JAX each of the three is compiled once
    before timing; on autograd the functions run as they are. The ratios jvp/f and vjp/f are the
    price of one forward or reverse pass in evaluations of $f$, for this function, batch size
    and engine. Returns a dict with keys ``f, jvp, vjp``.
    """
    x = np.asarray(x, dtype=float)
    v = np.asarray(v, dtype=float)
    if engine == "jax":
        from forwardgrad.engines import load_jax

        jax = load_jax()
        xj, vj = jax.numpy.asarray(x), jax.numpy.asarray(v)
        calls = {
            "f": jax.jit(f),
            "jvp": jax.jit(lambda x, v: _oracles.value_and_directional(f, x, v, "jax")),
            "vjp": jax.jit(lambda x: _oracles.value_and_grad(f, x, "jax")),
        }
        runs = {
            "f": lambda: calls["f"](xj).block_until_ready(),
            "jvp": lambda: calls["jvp"](xj, vj)[1].block_until_ready(),
            "vjp": lambda: calls["vjp"](xj)[1].block_until_ready(),
        }
        for run in runs.values():
            run()  # compile
    else:
        runs = {
            "f": lambda: f(x),
            "jvp": lambda: _oracles.value_and_directional(f, x, v),
            "vjp": lambda: _oracles.value_and_grad(f, x),
        }
    return {name: _best_time(run, repeats) for name, run in runs.items()}
