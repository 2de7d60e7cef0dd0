r"""Benchmarking profiles and tables computed from a result table of :mod:`forwardgrad.benchmark`.

Data only: every function returns a DataFrame; :mod:`forwardgrad.plotting` draws them.

A *problem* is a (function, dim, start) triple and a *solver* an (optimizer, gradient[, tangent])
triple; the tangent enters the solver's label only when a table holds several tangent laws.
Costs are counted in evaluations (:func:`forwardgrad.protocols.evaluations`). The per-problem cost
$t_{p,s}$ of a solver with several repeats follows a *cost rule* and an *at-target rule*, passed
as arguments (``cost=``, ``at_target=``; :func:`forwardgrad.protocols.scoring` reads both off a
protocol): the average running time (:func:`forwardgrad.protocols.art`, the default) or the mean
of successes, and whether a start already at the target counts as solved (the default) or as a
failure (the original code's rule).

Profiles (each a step function, returned at its breakpoints as a long DataFrame with one row per
solver and breakpoint, and ``lower``/``upper`` columns when bootstrap bands are asked for):

- performance profile (Dolan & Moré 2002): $r_{p,s} = t_{p,s}/\min_{s'} t_{p,s'}$ ($\infty$ if $s$
  fails on $p$, and for every solver on a problem no solver solves), and
  $\rho_s(\tau) = |\{p : r_{p,s} \le \tau\}| / |P|$; ties give every tied solver ratio 1, and
  unsolved problems stay in $|P|$;
- data profile (Moré & Wild 2009): $d_s(\kappa) = |\{p : t_{p,s}/(n_p + 1) \le \kappa\}| / |P|$, with
  $n_p$ the dimension ($\kappa$ counts simplex gradients), or per evaluation with ``unit=...``;
- accuracy profile (Hare & Sagastizábal 2006): $\gamma_{p,s} = -\log_{10}\frac{f(x_\text{final}) -
  f^\star}{f(x_0) - f^\star}$ clipped to $[0, \text{cap}]$ and averaged over repeats, and
  $R_s(\tau) = |\{p : \gamma_{p,s} \ge \tau\}| / |P|$;
- runtime ECDF over the target ladder (Hansen et al., COCO), per dimension: the fraction of
  (problem, rung, repeat) triples, problems weighted equally, whose rung was reached within a
  budget of $b$ evaluations.

Bootstrap bands (:func:`forwardgrad.statistics.cluster_weights`) resample *functions* with
replacement, all the starts (and dimensions) of a function together, as the claims of
:mod:`forwardgrad.experiments.audit` do: the starts of one function are not independent problems.
They report the pointwise quantiles of the resampled profiles on the original breakpoints; a
profile's ``attrs["resampled"]`` names the unit, for captions.

Ratios and budgets that are equal in exact arithmetic can differ in their last bit once computed
(``(21/10)/(3/2)`` is ``1.4000000000000001``), so a profile counts a problem at a breakpoint
$\tau$ when its value is within a relative :data:`RATIO_RTOL` of $\tau$, as Higham's
``perfprof`` does, and merges breakpoints closer than that.
"""

import math

import numpy as np
import pandas as pd

from forwardgrad import protocols, statistics
from forwardgrad.protocols import LADDER_EXPONENTS

PROBLEM = ["function", "dim", "start"]
SOLVER_ORDER = ("sgd", "clipped_sgd", "adam", "adabelief")  # the paper's optimizers, in its order
RATIO_RTOL = float(np.sqrt(np.finfo(float).eps))
r"""Relative tolerance of a comparison with a breakpoint: $\sqrt{\varepsilon} \approx 1.5 \cdot
10^{-8}$, far above the rounding of a ratio of two costs (a few $\varepsilon$) and far below any
difference between two costs counted in evaluations."""
RESAMPLED = "functions"


def solver_labels(table):
    """The solver of each run: ``"adam (forward)"``, or ``"adam (forward, gaussian)"`` when the
    table holds several tangent laws."""
    forward = table["gradient"] == "forward"
    several = table.loc[forward, "tangent"].nunique() > 1
    label = table["optimizer"] + " (" + table["gradient"]
    if several:
        label = label.where(~forward, label + ", " + table["tangent"])
    return label + ")"


