"""Array namespaces and automatic-differentiation engines.

Every formula in forwardgrad (test functions, tangent laws, optimizer updates) is written once
against ``xp = namespace(x)``: :mod:`autograd.numpy` for NumPy arrays and autograd boxes, and
:mod:`jax.numpy` for JAX arrays and tracers. The engine name (``"autograd"`` or ``"jax"``) picks
which AD system differentiates those formulas.
"""

import sys

import autograd.numpy as anp
import numpy as np

ENGINES = ("autograd", "jax")

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


def check_engine(engine):
    """Raise ``ValueError`` for an unknown engine name; return the name."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; valid engines are {', '.join(ENGINES)}")
    return engine


def load_jax():
    """Import JAX in float64 mode, or raise ``ImportError`` that says how to install it."""
    try:
        import jax
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(JAX_MISSING) from err
    jax.config.update("jax_enable_x64", True)
    return jax


def has_jax():
    """Whether the JAX engine can be used here."""
    try:
        load_jax()
    except ImportError:
        return False
    return True
