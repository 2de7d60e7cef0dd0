r"""The computations behind the chapter *Forward gradients on linear objectives*: plane isopleths.

Belouze (2022), section 4.2.2, after showing that forward and true SGD have the same expected gain
on $f = \mu^\top\theta$: "the derivation above remains valid if the gradient has only constant
direction with possibly varying norm. That is, in a region where the isopleths are plane and
parallel, we expect forward gradient descent and true gradient descent to perform equally well."

Such functions are the *ridge functions* $f(x) = h(\mu^\top x)$ of approximation theory
(Pinkus, *Ridge Functions*, 2015): $\nabla f = h'(\mu^\top x)\,\mu$. A forward SGD step
$x - \eta\,(\nabla f\cdot v)\,v$ moves $s = \mu^\top x$ by $-\eta\,h'(s)\,(\mu^\top v)^2$, whose
mean is the true step's $-\eta\,h'(s)\|\mu\|^2$; what is left of it moves $x$ along the isopleths
and does not change $f$. The one-dimensional walk of $s$ depends on $d$ only through the law of
$(\mu^\top v)^2/\|\mu\|^2$, whose variance for Rademacher tangents is
$2(1 - \sum_i\mu_i^4/\|\mu\|^4) < 2$ in every dimension.

- :func:`ridge`, :func:`log_cosh`, :func:`half_square`: the objectives;
- :func:`fourth_moment`, :func:`square_ridge_mean_f`: the closed forms of the quadratic ridge;
- :func:`compare_sgd`: forward against true SGD from one start, in one lockstep descent.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from forwardgrad import descent, optimizers, statistics
from forwardgrad.engines import namespace
from forwardgrad.experiments import trajectories


def log_cosh(xp, s):
    r"""$h(s) = \log\cosh s$, convex, $0 \le h'' \le 1$, minimum 0 at 0; written as
    $|s| + \log(1 + e^{-2|s|}) - \log 2$ so that it does not overflow."""
    a = xp.abs(s)
    return a + xp.log1p(xp.exp(-2.0 * a)) - np.log(2.0)


def half_square(xp, s):
    r"""$h(s) = s^2/2$, $h'' = 1$, minimum 0 at 0."""
    return 0.5 * s * s


def ridge(mu, h):
    r"""The ridge function $f(x) = h(\mu^\top x)$, ``(..., d) -> (...)``.

    ``h(xp, s)`` is a profile such as :func:`log_cosh` or :func:`half_square`. Its isopleths are
    the hyperplanes $\mu^\top x = c$ and its gradient $h'(\mu^\top x)\,\mu$ has a constant
    direction: the setting of Belouze (2022), section 4.2.2, "plane and parallel" isopleths.
    """
    mu = np.asarray(mu, dtype=float)

    def f(x):
        xp = namespace(x)
        return h(xp, xp.sum(x * mu, axis=-1))

    return f


def fourth_moment(mu):
    r"""$\mathbb{E}(\mu^\top v)^4 = 3\|\mu\|^4 - 2\sum_i\mu_i^4$ for Rademacher $v$.

    $\mathbb{E}[v_iv_jv_kv_l]$ is 1 when the indices pair up and $v_i^4 = 1$ is counted once, not
    three times; so $\mathrm{Var}(\mu^\top v)^2 = 2(\|\mu\|^4 - \sum_i\mu_i^4)$, which is 0 for an
    axis-parallel $\mu$ (every step is then the true one along $\mu$).
    """
    mu = np.asarray(mu, dtype=float)
    return 3.0 * np.sum(mu**2) ** 2 - 2.0 * np.sum(mu**4)


def square_ridge_mean_f(mu, lr, steps, f0):
    r"""$\mathbb{E}f(x_t)$, $t = 0, \dots,$ ``steps``, of forward and of true SGD on $f = (\mu^\top x)^2/2$.

    $s_{t+1} = (1 - \eta X_t)\,s_t$ with $X_t = (\mu^\top v_t)^2$ (forward, Rademacher) or
    $X_t = \|\mu\|^2$ (true), so $\mathbb{E}f(x_t) = f_0\,\rho^t$ with
    $\rho_\text{fwd} = 1 - 2\eta\|\mu\|^2 + \eta^2\,\mathbb{E}(\mu^\top v)^4$ (:func:`fourth_moment`)
    and $\rho_\text{true} = (1 - \eta\|\mu\|^2)^2$. The forward factor exceeds the true one by
    $\eta^2\,\mathrm{Var}(\mu^\top v)^2$: equal expected gains (first order in $\eta$), but the
    excess compounds. Returns ``(forward, true)``, each of shape ``(steps + 1,)``.
    """
    norm2 = float(np.sum(np.asarray(mu, dtype=float) ** 2))
    t = np.arange(int(steps) + 1)
    rho_forward = 1.0 - 2.0 * lr * norm2 + lr**2 * fourth_moment(mu)
    rho_true = (1.0 - lr * norm2) ** 2
    return f0 * rho_forward**t, f0 * rho_true**t


class Comparison(NamedTuple):
    """Outcome of :func:`compare_sgd`; the excess is $f - f^\\star$."""

    true_excess: np.ndarray  # (steps + 1,) the true run
    forward_excess: np.ndarray  # (steps + 1, runs) the forward runs
    steps: pd.Series  # trajectories.compare_to_true's row: true, forward (median), ratio and its interval
    mean_excess: pd.Series  # at the true run's step to target: forward mean / true, with its interval


def compare_sgd(f, x0, lr, *, runs, steps, target, rng, f_star=0.0, n_boot=2000, level=0.99):
    r"""Forward (Rademacher) against true SGD at learning rate ``lr`` from the start ``x0`` (d,).

    One true run and ``runs`` forward runs advance in lockstep for ``steps`` steps
    (:func:`forwardgrad.descent.descend_arms`, keys drawn from the seeded ``rng``); $f$ is recorded
    at every step, and ``target`` is a threshold whose first hit is recorded without stopping the
    run. Two summaries:

    - steps to ``target``: the median of the forward runs over the true run's steps, with the
      percentile bootstrap interval at ``level`` (:func:`forwardgrad.experiments.trajectories.compare_to_true`);
    - the expected excess $\mathbb{E}[f(x_T)] - f^\star$ of the forward runs over the true run's,
      at the step $T$ where the true run reaches ``target``, with the bootstrap interval of the
      mean at ``level`` (:func:`forwardgrad.statistics.resample`).
    """
    x0 = np.asarray(x0, dtype=float).reshape(1, -1)
    arms = [descent.Arm(optimizers.sgd(lr), "true"), descent.Arm(optimizers.sgd(lr), "forward", "rademacher")]
    result = descent.descend_arms(f, arms, [x0, np.repeat(x0, int(runs), axis=0)], rng=rng, max_steps=int(steps),
                                  ladder=(target,), record=range(int(steps) + 1))
    hit = result.ladder_hits[:, 0]
    if np.isnan(hit[0]):
        raise ValueError("the true run did not reach the target within the steps given")
    table = trajectories.compare_to_true(hit[:1], hit[None, 1:], rng, n_boot=n_boot, level=level).iloc[0]
    excess = result.f_trajectory - f_star
    true_excess, forward_excess = excess[:, 0], excess[:, 1:]
    at = forward_excess[int(hit[0])]
    means = at[statistics.resample(at.size, n_boot, rng)].mean(axis=-1)
    lower, upper = statistics.percentile_interval(means, level)
    scale = true_excess[int(hit[0])]
    mean_excess = pd.Series({"step": int(hit[0]), "ratio": at.mean() / scale,
                             "ratio_lower": float(lower) / scale, "ratio_upper": float(upper) / scale})
    return Comparison(true_excess, forward_excess, table, mean_excess)
