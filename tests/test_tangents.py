import numpy as np
import pytest

import forwardgrad as fg
from forwardgrad import tangents

D = 4
N = 40_000
LAWS = sorted(tangents.TANGENTS)


def _rotation(d, seed=3):
    return tangents.haar_orthogonal(np.random.default_rng(seed), (d,))


ALL_LAWS = [(name, tangents.TANGENTS[name]) for name in LAWS] + [
    ("rotated_rademacher", tangents.rotated(tangents.rademacher, _rotation(D))),
    ("rotated_gaussian", tangents.rotated(tangents.gaussian, _rotation(D))),
]


@pytest.mark.parametrize("name,law", ALL_LAWS, ids=[n for n, _ in ALL_LAWS])
def test_mean_zero_identity_covariance(name, law):
    v = law(np.random.default_rng(0), (N, D))
    assert v.shape == (N, D)
    mean = v.mean(axis=0)
    se = v.std(axis=0) / np.sqrt(N)
    assert np.all(np.abs(mean) < 5 * se)
    outer = v[:, :, None] * v[:, None, :]
    cov = outer.mean(axis=0)
    se_cov = outer.std(axis=0) / np.sqrt(N)
    assert np.all(np.abs(cov - np.eye(D)) < 5 * se_cov + 1e-12)


@pytest.mark.parametrize("name,law", ALL_LAWS, ids=[n for n, _ in ALL_LAWS])
def test_same_seed_same_draws(name, law):
    a = law(np.random.default_rng(7), (3, 5, D))
    b = law(np.random.default_rng(7), (3, 5, D))
    c = law(np.random.default_rng(8), (3, 5, D))
    assert a.shape == (3, 5, D)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_rademacher_is_plus_minus_one():
    v = tangents.rademacher(np.random.default_rng(1), (100, 7))
    assert set(np.unique(v)) == {-1.0, 1.0}


@pytest.mark.parametrize("d", [1, 3, 50])
def test_sphere_has_norm_sqrt_d(d):
    v = tangents.sphere(np.random.default_rng(2), (20, d))
    np.testing.assert_allclose(np.linalg.norm(v, axis=-1), np.sqrt(d), rtol=1e-12)


def test_haar_orthogonal_is_orthogonal_and_haar():
    q = tangents.haar_orthogonal(np.random.default_rng(4), (20_000, 3))
    np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(3), q.shape), atol=1e-12)
    # Under Haar measure on O(3), E[q] = 0 and E[trace q] = 0, E[trace(q)^2] = 1.
    tr = np.trace(q, axis1=-2, axis2=-1)
    assert abs(tr.mean()) < 5 * tr.std() / np.sqrt(len(tr))
    assert abs((tr**2).mean() - 1) < 5 * (tr**2).std() / np.sqrt(len(tr))


def test_haar_rademacher_keeps_norm():
    v = tangents.TANGENTS["haar"](np.random.default_rng(5), (10, 6))
    np.testing.assert_allclose(np.linalg.norm(v, axis=-1), np.sqrt(6), rtol=1e-12)


def test_rotated_rejects_non_orthogonal():
    with pytest.raises(ValueError, match="orthogonal"):
        tangents.rotated(tangents.rademacher, np.ones((3, 3)))
    law = tangents.rotated(tangents.rademacher, np.eye(3))
    with pytest.raises(ValueError, match="dimension"):
        law(np.random.default_rng(0), (2, 4))


def test_unknown_law_lists_valid_names():
    with pytest.raises(KeyError, match="rademacher") as err:
        tangents.get("rademaker")
    assert "Did you mean" in str(err.value)


def test_bad_shape():
    with pytest.raises(ValueError):
        tangents.rademacher(np.random.default_rng(0), (0, 3))


@pytest.mark.parametrize("name", LAWS)
def test_jax_stream_draws_have_the_law(name):
    jax = fg.engines.load_jax()
    stream = tangents.JaxStream(jax.random.PRNGKey(0))
    v = np.asarray(tangents.TANGENTS[name](stream, (N, D)))
    mean = v.mean(axis=0)
    assert np.all(np.abs(mean) < 5 * v.std(axis=0) / np.sqrt(N))
    second = (v**2).mean(axis=0)
    assert np.all(np.abs(second - 1) < 5 * (v**2).std(axis=0) / np.sqrt(N) + 1e-12)


def test_jax_signs_are_fair_and_unpacked_per_position():
    jax = fg.engines.load_jax()
    v = np.asarray(tangents.JaxStream(jax.random.PRNGKey(1)).signs((5000, 64)))
    assert set(np.unique(v)) == {-1.0, 1.0}
    # every bit position of the 32-bit words is fair and positions are uncorrelated
    p = (v > 0).mean(axis=0)
    assert np.all(np.abs(p - 0.5) < 5 * 0.5 / np.sqrt(5000))
    c = np.corrcoef(v.T)[np.triu_indices(64, 1)]
    assert np.max(np.abs(c)) < 6 / np.sqrt(5000)


