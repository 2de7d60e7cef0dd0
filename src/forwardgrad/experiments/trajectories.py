r"""The computations behind the chapter *Trajectories and convergence* (Belouze 2022, Figures 4 and 5).

Two kinds of helpers (the figures themselves are drawn by :mod:`forwardgrad.plotting`):

- learning-rate sweeps: :func:`lr_sweep` runs a grid of learning rates for several (optimizer,
  gradient) pairs in one lockstep descent, every run at its own step size
  (:func:`forwardgrad.optimizers.scale_by_row`), and returns one table row per run;
- statistics on steps-to-target, where a run that never reached the target counts as infinitely
  slow (NaN becomes $+\infty$): :func:`median_steps`, :func:`bootstrap_median`,
  :func:`summarize_sweep`, :func:`compare_to_true`.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from forwardgrad import descent, optimizers, protocols, statistics


# ---------------------------------------------------------------------------------------------
# learning-rate sweeps


class Sweep(NamedTuple):
    """Outcome of :func:`lr_sweep`."""

    table: pd.DataFrame  # one row per run: optimizer, gradient, lr, repeat, hit, status, f_final
    record_steps: np.ndarray  # (R,) steps at which f was recorded
    f_trajectory: np.ndarray  # (R, runs) f at those steps, runs in the order of `table`


def lr_sweep(f, x0, grid, *, repeats, rng, max_steps, target, record=(), bounds=None, engine="jax"):
    """Descend from one start ``x0`` (d,) with every (optimizer, gradient, learning rate) of ``grid``.

    ``grid`` maps ``(optimizer_name, gradient)`` to a sequence of learning rates. True-gradient
    descent is deterministic and runs once per learning rate; the other gradients run ``repeats``
    times. All pairs advance in lockstep in one call of :func:`forwardgrad.descent.descend_arms`,
    with the benchmark's relative divergence rule. Returns a :class:`Sweep`.
    """
    x0 = np.asarray(x0, dtype=float).reshape(1, -1)
    arms, starts, rows = [], [], []
    for (name, gradient), lrs in grid.items():
        lrs = np.asarray(lrs, dtype=float).reshape(-1)
        n = 1 if gradient == "true" else int(repeats)
        lr_rows = np.repeat(lrs, n)
        arms.append(descent.Arm(optimizers.scale_by_row(optimizers.get(name, lr=1.0), lr_rows), gradient))
        starts.append(np.repeat(x0, len(lr_rows), axis=0))
        rows.append(pd.DataFrame({"optimizer": name, "gradient": gradient, "lr": lr_rows,
                                  "repeat": np.tile(np.arange(n), len(lrs))}))
    result = descent.descend_arms(f, arms, starts, rng=rng, max_steps=max_steps, target=target,
                                  bounds=bounds, record=record, record_x=False, engine=engine,
                                  divergence=protocols.relative_divergence())
    table = pd.concat(rows, ignore_index=True)
    table["hit"] = result.hit
    table["status"] = result.status
    table["f_final"] = result.f_final
    return Sweep(table, result.record_steps, result.f_trajectory)


def log_steps(max_steps, num=60):
    """About ``num`` distinct integer steps from 0 to ``max_steps``, evenly spaced on a log axis."""
    steps = np.geomspace(1, max_steps, num).round().astype(int)
    return np.unique(np.concatenate([[0], steps, [max_steps]]))


# ---------------------------------------------------------------------------------------------
# statistics on steps-to-target


def steps_or_inf(hit):
    """Steps-to-target with failures (NaN) replaced by $+\\infty$."""
    hit = np.asarray(hit, dtype=float)
    return np.where(np.isnan(hit), np.inf, hit)


def median_steps(hit, axis=-1):
    """Median steps-to-target over ``axis``, a failure counting as slower than any success.

    The median is finite as long as fewer than half the runs failed (the lower middle value is
    taken for an even count, so that it is always the steps of an actual run).
    """
    return np.quantile(steps_or_inf(hit), 0.5, axis=axis, method="inverted_cdf")


def bootstrap_median(hit, rng, *, n_boot=2000, level=0.95):
    """Median steps-to-target over the last axis with a percentile bootstrap interval.

    ``hit`` has shape (..., repeats); the repeats are resampled with replacement ``n_boot``
    times. Returns ``(median, lower, upper)``, each of shape ``hit.shape[:-1]``; infinite
    bounds mean that at least ``(1 - level) / 2`` of the resampled medians were failures.
    """
    hit = steps_or_inf(hit)
    picks = statistics.resample(hit.shape[-1], n_boot, rng)
    medians = np.quantile(hit[..., picks], 0.5, axis=-1, method="inverted_cdf")  # (..., n_boot)
    tail = (1 - level) / 2
    lower = np.quantile(medians, tail, axis=-1, method="inverted_cdf")
    upper = np.quantile(medians, 1 - tail, axis=-1, method="inverted_cdf")
    return median_steps(hit), lower, upper


def summarize_sweep(table, rng, *, n_boot=2000, level=0.95):
    """Median steps-to-target per (optimizer, gradient, lr), with bootstrap bounds and success rate.

    ``table`` is :attr:`Sweep.table`. Groups with a single run (true gradients) get
    ``lower = upper = median``.
    """
    out = []
    for (name, gradient, lr), part in table.groupby(["optimizer", "gradient", "lr"], sort=False):
        median, lower, upper = bootstrap_median(part["hit"].to_numpy(), rng, n_boot=n_boot, level=level)
        out.append({"optimizer": name, "gradient": gradient, "lr": lr, "median": float(median),
                    "lower": float(lower), "upper": float(upper),
                    "solved": float(np.mean(part["status"] == "solved")), "runs": len(part)})
    return pd.DataFrame(out)


def best_lr(summary):
    """The learning rate with the fewest median steps per (optimizer, gradient).

    Returns one row per pair, with ``interior`` telling whether the best value has a neighbour
    on both sides of the grid (otherwise the grid may be too narrow). Ties go to the larger lr.
    """
    rows = []
    for (name, gradient), part in summary.groupby(["optimizer", "gradient"], sort=False):
        part = part.sort_values("lr", ascending=False).reset_index(drop=True)
        i = int(np.argmin(part["median"].to_numpy()))
        row = part.iloc[i].to_dict()
        row["interior"] = bool(0 < i < len(part) - 1 and np.isfinite(row["median"]))
        rows.append(row)
    return pd.DataFrame(rows)


def compare_to_true(true_hit, forward_hit, rng, *, n_boot=2000, level=0.95):
    """Per start, forward steps-to-target against true steps-to-target.

    ``true_hit`` (starts,) holds the deterministic true-gradient steps, ``forward_hit``
    (starts, repeats) the forward repeats from the same starts. The ratio is median forward
    over true, with the bootstrap interval of the median divided by the true steps; it is 0
    when only forward reached the target and NaN when neither did.
    """
    true_steps = steps_or_inf(true_hit)
    median, lower, upper = bootstrap_median(forward_hit, rng, n_boot=n_boot, level=level)

    def ratio(a):
        with np.errstate(invalid="ignore", divide="ignore"):
            r = a / true_steps
        r = np.where(np.isinf(true_steps) & np.isfinite(a), 0.0, r)
        return np.where(np.isinf(true_steps) & np.isinf(a), np.nan, r)

    return pd.DataFrame({
        "true": true_steps,
        "forward": median,
        "forward_lower": lower,
        "forward_upper": upper,
        "forward_solved": np.mean(np.isfinite(steps_or_inf(forward_hit)), axis=-1),
        "ratio": ratio(median),
        "ratio_lower": ratio(lower),
        "ratio_upper": ratio(upper),
    })
