r"""Logistic regression and a one-hidden-layer perceptron on scikit-learn's digits, batched over runs.

A network is a :class:`Net`: its layer widths ``sizes = (features, hidden..., classes)``. Its
parameters are ONE flat vector $\theta \in \mathbb{R}^P$ per run, so a batch of runs is an array
``(runs, P)``, and the loss maps it to ``(runs,)`` row by row, like a test function of
:mod:`forwardgrad.objectives`: the oracles of :mod:`forwardgrad.oracles` and the optimizers of
:mod:`forwardgrad.optimizers` apply unchanged. The formulas use the array namespace of $\theta$,
so they run on autograd and JAX alike.

:func:`train` is a small seeded minibatch loop (the lockstep descent of
:mod:`forwardgrad.descent` has one fixed objective, while here every step sees a new minibatch, a
different one for every run); each step is :func:`forwardgrad.descent.single_step` on the
minibatch loss. On JAX each chunk of steps is one jitted ``lax.scan``.
"""

import functools
import math
import time
from typing import NamedTuple

import numpy as np

from sklearn.datasets import load_digits as _sklearn_digits
from sklearn.model_selection import train_test_split

from forwardgrad import descent, optimizers
from forwardgrad.engines import check_engine, load_jax, namespace

GRADIENTS = ("true", "forward")


class Digits(NamedTuple):
    """A train/test split of the digits: features ``(n, 64)`` standardised, labels ``(n,)`` in 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(seed=0, test_fraction=0.25):
    r"""scikit-learn's bundled 8×8 digits (1797 images, 10 classes; no download), split and scaled.

    The split is stratified and seeded by ``seed``; every feature is standardised with the mean and
    standard deviation of the training set (a pixel that is constant there is only centred).
    """
    x, y = _sklearn_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x.astype(float), y.astype(int), test_size=test_fraction, random_state=seed, stratify=y
    )
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return Digits((x_train - mean) / std, y_train, (x_test - mean) / std, y_test)


class Net(NamedTuple):
    """A fully connected network by its layer widths ``(features, hidden..., classes)``; tanh inside."""

    sizes: tuple

    @property
    def n_params(self):
        """$P = \\sum_l (n_{l-1} + 1)\\,n_l$: weights and biases of every layer."""
        return n_params(self.sizes)


def logistic_regression(features=64, classes=10):
    """Multinomial logistic regression: no hidden layer, $P = (64 + 1) \\times 10 = 650$ on digits."""
    return Net((int(features), int(classes)))


def mlp(hidden, features=64, classes=10):
    """One hidden tanh layer of width ``hidden``: $P = 65\\,h + (h + 1)\\,10$ on digits."""
    return Net((int(features), int(hidden), int(classes)))


def n_params(sizes):
    """The number of parameters of a network of widths ``sizes``."""
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def unflatten(theta, sizes):
    """Split ``theta`` of shape ``(..., P)`` into ``[(W, b), ...]``, ``W`` of shape ``(..., n_in, n_out)``."""
    if theta.shape[-1] != n_params(sizes):
        raise ValueError(f"a network of widths {tuple(sizes)} has {n_params(sizes)} parameters, "
                         f"got theta of shape {tuple(theta.shape)}")
    lead = tuple(theta.shape[:-1])
    layers, start = [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        w = theta[..., start:start + a * b].reshape(lead + (a, b))
        start += a * b
        layers.append((w, theta[..., start:start + b]))
        start += b
    return layers


def logits(theta, x, sizes):
    r"""Class scores $z = W_L^\top \tanh(\cdots\tanh(W_1^\top x + b_1)\cdots) + b_L$.

    ``theta`` has shape ``(..., P)``; ``x`` has shape ``(B, features)`` (one data batch for every
    run) or ``(runs, B, features)`` (a batch per run), broadcast against the leading axes of
    ``theta``. Returns ``(..., B, classes)``.
    """
    xp = namespace(theta)
    layers = unflatten(theta, sizes)
    h = x
    for i, (w, b) in enumerate(layers):
        h = xp.matmul(h, w) + b[..., None, :]
        if i < len(layers) - 1:
            h = xp.tanh(h)
    return h


def _log_softmax(z):
    xp = namespace(z)
    top = xp.max(z, axis=-1, keepdims=True)  # its derivative cancels; it only prevents overflow
    shifted = z - top
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def one_hot(y, classes):
    """Labels ``(..., B)`` as one-hot rows ``(..., B, classes)`` of floats."""
    xp = namespace(y)
    return (y[..., None] == xp.arange(classes)) * 1.0


def cross_entropy(theta, x, y, sizes):
    r"""Mean cross-entropy $\frac1B\sum_i -\log \mathrm{softmax}(z_i)_{y_i}$ of a batch, per run.

    Shapes as in :func:`logits`, with labels ``y`` of shape ``(B,)`` or ``(runs, B)``; returns
    ``theta.shape[:-1]``.
    """
    log_p = _log_softmax(logits(theta, x, sizes))
    return -(log_p * one_hot(y, sizes[-1])).sum(axis=-1).mean(axis=-1)


def accuracy(theta, x, y, sizes):
    """Fraction of the batch whose highest score is the true class, per run: ``theta.shape[:-1]``."""
    xp = namespace(theta)
    return ((xp.argmax(logits(theta, x, sizes), axis=-1) == y) * 1.0).mean(axis=-1)


def loss_function(net, x, y):
    """$\\theta \\mapsto$ the cross-entropy of ``net`` on the fixed batch ``(x, y)``: ``(..., P) -> (...)``."""
    sizes = tuple(net.sizes)

    def f(theta):
        return cross_entropy(theta, x, y, sizes)

    return f


def init_params(rng, net, runs):
    r"""LeCun-normal weights $W_{ij} \sim \mathcal N(0, 1/n_\text{in})$ and zero biases: ``(runs, P)``."""
    pieces = []
    for a, b in zip(net.sizes[:-1], net.sizes[1:]):
        pieces.append(rng.standard_normal((runs, a * b)) / math.sqrt(a))
        pieces.append(np.zeros((runs, b)))
    return np.concatenate(pieces, axis=-1)


class TrainResult(NamedTuple):
    """Learning curves of :func:`train`; runs on the last axis, ``lr`` and ``repeat`` say which is which."""

    steps: np.ndarray  # (E,) steps at which the runs were evaluated
    train_loss: np.ndarray  # (E, runs) full-batch training cross-entropy
    test_accuracy: np.ndarray  # (E, runs) accuracy on the test set
    lr: np.ndarray  # (runs,) learning rate of each run
    repeat: np.ndarray  # (runs,) repeat index (its initial point and minibatches)
    theta: np.ndarray  # (runs, P) final parameters
    chunk_seconds: np.ndarray  # (steps / chunk_steps,) wall time of each chunk of steps, all runs
    chunk_steps: int  # steps per chunk (train's eval_every)


def _draw_batches(seed, steps, repeats, n, batch_size):
    """Minibatch indices ``(steps, repeats, batch_size)``, drawn with replacement, one stream per seed."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    return rng.integers(0, n, size=(steps, repeats, batch_size))