@pytest.mark.parametrize("law", sorted(tangents.TANGENTS))
@pytest.mark.parametrize("bad", [0, None, np.random.RandomState(0)], ids=["int", "none", "randomstate"])
def test_every_law_refuses_a_generator_it_cannot_use(law, bad):
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        tangents.TANGENTS[law](bad, (2, 3))


@pytest.mark.parametrize("shape", [2.7, (2, 2.5), True, (3, 0)])
def test_a_shape_must_be_positive_whole_numbers(shape):
    with pytest.raises(ValueError, match="shape"):
        tangents.rademacher(np.random.default_rng(0), shape)


def test_counter_streams_are_per_run_and_engine_independent():
    keys = np.random.default_rng(1).integers(0, 2**63, 12, dtype=np.uint64)
    batch = tangents.rademacher(tangents.CounterStream(keys, 7), (3, 12, 20))
    alone = tangents.rademacher(tangents.CounterStream(keys[5:6], 7), (3, 1, 20))
    np.testing.assert_array_equal(batch[:, 5], alone[:, 0])  # a run draws the same alone or in a batch
    reordered = tangents.gaussian(tangents.CounterStream(keys[::-1], 7), (12, 20))
    np.testing.assert_array_equal(reordered[::-1], tangents.gaussian(tangents.CounterStream(keys, 7), (12, 20)))
    other_step = tangents.rademacher(tangents.CounterStream(keys, 8), (3, 12, 20))
    assert (other_step != batch).mean() > 0.4
    stream = tangents.CounterStream(keys, 7)
    first, second = stream.random((12, 5)), stream.random((12, 5))
    assert not np.array_equal(first, second)  # two draws of one step differ
    jax = pytest.importorskip("jax")
    from forwardgrad.engines import load_jax

    jnp = load_jax().numpy
    on_jax = tangents.rademacher(tangents.CounterStream(jnp.asarray(keys), 7, jnp), (3, 12, 20))
    np.testing.assert_array_equal(np.asarray(on_jax), batch)
    normal = tangents.gaussian(tangents.CounterStream(jnp.asarray(keys), 7, jnp), (12, 20))
    np.testing.assert_allclose(np.asarray(normal), tangents.gaussian(tangents.CounterStream(keys, 7), (12, 20)),
                               rtol=1e-14, atol=1e-14)
    del jax


def test_counter_stream_moments():
    keys = np.arange(200, dtype=np.uint64)
    stream = tangents.CounterStream(keys, 3)
    v = tangents.rademacher(stream, (200, 500))
    z = tangents.gaussian(stream, (200, 500))
    u = stream.random((200, 500))
    n = v.size
    assert abs(v.mean()) < 5 / np.sqrt(n) and set(np.unique(v)) == {-1.0, 1.0}
    assert abs(z.mean()) < 5 / np.sqrt(n) and abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(np.mean(z**4) - 3) < 5 * np.sqrt(96 / n)
    assert abs(u.mean() - 0.5) < 5 / np.sqrt(12 * n) and u.min() >= 0 and u.max() < 1


def test_scaled_to_norm_gives_the_radius_and_the_direction():
    x = np.random.default_rng(2).standard_normal((50, 7))
    y = fg.engines.scaled_to_norm(x, 7.0)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.sqrt(7.0), rtol=1e-15)
    np.testing.assert_allclose(y, x * np.sqrt(7.0) / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-15)


# Draws on JAX under XLA's default code generation and capped at AVX2. On a CPU with AVX-512, a
# division by a square root (the old form of the sphere law) differs between the two in its last
# bits, because XLA's AVX-512 reciprocal root is approximate; on a CPU without it both are AVX2.
_DRAWS = """
import sys, numpy as np, forwardgrad as fg
from forwardgrad import oracles, tangents
jnp = fg.engines.load_jax().numpy
keys = jnp.asarray(np.arange(1, 401, dtype=np.uint64) * np.uint64(7919))
jax = sys.modules["jax"]
out = {}
for d in (2, 100):
    out[f"sphere{d}"] = jax.jit(lambda k: tangents.sphere(tangents.CounterStream(k, 3, jnp), (400, d)))(keys)
    out[f"unit{d}"] = jax.jit(lambda k: oracles._unit(tangents.gaussian(tangents.CounterStream(k, 4, jnp), (400, d))))(keys)
np.savez(sys.argv[1], **{k: np.asarray(v) for k, v in out.items()})
"""


def test_sphere_draws_do_not_depend_on_the_isa_xla_targets(tmp_path):
    pytest.importorskip("jax")
    import os
    import subprocess
    import sys

    files = {}
    for name, flags in (("default", ""), ("avx2", "--xla_cpu_max_isa=AVX2")):
        env = {**os.environ, "XLA_FLAGS": flags}
        files[name] = tmp_path / f"{name}.npz"
        subprocess.run([sys.executable, "-c", _DRAWS, str(files[name])], env=env, check=True, timeout=300)
    default, avx2 = np.load(files["default"]), np.load(files["avx2"])
    for key in default:
        np.testing.assert_array_equal(default[key], avx2[key], err_msg=key)
