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
import math
from typing import NamedTuple

import numpy as np

from forwardgrad import oracles, statistics
from forwardgrad.engines import load_jax, namespace
from forwardgrad.experiments import digits as nets

ESTIMATORS = ("true", "weight", "activity", "local", "local guess")


def load_mnist1d():
    r"""MNIST-1D (Greydanus, 2020) generated locally: 4000 training and 1000 test signals of length
    40, 10 classes, by ``mnist1d.data.make_dataset`` with its default arguments (seed 42; its
    ``get_dataset`` would download instead). Features are standardised with the training set's
    statistics, as :func:`forwardgrad.experiments.digits.load_digits` does."""
    from mnist1d.data import make_dataset  # sets NumPy's global seed; nothing here draws from it

    d = make_dataset()
    mean, std = d["x"].mean(axis=0), d["x"].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return nets.Digits((d["x"] - mean) / std, d["y"].astype(int), (d["x_test"] - mean) / std, d["y_test"].astype(int))


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


def local_guess_estimate(theta_ext, x, y, sizes, engine="autograd"):
    r"""Fournier et al.'s local guess: the global loss's directional derivative along the guess,
    $g = (\nabla\mathcal L\cdot\hat u)\,\hat u$, with $\hat u$ the unit network part of
    :func:`local_gradient` (one jvp). Biased: it is the projection of $\nabla\mathcal L$ on the
    guess, so its cosine with the gradient is that of the guess, up to sign. (The unbiased guided
    estimate of :func:`forwardgrad.oracles.guided_estimate` keeps an isotropic part scaled by
    $P/\alpha$, whose noise dominates at these $P$.) The heads descend their exact local gradient.
    Returns ``(global loss (...), g (..., P + H))``."""
    xp = namespace(theta_ext)
    p = nets.n_params(sizes)
    local = local_gradient(theta_ext, x, y, sizes, engine)
    u = local[..., :p]
    u_hat = u * xp.sqrt(1.0 / xp.maximum((u * u).sum(axis=-1, keepdims=True), 1e-300))  # no rsqrt
    loss, d = oracles.value_and_directional(lambda th: nets.cross_entropy(th, x, y, sizes),
                                            theta_ext[..., :p], u_hat, engine)
    return loss, xp.concatenate([d[..., None] * u_hat, local[..., p:]], axis=-1)


def estimate(name, theta_ext, x, y, sizes, key, alpha=0.5):
    r"""The estimate ``name`` (one of :data:`ESTIMATORS`) of the gradient, inside JAX code: its
    tangents are drawn from the JAX ``key`` (Rademacher, except the local guess's Gaussian). Returns
    ``(minibatch loss (runs,), g (runs, P + H))``; the heads get 0 from the global estimators."""
    jax = load_jax()
    jnp = jax.numpy
    p = nets.n_params(sizes)
    theta = theta_ext[..., :p]
    pad = jnp.zeros(tuple(theta_ext.shape[:-1]) + (theta_ext.shape[-1] - p,))
    if name == "true":
        loss, g = oracles.value_and_grad(lambda th: nets.cross_entropy(th, x, y, sizes), theta, "jax")
    elif name == "weight":
        v = jax.random.rademacher(key, theta.shape, dtype=float)
        loss, g = weight_estimate(theta, x, y, sizes, v, "jax")
    elif name == "activity":
        u = jax.random.rademacher(key, tuple(x.shape[:-1]) + (sum(sizes[1:]),), dtype=float)
        loss, g = activity_estimate(theta, x, y, sizes, u, "jax")
    elif name == "local":
        return local_estimate(theta_ext, x, y, sizes, jax.random.rademacher(key, theta_ext.shape, dtype=float), "jax")
    elif name == "local guess":
        return local_guess_estimate(theta_ext, x, y, sizes, "jax")
    else:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {name!r}")
    return loss, jnp.concatenate([g, pad], axis=-1)


