r"""Forward gradients at scale: weight and activity perturbation, local losses and local guesses.

The networks are the tanh perceptrons of :mod:`forwardgrad.experiments.digits` (one flat parameter
vector $\theta \in \mathbb R^P$ per run). Four estimators of the gradient of the minibatch
cross-entropy, besides the true gradient (one vjp):

- :func:`weight_estimate`: the forward gradient $(\nabla\mathcal L\cdot v)v$ with one Rademacher
  tangent $v \in \mathbb R^P$ on the weights (Baydin et al., 2022);
- :func:`activity_estimate`: Ren, Kornblith, Liao & Hinton (2023) perturb the pre-activations of
  every example instead, so the tangent has $U = \sum_l n_l$ coordinates per example;
- :func:`local_estimate`: Ren et al.'s local losses: every block (a layer, with a linear
  classifier head on its output when it is hidden) descends its own loss, its input held fixed;
  each block's forward gradient measures its local loss only;
- :func:`local_guess_estimate`: Fournier, Rivaud, Belilovsky, Eickenberg & Oyallon (2023) guide the
  tangent with a guess of the gradient, here the local-loss gradient of every block (backpropagated
  within the block only), through the unbiased guided estimator of :mod:`forwardgrad.oracles`.

Parameters of the heads (:func:`n_heads`) follow the network's parameters in an extended vector
``(runs, P + H)``; the global loss ignores them. Every estimator is written against the array
namespace of $\theta$ and takes its tangents as arguments, so it runs on autograd and on JAX alike;
:func:`train` is a jitted JAX loop of SGD.
"""

import functools
from typing import NamedTuple

import numpy as np

from forwardgrad import oracles, statistics
from forwardgrad.engines import load_jax, namespace
from forwardgrad.experiments import digits as nets

ESTIMATORS = ("true", "weight", "activity", "local", "local guess")


def n_heads(sizes):
    """Parameters of the linear heads of the hidden blocks: $\\sum_{l<L} (n_l + 1)\\,n_L$."""
    return sum((n + 1) * sizes[-1] for n in sizes[1:-1])


def split(theta_ext, sizes):
    """``(theta, heads)``: the network's $P$ parameters and its heads' ``[(A, c), ...]``."""
    p = nets.n_params(sizes)
    theta, rest = theta_ext[..., :p], theta_ext[..., p:]
    heads, start = [], 0
    for n in sizes[1:-1]:
        a = rest[..., start:start + n * sizes[-1]].reshape(tuple(rest.shape[:-1]) + (n, sizes[-1]))
        start += n * sizes[-1]
        heads.append((a, rest[..., start:start + sizes[-1]]))
        start += sizes[-1]
    return theta, heads


def _xp(*arrays):
    """The namespace of the first traced array among ``arrays`` (NumPy if none is traced)."""
    spaces = [namespace(a) for a in arrays]
    return next((s for s in spaces if s is not np), np)


def forward_pass(theta, x, sizes, offsets=None):
    r"""Layer inputs $h_{l-1}$ and pre-activations $z_l = h_{l-1}W_l + b_l\,(+\,\epsilon_l)$.

    ``offsets`` (optional) adds $\epsilon_l$ of shape ``(..., B, n_l)`` to each pre-activation; the
    network is :func:`forwardgrad.experiments.digits.logits` (tanh between layers, $z_L$ the logits).
    """
    layers = nets.unflatten(theta, sizes)
    h, inputs, pre = x, [], []
    for i, (w, b) in enumerate(layers):
        inputs.append(h)
        z = _xp(h, w).matmul(h, w) + b[..., None, :]
        if offsets is not None:
            z = z + offsets[i]
        pre.append(z)
        h = namespace(z).tanh(z)  # the offsets may be traced where theta is not
    return inputs, pre


def example_losses(z, y):
    """Per-example cross-entropy of logits ``(..., B, classes)`` and labels ``(..., B)``: ``(..., B)``."""
    xp = namespace(z)
    top = xp.max(z, axis=-1, keepdims=True)  # only prevents overflow; its derivative cancels
    log_norm = xp.log(xp.sum(xp.exp(z - top), axis=-1)) + top[..., 0]
    return log_norm - (z * nets.one_hot(y, z.shape[-1])).sum(axis=-1)


def _pieces(e, widths):
    cuts = np.cumsum((0,) + tuple(widths))
    return [e[..., a:b] for a, b in zip(cuts[:-1], cuts[1:])]


def activity_losses(theta, x, y, sizes):
    """The per-example losses as a function of pre-activation offsets ``(..., B, U)``."""
    def f(e):
        return example_losses(forward_pass(theta, x, sizes, _pieces(e, sizes[1:]))[1][-1], y)
    return f


def weights_from_activity(inputs, dz):
    r"""$g_{W_l} = \sum_i h_{i,l-1}\otimes g_{z_{i,l}}$, $g_{b_l} = \sum_i g_{z_{i,l}}$, flattened like
    :func:`forwardgrad.experiments.digits.unflatten`: ``(..., P)``."""
    xp = namespace(dz[0])
    pieces = []
    for h, g in zip(inputs, dz):
        w = xp.matmul(xp.swapaxes(h, -1, -2), g)  # (..., n_in, n_out)
        pieces += [w.reshape(tuple(w.shape[:-2]) + (-1,)), g.sum(axis=-2)]
    return xp.concatenate(pieces, axis=-1)


