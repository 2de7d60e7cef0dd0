r"""Bring your own method: plugins for the benchmark, resolved and checked at the door.

A benchmark protocol (:mod:`forwardgrad.protocols`) names its optimizers, gradient estimators,
tangent law and test functions. Each name is either a registered one (``"adam"``, ``"forward"``,
``"rademacher"``, ``"rosenbrock"``), an *import path* ``"package.module:attribute"`` (what the
command line takes, ``--optimizers sgd,adam,mypkg.mymodule:lion``), or, through the Python API, the
object itself. Every plugin obeys the contract of the registry it joins:

=================  ===========================================================================
kind               contract
=================  ===========================================================================
``optimizer``      a factory ``make(lr) -> Optimizer(init, update)`` as in
                   :data:`forwardgrad.optimizers.OPTIMIZERS` (it gets the protocol's ``lr``),
                   or an :class:`~forwardgrad.optimizers.Optimizer` with its own learning
                   rate; ``init(x)`` returns a NamedTuple state whose arrays are scalars or
                   have the runs on their first axis, ``update(g, state) -> (step, state)``
                   keeps that structure and returns a step of the shape of ``g``
``gradient``       an :class:`~forwardgrad.oracles.Oracle` ``(estimate, tangents, calls,
                   evaluations)`` as in :data:`forwardgrad.oracles.ORACLES`: ``calls(k)`` and
                   ``evaluations(k)`` say how many gradient-oracle calls (JVPs or VJPs) and
                   evaluations of $f$ one step with ``k`` tangents costs
``tangent``        a law ``(rng, shape) -> v`` as in :data:`forwardgrad.tangents.TANGENTS`,
                   with $\mathbb{E}[v v^\top] = I$ on the last axis
``function``       an :class:`~forwardgrad.objectives.Objective` made with
                   :func:`forwardgrad.objectives.objective` (pass ``registry={}`` so that it
                   stays out of the collection), with its box and its minimum
=================  ===========================================================================

:func:`resolve` turns a name, path or object into a registered name (a string) or a checked
:class:`Plugin` record, and raises :class:`PluginError` with one line when the path does not
import or the object breaks its contract (:func:`check_optimizer`, :func:`check_oracle`,
:func:`check_tangent`, :func:`check_objective`). So a bad plugin stops a sweep before its
first run, never halfway. A plugin's array code is written against ``xp = namespace(x)``
(:func:`forwardgrad.engines.namespace`) so that it runs on both engines; :func:`jax_problem`
says why one does not trace on JAX, and the sweep then falls back to autograd with a warning
(or refuses an explicit ``engine="jax"``).

The result tables name a plugin by :attr:`Plugin.name` like a built-in, and the sidecar records
its import path and the SHA-256 of its module's source (:func:`describe`), so a rerun with an
edited plugin is not taken for the same sweep. Worker processes (``jobs > 1``) receive the
plugin by pickling: an importable module is the reliable way.
"""

import hashlib
import importlib
import inspect
import math
import os
import re
import sys
from typing import Any, NamedTuple

import numpy as np

from forwardgrad import objectives, optimizers, oracles, tangents
from forwardgrad.engines import has_jax, load_jax

KINDS = ("optimizer", "gradient", "tangent", "function")
NAME_PATTERN = r"[A-Za-z0-9_.+-]+"
COVARIANCE_DRAWS = 4000
"""Tangents drawn (in dimension :data:`COVARIANCE_DIM`) to check $\\mathbb{E}[vv^\\top] = I$."""
COVARIANCE_DIM = 4
COVARIANCE_Z = 6.0
r"""Allowed deviation of each entry of the sample second moment from $I$, in standard errors:
over the 10 distinct entries a correct law fails with probability below $10^{-8}$."""


class PluginError(ValueError):
    """A plugin that cannot be imported or breaks its contract (one line)."""


class Plugin(NamedTuple):
    """A checked plugin: its ``kind`` (one of :data:`KINDS`), the ``name`` the result tables use,
    the object, its import ``path`` (None when it has none, e.g. defined in a notebook) and the
    SHA-256 of its source (its module's, else its own; None when the source is unavailable)."""

    kind: str
    name: str
    obj: Any
    path: str | None
    sha256: str | None


