r"""Gradient oracles: the true gradient (one reverse pass) and forward gradients (forward passes).

Both act on a whole batch ``x`` of shape ``(..., d)`` at once. A test function maps rows to values
independently, so its Jacobian on a batch is block diagonal: ONE vector-Jacobian product with
cotangent ``ones`` gives every row's gradient, and ONE Jacobian-vector product with a batch of
tangents gives every row's directional derivative $\nabla f(x_r)\cdot v_r$.

``engine="autograd"`` (the reference) or ``engine="jax"`` (jitted, float64) pick the AD system;
both differentiate the same formula and return NumPy arrays.

:data:`ORACLES` registers every estimator behind one signature (see :class:`Oracle`), for the
descent and the benchmark to pick by name. Your own estimator is an :class:`Oracle` record too,
declaring its cost per step (``calls``, ``evaluations``); a benchmark takes it by import path or as
the object (see :mod:`forwardgrad.plugins`).
"""

import functools
from typing import Callable, NamedTuple

import numpy as np
from autograd.core import make_jvp as _autograd_jvp
from autograd.core import make_vjp as _autograd_vjp

from forwardgrad.engines import check_engine, load_jax, namespace, scaled_to_norm


def value_and_grad(f, x, engine="autograd"):
    """``(f(x), grad f(x))`` row by row from one reverse pass; traceable inside JAX code."""
    if engine == "jax":
        jax = load_jax()
        fx, pullback = jax.vjp(f, x)
        return fx, pullback(jax.numpy.ones_like(fx))[0]
    pullback, fx = _autograd_vjp(f, x)
    return fx, pullback(np.ones_like(fx))


def value_and_directional(f, x, v, engine="autograd"):
    r"""``(f(x), grad f(x) . v)`` row by row from one forward pass; traceable inside JAX code."""
    if engine == "jax":
        return load_jax().jvp(f, (x,), (v,))
    return _autograd_jvp(f, x)(v)


def forward_estimate(f, x, v, engine="autograd"):
    r"""$g = \frac1k\sum_j (\nabla f\cdot v_j) v_j$ for ``v`` of shape ``x.shape`` or ``(k, *x.shape)``."""
    if v.shape == x.shape:
        fx, dd = value_and_directional(f, x, v, engine)
        return fx, dd[..., None] * v
    xs = x[None] + 0.0 * v  # the batch stacked k times: one pass over k copies
    fxs, dd = value_and_directional(f, xs, v, engine)
    return fxs[0], (dd[..., None] * v).mean(axis=0)


@functools.lru_cache(maxsize=256)
def _jitted(kind, f):
    jax = load_jax()
    if kind == "true":
        return jax.jit(lambda x: value_and_grad(f, x, "jax"))
    return jax.jit(lambda x, v: forward_estimate(f, x, v, "jax"))


def _as_batch(x, name="x"):
    if np.iscomplexobj(x):
        raise TypeError(f"{name} must be real: forward and reverse gradients here are of real functions")
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        raise ValueError(f"{name} must have a last axis of coordinates, got a scalar")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains non-finite values")
    return x


def true_gradient(f, x, engine="autograd"):
    r"""The true gradient by one reverse pass.

    $(f(x), \nabla f(x))$ for ``x`` of shape ``(..., d)``: ``fx`` has shape ``(...)`` and ``g``
    has the shape of ``x``.
    """
    x = _as_batch(x)
    if check_engine(engine) == "jax":
        fx, g = _jitted("true", f)(x)
        return np.asarray(fx), np.asarray(g)
    return value_and_grad(f, x)


def forward_gradient(f, x, v, engine="autograd"):
    r"""The forward gradient $g = (\nabla f(x)\cdot v)\,v$ by forward-mode AD (Baydin et al., 2022).

    ``x`` has shape ``(..., d)``. ``v`` has the shape of ``x`` (one tangent per row), or
    ``(k, ..., d)`` for $k$ tangents per row, in which case $g$ is the mean of the $k$ forward
    gradients (one pass over the batch stacked $k$ times). Returns ``(f(x), g)``.
    """
    x = _as_batch(x)
    v = _as_batch(v, "v")
    if v.shape != x.shape and v.shape[1:] != x.shape:
        raise ValueError(
            f"tangent shape {v.shape} must be x.shape {x.shape} or (k, *x.shape) for k tangents"
        )
    if check_engine(engine) == "jax":
        fx, g = _jitted("forward", f)(x, v)
        return np.asarray(fx), np.asarray(g)
    return forward_estimate(f, x, v)


