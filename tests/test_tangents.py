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
