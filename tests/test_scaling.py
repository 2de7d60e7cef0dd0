"""The estimators of the scaling chapter: unbiasedness and variance by Monte Carlo, both engines."""

import numpy as np
import pytest
from autograd import elementwise_grad

import forwardgrad as fg
from forwardgrad import statistics, theory, verdicts
from forwardgrad.experiments import digits as nets
from forwardgrad.experiments import scaling

SIZES = (5, 4, 3, 3)  # two hidden layers: three blocks
DRAWS = 10000


def _problem(seed=0, batch=6):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, SIZES[0]))
    y = rng.integers(0, SIZES[-1], batch)
    theta = nets.init_params(rng, nets.Net(SIZES), 1)[0]
    heads = 0.5 * rng.standard_normal(scaling.n_heads(SIZES))
    return rng, x, y, theta, np.concatenate([theta, heads])


def _true(theta, x, y):
    return fg.oracles.true_gradient(nets.loss_function(nets.Net(SIZES), x, y), theta[None])[1][0]


def _z(samples, expected):
    mean, se = statistics.mean_se(samples)
    return (mean - expected) / se


def test_example_losses_match_cross_entropy():
    _, x, y, theta, _ = _problem()
    z = scaling.forward_pass(theta, x, SIZES)[1][-1]
    assert np.isclose(scaling.example_losses(z, y).mean(), nets.cross_entropy(theta, x, y, SIZES), rtol=1e-13)
    assert np.allclose(z, nets.logits(theta, x, SIZES), rtol=1e-13)


@pytest.mark.parametrize("law", ["rademacher", "gaussian"])
def test_activity_estimate_is_unbiased_with_the_derived_variance(law):
    rng, x, y, theta, _ = _problem()
    units = sum(SIZES[1:])
    u = fg.tangents.TANGENTS[law](rng, (DRAWS, len(y), units))
    _, g = scaling.activity_estimate(theta, x, y, SIZES, u)
    grad = _true(theta, x, y)
    assert verdicts.matches(_z(g, grad)) == "confirmed"
    # the variance formula, from an independent route: the per-example activity gradients by
    # reverse mode on the offsets, and the layer inputs
    loss = scaling.activity_losses(theta, x, y, SIZES)
    a = elementwise_grad(lambda e: loss(e).mean(axis=-1))(np.zeros((len(y), units)))
    inputs = scaling.forward_pass(theta, x, SIZES)[0]
    cuts = np.cumsum((0,) + SIZES[1:])
    predicted = theory.activity_variance([a[:, i:j] for i, j in zip(cuts[:-1], cuts[1:])],
                                         [(h**2).sum(axis=-1) for h in inputs], law)
    assert verdicts.matches(_z(((g - grad) ** 2).sum(axis=-1), predicted)) == "confirmed"
    # and it is not the weight-perturbation variance (P - 1)|g|^2 + ...: a different number
    assert not np.isclose(predicted, (grad.size - 1) * (grad**2).sum(), rtol=0.1)


def test_activity_variance_depends_on_the_law():
    a = [np.ones((2, 3)), np.ones((2, 1))]
    h2 = [np.zeros(2), np.zeros(2)]
    # per example |a|^2 = 4; layer 1: 3*4 -+ 3, layer 2: 1*4 -+ 1; two examples
    assert theory.activity_variance(a, h2, "rademacher") == 2 * (9 + 3)
    assert theory.activity_variance(a, h2, "gaussian") == 2 * (15 + 5)
    with pytest.raises(ValueError):
        theory.activity_variance(a, h2, "sphere")


@pytest.mark.parametrize("law", ["rademacher", "gaussian"])
def test_forward_step_ratio_is_the_second_moment_of_property_5(law):
    rng = np.random.default_rng(3)
    grad = rng.standard_normal(7)
    v = fg.tangents.TANGENTS[law](rng, (DRAWS, 7))
    norm2 = (((v @ grad)[:, None] * v) ** 2).sum(axis=-1) / (grad**2).sum()
    assert verdicts.matches(_z(norm2, theory.forward_step_ratio(7, law))) == "confirmed"
    assert theory.forward_step_ratio(7, "rademacher") == 7.0
    assert theory.forward_step_ratio(9, "rademacher", k=4) == 3.0
    with pytest.raises(ValueError):
        theory.forward_step_ratio(0)


def test_weight_estimate_is_unbiased():
    rng, x, y, theta, _ = _problem()
    v = fg.tangents.rademacher(rng, (DRAWS, theta.size))
    _, g = scaling.weight_estimate(np.broadcast_to(theta, v.shape), x, y, SIZES, v)
    assert verdicts.matches(_z(g, _true(theta, x, y))) == "confirmed"


