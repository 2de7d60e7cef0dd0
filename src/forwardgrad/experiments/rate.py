r"""The code of the chapter *Optimizers* on the $O(1/t)$ rate of SGD under an unbiased oracle (section 3).

SGD with the decreasing step $\eta_t = c/(t + t_0)$ on the strongly convex quadratic
$f(x) = \frac12\sum_i h_i x_i^2$, seen through noisy samples $\ell(x;\xi) = f(x) - \xi^\top x$
(:func:`sample_loss`), with the true gradient of the sample's loss (one reverse pass) or its
forward gradient along a Rademacher tangent (one forward pass). :func:`sgd_losses` runs a batch of
seeded runs, :func:`loglog_fit` fits $\mathbb{E}f(x_t) - f^\star \approx C\,t^{p}$ with bootstrap
standard errors over the runs, and :func:`sgd_rate_study` does both for several dimensions, next
to the exact expectations of :func:`forwardgrad.theory.sgd_mean_loss`.
"""

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from forwardgrad import oracles, statistics, tangents, theory
from forwardgrad.engines import namespace


def sample_loss(h, xi):
    r"""The loss of one sample, $\ell(x;\xi) = \frac12\sum_i h_i x_i^2 - \xi^\top x$, row by row.

    ``xi`` has the shape ``(runs, n)`` of the batch (one sample per run); ``(runs, n) -> (runs,)``.
    $\mathbb{E}_\xi\,\ell = f$ and $\nabla\ell = \nabla f - \xi$: an unbiased gradient whose noise
    does not vanish at the minimum, as for a loss sampled from data.
    """
    f = theory.quadratic(h)

    def loss(x):
        return f(x) - namespace(x).sum(xi * x, axis=-1)

    return loss


def first_step_offset(h, c):
    r"""$t_0 = \lceil c\sum_i h_i^2/\mu\rceil$: the first step $\eta_0 = c/t_0 \le \mu/\sum_i h_i^2$.

    Forward SGD contracts the mean square only while $\eta < 2\mu/\sum_i h_i^2$ (exactly so for
    $h = \mu\mathbf 1$, from :func:`forwardgrad.theory.sgd_mean_loss`: the factor
    $1 - 2\eta\mu + \eta^2 n\mu^2$); $t_0$ starts at half that step, for both gradients.
    """
    h = np.asarray(h, dtype=float)
    return int(math.ceil(c * np.sum(h**2) / h.min()))


def sgd_losses(h, sigma, c, t0, times, gradient, runs, rng, x0=1.0):
    r"""$f(x_t) - f^\star$ of ``runs`` independent SGD runs with $\eta_t = c/(t + t_0)$, at the iterations ``times``.

    $x_{t+1} = x_t - \eta_t\,g_t$ from $x_0$ = ``x0`` (every coordinate), with $g_t$ the true
    gradient (``gradient="true"``) or the Rademacher forward gradient (``"forward"``) of the
    sample loss :func:`sample_loss` at a fresh $\xi_t \sim \mathcal N(0, \sigma^2 I)$; all runs in
    one batch, every draw from ``rng`` (a ``numpy.random.Generator``). ``times`` are sorted
    iteration counts ($t = 0$ is the start); returns shape ``(runs, len(times))``. With $c\mu > 1$
    the expected loss is $O(1/t)$ for any unbiased oracle whose second moment is at most
    $M + M_G\lVert\nabla f\rVert^2$ (Bottou, Curtis & Nocedal 2018, Theorem 4.7; Robbins & Monro
    1951); both oracles here are of that kind.
    """
    if gradient not in theory.SGD_GRADIENTS:
        raise ValueError(f"gradient must be one of {', '.join(theory.SGD_GRADIENTS)}, got {gradient!r}")
    h = np.asarray(h, dtype=float)
    times = np.asarray(times, dtype=int)
    if times.ndim != 1 or times.size == 0 or np.any(np.diff(times) <= 0) or times[0] < 0:
        raise ValueError("times must be a non-empty increasing sequence of iteration counts")
    f = theory.quadratic(h)
    x = np.full((int(runs), h.size), float(x0))
    out = np.empty((int(runs), times.size))
    k = 0
    for t in range(int(times[-1]) + 1):
        if t == times[k]:
            out[:, k] = f(x)
            k += 1
            if k == times.size:
                break
        loss = sample_loss(h, sigma * rng.standard_normal(x.shape))
        if gradient == "forward":
            _, g = oracles.forward_gradient(loss, x, tangents.rademacher(rng, x.shape))
        else:
            _, g = oracles.true_gradient(loss, x)
        x = x - c / (t + t0) * g
    return out


