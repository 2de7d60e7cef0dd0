"""Closed forms of forwardgrad.theory against independent references.

Exact formulas are checked against two independent enumerations: over all 2^n sign vectors
(n <= 20) and over the binomial count of +1 coordinates (n <= 200, rational arithmetic). Monte
Carlo checks are seeded and use a 4.5-standard-error band.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
from autograd import grad, make_jvp, make_vjp
from autograd.test_util import check_grads

import forwardgrad as fg
from forwardgrad import theory, timing

Z = 4.5  # Monte Carlo band, in standard errors


def all_signs(n):
    """The 2^n vectors of {-1, 1}^n, one per row."""
    codes = np.arange(2**n, dtype=np.int64)[:, None] >> np.arange(n)
    return (2 * (codes & 1) - 1).astype(np.int64)


def zscore(samples, expected):
    """(mean - expected) / standard error; a constant sample equal to ``expected`` scores 0."""
    samples = np.asarray(samples, dtype=float)
    se = samples.std(axis=0, ddof=1) / math.sqrt(len(samples))
    gap = samples.mean(axis=0) - expected
    return np.where(np.abs(gap) <= 1e-12 * (1 + np.abs(expected)), 0.0, gap / np.maximum(se, 1e-300))


# --- Lemma 10 and Theorem 9: exact values --------------------------------------------------


@pytest.mark.parametrize("n", range(1, 21))
def test_mean_abs_random_walk_by_sign_vectors(n):
    s = all_signs(n).sum(axis=1)
    assert theory.mean_abs_random_walk(n) == Fraction(int(np.abs(s).sum()), 2**n)


def test_mean_abs_random_walk_by_binomial_counts():
    for n in range(0, 201):
        exact = sum(Fraction(math.comb(n, k) * abs(2 * k - n), 2**n) for k in range(n + 1))
        assert theory.mean_abs_random_walk(n) == exact, n


def test_mean_abs_random_walk_paper_even_formula():
    # Appendix A: E|S_2N| = 2N binom(2N, N) / 4^N, and E|S_2N+1| = E|S_2N+2|.
    for big_n in range(1, 100):
        assert theory.mean_abs_random_walk(2 * big_n) == Fraction(2 * big_n * math.comb(2 * big_n, big_n), 4**big_n)
        assert theory.mean_abs_random_walk(2 * big_n - 1) == theory.mean_abs_random_walk(2 * big_n)


@pytest.mark.parametrize("n", range(1, 21))
def test_sign_agreement_by_sign_vectors(n):
    rng = np.random.default_rng(n)
    grad_f = 2 * rng.integers(0, 2, n) - 1  # any gradient in {-1, 1}^n, not only ones
    v = all_signs(n)
    g = (v @ grad_f)[:, None] * v  # the forward gradient for every tangent
    agree = np.sum(np.sign(g) * grad_f > 0)
    disagree = np.sum(np.sign(g) * grad_f < 0)
    assert theory.sign_agreement(n) == Fraction(int(agree), 2**n)
    assert theory.sign_disagreement(n) == Fraction(int(disagree), 2**n)
    assert np.array_equal(theory.agreement_count(g, grad_f), np.sum(np.sign(g) * grad_f > 0, axis=1))


def test_sign_agreement_by_binomial_counts():
    for n in range(1, 201):
        # k coordinates with v_i = sign(grad_i): S = 2k - n; a tie (k = n/2) agrees with nothing.
        exact = sum(Fraction(math.comb(n, k) * max(k, n - k), 2**n) for k in range(n + 1) if 2 * k != n)
        assert theory.sign_agreement(n) == exact, n


def test_sign_agreement_parity_and_paper_formula():
    for n in range(1, 201):
        p, q, e = theory.sign_agreement(n), theory.sign_disagreement(n), theory.mean_abs_random_walk(n)
        assert p - q == e  # equation (3b) holds with ties counted in neither P nor N
        if n % 2:
            assert p == theory.sign_agreement_paper(n) and p + q == n
        else:
            assert p == Fraction(n, 2)
            assert theory.sign_agreement_paper(n) - p == e / 2
            assert p + q == n - n * Fraction(math.comb(n, n // 2), 2**n)  # n P(S_n = 0) lost to ties


def test_lemma10_asymptotics():
    c = 1 / (2 * math.sqrt(2 * math.pi))
    for n in range(50, 1001, 7):
        e = float(theory.mean_abs_random_walk(n))
        error = (e - theory.mean_abs_random_walk_asymptotic(n)) * math.sqrt(n)
        assert abs(error - (-c if n % 2 == 0 else c)) < 1.0 / n
        assert abs(e - theory.mean_abs_random_walk_corrected(n)) < n**-1.5


def test_theorem9_bound_needs_its_remainder_for_odd_n():
    for n in range(1, 400):
        excess = float(theory.sign_agreement(n)) - theory.theorem9_bound(n)
        if n % 2:
            assert 0 < excess < 0.2 / math.sqrt(n)
        else:
            assert excess < 0


# --- sign agreement for general gradients ---------------------------------------------------


def _mc_agreement(grad_f, law, draws, rng):
    v = law(rng, (draws, grad_f.shape[-1]))
    g = (v @ grad_f)[:, None] * v
    return theory.agreement_count(g, grad_f)


@pytest.mark.parametrize("seed", [0, 1])
def test_sign_agreement_gaussian_closed_form(seed):
    rng = np.random.default_rng(seed)
    grad_f = rng.standard_t(2, size=9)
    counts = _mc_agreement(grad_f, fg.tangents.gaussian, 400_000, rng)
    assert abs(zscore(counts, theory.sign_agreement_gaussian(grad_f))) < Z


def test_sign_agreement_gaussian_distinguishes_laws():
    # The arcsin law is for Gaussian tangents: with Rademacher tangents and grad in {-1, 1}^n the
    # exact value differs, and the formula must not match it.
    n = 9
    assert abs(theory.sign_agreement_gaussian(np.ones(n)) - float(theory.sign_agreement(n))) > 0.1


def test_sign_agreement_clt_for_many_comparable_coordinates():
    rng = np.random.default_rng(2)
    grad_f = rng.standard_normal(60)
    counts = _mc_agreement(grad_f, fg.tangents.rademacher, 200_000, rng)
    se = counts.std(ddof=1) / math.sqrt(len(counts))
    # the approximation error is far below the excess over n/2 (about 2.5 here)
    assert abs(counts.mean() - theory.sign_agreement_clt(grad_f)) < Z * se + 0.05
    assert theory.sign_agreement_clt(grad_f) <= theory.theorem9_bound(60)
    assert abs(theory.sign_agreement_l1(grad_f) - theory.sign_agreement_clt(grad_f)) < 0.1


def test_sign_agreement_clt_matches_exact_for_sign_gradients():
    for n in (101, 301):
        assert abs(theory.sign_agreement_clt(np.ones(n)) - float(theory.sign_agreement(n))) < 0.05


# --- Lemma 4, Property 5, Definitions 6-8 -----------------------------------------------------


def test_coordinate_moments_match_the_laws_own_moments():
    rng = np.random.default_rng(3)
    n = 5
    for law in ("rademacher", "gaussian", "uniform", "laplace", "sphere", "haar"):
        v = fg.tangents.get(law)(rng, (400_000, n))
        m4, m22 = (float(m) for m in theory.coordinate_moments(law, n))
        assert abs(zscore(v[:, 0] ** 4, m4)) < Z, law
        assert abs(zscore(v[:, 0] ** 2 * v[:, 1] ** 2, m22)) < Z, law
    assert theory.sphere_var_square(n) == theory.coordinate_moments("sphere", n)[0] - 1


@pytest.mark.parametrize("law", ["rademacher", "gaussian", "uniform", "laplace", "sphere", "haar"])
def test_coordinate_second_moment_monte_carlo(law):
    rng = np.random.default_rng(4)
    grad_f = np.array([3.0, -1.0, 0.5, 2.0, -0.2])
    v = fg.tangents.get(law)(rng, (400_000, 5))
    g = (v @ grad_f)[:, None] * v
    z = zscore(g**2, theory.coordinate_second_moment(grad_f, law))
    assert np.all(np.abs(z) < Z), z


def test_rademacher_second_moment_by_enumeration():
    grad_f = np.array([1.5, -2.0, 0.25, 0.0, 3.0, -1.0])
    v = all_signs(6).astype(float)
    g = (v @ grad_f)[:, None] * v
    np.testing.assert_allclose((g**2).mean(axis=0), theory.coordinate_second_moment(grad_f, "rademacher"))
    np.testing.assert_allclose((g**2).mean(axis=0), theory.lemma4_second_moment(grad_f, 0))


def test_lemma4_formula_is_wrong_for_the_sphere():
    grad_f = np.array([3.0, -1.0, 0.5, 2.0, -0.2])
    n, norm2 = len(grad_f), np.sum(grad_f**2)
    for law, var in theory.VAR_SQUARE.items():
        np.testing.assert_allclose(theory.lemma4_second_moment(grad_f, var), theory.coordinate_second_moment(grad_f, law))
    gap = theory.lemma4_second_moment(grad_f, theory.sphere_var_square(n)) - theory.coordinate_second_moment(grad_f, "sphere")
    np.testing.assert_allclose(gap, 2 * (norm2 - grad_f**2) / (n + 2))
    # the per-coordinate moments of the sphere still sum to the Property 5 value
    np.testing.assert_allclose(theory.coordinate_second_moment(grad_f, "sphere").sum() - norm2, (n - 1) * norm2)


@pytest.mark.parametrize("law", ["rademacher", "gaussian", "uniform", "laplace", "sphere", "haar"])
def test_msd_factor_monte_carlo(law):
    rng = np.random.default_rng(5)
    n = 8
    grad_f = rng.standard_normal(n)
    v = fg.tangents.get(law)(rng, (300_000, n))
    g = (v @ grad_f)[:, None] * v
    sq = np.sum((g - grad_f) ** 2, axis=1) / np.sum(grad_f**2)
    assert abs(zscore(sq, float(theory.msd_factor(law, n)))) < Z


def test_msd_factor_sums_coordinate_moments():
    grad_f = np.array([1.0, -2.0, 0.3, 0.7])
    for law in ("rademacher", "gaussian", "uniform", "laplace", "sphere"):
        msd = theory.coordinate_second_moment(grad_f, law).sum() - np.sum(grad_f**2)
        np.testing.assert_allclose(msd, float(theory.msd_factor(law, 4)) * np.sum(grad_f**2))


def test_rotated_rademacher_second_moment_by_enumeration():
    rng = np.random.default_rng(6)
    n = 6
    q = fg.tangents.haar_orthogonal(rng, (n,))
    grad_f = rng.standard_normal(n)
    w = all_signs(n).astype(float) @ q.T  # every draw of the rotated law, equally likely
    g = (w @ grad_f)[:, None] * w
    exact = theory.rotated_rademacher_second_moment(grad_f, q)
    np.testing.assert_allclose((g**2).mean(axis=0), exact)
    np.testing.assert_allclose(g.mean(axis=0), grad_f, atol=1e-12)  # Theorem 7, exactly
    np.testing.assert_allclose(exact.sum() - np.sum(grad_f**2), (n - 1) * np.sum(grad_f**2))
    assert np.max(np.abs(exact - theory.coordinate_second_moment(grad_f, "rademacher"))) > 0.1


def test_biased_laws_have_mean_sigma_grad():
    rng = np.random.default_rng(7)
    n = 4
    grad_f = np.array([1.0, -2.0, 0.5, 3.0])
    for cov in (theory.equicorrelation(n, 0.4), theory.equicorrelation(n, 0.0, var=2.0)):
        law = theory.gaussian_with_covariance(cov)
        v = law(rng, (400_000, n))
        np.testing.assert_allclose(np.cov(v.T), cov, atol=0.02)
        g = (v @ grad_f)[:, None] * v
        assert np.all(np.abs(zscore(g, cov @ grad_f)) < Z)
        assert np.any(np.abs(zscore(g, grad_f)) > 20)  # and visibly not the gradient


# --- Figure 1 and the cost probes -------------------------------------------------------------


def test_stirling_against_factorial():
    for n in range(5, 150, 7):
        ratio = math.factorial(n) / theory.stirling(float(n))
        assert abs((ratio - 1) * 12 * n - 1) < 1.0 / n  # n! = stirling(n) (1 + 1/(12n) + ...)


@pytest.mark.parametrize("n", [0.5, 1.0, 3.0, 7.5, 20.0])
def test_wengert_sweeps_match_autograd_and_calculus(n):
    values, dots = theory.wengert_forward(theory.STIRLING_WENGERT, {"n": n}, {"n": 1.0})
    _, bars = theory.wengert_reverse(theory.STIRLING_WENGERT, {"n": n})
    exact = theory.stirling_derivative(n)
    assert values["w7"] == pytest.approx(theory.stirling(n), rel=1e-14)
    assert dots["w7"] == pytest.approx(exact, rel=1e-12)
    assert bars["n"] == pytest.approx(exact, rel=1e-12)
    assert grad(theory.stirling)(n) == pytest.approx(exact, rel=1e-12)
    assert make_jvp(theory.stirling)(n)(1.0)[1] == pytest.approx(exact, rel=1e-12)
    h = 1e-6 * n
    fd = (theory.stirling(n + h) - theory.stirling(n - h)) / (2 * h)
    assert fd == pytest.approx(exact, rel=1e-6)


def test_wengert_adjoints_of_intermediates():
    _, bars = theory.wengert_reverse(theory.STIRLING_WENGERT, {"n": 4.0})
    values, _ = theory.wengert_forward(theory.STIRLING_WENGERT, {"n": 4.0}, {"n": 0.0})
    assert bars["w6"] == pytest.approx(values["w5"]) and bars["w5"] == pytest.approx(values["w6"])
    assert bars["w4"] == pytest.approx(values["w5"] / (2 * values["w6"]))


def test_iterated_map_gradient_and_memory():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 50))
    check_grads(theory.iterated_map(5), modes=["fwd", "rev"], order=1)(x)
    x = rng.standard_normal(20_000)

    def vjp_peak(iterations):
        f = theory.iterated_map(iterations)
        return timing.python_peak_bytes(lambda: make_vjp(f)(x)[0](1.0))

    def jvp_peak(iterations):
        f = theory.iterated_map(iterations)
        return timing.python_peak_bytes(lambda: make_jvp(f)(x)(x))

    # the reverse pass keeps every intermediate: 8x the loop, much more than 3x the memory
    assert vjp_peak(64) > 3 * vjp_peak(8)
    assert jvp_peak(64) < 1.5 * jvp_peak(8)
    seconds, peak = timing.time_and_memory(lambda: np.ones(10_000), repeats=2)
    assert seconds > 0 and peak >= 80_000


# --- section 4.2.2 --------------------------------------------------------------------------------


def test_linear_forward_sgd_gain_and_step_norm():
    rng = np.random.default_rng(9)
    mu = rng.standard_normal(20)
    f = theory.linear(mu)
    x = rng.standard_normal((200_000, 20))
    v = fg.tangents.rademacher(rng, x.shape)
    fx, g = fg.oracles.forward_gradient(f, x, v)
    np.testing.assert_allclose(fx, x @ mu)
    gain = f(x - g) - fx
    assert abs(zscore(gain, theory.forward_sgd_gain(mu))) < Z
    assert abs(zscore(np.sum(g**2, axis=1), theory.forward_step_norm2(mu))) < Z
    assert theory.forward_step_norm2(mu) == pytest.approx(20 * np.sum(mu**2))
    assert theory.forward_step_norm2(mu, "gaussian") == pytest.approx(22 * np.sum(mu**2))


def test_adam_forward_rate_on_a_linear_objective():
    rng = np.random.default_rng(10)
    n, runs, steps = 64, 20, 3000
    mu = 2.0 * rng.integers(0, 2, n) - 1
    result = fg.descent.descend(theory.linear(mu), np.zeros((runs, n)), fg.optimizers.adam(lr=1.0),
                                "forward", "rademacher", rng=rng, max_steps=steps, record=(1000, steps))
    rate = (result.f_trajectory[0] - result.f_trajectory[1]) / (steps - 1000)
    # ||mu||_2 = 8, not the beta = 1 limit E|v.mu| = 6.4 nor the true-gradient ||mu||_1 = 64
    assert abs(rate.mean() / theory.adam_forward_rate(mu) - 1) < 0.08


# --- optimizer helpers ----------------------------------------------------------------------------


def test_sign_agreement_monte_carlo_matches_exact():
    rng = np.random.default_rng(11)
    for n in (7, 8):
        grad_f = 2.0 * rng.integers(0, 2, n) - 1
        mean, se, g = theory.sign_agreement_monte_carlo(theory.linear(grad_f), np.zeros(n), fg.tangents.rademacher, 100_000, rng)
        np.testing.assert_allclose(g, grad_f)
        assert abs(mean - float(theory.sign_agreement(n))) < Z * se
    # the paper's tie convention is measurably different for even n
    assert abs(mean - float(theory.sign_agreement_paper(8))) > 10 * se


def test_adam_moments_along_a_path():
    rng = np.random.default_rng(12)
    h = np.array([1.0, 4.0, 0.5])
    f = theory.quadratic(h)
    x0 = rng.standard_normal((2, 3))
    lr, b1, b2 = 0.1, 0.9, 0.999
    arm = fg.descent.Arm(fg.optimizers.adam(lr, b1, b2, eps=0.0), "true")
    path = list(fg.descent.iterate(f, arm, x0, 20, rng))
    assert len(path) == 20
    x, fx, g, step, state = path[0]
    np.testing.assert_allclose(x, x0)
    np.testing.assert_allclose(fx, 0.5 * np.sum(h * x0**2, axis=1))
    np.testing.assert_allclose(g, h * x0)
    np.testing.assert_allclose(step, -lr * np.sign(g))  # Adam's first step
    np.testing.assert_allclose(path[1][0], x0 + step)
    for x, fx, g, step, state in path:
        m_hat, nu_hat = theory.adam_moments(state, b1, b2)
        direction, eta2 = theory.weighted_sign(m_hat, nu_hat)
        np.testing.assert_allclose(step, -lr * direction, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(eta2, nu_hat / m_hat**2 - 1, rtol=1e-9, atol=1e-12)
    # a constant gradient has m_hat = g and nu_hat = g^2: eta^2 = 0 exactly (up to rounding)
    const = list(fg.descent.iterate(theory.linear(h), arm, x0, 5, rng))
    _, eta2 = theory.weighted_sign(*theory.adam_moments(const[-1][4], b1, b2))
    np.testing.assert_allclose(eta2, 0.0, atol=1e-12)


def test_noisy_oracle_is_the_gradient_plus_gaussian_noise():
    rng = np.random.default_rng(13)
    h = np.array([1.0, 2.0])
    f = theory.quadratic(h)
    x = np.tile([1.0, -1.0], (200_000, 1))
    arm = fg.descent.Arm(fg.optimizers.sgd(1.0), theory.noisy_oracle(3.0), "gaussian")
    (_, _, g, step, _), = fg.descent.iterate(f, arm, x, 1, rng)
    assert np.all(np.abs(zscore(g, h * x[0])) < Z)
    np.testing.assert_allclose(g.std(axis=0), 3.0, rtol=0.01)
    np.testing.assert_allclose(step, -g)


# --- SGD with a decreasing step on a quadratic with noisy samples ----------------------------


@pytest.mark.parametrize("x0", [1.0, np.array([0.5, -1.0, 2.0])])
def test_sgd_mean_loss_without_noise_is_gradient_descent(x0):
    # sigma = 0 and true gradients: x_t = prod_s (1 - eta_s h) x_0 exactly
    h, c, t0, steps = np.array([1.0, 2.0, 3.0]), 0.5, 4, 30
    factors = np.cumprod(1.0 - c / (np.arange(steps) + t0)[:, None] * h, axis=0)
    x = np.vstack([np.ones(3), factors]) * x0
    np.testing.assert_allclose(theory.sgd_mean_loss(h, 0.0, c, t0, steps, "true", x0), 0.5 * np.sum(h * x**2, axis=-1),
                               rtol=1e-12)


@pytest.mark.parametrize("gradient", ["true", "forward"])
def test_sgd_mean_loss_first_step_by_enumeration(gradient):
    # E f(x_1) over all 2^n Rademacher tangents, and over xi ~ N(0, sigma^2 I) in closed form:
    # x_1 = y + eta (xi . v) v (forward) or y + eta xi (true), with y the noise-free step, so
    # E f(x_1) = f(y) + eta^2 sigma^2 / 2 * sum_i h_i E[(xi . v)^2 v_i^2 / sigma^2] = ... n sum h (forward), sum h (true)
    h, x0, sigma, c, t0 = np.array([1.0, 1.5, 2.5, 4.0]), np.array([1.0, -2.0, 0.5, 3.0]), 0.7, 1.0, 9
    eta, n = c / t0, h.size
    f = theory.quadratic(h)
    if gradient == "forward":
        v = all_signs(n).astype(float)
        expected = np.mean(f(x0 - eta * (v @ (h * x0))[:, None] * v)) + 0.5 * eta**2 * sigma**2 * n * h.sum()
    else:
        expected = f((1 - eta * h) * x0) + 0.5 * eta**2 * sigma**2 * h.sum()
    assert theory.sgd_mean_loss(h, sigma, c, t0, 1, gradient, x0)[1] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("gradient", ["true", "forward"])
def test_sgd_rate_constant_is_the_limit_of_t_times_the_loss(gradient):
    h, sigma, c = np.array([1.0, 1.2, 1.5]), 0.8, 2.0
    t0, steps = 40, 200_000
    loss = theory.sgd_mean_loss(h, sigma, c, t0, steps, gradient)
    # the next term of the expansion is O(1/t): relative 1e-3 at t = 2e5 is ample
    assert (steps + t0) * loss[-1] == pytest.approx(theory.sgd_rate_constant(h, sigma, c, gradient), rel=1e-3)


def test_sgd_rate_constant_ratio_is_n():
    h = np.linspace(1.0, 3.0, 7)
    ratio = theory.sgd_rate_constant(h, 1.3, 0.9, "forward") / theory.sgd_rate_constant(h, 1.3, 0.9, "true")
    assert ratio == pytest.approx(7.0, rel=1e-12)


def test_sgd_rate_constant_needs_a_large_enough_step():
    with pytest.raises(ValueError, match="2 c mu"):
        theory.sgd_rate_constant([0.5, 1.0], 1.0, 1.0)
    with pytest.raises(ValueError, match="gradient"):
        theory.sgd_mean_loss([1.0], 1.0, 1.0, 1, 3, "sphere")
