r"""The chapter "Benchmark your own method": three plugins, their sweeps and the verdict rule.

The plugins (see :mod:`forwardgrad.plugins` for the contracts) are ordinary functions of this
module, so the command line and the worker processes reach them by import path
(``forwardgrad.experiments.byom:lion``):

- :func:`lion`, an optimizer the paper did not test (Chen et al., 2023);
- :data:`antithetic`, a gradient estimator: antithetic (central) differences along the tangents;
- :func:`coordinate`, a tangent law: $\sqrt d$ times a random coordinate vector.

:func:`run_plugins` sweeps them under the paper protocol, and :func:`beats` decides whether a
plugin solver beats the best of the paper's forward solvers, problem by problem.
"""

import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from forwardgrad import oracles, profiles, protocols, statistics, verdicts
from forwardgrad.engines import namespace
from forwardgrad.experiments import audit
from forwardgrad.optimizers import Optimizer

PATH = "forwardgrad.experiments.byom"
DIMS = (10, 100)  # the paper selection's dimensions this chapter benchmarks
# Solver labels (profiles.solver_labels) of the combined table, which holds two tangent laws
PAPER_FORWARD = tuple(f"{o} (forward, rademacher)" for o in profiles.SOLVER_ORDER)  # the paper's forward solvers


class LionState(NamedTuple):
    """The state of :func:`lion`: the count and the momentum ``mu``."""

    count: Any
    mu: Any


def lion(lr, b1=0.9, b2=0.99):
    r"""Lion, "evolved sign momentum" (Chen et al., 2023, Algorithm 2, without weight decay).

    $c_t = \beta_1\mu_{t-1} + (1-\beta_1)g_t$, $\delta x = -\alpha\,\mathrm{sign}(c_t)$,
    $\mu_t = \beta_2\mu_{t-1} + (1-\beta_2)g_t$. Every coordinate moves by exactly $\alpha$,
    whatever the scale of $g$: the step of signSGD with momentum.
    """

    def init(x):
        xp = namespace(x)
        return LionState(count=xp.zeros(()), mu=xp.zeros_like(x))

    def update(g, state):
        xp = namespace(g)
        step = -lr * xp.sign(b1 * state.mu + (1 - b1) * g)
        return step, LionState(state.count + 1, b2 * state.mu + (1 - b2) * g)

    return Optimizer(init, update, "lion")


def antithetic_estimate(f, x, v, *, eps=1e-4, **_):
    r"""Antithetic differences: $g = \frac1k\sum_j \frac{f(x+\varepsilon v_j) - f(x-\varepsilon v_j)}{2\varepsilon} v_j$.

    Each tangent is paired with its opposite $-v_j$ (the two-point estimate of Nesterov &
    Spokoiny, 2017): the $O(\varepsilon)$ bias of one-sided differences cancels, leaving
    $O(\varepsilon^2)$. With forward-mode AD an antithetic pair would give the same estimate
    twice, $(\nabla f\cdot(-v))(-v) = (\nabla f\cdot v)v$, so the pairing matters for differences
    only. ``v`` is ``x.shape`` or ``(k, *x.shape)``; one call of $f$ on $2k + 1$ stacked batches.
    """
    xp = namespace(x)
    if v.shape == x.shape:
        v = v[None]
    k = v.shape[0]
    values = f(xp.concatenate([x[None], x[None] + eps * v, x[None] - eps * v]))
    slopes = (values[1 : k + 1] - values[k + 1 :]) / (2 * eps)
    return values[0], (slopes[..., None] * v).mean(axis=0)


def _per_tangent(k):
    return k


def _two_per_tangent(k):
    return 2 * k + 1


antithetic = oracles.Oracle(antithetic_estimate, "law", _per_tangent, _two_per_tangent)
"""The antithetic estimator as a plugin: tangents from the arm's law, $k$ oracle calls (one
estimate per tangent) and $2k + 1$ evaluations of $f$ per step."""


def coordinate(rng, shape):
    r"""$v = \sqrt d\, e_i$ with $i$ uniform in $\{1, \dots, d\}$: $\mathbb{E}[vv^\top] = I$.

    The forward gradient along it is $d\,\partial_i f\, e_i$, randomized coordinate descent
    (Nesterov, 2012). Its mean squared deviation is $\mathbb{E}\|g\|^2 - \|\nabla f\|^2 =
    (d-1)\|\nabla f\|^2$, the Rademacher law's, although its coordinates are dependent.
    """
    shape = tuple(shape)
    d = shape[-1]
    u = rng.random(shape[:-1] + (1,))
    xp = namespace(u)
    index = xp.minimum(xp.floor(u * d), d - 1)  # u * d may round up to d when u is just below 1
    return xp.where(index == xp.arange(d), math.sqrt(d), 0.0)