def _check(gradient, k, engine):
    check_engine(engine)
    if gradient not in GRADIENTS:
        raise ValueError(f"gradient must be one of {', '.join(GRADIENTS)}, got {gradient!r}")
    if int(k) != k or k < 1:
        raise ValueError(f"k (tangents per step) must be a positive integer, got {k}")


def minibatch_step(theta, state, rng, idx, lr, x, y, *, sizes, optimizer, gradient, k, law, engine):
    """One minibatch step of every run: ``idx`` ``(runs, B)`` picks each run's examples of ``(x, y)``.

    :func:`forwardgrad.descent.single_step` on the minibatch loss, with ``optimizer`` (built at
    learning rate 1) scaled per run by ``lr`` (:func:`forwardgrad.optimizers.scale_by_row`). See
    :func:`make_chunk` for the arguments.
    """
    xb, yb = x[idx], y[idx]  # (runs, B, features), (runs, B)

    def f(th):
        return cross_entropy(th, xb, yb, sizes)

    arm = descent.Arm(optimizers.scale_by_row(optimizer, lr), gradient, law, k=k)
    _, _, delta, state, rng = descent.single_step(f, arm, engine)(theta, state, rng)
    return theta + delta, state, rng


@functools.lru_cache(maxsize=None)
def unit_optimizer(name):
    """The optimizer ``name`` at learning rate 1, one object per name (so compiled loops are reused)."""
    return optimizers.get(name, lr=1.0)


@functools.lru_cache(maxsize=64)
def _compiled_chunk(sizes, optimizer, gradient, k, law):
    """One jitted ``lax.scan`` of :func:`minibatch_step` per configuration; shapes are traced arguments."""
    jax = load_jax()
    config = dict(sizes=sizes, optimizer=optimizer, gradient=gradient, k=k, law=law, engine="jax")

    @jax.jit
    def scan_chunk(theta, state, key, idx, lr, x, y):
        def body(carry, i):
            return minibatch_step(*carry, i, lr, x, y, **config), None

        return jax.lax.scan(body, (theta, state, key), idx)[0]

    return scan_chunk


