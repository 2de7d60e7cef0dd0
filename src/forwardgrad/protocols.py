r"""Every rule of a benchmark protocol, defined once.

A *protocol* fixes everything about an experiment except the master seed and the engine: the
selection of test functions and the dimensions, the optimizers and gradient oracles with an
:class:`~forwardgrad.descent.Arm` template (tangent law, tangents per step, ...), the starting
points and repeats, the learning rate, the budget, the targets, the divergence rule, and how the
runs of a stochastic solver become one cost. Three are registered in :data:`PROTOCOLS`:

``paper``
    What section 5 of Belouze (2022) states: the paper's selection for $d \in \{2, 10, 100\}$, 5
    uniform starts in the box, 5 repeats per start for forward gradients and 1 for true gradients,
    lr 0.01, target $f^\star + 0.1$, at most 50,000 steps, projection onto the box for constrained
    functions, Rademacher tangents. The paper states no divergence rule; we use the relative rule
    :func:`relative_divergence` (never at step 0). The paper measures "the number of function
    evaluations to reach the minimum up to 0.1"; for a stochastic solver we read that as the aRT of
    its repeats (failures count).
``as-coded``
    ``paper`` plus what the original code did: the absolute divergence rule
    :func:`absolute_divergence` ($f(x_k) - \text{target} > 10^5$, checked from step 0); the cost of
    a stochastic solver is the mean over its *successful* repeats only; a start already at the
    target scores as a failure.
``honest``
    Failures count through the aRT; the relative divergence rule; a start already at the target
    is solved in 0 steps; and every run goes on to the last rung of the COCO-style ladder
    $f^\star + 10^k$, $k = 2, \dots, -8$, or the budget.

The rules, each a small function here and nowhere else:

- *selection* (:data:`SELECTIONS`): ``"paper"`` (the functions the paper's code kept, flagged
  non-multimodal), ``"text"`` (what the paper's text says: all 78 functions, in every dimension
  each accepts among 2, 10 and 100), ``"all"`` (every function accepting $d$), or a tuple of names;
- *seeds* (:func:`seed_sequence`): streams keyed by names, never by the order of execution;
- *targets and the ladder* (:func:`measured_rungs`, :func:`rung_column`): ``target = f_star +
  target_gap``; a run stops at ``f_star + stop_gap``; only the rungs at or above the stopping
  target are measured;
- *success at the target* (:func:`success`): a first hit of the target; under the ``"failure"``
  rule a start already at the target does not count;
- *evaluations* (:func:`evaluations`): a run that first met a target at step ``hit`` used ``hit +
  1`` evaluations, one that did not used ``steps + 1``;
- *divergence* (:func:`relative_divergence`, :func:`absolute_divergence`);
- *cost of a solver on a problem* (:func:`art`, :func:`mean_of_successes`, and
  :func:`grouped_costs`, the same formulas over many groups at once).

Scoring code takes its rules as arguments (``cost=``, ``at_target=``); :func:`scoring` reads them
off a protocol once, at the entry point.
"""

import hashlib
import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from forwardgrad import descent, objectives, plugins, tangents
from forwardgrad.engines import namespace

PAPER_DIMS = objectives.PAPER_DIMS
LADDER_EXPONENTS = tuple(range(2, -9, -1))  # f* + 10^k for k = 2, ..., -8
COST_RULES = ("art", "mean_of_successes")
AT_TARGET_RULES = ("solved", "failure")
# Relative tolerance of "10^k >= stop_gap" when the gap is read back from a table as
# stop_target - f_star: that difference carries the rounding of f_star (|f_star| up to 1e4 here).
RUNG_RTOL = 1e-6


class BenchmarkError(ValueError):
    """Bad input to a sweep (an unknown name, an impossible grid, a foreign file)."""


# ---------------------------------------------------------------------------------------------
# Selections


def _text_selection(d):
    if d not in PAPER_DIMS:
        raise BenchmarkError(f"the text's selection exists for d = 2, 10, 100 only, not d = {d}; name the functions")
    return [n for n in objectives.names() if objectives.get(n).accepts(d)]


