r"""Closed forms of the chapter *Multi-tangent forward gradients*: alignment, second moments, SGD on the sphere.

An estimate built from $k$ tangents per step: the mean of $k$ forward gradients, or the projection
of $\nabla f$ on the span of the tangents (:func:`forwardgrad.oracles.projected_estimate`). The
chapter checks these formulas by Monte Carlo (:mod:`forwardgrad.montecarlo`) and in descent
(:mod:`forwardgrad.equal_cost`).
"""

import math

import numpy as np
from scipy import special

from forwardgrad import theory


def _sqrt_beta_mean(a, b):
    """E[sqrt(B)] for B ~ Beta(a, b): B(a + 1/2, b) / B(a, b)."""
    return math.exp(special.betaln(a + 0.5, b) - special.betaln(a, b))


def cosine_moments(gradient, n, k):
    r"""$(\mathbb{E}[\cos], \mathbb{E}[\cos^2])$ of an estimate from $k$ Gaussian tangents in $\mathbb{R}^n$.

    Write $v_j = a_j\hat\nabla + w_j$ with $w_j \perp \nabla f$. The mean of $k$ forward gradients
    has $\cos^2 = A/(A + C)$ with independent $A \sim \chi^2_k$ and $C \sim \chi^2_{n-1}$, so
    $\cos^2 \sim \mathrm{Beta}(\frac k2, \frac{n-1}2)$ and $\mathbb{E}[\cos^2] = \frac{k}{k+n-1}$.
    The projection onto the span of the tangents (a uniform random $k$-plane) has
    $\cos^2 = \|P\hat\nabla\|^2 \sim \mathrm{Beta}(\frac k2, \frac{n-k}2)$, so
    $\mathbb{E}[\cos^2] = \frac kn$ for $k < n$, and $\cos = 1$ for $k \ge n$.
    """
    if gradient == "forward":
        a, b = k / 2, (n - 1) / 2
    elif gradient == "projected":
        if k >= n:
            return 1.0, 1.0
        a, b = k / 2, (n - k) / 2
    else:
        raise ValueError("closed forms exist for the forward and projected estimates only")
    return _sqrt_beta_mean(a, b), a / (a + b)


def second_moment(gradient, n, k=1, tangent="rademacher"):
    r"""$\mathbb{E}\|g\|^2 / \|\nabla f\|^2$ for $k$ tangents in $\mathbb{R}^n$.

    The mean of $k$ independent forward gradients: $1 + c/k$ with $c$ the mean squared deviation
    factor of one (:func:`forwardgrad.theory.msd_factor`: $n - 1$ for Rademacher and sphere
    tangents, $n + 1$ for Gaussian ones). The projected estimate $\frac nk P\nabla f$ with
    $\mathbb{E}[P] = \frac kn I$ has $\frac nk$ (for $k \le n$).
    """
    if gradient == "projected":
        return n / min(k, n)
    if gradient != "forward":
        raise ValueError("closed forms exist for the forward and projected estimates only")
    return 1 + float(theory.msd_factor(tangent, n)) / k


def sgd_sphere_ratio(m, lr):
    r"""$\mathbb{E}[f(x - \eta g)]/f(x)$ on $f = \|x\|^2$ for unbiased $g$ with $\mathbb{E}\|g\|^2 = m\|\nabla f\|^2$.

    $\|x - \eta g\|^2$ has mean $\|x\|^2 - 2\eta\,x\cdot 2x + \eta^2 m\,4\|x\|^2$, i.e. the ratio
    $1 - 4\eta + 4\eta^2 m$: below 1 (expected progress) iff $m < 1/\eta$.
    """
    return 1.0 - 4.0 * lr + 4.0 * lr**2 * np.asarray(m, dtype=float)


def sgd_sphere_calls(n, k, lr, gap, gradient="forward", tangent="rademacher"):
    r"""Predicted oracle calls of SGD on $\|x\|^2$ to shrink $\mathbb{E}f$ by the factor ``gap``.

    Each step multiplies $\mathbb{E}f$ by $\rho_k$ = :func:`sgd_sphere_ratio` of
    :func:`second_moment` and costs $k$ calls, so it takes $k\ln(\text{gap})/(-\ln\rho_k)$
    calls; $\infty$ when $\rho_k \ge 1$. With $\ln\rho_k \approx -4\eta + 4\eta^2(1 + (n-1)/k)$
    the best $k$ is near $2\eta(n-1)/(1-\eta)$ for Rademacher tangents.
    """
    rho = sgd_sphere_ratio(second_moment(gradient, n, k, tangent), lr)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rho < 1, k * np.log(gap) / -np.log(np.where(rho < 1, rho, 0.5)), np.inf)
