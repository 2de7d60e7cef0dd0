"""Tests of COCO's bbob functions (forwardgrad.objectives.bbob) against COCO's C code (cocoex).

Every function, instances 1-15, dimensions 2, 3, 5, 10, 20 and 40: values at seeded random
points of [-5, 5]^d and at our x_opt within 1e-9 relative of cocoex's, and cocoex's value at our
x_opt equal to our f_opt. cocoex is needed by these tests only (and by the COCO logging checks).
"""

import numpy as np
import pytest

import forwardgrad as fg
from forwardgrad.engines import has_jax, load_jax
from forwardgrad.objectives import bbob

cocoex = pytest.importorskip("cocoex", reason="cocoex (coco-experiment) is not installed: "
                             "pip install -r requirements.txt")

DIMS = (2, 3, 5, 10, 20, 40)
RTOL = 1e-9


def cocoex_problems():
    suite = cocoex.Suite("bbob", "instances: 1-15", "dimensions: " + ",".join(map(str, DIMS)))
    return suite


def test_every_function_instance_and_dimension_matches_cocoex():
    rng = np.random.default_rng(20090)
    seen = set()
    for problem in cocoex_problems():
        f, i, d = problem.id_function, problem.id_instance, problem.dimension
        obj = fg.objectives.get(f"bbob/f{f}", instance=i)
        x_star, f_star = obj.minimum(d)
        X = np.vstack([rng.uniform(-5, 5, (5, d)), x_star])
        ref = np.array([problem(x) for x in X])
        np.testing.assert_allclose(obj.f(X), ref, rtol=RTOL, atol=0, err_msg=f"f{f} i{i} d{d}")
        assert abs(ref[-1] - f_star) <= 1e-12 * max(1.0, abs(f_star)), (f, i, d, ref[-1], f_star)
        seen.add((f, i, d))
    assert seen == {(f, i, d) for f in bbob.FUNCTIONS for i in range(1, 16) for d in DIMS}


def test_out_of_box_points_match_cocoex():
    """The penalties and boundary handling (f4, f5, f6, f7, f16-f24) outside [-5, 5]^d."""
    rng = np.random.default_rng(7)
    suite = cocoex.Suite("bbob", "instances: 1-3", "dimensions: 2,10")
    for problem in suite:
        obj = fg.objectives.get(f"bbob/f{problem.id_function}", instance=problem.id_instance)
        X = rng.uniform(-9, 9, (4, problem.dimension))
        np.testing.assert_allclose(obj.f(X), [problem(x) for x in X], rtol=RTOL, atol=0)


def test_random_generator_is_cocos_park_miller():
    """Park and Miller's minimal standard: 16807^k mod (2^31 - 1) from seed 1 gives 1043618065
    at k = 10000; the generator's raw states follow that recurrence."""
    state = 1
    for _ in range(10000):
        t = state // 127773
        state = 16807 * (state - t * 127773) - 2836 * t
        state += 2147483647 if state < 0 else 0
    assert state == 1043618065
    u = bbob.uniform(1000, 12)
    assert u.shape == (1000,) and np.all((u > 0) & (u <= 1))
    np.testing.assert_array_equal(u, bbob.uniform(1000, 12))


@pytest.mark.parametrize("d", [2, 7])
def test_rotations_are_orthogonal(d):
    R = bbob.rotation(10003, d)
    np.testing.assert_allclose(R @ R.T, np.eye(d), atol=1e-14)


def test_registry_names_and_errors():
    assert bbob.names() == [f"bbob/f{i}" for i in range(1, 25)]
    obj = fg.objectives.get("bbob/f8", instance=3)
    assert obj is fg.objectives.get("bbob/f8/i3") and obj.name == "bbob/f8/i3"
    assert fg.objectives.get("bbob/f8").name == "bbob/f8/i1"
    lower, upper = obj.bounds(5)
    assert np.all(lower == -5) and np.all(upper == 5)
    assert not obj.accepts(1) and obj.accepts(40)
    for bad in ("bbob/f25", "bbob/fx", "bbob/f8/i0", "bbob/f8/i2/x"):
        with pytest.raises(KeyError):
            fg.objectives.get(bad)
    with pytest.raises(ValueError, match="instance= is for bbob"):
        fg.objectives.get("sphere", instance=2)
    with pytest.raises(ValueError, match="d >= 2"):
        obj.f(np.zeros((3, 1)))
    assert "bbob/f8" not in fg.objectives.names()  # the paper's collection stays as it was


def finite_difference(f, x, v, h=1e-6):
    return (f(x + h * v) - f(x - h * v)) / (2 * h)


@pytest.mark.parametrize("function", [f for f in bbob.FUNCTIONS if f not in bbob.NOT_DIFFERENTIABLE])
def test_autograd_directional_derivatives_match_finite_differences(function):
    obj = fg.objectives.get(f"bbob/f{function}", instance=2)
    rng = np.random.default_rng(function)
    x = rng.uniform(-4, 4, (6, 5))
    v = rng.standard_normal((6, 5))
    fx, g = fg.oracles.true_gradient(obj.f, x)
    np.testing.assert_allclose(fx, obj.f(x), rtol=1e-12)
    h = 1e-9 if function == 16 else 1e-6  # Weierstrass oscillates at frequencies up to 2 pi 3^11
    np.testing.assert_allclose(np.sum(g * v, axis=-1), finite_difference(obj.f, x, v, h),
                               rtol=1e-4, atol=1e-4 * np.max(np.abs(g)))


@pytest.mark.skipif(not has_jax(), reason="JAX is not installed")
@pytest.mark.parametrize("function", bbob.FUNCTIONS)
def test_jax_engine_matches_autograd(function):
    load_jax()
    obj = fg.objectives.get(f"bbob/f{function}", instance=4)
    rng = np.random.default_rng(100 + function)
    x = rng.uniform(-5, 5, (5, 10))
    v = rng.standard_normal((5, 10))
    fa, ga = fg.oracles.forward_gradient(obj.f, x, v)
    fj, gj = fg.oracles.forward_gradient(obj.f, x, v, engine="jax")
    np.testing.assert_allclose(np.asarray(fj), fa, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(gj), ga, rtol=1e-6, atol=1e-9 * np.max(np.abs(ga)))
    _, ta = fg.oracles.true_gradient(obj.f, x)
    _, tj = fg.oracles.true_gradient(obj.f, x, engine="jax")
    np.testing.assert_allclose(np.asarray(tj), ta, rtol=1e-6, atol=1e-9 * np.max(np.abs(ta)))


@pytest.mark.parametrize("function", bbob.FUNCTIONS)
def test_stacked_instances_are_each_instance_minus_its_f_opt(function):
    d, instances = 4, (2, 5, 9)
    f = bbob.stacked(function, instances, d)
    x = np.random.default_rng(function).uniform(-5, 5, (2 * len(instances), d))
    expected = [fg.objectives.get(f"bbob/f{function}", instance=instances[r % 3]).f(x[r])
                - bbob.parameters(function, instances[r % 3], d)["f_opt"] for r in range(len(x))]
    np.testing.assert_allclose(f(x), expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="stacked bbob"):
        f(x[:4])
