"""Tests of forwardgrad.studies: closed forms against Monte Carlo and exact enumeration, the stacked
objective against its parts, and the equal-cost accounting against direct descents."""

import itertools
import math

import numpy as np
import pytest
from autograd import grad

import forwardgrad as fg
from forwardgrad import studies
from forwardgrad.descent import Arm

from helpers import quadratic, rosen, sphere


def _cos2(gradient, n, k, tangent, samples, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    g = studies.sample_estimates(sphere, x, gradient, rng, samples, k=k, tangent=tangent)
    return studies.mean_se(studies.cosines(g, 2 * x) ** 2)


@pytest.mark.parametrize("gradient, n, k", [("forward", 20, 1), ("forward", 20, 3), ("forward", 5, 8),
                                            ("projected", 20, 3), ("projected", 20, 12)])
def test_cosine_squared_matches_beta_law_for_gaussian_tangents(gradient, n, k):
    mean, se = _cos2(gradient, n, k, "gaussian", 3000, seed=n * 100 + k)
    assert abs(mean - studies.cosine_moments(gradient, n, k)[1]) < 4.5 * se


def test_mean_cosine_matches_beta_law():
    rng = np.random.default_rng(7)
    x = rng.standard_normal(30)
    g = studies.sample_estimates(sphere, x, "forward", rng, 4000, k=4, tangent="gaussian")
    mean, se = studies.mean_se(studies.cosines(g, 2 * x))
    assert abs(mean - studies.cosine_moments("forward", 30, 4)[0]) < 4.5 * se


def test_cosine_moments_special_cases():
    assert studies.cosine_moments("projected", 10, 10) == (1.0, 1.0)
    assert studies.cosine_moments("forward", 10, 3)[1] == pytest.approx(3 / 12)
    assert studies.cosine_moments("projected", 100, 7)[1] == pytest.approx(0.07)
    # E[sqrt(B)] <= sqrt(E[B]) (Jensen)
    c, c2 = studies.cosine_moments("forward", 50, 2)
    assert c < math.sqrt(c2)
    with pytest.raises(ValueError):
        studies.cosine_moments("guided", 10, 1)


@pytest.mark.parametrize("gradient, tangent, k", [("forward", "rademacher", 1), ("forward", "gaussian", 2),
                                                  ("forward", "sphere", 3), ("projected", "gaussian", 4)])
def test_second_moment_matches_monte_carlo(gradient, tangent, k):
    n = 12
    rng = np.random.default_rng(k)
    x = rng.standard_normal(n)
    _, g_true = fg.oracles.true_gradient(quadratic, x)
    g = studies.sample_estimates(quadratic, x, gradient, rng, 20000, k=k, tangent=tangent)
    mean, se = studies.mean_se((g**2).sum(axis=1) / (g_true @ g_true))
    assert abs(mean - studies.second_moment(gradient, n, k, tangent)) < 4.5 * se


def test_guided_second_moment_and_unbiasedness():
    n, alpha, c = 8, 0.3, 0.7
    rng = np.random.default_rng(3)
    x = rng.standard_normal(n)
    _, g_true = fg.oracles.true_gradient(rosen, x)
    unit = g_true / np.linalg.norm(g_true)
    w = rng.standard_normal(n)
    w -= (w @ unit) * unit
    u = c * unit + math.sqrt(1 - c * c) * w / np.linalg.norm(w)
    g = studies.sample_estimates(rosen, x, "guided", rng, 40000, guess=u, alpha=alpha)
    mean, se = studies.mean_se(g)
    assert np.all(np.abs(mean - g_true) < 4.5 * se)
    m2, m2_se = studies.mean_se((g**2).sum(axis=1) / (g_true @ g_true))
    assert abs(m2 - studies.guided_second_moment(n, alpha, c)) < 5 * m2_se
    # alpha = 1 is the isotropic Gaussian forward gradient, whatever the guess
    assert studies.guided_second_moment(n, 1.0, np.array([0.0, 1.0])) == pytest.approx([n + 2, n + 2])
    # a better guess gives a larger second moment
    assert studies.guided_second_moment(n, alpha, 0.9) > studies.guided_second_moment(n, alpha, 0.1)


def test_sgd_sphere_ratio_by_exact_enumeration():
    """E f(x - lr g) over all 2^n Rademacher tangents equals the closed form."""
    n, lr = 4, 0.07
    x = np.array([0.3, -1.2, 0.8, 2.0])
    tangents = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    for k in (1, 2):
        values = []
        for combo in itertools.product(range(len(tangents)), repeat=k):
            v = tangents[list(combo)]
            g = ((v @ (2 * x))[:, None] * v).mean(axis=0)
            values.append(np.sum((x - lr * g) ** 2))
        ratio = np.mean(values) / np.sum(x**2)
        m = studies.second_moment("forward", n, k, "rademacher")
        assert ratio == pytest.approx(studies.sgd_sphere_ratio(m, lr), rel=1e-12)


def test_sgd_sphere_calls_best_k_follows_formula():
    ks = np.array([1, 2, 4, 8, 16, 32])
    lr = 0.01
    for n, expected in ((10, 1), (100, 2), (1000, 16)):
        calls = np.array([float(studies.sgd_sphere_calls(n, k, lr, 1e4)) for k in ks])
        assert ks[np.argmin(calls)] == expected
        k_star = 2 * lr * (n - 1) / (1 - lr)
        assert 0.5 * k_star <= expected <= 2 * max(k_star, 0.5)
    assert np.isinf(studies.sgd_sphere_calls(1000, 1, lr, 1e4))


def test_stack_matches_its_parts_on_any_leading_axes():
    fs = [sphere, rosen, quadratic]
    shifts = [0.5, -1.0, 2.0]
    f = studies.stack(fs, shifts, [2, 1, 3])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 12, 4))  # two periods of 6 rows, under one leading axis
    value = f(x)
    assert value.shape == (2, 12)
    blocks = [(0, 2), (2, 3), (3, 6)]
    for period in (0, 6):
        for fi, s, (a, b) in zip(fs, shifts, blocks):
            np.testing.assert_allclose(value[:, period + a:period + b], fi(x[:, period + a:period + b]) - s)
    # gradients are those of the parts (the objective is row-separable)
    g = grad(lambda z: f(z).sum())(x[0])
    np.testing.assert_allclose(g[2:3], grad(lambda z: rosen(z).sum())(x[0, 2:3]))
    with pytest.raises(ValueError):
        f(x[:, :5])
    with pytest.raises(ValueError):
        studies.stack(fs, shifts, [2, 1])