def _registered(kind):
    return {"optimizer": optimizers.OPTIMIZERS, "gradient": oracles.ORACLES, "tangent": tangents.TANGENTS,
            "function": objectives.REGISTRY}[kind]


def name(entry):
    """The name of a protocol entry: the string itself, or the plugin's name."""
    return entry.name if isinstance(entry, Plugin) else entry


def obj(entry, kind):
    """The object behind a protocol entry: the plugin's object, or the registered one (for an
    optimizer, the factory)."""
    return entry.obj if isinstance(entry, Plugin) else _registered(kind)[entry]


def is_path(text):
    """Whether ``text`` is an import path ``module:attribute``."""
    return isinstance(text, str) and ":" in text


def import_path(path):
    """The object at ``"package.module:attribute"`` (the attribute may be dotted).

    The current folder is searched first, as ``python -m`` does. Raises :class:`PluginError`.
    """
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute or ":" in attribute:
        raise PluginError(f"{path!r} is not an import path of the form package.module:attribute")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target = importlib.import_module(module_name)
    except Exception as err:  # any error while importing the user's module: one line
        raise PluginError(f"cannot import {module_name!r} for plugin {path!r}: {type(err).__name__}: "
                          f"{_first_line(err)}") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise PluginError(f"module {module_name!r} has no attribute {attribute!r} (plugin {path!r})") from None
    return target


def _first_line(err):
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _source_digest(target, module):
    try:
        source = inspect.getsource(module) if module is not None else inspect.getsource(target)
    except (OSError, TypeError):
        return None
    return hashlib.sha256(source.encode()).hexdigest()


def _callable_of(target):
    """A function that defines ``target``, to find its module and source."""
    for candidate in (target, getattr(target, "estimate", None), getattr(target, "update", None),
                      getattr(target, "f", None)):
        if inspect.isfunction(candidate) or inspect.isclass(candidate):
            return candidate
    return target


def _find_path(target):
    """The import path of an object given directly, when its module binds it to a name."""
    module = inspect.getmodule(_callable_of(target))
    if module is None or module.__name__ == "__main__":
        return None, None
    for attribute, value in vars(module).items():
        if value is target:
            return f"{module.__name__}:{attribute}", module
    return None, module


def _default_name(kind, target):
    if isinstance(target, (optimizers.Optimizer, objectives.Objective)) and target.name:
        return target.name
    function = getattr(target, "estimate", target)
    return getattr(function, "__name__", "").lstrip("_") or None