@functools.lru_cache(maxsize=64)
def _segment(name, sizes, alpha):
    """One jitted ``lax.scan`` of SGD steps; the full-batch loss is computed where ``mask`` says."""
    jax = load_jax()
    jnp = jax.numpy

    def step(carry, inputs):
        theta, key = carry
        idx, evaluate, (x, y, lr) = inputs[0], inputs[1], inputs[2]
        key, sub = jax.random.split(key)
        _, g = estimate(name, theta, x[idx], y[idx], sizes, sub, alpha)
        loss = jax.lax.cond(evaluate, lambda t: nets.cross_entropy(t[..., :nets.n_params(sizes)], x, y, sizes),
                            lambda t: jnp.full(t.shape[:-1], jnp.nan), theta)
        return (theta - lr * g, key), loss

    @jax.jit
    def segment(theta, key, idx, mask, x, y, lr):
        body = lambda c, i: step(c, (i[0], i[1], (x, y, lr)))  # noqa: E731
        return jax.lax.scan(body, (theta, key), (idx, mask))

    return segment


def eval_steps(cap, growth=1.05):
    """Steps at which :func:`train` measures the training loss: 0, then a geometric grid of ratio
    ``growth`` up to ``cap`` (every step at first): steps to the target are known to that ratio."""
    grid = np.unique(np.round(growth ** np.arange(0, math.log(cap) / math.log(growth) + 1)).astype(int))
    return np.concatenate([[0], grid[grid <= cap]])


class Run(NamedTuple):
    """Steps to the target of every (learning rate, seed) of :func:`train`: NaN if censored."""

    lrs: np.ndarray  # (L,)
    steps: np.ndarray  # (L, S) first evaluated step with training loss <= target; NaN if never
    cap: int  # steps tried at most
    ran: int  # steps actually run (the sweep stops once some rate has all its seeds at target)
    initial_loss: float


def train(sizes, data, name, lrs, seeds, target, cap, batch_size=32, segment=500, alpha=0.5, seed=0):
    r"""SGD with estimator ``name`` on ``data`` for every learning rate of ``lrs`` and ``seeds`` seeds.

    Seed $s$ fixes the initial network (LeCun normal, zero heads) and the minibatches, shared by
    every estimator and learning rate (common random numbers); the tangents come from a JAX key
    per (estimator seed, ``seed``). The full training cross-entropy is measured at
    :func:`eval_steps`; the runs stop at ``cap`` steps, or as soon as some learning rate has every
    seed at or below ``target`` (no rate can then have a smaller median and be unknown). A NaN is a
    run censored where the runs stopped (``ran``): at ``cap``, or earlier for a slow seed of the
    tuned rate whose median was already known.
    """
    jax = load_jax()
    jnp = jax.numpy
    sizes = tuple(int(n) for n in sizes)
    lrs = np.asarray(lrs, dtype=float)
    net = nets.Net(sizes)
    runs = lrs.size * seeds
    thetas = []
    for s in range(seeds):
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), s, 0]))
        thetas.append(np.concatenate([nets.init_params(rng, net, 1)[0], np.zeros(n_heads(sizes))]))
    theta = jnp.asarray(np.tile(np.stack(thetas), (lrs.size, 1)))
    batches = np.stack([np.random.default_rng(np.random.SeedSequence([int(seed), s, 1])).integers(
        0, len(data.y_train), size=(cap, batch_size)) for s in range(seeds)], axis=1)  # (cap, S, B)
    batches = np.tile(batches, (1, lrs.size, 1))
    key = jax.random.key(int(np.random.SeedSequence([int(seed), ESTIMATORS.index(name)]).generate_state(1)[0]),
                         impl="rbg")
    marks = eval_steps(cap)
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    lr = jnp.asarray(np.repeat(lrs, seeds)[:, None])
    run = _segment(name, sizes, float(alpha))
    initial = np.asarray(nets.cross_entropy(theta[:, :nets.n_params(sizes)], x, y, sizes))
    steps = np.full(runs, np.nan)
    steps[initial <= target] = 0
    done = 0
    while done < cap:
        n = min(segment, cap - done)
        idx = np.zeros((segment, runs, batch_size), dtype=int)
        idx[:n] = batches[done:done + n]
        mask = np.isin(np.arange(done + 1, done + segment + 1), marks) & (np.arange(segment) < n)
        (theta, key), losses = run(theta, key, jnp.asarray(idx), jnp.asarray(mask), x, y, lr)
        losses = np.asarray(losses)[:n]
        hit = (losses <= target) & np.isnan(steps)[None, :]
        first = np.argmax(hit, axis=0)
        new = hit.any(axis=0)
        steps[new] = done + 1 + first[new]
        done += n
        if np.isfinite(steps.reshape(lrs.size, seeds)).all(axis=1).any():
            break  # no rate that has not reached its median yet can have a smaller one
    return Run(lrs, steps.reshape(lrs.size, seeds), int(cap), int(done), float(np.median(initial)))


