r"""The bootstrap, once: resampling with replacement, of items or of clusters of items.

Efron & Tibshirani (1993). A bootstrap here always draws from a seeded
:class:`numpy.random.Generator` passed in. Two forms of the same draw:

- :func:`resample`: ``n_boot`` samples of ``n`` indices drawn uniformly with replacement (for a
  statistic of the resampled values, such as a median);
- :func:`cluster_weights`: the same draw made over *clusters* (for example the functions of a
  benchmark, whose starting points are not independent problems), returned as the weight of each
  item: how many times its cluster was drawn. A statistic that is a weighted mean over items
  is then one matrix product for all resamples.

:func:`percentile_interval` turns the resampled statistics into a two-sided interval, and
:func:`interval_of` does the whole bootstrap of any statistic (a median, say) of values grouped in
clusters.
"""

import math

import numpy as np


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError("a bootstrap needs rng=numpy.random.default_rng(seed)")
    return rng


def resample(n, n_boot, rng):
    """Indices ``(n_boot, n)`` drawn uniformly with replacement from ``range(n)``."""
    return _check_rng(rng).integers(0, int(n), size=(int(n_boot), int(n)))


def cluster_weights(clusters, n_boot, rng):
    """Bootstrap weights ``(n_boot, len(clusters))``: the clusters are drawn with replacement
    (as many draws as there are distinct clusters, in sorted order) and every item gets the
    number of times its cluster was drawn. With every item its own cluster, this is the
    ordinary bootstrap of items."""
    names, index = np.unique(np.asarray(clusters), return_inverse=True)
    draws = resample(len(names), n_boot, rng)  # (B, C)
    counts = np.zeros((int(n_boot), len(names)))
    np.add.at(counts, (np.arange(int(n_boot))[:, None], draws), 1.0)
    return counts[:, index]


def percentile_interval(values, level=0.95, axis=0):
    """The ``(lower, upper)`` percentile interval at ``level`` of bootstrap ``values`` along
    ``axis``, ignoring non-finite resamples (NaN where none is finite)."""
    values = np.asarray(values, dtype=float)
    alpha = (1 - level) / 2
    finite = np.where(np.isfinite(values), values, np.nan)
    empty = np.isnan(finite).all(axis=axis)
    filled = np.where(np.isnan(finite).all(axis=axis, keepdims=True), 0.0, finite)
    lower, upper = np.nanquantile(filled, [alpha, 1 - alpha], axis=axis)
    return np.where(empty, np.nan, lower), np.where(empty, np.nan, upper)


def mean_se(values, axis=0):
    r"""The Monte Carlo mean and its standard error $s/\sqrt N$ along ``axis``."""
    values = np.asarray(values, dtype=float)
    n = values.shape[axis]
    return values.mean(axis=axis), values.std(axis=axis, ddof=1) / math.sqrt(n)


def interval_of(statistic, values, n_boot, rng, level=0.95, clusters=None):
    """The percentile bootstrap interval of ``statistic(values)`` at ``level``: ``n_boot`` resamples
    of the ``clusters`` (one label per value; default: every value its own), each taking all the
    values of its clusters, as many draws as there are clusters."""
    values = np.asarray(values, dtype=float).reshape(-1)
    labels = np.arange(values.size) if clusters is None else np.asarray(clusters)
    if labels.shape != values.shape:
        raise ValueError("clusters needs one label per value")
    names, index = np.unique(labels, return_inverse=True)
    members = [np.flatnonzero(index == c) for c in range(len(names))]
    draws = resample(len(names), n_boot, rng)
    resampled = np.array([statistic(values[np.concatenate([members[c] for c in row])]) for row in draws])
    lower, upper = percentile_interval(resampled, level)
    return float(lower), float(upper)
