"""The :class:`Objective` record, the registries and the decorator that fills them.

A test function is written once, as a plain formula ``f(xp, x)`` of the array namespace ``xp`` and
a batch ``x`` of shape ``(..., d)``; the :func:`objective` decorator placed above it wraps it into a
frozen :class:`Objective` record (dimension rule, box, minimum, tags) and files it in a plain dict.
"""

import difflib
import functools
import math
from dataclasses import dataclass, field
from typing import Callable

import autograd.numpy as anp
import numpy as np
from autograd.extend import defjvp, defvjp, primitive

from ..engines import load_jax, namespace

FLAGS = ("continuous", "convex", "separable", "differentiable", "multimodal", "random")

REGISTRY = {}  # name -> Objective, the corrected collection (what names() lists)
ORIGINALS = {}  # name -> Objective, the original collection's definitions kept for the audit


class UnknownMinimum(ValueError):
    """The literature gives no global minimum of this function in this dimension."""


@dataclass(frozen=True)
class Correction:
    """One departure of ours from the original collection (one row of ``corrections()``)."""

    original: str
    ours: str
    source: str


@dataclass(frozen=True)
class Objective:
    """A test function: formula, dimension rule, box, global minimum and the original's flags.

    ``f(x, rng=None)`` maps ``(..., d)`` to ``(...)`` on NumPy/autograd and JAX inputs alike;
    ``rng`` (a ``numpy.random.Generator``) adds the literature's noise to the functions tagged
    ``"random"`` and is ignored by the others (under ``jax.jit`` the noise is drawn once, when
    tracing: pass it in as an argument instead). ``tags`` are the original collection's flags as
    the paper's copy of it sets them (they select the paper's benchmark), not measured facts.
    """

    name: str
    f: Callable = field(repr=False)
    dim: int | None  # the only valid dimension, or None for a scalable function
    min_dim: int  # smallest valid dimension of a scalable function
    tags: frozenset
    box: Callable = field(repr=False)  # d -> (lower, upper)
    argmin: Callable = field(repr=False)  # d -> (x_star, f_star), may raise UnknownMinimum
    constrained: bool = False  # unbounded below outside the box: descent must project on it
    smooth_at_minimum: bool = True  # differentiable at x_star (so grad f(x_star) = 0 inside)
    corrections: tuple = ()
    reference: str = ""

    def accepts(self, d):
        """Whether ``d`` is a valid dimension of this function."""
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            return False
        return d == self.dim if self.dim is not None else d >= self.min_dim

    @property
    def dimension_rule(self):
        """The dimension rule as text: ``"d = 2"`` or ``"d >= 1"``."""
        return f"d = {self.dim}" if self.dim is not None else f"d >= {self.min_dim}"

    def check(self, d):
        """Raise ``ValueError`` unless ``d`` is a valid dimension; return ``d``."""
        if not self.accepts(d):
            raise ValueError(f"{self.name} is not defined for d = {d!r}; "
                             f"it needs {self.dimension_rule}")
        return int(d)

    def bounds(self, d):
        """The box ``(lower, upper)``, two float arrays of shape ``(d,)``."""
        d = self.check(d)
        lower, upper = self.box(d)
        return (np.broadcast_to(np.asarray(lower, float), (d,)).copy(),
                np.broadcast_to(np.asarray(upper, float), (d,)).copy())

    def minimum(self, d):
        """A global minimizer ``x_star`` of shape ``(d,)`` in the box and the minimum ``f_star``."""
        d = self.check(d)
        x_star, f_star = self.argmin(d)
        x_star = np.broadcast_to(np.asarray(x_star, float), (d,)).copy()
        return x_star, float(f_star)


def _checked(formula, name, dim, min_dim, noise, requires_rng):
    """Wrap ``formula(xp, x)`` into ``f(x, rng=None)`` that validates the last axis."""

    @functools.wraps(formula)
    def f(x, rng=None):
        if requires_rng and rng is None:
            raise ValueError(f"{name} draws noise at every call: pass rng=numpy.random.Generator")
        xp = namespace(x)
        if not hasattr(x, "shape"):
            x = xp.asarray(x, dtype=float)
        if x.ndim == 0:
            raise ValueError(f"{name} takes points of shape (..., d), got a scalar")
        d = x.shape[-1]
        if (d != dim) if dim is not None else (d < min_dim):
            rule = f"d = {dim}" if dim is not None else f"d >= {min_dim}"
            raise ValueError(f"{name} needs {rule}, got points of shape {tuple(x.shape)}")
        value = formula(xp, x)
        if rng is not None and noise is not None:
            value = noise(xp, x, value, rng)
        return value

    return f


