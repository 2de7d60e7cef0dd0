"""Array namespaces and automatic-differentiation engines.

Every formula in forwardgrad (test functions, tangent laws, optimizer updates) is written once
against ``xp = namespace(x)``: :mod:`autograd.numpy` for NumPy arrays and autograd boxes, and
:mod:`jax.numpy` for JAX arrays and tracers. The engine name (``"autograd"`` or ``"jax"``) picks
which AD system differentiates those formulas.
"""

import os
import sys
from pathlib import Path

import autograd.numpy as anp
import numpy as np

ENGINES = ("autograd", "jax")
JAX_CACHE_ENV = "FORWARDGRAD_JAX_CACHE"
BUILD_CACHE_ENV = "FORWARDGRAD_CACHE"
_COMPILE_SECONDS = [0.0]
_COMPILE_COUNT = [0]

JAX_MISSING = (
    "engine='jax' needs JAX, which is not installed. "
    "Install it with `pip install forwardgrad[jax]` (or `pip install jax`)."
)


def namespace(x):
    """The array namespace matching ``x``: jax.numpy for JAX values, autograd.numpy otherwise.

    Plain NumPy arrays get NumPy itself: the same arithmetic without autograd's wrapper cost,
    since autograd traces a function by passing it boxes, never plain arrays.
    """
    if type(x) is np.ndarray:
        return np
    jax = sys.modules.get("jax")
    if jax is not None and isinstance(x, jax.Array):
        return jax.numpy
    return anp


def scaled_to_norm(x, radius2):
    r"""$x\,\sqrt{r^2/\lVert x\rVert^2}$ along the last axis: ``x`` rescaled to the norm $r$ (``radius2`` is $r^2$).

    Written as the root of a quotient, not as ``x / norm(x)``: XLA rewrites a division by a
    square root into a product with its reciprocal root, whose AVX-512 code is approximate (not
    correctly rounded) while its AVX2 code is not, so the quotient form would give other bits on
    another CPU. A division and a root are each correctly rounded on every CPU. ``x`` must have a
    nonzero norm.
    """
    xp = namespace(x)
    return x * xp.sqrt(radius2 / xp.sum(x * x, axis=-1, keepdims=True))


def check_engine(engine):
    """Raise ``ValueError`` for an unknown engine name; return the name."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; valid engines are {', '.join(ENGINES)}")
    return engine


def load_jax():
    """Import JAX in float64 mode, or raise ``ImportError`` that says how to install it.

    JAX is imported here, on first use, and nowhere at module level: ``import forwardgrad`` and
    the autograd engine never pay for it. The first call also turns on JAX's persistent
    compilation cache in :func:`compilation_cache_dir` (when there is one), so that a later
    process compiles nothing it compiled before, and starts counting compilations and their
    seconds (:func:`compile_count`, :func:`compile_seconds`).
    """
    try:
        import jax
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(JAX_MISSING) from err
    if not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)
        folder = compilation_cache_dir()
        if folder is not None:
            jax.config.update("jax_compilation_cache_dir", str(folder))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        jax.monitoring.register_event_duration_secs_listener(_count_compilation)
    return jax


def compilation_cache_dir():
    """Where JAX keeps compiled programs between processes: ``$FORWARDGRAD_JAX_CACHE`` (empty:
    nowhere), else ``$FORWARDGRAD_CACHE/jax`` (the book build's cache), else None."""
    if JAX_CACHE_ENV in os.environ:
        return Path(os.environ[JAX_CACHE_ENV]) if os.environ[JAX_CACHE_ENV].strip() else None
    if os.environ.get(BUILD_CACHE_ENV, "").strip():
        return Path(os.environ[BUILD_CACHE_ENV]) / "jax"
    return None


def _count_compilation(event, seconds, **_):
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILE_SECONDS[0] += seconds
        _COMPILE_COUNT[0] += 1


def compile_seconds():
    """Seconds XLA has spent compiling in this process since JAX was loaded (0 before)."""
    return _COMPILE_SECONDS[0]


def compile_count():
    """Programs XLA has compiled in this process since JAX was loaded (0 before); a program read
    from the persistent compilation cache is not compiled, so it does not count."""
    return _COMPILE_COUNT[0]


def has_jax():
    """Whether the JAX engine can be used here."""
    try:
        load_jax()
    except ImportError:
        return False
    return True
