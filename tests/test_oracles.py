import numpy as np
import pytest

from forwardgrad import oracles, tangents
from helpers import quadratic, rosen

ENGINES = ["autograd", "jax"]


def _grad_quadratic(x):
    d = x.shape[-1]
    g = 2 * np.arange(1, d + 1) * x
    g[..., 0] += np.cos(x[..., 0])
    return g


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
def test_true_gradient_shapes_and_values(engine, batch):
    x = np.random.default_rng(0).normal(size=batch + (5,))
    fx, g = oracles.true_gradient(quadratic, x, engine=engine)
    assert fx.shape == batch and g.shape == x.shape
    np.testing.assert_allclose(g, _grad_quadratic(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fx, quadratic(x), rtol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_batched_equals_row_by_row(engine):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 4))
    v = tangents.gaussian(rng, x.shape)
    _, g_true = oracles.true_gradient(rosen, x, engine=engine)
    _, g_fwd = oracles.forward_gradient(rosen, x, v, engine=engine)
    for r in range(len(x)):
        _, g_row = oracles.true_gradient(rosen, x[r], engine=engine)
        _, f_row = oracles.forward_gradient(rosen, x[r], v[r], engine=engine)
        np.testing.assert_allclose(g_true[r], g_row, rtol=1e-12)
        np.testing.assert_allclose(g_fwd[r], f_row, rtol=1e-12)


def test_forward_gradient_formula():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 3))
    v = tangents.rademacher(rng, x.shape)
    _, g = oracles.forward_gradient(quadratic, x, v)
    expected = np.sum(_grad_quadratic(x) * v, axis=-1, keepdims=True) * v
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_multi_tangent_is_mean_of_single_forward_gradients():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 6))
    v = tangents.sphere(rng, (5,) + x.shape)
    fx, g = oracles.forward_gradient(rosen, x, v)
    singles = [oracles.forward_gradient(rosen, x, v[j])[1] for j in range(5)]
    np.testing.assert_allclose(g, np.mean(singles, axis=0), rtol=1e-12)
    np.testing.assert_allclose(fx, rosen(x))


@pytest.mark.parametrize("law", ["rademacher", "gaussian", "sphere", "uniform", "laplace", "haar", "rotated"])
def test_monte_carlo_mean_is_the_gradient(law):
    rng = np.random.default_rng(4)
    d, n = 5, 60_000
    x0 = np.array([0.3, -0.2, 0.5, 0.1, -0.4])
    draw = (
        tangents.rotated(tangents.rademacher, tangents.haar_orthogonal(rng, (d,)))
        if law == "rotated"
        else tangents.get(law)
    )
    x = np.broadcast_to(x0, (n, d))
    _, g = oracles.forward_gradient(rosen, x, draw(rng, (n, d)))
    _, grad = oracles.true_gradient(rosen, x0)
    se = g.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(g.mean(axis=0) - grad) < 5 * se)


@pytest.mark.parametrize("law,factor", [("rademacher", -1), ("sphere", -1), ("haar", -1), ("gaussian", 1)])
def test_mean_squared_deviation(law, factor):
    """E||g - grad f||^2 = (n - 1)||grad f||^2 for minimal laws and (n + 1)||grad f||^2 for Gaussian."""
    rng = np.random.default_rng(5)
    d, n = 8, 60_000
    x0 = rng.normal(size=d) * 0.5
    x = np.broadcast_to(x0, (n, d))
    _, g = oracles.forward_gradient(rosen, x, tangents.get(law)(rng, (n, d)))
    _, grad = oracles.true_gradient(rosen, x0)
    sq = np.sum((g - grad) ** 2, axis=-1)
    expected = (d + factor) * np.sum(grad**2)
    assert abs(sq.mean() - expected) < 5 * sq.std() / np.sqrt(n)


@pytest.mark.parametrize("k", [1, 3])
def test_engines_agree(k):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(7, 10))
    v = tangents.gaussian(rng, (k, 7, 10) if k > 1 else (7, 10))
    for oracle, args in [(oracles.true_gradient, (x,)), (oracles.forward_gradient, (x, v))]:
        fa, ga = oracle(rosen, *args, engine="autograd")
        fj, gj = oracle(rosen, *args, engine="jax")
        np.testing.assert_allclose(fj, fa, rtol=1e-10)
        np.testing.assert_allclose(gj, ga, rtol=1e-10, atol=1e-10)