def objective(*, tags, bounds, minimum, dim=None, min_dim=1, constrained=False,
              smooth_at_minimum=True, corrections=(), reference="", noise=None,
              requires_rng=False, name=None, registry=REGISTRY):
    """Decorator: turn a formula ``f(xp, x)`` into an :class:`Objective` and register it.

    ``bounds`` is ``(lower, upper)`` (scalars or per-coordinate sequences) or a callable
    ``d -> (lower, upper)``; ``minimum`` is ``(x_star, f_star)`` or a callable ``d -> (x_star,
    f_star)``; ``tags`` are the original collection's flags that are True; ``noise(xp, x, value,
    rng)`` adds the random term of a ``"random"`` function (``requires_rng``: always, as the
    original collection did). The decorated name is bound to the record.
    """
    unknown = set(tags) - set(FLAGS)
    if unknown:
        raise ValueError(f"unknown tags {sorted(unknown)}; valid tags are {FLAGS}")
    box = bounds if callable(bounds) else (lambda d: bounds)
    argmin = minimum if callable(minimum) else (lambda d: minimum)

    def register(formula):
        key = name or formula.__name__
        if key in registry:
            raise ValueError(f"objective {key!r} is registered twice")
        obj = Objective(
            name=key, f=_checked(formula, key, dim, min_dim, noise, requires_rng), dim=dim,
            min_dim=min_dim,
            tags=frozenset(tags), box=box, argmin=argmin, constrained=constrained,
            smooth_at_minimum=smooth_at_minimum, corrections=tuple(corrections),
            reference=reference,
        )
        registry[key] = obj
        return obj

    return register


def lookup(name, registry, what="test function"):
    """``registry[name]``, or ``KeyError`` that suggests close names."""
    if isinstance(name, Objective):
        return name
    try:
        return registry[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), list(registry), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"no {what} named {name!r}{hint}") from None


# Safe forms of functions that are not differentiable at 0: the gradient of the masked branch is
# zero, so no 0 * inf = NaN leaks into autograd or JAX gradients (the subgradient 0 is returned).


def power(base, exponent):
    """``base ** exponent`` for a known minimum, ``±inf`` when it overflows float64 (never an
    ``OverflowError``): the value of a minimum like ``g ** d`` leaves float64 for d in the hundreds."""
    try:
        return float(base) ** exponent
    except OverflowError:
        return math.copysign(math.inf, base) if exponent % 2 else math.inf


def safe_sqrt(xp, s):
    """``sqrt(s)`` for ``s >= 0`` with a zero (not NaN) derivative at ``s = 0``."""
    positive = s > 0
    return xp.where(positive, xp.sqrt(xp.where(positive, s, 1.0)), 0.0)


def safe_pow(xp, s, a):
    """``s ** a`` for ``s >= 0`` and ``a > 0`` with a zero (not NaN) derivative at ``s = 0``."""
    positive = s > 0
    return xp.where(positive, xp.where(positive, s, 1.0) ** a, 0.0)


def safe_norm(xp, x):
    """Euclidean norm over the last axis with a zero derivative at 0."""
    return safe_sqrt(xp, xp.sum(x * x, axis=-1))


def _product_of_others(v, xp=anp):
    """``prod_{j != i} v_j`` along the last axis, by prefix and suffix products (no division)."""
    ones = xp.ones_like(v[..., :1])
    left = xp.cumprod(xp.concatenate([ones, v[..., :-1]], axis=-1), axis=-1)
    right = xp.cumprod(xp.concatenate([ones, v[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


@primitive
def _prod_last(v):
    return np.prod(v, axis=-1)


# autograd differentiates np.prod as ans / v, which is NaN where a factor is 0 (as at the
# minimizers of Thevenot's function and Schwefel 2.22); these rules are exact there.
defvjp(_prod_last, lambda ans, v: lambda g: anp.expand_dims(g, -1) * _product_of_others(v))
defjvp(_prod_last, lambda g, ans, v: anp.sum(g * _product_of_others(v), axis=-1))


@functools.lru_cache(maxsize=None)
def _jax_prod_last():
    """The JAX product over the last axis, with the derivative rule of ``_prod_last``.

    The prefix and suffix products are exact where a factor is 0 but cost O(d^2) on XLA's CPU
    backend (a cumulative product is a windowed reduction there), as does ``jnp.prod``'s own
    rule; so they run only when some factor is 0, and ``prod / v_i`` otherwise. That halves the
    derivative's time on Griewank in d = 100.
    """
    jax = load_jax()
    jnp = jax.numpy

    @jax.custom_jvp
    def prod_last(v):
        return jnp.prod(v, axis=-1)

    @prod_last.defjvp
    def prod_last_jvp(primals, tangents):
        (v,), (dv,) = primals, tangents
        p = jnp.prod(v, axis=-1)
        others = jax.lax.cond(jnp.any(v == 0), lambda v: _product_of_others(v, jnp),
                              lambda v: p[..., None] / v, v)
        return p, jnp.sum(dv * others, axis=-1)

    return prod_last


def prod(xp, v):
    """Product over the last axis, with exact derivatives where a factor is 0."""
    if xp is anp:
        return _prod_last(v)
    return xp.prod(v, axis=-1) if xp is np else _jax_prod_last()(v)


def powers(xp, x, n):
    """``x ** i`` for ``i = 1 .. n`` on a new axis before the last: shape ``(..., n, d)``.

    Up to ``n = 16`` by repeated multiplication, several times cheaper than ``pow`` with an
    exponent array (an exp and a log per entry). Beyond, ``pow``: the unrolled products would
    make JAX's compiled program, and its compile time, grow with ``n``.
    """
    if n > 16:
        return x[..., None, :] ** np.arange(1.0, n + 1.0)[:, None]
    out = [x]
    for _ in range(n - 1):
        out.append(out[-1] * x)
    return xp.stack(out, axis=-2)
