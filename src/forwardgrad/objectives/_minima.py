"""Global minima that have no closed form, computed from the formula and cached.

Used where a separable function reduces to one-dimensional problems (Michalewicz), so the minimum
is known in every dimension instead of the literature's d = 2, 5, 10 only.
"""

import functools

import numpy as np


def _michalewicz_derivatives(x, i, n):
    """``g, g', g''`` of ``g(x) = -sin(x) sin(theta)^n``, ``theta = i x^2 / pi`` (elementwise)."""
    a, b = np.cos(x), np.sin(x)
    theta = i * x * x / np.pi
    s, c = np.sin(theta), np.cos(theta)
    t1, t2 = 2 * i * x / np.pi, 2 * i / np.pi  # theta', theta''
    g = -b * s**n
    g1 = -(a * s**n + b * n * s ** (n - 1) * c * t1)
    g2 = -(-b * s**n + 2 * a * n * s ** (n - 1) * c * t1
           + b * n * ((n - 1) * s ** (n - 2) * c * c * t1 * t1 - s**n * t1 * t1
                      + s ** (n - 1) * c * t2))
    return g, g1, g2


@functools.lru_cache(maxsize=None)
def michalewicz_coordinates(d, m=10):
    """``(x, g)``: for each i = 1..d the minimizer and minimum on ``[0, pi]`` of
    ``-sin(x) sin(i x^2/pi)^(2m)``.

    The factor ``sin(i x^2/pi)^(2m)`` peaks where ``i x^2/pi = pi/2 + k pi``; each local minimum
    sits next to one of these peaks, so Newton's method (analytic derivatives) from every peak,
    for every i at once, finds all the candidates; the lowest per i is kept.
    """
    i = np.arange(1, d + 1, dtype=float)[:, None]
    k = np.arange(0, d + 1, dtype=float)[None, :]
    x = np.pi * np.sqrt((k + 0.5) / i)
    valid = x <= np.pi
    x = np.where(valid, x, np.pi / 2)
    for _ in range(50):
        _, g1, g2 = _michalewicz_derivatives(x, i, 2 * m)
        x = np.clip(x - np.where(g2 > 0, g1 / np.where(g2 > 0, g2, 1.0), 0.0), 0.0, np.pi)
    g = np.where(valid, _michalewicz_derivatives(x, i, 2 * m)[0], np.inf)
    best = np.argmin(g, axis=1)
    rows = np.arange(d)
    return x[rows, best], g[rows, best]