PLUGIN_SWEEPS = {
    # the name of a sweep -> the protocol fields it overrides; each adds only the plugins' runs
    "lion": {"optimizers": (f"{PATH}:lion",), "gradients": ("forward",)},
    "antithetic": {"optimizers": ("adam",), "gradients": (f"{PATH}:antithetic",)},
    "coordinate": {"optimizers": ("adam",), "gradients": ("forward",), "tangent": f"{PATH}:coordinate"},
}
"""Each plugin with the partner the comparison needs: Lion fed forward gradients, the
antithetic estimator and the coordinate law each feeding Adam."""

PLUGIN_SOLVERS = {"lion": "lion (forward, rademacher)", "antithetic": "adam (antithetic)",
                  "coordinate": "adam (forward, coordinate)"}
"""The label of each plugin's solver in the combined table."""


def run_plugins(plugin, *, seed=0, jobs=1, dims=DIMS, **overrides):
    """The sweep of ``plugin`` (a key of :data:`PLUGIN_SWEEPS`) under the paper protocol in ``dims``:
    ``(table, timing)`` (:func:`forwardgrad.experiments.audit.run`)."""
    return audit.run("paper", seed=seed, jobs=jobs, dims=tuple(dims), **{**PLUGIN_SWEEPS[plugin], **overrides})


def combined(baseline, plugin_tables, dims=DIMS):
    """The paper's eight solvers in ``dims`` and the plugin solvers in one table."""
    base = baseline[baseline["dim"].isin(dims)]
    return pd.concat([base, *plugin_tables], ignore_index=True)


def best_forward(table):
    """The paper's forward solver that solves the most runs of ``table`` (first in the paper's
    order on a tie): the one every plugin is compared with."""
    labels = profiles.solver_labels(table)
    rates = table["success"].groupby(labels).mean()
    return max((s for s in PAPER_FORWARD if s in rates.index), key=lambda s: (rates[s], -PAPER_FORWARD.index(s)))


def net_wins(costs, solver, baseline):
    r"""Per problem, $+1$ when ``solver`` costs less than ``baseline``, $-1$ when more, 0 on a tie
    (both failed, or costs within :data:`forwardgrad.profiles.RATIO_RTOL`): an array over the
    rows of ``costs`` (:func:`forwardgrad.profiles.problem_costs`)."""
    a = costs[solver].to_numpy(dtype=float)
    b = costs[baseline].to_numpy(dtype=float)
    both_finite = np.isfinite(a) & np.isfinite(b)
    tie = (~np.isfinite(a) & ~np.isfinite(b)) | (both_finite & np.isclose(a, b, rtol=profiles.RATIO_RTOL, atol=0))
    return np.where(tie, 0.0, np.where(a < b, 1.0, -1.0))


def beats(table, solver, *, n_boot, rng, level=0.95):
    r"""Does ``solver`` beat the best paper forward solver (:func:`best_forward`)? A dict.

    Statistic: the net share of problems (function, dimension, start) on which it is cheaper,
    $\frac1P\sum_p w_p$ with $w_p$ from :func:`net_wins` (aRT at $f^\star + 0.1$, the paper
    protocol's cost), with a percentile bootstrap interval at ``level`` that resamples the
    functions (every start and dimension of a function together). Verdict of the claim "it
    beats": :func:`forwardgrad.verdicts.positive` (confirmed when the interval lies above 0,
    refined when only the point value does, contradicted otherwise).
    """
    p = protocols.PROTOCOLS["paper"]
    costs = profiles.problem_costs(table, **protocols.scoring(p))
    baseline = best_forward(table)
    w = net_wins(costs, solver, baseline)
    functions = costs.index.get_level_values("function").to_numpy()
    value = float(w.mean())
    lower, upper = statistics.interval_of(np.mean, w, n_boot, rng, level, clusters=functions)
    return {"solver": solver, "baseline": baseline, "problems": len(w), "wins": int((w > 0).sum()),
            "losses": int((w < 0).sum()), "value": value, "lower": lower, "upper": upper,
            "verdict": verdicts.positive(value, lower, upper)}


def command(name, *, seed=0, jobs=2, dims=DIMS):
    """The ``forwardgrad bench`` command line of the sweep :func:`run_plugins` runs for ``name``."""
    fields = PLUGIN_SWEEPS[name]
    parts = ["forwardgrad bench --protocol paper", f"--dims {','.join(map(str, dims))}",
             f"--optimizers {','.join(fields['optimizers'])}", f"--gradients {','.join(fields['gradients'])}"]
    if "tangent" in fields:
        parts.append(f"--tangent {fields['tangent']}")
    return " ".join(parts + [f"--seed {seed}", f"--jobs {jobs}", f"--out {name}.csv"])