def test_bad_input():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="tangent shape"):
        oracles.forward_gradient(rosen, x, np.ones((3, 5)))
    with pytest.raises(ValueError, match="non-finite"):
        oracles.true_gradient(rosen, np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="non-finite"):
        oracles.forward_gradient(rosen, x, np.full((3, 4), np.inf))
    with pytest.raises(ValueError, match="scalar"):
        oracles.true_gradient(rosen, 1.0)
    with pytest.raises(ValueError, match="unknown engine"):
        oracles.true_gradient(rosen, x, engine="torch")


def _mc(estimate, n=60_000, d=6, seed=7):
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=d) * 0.5
    x = np.broadcast_to(x0, (n, d))
    _, grad = oracles.true_gradient(rosen, x0)
    return estimate(rng, x), grad


@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("law", ["rademacher", "gaussian"])
def test_projected_estimate_is_unbiased(k, law):
    g, grad = _mc(lambda rng, x: oracles.projected_estimate(rosen, x, tangents.get(law)(rng, (k,) + x.shape))[1])
    se = g.std(axis=0) / np.sqrt(len(g))
    assert np.all(np.abs(g.mean(axis=0) - grad) < 5 * se)


def test_projected_with_d_tangents_is_exact():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(3, 4))
    _, g = oracles.projected_estimate(rosen, x, tangents.gaussian(rng, (4,) + x.shape))
    np.testing.assert_allclose(g, 4 * oracles.true_gradient(rosen, x)[1] / 4, rtol=1e-9)


def test_projected_k1_rademacher_is_the_forward_gradient():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(5, 4))
    v = tangents.rademacher(rng, x.shape)
    np.testing.assert_allclose(oracles.projected_estimate(rosen, x, v)[1], oracles.forward_gradient(rosen, x, v)[1],
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.1])
def test_guided_estimate_is_unbiased(alpha):
    def estimate(rng, x):
        u = np.broadcast_to(np.array([1.0, -2.0, 0.0, 0.5, 1.0, 0.0]), x.shape)  # a rough guess
        v = oracles.guided_tangent(rng, u, alpha, x.shape)
        return oracles.guided_estimate(rosen, x, v, u, alpha)[1]

    g, grad = _mc(estimate)
    se = g.std(axis=0) / np.sqrt(len(g))
    assert np.all(np.abs(g.mean(axis=0) - grad) < 5 * se)


def test_guided_tangent_covariance():
    rng = np.random.default_rng(10)
    d, n, alpha = 4, 200_000, 0.3
    u = np.broadcast_to(np.array([3.0, 0.0, 4.0, 0.0]), (n, d))
    v = oracles.guided_tangent(rng, u, alpha, u.shape)
    u_hat = np.array([0.6, 0.0, 0.8, 0.0])
    sigma = alpha / d * np.eye(d) + (1 - alpha) * np.outer(u_hat, u_hat)
    outer = v[:, :, None] * v[:, None, :]
    assert np.all(np.abs(outer.mean(axis=0) - sigma) < 5 * outer.std(axis=0) / np.sqrt(n) + 1e-12)


def test_finite_difference_bias_is_first_order():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4, 5))
    v = tangents.rademacher(rng, x.shape)
    exact = oracles.forward_gradient(rosen, x, v)[1]
    errors = [np.abs(oracles.finite_difference_estimate(rosen, x, v, eps)[1] - exact).max() for eps in (1e-2, 1e-3)]
    assert 5 < errors[0] / errors[1] < 20  # O(eps): ten times smaller for a ten times smaller step
    fx, _ = oracles.finite_difference_estimate(rosen, x, v, 1e-3)
    np.testing.assert_allclose(fx, rosen(x))


def test_a_complex_point_is_refused():
    with pytest.raises(TypeError, match="real"):
        oracles.true_gradient(lambda x: (x**2).sum(axis=-1), np.array([1.0 + 2.0j, 0.5]))
    with pytest.raises(TypeError, match="real"):
        oracles.forward_gradient(lambda x: (x**2).sum(axis=-1), np.ones(2), np.array([1.0, 1j]))


@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_biased_guided_estimate_has_mean_d_sigma_grad(alpha):
    u = np.array([1.0, -2.0, 0.0, 0.5, 1.0, 0.0])
    u_hat = u / np.linalg.norm(u)

    def estimate(rng, x):
        v = oracles.guided_tangent(rng, np.broadcast_to(u, x.shape), alpha, x.shape)
        return oracles.biased_guided_estimate(rosen, x, v)[1]

    g, grad = _mc(estimate)
    d = u.size
    expected = alpha * grad + d * (1 - alpha) * (u_hat @ grad) * u_hat  # d Sigma grad
    se = g.std(axis=0) / np.sqrt(len(g))
    assert np.all(np.abs(g.mean(axis=0) - expected) < 5 * se)
    assert oracles.get("guided_biased").tangents == "guided"
