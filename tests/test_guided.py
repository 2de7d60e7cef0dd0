"""The guided estimate: unbiased, with the second moment of its closed form."""

import math

import numpy as np
import pandas as pd
import pytest

import forwardgrad as fg
from forwardgrad import montecarlo, statistics, verdicts
from forwardgrad.experiments import guided

from helpers import rosen


def test_guided_second_moment_and_unbiasedness():
    n, alpha, c = 8, 0.3, 0.7
    rng = np.random.default_rng(3)
    x = rng.standard_normal(n)
    _, g_true = fg.oracles.true_gradient(rosen, x)
    unit = g_true / np.linalg.norm(g_true)
    w = rng.standard_normal(n)
    w -= (w @ unit) * unit
    u = c * unit + math.sqrt(1 - c * c) * w / np.linalg.norm(w)
    g = montecarlo.sample_estimates(rosen, x, "guided", rng, 40000, guess=u, alpha=alpha)
    mean, se = statistics.mean_se(g)
    assert np.all(np.abs(mean - g_true) < 4.5 * se)
    m2, m2_se = statistics.mean_se((g**2).sum(axis=1) / (g_true @ g_true))
    assert abs(m2 - guided.guided_second_moment(n, alpha, c)) < 5 * m2_se
    # alpha = 1 is the isotropic Gaussian forward gradient, whatever the guess
    assert guided.guided_second_moment(n, 1.0, np.array([0.0, 1.0])) == pytest.approx([n + 2, n + 2])
    # a better guess gives a larger second moment
    assert guided.guided_second_moment(n, alpha, 0.9) > guided.guided_second_moment(n, alpha, 0.1)


def _runs(solver, spent, success, gap, dim=10, function="f"):
    n = len(spent)
    return pd.DataFrame({"dim": dim, "function": function, "solver": solver, "spent": spent,
                         "success": success, "f_best": gap, "f_star": np.zeros(n)})


def test_run_scores_rank_misses_after_successes_by_gap():
    runs = _runs("a", [10.0, 50.0, 100.0, 100.0], [True, True, False, False], [0.0, 0.0, 3.0, 1.0])
    np.testing.assert_array_equal(guided.run_scores(runs, budget=100), [10, 50, 102, 101])


def test_compare_to_finds_a_better_and_a_worse_setting():
    rng = np.random.default_rng(0)
    ref = _runs("ref", rng.uniform(400, 600, 10), np.ones(10, bool), np.zeros(10))
    good = _runs("good", rng.uniform(100, 200, 10), np.ones(10, bool), np.zeros(10))
    bad = _runs("bad", np.full(10, 1000.0), np.zeros(10, bool), rng.uniform(1, 2, 10))
    tests = guided.compare_to(pd.concat([ref, good, bad]), "ref", ["good", "bad"], budget=1000)
    by = tests.set_index("solver")
    assert by.loc["good", "p_better"] < 1e-3 and by.loc["good", "p_worse"] > 0.5
    assert by.loc["bad", "p_worse"] < 1e-3 and by.loc["bad", "p_better"] > 0.5
    best = guided.best_setting_tests(tests).iloc[0]
    assert best["settings"] == 2 and best["p_better"] == min(1.0, 2 * by.loc["good", "p_better"])
    assert best["p_worse"] == max(by["p_worse"])
    assert verdicts.significant([best["p_better"]], [best["p_worse"]]) == "confirmed"
