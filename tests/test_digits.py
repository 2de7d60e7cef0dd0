import numpy as np
import pytest
from autograd.test_util import check_grads

from forwardgrad import oracles, optimizers
from forwardgrad.experiments import digits as nets

NETS = [nets.logistic_regression(), nets.mlp(7)]


@pytest.fixture(scope="module")
def data():
    return nets.load_digits(seed=0)


def _small(net, rng, runs=3):
    return nets.init_params(rng, net, runs)


def test_load_digits_split_is_seeded_stratified_and_standardised(data):
    assert data.x_train.shape == (1347, 64) and data.x_test.shape == (450, 64)
    assert set(np.unique(data.y_train)) == set(range(10))
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-12)
    std = data.x_train.std(axis=0)
    assert np.all((np.abs(std - 1) < 1e-12) | (std == 0))
    # stratified: every class keeps its share of the whole set within one example
    counts = np.bincount(data.y_test, minlength=10)
    whole = np.bincount(np.concatenate([data.y_train, data.y_test]), minlength=10)
    assert np.all(np.abs(counts - 0.25 * whole) <= 1)
    again = nets.load_digits(seed=0)
    np.testing.assert_array_equal(again.x_test, data.x_test)
    other = nets.load_digits(seed=1)
    assert not np.array_equal(other.y_test, data.y_test)


def test_parameter_counts():
    assert nets.logistic_regression().n_params == 650
    assert nets.mlp(64).n_params == 64 * 64 + 64 + 64 * 10 + 10
    theta = np.arange(nets.mlp(3, features=4, classes=2).n_params, dtype=float)
    (w1, b1), (w2, b2) = nets.unflatten(theta, (4, 3, 2))
    assert w1.shape == (4, 3) and b1.shape == (3,) and w2.shape == (3, 2) and b2.shape == (2,)
    np.testing.assert_array_equal(np.concatenate([w1.ravel(), b1, w2.ravel(), b2]), theta)
    with pytest.raises(ValueError, match="parameters"):
        nets.unflatten(theta[:-1], (4, 3, 2))


def test_cross_entropy_of_zero_parameters_is_log_classes(data):
    theta = np.zeros((2, nets.logistic_regression().n_params))
    loss = nets.cross_entropy(theta, data.x_train, data.y_train, (64, 10))
    np.testing.assert_allclose(loss, np.log(10.0), rtol=1e-12)


def test_cross_entropy_against_a_direct_formula(data):
    net = nets.mlp(5)
    theta = _small(net, np.random.default_rng(0), 1)[0]
    x, y = data.x_train[:20], data.y_train[:20]
    (w1, b1), (w2, b2) = nets.unflatten(theta, net.sizes)
    z = np.tanh(x @ w1 + b1) @ w2 + b2
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(20), y]))
    np.testing.assert_allclose(nets.cross_entropy(theta, x, y, net.sizes), expected, rtol=1e-12)
    np.testing.assert_allclose(nets.accuracy(theta, x, y, net.sizes), np.mean(z.argmax(1) == y))


@pytest.mark.parametrize("net", NETS, ids=["logreg", "mlp"])
def test_gradients_against_finite_differences(net, data):
    theta = _small(net, np.random.default_rng(1), 2)
    f = nets.loss_function(net, data.x_train[:30], data.y_train[:30])
    check_grads(f, modes=["fwd", "rev"], order=1)(theta)


@pytest.mark.parametrize("net", NETS, ids=["logreg", "mlp"])
def test_batched_over_runs_equals_run_by_run(net, data):
    rng = np.random.default_rng(2)
    theta = _small(net, rng, 4)
    idx = rng.integers(0, len(data.y_train), size=(4, 16))
    xb, yb = data.x_train[idx], data.y_train[idx]  # one minibatch per run
    loss = nets.cross_entropy(theta, xb, yb, net.sizes)
    _, g = oracles.true_gradient(lambda t: nets.cross_entropy(t, xb, yb, net.sizes), theta)
    for r in range(4):
        f_r = nets.loss_function(net, xb[r], yb[r])
        np.testing.assert_allclose(loss[r], f_r(theta[r]), rtol=1e-12)
        np.testing.assert_allclose(g[r], oracles.true_gradient(f_r, theta[r])[1], rtol=1e-10, atol=1e-14)
    # k stacked copies (multi-tangent forward gradients) broadcast against per-run minibatches
    stacked = nets.cross_entropy(np.stack([theta, 2 * theta]), xb, yb, net.sizes)
    np.testing.assert_allclose(stacked[1], nets.cross_entropy(2 * theta, xb, yb, net.sizes), rtol=1e-12)


