"""The plane-isopleth experiments of the linear chapter: closed forms, exact cases and the contrast."""

import itertools

import numpy as np
import pytest

import forwardgrad as fg
from forwardgrad.experiments import linear as plane


def identity(xp, s):
    return s


def test_fourth_moment_against_every_sign_vector():
    mu = np.random.default_rng(0).standard_normal(5)
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=5)))
    assert plane.fourth_moment(mu) == pytest.approx(np.mean((signs @ mu) ** 4), rel=1e-12)
    assert plane.fourth_moment(np.eye(5)[2] * 3.0) == pytest.approx(81.0)  # axis-parallel: no variance


def test_log_cosh_is_log_cosh_and_does_not_overflow():
    s = np.linspace(-5.0, 5.0, 11)
    np.testing.assert_allclose(plane.log_cosh(np, s), np.log(np.cosh(s)), rtol=1e-12, atol=1e-15)
    assert plane.log_cosh(np, np.array(1e4)) == pytest.approx(1e4 - np.log(2.0))


def test_ridge_gradient_has_the_direction_of_mu():
    mu = np.array([0.5, -1.0, 2.0])
    f = plane.ridge(mu, plane.log_cosh)
    x = np.random.default_rng(1).standard_normal((4, 3))
    _, g = fg.oracles.true_gradient(f, x)
    np.testing.assert_allclose(g, np.tanh(x @ mu)[:, None] * mu, rtol=1e-12)


def test_axis_parallel_ridge_makes_forward_sgd_exactly_true_sgd():
    # mu = 2 e_1: (mu.v)^2 = 4 for every Rademacher v, so every forward run has the true objective
    d = 10
    mu = 2.0 * np.eye(d)[0]
    f = plane.ridge(mu, plane.log_cosh)
    x0 = 1.5 * mu
    run = plane.compare_sgd(f, x0, 0.05, runs=8, steps=60, target=0.01 * float(f(x0)), rng=np.random.default_rng(2))
    np.testing.assert_allclose(run.forward_excess, np.repeat(run.true_excess[:, None], 8, axis=1), rtol=1e-10, atol=1e-14)
    assert run.steps["ratio"] == 1.0
    assert run.mean_excess["ratio"] == pytest.approx(1.0, rel=1e-10)


def test_linear_profile_has_the_true_expected_objective():
    # h(s) = s: E f(x_t) of forward SGD equals the true f(x_t) at every step (section 4.2.2)
    d, runs = 10, 4000
    mu = np.random.default_rng(3).standard_normal(d)
    f = plane.ridge(mu, identity)
    x0 = np.zeros(d)
    run = plane.compare_sgd(f, x0, 0.01, runs=runs, steps=30, target=-0.1 * np.sum(mu**2), rng=np.random.default_rng(4))
    for t in (1, 10, 30):
        values = run.forward_excess[t]
        z = (values.mean() - run.true_excess[t]) / (values.std(ddof=1) / np.sqrt(runs))
        assert abs(z) < 4.5, (t, z)


def test_square_ridge_mean_objective_matches_its_closed_form():
    d, lr, runs = 10, 0.1, 4000
    mu = np.random.default_rng(5).standard_normal(d) / np.sqrt(d)
    f = plane.ridge(mu, plane.half_square)
    x0 = 2.0 * mu / np.sum(mu**2)
    f0 = float(f(x0))
    run = plane.compare_sgd(f, x0, lr, runs=runs, steps=20, target=0.5 * f0, rng=np.random.default_rng(6))
    forward, true = plane.square_ridge_mean_f(mu, lr, 20, f0)
    np.testing.assert_allclose(run.true_excess, true, rtol=1e-10)
    for t in (1, 5, 20):
        values = run.forward_excess[t]
        z = (values.mean() - forward[t]) / (values.std(ddof=1) / np.sqrt(runs))
        assert abs(z) < 4.5, (t, z)
    # the excess over the true objective is real: eta^2 Var(mu.v)^2 per step, compounded
    assert forward[20] / true[20] > 1.05


def test_seeded_runs_reproduce_and_seeds_differ():
    f = plane.ridge(np.ones(4) / 2.0, plane.half_square)
    x0 = np.ones(4) * 1.5
    kw = dict(runs=5, steps=40, target=0.01 * float(f(x0)))
    a = plane.compare_sgd(f, x0, 0.1, rng=np.random.default_rng(7), **kw)
    b = plane.compare_sgd(f, x0, 0.1, rng=np.random.default_rng(7), **kw)
    c = plane.compare_sgd(f, x0, 0.1, rng=np.random.default_rng(8), **kw)
    np.testing.assert_array_equal(a.forward_excess, b.forward_excess)
    assert a.mean_excess.equals(b.mean_excess)
    assert not np.array_equal(a.forward_excess, c.forward_excess)


def test_curved_isopleths_slow_forward_sgd_where_plane_ones_do_not():
    # the same load lr * (largest curvature) = 0.05 in d = 10: the hyper-ellipsoid's forward runs
    # pay for wandering off the stiffest axis, the ridge function's do not
    d, load = 10, 0.05
    rng = np.random.default_rng(9)
    mu = np.ones(d) / np.sqrt(d)
    f = plane.ridge(mu, plane.half_square)
    ridge_run = plane.compare_sgd(f, 3.0 * mu, load, runs=200, steps=200, target=0.01 * float(f(3.0 * mu)), rng=rng)
    ell = fg.objectives.get("sum_squares")
    x0 = np.eye(d)[-1]
    ell_run = plane.compare_sgd(ell.f, x0, load / (2 * d), runs=200, steps=200, target=0.01 * float(ell.f(x0)), rng=rng)
    assert ridge_run.steps["ratio_lower"] <= 1.1 and ridge_run.steps["ratio_upper"] >= 0.9
    assert ell_run.steps["ratio_lower"] > 1.2


def test_a_true_run_short_of_the_target_is_an_error():
    f = plane.ridge(np.ones(3), plane.half_square)
    with pytest.raises(ValueError, match="did not reach"):
        plane.compare_sgd(f, np.ones(3), 0.01, runs=2, steps=3, target=1e-6, rng=np.random.default_rng(10))