def _slope(x, y):
    """Least-squares slopes of ``y`` on ``x`` along the last axis (``y`` may have leading axes)."""
    x = x - x.mean()
    return np.sum(x * (y - y.mean(axis=-1, keepdims=True)), axis=-1) / np.sum(x**2)


class RateFit(NamedTuple):
    """A fit of $\\mathbb{E}f(x_t) - f^\\star \\approx C\\,\\tau^{p}$ and its bootstrap replicates."""

    exponent: float
    exponent_se: float
    constant: float
    constant_se: float
    boot_exponent: np.ndarray
    boot_constant: np.ndarray


def loglog_fit(tau, losses, n_boot, rng):
    r"""The rate exponent and constant of mean losses over runs, with bootstrap standard errors.

    With $m_k$ the mean of ``losses`` (shape ``(runs, K)``) at the times $\tau_k$: the exponent
    $p$ is the least-squares slope of $\log m_k$ on $\log\tau_k$, and the constant
    $C = \frac1K\sum_k \tau_k m_k$ estimates $\lim \tau\,(\mathbb{E}f - f^\star)$ when $p = -1$.
    Standard errors are the standard deviations over ``n_boot`` resamples of the runs
    (:func:`forwardgrad.statistics.cluster_weights`, every run its own cluster); the replicates
    are returned for statistics of several fits.
    """
    tau = np.asarray(tau, dtype=float)
    losses = np.asarray(losses, dtype=float)
    weights = statistics.cluster_weights(np.arange(losses.shape[0]), n_boot, rng)
    boot = weights @ losses / losses.shape[0]  # (n_boot, K)
    mean = losses.mean(axis=0)
    boot_exponent, boot_constant = _slope(np.log(tau), np.log(boot)), np.mean(tau * boot, axis=-1)
    return RateFit(float(_slope(np.log(tau), np.log(mean))), float(boot_exponent.std(ddof=1)),
                   float(np.mean(tau * mean)), float(boot_constant.std(ddof=1)), boot_exponent, boot_constant)


def recorded_times(h, c, window=(10, 40), points=40):
    r"""The iterations a study records for curvatures ``h`` and step factor ``c``.

    $t_0$ = :func:`first_step_offset`; runs last until $\tau = t + t_0 =$ ``window[1]`` $\cdot t_0$,
    ``points`` log-spaced iterations $t$ are recorded, and the fits use those with
    $\tau \ge$ ``window[0]`` $\cdot t_0$. Returns ``(t0, t, tau, fitted)`` (``fitted`` a mask).
    """
    t0 = first_step_offset(h, c)
    times = np.unique(np.geomspace(1, int(window[1]) * t0 - t0, points).astype(int))
    tau = times + t0
    return t0, times, tau, tau >= window[0] * t0


def exact_fit(h, sigma, c, gradient, window=(10, 40), points=40):
    r"""The fit of :func:`loglog_fit` applied to the exact expectation :func:`forwardgrad.theory.sgd_mean_loss`.

    The exponent and constant a study would measure with infinitely many runs, on the iterations
    of :func:`recorded_times`: the finite-horizon version of $p = -1$ and of
    :func:`forwardgrad.theory.sgd_rate_constant`. Returns ``(exponent, constant, t, loss)`` with
    the exact loss at the recorded iterations $t$.
    """
    t0, times, tau, fitted = recorded_times(h, c, window, points)
    loss = theory.sgd_mean_loss(h, sigma, c, t0, times[-1], gradient)[times]
    exponent = _slope(np.log(tau[fitted]), np.log(loss[fitted]))
    return float(exponent), float(np.mean(tau[fitted] * loss[fitted])), times, loss


