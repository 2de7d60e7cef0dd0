r"""Tangent laws: random directions $v$ with $\mathbb{E}[v]=0$ and $\mathbb{E}[v v^\top]=I$.

A tangent law is a function ``(rng, shape) -> v``. The last axis of ``shape`` is the dimension
$d$; the leading axes index independent draws. ``rng`` is a :class:`numpy.random.Generator`, or,
inside the compiled JAX descent, a :class:`JaxStream`; both offer ``standard_normal(size)`` and
``random(size)``, and :func:`signs` draws fair $\pm 1$ from either. Each law is written once
against the array namespace of the draws, so it runs on both engines.

Belouze (2022), Definitions 1, 3, 6 and 8; Baydin et al. (2022) for the Gaussian law.
"""

import difflib
import math

import numpy as np

from forwardgrad.engines import load_jax, namespace


class JaxStream:
    """Random draws from a JAX key, for use while tracing a compiled descent.

    Each draw splits the key; after tracing, ``stream.key`` is the key to carry to the next step.
    Signs are unpacked from 32-bit words, 32 signs per word, since generating random bits
    dominates the cost of a forward-gradient step on the JAX engine.
    """

    def __init__(self, key):
        self.jax = load_jax()
        self.key = key

    def _split(self):
        self.key, sub = self.jax.random.split(self.key)
        return sub

    def standard_normal(self, size):
        return self.jax.random.normal(self._split(), size, dtype="float64")

    def random(self, size):
        return self.jax.random.uniform(self._split(), size, dtype="float64")

    def signs(self, size):
        jnp = self.jax.numpy
        count = math.prod(size)
        words = self.jax.random.bits(self._split(), (-(-count // 32),), dtype="uint32")
        bits = (words[:, None] >> jnp.arange(32, dtype="uint32")) & 1
        return (2.0 * bits.reshape(-1)[:count] - 1.0).reshape(size)


def signs(rng, size):
    """Independent fair signs $\\pm 1$ (float64) of shape ``size``."""
    if isinstance(rng, np.random.Generator):
        return 2.0 * rng.integers(0, 2, size=size, dtype=np.int8) - 1.0
    return rng.signs(tuple(size))


def _check_shape(shape):
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    if len(shape) == 0 or min(shape) < 1:
        raise ValueError(f"a tangent shape needs positive sizes and a last axis d, got {shape}")
    return shape


def rademacher(rng, shape):
    r"""The minimal tangent law: independent centred Rademacher coordinates.

    $v_i = \pm 1$ with probability $1/2$ each; $\mathbb{V}[v_i^2] = 0$, so by Lemma 4 it minimises
    $\mathbb{E}\|g - \nabla f\|^2 = (d-1)\|\nabla f\|^2$ (Property 5). Belouze (2022), Definition 3.
    """
    return signs(rng, _check_shape(shape))


def gaussian(rng, shape):
    r"""$v \sim \mathcal{N}(0, I_d)$, the law of Baydin et al. (2022); MSD $(d+1)\|\nabla f\|^2$."""
    return rng.standard_normal(_check_shape(shape))


def uniform(rng, shape):
    r"""Independent $v_i \sim \mathcal{U}(-\sqrt{3}, \sqrt{3})$: unit variance, $\mathbb{V}[v_i^2]=4/5$."""
    shape = _check_shape(shape)
    return math.sqrt(3.0) * (2.0 * rng.random(shape) - 1.0)


def laplace(rng, shape):
    r"""Independent Laplace coordinates of unit variance (scale $1/\sqrt2$): a heavier tail.

    $\mathbb{E}[v_i^4] = 6$, so $\mathbb{V}[v_i^2] = 5$. Drawn by inverting the CDF of $u \sim
    \mathcal{U}(-\frac12, \frac12)$: $v = -b\,\mathrm{sign}(u)\log(1 - 2|u|)$.
    """
    shape = _check_shape(shape)
    u = rng.random(shape) - 0.5
    xp = namespace(u)
    return -xp.sign(u) * xp.log1p(-2.0 * xp.abs(u)) / math.sqrt(2.0)


def sphere(rng, shape):
    r"""Uniform on the sphere of radius $\sqrt d$: the isotropic extended minimal law (Definition 8)."""
    shape = _check_shape(shape)
    z = rng.standard_normal(shape)
    xp = namespace(z)
    return z * (math.sqrt(shape[-1]) / xp.linalg.norm(z, axis=-1, keepdims=True))


def rotated(law, q):
    r"""The law of $q v$ for a fixed orthogonal $q$ and $v$ drawn from ``law`` (Definition 6).

    Returns a tangent law. ``q`` must be an orthogonal $d \times d$ matrix.
    """
    q = np.asarray(q, dtype=float)
    if q.ndim != 2 or q.shape[0] != q.shape[1] or not np.allclose(q @ q.T, np.eye(len(q)), atol=1e-10):
        raise ValueError("rotated(law, q) needs a square orthogonal matrix q")

    def draw(rng, shape):
        shape = _check_shape(shape)
        if shape[-1] != len(q):
            raise ValueError(f"tangent dimension {shape[-1]} does not match q of size {len(q)}")
        return law(rng, shape) @ q.T

    draw.__name__ = f"rotated_{getattr(law, '__name__', 'law')}"
    return draw


def haar_orthogonal(rng, shape):
    r"""Haar-distributed orthogonal matrices of shape ``(*shape, d, d)`` with ``d = shape[-1]``.

    The QR factors of a Gaussian matrix, with the signs of $\mathrm{diag}(R)$ moved into $Q$ so
    that the law is exactly Haar (Mezzadri 2007; the construction of ``scipy.stats.ortho_group``).
    """
    shape = _check_shape(shape)
    z = rng.standard_normal(shape + (shape[-1],))
    xp = namespace(z)
    q, r = xp.linalg.qr(z)
    return q * xp.sign(xp.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def haar(law=rademacher):
    r"""The law of $q v$ with a fresh Haar-random orthogonal $q$ for every draw (Definition 8).

    With ``law=rademacher`` this is one of the extended minimal laws; its MSD is still
    $(d-1)\|\nabla f\|^2$, since the MSD only depends on $\|v\|$ and $v^\top\nabla f$'s law.
    """

    def draw(rng, shape):
        shape = _check_shape(shape)
        q = haar_orthogonal(rng, shape)
        return (q @ law(rng, shape)[..., None])[..., 0]

    draw.__name__ = f"haar_{getattr(law, '__name__', 'law')}"
    return draw


TANGENTS = {
    "rademacher": rademacher,
    "gaussian": gaussian,
    "sphere": sphere,
    "uniform": uniform,
    "laplace": laplace,
    "haar": haar(rademacher),
}


def get(name):
    """The tangent law registered as ``name``; an unknown name lists the valid ones."""
    if callable(name):
        return name
    try:
        return TANGENTS[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), TANGENTS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KeyError(
            f"unknown tangent law {name!r}; valid laws are {', '.join(sorted(TANGENTS))}.{hint}"
        ) from None