def test_plan_skips_functions_that_overflow_everywhere():
    usable, skipped = studies.plan(["sphere", "perm_zero_d_beta"], 100, starts=3, seed=0)
    assert [u[0] for u in usable] == ["sphere"]
    assert skipped[0]["function"] == "perm_zero_d_beta"
    # the starts are the benchmark's starts for the same seed
    p = fg.benchmark.protocol("paper", starts=3)
    np.testing.assert_array_equal(usable[0][3], fg.benchmark.starting_points(p, "sphere", 100, 0))


@pytest.fixture(scope="module")
def small_runs():
    adam = fg.optimizers.get("adam", lr=0.05)
    solvers = [
        studies.Solver("adam (true)", Arm(adam, "true"), 1.0),
        studies.Solver("adam (forward, K=4)", Arm(adam, "forward", k=4), 4.0),
    ]
    table, skipped = studies.equal_cost_runs(["sphere", "booth", "ridge"], 2, solvers, budget=200, starts=3,
                                             repeats=2, seed=1, engine="autograd")
    return solvers, table, skipped


def test_equal_cost_runs_match_direct_descents(small_runs):
    solvers, table, skipped = small_runs
    assert not skipped
    assert len(table) == 3 * 3 * 2 * 2
    # deterministic true-gradient runs equal a direct descent on the unstacked function
    for name in ("sphere", "booth", "ridge"):
        obj = fg.objectives.get(name)
        x0 = studies.plan([name], 2, starts=3, seed=1)[0][0][3]
        _, f_star = obj.minimum(2)
        direct = fg.descent.descend_arms(
            obj.f, [solvers[0].arm], x0, rng=np.random.default_rng(0), max_steps=199, target=f_star + 0.1,
            bounds=obj.bounds(2) if obj.constrained else None)
        rows = table[(table["function"] == name) & (table["solver"] == "adam (true)") & (table["repeat"] == 0)]
        np.testing.assert_array_equal(rows["hit"].to_numpy(), direct.hit)
        np.testing.assert_allclose(rows["f_start"].to_numpy(), direct.f_start)