def make_chunk(net, data, optimizer, gradient="true", *, k=1, tangent="rademacher", engine="autograd"):
    r"""The training step, repeated: ``(theta, state, rng, idx, lr) -> (theta, state, rng)``.

    For every row of ``idx`` (shape ``(steps, runs, B)``: one minibatch per run and step) it makes
    the step $\theta \leftarrow \theta + \alpha\,\delta(g)$ with $g$ the true gradient of the
    minibatch loss (one vjp) or the mean of $k$ forward gradients (one jvp over $k$ stacked copies),
    and $\delta$ the step of ``optimizer`` built at learning rate 1 (see :func:`unit_optimizer`);
    ``lr`` (shape ``(runs, 1)``) scales it per run. This is exact for every optimizer of
    :mod:`forwardgrad.optimizers`: each returns $-\alpha$ times a direction that does not depend
    on $\alpha$, and a state that does not either. ``rng`` is a ``numpy.random.Generator`` on
    autograd and a JAX key on JAX, where the chunk is one jitted ``lax.scan``.
    """
    _check(gradient, k, engine)
    config = dict(sizes=tuple(net.sizes), optimizer=optimizer, gradient=gradient, k=int(k),
                  law=tangent)
    if engine == "autograd":
        x, y = np.asarray(data.x_train, dtype=float), np.asarray(data.y_train)

        def chunk(theta, state, rng, idx, lr):
            for i in range(len(idx)):
                theta, state, rng = minibatch_step(theta, state, rng, idx[i], lr, x, y, engine="autograd", **config)
            return theta, state, rng

        return chunk

    jnp = load_jax().numpy
    scan_chunk = _compiled_chunk(**config)
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)

    def chunk(theta, state, key, idx, lr):
        return scan_chunk(theta, state, key, jnp.asarray(idx), jnp.asarray(lr), x, y)

    return chunk


def _evaluate(theta, x_train, y_train, x_test, y_test, sizes):
    return cross_entropy(theta, x_train, y_train, sizes), accuracy(theta, x_test, y_test, sizes)


@functools.lru_cache(maxsize=16)
def _compiled_evaluate(sizes):
    jax = load_jax()
    return jax.jit(functools.partial(_evaluate, sizes=sizes))


def evaluate(net, data, theta, engine="autograd"):
    """Full-batch training cross-entropy and test accuracy of every run: two arrays ``theta.shape[:-1]``."""
    check_engine(engine)
    if engine == "autograd":
        return _evaluate(np.asarray(theta, dtype=float), *data, tuple(net.sizes))
    jnp = load_jax().numpy
    return _compiled_evaluate(tuple(net.sizes))(jnp.asarray(theta), *(jnp.asarray(a) for a in data))