def test_engines_agree(data):
    net = nets.mlp(6)  # one compile per oracle: the MLP contains the logistic regression's layer
    rng = np.random.default_rng(3)
    theta = _small(net, rng, 3)
    v = rng.standard_normal((4,) + theta.shape)
    f = nets.loss_function(net, data.x_train[:40], data.y_train[:40])
    fa, ga = oracles.true_gradient(f, theta)
    fj, gj = oracles.true_gradient(f, theta, engine="jax")
    np.testing.assert_allclose(fj, fa, rtol=1e-10)
    np.testing.assert_allclose(gj, ga, rtol=1e-10, atol=1e-13)
    _, fwd_a = oracles.forward_gradient(f, theta, v)
    _, fwd_j = oracles.forward_gradient(f, theta, v, engine="jax")
    np.testing.assert_allclose(fwd_j, fwd_a, rtol=1e-10, atol=1e-13)
    loss_j, acc_j = nets.evaluate(net, data, theta, engine="jax")
    loss_a, acc_a = nets.evaluate(net, data, theta)
    np.testing.assert_allclose(loss_j, loss_a, rtol=1e-10)
    np.testing.assert_allclose(acc_j, acc_a, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(optimizers.OPTIMIZERS))
def test_optimizer_steps_are_linear_in_lr(name):
    # train() builds optimizers at lr 1 and scales their steps per run: exact only if this holds
    rng = np.random.default_rng(4)
    grads = rng.normal(size=(3, 2, 5)) * 10.0 ** rng.integers(-3, 3, size=(3, 2, 5))
    scaled, unit = optimizers.get(name, lr=0.037), optimizers.get(name, lr=1.0)
    s_scaled, s_unit = scaled.init(grads[0]), unit.init(grads[0])
    for g in grads:
        d_scaled, s_scaled = scaled.update(g, s_scaled)
        d_unit, s_unit = unit.update(g, s_unit)
        np.testing.assert_allclose(d_scaled, 0.037 * d_unit, rtol=1e-14)
        for a, b in zip(s_scaled, s_unit):
            np.testing.assert_array_equal(a, b)


def test_training_is_reproducible_and_seeded(data):
    kwargs = dict(optimizer="adam", lrs=(1e-2, 1e-3), gradient="forward", k=2, steps=20, eval_every=10,
                  batch_size=8, repeats=2, engine="autograd")
    net = nets.mlp(4)
    a = nets.train(net, data, seed=5, **kwargs)
    b = nets.train(net, data, seed=5, **kwargs)
    c = nets.train(net, data, seed=6, **kwargs)
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    assert not np.allclose(a.theta, c.theta)
    assert a.train_loss.shape == a.test_accuracy.shape == (3, 4)
    np.testing.assert_array_equal(a.lr, [1e-2, 1e-2, 1e-3, 1e-3])
    np.testing.assert_array_equal(a.repeat, [0, 1, 0, 1])
    # the same repeat starts from the same point whatever its learning rate
    np.testing.assert_array_equal(a.train_loss[0, :2], a.train_loss[0, 2:])
    assert a.chunk_seconds.shape == (2,) and np.all(a.chunk_seconds > 0)
    # evaluating less often changes nothing else
    sparse = nets.train(net, data, seed=5, eval_steps=[0, 20], **kwargs)
    np.testing.assert_array_equal(sparse.steps, [0, 20])
    np.testing.assert_array_equal(sparse.train_loss, a.train_loss[[0, 2]])
    np.testing.assert_array_equal(sparse.theta, a.theta)


