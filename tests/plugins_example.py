"""Plugins for the tests of forwardgrad.plugins and of `forwardgrad bench` with import paths.

Good ones: an optimizer (signSGD, Bernstein et al. 2018), a gradient estimator (central
differences), a tangent law (signs scaled to unit variance from a uniform draw) and a test
function (a shifted sphere). Bad ones break one contract each, or do not trace on JAX.
"""

from typing import Any, NamedTuple

import numpy as np

from forwardgrad import objectives, oracles, tangents
from forwardgrad.engines import namespace
from forwardgrad.optimizers import Optimizer


class Count(NamedTuple):
    count: Any


def sign_sgd(lr):
    r"""signSGD: $\delta x = -\alpha\,\mathrm{sign}(g)$."""
    def update(g, state):
        return -lr * namespace(g).sign(g), Count(state.count + 1)

    return Optimizer(lambda x: Count(namespace(x).zeros(())), update, "sign_sgd")


def _central(f, x, v, *, eps=1e-4, **_):
    xp = namespace(x)
    if v.shape == x.shape:
        v = v[None]
    k = v.shape[0]
    values = f(xp.concatenate([x[None], x[None] + eps * v, x[None] - eps * v]))
    return values[0], (((values[1:k + 1] - values[k + 1:]) / (2 * eps))[..., None] * v).mean(axis=0)


central = oracles.Oracle(_central, "law", lambda k: k, lambda k: 2 * k + 1)


def flip(rng, shape):
    """Rademacher signs from uniform draws: v = sign(u - 1/2)."""
    u = rng.random(tuple(shape))
    return namespace(u).where(u < 0.5, -1.0, 1.0)


@objectives.objective(tags=("convex", "separable", "continuous", "differentiable"), bounds=(-3.0, 3.0),
                      minimum=lambda d: (np.full(d, 1.0), 2.0), registry={})
def shifted_sphere(xp, x):
    r"""$f(x) = 2 + \sum_i (x_i - 1)^2$."""
    return 2.0 + xp.sum((x - 1.0) ** 2, axis=-1)


# --- bad plugins, one broken contract each ------------------------------------------------------


def flat_step(lr):
    """Returns a step of the wrong shape."""
    return Optimizer(lambda x: Count(0.0), lambda g, s: (-lr * g.sum(axis=-1), Count(s.count + 1)), "flat_step")


def no_lr():
    """A factory that takes no learning rate."""
    return Optimizer(lambda x: Count(0.0), lambda g, s: (-g, s))


def untraceable(lr):
    """Converts the gradient to a NumPy array: runs on autograd, cannot trace on JAX."""
    def update(g, state):
        return -lr * np.sign(np.asarray(g)), Count(state.count + 1)

    return Optimizer(lambda x: Count(0.0), update, "untraceable")


wrong_shape = oracles.Oracle(lambda f, x, v, **_: (f(x), x[..., :1]), "law", lambda k: k, lambda k: k)
free_lunch = oracles.Oracle(lambda f, x, v, **_: (f(x), x), None, lambda k: 0, lambda k: 0)


def doubled(rng, shape):
    """E[v v^T] = 2 I: twice too large."""
    return 2.0 ** 0.5 * tangents.rademacher(rng, shape)


def ignores_shape(rng, shape):
    """Draws one tangent whatever the shape asked for."""
    return tangents.rademacher(rng, (shape[-1],))


@objectives.objective(tags=("convex",), bounds=(-3.0, 3.0), minimum=lambda d: (np.zeros(d), 0.0), registry={})
def wrong_minimum(xp, x):
    r"""$f(x) = 1 + \sum_i x_i^2$, whose stated minimum 0 is wrong."""
    return 1.0 + xp.sum(x**2, axis=-1)


@objectives.objective(tags=("convex",), bounds=(-3.0, 3.0), minimum=lambda d: (np.zeros(d), 0.0), registry={})
def not_batched(xp, x):
    """Sums over every axis: one number for the whole batch."""
    return xp.sum(x**2)


not_a_plugin = 42
