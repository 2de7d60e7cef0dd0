"""The computations behind Figures 4 and 5: learning-rate sweeps and statistics on steps-to-target."""

import numpy as np
import pandas as pd

from forwardgrad.experiments import trajectories as figures
from helpers import sphere


# --- learning-rate sweeps ----------------------------------------------------------------------


def test_lr_sweep_rows_and_closed_form():
    # true SGD on the sphere: f(x_k) = (1 - 2 lr)^{2k} f(x_0), so the first k with f <= target is known
    x0 = np.array([0.6, -0.8])
    target = 1e-3
    lrs = [0.2, 0.1, 0.05]
    sweep = figures.lr_sweep(sphere, x0, {("sgd", "true"): lrs, ("sgd", "forward"): [0.05]}, repeats=3,
                             rng=np.random.default_rng(1), max_steps=500, target=target,
                             record=[0, 1, 2], engine="autograd")
    table = sweep.table
    assert len(table) == len(lrs) + 3
    assert list(table["gradient"]) == ["true"] * 3 + ["forward"] * 3
    assert list(table["repeat"]) == [0, 0, 0, 0, 1, 2]
    true = table[table["gradient"] == "true"]
    expected = np.ceil(np.log(target / 1.0) / (2 * np.log(1 - 2 * np.array(lrs))))
    np.testing.assert_array_equal(true["hit"].to_numpy(), expected)
    assert sweep.f_trajectory.shape == (3, len(table))
    np.testing.assert_allclose(sweep.f_trajectory[0], 1.0)
    np.testing.assert_allclose(sweep.f_trajectory[1, :3], (1 - 2 * np.array(lrs)) ** 2)


def test_log_steps():
    steps = figures.log_steps(20_000, 60)
    assert steps[0] == 0 and steps[-1] == 20_000
    assert np.all(np.diff(steps) > 0) and steps.dtype.kind == "i"
    assert 40 <= len(steps) <= 62


# --- statistics ----------------------------------------------------------------------------------


def test_median_steps_counts_failures_as_slowest():
    assert figures.median_steps([1.0, 2.0, np.nan]) == 2.0
    assert figures.median_steps([1.0, np.nan, np.nan]) == np.inf
    assert figures.median_steps([4.0, 1.0, 3.0, 2.0]) == 2.0  # lower middle: a real run
    np.testing.assert_array_equal(figures.median_steps(np.array([[1.0, 5.0, 9.0], [np.nan] * 3])), [5.0, np.inf])


def test_bootstrap_median_bounds():
    rng = np.random.default_rng(2)
    hit = rng.integers(50, 150, size=(4, 31)).astype(float)
    hit[3] = 7.0
    median, lower, upper = figures.bootstrap_median(hit, np.random.default_rng(3), n_boot=500)
    assert median.shape == lower.shape == upper.shape == (4,)
    assert np.all(lower <= median) and np.all(median <= upper)
    assert lower[3] == upper[3] == median[3] == 7.0
    np.testing.assert_array_equal(median, np.quantile(hit, 0.5, axis=-1, method="inverted_cdf"))
    # the interval of a median of 31 uniform draws on [50, 150) spans a few tens, not the whole range
    assert np.all(upper[:3] - lower[:3] < 60) and np.all(upper[:3] - lower[:3] > 0)


def test_bootstrap_median_of_mostly_failed_runs_is_infinite():
    hit = np.array([10.0] * 3 + [np.nan] * 7)
    median, lower, upper = figures.bootstrap_median(hit, np.random.default_rng(0), n_boot=300)
    assert median == np.inf and upper == np.inf


def _toy_table():
    # two pairs over three learning rates; true runs once, forward three times
    rows = []
    for lr, true_hit, fwd_hits in [(0.1, np.nan, [np.nan] * 3), (0.05, 10.0, [30.0, 40.0, 50.0]),
                                   (0.025, 20.0, [25.0, 35.0, np.nan])]:
        rows.append(("sgd", "true", lr, 0, true_hit))
        rows += [("sgd", "forward", lr, r, h) for r, h in enumerate(fwd_hits)]
    table = pd.DataFrame(rows, columns=["optimizer", "gradient", "lr", "repeat", "hit"])
    table["status"] = np.where(np.isnan(table["hit"]), "diverged", "solved")
    return table


def test_summarize_sweep_and_best_lr():
    summary = figures.summarize_sweep(_toy_table(), np.random.default_rng(0), n_boot=200)
    assert len(summary) == 6
    fwd = summary[summary["gradient"] == "forward"].set_index("lr")
    assert fwd.loc[0.05, "median"] == 40.0 and fwd.loc[0.025, "median"] == 35.0
    np.testing.assert_allclose(fwd["solved"].to_numpy(), [0.0, 1.0, 2 / 3])
    true = summary[summary["gradient"] == "true"].set_index("lr")
    assert (true["lower"] == true["median"]).all() and (true["upper"] == true["median"]).all()
    best = figures.best_lr(summary).set_index("gradient")
    assert best.loc["true", "lr"] == 0.05 and best.loc["true", "interior"]
    assert best.loc["forward", "lr"] == 0.025 and not best.loc["forward", "interior"]


def test_best_lr_ties_go_to_the_larger_rate():
    summary = pd.DataFrame({"optimizer": "adam", "gradient": "true", "lr": [0.4, 0.2, 0.1, 0.05],
                            "median": [9.0, 8.0, 8.0, 12.0]})
    best = figures.best_lr(summary).iloc[0]
    assert best["lr"] == 0.2 and best["interior"]


def test_compare_to_true_ratios():
    true_hit = np.array([100.0, np.nan, 50.0, np.nan])
    forward_hit = np.array([[80.0, 90.0, 100.0], [30.0, 40.0, 50.0], [np.nan] * 3, [np.nan] * 3])
    table = figures.compare_to_true(true_hit, forward_hit, np.random.default_rng(0), n_boot=200)
    np.testing.assert_array_equal(table["forward"], [90.0, 40.0, np.inf, np.inf])
    assert table["ratio"].iloc[0] == 0.9
    assert table["ratio"].iloc[1] == 0.0  # only forward reached the target
    assert table["ratio"].iloc[2] == np.inf  # only true did
    assert np.isnan(table["ratio"].iloc[3])  # neither
    np.testing.assert_allclose(table["forward_solved"], [1.0, 1.0, 0.0, 0.0])
    assert table["ratio_lower"].iloc[0] <= 0.9 <= table["ratio_upper"].iloc[0]
