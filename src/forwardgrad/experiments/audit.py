r"""The paper's four conclusions from Figure 6, as numbers, and the audit of its protocol.

Section 5.2 of Belouze (2022) reads four conclusions off its performance profiles:

(a) in $d = 100$ every optimizer fed forward gradients is *almost always at least 10 times
    slower* than the best optimizer fed true gradients;
(b) forward-gradient optimizers are almost never the best solver: $\rho_s(1) \approx 0$;
(c) the best true-gradient optimizer is *almost always* AdaBelief;
(d) every optimizer converges less often as the dimension grows, the SGD-based ones most.

:func:`claims` turns each into one statistic of a result table of :mod:`forwardgrad.benchmark`,
with a cluster-bootstrap interval (functions resampled with replacement, all starts of a function
together, since the starts of one function are not independent problems), and applies a fixed
rule (:data:`RULES`) that says whether the numbers confirm, refine or contradict the statement.
Two more statements of the same paragraph have their own rules: the slope of the forward
optimizers' profiles at 1 (:func:`profile_slopes`, :func:`slope_claim`) and true Adam's
"often good, albeit never optimal" (:func:`adam_claim`).
The audit (book chapter "Audit of the original protocol") applies the same rule to tables built
by changing one factor of the protocol at a time: the scoring rules (``cost=``, ``at_target=``)
change how runs are scored, :func:`substitute` splices the rows of a second sweep into a
baseline, and :func:`measured_selection` rebuilds the selection of functions from measured
rather than flagged modality (:func:`forwardgrad.objectives.modality_table`).

A *problem* is a (function, dim, start) triple and a *solver* an (optimizer, gradient) pair, as in
:mod:`forwardgrad.profiles`, whose costs $t_{p,s}$ (aRT or the mean of successes, in
evaluations, $\infty$ on failure) every statistic here starts from.
"""

import math
import warnings

import numpy as np
import pandas as pd

from forwardgrad import benchmark, objectives, profiles, protocols, results, statistics, verdicts

CLAIMS = {
    "a": "in d = 100 every forward optimizer is at least 10x slower than the best true-gradient one",
    "b": "forward optimizers are almost never the best solver: rho(1) ~ 0 in d = 100",
    "c": "the best true-gradient optimizer is almost always AdaBelief (d = 100)",
    "d": "every optimizer converges less often in d = 100 than in d = 2, SGD-based ones most",
}

RULES = {
    "a": "the share of the problems some true-gradient optimizer solves on which the least slow "
         "forward optimizer is >= 10x slower: verdicts.at_least with 'almost always' = "
         "verdicts.ALMOST_ALWAYS (90%) and 'more often than not' = verdicts.MAJORITY (50%)",
    "b": "the largest rho_s(1) of a forward optimizer: verdicts.at_most with 'almost never' = "
         "1 - ALMOST_ALWAYS (10%) and 'less often than not' = 1 - MAJORITY (50%)",
    "c": "the share of the problems a true-gradient optimizer solves on which true AdaBelief is "
         "(tied) best among them: verdicts.at_least with 'almost always' = ALMOST_ALWAYS (90%); "
         "below that, refined if AdaBelief is still the most frequent best, else contradicted",
    "d": "two parts, each verdicts.positive on its bootstrap interval: the smallest drop of a "
         "solver's run success rate from d = 2 to d = 100 (on the functions present in both), and "
         "the SGD-based solvers' mean drop minus the adaptive ones'; combined by verdicts.all_of",
}
"""Verdict rules. Each statistic has a cluster-bootstrap interval (functions resampled), and
"confirmed" needs the unfavourable end of the interval (the lower end for (a), (c) and (d), the
upper end for (b)) to pass the confirming test as well as the point estimate: a claim is
confirmed only when the sampling error of the benchmark cannot undo it. The paper gives no
number for "almost always"; the rules read it once, in :data:`forwardgrad.verdicts.ALMOST_ALWAYS`,
for (a), (b) and (c) alike."""

LEVELS = verdicts.LEVELS
AUDIT_WORDS = {"confirmed": "survives", "refined": "weakens", "contradicted": "reverses"}

SGD_BASED = ("sgd", "clipped_sgd")
BEST_TRUE = "adabelief (true)"
SLOWDOWN = 10.0


