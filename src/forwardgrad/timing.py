"""Timing and memory probes, once: best wall time of a call, interleaved timings, peak allocations.

Times are the best of a few rounds of repeated calls: on a shared machine the minimum is the least
noisy estimate of what a call costs. Timings measured here are for the book's cost chapters and
for the scripts under ``benchmarks/``; no test asserts a speed.
"""

import math
import time
import tracemalloc

import pandas as pd


def best_time(call, *, repeat=5, min_time=0.01):
    """The best wall time of one call, in seconds.

    ``call()`` is timed in ``repeat`` rounds; each round makes enough calls (doubling from one) to
    last ``min_time`` seconds, and the round's mean per call is kept; the best round wins. One
    untimed call first warms caches (and compiles, for JAX).
    """
    call()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            call()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
        calls *= 2
    best = elapsed / calls
    for _ in range(repeat - 1):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def interleaved_times(calls, *, repeat=5, min_time=0.01):
    """The best wall time of each of several calls, measured in turns.

    ``calls`` maps names to zero-argument callables. Each of ``repeat`` rounds times every call
    once (:func:`best_time` with one round), so a slow spell of a shared machine hits them alike;
    the best round of each call is kept. Returns a Series of seconds per call, in the order given.
    """
    best = {name: math.inf for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            best[name] = min(best[name], best_time(call, repeat=1, min_time=min_time))
    return pd.Series(best, dtype=float)


def python_peak_bytes(call):
    """Peak bytes of Python allocations (tracemalloc) during one ``call()``, above the start level."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(peak - base, 0)


def time_and_memory(call, repeats=5):
    """``(seconds, peak_bytes)``: the best of ``repeats`` single calls (:func:`best_time` with no
    minimum duration) and the peak of Python allocations during one further call."""
    return best_time(call, repeat=repeats, min_time=0.0), python_peak_bytes(call)
