"""Tables and pictures of the collection, for the book chapter "The test functions".

Everything here computes from the registry; the chapter only calls these functions.
"""

import zlib

import numpy as np

from ._registry import FLAGS, REGISTRY, UnknownMinimum, lookup
from .modality import find_local_minima

PAPER_DIMS = (2, 10, 100)


def _number(value, digits=6):
    """A float printed with ``digits`` significant digits (deterministic text for the book)."""
    return f"{value:.{digits}g}" if np.isfinite(value) else str(value)


def _interval(lower, upper):
    return f"[{_number(lower, 5)}, {_number(upper, 5)}]"


def box_text(obj, d):
    """The box as text: ``[-5, 10]^d`` when all coordinates share it, else a product."""
    lower, upper = obj.bounds(d)
    if np.all(lower == lower[0]) and np.all(upper == upper[0]):
        return _interval(lower[0], upper[0]) + (f"^{d}" if d > 1 else "")
    return " x ".join(_interval(a, b) for a, b in zip(lower, upper))


def table_dimension(obj):
    """The dimension a function is shown in: its fixed one, else 2."""
    return obj.dim if obj.dim is not None else 2


def describe(names=None):
    """One row per function: dimension rule, box, f* and x* (in d = 2 or the fixed d), tags and
    membership of the paper's selection in d = 2, 10, 100."""
    import pandas as pd

    rows = []
    for name in names or sorted(REGISTRY):
        obj = lookup(name, REGISTRY)
        d = table_dimension(obj)
        try:
            x_star, f_star = obj.minimum(d)
            f_text = _number(f_star)
            x_text = "(" + ", ".join(_number(v, 5) for v in x_star) + ")"
        except UnknownMinimum:
            f_text = x_text = "unknown"
        rows.append({
            "function": name, "dimension": obj.dimension_rule, "d": d, "box": box_text(obj, d),
            "f*": f_text, "x*": x_text,
            "tags": ", ".join(t for t in FLAGS if t in obj.tags),
            **{f"paper d={p}": obj.accepts(p) and "multimodal" not in obj.tags for p in PAPER_DIMS},
        })
    return pd.DataFrame(rows)


def modality_rng(name, d, seed=0):
    """The generator of the starts for ``name`` in dimension ``d`` (stable across runs)."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode()), d]))


def measure_modality(name, d, starts=50, seed=0):
    """Measured modality of one function: a dict with the number of distinct minima found, how
    many of them are not global (value above ``f* + 1e-3 (1 + |f*|)``, or above the best found
    when f* is unknown) and lie inside the box, and how many lie on the box boundary."""
    obj = lookup(name, REGISTRY)
    x, f = find_local_minima(obj, d, starts=starts, rng=modality_rng(name, d, seed))
    try:
        f_star = obj.minimum(d)[1]
    except UnknownMinimum:
        f_star = float(np.min(f))
    lower, upper = obj.bounds(d)
    on_boundary = np.any((x <= lower) | (x >= upper), axis=-1)
    above = f > f_star + 1e-3 * (1.0 + abs(f_star))
    return {"function": name, "d": d, "flagged": "multimodal" in obj.tags, "minima": len(x),
            "non-global": int(np.sum(above & ~on_boundary)), "boundary": int(np.sum(on_boundary))}


def modality_table(names, d=None, starts=50, seed=0):
    """:func:`measure_modality` for each name (in ``d``, or each function's table dimension).

    Column ``measured`` is True when a non-global interior minimum was found: the sense of the
    ``multimodal`` flag (symmetric copies of the global minimum and box-boundary minima do not
    count). Column ``mislabelled`` marks where the flag and the measurement disagree.
    """
    import pandas as pd

    rows = [measure_modality(name, d or table_dimension(lookup(name, REGISTRY)), starts, seed)
            for name in names]
    table = pd.DataFrame(rows)
    table["measured"] = table["non-global"] > 0
    table["mislabelled"] = table["measured"] != table["flagged"]
    return table


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
    import matplotlib.pyplot as plt

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
