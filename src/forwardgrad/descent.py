r"""Lockstep descent of a batch of runs, on either AD engine.

Runs live on the leading axis of ``x`` (shape ``(runs, d)``). Several *arms*, each an optimizer
with a gradient oracle (true or forward, with its tangent law), advance together: at every step
the rows of all true-gradient arms go through ONE reverse pass and the rows of all forward arms
through ONE forward pass. A run freezes when it reaches the target, diverges, or exhausts the
budget. On autograd the step is a Python loop; on JAX the same step function is compiled into a
``lax.while_loop`` that runs a *segment* of steps between two visits of the host, where progress is
reported and, when most runs have stopped, the batch is *compacted* to the runs still going.

Randomness is per run: run $r$ draws its tangents from a :class:`~forwardgrad.tangents.CounterStream`
keyed by ``keys[r]``, so its numbers depend on its key alone, not on the other runs of the batch,
their order, the compaction or the engine. Runs with the same key (the same start and repeat of
different arms, say) draw the same tangents: common random numbers for paired comparisons.

Bookkeeping, per run: ``hit`` is the number of updates made before $f(x_k) \le$ target for the
first time (NaN if never), ``steps`` the number of updates made, ``oracle_calls`` the number of
gradient evaluations those updates used ($k$ per forward step with $k$ tangents), ``status`` is
``"solved"``, ``"budget"`` or ``"diverged"``.
"""

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from forwardgrad import oracles as _oracles
from forwardgrad import tangents as _tangents
from forwardgrad.engines import check_engine, load_jax, namespace

STATUSES = ("running", "solved", "budget", "diverged")
RUNNING, SOLVED, BUDGET, DIVERGED = range(4)


class Arm(NamedTuple):
    """One optimizer with one gradient oracle.

    ``gradient`` names an estimator of :data:`forwardgrad.oracles.ORACLES` (or is an
    :class:`~forwardgrad.oracles.Oracle`): ``"true"`` (one reverse pass), ``"forward"`` (the
    mean of ``k`` forward gradients), ``"projected"`` (:func:`~forwardgrad.oracles.projected_estimate`
    on ``k`` tangents), ``"guided"`` (:func:`~forwardgrad.oracles.guided_estimate` with mixing
    ``alpha``, guided by an exponential average of past estimates with decay ``beta``: 0.9 is
    Adam's first moment, 0 the previous estimate), ``"guided_biased"`` (the same tangents without
    the correction by the inverse covariance: :func:`~forwardgrad.oracles.biased_guided_estimate`) or ``"fd"`` (forward differences of step
    ``eps`` along ``k`` tangents). ``tangent`` is the law of the tangents of the estimators that
    draw from a law (not ``"true"`` nor the guided ones).
    """

    optimizer: Any
    gradient: str = "true"
    tangent: Any = "rademacher"
    k: int = 1
    eps: float = 1e-4
    alpha: float = 0.5
    beta: float = 0.9


class DescentResult(NamedTuple):
    """Per-run outcome of :func:`descend_arms`; arrays have the runs on their first axis."""

    arm: np.ndarray  # (runs,) index of the run's arm
    status: np.ndarray  # (runs,) "solved" | "budget" | "diverged"
    hit: np.ndarray  # (runs,) first step with f <= target, NaN if never
    steps: np.ndarray  # (runs,) updates made
    oracle_calls: np.ndarray  # (runs,) gradient evaluations used by those updates
    f_start: np.ndarray  # (runs,)
    f_best: np.ndarray  # (runs,) lowest value seen
    f_final: np.ndarray  # (runs,) value at the final iterate
    x_final: np.ndarray  # (runs, d)
    ladder: np.ndarray  # (L,) the recorded thresholds
    ladder_hits: np.ndarray  # (runs, L) first step with f <= ladder[j], NaN if never
    record_steps: np.ndarray  # (R,)
    f_trajectory: np.ndarray  # (R, runs) f at the recorded steps (frozen runs keep their value)
    x_trajectory: Any  # (R, runs, d) when recorded, else None
    row_steps: int = 0  # rows of the batch times the steps they were advanced (the work done)