def run(protocol="paper", *, seed=0, jobs=1, engine=None, originals=(), **overrides):
    """Sweep the registered ``protocol`` with ``overrides``: ``(table, timing)``.

    A thin wrapper of :func:`forwardgrad.benchmark.sweep` (no progress bar) whose arguments are
    plain values, so that a chapter can memoise it with :func:`forwardgrad.cache.cached`.
    ``originals`` names functions to sweep in their original definitions
    (:func:`forwardgrad.objectives.original`); their rows are called ``<name>_original`` (see
    :func:`substitute` to splice them into a baseline). ``timing`` is the sweep's timing record.
    """
    custom = None
    if originals:
        custom = {f"{n}_original": objectives.original(n) for n in originals}
        overrides["functions"] = tuple(custom)
    p = protocols.protocol(protocol, **overrides)
    table = benchmark.sweep(p, seed=seed, engine=engine, jobs=jobs, objectives=custom, progress=False)
    timing = dict(table.attrs.get("timing", {}))
    table.attrs.clear()
    return table, timing


def chunk_times(timing):
    """The chunks of a sweep's timing record as a DataFrame (function, dim, wall, cpu), the most
    expensive (in CPU seconds) first."""
    frame = pd.DataFrame(list(timing.get("chunks", [])), columns=["function", "dim", "wall", "cpu"])
    return frame.sort_values("cpu", ascending=False, kind="stable").reset_index(drop=True)


def as_coded(table):
    """The ``as-coded`` table derived from a ``paper`` table, without running anything again.

    The two protocols run the same trajectories (same starts, same random streams) and differ
    in three rules. Two are scoring rules, which the ``protocol`` label switches. The third is
    the absolute divergence rule $f(x_k) - \\text{target} > 10^5$, checked from step 0. At step 0
    it is decided by ``f_start`` alone: such runs become ``diverged`` after 0 steps, having
    reached nothing. After step 0 the derivation keeps the paper run. That is exact whenever no
    paper run rises more than $10^5$ above the target and then recovers. The book checks this
    against a real ``as-coded`` sweep: the runs that differ are ones that diverge under both
    rules, only at different steps, and the mean of successes never looks at their cost.
    """
    p = protocols.PROTOCOLS["as-coded"]
    out = table.copy()
    f_start = out["f_start"].to_numpy(dtype=float)
    rule = protocols.DIVERGENCE_RULES[p.divergence](p.divergence_threshold)
    dead = rule(f_start, f_start, out["target"].to_numpy(dtype=float), 0)
    out.loc[dead, "status"] = "diverged"
    out.loc[dead, ["steps", "oracle_calls"]] = 0.0
    out.loc[dead, ["hit", *protocols.RUNG_COLUMNS]] = np.nan
    out.loc[dead, "f_best"] = out.loc[dead, "f_start"]
    out.loc[dead, "f_final"] = out.loc[dead, "f_start"]
    out["success"] = protocols.success(out["hit"], p.at_target)
    out["protocol"] = p.name
    return out


def problem_costs(table, *, cost="art", at_target="solved", dims=None):
    """$t_{p,s}$ of every problem and solver (rows: function, dim, start; columns: solvers).

    ``cost`` and ``at_target`` are the scoring rules (:func:`forwardgrad.profiles.problem_costs`),
    ``dims`` keeps some dimensions only.
    """
    if dims is not None:
        table = table[table["dim"].isin(list(dims))]
    return profiles.problem_costs(table, cost=cost, at_target=at_target)


def _true_and_forward(solvers):
    """The true-gradient and the forward-gradient solvers among the names ``solvers``."""
    true = [c for c in solvers if c.endswith("(true)")]
    forward = [c for c in solvers if "(forward" in c]
    if not true or not forward:
        raise ValueError("the claims compare true-gradient and forward-gradient solvers: need both")
    return true, forward


def _cluster_weights(functions, n_boot, rng):
    """Weights ``(1 + n_boot, P)``: row 0 is the data itself (all ones), then the bootstrap of
    :func:`forwardgrad.statistics.cluster_weights` with the functions as clusters."""
    ones = np.ones((1, len(functions)))
    if not n_boot:
        return ones
    return np.vstack([ones, statistics.cluster_weights(functions, n_boot, rng)])


