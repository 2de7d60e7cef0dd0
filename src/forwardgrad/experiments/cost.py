r"""What a forward gradient costs: wall time and memory of $f$, a jvp and a vjp, on both engines.

Three *modes* are measured on the same batch ``x`` (and tangents ``v``):

- ``"f"``: the value $f(x)$;
- ``"jvp"``: one forward pass, $(f(x), \nabla f(x)\cdot v)$ row by row;
- ``"vjp"``: one reverse pass, $(f(x), \nabla f(x))$ row by row (cotangent ``ones``).

Time is the best of a few rounds of repeated calls (:mod:`forwardgrad.timing`: the minimum is the
least noisy estimate on a shared machine). Memory is engine specific and the two numbers mean
different things:

- autograd: the peak of the Python allocations that :mod:`tracemalloc` sees during one call, above
  what was allocated before it. NumPy reports its array buffers to tracemalloc, so this counts the
  arrays the call creates: intermediate values, tangents, the tape of a reverse pass.
- JAX: XLA's buffer assignment for the compiled call
  (``jax.jit(fn).lower(*args).compile().memory_analysis()``): ``argument`` bytes (the inputs),
  ``output`` bytes (the results), ``temp`` bytes (scratch buffers XLA allocates for intermediate
  values). We report ``temp + output``, the memory the call needs beyond its inputs. It is a
  static plan, known before running, not a measurement.

Griewank & Walther (2008) bound, in operation counts, a jvp by about $2.5\times$ and a gradient
by reverse mode by about $4\times$ the cost of $f$; measured times add memory traffic and
interpreter overhead.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from forwardgrad import descent, tangents
from forwardgrad.engines import check_engine, load_jax
from forwardgrad.oracles import value_and_directional, value_and_grad
from forwardgrad.timing import best_time, interleaved_times, python_peak_bytes

MODES = ("f", "jvp", "vjp")


class CompiledMemory(NamedTuple):
    """XLA's static memory plan of a compiled call, in bytes."""

    argument: int  # the inputs
    output: int  # the results
    temp: int  # scratch buffers for intermediate values
    alias: int  # outputs that reuse an input's buffer

    @property
    def working(self):
        """Bytes the call needs beyond its inputs: ``temp + output - alias``."""
        return self.temp + self.output - self.alias


def compiled_memory(compiled):
    """The :class:`CompiledMemory` of ``jax.jit(fn).lower(*args).compile()``."""
    stats = compiled.memory_analysis()
    return CompiledMemory(
        argument=int(stats.argument_size_in_bytes),
        output=int(stats.output_size_in_bytes),
        temp=int(stats.temp_size_in_bytes),
        alias=int(stats.alias_size_in_bytes),
    )


def _mode_functions(f, engine):
    """``mode -> fn(x, v)`` computing f, a jvp and a vjp with the package's raw AD calls."""
    return {
        "f": lambda x, v: f(x),
        "jvp": lambda x, v: value_and_directional(f, x, v, engine),
        "vjp": lambda x, v: value_and_grad(f, x, engine),
    }


def mode_calls(f, x, v, engine="autograd"):
    """Zero-argument callables running each of :data:`MODES` at ``(x, v)``, ready to time.

    On JAX each mode is compiled once here (``jit``, lowered on ``x`` and ``v``), and the callable
    waits for its result; the second value of the returned pair maps each mode to its
    :class:`CompiledMemory`. On autograd that second value is None.
    """
    check_engine(engine)
    modes = _mode_functions(f, engine)
    if engine == "autograd":
        x, v = np.asarray(x, dtype=float), np.asarray(v, dtype=float)
        return {m: (lambda fn=fn: fn(x, v)) for m, fn in modes.items()}, None
    jax = load_jax()
    xj, vj = jax.numpy.asarray(x), jax.numpy.asarray(v)
    compiled = {m: jax.jit(fn).lower(xj, vj).compile() for m, fn in modes.items()}
    calls = {m: (lambda c=c: jax.block_until_ready(c(xj, vj))) for m, c in compiled.items()}
    return calls, {m: compiled_memory(c) for m, c in compiled.items()}