def solver_order(table, labels):
    """The distinct solver ``labels`` of a table's runs in display order: true gradients first,
    then forward, each in the paper's order of optimizers (others after, by name)."""
    order = {name: i for i, name in enumerate(SOLVER_ORDER)}
    keys = pd.DataFrame({"label": labels, "opt": table["optimizer"].map(order).fillna(99),
                         "grad": (table["gradient"] == "forward").astype(int)})
    return list(keys.drop_duplicates("label").sort_values(["grad", "opt", "label"])["label"])


def hit_column(table, target=None):
    """The column holding the first hits of ``target`` (a gap above $f^\\star$; None: the table's
    fixed target). Raises ``ValueError`` for a rung the runs could not measure."""
    if target is None:
        return "hit"
    k = round(math.log10(target))
    if not math.isclose(10.0**k, target, rel_tol=1e-9) or k not in LADDER_EXPONENTS:
        raise ValueError(f"target gap {target} is not a rung 1e{min(LADDER_EXPONENTS)}..1e2")
    if k not in measured_rungs(table):
        raise ValueError(f"target gap 1e{k} lies below the stopping target; these runs did not measure it")
    return protocols.rung_column(k)


def run_outcomes(table, target=None, *, at_target="solved"):
    """Per run: ``success`` under the at-target rule, and ``evals`` (to the hit, or in total).

    Returns a DataFrame with the problem and solver keys and the columns ``success`` and
    ``evals`` (:func:`forwardgrad.protocols.success` and :func:`forwardgrad.protocols.evaluations`).
    """
    hit = table[hit_column(table, target)].to_numpy(dtype=float)
    success = protocols.success(hit, at_target)
    out = table[PROBLEM].copy()
    out["solver"] = solver_labels(table)
    out["success"] = success
    out["evals"] = protocols.evaluations(hit, table["steps"].to_numpy(dtype=float), success)
    return out


def _aggregate(outcomes, keys, rule, solvers):
    """A cost rule applied to every group of runs at once, as a (groups x solvers) table."""
    wide = protocols.grouped_costs(outcomes, keys + ["solver"], rule).unstack("solver")
    return wide.reindex(columns=solvers).sort_index()


def problem_costs(table, target=None, *, cost="art", at_target="solved"):
    """The cost $t_{p,s}$ of each solver on each problem ($\\infty$: failed).

    Rows: the problems (function, dim, start); columns: the solvers. ``cost`` is ``"art"`` or
    ``"mean_of_successes"``, ``at_target`` ``"solved"`` or ``"failure"``.
    """
    outcomes = run_outcomes(table, target, at_target=at_target)
    return _aggregate(outcomes, PROBLEM, cost, solver_order(table, outcomes["solver"]))


def art_table(table, target=None, *, at_target="solved"):
    """The aRT of each solver on each (dim, function), over all its starts and repeats."""
    outcomes = run_outcomes(table, target, at_target=at_target)
    return _aggregate(outcomes, ["dim", "function"], "art", solver_order(table, outcomes["solver"]))


def success_table(table, target=None, *, at_target="solved"):
    """The fraction of successful runs of each solver on each (dim, function)."""
    outcomes = run_outcomes(table, target, at_target=at_target)
    solvers = solver_order(table, outcomes["solver"])
    rate = outcomes.groupby(["dim", "function", "solver"])["success"].mean().unstack("solver")
    return rate.reindex(columns=solvers).sort_index()


def _long(grid, fractions, solvers, x, y, bands, attrs):
    """Stack per-solver curves into a long DataFrame (solver, x, y[, lower, upper])."""
    frames = []
    for i, solver in enumerate(solvers):
        frame = pd.DataFrame({"solver": solver, x: grid, y: fractions[i]})
        if bands is not None:
            frame["lower"], frame["upper"] = bands[0][i], bands[1][i]
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(attrs, x=x, y=y)
    return out


