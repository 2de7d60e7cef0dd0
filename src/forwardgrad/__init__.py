"""forwardgrad: forward gradients, optimizers and test functions, after Belouze (2022).

Submodules load on first use (``fg.objectives``, ``fg.oracles``, ...), so ``import forwardgrad``
stays cheap and never imports JAX by itself.
"""

import importlib

__version__ = "0.1.0"

SUBMODULES = (
    # core: one formula, two engines
    "engines",
    "tangents",
    "oracles",
    "optimizers",
    "objectives",
    "descent",
    "plugins",
    # benchmarking: rules -> run -> store -> analyse -> draw
    "protocols",
    "benchmark",
    "coco",
    "results",
    "statistics",
    "profiles",
    "equal_cost",
    "montecarlo",
    "timing",
    "plotting",
    "verdicts",
    # the theory chapters' closed forms, the chapters' own code, the build's memo, the CLI
    "theory",
    "experiments",
    "cache",
    "cli",
)


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f"forwardgrad.{name}")
    raise AttributeError(f"module 'forwardgrad' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(SUBMODULES))
