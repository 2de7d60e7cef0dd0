"""The guided estimate: unbiased, with the second moment of its closed form."""

import math

import numpy as np
import pytest

import forwardgrad as fg
from forwardgrad import montecarlo, statistics
from forwardgrad.experiments import guided

from helpers import rosen


def test_guided_second_moment_and_unbiasedness():
    n, alpha, c = 8, 0.3, 0.7
    rng = np.random.default_rng(3)
    x = rng.standard_normal(n)
    _, g_true = fg.oracles.true_gradient(rosen, x)
    unit = g_true / np.linalg.norm(g_true)
    w = rng.standard_normal(n)
    w -= (w @ unit) * unit
    u = c * unit + math.sqrt(1 - c * c) * w / np.linalg.norm(w)
    g = montecarlo.sample_estimates(rosen, x, "guided", rng, 40000, guess=u, alpha=alpha)
    mean, se = statistics.mean_se(g)
    assert np.all(np.abs(mean - g_true) < 4.5 * se)
    m2, m2_se = statistics.mean_se((g**2).sum(axis=1) / (g_true @ g_true))
    assert abs(m2 - guided.guided_second_moment(n, alpha, c)) < 5 * m2_se
    # alpha = 1 is the isotropic Gaussian forward gradient, whatever the guess
    assert guided.guided_second_moment(n, 1.0, np.array([0.0, 1.0])) == pytest.approx([n + 2, n + 2])
    # a better guess gives a larger second moment
    assert guided.guided_second_moment(n, alpha, 0.9) > guided.guided_second_moment(n, alpha, 0.1)