def train(net, data, *, optimizer="adam", lrs=(1e-3,), gradient="true", k=1, tangent="rademacher",
          steps=1000, batch_size=64, repeats=3, seed=0, eval_every=50, eval_steps=None, engine="jax"):
    r"""Train ``net`` on ``data`` for every learning rate of ``lrs`` and ``repeats`` seeded repeats.

    All ``len(lrs) * repeats`` runs advance together (run ``i * repeats + r`` has learning rate
    ``lrs[i]`` and repeat ``r``). Repeat ``r`` has the same initial point and the same minibatches
    (``batch_size`` examples drawn with replacement per step) for every learning rate, every
    optimizer and every gradient oracle with the same ``seed``: the comparisons share their random
    numbers, except the tangents. ``optimizer`` is a name of :mod:`forwardgrad.optimizers` (built
    at lr 1 and scaled per run, see :func:`make_chunk`). The runs advance in chunks of
    ``eval_every`` steps (one compiled loop each on JAX); the training loss (full batch) and the test
    accuracy are recorded at the steps ``eval_steps`` (multiples of ``eval_every`` from 0 to
    ``steps``; default: all of them), and the wall time of every chunk (on JAX, compilation happens
    before the first).
    """
    _check(gradient, k, engine)
    if steps % eval_every:
        raise ValueError(f"steps ({steps}) must be a multiple of eval_every ({eval_every})")
    every = np.arange(0, steps + 1, eval_every)
    eval_steps = every if eval_steps is None else np.unique(np.asarray(eval_steps, dtype=int))
    if not np.isin(eval_steps, every).all():
        raise ValueError(f"eval_steps must be multiples of eval_every ({eval_every}) in [0, {steps}]")
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    if lrs.size == 0 or not np.all(np.isfinite(lrs) & (lrs > 0)):
        raise ValueError("lrs must be positive finite learning rates")
    repeat_of_run = np.tile(np.arange(repeats), lrs.size)
    lr_of_run = np.repeat(lrs, repeats)
    init_rng, tangent_rng = (np.random.default_rng(s) for s in np.random.SeedSequence([int(seed), 0]).spawn(2))
    theta = init_params(init_rng, net, repeats)[repeat_of_run]
    batches = _draw_batches(seed, steps, repeats, len(data.y_train), batch_size)[:, repeat_of_run]
    opt = unit_optimizer(optimizer)
    chunk = make_chunk(net, data, opt, gradient, k=k, tangent=tangent, engine=engine)
    if engine == "jax":
        jax = load_jax()
        theta = jax.numpy.asarray(theta)
        rng = jax.random.key(int(tangent_rng.integers(0, 2**32, dtype=np.uint64)), impl="rbg")
    else:
        rng = tangent_rng
    state = opt.init(theta)
    lr = lr_of_run[:, None]
    if engine == "jax":  # compile outside the timed intervals (the result is discarded)
        jax.block_until_ready(chunk(theta, state, rng, batches[:eval_every], lr))
    losses, accuracies, seconds = [], [], []
    for start in every:
        if start in eval_steps:
            loss, acc = evaluate(net, data, theta, engine)
            losses.append(np.asarray(loss, dtype=float))
            accuracies.append(np.asarray(acc, dtype=float))
        if start < steps:
            clock = time.perf_counter()
            theta, state, rng = chunk(theta, state, rng, batches[start:start + eval_every], lr)
            if engine == "jax":
                jax.block_until_ready(theta)
            seconds.append(time.perf_counter() - clock)
    return TrainResult(
        steps=eval_steps,
        train_loss=np.stack(losses),
        test_accuracy=np.stack(accuracies),
        lr=lr_of_run,
        repeat=repeat_of_run,
        theta=np.asarray(theta, dtype=float),
        chunk_seconds=np.asarray(seconds),
        chunk_steps=int(eval_every),
    )


def best_lr(result):
    """The learning rate whose runs end with the lowest mean training loss (diverged runs: $\\infty$)."""
    final = np.where(np.isfinite(result.train_loss[-1]), result.train_loss[-1], np.inf)
    lrs = np.unique(result.lr)
    means = [final[result.lr == lr].mean() for lr in lrs]
    return float(lrs[int(np.argmin(means))])


def first_step(result, threshold, lr=None, metric="test_accuracy"):
    """Per run at learning rate ``lr`` (default :func:`best_lr`): the first evaluated step with
    ``metric`` at least ``threshold`` (``"test_accuracy"``) or at most ``threshold``
    (``"train_loss"``); NaN if none. Returns ``(repeats,)``."""
    if metric not in ("test_accuracy", "train_loss"):
        raise ValueError(f"metric must be 'test_accuracy' or 'train_loss', got {metric!r}")
    lr = best_lr(result) if lr is None else lr
    values = getattr(result, metric)[:, result.lr == lr]
    reached = values >= threshold if metric == "test_accuracy" else values <= threshold
    return np.where(reached.any(axis=0), result.steps[np.argmax(reached, axis=0)], np.nan)


def seconds_per_step(result):
    """Wall seconds per step of one run: the fastest chunk of :func:`train`, divided by its number
    of steps and of runs (all runs advance together, so each is charged its share)."""
    return float(result.chunk_seconds.min() / (result.chunk_steps * result.lr.size))


def steps_to_loss(result, level, lr=None):
    """Steps until the median (over repeats) training loss at learning rate ``lr`` (default
    :func:`best_lr`) first falls to ``level``, linearly interpolated between the two evaluations
    around the crossing; 0 if it starts there, NaN if it never gets there."""
    lr = best_lr(result) if lr is None else lr
    curve = np.median(result.train_loss[:, result.lr == lr], axis=1)
    below = np.nonzero(curve <= level)[0]
    if below.size == 0:
        return np.nan
    i = int(below[0])
    if i == 0:
        return 0.0
    s0, s1, c0, c1 = result.steps[i - 1], result.steps[i], curve[i - 1], curve[i]
    return float(s0 + (s1 - s0) * (c0 - level) / (c0 - c1))
