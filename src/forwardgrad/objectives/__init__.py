"""The test-function collection of the paper (Thevenot's 78 functions), corrected and checked.

Every function is an :class:`Objective` record: ``f`` (batch ``(..., d) -> (...)`` on autograd
and JAX), ``accepts(d)``, ``bounds(d)``, ``minimum(d)`` and ``tags`` (the original collection's
flags). Where the original departs from the literature we follow the literature; the
departures are listed by :func:`corrections` and the original definitions stay available
through :func:`original` for the audit.

>>> import forwardgrad as fg
>>> obj = fg.objectives.get("rosenbrock")
>>> x_star, f_star = obj.minimum(10)
>>> float(obj.f(x_star)) == f_star
True
"""

from . import catalogue, fixed, originals, scalable  # noqa: F401  (importing registers them)
from ._registry import FLAGS, ORIGINALS, REGISTRY, Correction, Objective, UnknownMinimum, lookup
from .modality import (distinct_minima, find_local_minima, local_minima, local_search,
                       newton_search)

__all__ = [
    "FLAGS", "REGISTRY", "ORIGINALS", "Objective", "UnknownMinimum", "Correction",
    "get", "names", "paper_selection", "corrections", "original", "original_names",
    "local_minima", "find_local_minima", "local_search", "newton_search", "distinct_minima",
]

CORRECTION_COLUMNS = ("name", "original", "ours", "source")


def get(name):
    """The :class:`Objective` called ``name``; ``KeyError`` (with close names) if there is none."""
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
    import pandas as pd

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
