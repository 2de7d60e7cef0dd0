"""The O(1/t) experiment of the optimizers chapter against the exact expectations of forwardgrad.theory.

Monte Carlo checks are seeded and use a 4.5-standard-error band.
"""

import numpy as np
import pandas as pd
import pytest

from forwardgrad import statistics, theory
from forwardgrad.experiments import rate

Z = 4.5


def test_sample_loss_is_f_minus_a_linear_term_row_by_row():
    h, xi = np.array([1.0, 2.0]), np.array([[1.0, 0.0], [0.0, -1.0]])
    x = np.array([[1.0, 1.0], [2.0, 1.0]])
    np.testing.assert_allclose(rate.sample_loss(h, xi)(x), [1.5 - 1.0, 3.0 + 1.0])


def test_first_step_offset_known_answer():
    # c sum h^2 / mu = 2 * (1 + 4) / 1 = 10
    assert rate.first_step_offset([1.0, 2.0], 2.0) == 10
    assert rate.first_step_offset([1.0, 2.0], 2.1) == 11


@pytest.mark.parametrize("gradient", ["true", "forward"])
def test_sgd_losses_are_reproducible_from_the_seed(gradient):
    args = (np.array([1.0, 1.5, 2.0]), 1.0, 2.0, 12, [0, 5, 20], gradient, 8)
    a = rate.sgd_losses(*args, np.random.default_rng(3))
    np.testing.assert_array_equal(a, rate.sgd_losses(*args, np.random.default_rng(3)))
    assert not np.array_equal(a, rate.sgd_losses(*args, np.random.default_rng(4)))
    assert a.shape == (8, 3)
    np.testing.assert_allclose(a[:, 0], 0.5 * 4.5)  # t = 0 is the start x0 = 1


@pytest.mark.parametrize("gradient", ["true", "forward"])
def test_sgd_losses_match_the_exact_expectation(gradient):
    h, sigma, c, t0 = np.linspace(1.0, 1.5, 5), 1.0, 2.0, 16
    times = np.array([0, 1, 2, 5, 10, 30, 100, 200])
    losses = rate.sgd_losses(h, sigma, c, t0, times, gradient, 3000, np.random.default_rng(5))
    mean, se = statistics.mean_se(losses)
    exact = theory.sgd_mean_loss(h, sigma, c, t0, times[-1], gradient)[times]
    assert np.all(np.abs(mean[1:] - exact[1:]) < Z * se[1:])
    assert mean[0] == pytest.approx(exact[0])


def test_sgd_losses_reject_unsorted_times_and_unknown_gradients():
    with pytest.raises(ValueError, match="increasing"):
        rate.sgd_losses([1.0], 1.0, 2.0, 2, [5, 3], "true", 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="gradient"):
        rate.sgd_losses([1.0], 1.0, 2.0, 2, [1, 3], "fd", 2, np.random.default_rng(0))


def test_loglog_fit_recovers_a_power_law_with_no_spread():
    tau = np.geomspace(10, 1000, 12)
    losses = np.tile(3.0 * tau**-1.0, (5, 1))
    fit = rate.loglog_fit(tau, losses, 50, np.random.default_rng(0))
    assert fit.exponent == pytest.approx(-1.0, abs=1e-12) and fit.constant == pytest.approx(3.0, rel=1e-12)
    assert fit.exponent_se == pytest.approx(0.0, abs=1e-12) and fit.boot_constant.shape == (50,)


def test_loglog_fit_standard_error_matches_the_spread_of_seeded_repeats():
    # the bootstrap SE of the exponent against the spread of the exponent over independent batches
    tau = np.geomspace(10, 1000, 8)
    rng = np.random.default_rng(7)
    batches = [2.0 * tau**-1.5 * rng.exponential(size=(200, tau.size)) for _ in range(60)]
    spread = np.std([rate.loglog_fit(tau, b, 2, rng).exponent for b in batches], ddof=1)
    se = rate.loglog_fit(tau, batches[0], 400, rng).exponent_se
    assert 0.6 * spread < se < 1.6 * spread
    assert np.mean([rate.loglog_fit(tau, b, 2, rng).exponent for b in batches]) == pytest.approx(-1.5, abs=0.02)


@pytest.fixture(scope="module")
def small_study():
    return rate.sgd_rate_study([2, 4, 8], np.random.default_rng(2), work=1024, n_boot=200)


def test_true_sgd_converges_at_rate_one_over_t(small_study):
    fits, _, _ = small_study
    for row in fits.itertuples():
        assert abs(row.exponent - row.exact_exponent) < Z * row.exponent_se
        assert abs(row.exact_exponent + 1.0) < 0.05  # the O(1/t) regime of the exact expectation
    assert (fits.loc[fits.gradient == "true", "exponent"] + 1.0).abs().max() < 0.1


def test_forward_over_true_constant_grows_with_n(small_study):
    _, ratios, _ = small_study
    assert np.all(np.diff(ratios["ratio"]) > Z * ratios["ratio_se"].iloc[1:].to_numpy())
    assert np.all(np.abs(ratios["ratio"] - ratios["exact_ratio"]) < Z * ratios["ratio_se"])
    np.testing.assert_allclose(ratios["exact_ratio"], ratios.index, rtol=0.06)  # the limit is n


def test_growth_fit_of_an_exactly_linear_ratio():
    n = np.array([2, 5, 10, 20])
    boot = [np.full(30, float(k)) for k in n]
    ratios = pd.DataFrame({"ratio": n.astype(float), "exact_ratio": 2.0 * n + 1.0, "boot": boot}, index=n)
    growth = rate.growth_fit(ratios)
    assert growth["exponent"] == pytest.approx(1.0) and growth["slope"] == pytest.approx(1.0)
    assert growth["exponent_se"] == pytest.approx(0.0, abs=1e-12)
    assert rate.growth_fit(ratios, "exact_ratio")["slope"] == pytest.approx(2.0)
