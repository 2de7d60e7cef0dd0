"""Drawing what :mod:`forwardgrad.profiles` and the descent computed; every function returns its Axes.

A solver keeps one colour per optimizer and one line style per gradient (solid: true, dashed:
forward) across all figures, so the profiles of several dimensions read side by side. Nothing
here computes a result: the numbers come from :mod:`forwardgrad.profiles`,
:mod:`forwardgrad.descent` and the experiments.
"""

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

GRADIENT_STYLES = {"true": "-", "forward": "--"}
OPTIMIZER_COLORS = {"sgd": "C0", "clipped_sgd": "C1", "adam": "C2", "adabelief": "C3"}

# The book's text column is about COLUMN_PX CSS pixels wide at a 1280 px window, and a figure
# wider than the column is scaled down to fit it: text of s points in a figure w inches wide
# renders at s * COLUMN_PX / (72 w) CSS pixels. FIGURE_WIDTH is the widest figure whose tick
# labels (STYLE below) still render at 9 pt (12 CSS px) or more; the chapters draw no wider.
COLUMN_PX = 690
FIGURE_WIDTH = 8.4

# The style of every figure of the book and of the CLI. book/matplotlibrc holds the same values
# (matplotlib reads it from the chapters' working directory; a unit test keeps the two equal),
# so that the chapters need no call of their own.
STYLE = {
    "font.size": 11.0,
    "axes.titlesize": 11.5,
    "axes.labelsize": 11.0,
    "xtick.labelsize": 11.0,
    "ytick.labelsize": 11.0,
    "legend.fontsize": 11.0,
    "legend.frameon": False,
    "figure.titlesize": 12.0,
}


def rendered_points(size, width):
    """The size in points at which text of ``size`` points in a figure ``width`` inches wide
    shows in the book's text column (figures narrower than the column show at natural size)."""
    return size * min(1.0, COLUMN_PX / (width * 100.0)) * 100.0 / 72.0 * 0.75


def rc_lines(style=STYLE):
    """The lines of a matplotlibrc file that sets ``style``."""
    return [f"{key}: {value}" for key, value in style.items()]


def use_style(style=STYLE):
    """Apply the book's style to matplotlib (the CLI does; chapters get it from book/matplotlibrc)."""
    import matplotlib

    matplotlib.rcParams.update(style)


def _pyplot():
    import matplotlib.pyplot as plt  # matplotlib falls back to Agg by itself without a display

    return plt


def solver_style(solver, index=0):
    """Colour and line style of a solver label such as ``"adam (forward)"``.

    The colour is the optimizer's, the line style the gradient's (dotted for any other
    estimator); a tangent law other than the paper's Rademacher law, as in ``"adam (forward,
    gaussian)"``, draws dash-dotted, so that two laws of one solver stay apart.
    """
    optimizer, _, rest = solver.partition(" (")
    gradient, _, tangent = rest.rstrip(")").partition(", ")
    color = OPTIMIZER_COLORS.get(optimizer, f"C{4 + index % 6}")
    style = "-." if tangent and tangent != "rademacher" else GRADIENT_STYLES.get(gradient, ":")
    return {"color": color, "linestyle": style}


