import numpy as np

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
