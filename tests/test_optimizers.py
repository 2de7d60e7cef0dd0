import numpy as np
import pytest

from forwardgrad import optimizers

NAMES = sorted(optimizers.OPTIMIZERS)
LR = 0.01


def _run(opt, g_of_x, x, steps):
    state = opt.init(x)
    for _ in range(steps):
        step, state = opt.update(g_of_x(x), state)
        x = x + step
    return x


def test_sgd_step():
    g = np.array([[1.0, -2.0, 0.5]])
    step, state = optimizers.sgd(LR).update(g, optimizers.sgd(LR).init(g))
    np.testing.assert_allclose(step, -LR * g)
    assert state.count == 1


def test_clipping_clips():
    opt = optimizers.clipped_sgd(LR, clip=1.0)
    g = np.array([[3.0, -0.5, -7.0, 1.0]])
    step, _ = opt.update(g, opt.init(g))
    np.testing.assert_allclose(step, -LR * np.array([[1.0, -0.5, -1.0, 1.0]]))
    assert np.all(np.abs(step) <= LR)


def test_adam_first_step_is_minus_lr_sign():
    g = np.random.default_rng(0).normal(size=(4, 6)) * 10
    opt = optimizers.adam(LR)
    step, _ = opt.update(g, opt.init(g))
    np.testing.assert_allclose(step, -LR * np.sign(g), rtol=1e-6)


def test_adabelief_first_step_closed_form():
    b1, b2, eps = 0.9, 0.999, 1e-8
    g = np.random.default_rng(1).normal(size=(4, 6))
    opt = optimizers.adabelief(LR, b1, b2, eps)
    step, _ = opt.update(g, opt.init(g))
    expected = -LR * g / (np.sqrt(b1**2 * g**2 + eps / (1 - b2)) + eps)
    np.testing.assert_allclose(step, expected, rtol=1e-12)


def test_adam_second_step_by_hand():
    b1, b2, eps = 0.9, 0.999, 1e-8
    g1, g2 = np.array([[1.0, -3.0]]), np.array([[2.0, 1.0]])
    opt = optimizers.adam(LR, b1, b2, eps)
    _, state = opt.update(g1, opt.init(g1))
    step, state = opt.update(g2, state)
    m = (b1 * (1 - b1) * g1 + (1 - b1) * g2) / (1 - b1**2)
    v = (b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2) / (1 - b2**2)
    np.testing.assert_allclose(step, -LR * m / (np.sqrt(v) + eps), rtol=1e-12)


@pytest.mark.parametrize("form", optimizers.EPS_FORMS)
def test_adam_eps_forms_second_step_by_hand(form):
    # eps = 1e-2 and gradients of order 0.1, so that the three forms differ visibly
    b1, b2, eps = 0.9, 0.999, 1e-2
    g1, g2 = np.array([[0.1, -0.3]]), np.array([[0.2, 0.05]])
    opt = optimizers.adam(LR, b1, b2, eps, eps_form=form)
    _, state = opt.update(g1, opt.init(g1))
    step, state = opt.update(g2, state)
    m = (b1 * (1 - b1) * g1 + (1 - b1) * g2) / (1 - b1**2)
    raw = b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2
    scale = {"outside": np.sqrt(raw / (1 - b2**2)) + eps, "inside": np.sqrt(raw / (1 - b2**2) + eps),
             "inside_raw": np.sqrt((raw + eps) / (1 - b2**2))}[form]
    np.testing.assert_allclose(step, -LR * m / scale, rtol=1e-12)
    assert opt.name == ("adam" if form == "outside" else f"adam_eps_{form}")
    assert optimizers.get(opt.name, lr=LR).name == opt.name


def test_adam_eps_forms_agree_for_large_gradients_and_differ_for_small_ones():
    big, small = np.full((1, 3), 10.0), np.full((1, 3), 1e-5)
    steps = {}
    for form in optimizers.EPS_FORMS:
        opt = optimizers.adam(LR, eps_form=form)
        steps[form] = [opt.update(g, opt.init(g))[0] for g in (big, small)]
    for form in ("inside", "inside_raw"):
        np.testing.assert_allclose(steps[form][0], steps["outside"][0], rtol=1e-6)
        # a gradient of 1e-5 is below sqrt(eps) = 1e-4: the root of eps caps the step
        assert np.all(np.abs(steps[form][1]) < 0.2 * np.abs(steps["outside"][1]))
    with pytest.raises(ValueError, match="eps_form"):
        optimizers.adam(LR, eps_form="between")