def _weighted_share(indicator, eligible, weights):
    """``sum(w * indicator * eligible) / sum(w * eligible)`` per weight row (NaN if empty)."""
    num = weights @ (indicator & eligible).astype(float)
    den = weights @ eligible.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def slowdown(costs, factor=SLOWDOWN):
    r"""Per forward solver: how it compares with the best true-gradient solver, problem by problem.

    On the problems some true-gradient solver solves ($b_p = \min_{s\ \mathrm{true}} t_{p,s} <
    \infty$): ``share_slow``, the fraction with $t_{p,s} \ge$ ``factor`` $b_p$ (a failure counts);
    ``solved``, the fraction it solves at all; ``share_close``, the fraction it solves within the
    factor; ``median_ratio``, the median of $t_{p,s}/b_p$ over the problems it solves.
    """
    true, forward = _true_and_forward(costs.columns)
    best = costs[true].min(axis=1)
    eligible = np.isfinite(best)
    rows = {}
    for solver in forward:
        t = costs.loc[eligible, solver]
        ratio = t / best[eligible]
        finite = np.isfinite(ratio)
        rows[solver] = {
            "problems": int(eligible.sum()),
            "share_slow": float(profiles.at_least(ratio.to_numpy(), factor).mean()) if eligible.any() else math.nan,
            "solved": float(finite.mean()) if eligible.any() else math.nan,
            "share_close": float((ratio < factor).mean()) if eligible.any() else math.nan,
            "median_ratio": float(ratio[finite].median()) if finite.any() else math.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def best_true_share(costs):
    """Per true-gradient solver: the fraction of the problems some true solver solves on which it
    is (tied) best among the true-gradient solvers."""
    true, _ = _true_and_forward(costs.columns)
    t = costs[true]
    best = t.min(axis=1)
    eligible = np.isfinite(best)
    winners = profiles.at_most(t[eligible].to_numpy(), best[eligible].to_numpy()[:, None])
    return pd.Series(winners.mean(axis=0), index=true, name="share_best")


def rho_at(costs, tau=1.0):
    r"""$\rho_s(\tau)$ of every solver (the performance profile at one ratio)."""
    r = profiles.performance_ratios(costs)
    return pd.Series(profiles.at_most(r.to_numpy(), tau).mean(axis=0), index=r.columns, name=f"rho({tau:g})")


SLOPE_STEP = 1.0
r"""The step $h$ of the profile's slope at 1, $(\rho_s(1+h) - \rho_s(1))/h$: the mean slope over
the first doubling of $\tau$, the share of problems on which a solver is not the best but within a
factor 2 of it. A profile is a step function, so a slope over a smaller step counts fewer problems
and is noisier; a doubling is the smallest step the profiles' log axis shows as a distance."""
GOOD_WITHIN = 2.0
"""'Good performance' for the claim on true Adam: within this factor of the best solver."""


def _weighted_rho(costs, taus, weights):
    r"""$\rho_s(\tau)$ for each of ``taus``, per weight row (see :func:`_cluster_weights`) and
    solver: one array ``(B + 1, S)`` per ratio, from one computation of the ratios."""
    ratios = profiles.performance_ratios(costs).to_numpy(float)
    total = weights.sum(axis=1, keepdims=True)
    return [(weights @ profiles.at_most(ratios, tau).astype(float)) / total for tau in taus]


def _bounds(draws, level):
    """:func:`forwardgrad.statistics.percentile_interval` of 1-D bootstrap draws, as two floats
    (NaN without draws)."""
    if not np.size(draws):
        return math.nan, math.nan
    lower, upper = statistics.percentile_interval(draws, level)
    return float(lower), float(upper)


def profile_slopes(table, *, h=SLOPE_STEP, cost="art", at_target="solved", n_boot=0, rng=None):
    r"""The slope of every solver's performance profile at 1, $(\rho_s(1+h) - \rho_s(1))/h$, per
    dimension: an array ``(1 + n_boot, S)`` per dimension (row 0 the data, then a cluster bootstrap
    of the functions, drawn independently in each dimension), and the solvers' names.

    Section 5.2 of Belouze (2022): "for forward gradient based optimizers, the derivatives of the
    performance profile in 1 gets flatter as the dimension increases, $\rho'(1) \approx 0$".
    """
    slopes, solvers = {}, None
    for d, part in table.groupby("dim"):
        costs = problem_costs(part, cost=cost, at_target=at_target)
        weights = _cluster_weights(costs.index.get_level_values("function"), n_boot, rng)
        at_one, at_step = _weighted_rho(costs, (1.0, 1 + h), weights)
        slopes[int(d)] = (at_step - at_one) / h
        solvers = list(costs.columns) if solvers is None else solvers
        if list(costs.columns) != solvers:
            raise ValueError("every dimension must have the same solvers")
    return slopes, solvers


def slope_claim(slopes, solvers, *, level=0.95):
    r"""The claim "$\rho'(1) \approx 0$ for forward optimizers, and flatter as the dimension grows",
    decided from :func:`profile_slopes`; one row per forward solver and a verdict for the claim.

    Rule: per forward solver, the slope in the largest dimension is :func:`verdicts.at_most` with
    "about 0" read as (b) reads "almost never" (at most ``1 - ALMOST_ALWAYS`` = 10% of the problems
    per unit of $\tau$, refined up to ``1 - MAJORITY``), and each step up in dimension lowers it:
    :func:`verdicts.positive` on the drop of the slope, with the interval of the difference of the
    two independent bootstraps. The parts of all forward solvers combine by
    :func:`verdicts.all_of`. Returns ``(rows, verdict)``; ``rows`` has, per forward solver, the
    slope in each dimension and the drop at each step with its interval.
    """
    dims = sorted(slopes)
    _, forward = _true_and_forward(solvers)
    rows, parts = {}, []
    for solver in forward:
        i = solvers.index(solver)
        row = {f"slope d={d}": float(slopes[d][0, i]) for d in dims}
        top = slopes[dims[-1]][:, i]
        parts.append(verdicts.at_most(top[0], *_bounds(top[1:], level), 1 - verdicts.ALMOST_ALWAYS,
                                      1 - verdicts.MAJORITY))
        for low, high in zip(dims, dims[1:]):
            drop = slopes[low][:, i] - slopes[high][:, i]
            lower, upper = _bounds(drop[1:], level)
            row[f"drop {low}->{high}"], row[f"drop {low}->{high} lower"] = float(drop[0]), lower
            parts.append(verdicts.positive(drop[0], lower, upper))
        rows[solver] = row
    return pd.DataFrame.from_dict(rows, orient="index"), verdicts.all_of(*parts)


def adam_claim(table, solver="adam (true)", *, dim=100, good=GOOD_WITHIN, cost="art", at_target="solved",
               n_boot=0, rng=None, level=0.95):
    r"""The claim "Adam with true gradients has often good performance, albeit never optimal"
    (section 5.2 of Belouze (2022), said of the high dimension), in dimension ``dim``.

    Two parts, combined by :func:`verdicts.weakest` (both are essential, and they cannot fail
    together since $\rho(1) \le \rho(\text{good})$): "never optimal" is :func:`verdicts.at_most`
    on $\rho(1)$, confirmed only at 0 (the upper end of its interval included), refined up to
    ``1 - ALMOST_ALWAYS`` ("almost never"); "often good" is :func:`verdicts.at_least` on
    $\rho(\text{good})$, the share of problems within a factor ``good`` of the best solver,
    confirmed from ``MAJORITY`` (more often than not), refined down to ``1 - ALMOST_ALWAYS``.
    Returns a frame with one row per part (value, lower, upper, verdict) and the claim's verdict.
    """
    costs = problem_costs(table, cost=cost, at_target=at_target, dims=[dim])
    if solver not in costs.columns:
        raise ValueError(f"no solver {solver!r} in the table")
    weights = _cluster_weights(costs.index.get_level_values("function"), n_boot, rng)
    i = list(costs.columns).index(solver)
    rows = {}
    parts = ("optimal: rho(1)", f"good: rho({good:g})")
    for part, rho in zip(parts, _weighted_rho(costs, (1.0, good), weights)):
        lower, upper = _bounds(rho[1:, i], level)
        rows[part] = dict(value=float(rho[0, i]), lower=lower, upper=upper)
    never, often = rows.values()
    never["verdict"] = verdicts.at_most(never["value"], never["lower"], never["upper"], 0.0,
                                        1 - verdicts.ALMOST_ALWAYS)
    often["verdict"] = verdicts.at_least(often["value"], often["lower"], often["upper"], verdicts.MAJORITY,
                                         1 - verdicts.ALMOST_ALWAYS)
    return pd.DataFrame.from_dict(rows, orient="index"), verdicts.weakest(never["verdict"], often["verdict"])


def success_rates(table, *, common=False, level="run", cost="art", at_target="solved"):
    """Success rates per dimension (rows) and solver (columns).

    ``level="run"``: the fraction of runs that reached the target (under the at-target rule);
    ``"problem"``: the fraction of problems with a finite cost, i.e. $\\rho_s(\\infty)$.
    ``common=True`` keeps only the functions present in every dimension of the table.
    """
    if common:
        table = table[table["function"].isin(common_functions(table))]
    if level == "problem":
        return pd.DataFrame({d: np.isfinite(profiles.problem_costs(part, cost=cost, at_target=at_target)).mean()
                             for d, part in table.groupby("dim")}).T.rename_axis("dim")
    if level != "run":
        raise ValueError(f"level must be 'run' or 'problem', got {level!r}")
    outcomes = profiles.run_outcomes(table, at_target=at_target)
    outcomes["dim"] = table["dim"].to_numpy()
    solvers = profiles.solver_order(table, outcomes["solver"])
    rate = outcomes.groupby(["dim", "solver"])["success"].mean().unstack("solver")
    return rate.reindex(columns=solvers)


def common_functions(table):
    """The functions run in every dimension of the table, sorted."""
    per_dim = table.groupby("dim")["function"].agg(lambda s: set(s))
    return sorted(set.intersection(*per_dim))


def _claim_a(costs, weights):
    true, forward = _true_and_forward(costs.columns)
    t = costs.to_numpy(dtype=float)
    cols = list(costs.columns)
    best = t[:, [cols.index(c) for c in true]].min(axis=1)
    eligible = np.isfinite(best)
    shares = np.stack([
        _weighted_share(profiles.at_least(t[:, cols.index(s)], SLOWDOWN * best), eligible, weights) for s in forward
    ])  # (forward solvers, B + 1)
    which = int(np.nanargmin(shares[:, 0])) if np.isfinite(shares[:, 0]).any() else 0
    return np.nanmin(shares, axis=0), forward[which]


def _claim_b(costs, weights):
    _, forward = _true_and_forward(costs.columns)
    r = profiles.performance_ratios(costs)
    at_one = profiles.at_most(r[forward].to_numpy(), 1.0)
    everywhere = np.ones(len(r), bool)
    values = np.stack([_weighted_share(at_one[:, i], everywhere, weights) for i in range(len(forward))])
    return np.nanmax(values, axis=0), forward[int(np.nanargmax(values[:, 0]))]


def _claim_c(costs, weights):
    true, _ = _true_and_forward(costs.columns)
    if BEST_TRUE not in true:
        raise ValueError(f"claim (c) needs the solver {BEST_TRUE!r}")
    t = costs[true].to_numpy(dtype=float)
    best = t.min(axis=1)
    eligible = np.isfinite(best)
    wins = np.stack([_weighted_share(profiles.at_most(t[:, i], best), eligible, weights) for i in range(len(true))])
    share = wins[true.index(BEST_TRUE)]
    plurality = share >= np.nanmax(wins, axis=0)
    return share, plurality, true[int(np.nanargmax(wins[:, 0]))]


def _claim_d(table, n_boot, rng, low, high, at_target="solved"):
    """Success-rate drops from ``low`` to ``high`` per solver, with function-cluster bootstrap."""
    table = table[table["dim"].isin([low, high]) & table["function"].isin(common_functions(
        table[table["dim"].isin([low, high])]))]
    outcomes = profiles.run_outcomes(table, at_target=at_target)
    outcomes["dim"] = table["dim"].to_numpy()
    solvers = profiles.solver_order(table, outcomes["solver"])
    # per (function, dim, solver): successes and runs; the bootstrap weighs functions
    grouped = outcomes.groupby(["function", "dim", "solver"])["success"].agg(["sum", "count"])
    functions = sorted(outcomes["function"].unique())
    weights = _cluster_weights(functions, n_boot, rng)  # (B + 1, F)

    def rate(d):
        part = grouped.xs(d, level="dim")
        succ = part["sum"].unstack("solver").reindex(index=functions, columns=solvers).to_numpy(float)
        runs = part["count"].unstack("solver").reindex(index=functions, columns=solvers).to_numpy(float)
        return (weights @ succ) / (weights @ runs)  # (B + 1, S)

    drop = rate(low) - rate(high)
    sgd = np.array([s.split(" (")[0] in SGD_BASED for s in solvers])
    gap = drop[:, sgd].mean(axis=1) - drop[:, ~sgd].mean(axis=1)
    return drop, gap, solvers


def claims(table, *, cost="art", at_target="solved", n_boot=0, rng=None, level=0.95, high=100, low=2):
    """The four conclusions of section 5.2 tested on a result table, one row per claim.

    Columns: ``value`` (the statistic, see :data:`RULES`), ``lower``/``upper`` (cluster-bootstrap
    quantiles at ``level`` over ``n_boot`` resamples of the functions; NaN without bootstrap),
    ``verdict`` (confirmed, refined, contradicted), ``text`` (the value as a short string),
    ``detail`` (the solver that decides it). ``cost`` and ``at_target`` are the scoring rules.
    For (d) the value is the mean drop of the SGD-based solvers minus that of the adaptive ones
    (in success-rate points, positive: SGD drops more); ``detail`` counts the solvers that drop.
    """
    with warnings.catch_warnings():
        # a resample may hold no eligible problem at all: its statistic is NaN and is dropped
        warnings.simplefilter("ignore", RuntimeWarning)
        return _claims(table, cost, at_target, n_boot, rng, level, high, low)


def _claims(table, cost, at_target, n_boot, rng, level, high, low):
    costs = problem_costs(table, cost=cost, at_target=at_target, dims=[high])
    weights = _cluster_weights(costs.index.get_level_values("function"), n_boot, rng)

    def interval(values):
        return _bounds(values[1:], level)

    rows = {}
    a, slowest = _claim_a(costs, weights)
    bounds = interval(a)
    rows["a"] = dict(value=float(a[0]), lower=bounds[0], upper=bounds[1], verdict=verdicts.at_least(
                         a[0], *bounds, verdicts.ALMOST_ALWAYS, verdicts.MAJORITY),
                     text=f"{a[0]:.0%}", detail=f"least slow: {slowest}")
    b, top = _claim_b(costs, weights)
    bounds = interval(b)
    rows["b"] = dict(value=float(b[0]), lower=bounds[0], upper=bounds[1],
                     verdict=verdicts.at_most(
                         b[0], *bounds, 1 - verdicts.ALMOST_ALWAYS, 1 - verdicts.MAJORITY), text=f"{b[0]:.2f}",
                     detail=f"largest: {top}")
    c, plurality, winner = _claim_c(costs, weights)
    bounds = interval(c)
    verdict_c = verdicts.at_least(c[0], *bounds, verdicts.ALMOST_ALWAYS, 0.0)
    if verdict_c != "confirmed":  # "refined" needs AdaBelief to stay the most frequent best
        verdict_c = "refined" if plurality[0] else "contradicted"
    rows["c"] = dict(value=float(c[0]), lower=bounds[0], upper=bounds[1], verdict=verdict_c, text=f"{c[0]:.0%}",
                     detail=f"most often best: {winner}")
    drop, gap, solvers = _claim_d(table, n_boot, rng, low, high, at_target)
    bounds = interval(gap)
    smallest = drop.min(axis=1)
    verdict_d = verdicts.all_of(verdicts.positive(smallest[0], *interval(smallest)),
                                verdicts.positive(gap[0], *bounds))
    rows["d"] = dict(value=float(gap[0]), lower=bounds[0], upper=bounds[1], verdict=verdict_d,
                     text=f"{round(100 * gap[0]):+d} pts", detail=f"{int((drop[0] > 0).sum())}/{len(solvers)} solvers drop")
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "claim"
    return out[["value", "lower", "upper", "verdict", "text", "detail"]]


def dimension_drop(table, low=2, high=100, *, at_target="solved"):
    """Per solver: run success rate in ``low`` and ``high`` on the functions present in both, and
    the drop (a DataFrame indexed by solver)."""
    drop, _, solvers = _claim_d(table, 0, None, low, high, at_target)
    part = table[table["dim"].isin([low, high])]
    rates = success_rates(part[part["function"].isin(common_functions(part))], at_target=at_target)
    out = pd.DataFrame({f"d = {low}": rates.loc[low], f"d = {high}": rates.loc[high]})
    out["drop"] = drop[0]
    return out.reindex(solvers)


def profile_gap(a, b):
    """The largest vertical distance between two step profiles of the same kind, per solver:
    $\\sup_x |a_s(x) - b_s(x)|$ over the union of their breakpoints (solvers present in both)."""
    x = a.attrs["x"]
    gaps = {}
    for solver in a["solver"].unique():
        if solver not in set(b["solver"]):
            continue
        grid = np.union1d(a.loc[a["solver"] == solver, x], b.loc[b["solver"] == solver, x])
        gaps[solver] = float(np.max(np.abs(profiles.evaluate(a, solver, grid) - profiles.evaluate(b, solver, grid))))
    return pd.Series(gaps, name="gap")


LAW_REFERENCES = ("rademacher", "sphere")
"""The minimal laws of the tangent-law comparison: Rademacher (Lemma 4) and the uniform sphere,
an extended minimal law (Definition 8)."""


def tangent_law_ratios(table, law, reference, *, cost="art", at_target="solved", n_boot=0, rng=None, level=0.95):
    r"""How much a tangent law slows the forward optimizers against a reference law, per optimizer
    and dimension: the geometric mean over problems of $t_{p,\mathrm{law}}/t_{p,\mathrm{ref}}$.

    ``table`` holds the forward runs of both laws on the same problems (the tangent column tells
    them apart). The mean is over the problems both laws solve, weighted by function; ``lower`` and
    ``upper`` come from a cluster bootstrap of the functions. Above 1: ``law`` is slower.
    ``law_only`` and ``reference_only`` count the problems that only one of the two solves.
    Section 4.2 of Belouze (2022): "minimal laws yield better optimizations than any other
    tangent law".
    """
    forward = table[(table["gradient"] == "forward") & table["tangent"].isin([law, reference])]
    costs = problem_costs(forward, cost=cost, at_target=at_target)
    rows = []
    for dim in sorted(costs.index.get_level_values("dim").unique()):
        part = costs.xs(dim, level="dim", drop_level=False)
        weights = _cluster_weights(part.index.get_level_values("function"), n_boot, rng)
        for optimizer in forward["optimizer"].unique():
            a = part[f"{optimizer} (forward, {law})"].to_numpy(float)
            r = part[f"{optimizer} (forward, {reference})"].to_numpy(float)
            both = np.isfinite(a) & np.isfinite(r)
            logs = np.log(np.where(both, a, 1.0) / np.where(both, r, 1.0))  # 0 where not both
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.exp((weights @ logs) / (weights @ both.astype(float)))
            lower, upper = _bounds(means[1:], level)
            rows.append(dict(optimizer=optimizer, dim=int(dim), ratio=float(means[0]), lower=lower, upper=upper,
                             problems=int(both.sum()), law_only=int((np.isfinite(a) & ~np.isfinite(r)).sum()),
                             reference_only=int((~np.isfinite(a) & np.isfinite(r)).sum())))
    return pd.DataFrame(rows)


def law_verdict(row):
    """Whether ``row`` of :func:`tangent_law_ratios` bears out "the reference (minimal) law does
    better": the log of the ratio above 0 (:func:`forwardgrad.verdicts.positive`)."""
    return verdicts.positive(*np.log([row["ratio"], row["lower"], row["upper"]]))


STORED_CHECKS = 3
"""How many chunks of a stored table :func:`stored_sweep` runs again."""


END_VALUES = ("f_best", "f_final")
"""The objective where a run ended, which :func:`same_runs` leaves out. A run that never stops
keeps moving by rounding, and these values differ in their last digits between CPUs: XLA
differentiates a square root through a reciprocal root, which its AVX-512 code computes
approximately (the paper sweep's xin_she_yang_n4 in d = 10 differs so under AVX2, with the same
outcome in every run). The book reads a run's outcome (status, steps, first hits), never them."""


def same_runs(stored, rows, rtol=1e-9):
    """Do two tables of the same runs agree: every column equal but :data:`END_VALUES`, floats to
    ``rtol`` relative (the rounding a CSV table may leave), NaN equal to NaN? Rows are matched by
    their keys (function, dim, optimizer, gradient, start, repeat)."""
    keys = ["function", "dim", "optimizer", "gradient", "start", "repeat"]
    if len(stored) != len(rows):
        return False
    a, b = (t.sort_values(keys).reset_index(drop=True) for t in (stored, rows))
    for column in a.columns.intersection(b.columns).difference(END_VALUES):
        x, y = a[column].to_numpy(), b[column].to_numpy()
        if np.issubdtype(x.dtype, np.number) and np.issubdtype(y.dtype, np.number):
            if not np.allclose(x.astype(float), y.astype(float), rtol=rtol, atol=0.0, equal_nan=True):
                return False
        elif not (a[column].astype(str) == b[column].astype(str)).all():
            return False
    return True


def stored_sweep(path, protocol="paper", *, seed=0, engine="jax", checks=STORED_CHECKS, check_seed=0, **overrides):
    """A sweep read back from the table ``forwardgrad bench`` wrote to ``path``, and checked.

    For sweeps too long for a book build. The table's sidecar must hold the configuration of the
    sweep of ``protocol`` with ``overrides`` (same fields, chunks, seed and engine), and ``checks``
    of its chunks, drawn with ``numpy.random.default_rng(check_seed)``, are run again: their rows
    must equal the stored ones (:func:`same_runs`), which catches a table made by other code.
    Returns ``(table, checked)``, ``checked`` the (function, dim) of the chunks run again.
    """
    p = protocols.protocol(protocol, **overrides)
    sweep_plan = benchmark.plan(p)
    config = results.configuration(p, sweep_plan, seed=seed, engine=engine)
    side = results.read_json(results.sidecar_path(path))
    if side is None or side.get("fingerprint") != results.fingerprint(config):
        raise protocols.BenchmarkError(f"{path} does not hold this sweep (another protocol, grid, seed or "
                                       f"engine, or no sidecar): regenerate it with `make data`")
    table = results.load(path)
    rng = np.random.default_rng(check_seed)
    chosen = sorted(rng.choice(len(sweep_plan.chunks), size=min(checks, len(sweep_plan.chunks)), replace=False))
    checked = []
    for i in chosen:
        chunk = sweep_plan.chunks[i]
        rows = benchmark.run_chunk(p, chunk, seed=seed, engine=engine)
        part = table[(table["function"] == chunk.function) & (table["dim"] == chunk.dim)]
        if not same_runs(part, rows):
            raise protocols.BenchmarkError(f"{path}: the runs of {chunk.function} in d = {chunk.dim} differ "
                                           f"from what this code computes; regenerate it with `make data`")
        checked.append((chunk.function, int(chunk.dim)))
    return table, checked


def substitute(base, variant, *, rename=None):
    """``base`` with the rows of ``variant`` in place of the base rows with the same keys.

    Keys are (function, dim, optimizer, gradient): a variant that ran only the forward arms
    replaces only those. ``rename`` maps the variant's function names to the base's (e.g.
    ``{"brown_original": "brown"}``). The variant's protocol label is set to the base's, so the
    result is scored with the base's rules.
    """
    variant = variant.copy()
    if rename:
        variant["function"] = variant["function"].replace(rename)
    variant["protocol"] = base["protocol"].iloc[0]
    keys = ["function", "dim", "optimizer", "gradient"]
    replaced = base.set_index(keys).index.isin(variant.set_index(keys).index)
    out = pd.concat([base[~replaced], variant[base.columns]], ignore_index=True)
    order = {(f, d): i for i, (f, d) in enumerate(base[["function", "dim"]].drop_duplicates().itertuples(index=False))}
    rank = out[["function", "dim"]].apply(tuple, axis=1).map(order).fillna(len(order))
    return out.assign(_rank=rank).sort_values(["_rank"], kind="stable").drop(columns="_rank").reset_index(drop=True)


def single_runs(table, repeat):
    """The table an experiment with ONE run per (start, solver) would have produced: repeat
    ``repeat`` of every forward-gradient solver, and the (deterministic) true-gradient runs."""
    keep = (table["gradient"] != "forward") | (table["repeat"] == repeat)
    return table[keep].reset_index(drop=True)


def measured_selection(modality, d):
    """The functions of dimension ``d`` measured unimodal in a
    :func:`forwardgrad.objectives.modality_table` (no local minimum that is not global, and the
    global one found), sorted."""
    part = modality[(modality["d"] == d) & (modality["modality"] == "unimodal")]
    return sorted(part["function"])


def selection_changes(modality, dims):
    """Per dimension, the functions the measured selection drops from, and adds to, the paper's."""
    rows = []
    for d in dims:
        flagged = set(objectives.paper_selection(d))
        measured = set(measured_selection(modality, d))
        for name in sorted(flagged | measured):
            if (name in flagged) != (name in measured):
                rows.append({"dim": d, "function": name, "change": "dropped" if name in flagged else "added"})
    return pd.DataFrame(rows, columns=["dim", "function", "change"])


def summarize_draws(frames):
    """Combine :func:`claims` of several equally likely experiments (e.g. one per single-run draw).

    Per claim: ``value`` the median of the values, ``lower``/``upper`` their minimum and maximum,
    ``verdict`` the most common verdict (a tie goes to the weaker one), ``text`` the range of
    the values (one value when all agree) and ``detail`` how many draws gave each verdict.
    """
    stacked = pd.concat(frames, keys=range(len(frames)), names=["draw"])
    rows = {}
    for claim, part in stacked.groupby(level="claim", sort=False):
        counts = part["verdict"].value_counts()
        top = counts.max()
        verdict = [v for v in reversed(LEVELS) if counts.get(v, 0) == top][0]
        texts = part["text"].tolist()
        low, high = part["value"].idxmin(), part["value"].idxmax()
        rows[claim] = dict(value=float(part["value"].median()), lower=float(part["value"].min()),
                           upper=float(part["value"].max()), verdict=verdict,
                           text=(texts[0] if len(set(texts)) == 1 else
                                 texts[part.index.get_loc(low)] + " to " + texts[part.index.get_loc(high)]),
                           detail=", ".join(f"{v} {counts.get(v, 0)}/{len(frames)}" for v in LEVELS if counts.get(v, 0)))
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "claim"
    return out[["value", "lower", "upper", "verdict", "text", "detail"]]


def claims_table(variants, **options):
    """:func:`claims` for each of ``variants``: a DataFrame with one row per (variant, claim).

    ``variants`` maps a label to a result table, a ``(table, scoring)`` pair (``scoring`` a dict
    of ``cost`` and ``at_target``, e.g. :func:`forwardgrad.protocols.scoring`), or a frame that
    :func:`claims` (or :func:`summarize_draws`) already computed. ``options`` go to :func:`claims`.
    """
    frames = []
    for label, item in variants.items():
        if isinstance(item, pd.DataFrame) and "verdict" in item.columns:  # already a claims frame
            frame = item.reset_index()
        else:
            table, scoring = item if isinstance(item, tuple) else (item, {})
            frame = claims(table, **scoring, **options).reset_index()
        frame.insert(0, "variant", label)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def verdict_grid(table, words=AUDIT_WORDS):
    """Pivot a :func:`claims_table` into variants x claims, each cell ``"<word> (<value>)"``."""
    cell = table["verdict"].map(words) + " (" + table["text"] + ")"
    grid = table.assign(cell=cell).pivot(index="variant", columns="claim", values="cell")
    return grid.reindex(index=list(dict.fromkeys(table["variant"])))
