"""Timing and memory probes."""

import time

import numpy as np

from forwardgrad import timing


def test_best_time_is_a_lower_bound_in_seconds():
    # a call that sleeps 2 ms cannot take less; generous upper bound for a busy machine
    seconds = timing.best_time(lambda: time.sleep(0.002), repeat=2, min_time=0.004)
    assert 0.0019 <= seconds < 0.2


def test_python_peak_bytes_sees_numpy_buffers():
    size = 1_000_000
    peak = timing.python_peak_bytes(lambda: np.ones(size))
    assert 8 * size <= peak < 3 * 8 * size
    assert timing.python_peak_bytes(lambda: None) < 8 * size / 100


def test_interleaved_times_keeps_names_and_order():
    times = timing.interleaved_times({"slow": lambda: time.sleep(0.003), "fast": lambda: None},
                                    repeat=2, min_time=0.003)
    assert list(times.index) == ["slow", "fast"]
    assert times["slow"] >= 0.0029 and times["fast"] < times["slow"]


def test_time_and_memory():
    seconds, peak = timing.time_and_memory(lambda: np.ones(10_000), repeats=2)
    assert seconds > 0 and peak >= 80_000