def _step_profile(contrib, functions, solvers, x, y, grid, attrs, bootstrap, rng, level):
    """Average per-problem contributions ``contrib`` (S, P, T) over problems, with bands that
    resample the ``functions`` (one label per problem) as clusters."""
    fractions = contrib.mean(axis=1)
    bands = None
    if bootstrap:
        weights = statistics.cluster_weights(np.asarray(functions), int(bootstrap), rng)  # (B, P)
        weights /= weights.sum(axis=1, keepdims=True)
        resampled = np.einsum("bp,spt->sbt", weights, contrib)
        bands = statistics.percentile_interval(resampled, level, axis=1)
    attrs = dict(attrs, bootstrap=int(bootstrap or 0), level=level, resampled=RESAMPLED)
    return _long(grid, fractions, solvers, x, y, bands, attrs)


def _grid(values, extra=()):
    """The breakpoints: the finite values (and ``extra``), a value within :data:`RATIO_RTOL` of
    the one below it merged into it; ``[1]`` when there are none, so that a profile where every
    run failed is still a curve (at 0)."""
    finite = values[np.isfinite(values)]
    grid = np.unique(np.concatenate([np.asarray(extra, dtype=float), finite]))
    if not grid.size:
        return np.ones(1)
    return grid[np.concatenate([[True], ~close_to(grid[1:], grid[:-1])])]


def close_to(value, breakpoint):
    """``value`` equals ``breakpoint`` up to the relative :data:`RATIO_RTOL` (elementwise)."""
    return np.abs(np.asarray(value) - breakpoint) <= RATIO_RTOL * np.abs(breakpoint)


def at_most(values, breakpoints):
    """``values <= breakpoints`` with ties up to :data:`RATIO_RTOL` counted (broadcasting)."""
    return np.asarray(values) <= np.asarray(breakpoints) * (1 + RATIO_RTOL)


def at_least(values, breakpoints):
    """``values >= breakpoints`` with ties up to :data:`RATIO_RTOL` counted (broadcasting)."""
    b = np.asarray(breakpoints)
    return np.asarray(values) >= b - RATIO_RTOL * np.abs(b)


def _check_costs(costs):
    if costs.shape[0] == 0 or costs.shape[1] == 0:
        raise ValueError("a profile needs at least one problem and one solver")
    values = costs.to_numpy(dtype=float)
    if np.isnan(values).any():
        raise ValueError("costs contain NaN; a missing (problem, solver) pair must be inf, not absent")
    return values


def _functions(frame):
    """The function of each problem (row) of a per-problem frame."""
    return frame.index.get_level_values("function").to_numpy()