def test_true_gradient_training_agrees_across_engines_and_reruns(data):
    kwargs = dict(optimizer="sgd", lrs=(0.1, 0.5), gradient="true", steps=30, eval_every=10,
                  batch_size=16, repeats=2, seed=1)
    net = nets.logistic_regression()
    on_autograd = nets.train(net, data, engine="autograd", **kwargs)
    on_jax = nets.train(net, data, engine="jax", **kwargs)
    again = nets.train(net, data, engine="jax", **kwargs)
    np.testing.assert_allclose(on_jax.theta, on_autograd.theta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(on_jax.train_loss, on_autograd.train_loss, rtol=1e-10)
    np.testing.assert_array_equal(again.theta, on_jax.theta)


def test_forward_training_on_jax_is_reproducible(data):
    kwargs = dict(optimizer="sgd", lrs=(0.01,), gradient="forward", k=3, steps=20, eval_every=10,
                  batch_size=8, repeats=2, engine="jax")
    net = nets.logistic_regression()
    a = nets.train(net, data, seed=3, **kwargs)
    b = nets.train(net, data, seed=3, **kwargs)
    c = nets.train(net, data, seed=4, **kwargs)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.allclose(a.theta, c.theta)


def test_logistic_regression_learns_the_digits(data):
    result = nets.train(nets.logistic_regression(), data, optimizer="sgd", lrs=(0.1,), gradient="true",
                        steps=300, eval_every=100, batch_size=32, repeats=1, engine="autograd")
    assert result.test_accuracy[0, 0] < 0.3  # chance is 0.1; an untrained net is near it
    assert result.test_accuracy[-1, 0] > 0.9
    assert result.train_loss[-1, 0] < 0.5 * result.train_loss[0, 0]


def test_train_rejects_bad_arguments(data):
    net = nets.logistic_regression()
    with pytest.raises(ValueError, match="multiple"):
        nets.train(net, data, steps=15, eval_every=10)
    with pytest.raises(ValueError, match="gradient"):
        nets.train(net, data, gradient="projected", steps=10, eval_every=10)
    with pytest.raises(ValueError, match="learning rates"):
        nets.train(net, data, lrs=(0.1, -1.0), steps=10, eval_every=10)
    with pytest.raises(ValueError, match="k"):
        nets.train(net, data, gradient="forward", k=0, steps=10, eval_every=10)
    with pytest.raises(ValueError, match="eval_steps"):
        nets.train(net, data, steps=20, eval_every=10, eval_steps=[0, 15])


def test_summaries_of_a_result():
    result = nets.TrainResult(
        steps=np.array([0, 10, 20]),
        train_loss=np.array([[2.0, 2.0, 2.0, 2.0], [1.0, 1.5, 0.5, np.nan], [0.4, 0.6, 0.1, np.nan]]),
        test_accuracy=np.array([[0.1, 0.1, 0.1, 0.1], [0.8, 0.95, 0.5, 0.1], [0.92, 0.97, 0.9, 0.1]]),
        lr=np.array([0.1, 0.1, 1.0, 1.0]),
        repeat=np.array([0, 1, 0, 1]),
        theta=np.zeros((4, 1)),
        chunk_seconds=np.array([0.4, 0.2]),
        chunk_steps=10,
    )
    assert nets.best_lr(result) == 0.1  # lr 1.0 has a diverged (NaN) run
    np.testing.assert_array_equal(nets.first_step(result, 0.9), [20, 10])
    np.testing.assert_array_equal(nets.first_step(result, 0.95, lr=1.0), [np.nan, np.nan])
    np.testing.assert_array_equal(nets.first_step(result, 1.2, metric="train_loss"), [10, 20])
    with pytest.raises(ValueError, match="metric"):
        nets.first_step(result, 0.5, metric="loss")
    assert nets.seconds_per_step(result) == pytest.approx(0.2 / (10 * 4))
    # median loss curve at lr 0.1: 2.0, 1.25, 0.5; 1.0 is crossed a third of the way from 10 to 20
    assert nets.steps_to_loss(result, 1.0) == pytest.approx(10 + 10 * (1.25 - 1.0) / 0.75)
    assert nets.steps_to_loss(result, 2.0) == 0.0
    assert np.isnan(nets.steps_to_loss(result, 0.1))