def resolve(entry, kind, dims=()):
    """A protocol entry as a registered name or a checked :class:`Plugin`.

    ``entry`` is a registered name of ``kind``, an import path, a :class:`Plugin` (returned as
    it is: it was checked) or an object obeying the contract of ``kind`` (see the module
    docstring). ``dims`` are the dimensions a test function must accept. Raises
    :class:`PluginError` with one line.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown plugin kind {kind!r}; valid kinds are {', '.join(KINDS)}")
    if isinstance(entry, Plugin):
        return entry
    registry = _registered(kind)
    if isinstance(entry, str) and not is_path(entry):
        if entry in registry:
            return entry
        label = {"function": "test function", "tangent": "tangent law"}.get(kind, kind)
        raise PluginError(f"unknown {label} {entry!r}; valid {label}s are {', '.join(sorted(registry))}, "
                          "or an import path package.module:attribute")
    if isinstance(entry, str):
        path, target = entry, import_path(entry)
        module = importlib.import_module(entry.partition(":")[0])
        plugin_name = entry.rpartition(":")[2].rpartition(".")[2]
    else:
        target = entry
        path, module = _find_path(target)
        # the name its module binds it to, as when it is given by that import path
        plugin_name = path.rpartition(":")[2] if path else _default_name(kind, target)
    label = path or repr(plugin_name or target)
    if kind == "function" and isinstance(target, objectives.Objective):
        plugin_name = target.name  # the record's name, which its formula's messages use
    if not plugin_name or not re.fullmatch(NAME_PATTERN, plugin_name):
        raise PluginError(f"{kind} plugin {label}: its name {plugin_name!r} must be letters, digits and _.+- only")
    if plugin_name in registry:
        raise PluginError(f"{kind} plugin {label}: its name {plugin_name!r} is already a registered {kind}; "
                          "rename it")
    CHECKS[kind](target, label, dims)
    return Plugin(kind, plugin_name, target, path, _source_digest(target, module))


def describe(entry):
    """A protocol entry as JSON-ready values: the name, or ``{"plugin", "path", "sha256"}``."""
    if isinstance(entry, Plugin):
        return {"plugin": entry.name, "kind": entry.kind, "path": entry.path, "sha256": entry.sha256}
    return entry


# ---------------------------------------------------------------------------------------------
# Checks at the door: one line on failure


def _fail(kind, label, message):
    raise PluginError(f"{kind} plugin {label}: {message}")


def _leaves(state):
    return list(state) if isinstance(state, tuple) and hasattr(state, "_fields") else None


def _check_state(state, runs, label, what):
    leaves = _leaves(state)
    if leaves is None:
        _fail("optimizer", label, f"{what} must return a NamedTuple state, got {type(state).__name__}")
    for field, leaf in zip(state._fields, leaves):
        shape = np.shape(leaf)
        if shape and shape[0] != runs:
            _fail("optimizer", label, f"state field {field!r} from {what} has shape {shape}: a state's arrays "
                  f"are scalars or have the runs on their first axis ({runs} here)")
    return tuple(np.shape(leaf) for leaf in leaves)


def check_optimizer(target, label="", dims=()):
    """Check an optimizer plugin on a batch of 5 runs in $d = 3$: a factory ``make(lr)`` or an
    :class:`~forwardgrad.optimizers.Optimizer`; ``update`` returns a finite step of the shape of
    ``g`` and a state of the structure and shapes ``init`` gave."""
    opt = target
    if not isinstance(target, optimizers.Optimizer):
        if not callable(target):
            _fail("optimizer", label, f"expected an Optimizer(init, update) or a factory make(lr) -> Optimizer, "
                  f"got {type(target).__name__}")
        try:
            opt = target(lr=0.01)
        except Exception as err:
            _fail("optimizer", label, f"calling it with lr=0.01 failed ({type(err).__name__}: {_first_line(err)}); "
                  "a factory takes the learning rate as lr")
        if not isinstance(opt, optimizers.Optimizer):
            _fail("optimizer", label, f"its factory must return an Optimizer(init, update), got {type(opt).__name__}")
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    try:
        state = opt.init(x)
        shapes = _check_state(state, 5, label, "init")
        step, new = opt.update(g, state)
        step, new = opt.update(g, new)  # twice: a second step reads what the first one stored
    except PluginError:
        raise
    except Exception as err:
        _fail("optimizer", label, f"init or update failed on a (5, 3) batch: {type(err).__name__}: {_first_line(err)}")
    if np.shape(step) != g.shape:
        _fail("optimizer", label, f"update returned a step of shape {np.shape(step)} for g of shape {g.shape}")
    if not np.all(np.isfinite(np.asarray(step, dtype=float))):
        _fail("optimizer", label, "update returned a non-finite step for a finite gradient")
    if type(new) is not type(state) or _check_state(new, 5, label, "update") != shapes:
        _fail("optimizer", label, "update must return a state of the type and shapes init returned")


def _test_function():
    return objectives.get("sphere")


def check_oracle(target, label="", dims=()):
    r"""Check a gradient-estimator plugin: an :class:`~forwardgrad.oracles.Oracle` whose
    ``calls(k)`` and ``evaluations(k)`` are whole numbers $\ge 0$ (at least one of them
    positive), whose ``tangents`` is ``"law"``, ``"guided"`` or None, and whose ``estimate`` on
    the sphere at a (6, 4) batch returns finite ``fx`` (6,) and ``g`` (6, 4) with ``fx`` $= f(x)$."""
    if not isinstance(target, oracles.Oracle):
        _fail("gradient", label, f"expected an oracles.Oracle(estimate, tangents, calls, evaluations), "
              f"got {type(target).__name__}")
    if target.tangents not in ("law", "guided", None):
        _fail("gradient", label, f"tangents must be 'law', 'guided' or None, got {target.tangents!r}")
    for field in ("calls", "evaluations"):
        for k in (1, 3):
            try:
                value = getattr(target, field)(k)
            except Exception as err:
                _fail("gradient", label, f"{field}({k}) failed: {type(err).__name__}: {_first_line(err)}")
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                _fail("gradient", label, f"{field}({k}) must be a whole number >= 0 (the cost of one step), got {value!r}")
    if target.calls(1) + target.evaluations(1) < 1:
        _fail("gradient", label, "a step that costs no oracle call and no evaluation of f is not an estimator")
    f = _test_function().f
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4))
    v = None if target.tangents is None else tangents.rademacher(rng, (2, 6, 4))
    try:
        fx, g = target.estimate(f, x, v, engine="autograd", guide=np.ones_like(x), alpha=0.5, eps=1e-4)
    except Exception as err:
        _fail("gradient", label, f"estimate failed on a (6, 4) batch with 2 tangents per row: "
              f"{type(err).__name__}: {_first_line(err)}")
    fx, g = np.asarray(fx, dtype=float), np.asarray(g, dtype=float)
    if fx.shape != (6,) or g.shape != (6, 4):
        _fail("gradient", label, f"estimate must return fx of shape (6,) and g of shape (6, 4), got {fx.shape} and {g.shape}")
    if not (np.all(np.isfinite(fx)) and np.all(np.isfinite(g))):
        _fail("gradient", label, "estimate returned non-finite values at finite points")
    if not np.allclose(fx, f(x), rtol=1e-12, atol=1e-12):
        _fail("gradient", label, "estimate must return f(x) as fx (the descent reads the value from it)")


def check_tangent(target, label="", dims=()):
    r"""Check a tangent-law plugin: ``law(rng, shape)`` returns finite draws of the requested shape
    (with leading axes too), and on :data:`COVARIANCE_DRAWS` seeded draws in
    $d =$ :data:`COVARIANCE_DIM` every entry of the sample second moment
    $\frac1n\sum_i v_i v_i^\top$ lies within :data:`COVARIANCE_Z` standard errors of $I$."""
    if not callable(target):
        _fail("tangent", label, f"expected a law (rng, shape) -> v, got {type(target).__name__}")
    n, d = COVARIANCE_DRAWS, COVARIANCE_DIM
    keys = tangents.run_keys([np.random.SeedSequence(0, spawn_key=(i,)) for i in range(n)])
    hint = "a law draws with rng.standard_normal(size), rng.random(size) or tangents.signs(rng, size)"
    try:
        small = np.asarray(target(np.random.default_rng(0), (2, 3, d)), dtype=float)
    except Exception as err:
        _fail("tangent", label, f"drawing failed: {type(err).__name__}: {_first_line(err)}; {hint}")
    if small.shape != (2, 3, d):
        _fail("tangent", label, f"a draw of shape (2, 3, {d}) came back with shape {small.shape}")
    try:
        v = np.asarray(target(tangents.CounterStream(keys, 0), (n, d)), dtype=float)
    except Exception as err:
        _fail("tangent", label, f"drawing from a per-run stream failed: {type(err).__name__}: {_first_line(err)}; {hint}")
    if v.shape != (n, d):
        _fail("tangent", label, f"a draw of shape ({n}, {d}) came back with shape {v.shape}")
    if not np.all(np.isfinite(v)):
        _fail("tangent", label, "drew non-finite values")
    products = v[:, :, None] * v[:, None, :]
    moment = products.mean(axis=0)
    se = products.std(axis=0, ddof=1) / math.sqrt(n)
    z = np.abs(moment - np.eye(d)) / np.maximum(se, 1e-12)
    if np.any((z > COVARIANCE_Z) & (np.abs(moment - np.eye(d)) > 1e-9)):
        i, j = np.unravel_index(np.argmax(z), z.shape)
        spread = f"{z[i, j]:.0f} standard errors from" if se[i, j] > 1e-12 else "in every draw, not"
        _fail("tangent", label, f"E[v v^T] is not the identity: entry ({i}, {j}) of the second moment of {n} "
              f"draws in d = {d} is {moment[i, j]:.3f}, {spread} {float(i == j):.0f}")


def check_objective(target, label="", dims=()):
    r"""Check a test-function plugin in each of ``dims``: an
    :class:`~forwardgrad.objectives.Objective` that accepts $d$, with a finite box, a stated
    minimizer in it, $f$ batched (shape ``(n,)`` on ``(n, d)``, equal row by row) and finite on
    64 seeded points of the box, $f(x^\star) = f^\star$, and no point below $f^\star$."""
    if not isinstance(target, objectives.Objective):
        _fail("function", label, f"expected an objectives.Objective (made with @objectives.objective(..., "
              f"registry={{}})), got {type(target).__name__}")
    rng = np.random.default_rng(0)
    for d in dims:
        if not target.accepts(d):
            _fail("function", label, f"does not accept d = {d} (it needs {target.dimension_rule})")
        try:
            lower, upper = target.bounds(d)
            x_star, f_star = target.minimum(d)
        except objectives.UnknownMinimum:
            _fail("function", label, f"states no minimum for d = {d}; the benchmark needs f* for its target")
        except Exception as err:
            _fail("function", label, f"its bounds or minimum failed in d = {d}: {type(err).__name__}: {_first_line(err)}")
        if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper)) and np.all(lower < upper)):
            _fail("function", label, f"its box in d = {d} must be finite with lower < upper")
        if not math.isfinite(f_star):
            _fail("function", label, f"its minimum in d = {d} is not finite")
        tol = 1e-9 * np.maximum(1.0, np.abs(upper - lower))
        if np.any(x_star < lower - tol) or np.any(x_star > upper + tol):
            _fail("function", label, f"its stated minimizer in d = {d} lies outside its box")
        x = lower + (upper - lower) * rng.random((64, d))
        try:
            fx = np.asarray(target.f(x), dtype=float)
            rows = np.array([float(np.asarray(target.f(x[i : i + 1]))[0]) for i in range(3)])
            at_star = float(np.asarray(target.f(x_star[None]))[0])
        except Exception as err:
            _fail("function", label, f"f failed on a (64, {d}) batch: {type(err).__name__}: {_first_line(err)}")
        if fx.shape != (64,):
            _fail("function", label, f"f maps a (64, {d}) batch to shape {fx.shape}; it must give one value per row")
        if not np.all(np.isfinite(fx)):
            _fail("function", label, f"f is not finite on its box in d = {d}")
        if not np.allclose(rows, fx[:3], rtol=1e-10, atol=1e-12):
            _fail("function", label, "f of a batch differs from f row by row: rows must not interact")
        scale = 1e-8 * max(1.0, abs(f_star))
        if abs(at_star - f_star) > scale:
            _fail("function", label, f"f(x*) = {at_star:.6g} in d = {d}, not the stated minimum {f_star:.6g}")
        if np.any(fx < f_star - scale):
            _fail("function", label, f"f takes the value {fx.min():.6g} < f* = {f_star:.6g} in its box (d = {d})")


CHECKS = {"optimizer": check_optimizer, "gradient": check_oracle, "tangent": check_tangent,
          "function": check_objective}


# ---------------------------------------------------------------------------------------------
# JAX: does a plugin trace?


def jax_problem(entry, lr=0.01):
    """Why the plugin ``entry`` does not run on the JAX engine (one line), or None when it traces
    under ``jax.jit``; None as well for a registered name (they all trace) or without JAX."""
    if not isinstance(entry, Plugin) or not has_jax():
        return None
    jax = load_jax()
    jnp = jax.numpy
    x = jnp.asarray(np.random.default_rng(0).standard_normal((5, 3)))
    target = entry.obj
    try:
        if entry.kind == "optimizer":
            opt = target if isinstance(target, optimizers.Optimizer) else target(lr=lr)
            jax.jit(lambda x: opt.update(x, opt.init(x))[0])(x).block_until_ready()
        elif entry.kind == "gradient":
            f = _test_function().f
            v = None if target.tangents is None else jnp.ones((2, 5, 3))
            jax.jit(lambda x: target.estimate(f, x, v, engine="jax", guide=x, alpha=0.5, eps=1e-4)[1])(x)
        elif entry.kind == "tangent":
            keys = jnp.asarray(np.arange(5, dtype=np.uint64))
            jax.jit(lambda keys: target(tangents.CounterStream(keys, 0, jnp), (5, 3)))(keys)
        else:
            d = next((d for d in (3, 2, 10) if target.accepts(d)), target.dim)
            lower, upper = target.bounds(d)
            jax.jit(target.f)(jnp.asarray((lower + upper) / 2)[None])
    except Exception as err:
        return f"{type(err).__name__}: {_first_line(err)}"
    return None


TRACEABLE_HINT = ("write its array code against xp = forwardgrad.engines.namespace(x) (no NumPy calls on "
                  "the inputs, no Python if on their values), or run on engine autograd")
