"""The drawing functions of forwardgrad.plotting: what each puts on its Axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from forwardgrad import plotting  # noqa: E402
from forwardgrad.experiments import trajectories  # noqa: E402
from helpers import sphere  # noqa: E402
from test_trajectories import _toy_table  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_contours_returns_axes_with_filled_levels():
    ax = plotting.plot_contours(sphere, (-1, 1), (-2, 2), n=40, levels=10, x_star=[0.0, 0.0])
    assert isinstance(ax, Axes)
    assert ax.get_xlim() == (-1, 1) and ax.get_ylim() == (-2, 2)
    assert len(ax.lines) == 1  # the star at the minimizer


def test_plot_paths_draws_one_line_per_run():
    paths = np.random.default_rng(0).standard_normal((7, 4, 2))
    ax = plotting.plot_paths(paths, label="runs")
    assert isinstance(ax, Axes)
    assert len(ax.lines) == 4 + 1  # four paths and the line of start markers
    np.testing.assert_array_equal(ax.lines[2].get_xdata(), paths[:, 2, 0])
    assert [line.get_label() for line in ax.lines[:2]] == ["runs", "_child1"]
    with pytest.raises(ValueError):
        plotting.plot_paths(paths[..., :1])


def test_plot_convergence_median_band_and_floor():
    steps = np.array([0, 1, 2, 3, 4])
    values = np.array([[1.0, 1.0, 1.0], [0.5, 0.4, 0.6], [0.1, 0.2, 0.3], [1e-3, 1e-2, 2e-3], [1e-5, 1e-5, 1e-5]])
    ax = plotting.plot_convergence(steps, values, floor=1e-2)
    assert isinstance(ax, Axes)
    assert len(ax.lines) == 1
    line = ax.lines[0]
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 0.5, 0.2, 2e-3])  # stops once the median is <= floor
    assert line.get_xdata()[0] == 0.5  # step 0 drawn at 1/2 on the log axis
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1
    single = plotting.plot_convergence(steps, values[:, 0])
    assert len(single.lines) == 1 and not single.collections  # one run: no band


def test_plot_lr_sweep_one_curve_per_pair():
    summary = trajectories.summarize_sweep(_toy_table(), np.random.default_rng(0), n_boot=100)
    ax = plotting.plot_lr_sweep(summary)
    assert isinstance(ax, Axes)
    assert len(ax.containers) == 2
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