def _paper_selection(d):
    if d not in PAPER_DIMS:
        raise BenchmarkError(f"the paper selection exists for d = 2, 10, 100 only, not d = {d}; name the functions")
    return list(objectives.paper_selection(d))


SELECTIONS = {
    "paper": _paper_selection,
    "text": _text_selection,
    "all": lambda d: [n for n in objectives.names() if objectives.get(n).accepts(d)],
}


def select(functions, d):
    """The function names of a protocol's ``functions`` in dimension ``d``: a selection's name
    (see :data:`SELECTIONS`) or a tuple of names, returned as a list."""
    if isinstance(functions, str):
        return SELECTIONS[functions](d)
    return list(functions)


# ---------------------------------------------------------------------------------------------
# The protocol record

ARM = descent.Arm(optimizer=None, gradient="true")
"""The default arm template: Rademacher tangents, one per step, and the estimators' defaults."""
ARM_FIELDS = ("tangent", "k", "eps", "alpha", "beta")


class Protocol(NamedTuple):
    """Everything that defines an experiment except the master seed and the engine.

    ``functions`` names a selection (``"paper"``, ``"text"``, ``"all"``) or lists functions.
    ``arm`` is the template of every arm: its ``tangent``, ``k``, ``eps``, ``alpha`` and ``beta``
    (see :class:`~forwardgrad.descent.Arm`); each (optimizer, gradient) pair fills in the rest.
    ``repeats`` counts the repeats per start of a stochastic solver (every oracle but ``true``),
    ``true_repeats`` those of a true-gradient solver (deterministic, hence 1).
    """

    name: str
    functions: object = "paper"
    dims: tuple = PAPER_DIMS
    optimizers: tuple = ("sgd", "clipped_sgd", "adam", "adabelief")
    gradients: tuple = ("true", "forward")
    arm: descent.Arm = ARM
    starts: int = 5
    repeats: int = 5
    true_repeats: int = 1
    lr: float = 0.01
    max_steps: int = 50_000
    target_gap: float = 0.1
    stop_gap: float = 0.1
    ladder: tuple = LADDER_EXPONENTS
    divergence: str = "relative"
    divergence_threshold: float = 1e5
    cost: str = "art"
    at_target: str = "solved"


PROTOCOLS = {
    "paper": Protocol("paper"),
    "as-coded": Protocol("as-coded", divergence="absolute", cost="mean_of_successes", at_target="failure"),
    "honest": Protocol("honest", stop_gap=1e-8),
}