def measure_modes(f, x, v=None, *, engine="autograd", repeat=5, min_time=0.01, memory=True):
    """Seconds and memory of f, a jvp and a vjp of ``f`` at the batch ``x``, on one engine.

    ``v`` defaults to Rademacher tangents drawn with seed 0. Returns a DataFrame indexed by mode
    with columns

    - ``seconds``: the best time of one call;
    - ``memory_bytes``: what the call needs beyond its inputs (autograd: tracemalloc peak; JAX:
      ``temp + output - alias`` of the compiled call);
    - ``input_bytes``: the arrays the mode reads (``x``; ``x`` and ``v`` for the jvp);
    - ``footprint_bytes``: ``input_bytes + memory_bytes``, the memory live during the call;

    and, on JAX, ``argument_bytes``, ``output_bytes``, ``temp_bytes`` of the compiled call. With
    ``memory=False`` the memory columns are NaN (tracemalloc slows Python down). The three modes
    are timed interleaved, round by round, so that a slow spell of a shared machine hits them alike.
    """
    x = np.asarray(x, dtype=float)
    if v is None:
        v = tangents.rademacher(np.random.default_rng(0), x.shape)
    v = np.asarray(v, dtype=float)
    calls, plans = mode_calls(f, x, v, engine)
    frame = pd.DataFrame({"seconds": interleaved_times(calls, repeat=repeat, min_time=min_time)})
    frame.index.name = "mode"
    if plans is not None:
        frame["memory_bytes"] = [float(plans[m].working) for m in MODES]
        frame["input_bytes"] = [float(plans[m].argument) for m in MODES]
        frame["argument_bytes"] = [plans[m].argument for m in MODES]
        frame["output_bytes"] = [plans[m].output for m in MODES]
        frame["temp_bytes"] = [plans[m].temp for m in MODES]
    else:
        frame["memory_bytes"] = [float(python_peak_bytes(calls[m])) if memory else np.nan for m in MODES]
        frame["input_bytes"] = [float(x.nbytes + (v.nbytes if m == "jvp" else 0)) for m in MODES]
    if not memory:
        frame["memory_bytes"] = np.nan
    frame["footprint_bytes"] = frame["input_bytes"] + frame["memory_bytes"]
    return frame


def ratios(frame, column="seconds"):
    """``jvp / f`` and ``vjp / f`` of one column of :func:`measure_modes` (a Series)."""
    base = frame.loc["f", column]
    return pd.Series({"jvp/f": frame.loc["jvp", column] / base, "vjp/f": frame.loc["vjp", column] / base})


def step_function(f, optimizer, gradient="forward", *, tangent="rademacher", k=1, engine="jax"):
    """One descent step ``(x, state, rng) -> (x, state, rng)`` with one oracle and one optimizer.

    :func:`forwardgrad.descent.single_step` of the arm (``gradient``, ``tangent``, ``k``), jitted
    on JAX (``rng`` a JAX key there, a ``numpy.random.Generator`` on autograd): what one lockstep
    step of :mod:`forwardgrad.descent` does, without the bookkeeping of targets and statuses.
    """
    check_engine(engine)
    one = descent.single_step(f, descent.Arm(optimizer, gradient, tangent, k=k), engine)

    def step(x, state, rng):
        _, _, delta, state, rng = one(x, state, rng)
        return x + delta, state, rng

    return load_jax().jit(step) if engine == "jax" else step


def step_call(f, x, optimizer, gradient="forward", *, tangent="rademacher", k=1, engine="jax", seed=0):
    """A zero-argument callable making one :func:`step_function` step on the batch ``x`` (its
    result is discarded), ready to time; on JAX it waits for the result."""
    x = np.asarray(x, dtype=float)
    step = step_function(f, optimizer, gradient, tangent=tangent, k=k, engine=engine)
    if engine == "jax":
        jax = load_jax()
        xj = jax.numpy.asarray(x)
        carry = (xj, optimizer.init(xj), jax.random.key(seed, impl="rbg"))
        return lambda: jax.block_until_ready(step(*carry))
    rng = np.random.default_rng(seed)
    state = optimizer.init(x)
    return lambda: step(x, state, rng)


def step_seconds(f, x, optimizer, gradient="forward", *, tangent="rademacher", k=1, engine="jax",
                 seed=0, repeat=5, min_time=0.01):
    """Seconds per *run-step*: the best time of one :func:`step_function` call on the batch ``x``
    of shape ``(runs, d)``, divided by ``runs``."""
    call = step_call(f, x, optimizer, gradient, tangent=tangent, k=k, engine=engine, seed=seed)
    return best_time(call, repeat=repeat, min_time=min_time) / np.shape(x)[0]


def in_seconds(costs, seconds_per_step):
    """Costs counted in evaluations turned into seconds: $t_{p,s} \\times$ seconds per step.

    ``costs`` is :func:`forwardgrad.profiles.problem_costs` (rows: problems with a ``function``
    level; columns: solvers). ``seconds_per_step`` is a DataFrame with one row per function and
    one column per solver (seconds per run-step of that solver's oracle and update on that
    function). Infinite costs (failures) stay infinite whatever the price of a step, so only the
    (function, solver) pairs with a finite cost need a step time; a missing one raises.
    """
    absent = set(costs.columns) - set(seconds_per_step.columns)
    if absent:
        raise ValueError(f"no step time for solvers {sorted(absent)}")
    t = costs.to_numpy(dtype=float)
    functions = costs.index.get_level_values("function")
    per_step = seconds_per_step.reindex(index=functions, columns=list(costs.columns)).to_numpy(dtype=float)
    needed = np.isfinite(t) & ~np.isfinite(per_step)
    if needed.any():
        missing = sorted(set(functions[needed.any(axis=1)]))
        raise ValueError(f"no step time for functions {missing}, where a solver has a finite cost")
    with np.errstate(invalid="ignore"):
        seconds = np.where(np.isfinite(t), t * per_step, np.inf)
    return pd.DataFrame(seconds, index=costs.index, columns=costs.columns)
