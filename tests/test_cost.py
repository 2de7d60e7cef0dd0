import math

import numpy as np
import pandas as pd
import pytest

from forwardgrad import optimizers, oracles
from forwardgrad.experiments import cost as costs
from helpers import rosen

ENGINES = ["autograd", "jax"]


@pytest.mark.parametrize("engine", ENGINES)
def test_measure_modes_shapes_and_units(engine):
    x = np.random.default_rng(0).normal(size=(64, 10))
    frame = costs.measure_modes(rosen, x, engine=engine, repeat=2, min_time=0.001)
    assert list(frame.index) == list(costs.MODES)
    assert np.all(frame["seconds"] > 0) and np.all(frame["seconds"] < 1)
    assert np.all(frame["memory_bytes"] >= 0)
    # the jvp reads x and v, the others x only
    np.testing.assert_array_equal(frame["input_bytes"], [x.nbytes, 2 * x.nbytes, x.nbytes])
    np.testing.assert_allclose(frame["footprint_bytes"], frame["input_bytes"] + frame["memory_bytes"])
    r = costs.ratios(frame)
    assert list(r.index) == ["jvp/f", "vjp/f"] and np.all(r > 0)


def test_jax_memory_plan_counts_the_gradient_output():
    x = np.random.default_rng(1).normal(size=(128, 20))
    frame = costs.measure_modes(rosen, x, engine="jax", repeat=1, min_time=0.001)
    rows = x.shape[0]
    # f returns one value per row; the jvp two (value, derivative); the vjp a value and a gradient
    assert frame.loc["f", "output_bytes"] == 8 * rows
    # (XLA may pad a tuple of outputs by a few bytes)
    assert 2 * 8 * rows <= frame.loc["jvp", "output_bytes"] < 2 * 8 * rows + 64
    assert 8 * rows + x.nbytes <= frame.loc["vjp", "output_bytes"] < 8 * rows + x.nbytes + 64


def test_autograd_memory_off_gives_nan():
    x = np.ones((8, 3))
    frame = costs.measure_modes(rosen, x, repeat=1, min_time=0.0, memory=False)
    assert frame["memory_bytes"].isna().all() and frame["footprint_bytes"].isna().all()


@pytest.mark.parametrize("engine", ENGINES)
def test_true_sgd_step_is_x_minus_lr_grad(engine):
    x = np.random.default_rng(2).normal(size=(5, 4))
    opt = optimizers.sgd(0.1)
    step = costs.step_function(rosen, opt, "true", engine=engine)
    rng = np.random.default_rng(0)
    if engine == "jax":
        import jax

        rng = jax.random.key(0, impl="rbg")
    x_new, state, _ = step(x, opt.init(x), rng)
    _, g = oracles.true_gradient(rosen, x)
    np.testing.assert_allclose(np.asarray(x_new), x - 0.1 * g, rtol=1e-12)
    assert float(state.count) == 1


def test_forward_step_matches_the_forward_gradient_on_autograd():
    x = np.random.default_rng(3).normal(size=(6, 5))
    opt = optimizers.sgd(0.5)
    step = costs.step_function(rosen, opt, "forward", k=3, engine="autograd")
    x_new, _, _ = step(x, opt.init(x), np.random.default_rng(7))
    v = np.random.default_rng(7)
    from forwardgrad import tangents

    v = tangents.rademacher(v, (3,) + x.shape)
    _, g = oracles.forward_gradient(rosen, x, v)
    np.testing.assert_allclose(x_new, x - 0.5 * g, rtol=1e-12)


def test_step_function_rejects_unknown_gradient():
    with pytest.raises(ValueError, match="gradient"):
        costs.step_function(rosen, optimizers.sgd(0.1), "backprop")


@pytest.mark.parametrize("engine", ENGINES)
def test_step_seconds_is_per_run_step(engine):
    x = np.zeros((32, 10))
    s = costs.step_seconds(rosen, x, optimizers.adam(0.01), "forward", engine=engine, repeat=2, min_time=0.001)
    assert 0 < s < 0.01


def test_in_seconds_multiplies_and_keeps_failures():
    index = pd.MultiIndex.from_tuples([("a", 10, 0), ("a", 10, 1), ("b", 10, 0)], names=["function", "dim", "start"])
    evals = pd.DataFrame({"s1": [10.0, math.inf, 4.0], "s2": [2.0, 3.0, 5.0]}, index=index)
    per_step = pd.DataFrame({"s1": [1e-6, 2e-6], "s2": [3e-6, 1e-6]}, index=["a", "b"])
    seconds = costs.in_seconds(evals, per_step)
    np.testing.assert_allclose(seconds["s1"], [1e-5, math.inf, 8e-6])
    np.testing.assert_allclose(seconds["s2"], [6e-6, 9e-6, 5e-6])
    with pytest.raises(ValueError, match="functions"):
        costs.in_seconds(evals, per_step.loc[["a"]])
    # a function where every solver failed needs no step time
    failed = evals.copy()
    failed.loc["b"] = math.inf
    assert np.isinf(costs.in_seconds(failed, per_step.loc[["a"]]).loc["b"]).all().all()
    with pytest.raises(ValueError, match="solvers"):
        costs.in_seconds(evals, per_step[["s1"]])
