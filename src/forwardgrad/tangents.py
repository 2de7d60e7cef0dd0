r"""Tangent laws: random directions $v$ with $\mathbb{E}[v]=0$ and $\mathbb{E}[v v^\top]=I$.

A tangent law is a function ``(rng, shape) -> v``. The last axis of ``shape`` is the dimension
$d$; the leading axes index independent draws. ``rng`` is a :class:`numpy.random.Generator`, a
:class:`JaxStream` (a JAX key, while tracing), or a :class:`CounterStream` (one stream per run,
what the lockstep descent uses); all offer ``standard_normal(size)`` and ``random(size)``, and
:func:`signs` draws fair $\pm 1$ from any of them. Each law is written once against the array
namespace of the draws, so it runs on both engines.

Your own law joins the benchmark by the same contract (see :mod:`forwardgrad.plugins`): it
draws from ``rng`` only, through those methods, and returns the requested shape.

Belouze (2022), Definitions 1, 3, 6 and 8; Baydin et al. (2022) for the Gaussian law.
"""

import difflib
import math

import numpy as np

from forwardgrad.engines import load_jax, namespace, scaled_to_norm


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


GOLDEN = 0x9E3779B97F4A7C15  # SplitMix64's increment, 2^64 / golden ratio
MIX = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)  # its two multipliers


def splitmix64(xp, key, counter):
    r"""SplitMix64 (Steele, Lea & Flood 2014) at the state ``key + counter * GOLDEN``, as uint64.

    $z \leftarrow (z \oplus (z \gg 30))\,m_1$, $z \leftarrow (z \oplus (z \gg 27))\,m_2$,
    $z \oplus (z \gg 31)$, all modulo $2^{64}$: for a fixed ``key`` the values at counters
    $0, 1, 2, \dots$ are SplitMix64's output sequence from the seed ``key``. ``xp`` is NumPy or
    jax.numpy (with 64-bit integers); both give the same bits.
    """
    u = xp.uint64
    z = key + counter * u(GOLDEN)
    z = (z ^ (z >> u(30))) * u(MIX[0])
    z = (z ^ (z >> u(27))) * u(MIX[1])
    return z ^ (z >> u(31))


