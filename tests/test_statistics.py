"""The bootstrap device and the Monte Carlo standard error."""

import numpy as np
import pytest

from forwardgrad import statistics


def test_cluster_weights_draw_whole_clusters():
    clusters = np.array(["a", "a", "b", "c", "c", "c"])
    w = statistics.cluster_weights(clusters, 500, np.random.default_rng(0))
    assert w.shape == (500, 6)
    # members of one cluster always share their weight, and each resample draws 3 clusters
    np.testing.assert_array_equal(w[:, 0], w[:, 1])
    np.testing.assert_array_equal(w[:, 3], w[:, 5])
    np.testing.assert_array_equal(w[:, [0, 2, 3]].sum(axis=1), 3)
    # each cluster is drawn once per resample on average
    assert abs(w[:, 2].mean() - 1) < 0.15
    np.testing.assert_array_equal(w, statistics.cluster_weights(clusters, 500, np.random.default_rng(0)))
    with pytest.raises(TypeError, match="default_rng"):
        statistics.cluster_weights(clusters, 5, 0)


def test_items_as_their_own_clusters_are_the_ordinary_bootstrap():
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    w = statistics.cluster_weights(np.arange(4), 50, rng_a)
    picks = statistics.resample(4, 50, rng_b)
    np.testing.assert_array_equal(w, np.stack([np.bincount(p, minlength=4) for p in picks]))


def test_percentile_interval_ignores_failed_resamples():
    values = np.array([[1.0, np.nan], [2.0, np.inf], [3.0, np.nan], [4.0, np.nan]])
    lower, upper = statistics.percentile_interval(values, level=0.5)
    np.testing.assert_allclose([lower[0], upper[0]], np.quantile([1, 2, 3, 4], [0.25, 0.75]))
    assert np.isnan(lower[1]) and np.isnan(upper[1])


def test_mean_se():
    values = np.random.default_rng(1).normal(3.0, 2.0, 40_000)
    mean, se = statistics.mean_se(values)
    assert se == pytest.approx(2.0 / 200, rel=0.05) and abs(mean - 3.0) < 5 * se


def test_interval_of_a_median_by_clusters():
    rng = np.random.default_rng(0)
    values = np.concatenate([np.full(5, 1.0), np.full(5, 3.0)])
    # two clusters of identical values: each resample holds 0, 1 or 2 copies of the cluster of 3s
    lower, upper = statistics.interval_of(np.median, values, 400, rng, clusters=[0] * 5 + [1] * 5)
    assert (lower, upper) == (1.0, 3.0)
    lower, upper = statistics.interval_of(np.median, np.arange(100.0), 400, np.random.default_rng(1))
    assert 35 < lower < 49.5 < upper < 65  # the median of 100 uniform values: SE 5
    with pytest.raises(ValueError, match="one label per value"):
        statistics.interval_of(np.median, values, 10, rng, clusters=[0, 1])