def performance_ratios(costs):
    """$r_{p,s} = t_{p,s} / \\min_{s'} t_{p,s'}$, $\\infty$ where $s$ fails or every solver fails."""
    t = _check_costs(costs)
    best = t.min(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.where(np.isfinite(best) & np.isfinite(t), t / best, np.inf)
    return pd.DataFrame(ratios, index=costs.index, columns=costs.columns)


def performance_profile(costs, *, bootstrap=0, rng=None, level=0.95):
    r"""Dolan–Moré performance profile $\rho_s(\tau) = |\{p: r_{p,s} \le \tau\}|/|P|$.

    ``costs`` is :func:`problem_costs`. Returns columns ``solver, tau, rho`` at the breakpoints
    (``tau = 1`` and every finite ratio); $\rho_s$ is right-continuous and constant in between.
    """
    r = performance_ratios(costs).to_numpy()
    grid = _grid(r, [1.0])
    contrib = at_most(r.T[:, :, None], grid).astype(float)
    attrs = {"kind": "performance", "xscale": "log", "drawstyle": "steps-post",
             "xlabel": r"performance ratio $\tau$", "ylabel": r"$\rho_s(\tau)$"}
    return _step_profile(contrib, _functions(costs), list(costs.columns), "tau", "rho", grid, attrs,
                         bootstrap, rng, level)


def data_profile(costs, *, unit="simplex", bootstrap=0, rng=None, level=0.95):
    r"""Moré–Wild data profile $d_s(\kappa) = |\{p: t_{p,s}/(n_p+1) \le \kappa\}|/|P|$.

    ``unit="simplex"`` divides the cost by $n_p + 1$ (Moré & Wild's simplex gradients);
    ``unit="evaluations"`` keeps raw evaluations. Returns ``solver, kappa, fraction``.
    """
    t = _check_costs(costs)
    if unit == "simplex":
        t = t / (costs.index.get_level_values("dim").to_numpy(dtype=float)[:, None] + 1)
    elif unit != "evaluations":
        raise ValueError(f"unit must be 'simplex' or 'evaluations', got {unit!r}")
    grid = _grid(t)
    contrib = at_most(t.T[:, :, None], grid).astype(float)
    label = r"budget $\kappa$ (simplex gradients)" if unit == "simplex" else "budget (evaluations)"
    attrs = {"kind": "data", "xscale": "log", "drawstyle": "steps-post", "xlabel": label,
             "ylabel": "fraction of problems solved"}
    return _step_profile(contrib, _functions(costs), list(costs.columns), "kappa", "fraction", grid, attrs,
                         bootstrap, rng, level)


def accuracies(table, cap=16.0):
    r"""$\gamma_{p,s}$: the mean over repeats of $-\log_{10}\frac{f_\text{final} - f^\star}{f_\text{start} -
    f^\star}$, each clipped to $[0, \text{cap}]$ (``cap`` digits when the final gap is 0 or the
    start is optimal; 0 for a non-finite final value). Rows: problems; columns: solvers."""
    gap0 = (table["f_start"] - table["f_star"]).to_numpy(dtype=float)
    gap = (table["f_final"] - table["f_star"]).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = -np.log10(gap / gap0)
    gamma = np.where((gap <= 0) | (gap0 <= 0), cap, gamma)
    gamma = np.where(np.isfinite(table["f_final"].to_numpy(dtype=float)), gamma, 0.0)
    frame = table[PROBLEM].copy()
    frame["solver"] = solver_labels(table)
    frame["gamma"] = np.clip(np.nan_to_num(gamma, nan=0.0), 0.0, cap)
    wide = frame.groupby(PROBLEM + ["solver"])["gamma"].mean().unstack("solver")
    return wide.reindex(columns=solver_order(table, frame["solver"])).sort_index()


def accuracy_profile(table, *, cap=16.0, bootstrap=0, rng=None, level=0.95):
    r"""Accuracy profile $R_s(\tau) = |\{p : \gamma_{p,s} \ge \tau\}|/|P|$ for $\tau \in [0, \text{cap}]$.

    Returns ``solver, tau, fraction`` at the breakpoints (0 and every $\gamma$); $R_s$ is
    left-continuous and constant between breakpoints.
    """
    gamma = accuracies(table, cap)
    g = gamma.to_numpy(dtype=float)
    grid = _grid(g, [0.0])
    contrib = at_least(g.T[:, :, None], grid).astype(float)
    attrs = {"kind": "accuracy", "xscale": "linear", "drawstyle": "steps-pre",
             "xlabel": r"digits of accuracy $\tau$", "ylabel": r"$R_s(\tau)$"}
    return _step_profile(contrib, _functions(gamma), list(gamma.columns), "tau", "fraction", grid, attrs,
                         bootstrap, rng, level)


def measured_rungs(table):
    """The ladder exponents $k$ the table's runs measured (:func:`forwardgrad.protocols.measured_rungs`
    with the stopping gap read off the table)."""
    stop_gap = (table["stop_target"] - table["f_star"]).max()
    return protocols.measured_rungs(LADDER_EXPONENTS, stop_gap)


def ecdf(table, *, rungs=None, per_dim=False, bootstrap=0, rng=None, level=0.95, at_target="solved"):
    r"""COCO runtime ECDFs over the target ladder, one per dimension.

    For each solver: the fraction of (problem, rung, repeat) triples, with every problem weighing
    the same, whose rung $f^\star + 10^k$ was reached within $b$ evaluations. ``rungs`` lists the
    exponents $k$ (default: every measured rung); ``per_dim`` divides budgets by the dimension.
    Returns ``dim, solver, budget, fraction`` at the breakpoints.
    """
    rungs = measured_rungs(table) if rungs is None else tuple(rungs)
    if not rungs:
        raise ValueError("no measured rung of the ladder")
    frames = []
    for d, part in table.groupby("dim", sort=True):
        outcomes = [run_outcomes(part, 10.0**k, at_target=at_target) for k in rungs]
        hits = np.stack([np.where(o["success"], o["evals"], np.inf) for o in outcomes], axis=-1)
        if per_dim:
            hits = hits / d
        keys = outcomes[0][PROBLEM + ["solver"]]
        solvers = solver_order(part, keys["solver"])
        problems = keys[PROBLEM].drop_duplicates().sort_values(PROBLEM)
        grid = _grid(hits.ravel())
        contrib = np.zeros((len(solvers), len(problems), len(grid)))
        problem_index = pd.MultiIndex.from_frame(problems)
        p_of_run = problem_index.get_indexer(pd.MultiIndex.from_frame(keys[PROBLEM]))
        s_of_run = pd.Index(solvers).get_indexer(keys["solver"])
        reached = at_most(hits[:, :, None], grid).mean(axis=1)  # (runs, T), averaged over rungs
        counts = np.zeros((len(solvers), len(problems)))
        np.add.at(contrib, (s_of_run, p_of_run), reached)
        np.add.at(counts, (s_of_run, p_of_run), 1.0)
        if np.any(counts == 0):
            raise ValueError("every solver needs runs on every problem of a dimension")
        contrib /= counts[:, :, None]
        attrs = {"kind": "ecdf", "xscale": "log", "drawstyle": "steps-post",
                 "xlabel": "evaluations / dimension" if per_dim else "evaluations",
                 "ylabel": "fraction of (problem, target) pairs", "rungs": list(rungs)}
        frame = _step_profile(contrib, problems["function"].to_numpy(), solvers, "budget", "fraction", grid,
                              attrs, bootstrap, rng, level)
        frame.insert(0, "dim", d)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(frames[0].attrs)
    return out


def evaluate(profile, solver, x):
    """The value of a step profile for ``solver`` at the points ``x`` (between breakpoints too)."""
    part = profile[profile["solver"] == solver]
    xs = part[profile.attrs["x"]].to_numpy()
    ys = part[profile.attrs["y"]].to_numpy()
    x = np.asarray(x, dtype=float)
    if profile.attrs.get("drawstyle") == "steps-pre":  # left-continuous, non-increasing
        i = np.searchsorted(xs, x, side="left")
        return np.where(i < len(xs), ys[np.minimum(i, len(xs) - 1)], 0.0)
    i = np.searchsorted(xs, x, side="right") - 1
    return np.where(i >= 0, ys[np.maximum(i, 0)], 0.0)


KINDS = {"performance", "data", "accuracy", "ecdf"}


def profile(table, kind, *, target=None, bootstrap=0, rng=None, level=0.95, cost="art", at_target="solved"):
    """The profile of ``kind`` (performance, data, accuracy or ecdf) of a table, per dimension.

    ``cost`` and ``at_target`` are the scoring rules (:func:`problem_costs`).
    Returns one long DataFrame with a ``dim`` column, for :func:`forwardgrad.plotting.plot_by_dim`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown profile kind {kind!r}; valid kinds are {', '.join(sorted(KINDS))}")
    options = dict(bootstrap=bootstrap, rng=rng, level=level)
    if kind == "ecdf":
        return ecdf(table, at_target=at_target, **options)
    frames = []
    for d, part in table.groupby("dim", sort=True):
        if kind == "accuracy":
            frame = accuracy_profile(part, **options)
        else:
            costs = problem_costs(part, target, cost=cost, at_target=at_target)
            frame = (performance_profile if kind == "performance" else data_profile)(costs, **options)
        frame.insert(0, "dim", d)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(frames[0].attrs)
    return out