class CounterStream:
    r"""Counter-based draws, one stream per run: row $r$ of a draw depends on ``keys[r]`` only.

    A draw of shape ``(..., runs, d)`` at step ``t`` takes, for every run $r$ (axis -2), the
    SplitMix64 values of ``keys[r]`` at counters $c = (t\,2^{20} + j)\,2^{32} + i$, with $j$ the
    index of the draw within the step and $i$ the element's place within the run's block. So a
    run draws the same numbers whichever other runs share its batch, in whatever order, on
    either engine: NumPy and jax.numpy compute the same bits (normal draws agree to the last
    rounding of ``log`` and ``cos``). Uniforms take the top 53 bits; normals come from two
    uniforms by Box and Muller (1958); signs take one bit each, 64 per value.
    """

    def __init__(self, keys, t, xp=np):
        self.keys, self.t, self.xp = keys, t, xp
        self.draws = 0

    def select(self, rows):
        """The streams of some runs (a list of slices of this batch), for the same step."""
        xp = self.xp
        keys = self.keys[rows[0]] if len(rows) == 1 else xp.concatenate([self.keys[r] for r in rows])
        return CounterStream(keys, self.t, xp)

    def _bits(self, lead, per_element):
        """uint64 values ``(runs, per_run)`` for a draw of ``per_run`` elements per run."""
        xp = self.xp
        per_run = math.prod(lead)
        step = xp.asarray(self.t).astype(xp.uint64) * xp.uint64(1 << 20) + xp.uint64(self.draws)
        self.draws += 1
        counters = step * xp.uint64(1 << 32) + xp.arange(per_run * per_element, dtype=xp.uint64)
        return splitmix64(xp, self.keys[:, None], counters[None, :])

    def _arrange(self, values, size):
        """Values ``(runs, m)`` laid out as ``size = (..., runs, d)``."""
        xp = self.xp
        lead, runs, d = tuple(size[:-2]), size[-2], size[-1]
        return xp.moveaxis(xp.reshape(values, (runs,) + lead + (d,)), 0, -2)

    def _uniform53(self, bits, offset):
        xp = self.xp
        return ((bits >> xp.uint64(11)).astype(xp.float64) + offset) * (2.0**-53)

    def random(self, size):
        size = tuple(size)
        bits = self._bits(size[:-2] + size[-1:], 1)
        return self._arrange(self._uniform53(bits, 0.0), size)

    def standard_normal(self, size):
        xp = self.xp
        size = tuple(size)
        bits = self._bits(size[:-2] + size[-1:], 2)
        u1 = self._uniform53(bits[:, 0::2], 1.0)  # in (0, 1]
        u2 = self._uniform53(bits[:, 1::2], 0.0)
        return self._arrange(xp.sqrt(-2.0 * xp.log(u1)) * xp.cos(2.0 * math.pi * u2), size)

    def signs(self, size):
        xp = self.xp
        size = tuple(size)
        per_run = math.prod(size[:-2]) * size[-1]
        words = self._bits((-(-per_run // 64),), 1)  # (runs, words)
        bits = (words[:, :, None] >> xp.arange(64, dtype=xp.uint64)) & xp.uint64(1)
        bits = xp.reshape(bits, (words.shape[0], -1))[:, :per_run]
        return self._arrange(2.0 * bits.astype(xp.float64) - 1.0, size)


def run_keys(seed_sequences):
    """One uint64 stream key per run from a list of ``numpy.random.SeedSequence``."""
    return np.array([int.from_bytes(s.generate_state(2, np.uint32).tobytes(), "little") for s in seed_sequences],
                    dtype=np.uint64)


def _check_rng(rng):
    if not isinstance(rng, (np.random.Generator, JaxStream, CounterStream)):
        raise TypeError(f"rng must be a numpy.random.Generator, e.g. numpy.random.default_rng(seed), "
                        f"got {type(rng).__name__}")
    return rng


def signs(rng, size):
    """Independent fair signs $\\pm 1$ (float64) of shape ``size``."""
    if isinstance(_check_rng(rng), np.random.Generator):
        return 2.0 * rng.integers(0, 2, size=size, dtype=np.int8) - 1.0
    return rng.signs(tuple(size))


def _check_shape(shape):
    sizes = np.atleast_1d(shape)
    if sizes.ndim != 1 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes.tolist()):
        raise ValueError(f"a tangent shape is a tuple of whole numbers, got {shape!r}")
    shape = tuple(int(s) for s in sizes)
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
    return _check_rng(rng).standard_normal(_check_shape(shape))


def uniform(rng, shape):
    r"""Independent $v_i \sim \mathcal{U}(-\sqrt{3}, \sqrt{3})$: unit variance, $\mathbb{V}[v_i^2]=4/5$."""
    shape = _check_shape(shape)
    return math.sqrt(3.0) * (2.0 * _check_rng(rng).random(shape) - 1.0)


def laplace(rng, shape):
    r"""Independent Laplace coordinates of unit variance (scale $1/\sqrt2$): a heavier tail.

    $\mathbb{E}[v_i^4] = 6$, so $\mathbb{V}[v_i^2] = 5$. Drawn by inverting the CDF of $u \sim
    \mathcal{U}(-\frac12, \frac12)$: $v = -b\,\mathrm{sign}(u)\log(1 - 2|u|)$.
    """
    shape = _check_shape(shape)
    u = _check_rng(rng).random(shape) - 0.5
    xp = namespace(u)
    return -xp.sign(u) * xp.log1p(-2.0 * xp.abs(u)) / math.sqrt(2.0)


def sphere(rng, shape):
    r"""Uniform on the sphere of radius $\sqrt d$: the isotropic extended minimal law (Definition 8)."""
    shape = _check_shape(shape)
    return scaled_to_norm(_check_rng(rng).standard_normal(shape), float(shape[-1]))


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
    z = _check_rng(rng).standard_normal(shape + (shape[-1],))
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