def test_local_gradient_is_the_blockwise_gradient():
    _, x, y, theta, ext = _problem()
    local = scaling.local_gradient(ext, x, y, SIZES)
    p, last = theta.size, (SIZES[-2] + 1) * SIZES[-1]
    # the last block's local loss is the network's loss
    assert np.allclose(local[p - last:p], _true(theta, x, y)[p - last:], rtol=1e-12)
    # each block against central differences of its own loss, the others' inputs held fixed
    blocks = scaling.block_of(SIZES)
    eps = 1e-6
    for j in range(ext.size):
        e = np.zeros_like(ext)
        e[j] = eps
        up = scaling.local_losses(ext + e, ext, x, y, SIZES)[blocks[j]]
        down = scaling.local_losses(ext - e, ext, x, y, SIZES)[blocks[j]]
        assert np.isclose(local[j], (up - down) / (2 * eps), rtol=1e-6, atol=1e-9)
    # a hidden block's local gradient is not the global one
    assert not np.allclose(local[:p - last], _true(theta, x, y)[:p - last], rtol=0.1)


def test_local_estimate_is_unbiased_for_the_local_gradient():
    rng, x, y, _, ext = _problem()
    v = fg.tangents.rademacher(rng, (DRAWS, ext.size))
    _, g = scaling.local_estimate(np.broadcast_to(ext, v.shape), x, y, SIZES, v)
    assert verdicts.matches(_z(g, scaling.local_gradient(ext, x, y, SIZES))) == "confirmed"


def test_local_guess_estimate_is_the_projection_on_the_local_gradient():
    _, x, y, theta, ext = _problem()
    local = scaling.local_gradient(ext, x, y, SIZES)
    _, g = scaling.local_guess_estimate(ext, x, y, SIZES)
    grad, u = _true(theta, x, y), local[:theta.size]
    assert np.allclose(g[:theta.size], (grad @ u) / (u @ u) * u, rtol=1e-12)
    assert np.allclose(g[theta.size:], local[theta.size:], rtol=1e-12)


def test_both_engines_give_the_same_estimates():
    rng, x, y, theta, ext = _problem()
    u = fg.tangents.rademacher(rng, (3, len(y), sum(SIZES[1:])))
    v = fg.tangents.rademacher(rng, (3, ext.size))
    thetas, exts = np.broadcast_to(theta, (3, theta.size)), np.broadcast_to(ext, (3, ext.size))
    pairs = [
        lambda e: scaling.activity_estimate(thetas, x, y, SIZES, u, e),
        lambda e: scaling.weight_estimate(thetas, x, y, SIZES, v[:, :theta.size], e),
        lambda e: scaling.local_estimate(exts, x, y, SIZES, v, e),
        lambda e: (0.0, scaling.local_gradient(exts, x, y, SIZES, e)),
        lambda e: scaling.local_guess_estimate(exts, x, y, SIZES, e),
    ]
    for pair in pairs:
        (fa, ga), (fj, gj) = pair("autograd"), pair("jax")
        assert np.allclose(np.asarray(fj), fa, rtol=1e-12) and np.allclose(np.asarray(gj), ga, rtol=1e-10, atol=1e-14)


def test_exponent_fit_recovers_a_power_law():
    rng = np.random.default_rng(0)
    p = np.array([100.0, 1000.0, 10000.0])
    ratios = 3.0 * p[:, None] ** 0.5 * np.exp(0.05 * rng.standard_normal((3, 8)))
    e, lower, upper, se = scaling.exponent_fit(p, ratios, 500, np.random.default_rng(1))
    assert lower < 0.5 < upper and abs(e - 0.5) < 0.05 and 0 < se < 0.05
    with pytest.raises(ValueError):
        scaling.exponent_fit(p, np.full((3, 8), np.nan), 10, rng)


def test_tuned_prefers_the_smallest_median_and_counts_censored_runs_as_infinite():
    run = scaling.Run(np.array([0.1, 1.0, 10.0]), np.array([[5.0, 6.0, 7.0], [3.0, np.nan, np.nan], [4.0, 4.0, np.nan]]),
                      100, 100, 2.3)
    lr, steps = scaling.tuned(run)
    assert lr == 10.0 and np.isnan(steps[2])


def test_eval_steps_are_a_geometric_grid_from_zero_to_the_cap():
    marks = scaling.eval_steps(1000)
    assert marks[0] == 0 and marks[1] == 1 and marks[-1] <= 1000 and np.all(np.diff(marks) > 0)
    assert np.all(np.diff(marks[:10]) == 1)  # every step at first
    big = marks[marks >= 40]
    assert np.all(big[1:] / big[:-1] <= 1.05 + 1 / 40)


def test_train_reaches_an_easy_target_and_stops():
    data = nets.load_digits(0)
    run = scaling.train((64, 4, 10), data, "true", (1.0,), 2, target=2.0, cap=200, segment=50)
    assert run.ran == 50 and np.all(run.steps >= 1) and np.all(run.steps <= 50) and run.initial_loss > 2.0


def test_mnist1d_is_generated_locally_and_standardised():
    data = scaling.load_mnist1d()
    assert data.x_train.shape == (4000, 40) and data.x_test.shape == (1000, 40)
    assert np.allclose(data.x_train.mean(axis=0), 0, atol=1e-12) and set(np.unique(data.y_train)) == set(range(10))
    assert np.array_equal(scaling.load_mnist1d().x_train, data.x_train)  # seeded: the same every time
