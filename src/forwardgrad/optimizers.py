r"""First-order optimizers as pure ``(init, update)`` pairs, in the optax convention.

Your own optimizer joins the benchmark by the same contract (see :mod:`forwardgrad.plugins`): a
factory ``make(lr) -> Optimizer(init, update)`` like those of :data:`OPTIMIZERS`, named by import
path on the command line (``--optimizers sgd,adam,mypkg.mymodule:lion``) or passed as the object.

``state = opt.init(x)``; ``step, state = opt.update(g, state)``; the caller does ``x = x + step``.
States are immutable NamedTuples whose arrays have the shape of ``x`` (runs on the leading axes),
so one optimizer advances a whole batch of independent runs. The updates are written against the
array namespace of ``g``, so the same code runs in the NumPy loop and in the compiled JAX loop.
Belouze (2022), section 3.
"""

import difflib
import math
from typing import Any, Callable, NamedTuple

import numpy as np

from forwardgrad.engines import namespace


class Optimizer(NamedTuple):
    """An optimizer: ``init(x) -> state`` and ``update(g, state) -> (step, state)``."""

    init: Callable
    update: Callable
    name: str = ""


class CountState(NamedTuple):
    """The state of an optimizer without moments: the number of updates made."""

    count: Any


class MomentState(NamedTuple):
    """The state of Adam and AdaBelief: the count, the first moment ``mu`` and the second ``nu``."""

    count: Any
    mu: Any
    nu: Any


def _positive(value, name):
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return value


def _decay(value, name):
    value = float(value)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must lie in [0, 1), got {value}")
    return value


def _count_init(x):
    return CountState(count=namespace(x).zeros(()))


def _moment_init(x):
    xp = namespace(x)
    return MomentState(count=xp.zeros(()), mu=xp.zeros_like(x), nu=xp.zeros_like(x))


def sgd(lr):
    r"""Stochastic gradient descent (Robbins & Monro, 1951): $\delta x = -\alpha\, g$."""
    lr = _positive(lr, "lr")

    def update(g, state):
        return -lr * g, CountState(state.count + 1)

    return Optimizer(_count_init, update, "sgd")


def clipped_sgd(lr, clip=1.0):
    r"""SGD on the gradient clipped coordinate-wise onto the $\ell_\infty$ ball of radius ``clip``.

    $\delta x = -\alpha\,\mathrm{clip}(g, -c, c)$ (Belouze 2022, section 4.2.1): coordinates larger
    than $c$ in magnitude are replaced by $c$ times their sign.
    """
    lr = _positive(lr, "lr")
    clip = _positive(clip, "clip")

    def update(g, state):
        return -lr * namespace(g).clip(g, -clip, clip), CountState(state.count + 1)

    return Optimizer(_count_init, update, "clipped_sgd")


EPS_FORMS = ("outside", "inside", "inside_raw")
r"""Where Adam's $\varepsilon$ goes: ``"outside"`` the root, $\hat\mu/(\sqrt{\hat\nu}+\varepsilon)$
(Kingma & Ba, 2015, Algorithm 1); ``"inside"``, $\hat\mu/\sqrt{\hat\nu+\varepsilon}$ (Belouze 2022,
section 3); ``"inside_raw"``, into $\nu$ before its bias correction,
$\hat\mu/\sqrt{(\nu+\varepsilon)/(1-\beta_2^t)}$ (Belouze 2022, appendix)."""


def adam(lr, b1=0.9, b2=0.999, eps=1e-8, eps_form="outside"):
    r"""Adam (Kingma & Ba, 2015).

    $\mu_t = \beta_1\mu_{t-1} + (1-\beta_1)g_t$, $\nu_t = \beta_2\nu_{t-1} + (1-\beta_2)g_t^2$,
    $\delta x = -\alpha\,\hat\mu_t/(\sqrt{\hat\nu_t}+\varepsilon)$ with
    $\hat\mu_t = \mu_t/(1-\beta_1^t)$, $\hat\nu_t = \nu_t/(1-\beta_2^t)$. The first step is
    $-\alpha\, g/(|g|+\varepsilon) \approx -\alpha\,\mathrm{sign}(g)$. The paper writes
    $\sqrt{\hat\nu+\varepsilon}$ in section 3 and $\sqrt{(\nu+\varepsilon)/(1-\beta_2^t)}$ in
    its appendix; ``eps_form`` (one of :data:`EPS_FORMS`) selects them, and the default keeps
    Kingma & Ba's. The forms differ only where $\hat\nu$ is not large against $\varepsilon$.
    """
    lr = _positive(lr, "lr")
    b1, b2 = _decay(b1, "b1"), _decay(b2, "b2")
    eps = float(eps)
    if eps_form not in EPS_FORMS:
        raise ValueError(f"eps_form must be one of {', '.join(EPS_FORMS)}, got {eps_form!r}")

    def update(g, state):
        xp = namespace(g)
        count = state.count + 1
        mu = b1 * state.mu + (1 - b1) * g
        nu = b2 * state.nu + (1 - b2) * g**2
        mu_hat = mu / (1 - b1**count)
        if eps_form == "outside":
            return -lr * mu_hat / (xp.sqrt(nu / (1 - b2**count)) + eps), MomentState(count, mu, nu)
        # the inside forms multiply by the root of a reciprocal instead of dividing by a root,
        # which XLA would compute with a reciprocal root whose rounding depends on the CPU
        # (see forwardgrad.engines.scaled_to_norm)
        inside = nu / (1 - b2**count) + eps if eps_form == "inside" else (nu + eps) / (1 - b2**count)
        return -lr * mu_hat * xp.sqrt(1.0 / inside), MomentState(count, mu, nu)

    name = "adam" if eps_form == "outside" else f"adam_eps_{eps_form}"
    return Optimizer(_moment_init, update, name)


