r"""The chapter *Guided tangents*: the second moment of the unbiased guided estimate, and the
comparison of guided settings with the isotropic law in descent.

Tangents $v \sim \mathcal N(0, \Sigma)$ with $\Sigma = \frac\alpha d I + (1-\alpha)\hat u\hat u^\top$ around a
guess $u$ of the gradient (:func:`forwardgrad.oracles.guided_tangent`), corrected by $\Sigma^{-1}$
(:func:`forwardgrad.oracles.guided_estimate`) or not (:func:`forwardgrad.oracles.biased_guided_estimate`).
Runs are compared with Mann & Whitney's (1947) rank test on one score per run (:func:`run_scores`).
"""

import numpy as np
import pandas as pd
from scipy import stats


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


def run_scores(runs, budget):
    """One number per run of an equal-cost sweep, lower is better: the evaluations spent to the
    target when the run reached it, else ``budget`` plus the rank of its best gap among the runs
    that missed (so every miss ranks after every success, and a closer miss before a farther one).
    ``runs`` has the columns ``success``, ``spent``, ``f_best`` and ``f_star``."""
    success = runs["success"].to_numpy(bool)
    gap = (runs["f_best"] - runs["f_star"]).to_numpy(float)
    score = runs["spent"].to_numpy(float).copy()
    score[~success] = budget + stats.rankdata(gap[~success])
    return pd.Series(score, index=runs.index)


def compare_to(runs, reference, solvers, budget):
    """Each solver against ``reference`` in every case (dim, function) of a sweep, by one-sided
    Mann-Whitney tests on :func:`run_scores`: ``p_better`` (its scores lower) and ``p_worse``.

    Returns one row per (dim, function, solver) with the two p-values and both median scores.
    """
    runs = runs.assign(score=run_scores(runs, budget))
    rows = []
    for (dim, function), case in runs.groupby(["dim", "function"], sort=False):
        base = case.loc[case["solver"] == reference, "score"]
        for solver in solvers:
            mine = case.loc[case["solver"] == solver, "score"]
            rows.append(dict(dim=dim, function=function, solver=solver,
                             p_better=float(stats.mannwhitneyu(mine, base, alternative="less").pvalue),
                             p_worse=float(stats.mannwhitneyu(mine, base, alternative="greater").pvalue),
                             median=float(mine.median()), reference_median=float(base.median())))
    return pd.DataFrame(rows)


def best_setting_tests(tests):
    """Per case, the p-values of "the best of several settings is better than the reference"
    (the smallest ``p_better``, times the number of settings tried: Bonferroni over the choice)
    and of "every setting is worse" (the largest ``p_worse``), for
    :func:`forwardgrad.verdicts.significant`."""
    grouped = tests.groupby(["dim", "function"], sort=False)
    settings = grouped["solver"].count()
    p_better = np.minimum(1.0, grouped["p_better"].min() * settings)
    return pd.DataFrame({"p_better": p_better, "p_worse": grouped["p_worse"].max(), "settings": settings})
