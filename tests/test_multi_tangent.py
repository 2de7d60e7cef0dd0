"""Closed forms of the multi-tangent chapter against Monte Carlo and exact enumeration."""

import itertools
import math

import numpy as np
import pytest

import forwardgrad as fg
from forwardgrad import montecarlo, statistics
from forwardgrad.experiments import multi_tangent

from helpers import quadratic, sphere


def _cos2(gradient, n, k, tangent, samples, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    g = montecarlo.sample_estimates(sphere, x, gradient, rng, samples, k=k, tangent=tangent)
    return statistics.mean_se(montecarlo.cosines(g, 2 * x) ** 2)


@pytest.mark.parametrize("gradient, n, k", [("forward", 20, 1), ("forward", 20, 3), ("forward", 5, 8),
                                            ("projected", 20, 3), ("projected", 20, 12)])
def test_cosine_squared_matches_beta_law_for_gaussian_tangents(gradient, n, k):
    mean, se = _cos2(gradient, n, k, "gaussian", 3000, seed=n * 100 + k)
    assert abs(mean - multi_tangent.cosine_moments(gradient, n, k)[1]) < 4.5 * se


def test_mean_cosine_matches_beta_law():
    rng = np.random.default_rng(7)
    x = rng.standard_normal(30)
    g = montecarlo.sample_estimates(sphere, x, "forward", rng, 4000, k=4, tangent="gaussian")
    mean, se = statistics.mean_se(montecarlo.cosines(g, 2 * x))
    assert abs(mean - multi_tangent.cosine_moments("forward", 30, 4)[0]) < 4.5 * se


def test_cosine_moments_special_cases():
    assert multi_tangent.cosine_moments("projected", 10, 10) == (1.0, 1.0)
    assert multi_tangent.cosine_moments("forward", 10, 3)[1] == pytest.approx(3 / 12)
    assert multi_tangent.cosine_moments("projected", 100, 7)[1] == pytest.approx(0.07)
    # E[sqrt(B)] <= sqrt(E[B]) (Jensen)
    c, c2 = multi_tangent.cosine_moments("forward", 50, 2)
    assert c < math.sqrt(c2)
    with pytest.raises(ValueError):
        multi_tangent.cosine_moments("guided", 10, 1)


@pytest.mark.parametrize("gradient, tangent, k", [("forward", "rademacher", 1), ("forward", "gaussian", 2),
                                                  ("forward", "sphere", 3), ("projected", "gaussian", 4)])
def test_second_moment_matches_monte_carlo(gradient, tangent, k):
    n = 12
    rng = np.random.default_rng(k)
    x = rng.standard_normal(n)
    _, g_true = fg.oracles.true_gradient(quadratic, x)
    g = montecarlo.sample_estimates(quadratic, x, gradient, rng, 20000, k=k, tangent=tangent)
    mean, se = statistics.mean_se((g**2).sum(axis=1) / (g_true @ g_true))
    assert abs(mean - multi_tangent.second_moment(gradient, n, k, tangent)) < 4.5 * se


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
        m = multi_tangent.second_moment("forward", n, k, "rademacher")
        assert ratio == pytest.approx(multi_tangent.sgd_sphere_ratio(m, lr), rel=1e-12)


def test_sgd_sphere_calls_best_k_follows_formula():
    ks = np.array([1, 2, 4, 8, 16, 32])
    lr = 0.01
    for n, expected in ((10, 1), (100, 2), (1000, 16)):
        calls = np.array([float(multi_tangent.sgd_sphere_calls(n, k, lr, 1e4)) for k in ks])
        assert ks[np.argmin(calls)] == expected
        k_star = 2 * lr * (n - 1) / (1 - lr)
        assert 0.5 * k_star <= expected <= 2 * max(k_star, 0.5)
    assert np.isinf(multi_tangent.sgd_sphere_calls(1000, 1, lr, 1e4))
