r"""Trajectory and convergence figures (Belouze 2022, Figures 4 and 5) and the numbers behind them.

Three kinds of helpers, used by the chapter *Trajectories and convergence*:

- learning-rate sweeps: :func:`row_learning_rates` gives every run of a batch its own step size,
  so a whole grid of learning rates descends in one compiled loop, and :func:`lr_sweep` runs such
  a grid for several (optimizer, gradient) pairs and returns one table row per run;
- statistics on steps-to-target, where a run that never reached the target counts as infinitely
  slow (NaN becomes $+\infty$): :func:`median_steps`, :func:`bootstrap_median`,
  :func:`summarize_sweep`, :func:`compare_to_true`;
- drawing: :func:`plot_contours`, :func:`plot_paths`, :func:`plot_convergence`,
  :func:`plot_lr_sweep`; each returns its Axes.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from forwardgrad import descent, optimizers
from forwardgrad.plotting import GRADIENT_STYLES, OPTIMIZER_COLORS


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


# ---------------------------------------------------------------------------------------------
# learning-rate sweeps


def row_learning_rates(optimizer, lr):
    r"""An optimizer whose run $r$ (row $r$ of the batch) uses its own learning rate $\alpha_r$.

    .. math:: \delta x_r = \alpha_r\, \delta x_r^{(\alpha = 1)}

    ``optimizer`` must be built with ``lr=1``; ``lr`` has one entry per run. Exact for SGD,
    clipped SGD, Adam and AdaBelief, whose steps are proportional to the learning rate and
    whose states do not depend on it.
    """
    lr = np.asarray(lr, dtype=float).reshape(-1, 1)
    if not np.all(np.isfinite(lr) & (lr > 0)):
        raise ValueError("learning rates must be positive finite numbers")

    def update(g, state):
        if g.shape[0] != lr.shape[0]:
            raise ValueError(f"{lr.shape[0]} learning rates for a batch of {g.shape[0]} runs")
        step, state = optimizer.update(g, state)
        return lr * step, state

    return optimizers.Optimizer(optimizer.init, update, optimizer.name)


class Sweep(NamedTuple):
    """Outcome of :func:`lr_sweep`."""

    table: pd.DataFrame  # one row per run: optimizer, gradient, lr, repeat, hit, status, f_final
    record_steps: np.ndarray  # (R,) steps at which f was recorded
    f_trajectory: np.ndarray  # (R, runs) f at those steps, runs in the order of `table`


def lr_sweep(f, x0, grid, *, repeats, rng, max_steps, target, record=(), bounds=None, engine="jax"):
    """Descend from one start ``x0`` (d,) with every (optimizer, gradient, learning rate) of ``grid``.

    ``grid`` maps ``(optimizer_name, gradient)`` to a sequence of learning rates. True-gradient
    descent is deterministic and runs once per learning rate; the other gradients run ``repeats``
    times. All pairs advance in lockstep in one call of :func:`forwardgrad.descent.descend_arms`.
    Returns a :class:`Sweep`.
    """
    x0 = np.asarray(x0, dtype=float).reshape(1, -1)
    arms, starts, rows = [], [], []
    for (name, gradient), lrs in grid.items():
        lrs = np.asarray(lrs, dtype=float).reshape(-1)
        n = 1 if gradient == "true" else int(repeats)
        lr_rows = np.repeat(lrs, n)
        arms.append(descent.Arm(row_learning_rates(optimizers.get(name, lr=1.0), lr_rows), gradient))
        starts.append(np.repeat(x0, len(lr_rows), axis=0))
        rows.append(pd.DataFrame({"optimizer": name, "gradient": gradient, "lr": lr_rows,
                                  "repeat": np.tile(np.arange(n), len(lrs))}))
    result = descent.descend_arms(f, arms, starts, rng=rng, max_steps=max_steps, target=target,
                                  bounds=bounds, record=record, record_x=False, engine=engine)
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
    repeats = hit.shape[-1]
    picks = rng.integers(0, repeats, size=(n_boot, repeats))
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


# ---------------------------------------------------------------------------------------------
# drawing


def plot_contours(f, xlim, ylim, ax=None, *, n=300, levels=25, x_star=None, cmap="viridis"):
    """Filled contours of a 2-D function on log-spaced levels of $f - \\min f + \\epsilon$.

    ``f`` maps (..., 2) to (...). ``x_star`` (2,), when given, is marked with a star.
    Returns the Axes.
    """
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    ax = ax if ax is not None else plt.subplots()[1]
    xs, ys = np.linspace(*xlim, n), np.linspace(*ylim, n)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    z = np.asarray(f(grid), dtype=float)
    z = z - z.min()
    floor = max(np.quantile(z, 1e-3), 1e-12 * max(z.max(), 1.0))
    z = np.maximum(z, floor)
    edges = np.geomspace(floor, z.max(), levels)
    ax.contourf(xs, ys, z, levels=edges, norm=LogNorm(floor, z.max()), cmap=cmap, alpha=0.85)
    ax.contour(xs, ys, z, levels=edges[::2], colors="white", linewidths=0.3, alpha=0.6)
    if x_star is not None:
        ax.plot(*np.asarray(x_star)[:2], marker="*", color="red", markersize=14, linestyle="none",
                markeredgecolor="white", zorder=5)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_aspect("auto")
    return ax


def plot_paths(x_trajectory, ax=None, *, color="C0", linestyle="-", linewidth=1.5, alpha=1.0,
               label=None, mark_start=True):
    """Draw the 2-D paths of several runs, one line each.

    ``x_trajectory`` has shape (R, runs, 2) (as in :class:`forwardgrad.descent.DescentResult`).
    Only the first line carries ``label``. The starts are marked with a circle.
    Returns the Axes.
    """
    plt = _pyplot()
    ax = ax if ax is not None else plt.subplots()[1]
    x_trajectory = np.asarray(x_trajectory, dtype=float)
    if x_trajectory.ndim != 3 or x_trajectory.shape[-1] != 2:
        raise ValueError(f"paths must have shape (R, runs, 2), got {x_trajectory.shape}")
    for r in range(x_trajectory.shape[1]):
        ax.plot(x_trajectory[:, r, 0], x_trajectory[:, r, 1], color=color, linestyle=linestyle,
                linewidth=linewidth, alpha=alpha, label=label if r == 0 else None)
    if mark_start:
        ax.plot(x_trajectory[0, :, 0], x_trajectory[0, :, 1], marker="o", color=color,
                markeredgecolor="black", markersize=6, linestyle="none", zorder=4)
    return ax


def plot_convergence(steps, values, ax=None, *, color="C0", linestyle="-", label=None, band=True,
                     floor=None):
    """Median of $f - f^\\star$ over runs against steps, with the interquartile band.

    ``values`` has shape (R, runs) (``f_trajectory - f_star``); with one run the line is that
    run. ``floor``, when given, ends the line at the first step whose median is at or below it
    (the runs stop at the target). Both axes are logarithmic (step 0 is drawn at 1/2).
    Returns the Axes.
    """
    plt = _pyplot()
    ax = ax if ax is not None else plt.subplots()[1]
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    steps = np.where(np.asarray(steps) == 0, 0.5, steps)
    finite = np.where(np.isfinite(values), values, np.inf)
    q1, median, q3 = np.quantile(finite, [0.25, 0.5, 0.75], axis=1, method="inverted_cdf")
    end = len(steps)
    if floor is not None and np.any(median <= floor):
        end = int(np.argmax(median <= floor)) + 1
    ax.plot(steps[:end], median[:end], color=color, linestyle=linestyle, label=label)
    if band and values.shape[1] > 1:
        upper = np.where(np.isfinite(q3), q3, np.nan)  # a band with diverged runs stays open
        ax.fill_between(steps[:end], q1[:end], upper[:end], color=color, alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    # minor ticks on two log axes double the drawing time of a grid of panels and add little
    from matplotlib.ticker import NullLocator

    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_locator(NullLocator())
    return ax


def plot_lr_sweep(summary, ax=None, *, legend=True):
    """Median steps-to-target against learning rate, one line per (optimizer, gradient).

    ``summary`` is a table from :func:`summarize_sweep`; bootstrap intervals are drawn as error
    bars and failures (infinite medians) are left out. Colours follow the optimizer and line
    styles the gradient, as in :mod:`forwardgrad.plotting`. Returns the Axes.
    """
    plt = _pyplot()
    ax = ax if ax is not None else plt.subplots()[1]
    for (name, gradient), part in summary.groupby(["optimizer", "gradient"], sort=False):
        part = part.sort_values("lr")
        ok = np.isfinite(part["median"].to_numpy())
        lr, med = part["lr"].to_numpy()[ok], part["median"].to_numpy()[ok]
        upper = np.minimum(part["upper"].to_numpy()[ok], 10 * med.max(initial=1.0))
        err = np.vstack([med - part["lower"].to_numpy()[ok], upper - med])
        ax.errorbar(lr, med, yerr=err, color=OPTIMIZER_COLORS.get(name, "C5"),
                    linestyle=GRADIENT_STYLES.get(gradient, ":"), marker="o", markersize=3,
                    capsize=2, label=f"{name} ({gradient})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("median steps to target")
    if legend:
        ax.legend(fontsize="small", frameon=False)
    return ax
