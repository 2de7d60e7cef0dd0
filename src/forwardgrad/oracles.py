r"""Gradient oracles: the true gradient (one reverse pass) and forward gradients (forward passes).

Both act on a whole batch ``x`` of shape ``(..., d)`` at once. A test function maps rows to values
independently, so its Jacobian on a batch is block diagonal: ONE vector-Jacobian product with
cotangent ``ones`` gives every row's gradient, and ONE Jacobian-vector product with a batch of
tangents gives every row's directional derivative $\nabla f(x_r)\cdot v_r$.

``engine="autograd"`` (the reference) or ``engine="jax"`` (jitted, float64) pick the AD system;
both differentiate the same formula and return NumPy arrays.
"""

import functools

import numpy as np
from autograd.core import make_jvp as _autograd_jvp
from autograd.core import make_vjp as _autograd_vjp

from forwardgrad.engines import check_engine, load_jax


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
