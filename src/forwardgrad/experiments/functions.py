"""Pictures of the collection, for the book chapter "The test functions".

Everything here draws from the registry of :mod:`forwardgrad.objectives`; the tables are
:func:`forwardgrad.objectives.describe` and :func:`forwardgrad.objectives.modality_table`.
"""

import matplotlib.pyplot as plt
import numpy as np

from forwardgrad.objectives import REGISTRY, UnknownMinimum, lookup


def contour_data(obj, d=2, points=121):
    """``(X, Y, Z)`` on a ``points x points`` grid over the box of a 2-D function."""
    lower, upper = obj.bounds(d)
    X, Y = np.meshgrid(np.linspace(lower[0], upper[0], points),
                       np.linspace(lower[1], upper[1], points))
    with np.errstate(all="ignore"):
        Z = np.asarray(obj.f(np.stack([X, Y], axis=-1)), float)
    return X, Y, Z


def plot_gallery(names, columns=8, points=121, panel=1.6):
    """One small contour panel per 2-D function, levels at quantiles of its values (so that
    functions of any range are readable), the global minimizer marked. Returns the figure."""
    rows = -(-len(names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(panel * columns, panel * rows * 1.05),
                             squeeze=False)
    for ax in axes.ravel()[len(names):]:
        ax.set_axis_off()
    for ax, name in zip(axes.ravel(), names):
        obj = lookup(name, REGISTRY)
        X, Y, Z = contour_data(obj, 2, points)
        finite = Z[np.isfinite(Z)]
        levels = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, 16)))
        if levels.size > 1:
            ax.contourf(X, Y, np.where(np.isfinite(Z), Z, finite.max()), levels=levels,
                        cmap="viridis")
        try:
            x_star = obj.minimum(2)[0]
            ax.plot(x_star[0], x_star[1], marker="*", color="red", markersize=7)
        except UnknownMinimum:
            pass
        ax.set_title(name, fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout(pad=0.3)
    return fig
