"""Monte Carlo of one estimator at one point."""

import numpy as np
import pytest

from forwardgrad import montecarlo

from helpers import rosen


def test_finite_difference_samples_converge_to_forward_gradients():
    x = np.array([0.3, -0.7, 1.1])
    fd = montecarlo.sample_estimates(rosen, x, "fd", np.random.default_rng(5), 50, eps=1e-7)
    fwd = montecarlo.sample_estimates(rosen, x, "forward", np.random.default_rng(5), 50)
    np.testing.assert_allclose(fd, fwd, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError):
        montecarlo.sample_estimates(rosen, x, "true", np.random.default_rng(5), 5)


def test_cosines_by_hand():
    g = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0], [-3.0, 0.0]])
    np.testing.assert_allclose(montecarlo.cosines(g, np.array([2.0, 0.0])), [1.0, 0.0, 0.0, -1.0])