def test_equal_cost_accounting(small_runs):
    _, table, _ = small_runs
    four = table[table["solver"] == "adam (forward, K=4)"]
    # budget 200 units at 4 units per step: at most 50 evaluations, i.e. 49 updates
    assert four["steps"].max() <= 49
    assert (four["spent"] <= 200).all() and (table["spent"] <= 200).all()
    solved = four[four["success"]]
    np.testing.assert_array_equal(solved["spent"], 4 * (solved["hit"] + 1))
    # rescoring at twice the price halves what the budget buys
    rescored = studies.score(table, 200, {"adam (true)": 2.0, "adam (forward, K=4)": 8.0})
    r4 = rescored[rescored["solver"] == "adam (forward, K=4)"]
    assert (r4["success"] == (np.isfinite(r4["hit"]) & (r4["hit"] + 1 <= 25))).all()
    assert rescored["success"].sum() <= table["success"].sum()
    with pytest.raises(ValueError):
        studies.score(table, 200, {"adam (true)": 1.0})


def test_problem_costs_is_the_art_of_the_repeats(small_runs):
    _, table, _ = small_runs
    costs = studies.problem_costs(table)
    assert list(costs.columns) == ["adam (true)", "adam (forward, K=4)"]
    assert costs.shape == (9, 2)
    for (function, dim, start), row in costs.iterrows():
        for solver in costs.columns:
            runs = table[(table["function"] == function) & (table["start"] == start) & (table["solver"] == solver)]
            assert row[solver] == fg.profiles.art(runs["spent"], runs["success"])
    rates = studies.success_rates(table)
    assert rates.loc[2, "adam (true)"] == pytest.approx(table.loc[table["solver"] == "adam (true)", "success"].mean())


def test_finite_difference_samples_converge_to_forward_gradients():
    x = np.array([0.3, -0.7, 1.1])
    fd = studies.sample_estimates(rosen, x, "fd", np.random.default_rng(5), 50, eps=1e-7)
    fwd = studies.sample_estimates(rosen, x, "forward", np.random.default_rng(5), 50)
    np.testing.assert_allclose(fd, fwd, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError):
        studies.sample_estimates(rosen, x, "true", np.random.default_rng(5), 5)


def test_evaluation_times_are_positive():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5))
    times = studies.evaluation_times(rosen, x, rng.standard_normal((64, 5)), engine="autograd", repeats=2)
    assert set(times) == {"f", "jvp", "vjp"}
    assert all(np.isfinite(t) and t > 0 for t in times.values())


def test_equal_cost_runs_rejects_bad_input():
    adam = fg.optimizers.get("adam", lr=0.05)
    same = [studies.Solver("a", Arm(adam, "true")), studies.Solver("a", Arm(adam, "forward"))]
    with pytest.raises(ValueError):
        studies.equal_cost_runs(["sphere"], 2, same, budget=10, starts=1, seed=0, engine="autograd")
    with pytest.raises(ValueError):
        studies.equal_cost_runs(["sphere"], 2, [studies.Solver("b", Arm(adam, "forward", k=8), 8)], budget=10,
                                starts=1, seed=0, engine="autograd")


def test_paired_runs_share_the_tangents():
    """With common tangents, a difference quotient of tiny step follows the forward gradient's path."""
    sgd = fg.optimizers.get("sgd", lr=0.02)
    solvers = [studies.Solver("forward", Arm(sgd, "forward")), studies.Solver("fd", Arm(sgd, "fd", eps=1e-7)),
               studies.Solver("forward again", Arm(sgd, "forward"))]
    options = dict(budget=300, starts=3, repeats=2, seed=4, target_gap=1e-3, engine="autograd")
    table, skipped = studies.paired_runs(["sphere", "rosenbrock"], 3, solvers, **options)
    assert not skipped and len(table) == 2 * 3 * 2 * 3
    assert list(table["solver"].iloc[:3]) == ["forward", "fd", "forward again"]
    hits = table.pivot_table(index=["function", "start", "repeat"], columns="solver", values="f_best")
    np.testing.assert_array_equal(hits["forward"], hits["forward again"])
    np.testing.assert_allclose(hits["fd"], hits["forward"], rtol=1e-4)
    # without pairing, the two forward solvers draw different tangents
    unpaired, _ = studies.equal_cost_runs(["sphere", "rosenbrock"], 3, solvers, **options)
    other = unpaired.pivot_table(index=["function", "start", "repeat"], columns="solver", values="f_best")
    assert not np.array_equal(other["forward"], other["forward again"])
    with pytest.raises(ValueError):
        studies.paired_runs(["sphere"], 2, solvers[:1] * 2, **options)