def tuned(run):
    """``(lr, steps (S,))``: the learning rate whose median steps to target is smallest (censored
    runs count as infinitely many steps), and its per-seed steps (NaN: censored)."""
    med = np.median(np.where(np.isnan(run.steps), np.inf, run.steps), axis=1)
    i = int(np.argmin(med))
    return float(run.lrs[i]), run.steps[i]


def exponent_fit(p, ratios, n_boot, rng):
    r"""The least-squares slope $e$ of $\log r$ against $\log P$, from the median ratio over seeds at
    each $P$, with a bootstrap interval: the seeds of every $P$ are resampled
    (:func:`forwardgrad.statistics.resample`). ``ratios``: ``(n_P, S)``, all finite. Returns
    ``(e, lower, upper, se)``, ``se`` the bootstrap standard deviation."""
    p, ratios = np.log(np.asarray(p, dtype=float)), np.asarray(ratios, dtype=float)
    if not np.all(np.isfinite(ratios) & (ratios > 0)) or p.size < 2:
        raise ValueError("the fit needs at least two sizes and finite positive ratios")

    def slope(r):
        return float(np.polyfit(p, np.log(np.median(r, axis=1)), 1)[0])

    draws = np.stack([statistics.resample(ratios.shape[1], n_boot, rng) for _ in p], axis=1)  # (n_boot, n_P, S)
    boot = np.array([slope(np.take_along_axis(ratios, d, axis=1)) for d in draws])
    lower, upper = statistics.percentile_interval(boot)
    return slope(ratios), float(lower), float(upper), float(boot.std(ddof=1))


def cosines(sizes, data, draws, batch_size=32, alpha=0.5, seed=0):
    r"""The cosine of every estimator of :data:`ESTIMATORS` with the true minibatch gradient (network
    part), at a LeCun-normal initial point with heads at zero: ``{name: (draws,)}``, one minibatch,
    ``draws`` independent tangents (JAX engine)."""
    jax = load_jax()
    jnp = jax.numpy
    sizes = tuple(int(n) for n in sizes)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 2]))
    theta = np.concatenate([nets.init_params(rng, nets.Net(sizes), 1)[0], np.zeros(n_heads(sizes))])
    idx = rng.integers(0, len(data.y_train), batch_size)
    x, y = jnp.asarray(data.x_train[idx]), jnp.asarray(data.y_train[idx])
    thetas = jnp.asarray(np.tile(theta, (draws, 1)))
    p = nets.n_params(sizes)
    grad = np.asarray(estimate("true", thetas[:1], x, y, sizes, None)[1])[0, :p]
    out = {}
    for i, name in enumerate(ESTIMATORS):
        key = jax.random.key(int(np.random.SeedSequence([int(seed), 3, i]).generate_state(1)[0]), impl="rbg")
        g = np.asarray(jax.jit(lambda t, k, n=name: estimate(n, t, x, y, sizes, k, alpha)[1])(thetas, key))[:, :p]
        out[name] = g @ grad / (np.linalg.norm(g, axis=-1) * np.linalg.norm(grad))
    guess = np.asarray(local_gradient(jnp.asarray(theta), x, y, sizes, "jax"))[:p]
    out["guess itself"] = np.array([guess @ grad / (np.linalg.norm(guess) * np.linalg.norm(grad))])
    return out


LRS = {  # learning-rate grids, half decades; a tuned rate on an edge is reported by the chapter
    "true": (0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
    "weight": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2),
    "activity": (0.01, 0.03, 0.1, 0.3, 1.0),
    "local": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2),
    "local guess": (0.1, 0.3, 1.0, 3.0, 10.0),
}


def sweep(widths, data, target, cap, seeds, names=ESTIMATORS, seed=0):
    """:func:`train` for every hidden width of ``widths`` (one tanh layer) and estimator of
    ``names`` at its grid :data:`LRS`; censored runs are kept (NaN steps). Returns
    ``{(width, name): Run}``."""
    return {(int(h), name): train((data.x_train.shape[1], int(h), 10), data, name, LRS[name], seeds, target, cap,
                                  seed=seed)
            for name in names for h in widths}
