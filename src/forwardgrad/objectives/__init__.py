"""The test-function collection of the paper (Thevenot's 78 functions), corrected and checked.

Every function is an :class:`Objective` record: ``f`` (batch ``(..., d) -> (...)`` on autograd
and JAX), ``accepts(d)``, ``bounds(d)``, ``minimum(d)`` and ``tags`` (the original collection's
flags). Where the original departs from the literature we follow the literature; the
departures are listed by :func:`corrections` and the original definitions stay available
through :func:`original` for the audit.

Your own test function is made with the decorator the collection uses, :func:`objective`, with
``registry={}`` so that it stays out of the collection (and out of the paper's selection); a
benchmark takes it by import path or as the object (see :mod:`forwardgrad.plugins`).

>>> import forwardgrad as fg
>>> obj = fg.objectives.get("rosenbrock")
>>> x_star, f_star = obj.minimum(10)
>>> float(obj.f(x_star)) == f_star
True
"""

import numpy as np
import pandas as pd

from . import bbob, fixed, originals, scalable  # noqa: F401  (importing registers them)
from ._registry import FLAGS, ORIGINALS, REGISTRY, Correction, Objective, UnknownMinimum, lookup, objective
from .modality import (distinct_minima, find_local_minima, local_minima, local_search, measure_modality,
                       modality_rng, modality_table, newton_search)

__all__ = [
    "FLAGS", "REGISTRY", "ORIGINALS", "PAPER_DIMS", "Objective", "UnknownMinimum", "Correction", "objective",
    "get", "names", "paper_selection", "corrections", "original", "original_names",
    "local_minima", "find_local_minima", "local_search", "newton_search", "distinct_minima",
    "measure_modality", "modality_rng", "modality_table", "describe", "bbob",
]

PAPER_DIMS = (2, 10, 100)  # the dimensions of the paper's benchmark
CORRECTION_COLUMNS = ("name", "original", "ours", "source")


def get(name, instance=None):
    """The :class:`Objective` called ``name``; ``KeyError`` (with close names) if there is none.

    Names starting ``bbob/`` are COCO's bbob functions (:mod:`.bbob`):
    ``get("bbob/f8", instance=1)`` or ``get("bbob/f8/i1")``; ``instance`` is for them only.
    """
    if bbob.is_bbob(name):
        return bbob.get(name, instance)
    if instance is not None:
        raise ValueError(f"instance= is for bbob functions ('bbob/f<n>'), not {name!r}")
    return lookup(name, REGISTRY)


def names():
    """The sorted names of the 78 functions of the collection."""
    return sorted(REGISTRY)


def paper_selection(d):
    """The functions the paper benchmarked in dimension ``d``.

    The paper's code kept the functions whose original flag says non-multimodal and that accept
    ``d``: 31 in d = 2, 18 in d = 10 and in d = 100.
    """
    return sorted(name for name, obj in REGISTRY.items()
                  if "multimodal" not in obj.tags and obj.accepts(d))


def corrections():
    """Departures from the original collection: a DataFrame (name, original, ours, source).

    One row per departure (a function may have several), in name order.
    """
    rows = [(name, c.original, c.ours, c.source)
            for name in names() for c in REGISTRY[name].corrections]
    return pd.DataFrame(rows, columns=list(CORRECTION_COLUMNS))


def original_names():
    """The functions whose original definition or stated minimum is kept by :func:`original`."""
    return sorted(name.removesuffix("_original") for name in ORIGINALS)


def original(name):
    """The original collection's version of ``name``: an Objective named ``<name>_original``.

    Its ``f`` is the original formula (vectorised) and ``minimum(d)`` the original's stated
    minimizer with the original formula's value there, i.e. the paper's ``f_star``.
    """
    key = name if str(name).endswith("_original") else f"{name}_original"
    try:
        return ORIGINALS[key]
    except KeyError:
        lookup(name, REGISTRY)  # an unknown name gets the close-match message
        raise KeyError(f"{name!r} has no kept original: its definition was not changed "
                       f"(see corrections()); originals exist for {', '.join(original_names())}"
                       ) from None


def _number(value, digits=6):
    """A float printed with ``digits`` significant digits (deterministic text for the book)."""
    return f"{value:.{digits}g}" if np.isfinite(value) else str(value)


def _interval(lower, upper):
    return f"[{_number(lower, 5)}, {_number(upper, 5)}]"


def box_text(obj, d):
    """The box as text: ``[-5, 10]^d`` when all coordinates share it, else a product (or
    "per coordinate" beyond 4 coordinates). Reads the box as the function states it, so a large
    ``d`` allocates nothing."""
    lower, upper = obj.box(obj.check(d))
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if lower.size == 1 and upper.size == 1 or (np.all(lower == lower.flat[0]) and np.all(upper == upper.flat[0])):
        return _interval(lower.flat[0], upper.flat[0]) + (f"^{d}" if d > 1 else "")
    if d > 4:
        return "per coordinate"
    lower, upper = np.broadcast_to(lower, (d,)), np.broadcast_to(upper, (d,))
    return " x ".join(_interval(a, b) for a, b in zip(lower, upper))


def table_dimension(obj):
    """The dimension a function is shown in: its fixed one, else 2."""
    return obj.dim if obj.dim is not None else 2


MAX_DESCRIBED_DIM = 10**6
"""The largest dimension :func:`describe` accepts: a stated minimizer is a point of ``d``
coordinates (8 MB at 10^6)."""


def describe(names=None, d=None):
    """One row per function: dimension rule, box, f* and x* (in ``d``, or in d = 2 or the fixed
    d), tags and membership of the paper's selection in d = 2, 10, 100. With ``d``, only the
    functions accepting it, and no x* column (a point of ``d`` coordinates); ``d`` above
    :data:`MAX_DESCRIBED_DIM` is a ``ValueError``. A minimum beyond float64 reads "overflows"."""
    if d is not None and not 1 <= d <= MAX_DESCRIBED_DIM:
        raise ValueError(f"describe takes dimensions from 1 to {MAX_DESCRIBED_DIM:,}, got {d:,}")
    rows = []
    for name in names or sorted(REGISTRY):
        obj = lookup(name, REGISTRY)
        if d is not None and not obj.accepts(d):
            continue
        shown = table_dimension(obj) if d is None else d
        try:
            x_star, f_star = obj.minimum(shown)
            f_text = _number(f_star) if np.isfinite(f_star) else "overflows float64"
            x_text = "(" + ", ".join(_number(v, 5) for v in x_star) + ")" if d is None else ""
        except UnknownMinimum:
            f_text = x_text = "unknown"
        row = {"function": name, "dimension": obj.dimension_rule, "d": shown, "box": box_text(obj, shown),
               "f*": f_text, "x*": x_text, "tags": ", ".join(t for t in FLAGS if t in obj.tags),
               **{f"paper d={p}": obj.accepts(p) and "multimodal" not in obj.tags for p in PAPER_DIMS}}
        if d is not None:
            del row["x*"]
        rows.append(row)
    return pd.DataFrame(rows)