def projected_estimate(f, x, v, engine="autograd"):
    r"""$g = \frac{d}{r} P \nabla f$, with $P$ the orthogonal projector onto the span of the tangents.

    ``v`` has shape ``(k, *x.shape)`` (or ``x.shape`` for $k = 1$); $r \le k$ is the rank of the
    $k$ tangents (Rademacher tangents in low dimension are often dependent). The directional
    derivatives along an orthonormal basis of the span (from an SVD) take $k$ forward passes. For a
    tangent law invariant under signed permutations of the coordinates (Rademacher, Gaussian,
    sphere), $\mathbb{E}[P \mid r] = \frac{r}{d} I$, so the factor $d/r$ makes $g$ unbiased; for
    $k = 1$ and Rademacher tangents it is the forward gradient.
    """
    xp = namespace(v)
    if v.shape == x.shape:
        v = v[None]
    k = v.shape[0]
    basis, singular, _ = xp.linalg.svd(xp.moveaxis(v, 0, -1), full_matrices=False)  # (..., d, k)
    kept = singular > 1e-10 * x.shape[-1] * singular[..., :1]  # (..., k)
    rank = kept.sum(axis=-1)
    fx, g = forward_estimate(f, x, xp.moveaxis(basis * kept[..., None, :], -1, 0), engine)
    return fx, (x.shape[-1] * k / rank)[..., None] * g


def finite_difference_estimate(f, x, v, eps):
    r"""The zeroth-order estimate $g = \frac1k\sum_j \frac{f(x+\varepsilon v_j) - f(x)}{\varepsilon} v_j$.

    Forward differences along the same tangents as a forward gradient (SPSA-style; Spall 1992),
    with no AD at all: $k + 1$ evaluations of $f$. Its bias is $O(\varepsilon)$ for smooth $f$.
    """
    xp = namespace(x)
    if v.shape == x.shape:
        v = v[None]
    values = f(xp.concatenate([x[None], x[None] + eps * v]))  # (1 + k, ...)
    slopes = (values[1:] - values[0]) / eps
    return values[0], (slopes[..., None] * v).mean(axis=0)


def _unit(u):
    xp = namespace(u)
    nonzero = xp.sum(u * u, axis=-1, keepdims=True) > 0  # a norm that underflows counts as zero
    return xp.where(nonzero, scaled_to_norm(xp.where(nonzero, u, 1.0), 1.0), 0.0)


def guided_tangent(rng, u, alpha, shape):
    r"""Tangents $v \sim \mathcal{N}(0, \Sigma)$ with $\Sigma = \frac{\alpha}{d} I + (1-\alpha)\hat u\hat u^\top$.

    ``u`` (shape ``(..., d)``) is a guess of the gradient's direction, normalised to $\hat u$ (a
    zero guess gives the isotropic $\frac{\alpha}{d}I$); ``shape`` is ``u.shape`` or
    ``(k, *u.shape)``. $v = \sqrt{\alpha/d}\,z + \sqrt{1-\alpha}\,\xi\,\hat u$ with independent
    standard normal $z$ and $\xi$.
    """
    u_hat = _unit(u)
    d = u.shape[-1]
    z = rng.standard_normal(shape)
    xi = rng.standard_normal(shape[:-1] + (1,))
    return (alpha / d) ** 0.5 * z + (1.0 - alpha) ** 0.5 * xi * u_hat


def guided_estimate(f, x, v, u, alpha, engine="autograd"):
    r"""The unbiased guided estimate $g = \Sigma^{-1} v\,(v^\top\nabla f)$, averaged over tangents.

    With $\Sigma = \frac{\alpha}{d}I + (1-\alpha)\hat u\hat u^\top$ (see :func:`guided_tangent`),
    $\mathbb{E}[g] = \Sigma^{-1}\mathbb{E}[vv^\top]\nabla f = \nabla f$. By Sherman–Morrison,
    $\Sigma^{-1}w = \frac{d}{\alpha}(w - \hat u\,\hat u^\top w) + \frac{\hat u\,\hat u^\top w}{\alpha/d + 1 - \alpha}$.
    """
    fx, w = forward_estimate(f, x, v, engine)
    u_hat = _unit(u)
    d = x.shape[-1]
    along = (w * u_hat).sum(axis=-1, keepdims=True) * u_hat
    return fx, (d / alpha) * (w - along) + along / (alpha / d + 1.0 - alpha)


