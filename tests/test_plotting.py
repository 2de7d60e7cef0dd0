"""The drawing functions of forwardgrad.plotting: what each puts on its Axes."""

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
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


def _profile():
    costs = pd.DataFrame({"a (true)": [1.0, 2.0, 1.1, 3.0], "a (forward)": [1.05, 1.0, 1.3, np.inf]},
                         index=pd.MultiIndex.from_tuples([(f"p{i}", 2, 0) for i in range(4)],
                                                         names=["function", "dim", "start"]))
    from forwardgrad import profiles

    frame = profiles.performance_profile(costs)
    frame.insert(0, "dim", 2)
    return frame


def test_profile_ticks_are_plain_numbers_and_the_legend_covers_no_curve():
    """The CLI's profiles used to label a short log axis "1.05×10^0 1.1×10^0 ..." and put the
    legend over the curves."""
    fig, ax = plt.subplots()
    plotting.plot_profile(_profile(), ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_xminorticklabels() if t.get_text()]
    assert labels and not any("10^" in t or "\\times" in t or "×" in t for t in labels), labels
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # to the right of the data area


def test_plot_by_dim_has_one_legend_outside_the_panels():
    frame = pd.concat([_profile(), _profile().assign(dim=10)], ignore_index=True)
    frame.attrs.update(_profile().attrs)
    axes = plotting.plot_by_dim(frame)
    fig = axes[0].figure
    fig.canvas.draw()
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in axes)
    # stacked (the default): below the lowest panel; side by side: to the right of the last one
    bottom = min(ax.get_window_extent().y0 for ax in axes)
    assert fig.legends[0].get_window_extent().y1 <= bottom + 1
    plt.close(fig)
    axes = plotting.plot_by_dim(frame, stacked=False)
    fig = axes[0].figure
    fig.canvas.draw()
    right = max(ax.get_window_extent().x1 for ax in axes)
    assert fig.legends[0].get_window_extent().x0 >= right - 1


def test_log_ticks_label_only_powers_of_ten_over_a_wide_range():
    fig, ax = plt.subplots(figsize=(plotting.FIGURE_WIDTH, 3))
    ax.set_xscale("log")
    ax.set_xlim(1, 5000)
    plotting.log_ticks(ax.xaxis, decades=np.log10(5000))
    shown = [v for v in ax.xaxis.get_majorticklocs() if 1 <= v <= 5000]
    np.testing.assert_allclose(shown, [1, 10, 100, 1000])
    plotting.log_ticks(ax.xaxis, decades=1.5)
    ax.set_xlim(1, 30)
    shown = [v for v in ax.xaxis.get_majorticklocs() if 1 <= v <= 30]
    np.testing.assert_allclose(shown, [1, 2, 5, 10, 20])


# --- the book's figure style: one home (plotting.STYLE), legible in the text column ----------
BOOK = Path(__file__).resolve().parent.parent / "book"
FIGSIZE = re.compile(r"figsize=\(([\d.]+),")


def test_book_matplotlibrc_is_the_style_of_the_package():
    rc = [line for line in (BOOK / "matplotlibrc").read_text().splitlines() if line and not line.startswith("#")]
    assert rc == plotting.rc_lines()


def test_tick_and_legend_text_render_at_nine_points_at_the_widest_figure():
    for key in ("xtick.labelsize", "ytick.labelsize", "legend.fontsize", "axes.labelsize"):
        assert plotting.rendered_points(plotting.STYLE[key], plotting.FIGURE_WIDTH) >= 9.0, key
    # a narrower figure shows at natural size, a wider one shrinks with its width
    assert plotting.rendered_points(10, 5) == plotting.rendered_points(10, 6.9)
    assert plotting.rendered_points(10, 14) < plotting.rendered_points(10, 7)


@pytest.mark.parametrize("chapter", sorted(BOOK.glob("*.md")), ids=lambda p: p.stem)
def test_chapters_draw_no_figure_wider_than_the_column_allows(chapter):
    widths = [float(w) for w in FIGSIZE.findall(chapter.read_text())]
    assert all(w <= plotting.FIGURE_WIDTH for w in widths), widths


def test_use_style_sets_the_rc_parameters():
    with matplotlib.rc_context():
        plotting.use_style()
        assert all(matplotlib.rcParams[k] == v for k, v in plotting.STYLE.items())


def test_sign_share_figure_draws_odd_and_even_apart_with_chance():
    ns = np.arange(1, 11)
    share = np.where(ns % 2 == 1, 0.5 + 0.4 / ns, 0.5)
    fig = plotting.sign_share_figure(ns, share, 0.5 + np.sqrt(1 / (2 * np.pi * ns)))
    ax = fig.axes[0]
    odd, even, leading, chance = ax.get_lines()
    assert list(odd.get_xdata()) == [1, 3, 5, 7, 9] and list(even.get_xdata()) == [2, 4, 6, 8, 10]
    assert np.allclose(odd.get_ydata(), 0.5 + 0.4 / np.array([1, 3, 5, 7, 9]))
    assert np.allclose(chance.get_ydata(), 0.5) and len(leading.get_xdata()) == 10
    assert ax.get_xscale() == "log" and fig.get_size_inches()[0] == plotting.FIGURE_WIDTH
    assert ax.get_legend() is not None


def test_solver_style_tells_tangent_laws_and_estimators_apart():
    from forwardgrad.plotting import solver_style

    assert solver_style("adam (true)") == {"color": "C2", "linestyle": "-"}
    assert solver_style("adam (forward)")["linestyle"] == solver_style("adam (forward, rademacher)")["linestyle"] == "--"
    assert solver_style("adam (forward, coordinate)") == {"color": "C2", "linestyle": "-."}
    assert solver_style("adam (antithetic)")["linestyle"] == ":"
    assert solver_style("lion (forward, rademacher)", 1)["color"] == "C5"
