"""Small test functions shared by the unit tests, written against the array namespace."""

from forwardgrad.engines import namespace


def quadratic(x):
    r"""$\sum_i i\,x_i^2 + \sin x_1$: smooth, row-separable, with a non-trivial gradient."""
    xp = namespace(x)
    return xp.sum(xp.arange(1, x.shape[-1] + 1) * x**2, axis=-1) + xp.sin(x[..., 0])


def rosen(x):
    r"""Rosenbrock, $\sum_i 100(x_{i+1}-x_i^2)^2 + (1-x_i)^2$."""
    xp = namespace(x)
    return xp.sum(100.0 * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (1.0 - x[..., :-1]) ** 2, axis=-1)


def sphere(x):
    return namespace(x).sum(x**2, axis=-1)


def record_chunks(monkeypatch, calls, stop_at=None):
    """Make ``benchmark.run_chunk`` append each chunk's function to ``calls``, and raise
    KeyboardInterrupt instead of running the chunk of ``stop_at``: an interrupted sweep."""
    from forwardgrad import benchmark

    real = getattr(benchmark.run_chunk, "__wrapped__", benchmark.run_chunk)  # never wrap twice

    def run_chunk(p, chunk, **kw):
        if chunk.function == stop_at:
            raise KeyboardInterrupt
        calls.append(chunk.function)
        return real(p, chunk, **kw)

    run_chunk.__wrapped__ = real
    monkeypatch.setattr(benchmark, "run_chunk", run_chunk)


def interrupted_sweep(monkeypatch, p, out, seed, stop_at):
    """Run ``benchmark.sweep`` of protocol ``p`` into ``out`` until the chunk of ``stop_at``,
    where a KeyboardInterrupt ends it; return the list of chunks run, which goes on recording."""
    import pytest

    from forwardgrad import benchmark

    calls = []
    record_chunks(monkeypatch, calls, stop_at=stop_at)
    with pytest.raises(KeyboardInterrupt):
        benchmark.sweep(p, seed=seed, engine="autograd", out=out)
    return calls