def biased_guided_estimate(f, x, v, engine="autograd"):
    r"""The biased guided forward gradient $g = d\,v\,(v^\top\nabla f)$, $v \sim \mathcal N(0, \Sigma)$.

    The conclusion of Belouze (2022) proposes to *bias* the tangent law with a guess of the
    gradient (Adam's first moment). With $v$ from :func:`guided_tangent` and no $\Sigma^{-1}$
    correction, $\mathbb{E}[g] = d\,\Sigma\nabla f = \alpha\nabla f + d(1-\alpha)(\hat u^\top
    \nabla f)\,\hat u$: a descent direction tilted towards the guess. The factor $d$ (the
    trace of $\Sigma$ is 1) makes $\alpha = 1$ the isotropic Gaussian forward gradient.
    """
    fx, w = forward_estimate(f, x, v, engine)
    return fx, x.shape[-1] * w


# ---------------------------------------------------------------------------------------------
# The registry: one signature for every estimator


class Oracle(NamedTuple):
    r"""A gradient estimator as the descent and the benchmark use it.

    - ``estimate(f, x, v, *, engine, guide, alpha, eps) -> (fx, g)``: ``x`` is a batch ``(n, d)``,
      ``v`` its tangents (``(n, d)``, or ``(k, n, d)`` for $k$ per row; None when ``tangents`` is
      None), ``guide`` a guess of the gradient per row (the guided estimate's $u$), ``alpha`` its
      mixing and ``eps`` a finite-difference step; an estimate ignores what it does not use.
    - ``tangents``: where its tangents come from: ``"law"`` (the arm's tangent law), ``"guided"``
      (:func:`guided_tangent` around ``guide``) or None (it takes no tangent).
    - ``calls(k)``: gradient evaluations one step costs (the descent's ``oracle_calls``);
      ``evaluations(k)``: evaluations of $f$ one step makes.
    """

    estimate: Callable
    tangents: str | None
    calls: Callable
    evaluations: Callable


def _true(f, x, v, *, engine="autograd", **_):
    return value_and_grad(f, x, engine)


def _forward(f, x, v, *, engine="autograd", **_):
    return forward_estimate(f, x, v, engine)


def _projected(f, x, v, *, engine="autograd", **_):
    return projected_estimate(f, x, v, engine)


def _guided(f, x, v, *, engine="autograd", guide=None, alpha=0.5, **_):
    return guided_estimate(f, x, v, guide, alpha, engine)


def _biased_guided(f, x, v, *, engine="autograd", **_):
    return biased_guided_estimate(f, x, v, engine)


def _finite_difference(f, x, v, *, eps=1e-4, **_):
    return finite_difference_estimate(f, x, v, eps)


def _per_tangent(k):
    return k


ORACLES = {
    "true": Oracle(_true, None, lambda k: 1, lambda k: 1),
    "forward": Oracle(_forward, "law", _per_tangent, _per_tangent),
    "projected": Oracle(_projected, "law", _per_tangent, _per_tangent),
    "guided": Oracle(_guided, "guided", _per_tangent, _per_tangent),
    "guided_biased": Oracle(_biased_guided, "guided", _per_tangent, _per_tangent),
    "fd": Oracle(_finite_difference, "law", _per_tangent, lambda k: k + 1),
}
"""Name -> :class:`Oracle`: ``true`` (one reverse pass), ``forward`` (the mean of $k$ forward
gradients), ``projected`` (:func:`projected_estimate`), ``guided`` (:func:`guided_estimate`),
``guided_biased`` (:func:`biased_guided_estimate`) and ``fd`` (:func:`finite_difference_estimate`, $k + 1$ evaluations of $f$ and no AD)."""


def get(gradient):
    """The :class:`Oracle` registered as ``gradient`` (an Oracle passes through); ``ValueError``
    for an unknown name."""
    if isinstance(gradient, Oracle):
        return gradient
    try:
        return ORACLES[gradient]
    except (KeyError, TypeError):
        raise ValueError(f"unknown gradient {gradient!r}; valid gradients are {', '.join(ORACLES)}") from None