def log_ticks(axis, decades=None):
    """Plain tick labels on a logarithmic axis (1, 2, 5, 10, 100, ...), none on the minor ticks:
    matplotlib's default writes every minor tick of a short range as "1.05×10^0" and they overlap.
    Over more than two ``decades`` only the powers of ten are labelled, so that the labels of a
    panel as wide as the text column do not run into each other."""
    subs = (1.0,) if decades is not None and decades > 2.5 else (1.0, 2.0, 5.0)
    axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=12))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def legend_outside(ax, **options):
    """The legend of ``ax`` to the right of its data area, where it covers no curve."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False, **options)


def plot_profile(profile, ax=None, *, dim=None, bands=True, legend=True):
    """Draw a profile (performance, data, accuracy or ECDF) as step curves, one per solver.

    ``profile`` is a DataFrame from :mod:`forwardgrad.profiles`; ``dim`` selects one dimension
    when it has a ``dim`` column with several. Bootstrap bands, when present, are shaded.
    Returns the Axes.
    """
    plt = _pyplot()
    ax = ax if ax is not None else plt.subplots()[1]
    attrs = profile.attrs
    x, y = attrs["x"], attrs["y"]
    if "dim" in profile.columns:
        dims = profile["dim"].unique()
        if dim is None and len(dims) > 1:
            raise ValueError(f"the profile has dimensions {list(dims)}; pick one with dim=...")
        profile = profile[profile["dim"] == (dims[0] if dim is None else dim)]
    if profile.empty:
        raise ValueError("nothing to draw: the profile is empty")
    pre = attrs.get("drawstyle") == "steps-pre"
    xmax = profile[x].max()
    right = xmax * 1.25 if attrs.get("xscale") == "log" else xmax + 0.5
    for i, (solver, part) in enumerate(profile.groupby("solver", sort=False)):
        xs = np.append(part[x].to_numpy(), right)
        last = 0.0 if pre else part[y].to_numpy()[-1]
        ys = np.append(part[y].to_numpy(), last)
        style = solver_style(solver, i)
        where = "pre" if pre else "post"
        ax.step(xs, ys, where=where, label=solver, **style)
        if bands and "lower" in part.columns:
            lower = np.append(part["lower"].to_numpy(), 0.0 if pre else part["lower"].to_numpy()[-1])
            upper = np.append(part["upper"].to_numpy(), 0.0 if pre else part["upper"].to_numpy()[-1])
            ax.fill_between(xs, lower, upper, step=where, color=style["color"], alpha=0.15, linewidth=0)
    ax.set_xscale(attrs.get("xscale", "linear"))
    if attrs.get("xscale") == "log":
        lowest = profile[x][profile[x] > 0].min()
        log_ticks(ax.xaxis, decades=np.log10(right / lowest) if np.isfinite(lowest) else None)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(attrs.get("xlabel", x))
    ax.set_ylabel(attrs.get("ylabel", y))
    if dim is not None or "dim" in profile.columns:
        ax.set_title(f"d = {profile['dim'].iloc[0]}" if "dim" in profile.columns else "")
    if legend:
        legend_outside(ax)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_ecdf(ecdf, ax=None, *, dim=None, bands=True, legend=True):
    """Draw the runtime ECDFs of one dimension (see :func:`forwardgrad.profiles.ecdf`)."""
    return plot_profile(ecdf, ax, dim=dim, bands=bands, legend=legend)


def plot_by_dim(profile, axes=None, *, bands=True, stacked=True):
    """One panel per dimension of a profile with a ``dim`` column, and one legend for all of them.

    ``stacked`` puts the panels one above the other, each as wide as the figure (what a page's
    text column shows legibly), with the legend below them in four columns (it stays clear of a
    title); otherwise side by side, with the legend to their right. Returns the array of Axes.
    """
    plt = _pyplot()
    dims = list(profile["dim"].unique())
    if axes is None:
        shape, size = ((len(dims), 1), (7.5, 2.6 * len(dims) + 0.4)) if stacked else ((1, len(dims)), (3.6 * len(dims) + 2.6, 3.4))
        fig, axes = plt.subplots(*shape, figsize=size, squeeze=False, sharey=True, layout="constrained")
        axes = axes.ravel()
    axes = np.atleast_1d(axes)
    if len(axes) != len(dims):
        raise ValueError(f"need {len(dims)} axes, got {len(axes)}")
    for i, (d, ax) in enumerate(zip(dims, axes)):
        plot_profile(profile, ax, dim=d, bands=bands, legend=False)
        if i and not stacked:
            ax.set_ylabel("")
        if stacked and i < len(dims) - 1:
            ax.set_xlabel("")
    handles, labels = axes[0].get_legend_handles_labels()
    if stacked:
        axes[0].figure.legend(handles, labels, loc="outside lower center", ncols=4, frameon=False)
    else:
        axes[0].figure.legend(handles, labels, loc="outside right upper", frameon=False)
    return axes


def plot_table(table, ax=None, *, fmt="{:.3g}", cmap="viridis_r", log=True):
    """Draw an aRT or success-rate table (rows: (dim, function), columns: solvers) as a heat map.

    Infinite entries (no success) are left blank. Returns the Axes.
    """
    plt = _pyplot()
    values = table.to_numpy(dtype=float)
    shown = np.where(np.isfinite(values), values, np.nan)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            shown = np.log10(shown)
    ax = ax if ax is not None else plt.subplots(figsize=(1.2 * values.shape[1] + 3, 0.3 * values.shape[0] + 1.5))[1]
    ax.imshow(np.ma.masked_invalid(shown), aspect="auto", cmap=cmap)
    ax.set_xticks(range(values.shape[1]), [str(c) for c in table.columns], rotation=45, ha="right")
    ax.set_yticks(range(values.shape[0]), [" ".join(map(str, i)) if isinstance(i, tuple) else str(i)
                                           for i in table.index])
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, fmt.format(v) if np.isfinite(v) else "inf", ha="center", va="center", fontsize=7)
    return ax


# ---------------------------------------------------------------------------------------------
# Trajectories and convergence (Figures 4 and 5)


def plot_contours(f, xlim, ylim, ax=None, *, n=300, levels=25, x_star=None, cmap="viridis"):
    """Filled contours of a 2-D function on log-spaced levels of $f - \\min f + \\epsilon$.

    ``f`` maps (..., 2) to (...). ``x_star`` (2,), when given, is marked with a star.
    Returns the Axes.
    """
    plt = _pyplot()
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


def sign_share_figure(ns, share, leading):
    r"""The expected share of right signs of a forward gradient against the dimension $n$.

    ``share[i]`` is $P/n$ at ``ns[i]``, $P$ the expected number of coordinates on which
    $g = (\nabla f\cdot v)\,v$ has the sign of $\nabla f$ (Belouze 2022, Theorem 9);
    ``leading`` is the theorem's leading terms $1/2 + 1/\sqrt{2\pi n}$ at the same ``ns``. Odd and
    even $n$ are drawn apart (an even $n$ loses its ties), next to chance, one half. One panel as
    wide as the text column, its legend outside the data. Returns the Figure.
    """
    plt = _pyplot()
    ns, share, leading = (np.asarray(a, dtype=float) for a in (ns, share, leading))
    odd = ns % 2 == 1
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.2), layout="constrained")
    ax.plot(ns[odd], share[odd], lw=1.5, label="odd $n$")
    ax.plot(ns[~odd], share[~odd], lw=1.5, label="even $n$")
    ax.plot(ns, leading, "k--", lw=0.8, label=r"$1/2 + 1/\sqrt{2\pi n}$")
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":", label="chance")
    ax.set_xscale("log")
    log_ticks(ax.xaxis, decades=np.log10(ns.max() / ns.min()))
    ax.set(xlabel="dimension $n$", ylabel="share of right signs")
    legend_outside(ax)
    return fig