@pytest.mark.parametrize("name", NAMES)
def test_rows_are_independent_runs(name):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 3))
    grads = [rng.normal(size=(5, 3)) for _ in range(4)]
    opt = optimizers.get(name, lr=LR)
    state, xb = opt.init(x), x.copy()
    for g in grads:
        step, state = opt.update(g, state)
        xb = xb + step
    for r in range(5):
        state_r, xr = opt.init(x[r : r + 1]), x[r : r + 1].copy()
        for g in grads:
            step, state_r = opt.update(g[r : r + 1], state_r)
            xr = xr + step
        np.testing.assert_allclose(xb[r : r + 1], xr, rtol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_minimises_a_convex_quadratic(name):
    scales = np.array([1.0, 2.0, 5.0])
    x0 = np.random.default_rng(3).uniform(-2, 2, size=(4, 3))
    x = _run(optimizers.get(name, lr=0.05), lambda x: 2 * scales * x, x0, 3000)
    f0, f = np.sum(scales * x0**2, axis=-1), np.sum(scales * x**2, axis=-1)
    assert np.all(f < 1e-3 * f0)


@pytest.mark.parametrize("name", NAMES)
def test_update_does_not_mutate(name):
    g = np.ones((2, 3))
    opt = optimizers.get(name, lr=LR)
    state = opt.init(g)
    before = [np.copy(s) for s in state]
    opt.update(g, state)
    for a, b in zip(before, state):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("lr", [0.0, -1.0, np.inf, np.nan])
@pytest.mark.parametrize("name", NAMES)
def test_bad_learning_rate(name, lr):
    with pytest.raises(ValueError, match="lr"):
        optimizers.get(name, lr=lr)


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="b1"):
        optimizers.adam(LR, b1=1.0)
    with pytest.raises(ValueError, match="clip"):
        optimizers.clipped_sgd(LR, clip=0)
    with pytest.raises(KeyError, match="valid optimizers") as err:
        optimizers.get("adma", lr=LR)
    assert "adam" in str(err.value)


@pytest.mark.parametrize("name", NAMES)
def test_engines_give_the_same_steps(name):
    jnp = pytest.importorskip("jax.numpy")
    from forwardgrad.engines import load_jax

    load_jax()
    rng = np.random.default_rng(4)
    grads = [rng.normal(size=(3, 4)) * 5 for _ in range(5)]
    opt = optimizers.get(name, lr=LR)
    sa, sj = opt.init(grads[0]), opt.init(jnp.asarray(grads[0]))
    for g in grads:
        step_a, sa = opt.update(g, sa)
        step_j, sj = opt.update(jnp.asarray(g), sj)
        np.testing.assert_allclose(np.asarray(step_j), step_a, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["sgd", "clipped_sgd", "adam", "adabelief"])
def test_scale_by_row_equal_separate_optimizers(name):
    # steps are proportional to lr: run r of the scaled optimizer moves like optimizer(lr_r)
    rng = np.random.default_rng(0)
    lrs = np.array([0.3, 0.01, 2e-4])
    scaled = optimizers.scale_by_row(optimizers.get(name, lr=1.0), lrs)
    state = scaled.init(np.zeros((3, 4)))
    states = [optimizers.get(name, lr=lr).init(np.zeros((1, 4))) for lr in lrs]
    for _ in range(5):
        g = rng.standard_normal((3, 4)) * 3
        step, state = scaled.update(g, state)
        for r, lr in enumerate(lrs):
            expected, states[r] = optimizers.get(name, lr=lr).update(g[r : r + 1], states[r])
            np.testing.assert_allclose(step[r : r + 1], expected, rtol=1e-12)


def test_scale_by_row_checks_its_inputs():
    with pytest.raises(ValueError):
        optimizers.scale_by_row(optimizers.sgd(1.0), [0.1, -0.1])
    opt = optimizers.scale_by_row(optimizers.sgd(1.0), [0.1, 0.2])
    with pytest.raises(ValueError):
        opt.update(np.ones((3, 2)), opt.init(np.ones((3, 2))))