def sgd_rate_study(ns, rng, *, sigma=1.0, c=2.0, mu=1.0, L=1.5, window=(10, 40), points=40, work=4096, n_boot=400):
    r"""True and forward SGD with $\eta_t = c/(t + t_0)$ on $f = \frac12\sum_i h_i x_i^2$ for each $n$ in ``ns``.

    The curvatures $h_i$ are spread evenly over $[\mu, L]$; the iterations recorded and fitted
    (:func:`loglog_fit`) are those of :func:`recorded_times`. Each $n$ gets $\lceil$ ``work`` $/n\rceil$ runs per
    gradient (the relative spread of $f$ falls as $1/\sqrt n$). The exact expectations
    (:func:`forwardgrad.theory.sgd_mean_loss`) go through the same fits.

    Returns ``(fits, ratios, curves)``: ``fits`` has one row per (gradient, n) with the measured
    and exact exponents and constants and the limit constant
    (:func:`forwardgrad.theory.sgd_rate_constant`); ``ratios`` one row per $n$ with the constant
    ratio forward / true, measured (with its bootstrap standard error and replicates in column
    ``boot``) and exact; ``curves`` maps (gradient, n) to ``(t, mean loss, exact loss)`` at the
    recorded iterations $t$.
    """
    rows, ratios, curves = [], [], {}
    for n in ns:
        h = np.linspace(mu, L, int(n))
        t0, times, tau, fit_at = recorded_times(h, c, window, points)
        runs = int(math.ceil(work / n))
        fits = {}
        for gradient in theory.SGD_GRADIENTS:
            losses = sgd_losses(h, sigma, c, t0, times, gradient, runs, rng)
            exact_exponent, exact_constant, _, exact = exact_fit(h, sigma, c, gradient, window, points)
            fits[gradient] = fit = loglog_fit(tau[fit_at], losses[:, fit_at], n_boot, rng)
            curves[gradient, int(n)] = (times, losses.mean(axis=0), exact)
            rows.append({"gradient": gradient, "n": int(n), "runs": runs, "t0": t0,
                         "exponent": fit.exponent, "exponent_se": fit.exponent_se, "exact_exponent": exact_exponent,
                         "constant": fit.constant, "constant_se": fit.constant_se, "exact_constant": exact_constant,
                         "limit_constant": theory.sgd_rate_constant(h, sigma, c, gradient)})
        boot = fits["forward"].boot_constant / fits["true"].boot_constant
        exact_ratio = rows[-1]["exact_constant"] / rows[-2]["exact_constant"]
        ratios.append({"n": int(n), "ratio": fits["forward"].constant / fits["true"].constant,
                       "ratio_se": float(boot.std(ddof=1)), "exact_ratio": exact_ratio, "boot": boot})
    return pd.DataFrame(rows), pd.DataFrame(ratios).set_index("n"), curves


def growth_fit(ratios, column="ratio"):
    r"""How the constant ratio grows with $n$: the exponent $q$ of $n^q$ (log-log least squares) and
    the slope $b$ of the straight line $a + bn$, each with its bootstrap standard error.

    ``ratios`` is the table of :func:`sgd_rate_study`; the replicates of its ``boot`` column give
    the standard errors (the $n$ are independent experiments, paired by replicate index). With
    ``column="exact_ratio"`` the standard errors are 0. Predicted: $q = 1$, $b = 1$ (the ratio is
    $n$, :func:`forwardgrad.theory.sgd_rate_constant`). Returns a dict.
    """
    n = ratios.index.to_numpy(dtype=float)
    values = ratios[column].to_numpy(dtype=float)
    boot = np.stack(ratios["boot"].to_numpy(), axis=-1) if column == "ratio" else values[None]
    q, b = _slope(np.log(n), np.log(values)), _slope(n, values)
    return {"exponent": float(q), "exponent_se": float(_slope(np.log(n), np.log(boot)).std(ddof=1)) if column == "ratio" else 0.0,
            "slope": float(b), "slope_se": float(_slope(n, boot).std(ddof=1)) if column == "ratio" else 0.0}