def protocol(name, **overrides):
    """The registered protocol ``name`` with some fields replaced, validated.

    ``protocol("paper", dims=(2,), starts=2, max_steps=500)`` keeps every other field of
    ``paper``; the arm's fields (``tangent``, ``k``, ``eps``, ``alpha``, ``beta``) may be given
    directly. A ``None`` value leaves the field as it is. Raises :class:`BenchmarkError` for an
    unknown name or field, or a bad value.
    """
    if name not in PROTOCOLS:
        raise BenchmarkError(f"unknown protocol {name!r}; valid protocols are {', '.join(PROTOCOLS)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(overrides) - set(Protocol._fields) - set(ARM_FIELDS)
    if unknown:
        raise BenchmarkError(f"unknown protocol field(s) {', '.join(sorted(unknown))}")
    p = PROTOCOLS[name]
    arm = p.arm._replace(**{k: overrides.pop(k) for k in ARM_FIELDS if k in overrides})
    return validate(p._replace(arm=arm, **overrides))


def _names(value):
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _entries(value):
    """The entries of a list field: names split at commas, objects kept as they are."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or hasattr(value, "_fields"):
        value = [value]  # one name, or one object (a NamedTuple such as an Optimizer is one object)
    out = []
    for v in value:
        out.extend(_names(v) if isinstance(v, str) else [v])
    return tuple(out)


def _resolve(value, kind, dims=()):
    """Every entry of a field resolved by :func:`forwardgrad.plugins.resolve`, once each, with
    distinct names."""
    try:
        entries = tuple(plugins.resolve(v, kind, dims) for v in _entries(value))
    except plugins.PluginError as err:
        raise BenchmarkError(str(err)) from None
    names = [plugins.name(e) for e in entries]
    for n in set(names):
        if len({e for e, m in zip(entries, names) if m == n}) > 1:
            raise BenchmarkError(f"two different {kind}s are named {n!r}; rename one")
    return tuple(dict.fromkeys(entries))


def count(value, name, minimum=1):
    """``value`` as an int, or :class:`BenchmarkError` unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or int(value) != value or value < minimum:
        raise BenchmarkError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def _positive(value, name):
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise BenchmarkError(f"{name} must be a positive number, got {value}")
    return value


def _functions(value, dims):
    if isinstance(value, str) and value in SELECTIONS:
        return value
    names = _entries(value)
    if len(names) == 1 and isinstance(names[0], str) and names[0] in SELECTIONS:
        return names[0]
    if not names:
        raise BenchmarkError("a sweep needs at least one function")
    # a name stays a name (plan() reports an unknown one, or a dimension it does not accept); a
    # plugin is checked in every dimension of the protocol
    entries = tuple(n if isinstance(n, str) and not plugins.is_path(n) else _resolve([n], "function", dims)[0]
                    for n in names)
    _resolve([e for e in entries if isinstance(e, plugins.Plugin)], "function")  # distinct names
    return tuple(dict.fromkeys(entries))


def validate(p):
    """Check every field of the protocol ``p``; return it with normalised types."""
    opt_names = _resolve(p.optimizers, "optimizer")
    gradients = _resolve(p.gradients, "gradient")
    (tangent,) = _resolve(p.arm.tangent, "tangent") or (None,)
    if not opt_names or not gradients:
        raise BenchmarkError("a sweep needs at least one optimizer and one gradient")
    dims = tuple(count(d, "a dimension") for d in (_names(p.dims) if isinstance(p.dims, str) else p.dims))
    if not dims:
        raise BenchmarkError("a sweep needs at least one dimension")
    for field in ("target_gap", "stop_gap", "divergence_threshold"):
        _positive(getattr(p, field), field)
    if p.stop_gap > p.target_gap:
        raise BenchmarkError("stop_gap must not exceed target_gap: runs would stop before the target")
    if p.divergence not in DIVERGENCE_RULES:
        raise BenchmarkError(f"unknown divergence rule {p.divergence!r}; valid: {', '.join(DIVERGENCE_RULES)}")
    if p.cost not in COST_RULES:
        raise BenchmarkError(f"unknown cost rule {p.cost!r}; valid: {', '.join(COST_RULES)}")
    if p.at_target not in AT_TARGET_RULES:
        raise BenchmarkError(f"unknown at-target rule {p.at_target!r}; valid: {', '.join(AT_TARGET_RULES)}")
    try:
        arm = descent.check_arm(p.arm._replace(optimizer=None, gradient="true",
                                               tangent=plugins.obj(tangent, "tangent")))
    except ValueError as err:
        raise BenchmarkError(str(err)) from None
    return p._replace(
        functions=_functions(p.functions, tuple(dict.fromkeys(dims))),
        dims=tuple(dict.fromkeys(dims)),
        optimizers=opt_names,
        gradients=gradients,
        arm=p.arm._replace(tangent=tangent, k=arm.k, eps=float(arm.eps), alpha=float(arm.alpha), beta=float(arm.beta)),
        starts=count(p.starts, "starts"),
        repeats=count(p.repeats, "repeats"),
        true_repeats=count(p.true_repeats, "true_repeats"),
        max_steps=count(p.max_steps, "max_steps"),
        lr=_positive(p.lr, "lr"),
        target_gap=float(p.target_gap),
        stop_gap=float(p.stop_gap),
        divergence_threshold=float(p.divergence_threshold),
        ladder=tuple(int(k) for k in p.ladder),
    )


def as_dict(p):
    """The protocol as plain JSON-ready values (the arm's template fields as a dict; a plugin as
    its name, import path and source digest, :func:`forwardgrad.plugins.describe`)."""
    out = {k: list(v) if isinstance(v, tuple) else v for k, v in p._asdict().items() if k != "arm"}
    for field in ("optimizers", "gradients", "functions"):
        if isinstance(out[field], list):
            out[field] = [plugins.describe(e) for e in out[field]]
    out["arm"] = {k: plugins.describe(getattr(p.arm, k)) for k in ARM_FIELDS}
    return out


def plugin_entries(p):
    """The :class:`~forwardgrad.plugins.Plugin` records of protocol ``p``, in field order."""
    entries = list(p.optimizers) + list(p.gradients) + [p.arm.tangent]
    entries += [] if isinstance(p.functions, str) else list(p.functions)
    return [e for e in entries if isinstance(e, plugins.Plugin)]


def _joined(entries):
    return ",".join(plugins.name(e) for e in entries)


def summary(p):
    """A one-line description of protocol ``p`` for logs and book pages."""
    functions = p.functions if isinstance(p.functions, str) else _joined(p.functions)
    return (
        f"{p.name}: functions {functions} in d = {','.join(map(str, p.dims))}; "
        f"{_joined(p.optimizers)} x {_joined(p.gradients)} (tangent {plugins.name(p.arm.tangent)}), "
        f"{p.starts} starts x {p.repeats} repeats, lr {p.lr}, target f*+{p.target_gap}, "
        f"stop f*+{p.stop_gap}, budget {p.max_steps}, divergence {p.divergence}, cost {p.cost}"
    )


def scoring(p):
    """The scoring rules of protocol ``p`` as keyword arguments: ``{"cost": ..., "at_target": ...}``."""
    return {"cost": p.cost, "at_target": p.at_target}


# ---------------------------------------------------------------------------------------------
# Seeds


def _name_key(name):
    return int.from_bytes(hashlib.sha256(str(name).encode()).digest()[:8], "little")


def seed_sequence(seed, function, dim, role):
    """The ``SeedSequence`` of one stream: keyed by names, not by the order of execution.

    ``SeedSequence(seed, spawn_key=(h(function), dim, h(role)))`` with ``h`` the first 8 bytes of
    SHA-256; the roles are ``"starts"`` and ``"descent"``.
    """
    return np.random.SeedSequence(int(seed), spawn_key=(_name_key(function), int(dim), _name_key(role)))


def run_keys(seed, function, dim, starts, repeats):
    """The stream key of every run (uint64), from its identity: ``(seed, function, dim, start,
    repeat)``. The arms of one start and repeat share it, so they draw the same tangents (common
    random numbers), and a run draws the same tangents in any grid it is part of."""
    base = (_name_key(function), int(dim), _name_key("run"))
    return tangents.run_keys([np.random.SeedSequence(int(seed), spawn_key=base + (int(s), int(r)))
                              for s, r in zip(starts, repeats)])


# ---------------------------------------------------------------------------------------------
# Targets, the ladder and success


def rung_column(k):
    """The column holding the first step with $f \\le f^\\star + 10^k$: ``hit_1e{k}``."""
    return f"hit_1e{int(k)}"


RUNG_COLUMNS = tuple(rung_column(k) for k in LADDER_EXPONENTS)


def measured_rungs(ladder, stop_gap):
    """The ladder exponents $k$ a run that stops at $f^\\star$ + ``stop_gap`` can record:
    $10^k \\ge$ ``stop_gap`` (to the relative tolerance :data:`RUNG_RTOL`)."""
    return tuple(k for k in ladder if 10.0**k >= stop_gap * (1 - RUNG_RTOL))


def success(hit, at_target="solved"):
    """Did each run reach the target: a finite first hit; under ``at_target="failure"`` (the
    original code's 0/0) a start already at the target (``hit == 0``) is not a success."""
    if at_target not in AT_TARGET_RULES:
        raise ValueError(f"at_target must be one of {', '.join(AT_TARGET_RULES)}, got {at_target!r}")
    hit = np.asarray(hit, dtype=float)
    reached = np.isfinite(hit)
    return reached & (hit > 0) if at_target == "failure" else reached


def evaluations(hit, steps, succeeded):
    """Evaluations a run used: ``hit + 1`` to its first hit when it succeeded, else ``steps + 1``
    (every evaluation it made). A start at the target costs 1, which keeps ratios finite."""
    hit = np.asarray(hit, dtype=float)
    return np.where(succeeded, hit + 1, np.asarray(steps, dtype=float) + 1)


# ---------------------------------------------------------------------------------------------
# Divergence


def relative_divergence(factor=1e5):
    r"""Divergence rule: from step 1 on, $f(x_k)$ is not finite or
    $f(x_k) - f(x_0) > \text{factor}\cdot(1 + |f(x_0) - \text{target}|)$.

    It never fires at step 0, and it scales with the run's own initial gap, so a function whose
    values are large everywhere in its box is not declared diverged for being large.
    A rule is a function ``(f0, fx, target, t) -> diverged`` evaluated by the descent every step.
    """

    def rule(f0, fx, target, t):
        xp = namespace(fx)
        gap = xp.abs(f0 - xp.where(xp.isfinite(target), target, 0.0))
        return (t >= 1) & (~xp.isfinite(fx) | (fx - f0 > factor * (1.0 + gap)))

    return rule


def absolute_divergence(threshold=1e5):
    r"""The original code's rule: $f(x_k) - \text{target} > \text{threshold}$, checked from step 0."""

    def rule(f0, fx, target, t):
        xp = namespace(fx)
        return ~xp.isfinite(fx) | (fx - target > threshold)

    return rule


DIVERGENCE_RULES = {"relative": relative_divergence, "absolute": absolute_divergence}


# ---------------------------------------------------------------------------------------------
# Costs


def _art_numerator(evals, succeeded):
    return evals


def _mean_of_successes_numerator(evals, succeeded):
    return evals * succeeded


COST_NUMERATORS = {"art": _art_numerator, "mean_of_successes": _mean_of_successes_numerator}
"""Each cost rule is $\\sum_r n_r / \\#\\{\\text{successful runs}\\}$ ($\\infty$ without a
success) for a numerator $n_r$: all the evaluations of run $r$ for the aRT, those of its
successes only for the mean of successes."""


def _cost(rule, evals, succeeded):
    if rule not in COST_NUMERATORS:
        raise ValueError(f"unknown cost rule {rule!r}; valid rules are {', '.join(COST_NUMERATORS)}")
    evals = np.asarray(evals, dtype=float)
    succeeded = np.asarray(succeeded, dtype=bool)
    successes = np.count_nonzero(succeeded)
    return float(COST_NUMERATORS[rule](evals, succeeded).sum() / successes) if successes else math.inf


def art(evals, success):
    r"""Average running time (Hansen et al., COCO): $\sum_r \mathrm{evals}_r / \#\text{successes}$,
    a failed run contributing all its evaluations; $\infty$ if none succeeds."""
    return _cost("art", evals, success)


def mean_of_successes(evals, success):
    """Mean of the evaluations of the successful runs only; $\\infty$ if none succeeds."""
    return _cost("mean_of_successes", evals, success)


def grouped_costs(frame, keys, rule="art"):
    """:func:`art` or :func:`mean_of_successes` of every group of runs at once.

    ``frame`` has the columns ``keys``, ``evals`` and ``success`` (one row per run). Returns a
    Series indexed by ``keys`` in order of first appearance, $\\infty$ for a group without success.
    """
    if rule not in COST_NUMERATORS:
        raise ValueError(f"unknown cost rule {rule!r}; valid rules are {', '.join(COST_NUMERATORS)}")
    succeeded = frame["success"].to_numpy(dtype=bool)
    parts = frame[list(keys)].copy()
    parts["num"] = COST_NUMERATORS[rule](frame["evals"].to_numpy(dtype=float), succeeded)
    parts["den"] = succeeded.astype(float)
    sums = parts.groupby(list(keys), sort=False)[["num", "den"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(sums["den"] > 0, sums["num"] / sums["den"], np.inf)
    return pd.Series(values, index=sums.index, name=rule)