class _Carry(NamedTuple):
    t: Any
    x: Any
    states: Any
    status: Any
    stop: Any  # the step at which the run stopped (NaN while it runs): its hit, steps and calls
    f0: Any
    f_last: Any
    f_best: Any
    ladder_hits: Any
    f_traj: Any
    x_traj: Any
    guide: Any
    keys: Any


ROW_FIELDS = ("x", "status", "stop", "f0", "f_last", "f_best", "ladder_hits", "guide", "keys")
"""Fields of the carry with the runs on their first axis (``f_traj`` and ``x_traj`` have them on
their second)."""


def check_arm(arm):
    """Check the settings of an :class:`Arm`; return it with its tangent law resolved to a function.

    Raises ``ValueError`` for an unknown gradient or law, or a setting out of range.
    """
    _oracles.get(arm.gradient)
    if isinstance(arm.k, bool) or int(arm.k) != arm.k or arm.k < 1:
        raise ValueError(f"k (tangents per step) must be a positive integer, got {arm.k}")
    if not 0 < arm.alpha <= 1:
        raise ValueError(f"alpha must lie in (0, 1], got {arm.alpha}")
    if not 0 <= arm.beta < 1:
        raise ValueError(f"beta must lie in [0, 1), got {arm.beta}")
    if not (math.isfinite(arm.eps) and arm.eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {arm.eps}")
    return arm._replace(tangent=_tangents.get(arm.tangent))


def _check_starts(x0, d=None):
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim != 2 or x0.shape[0] < 1:
        raise ValueError(f"starting points must have shape (runs, d), got {x0.shape}")
    if d is not None and x0.shape[1] != d:
        raise ValueError(f"all starting points need the same dimension, got {x0.shape[1]} and {d}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("starting points contain non-finite values")
    return x0


def _check_bounds(bounds, d):
    if bounds is None:
        return None
    lower, upper = (np.broadcast_to(np.asarray(b, dtype=float), (d,)).copy() for b in bounds)
    if not np.all(lower < upper):
        raise ValueError("bounds need lower < upper in every coordinate")
    return lower, upper


def _join(xp, pieces, axis=0):
    return pieces[0] if len(pieces) == 1 else xp.concatenate(pieces, axis=axis)


def _make_oracle(f, arms, sizes, engine):
    """A function ``(x, rng, guide) -> (fx, g)`` over the whole batch, in arm order.

    Arms with the same oracle settings share one AD call over their stacked rows; ``sizes`` None
    means one arm over every row.
    """
    edges = None if sizes is None else np.concatenate([[0], np.cumsum(sizes)])
    groups = {}
    for i, arm in enumerate(arms):
        groups.setdefault(arm._replace(optimizer=None, tangent=None), []).append(i)

    def rows(a, i):
        return a if edges is None else a[edges[i] : edges[i + 1]]

    def stream(rng, members):
        # a per-run stream follows its runs; a Generator or a JAX key is shared by every draw
        if not isinstance(rng, _tangents.CounterStream) or edges is None:
            return rng
        return rng.select([slice(edges[i], edges[i + 1]) for i in members])

    def oracle(x, rng, guide):
        xp = namespace(x)
        d = x.shape[-1]
        pieces = [None] * len(arms)
        for arm, members in groups.items():
            spec = _oracles.get(arm.gradient)
            xs = _join(xp, [rows(x, i) for i in members])
            lead = (arm.k,) if arm.k > 1 else ()
            us = None if guide is None else _join(xp, [rows(guide, i) for i in members])
            if spec.tangents == "guided":
                v = _oracles.guided_tangent(stream(rng, members), us, arm.alpha, lead + xs.shape)
            elif spec.tangents is None:
                v = None
            elif all(arms[i].tangent is arms[members[0]].tangent for i in members):
                # one draw for the whole group: every draw adds random-bit kernels to the loop
                # body, and these dominate its size (so the compile time) on JAX
                v = arms[members[0]].tangent(stream(rng, members), lead + xs.shape)
            else:
                v = _join(xp, [arms[i].tangent(stream(rng, [i]), lead + (sizes[i], d)) for i in members], axis=-2)
            fx, g = spec.estimate(f, xs, v, engine=engine, guide=us, alpha=arm.alpha, eps=arm.eps)
            start = 0
            for i in members:
                size = x.shape[0] if sizes is None else sizes[i]
                pieces[i] = (fx[start : start + size], g[start : start + size])
                start += size
        if len(groups) == 1:
            return fx, g
        return _join(xp, [p[0] for p in pieces]), _join(xp, [p[1] for p in pieces])

    return oracle


def make_step(f, arms, sizes=None, engine="autograd"):
    """The step of a batch of runs, without bookkeeping: ``(x, states, rng, guide) -> (fx, g, step, states)``.

    The rows of ``x`` belong to the arms in order, ``sizes[i]`` rows to arm ``i`` (``sizes`` None:
    one arm, every row). Each arm's oracle gives $(f(x), g)$ at its rows (arms with the same oracle
    settings in ONE AD call), and its optimizer turns $g$ into the step (consecutive arms sharing
    an optimizer in ONE update); the caller moves to ``x + step``. ``states`` holds one optimizer state per
    block of :func:`optimizer_blocks`; ``rng`` is a ``numpy.random.Generator`` on autograd and a
    :class:`~forwardgrad.tangents.JaxStream` while tracing on JAX; ``guide`` is the guided
    estimate's guess per row (None without a guided arm). Every caller that steps an optimizer
    with an oracle (the lockstep descent, :func:`single_step`, the networks' minibatch loop)
    goes through this function.
    """
    arms = [check_arm(a) for a in arms]
    oracle = _make_oracle(f, arms, sizes, engine)
    blocks = optimizer_blocks(arms, sizes)

    def step(x, states, rng, guide):
        xp = namespace(x)
        fx, g = oracle(x, rng, guide)
        updates = [opt.update(g if b is None else g[a:b], state) for (opt, a, b), state in zip(blocks, states)]
        return fx, g, _join(xp, [u[0] for u in updates]), tuple(u[1] for u in updates)

    return step


def single_step(f, arm, engine="autograd"):
    """One step of one :class:`Arm` on a batch: ``(x, state, rng) -> (fx, g, step, state, rng)``.

    ``rng`` is a ``numpy.random.Generator`` on autograd and a JAX key on JAX (the key to carry
    to the next step is returned); ``state`` is the arm's optimizer state. A guided arm is guided
    by nothing (a zero guess). Traceable inside ``jax.jit`` on the JAX engine.
    """
    step = make_step(f, [arm], None, engine)
    guided = _oracles.get(arm.gradient).tangents == "guided"

    def one(x, state, rng):
        stream = _tangents.JaxStream(rng) if engine == "jax" else rng
        guide = namespace(x).zeros_like(x) if guided else None
        fx, g, delta, (state,) = step(x, (state,), stream, guide)
        return fx, g, delta, state, stream.key if engine == "jax" else rng

    return one


def iterate(f, arm, x0, steps, rng):
    """Yield ``(x, fx, g, step, state)`` for each of ``steps`` updates of one arm from the batch ``x0``.

    ``x`` is the iterate at which the oracle was called, ``step`` the update the optimizer made
    from it and ``state`` its state after that update; the next iterate is ``x + step``. The
    autograd engine, ``rng`` a ``numpy.random.Generator``.
    """
    one = single_step(f, arm)
    x = np.asarray(x0, dtype=float)
    state = arm.optimizer.init(x)
    for _ in range(int(steps)):
        fx, g, step, state, rng = one(x, state, rng)
        yield x, fx, g, step, state
        x = x + step


def _make_step(f, arms, sizes, engine, *, target, ladder, max_steps, bounds, divergence, record):
    """The lockstep step ``carry -> carry``: :func:`make_step` with the runs' own streams, and the
    bookkeeping."""
    move = make_step(f, arms, sizes, engine)
    guided = any(_oracles.get(arm.gradient).tangents == "guided" for arm in arms)
    beta = np.repeat([arm.beta for arm in arms], sizes)[:, None]

    def step(c):
        xp = namespace(c.x)
        rng = _tangents.CounterStream(c.keys, c.t, xp)
        fx, g, step, states = move(c.x, _shared_count(c.states), rng, c.guide)
        x = c.x + step
        running = c.status == RUNNING
        fx = xp.where(running, fx, c.f_last)
        ladder_hits = c.ladder_hits
        if ladder.size:
            reached = running[:, None] & (fx[:, None] <= ladder) & xp.isnan(ladder_hits)
            ladder_hits = xp.where(reached, c.t, ladder_hits)
        solved = running & (fx <= target)
        diverged = running & ~solved & (divergence(c.f0, fx, target, c.t) if divergence else False)
        budget = running & ~solved & ~diverged & (c.t >= max_steps)
        status = xp.where(solved, SOLVED, xp.where(diverged, DIVERGED, xp.where(budget, BUDGET, c.status)))
        moving = status == RUNNING
        if bounds is not None:
            x = xp.clip(x, bounds[0], bounds[1])
        f_traj, x_traj = c.f_traj, c.x_traj
        if record.size:
            at_record = (record == c.t)[:, None]
            f_traj = xp.where(at_record, fx[None, :], f_traj)
            if x_traj is not None:
                x_traj = xp.where(at_record[..., None], c.x[None], x_traj)
        return _Carry(
            t=c.t + 1,
            x=xp.where(moving[:, None], x, c.x),
            states=states,
            status=status,
            stop=xp.where(running & ~moving, c.t, c.stop),
            f0=c.f0,
            f_last=fx,
            f_best=xp.minimum(c.f_best, fx),
            ladder_hits=ladder_hits,
            f_traj=f_traj,
            x_traj=x_traj,
            guide=beta * c.guide + (1 - beta) * g if guided else None,
            keys=c.keys,
        )

    return step


def _shared_count(states):
    """The optimizer states of the blocks with the first block's step count in every state.

    Every block steps at every step of the lockstep batch, so the counts agree; reading one count
    lets the compiler compute the step's scalars (the count, Adam's bias corrections) once
    instead of once per block, which on JAX removes one compiled kernel per block and scalar.
    """
    counts = [getattr(state, "count", None) for state in states]
    if len(states) < 2 or any(count is None for count in counts):
        return states
    return tuple(state._replace(count=counts[0]) for state in states)


def optimizer_blocks(arms, sizes):
    """``(optimizer, first row, end row)`` for each run of consecutive arms sharing one optimizer.

    One update (and one state) per block instead of per arm: the rows are independent, so the
    numbers are the same, and the compiled loop body is smaller. With ``sizes`` None (one arm
    over every row) the single block is ``(optimizer, None, None)``.
    """
    if sizes is None:
        return [(arms[0].optimizer, None, None)]
    blocks, start = [], 0
    for arm, size in zip(arms, sizes):
        if blocks and blocks[-1][0] is arm.optimizer:
            blocks[-1][2] += size
        else:
            blocks.append([arm.optimizer, start, start + size])
        start += size
    return [tuple(b) for b in blocks]


def _initial_carry(arms, x, sizes, f0, keys, n_ladder, n_record, record_x):
    xp = namespace(x)
    runs = x.shape[0]
    nan = xp.full((runs,), np.nan)
    return _Carry(
        t=xp.zeros((), dtype=int),
        x=x,
        states=tuple(opt.init(x[a:b]) for opt, a, b in optimizer_blocks(arms, sizes)),
        status=xp.zeros((runs,), dtype=int),
        stop=nan,
        f0=f0,
        f_last=f0,
        f_best=f0,
        ladder_hits=xp.full((runs, n_ladder), np.nan),
        f_traj=xp.full((n_record, runs), np.nan),
        x_traj=xp.full((n_record,) + x.shape, np.nan) if record_x else None,
        guide=xp.zeros_like(x) if any(_oracles.get(arm.gradient).tangents == "guided" for arm in arms) else None,
        keys=keys,
    )


# Steps of one segment: the host sees the runs (progress, compaction) between two segments.
SEGMENT = 2048
# Compact when the rows it removes times the steps left reach this many row-steps: on JAX a new
# batch layout costs one compilation (about a second or two), which this many row-steps repay.
COMPACT_ROW_STEPS = 2_000_000


def descend_arms(
    f,
    arms,
    x0,
    *,
    rng=None,
    keys=None,
    max_steps,
    target=None,
    bounds=None,
    ladder=(),
    divergence=None,
    record=(),
    record_x=None,
    engine="autograd",
    progress=None,
    compact=False,
):
    """Advance the runs of several arms in lockstep until each is solved, diverged or out of budget.

    ``x0`` is one array of starting points ``(runs, d)`` shared by every arm, or a list with one
    such array per arm. Every run draws from its own stream (see the module docstring): ``keys``
    gives one uint64 key per row of the batch (arms in order); without it the keys are drawn from
    ``rng``, a seeded :class:`numpy.random.Generator`. ``target`` stops a run once
    $f \\le$ target; ``ladder`` lists further thresholds whose first hits are recorded;
    ``bounds = (lower, upper)`` projects every iterate back into the box; ``divergence`` is a rule
    ``(f0, fx, target, t) -> diverged`` such as :func:`forwardgrad.protocols.relative_divergence`
    (None: no run is ever declared diverged); ``record`` lists steps at which $f$ (and, when
    ``record_x`` or ``d == 2``, $x$) is stored. ``progress(t, stopped)`` is called between
    segments with the step reached and the number of runs stopped. ``compact`` drops the stopped
    runs from the batch when that saves enough work (:data:`COMPACT_ROW_STEPS`); it needs a
    row-separable ``f`` and optimizers whose rows interact only through their state (all of
    :mod:`forwardgrad.optimizers`, not :func:`~forwardgrad.optimizers.scale_by_row`), and never
    changes a result.
    """
    check_engine(engine)
    if int(max_steps) != max_steps or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps}")
    arms = [check_arm(Arm(*a) if not isinstance(a, Arm) else a) for a in arms]
    if not arms:
        raise ValueError("descend_arms needs at least one arm")
    starts = list(x0) if isinstance(x0, (list, tuple)) else [x0] * len(arms)
    if len(starts) != len(arms):
        raise ValueError(f"got {len(starts)} arrays of starting points for {len(arms)} arms")
    d = _check_starts(starts[0]).shape[1]
    starts = [_check_starts(s, d) for s in starts]
    sizes = [len(s) for s in starts]
    x = np.concatenate(starts)
    keys = _check_keys(keys, rng, len(x))
    bounds = _check_bounds(bounds, d)
    target = -math.inf if target is None else float(target)
    if math.isnan(target):
        raise ValueError("target must be a number or None")
    ladder = np.asarray(ladder, dtype=float).reshape(-1)
    record = np.asarray(sorted(set(int(r) for r in record)), dtype=int).reshape(-1)
    if record.size and (record[0] < 0 or record[-1] > max_steps):
        raise ValueError("record steps must lie in [0, max_steps]")
    record_x = d == 2 if record_x is None else bool(record_x)
    settings = dict(target=target, ladder=ladder, max_steps=int(max_steps), bounds=bounds,
                    divergence=divergence, record=record)
    engine_run = _JaxRun if engine == "jax" else _AutogradRun
    store = _run(engine_run(f, settings, record_x), arms, sizes, x, keys, settings, progress, compact)
    # a run makes one update at every step before the one it stops at, each with the same calls
    steps = store["stop"]
    calls_per_step = np.repeat([_oracles.get(arm.gradient).calls(arm.k) for arm in arms], sizes).astype(float)
    return DescentResult(
        arm=np.repeat(np.arange(len(arms)), sizes),
        status=np.asarray(STATUSES, dtype=object)[store["status"].astype(int)],
        hit=np.where(store["status"] == SOLVED, steps, np.nan),
        steps=steps,
        oracle_calls=steps * calls_per_step,
        f_start=store["f0"],
        f_best=store["f_best"],
        f_final=store["f_last"],
        x_final=store["x"],
        ladder=ladder,
        ladder_hits=store["ladder_hits"],
        record_steps=record,
        f_trajectory=store["f_traj"],
        x_trajectory=store.get("x_traj"),
        row_steps=int(store["row_steps"]),
    )


def _check_keys(keys, rng, runs):
    if keys is None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator, e.g. numpy.random.default_rng(seed)")
        return rng.integers(0, 2**64, size=runs, dtype=np.uint64, endpoint=False)
    keys = np.asarray(keys)
    if keys.shape != (runs,) or keys.dtype != np.uint64:
        raise ValueError(f"keys must be {runs} uint64 stream keys, one per run, got {keys.dtype} {keys.shape}")
    return keys


def _run(engine_run, arms, sizes, x, keys, settings, progress, compact):
    """The host loop: segments of steps, progress, compaction; returns the runs' final records."""
    max_steps = settings["max_steps"]
    runs = len(x)
    rows = np.arange(runs)  # the original index of each row of the current batch
    layout = (tuple(arms), tuple(sizes))
    carry = engine_run.start(layout, x, keys)
    store = {"runs": runs, "row_steps": 0}
    record = settings["record"]
    while True:
        t = int(carry.t)
        status = np.asarray(carry.status)
        running = status == RUNNING
        if progress is not None:
            progress(min(t, max_steps + 1), runs - len(rows) + int(np.count_nonzero(~running)))
        if t > max_steps or not running.any():
            break
        if compact and (len(rows) - running.sum()) * (max_steps - t) >= COMPACT_ROW_STEPS:
            _write_back(store, carry, rows, ~running, record, t)
            layout, carry = _compacted(layout, carry, running)
            rows = rows[running]
        carry = engine_run.advance(layout, carry, min(t + SEGMENT, max_steps + 1))
        store["row_steps"] += len(rows) * (int(carry.t) - t)
    _write_back(store, carry, rows, np.ones(len(rows), bool), record, int(carry.t))
    return store


def _write_back(store, carry, rows, which, record, t):
    """Copy the records of the rows ``which`` (original indices ``rows[which]``) into ``store``.

    Records at steps after ``t - 1``, which these runs will never reach, hold their frozen values.
    """
    target = rows[which]
    for name in ROW_FIELDS + ("f_traj", "x_traj"):
        value = getattr(carry, name)
        if value is None or name in ("guide", "keys"):
            continue
        value = np.asarray(value, dtype=int if name == "status" else float)
        axis = 1 if name in ("f_traj", "x_traj") else 0
        if name not in store:
            shape = list(value.shape)
            shape[axis] = store["runs"]
            store[name] = np.full(shape, np.nan) if name != "status" else np.zeros(shape, dtype=int)
        if axis:
            store[name][:, target] = value[:, which]
        else:
            store[name][target] = value[which]
    after = record > t - 1
    if after.any() and len(target):
        store["f_traj"][np.ix_(after, target)] = store["f_last"][target][None, :]
        if "x_traj" in store:
            store["x_traj"][np.ix_(after, target)] = store["x"][target][None, :, :]


def _compacted(layout, carry, keep):
    """The layout and the carry of the rows ``keep`` only: arms with no row left are dropped, the
    optimizer states are regrouped by the new blocks of consecutive arms sharing an optimizer."""
    arms, sizes = layout
    edges = np.concatenate([[0], np.cumsum(sizes)])
    kept = [np.nonzero(keep[a:b])[0] + a for a, b in zip(edges[:-1], edges[1:])]
    new_arms = tuple(arm for arm, rows in zip(arms, kept) if len(rows))
    new_sizes = tuple(len(rows) for rows in kept if len(rows))
    index = np.concatenate(kept)
    # gather on the host: on JAX every eager indexing of a new shape would be one more compilation
    carry = _to_numpy(carry)
    xp = np
    take = index
    fields = {name: (None if getattr(carry, name) is None else getattr(carry, name)[take]) for name in ROW_FIELDS}
    fields["f_traj"] = carry.f_traj[:, take]
    fields["x_traj"] = None if carry.x_traj is None else carry.x_traj[:, take]
    old_blocks = optimizer_blocks(arms, sizes)
    states = []
    for opt, a, b in optimizer_blocks(new_arms, new_sizes):
        pieces = []  # (old block, local rows) for the rows of this new block
        for j, (_, oa, ob) in enumerate(old_blocks):
            local = index[a:b][(index[a:b] >= oa) & (index[a:b] < ob)] - oa
            if len(local):
                pieces.append((j, local))
        first = carry.states[pieces[0][0]]
        leaves = []
        for name, leaf in zip(first._fields, first):
            if np.ndim(leaf) == 0:
                leaves.append(leaf)  # a count shared by every row (every block steps every step)
            else:
                leaves.append(_join(xp, [getattr(carry.states[j], name)[xp.asarray(local)] for j, local in pieces]))
        states.append(type(first)(*leaves))
    return (new_arms, new_sizes), carry._replace(states=tuple(states), **fields)


def _to_numpy(tree):
    """The carry with every array as a NumPy array (a no-op on autograd)."""
    if isinstance(tree, tuple):
        return type(tree)(*[_to_numpy(t) for t in tree]) if hasattr(tree, "_fields") else tuple(_to_numpy(t) for t in tree)
    return None if tree is None else np.asarray(tree)


class _AutogradRun:
    """The autograd engine: the lockstep step in a Python loop."""

    def __init__(self, f, settings, record_x):
        self.f, self.settings, self.record_x = f, settings, record_x
        self.steps = {}

    def _step(self, layout):
        if layout not in self.steps:
            arms, sizes = layout
            self.steps[layout] = _make_step(self.f, arms, sizes, "autograd", **self.settings)
        return self.steps[layout]

    def start(self, layout, x, keys):
        arms, sizes = layout
        return _initial_carry(arms, x, sizes, self.f(x), keys, len(self.settings["ladder"]),
                              len(self.settings["record"]), self.record_x)

    def advance(self, layout, carry, until):
        step = self._step(layout)
        while carry.t < until and np.any(carry.status == RUNNING):
            carry = step(carry)
        return carry


class _JaxRun:
    """The JAX engine: segments of the lockstep step compiled into one ``lax.while_loop``."""

    def __init__(self, f, settings, record_x):
        self.jax = load_jax()
        self.f, self.record_x = f, record_x
        self.divergence = settings["divergence"]
        self.numbers = {k: v for k, v in settings.items() if k != "divergence"}

    def start(self, layout, x, keys):
        # only f(x0) is compiled: the rest of the first carry is filled here, with no kernel to
        # compile for each constant array
        arms, sizes = layout
        f0 = _compiled_value(self.f)(x)
        return _initial_carry(arms, x, sizes, f0, keys, len(self.numbers["ladder"]), len(self.numbers["record"]),
                              self.record_x)

    def advance(self, layout, carry, until):
        arms, sizes = layout
        segment = _compiled_segment(self.f, arms, sizes, self.divergence)
        return segment(carry, until, **self.numbers)


@functools.lru_cache(maxsize=64)
def _compiled_value(f):
    """``f`` jitted, for the values at the starting points."""
    return load_jax().jit(f)


@functools.lru_cache(maxsize=64)
def _compiled_segment(f, arms, sizes, divergence):
    """One jitted segment per (function, arms, batch layout); the numbers are traced arguments."""
    jax = load_jax()
    jnp = jax.numpy

    def segment(carry, until, target, ladder, max_steps, bounds, record):
        step = _make_step(f, arms, sizes, "jax", target=target, ladder=ladder, max_steps=max_steps, bounds=bounds,
                          divergence=divergence, record=record)

        def going(c):
            return (c.t < until) & (c.t <= max_steps) & jnp.any(c.status == RUNNING)

        # one step per pass, no inner loop of several steps: that loop's counter and test were two
        # more kernels to compile, and its copies of the carry cost as much as this test at run time
        return jax.lax.while_loop(going, step, carry)

    return jax.jit(segment)


def descend(f, x0, optimizer, gradient="true", tangent="rademacher", *, k=1, **options):
    """Run one optimizer with one gradient oracle from the starting points ``x0`` (runs, d).

    A shorthand for :func:`descend_arms` with a single :class:`Arm`; see it for ``options``.
    """
    return descend_arms(f, [Arm(optimizer, gradient, tangent, k)], x0, **options)