def activity_estimate(theta, x, y, sizes, u, engine="autograd"):
    r"""Ren et al.'s activity-perturbed forward gradient of the mean cross-entropy.

    ``u`` (shape ``(..., B, U)``, $U = \sum_l n_l$) is one tangent per example on all its
    pre-activations. One jvp gives every example's directional derivative $d_i = \nabla_{z_i}\ell_i
    \cdot u_i$; then $\hat g_{z_i} = \frac{d_i}{B}u_i$ estimates $\nabla_{z_i}\mathcal L$
    ($\mathcal L = \frac1B\sum_i\ell_i$) and :func:`weights_from_activity` maps it to the weights.
    Unbiased for $\nabla_\theta\mathcal L$ when $\mathbb E\,uu^\top = I$; variance in
    :func:`forwardgrad.theory.activity_variance`. Returns ``(loss (...), g (..., P))``.
    """
    inputs, _ = forward_pass(theta, x, sizes)
    losses, d = oracles.value_and_directional(activity_losses(theta, x, y, sizes), 0.0 * u, u, engine)
    dz = _pieces(d[..., None] * u / u.shape[-2], sizes[1:])
    return losses.mean(axis=-1), weights_from_activity(inputs, dz)


def weight_estimate(theta, x, y, sizes, v, engine="autograd"):
    """The weight-perturbed forward gradient $(\\nabla\\mathcal L\\cdot v)v$, ``v`` of shape ``(..., P)``."""
    return oracles.forward_estimate(lambda th: nets.cross_entropy(th, x, y, sizes), theta, v, engine)


def local_losses(theta_ext, fixed, x, y, sizes):
    r"""Every block's local loss, ``(..., L)``: block $l$ maps the input $h_{l-1}$ computed with the
    parameters ``fixed`` (held constant: no gradient flows between blocks) through its layer and,
    if hidden, its head $A_l$, and scores the cross-entropy of the result; the last block is the
    network's own loss (Ren et al., 2023, local greedy losses)."""
    xp = namespace(theta_ext)
    theta, heads = split(theta_ext, sizes)
    inputs, _ = forward_pass(split(fixed, sizes)[0], x, sizes)
    layers = nets.unflatten(theta, sizes)
    out = []
    for i, ((w, b), h) in enumerate(zip(layers, inputs)):
        z = xp.matmul(h, w) + b[..., None, :]
        if i < len(layers) - 1:
            a, c = heads[i]
            z = xp.matmul(xp.tanh(z), a) + c[..., None, :]
        out.append(example_losses(z, y).mean(axis=-1))
    return xp.stack(out, axis=-1)


def block_of(sizes):
    """The block of every extended parameter: layer $l$'s weights and biases, then head $l$'s: ``(P + H,)``."""
    blocks = [np.full((a + 1) * b, i) for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
    blocks += [np.full((n + 1) * sizes[-1], i) for i, n in enumerate(sizes[1:-1])]
    return np.concatenate(blocks)


def local_gradient(theta_ext, x, y, sizes, engine="autograd"):
    """The exact gradient of the sum of local losses, by backpropagation within each block: ``(..., P + H)``."""
    f = lambda th: local_losses(th, theta_ext, x, y, sizes).sum(axis=-1)  # noqa: E731
    return oracles.value_and_grad(f, theta_ext, engine)[1]


def local_estimate(theta_ext, x, y, sizes, v, engine="autograd"):
    r"""Ren et al.'s local-loss forward gradient: block $l$ gets $(\nabla_{\theta_l}\mathcal L_l\cdot
    v_l)v_l$ from its own loss $\mathcal L_l$ (:func:`local_losses`), all from one jvp of the vector
    of local losses along ``v`` ``(..., P + H)``; unbiased for :func:`local_gradient`. Returns
    ``(global loss (...), g (..., P + H))``."""
    d = oracles.value_and_directional(lambda th: local_losses(th, theta_ext, x, y, sizes), theta_ext, v, engine)[1]
    loss = nets.cross_entropy(split(theta_ext, sizes)[0], x, y, sizes)
    return loss, d[..., block_of(sizes)] * v


def local_guess_estimate(theta_ext, x, y, sizes, rng, alpha, engine="autograd"):
    r"""Fournier et al.'s local guess: the guided estimate of :func:`forwardgrad.oracles.guided_estimate`
    of the global loss with guess $u$ = the network part of :func:`local_gradient`, tangent
    $v \sim \mathcal N(0, \frac\alpha P I + (1-\alpha)\hat u\hat u^\top)$ drawn by
    :func:`forwardgrad.oracles.guided_tangent` from ``rng`` (a ``numpy.random.Generator``, or
    :class:`JaxNormal` inside JAX code). The heads descend their exact local gradient. Returns
    ``(global loss (...), g (..., P + H))``."""
    xp = namespace(theta_ext)
    p = nets.n_params(sizes)
    local = local_gradient(theta_ext, x, y, sizes, engine)
    v = oracles.guided_tangent(rng, local[..., :p], alpha, tuple(local[..., :p].shape))
    loss, g = oracles.guided_estimate(lambda th: nets.cross_entropy(th, x, y, sizes),
                                      theta_ext[..., :p], v, local[..., :p], alpha, engine)
    return loss, xp.concatenate([g, local[..., p:]], axis=-1)


class JaxNormal:
    """A ``standard_normal(shape)`` source from a JAX key, for :func:`forwardgrad.oracles.guided_tangent`
    inside traced code: every call splits the key it holds."""

    def __init__(self, key):
        self.key = key

    def standard_normal(self, shape):
        jax = load_jax()
        self.key, sub = jax.random.split(self.key)
        return jax.random.normal(sub, shape)
