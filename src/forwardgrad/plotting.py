"""Drawing what :mod:`forwardgrad.profiles` computed; every function returns its Axes.

A solver keeps one colour per optimizer and one line style per gradient (solid: true, dashed:
forward) across all figures, so the profiles of several dimensions read side by side.
"""

import numpy as np

GRADIENT_STYLES = {"true": "-", "forward": "--"}
OPTIMIZER_COLORS = {"sgd": "C0", "clipped_sgd": "C1", "adam": "C2", "adabelief": "C3"}


def _pyplot():
    import matplotlib.pyplot as plt  # matplotlib falls back to Agg by itself without a display

    return plt


def solver_style(solver, index=0):
    """Colour and line style of a solver label such as ``"adam (forward)"``."""
    optimizer, _, rest = solver.partition(" (")
    gradient = rest.split(",")[0].rstrip(")")
    color = OPTIMIZER_COLORS.get(optimizer, f"C{4 + index % 6}")
    return {"color": color, "linestyle": GRADIENT_STYLES.get(gradient, ":")}


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
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(attrs.get("xlabel", x))
    ax.set_ylabel(attrs.get("ylabel", y))
    if dim is not None or "dim" in profile.columns:
        ax.set_title(f"d = {profile['dim'].iloc[0]}" if "dim" in profile.columns else "")
    if legend:
        ax.legend(fontsize="small", frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_ecdf(ecdf, ax=None, *, dim=None, bands=True, legend=True):
    """Draw the runtime ECDFs of one dimension (see :func:`forwardgrad.profiles.ecdf`)."""
    return plot_profile(ecdf, ax, dim=dim, bands=bands, legend=legend)


def plot_by_dim(profile, axes=None, *, bands=True):
    """One panel per dimension of a profile with a ``dim`` column, side by side.

    Returns the array of Axes (the legend sits in the last panel).
    """
    plt = _pyplot()
    dims = list(profile["dim"].unique())
    if axes is None:
        _, axes = plt.subplots(1, len(dims), figsize=(4.2 * len(dims), 3.6), squeeze=False, sharey=True)
        axes = axes[0]
    axes = np.atleast_1d(axes)
    if len(axes) != len(dims):
        raise ValueError(f"need {len(dims)} axes, got {len(axes)}")
    for i, (d, ax) in enumerate(zip(dims, axes)):
        plot_profile(profile, ax, dim=d, bands=bands, legend=i == len(dims) - 1)
        if i:
            ax.set_ylabel("")
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
