import numpy as np
import pytest

from forwardgrad import cache


def _count(calls):
    def compute(n, scale):
        calls.append(n)
        return np.arange(n) * scale

    return compute


def test_no_variable_no_cache(monkeypatch):
    monkeypatch.delenv(cache.ENV, raising=False)
    calls = []
    cache.cached("demo", _count(calls), n=3, scale=2.0)
    cache.cached("demo", _count(calls), n=3, scale=2.0)
    assert calls == [3, 3]


def test_memoises_by_name_and_parameters(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    calls = []
    first = cache.cached("demo", _count(calls), n=3, scale=2.0)
    again = cache.cached("demo", _count(calls), n=3, scale=2.0)
    other = cache.cached("demo", _count(calls), n=3, scale=3.0)
    renamed = cache.cached("demo2", _count(calls), n=3, scale=2.0)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(other, np.arange(3) * 3.0)
    assert calls == [3, 3, 3]
    assert len(list(tmp_path.glob("*.pkl"))) == 3 and not list(tmp_path.glob("*.tmp"))
    np.testing.assert_array_equal(renamed, first)


def test_key_depends_on_package_source(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    calls = []
    cache.cached("demo", _count(calls), n=2, scale=1.0)
    monkeypatch.setattr(cache, "source_digest", lambda: "changed")
    cache.cached("demo", _count(calls), n=2, scale=1.0)
    assert calls == [2, 2]


def _slow_square(n, marker):
    """Append a line to `marker` (one per actual computation), wait, return n * n."""
    import time

    with open(marker, "a") as handle:
        handle.write("computed\n")
    time.sleep(0.5)
    return n * n


def _cached_square(root, marker):
    import os

    os.environ[cache.ENV] = root
    return cache.cached("square", _slow_square, n=7, marker=marker)


def test_concurrent_callers_compute_once(tmp_path):
    # two processes ask for the same entry at once: the second waits for the first one's result
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    marker = str(tmp_path / "marker.txt")
    # spawn, not fork: other tests may have started JAX's threads in this process
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_cached_square, [str(tmp_path / "cache")] * 2, [marker] * 2))
    assert results == [49, 49]
    with open(marker) as handle:
        assert handle.read().count("computed") == 1


def test_jobs_come_from_the_environment(monkeypatch):
    monkeypatch.delenv(cache.JOBS_ENV, raising=False)
    assert cache.jobs() == 2 and cache.jobs(default=3) == 3
    monkeypatch.setenv(cache.JOBS_ENV, "1")
    assert cache.jobs() == 1
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(cache.JOBS_ENV, bad)
        with pytest.raises(ValueError, match="FORWARDGRAD_JOBS"):
            cache.jobs()