def adam_eps_inside(lr, b1=0.9, b2=0.999, eps=1e-8):
    r"""Adam as section 3 of Belouze (2022) writes it: $\delta x = -\alpha\,\hat\mu_t/\sqrt{\hat\nu_t+\varepsilon}$."""
    return adam(lr, b1, b2, eps, eps_form="inside")


def adam_eps_inside_raw(lr, b1=0.9, b2=0.999, eps=1e-8):
    r"""Adam as the appendix of Belouze (2022) writes it, $\varepsilon$ added to $\nu_t$ before the
    bias correction: $\delta x = -\alpha\,\hat\mu_t/\sqrt{(\nu_t+\varepsilon)/(1-\beta_2^t)}$."""
    return adam(lr, b1, b2, eps, eps_form="inside_raw")


def adabelief(lr, b1=0.9, b2=0.999, eps=1e-8):
    r"""AdaBelief (Zhuang et al., 2020, Algorithm 2).

    Adam with the second moment replaced by the belief
    $s_t = \beta_2 s_{t-1} + (1-\beta_2)(g_t-\mu_t)^2 + \varepsilon$, and
    $\delta x = -\alpha\,\hat\mu_t/(\sqrt{\hat s_t}+\varepsilon)$. The first step is
    $-\alpha\, g/(\sqrt{\beta_1^2 g^2 + \varepsilon/(1-\beta_2)} + \varepsilon)$.
    """
    lr = _positive(lr, "lr")
    b1, b2 = _decay(b1, "b1"), _decay(b2, "b2")
    eps = float(eps)

    def update(g, state):
        xp = namespace(g)
        count = state.count + 1
        mu = b1 * state.mu + (1 - b1) * g
        nu = b2 * state.nu + (1 - b2) * (g - mu) ** 2 + eps
        mu_hat = mu / (1 - b1**count)
        nu_hat = nu / (1 - b2**count)
        return -lr * mu_hat / (xp.sqrt(nu_hat) + eps), MomentState(count, mu, nu)

    return Optimizer(_moment_init, update, "adabelief")


def scale_by_row(optimizer, lr):
    r"""The optimizer with run $r$ (row $r$ of the batch) at its own learning rate $\alpha_r$.

    .. math:: \delta x_r = \alpha_r\, \delta x_r^{(\alpha = 1)}

    ``optimizer`` must be built with ``lr=1``; ``lr`` has one entry per run (shape ``(runs,)`` or
    ``(runs, 1)``; a traced JAX array inside a compiled loop). Exact for SGD, clipped SGD, Adam and
    AdaBelief, whose steps are proportional to the learning rate and whose states do not depend
    on it. A whole grid of learning rates then advances as one batch.
    """
    if isinstance(lr, (list, tuple, float, int)) or type(lr).__module__ == "numpy":
        lr = np.asarray(lr, dtype=float)
        if lr.ndim == 0 or not np.all(np.isfinite(lr) & (lr > 0)):
            raise ValueError("learning rates must be positive finite numbers, one per run")
    lr = lr.reshape(-1, 1)

    def update(g, state):
        if g.shape[0] != lr.shape[0]:
            raise ValueError(f"{lr.shape[0]} learning rates for a batch of {g.shape[0]} runs")
        step, state = optimizer.update(g, state)
        return lr * step, state

    return Optimizer(optimizer.init, update, optimizer.name)


OPTIMIZERS = {"sgd": sgd, "clipped_sgd": clipped_sgd, "adam": adam, "adabelief": adabelief,
              "adam_eps_inside": adam_eps_inside, "adam_eps_inside_raw": adam_eps_inside_raw}


def get(name, **hyper):
    """Build the optimizer registered as ``name`` with hyperparameters ``hyper`` (e.g. ``lr``)."""
    try:
        make = OPTIMIZERS[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), OPTIMIZERS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KeyError(
            f"unknown optimizer {name!r}; valid optimizers are {', '.join(OPTIMIZERS)}.{hint}"
        ) from None
    return make(**hyper)
