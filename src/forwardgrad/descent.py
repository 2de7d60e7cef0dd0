r"""Lockstep descent of a batch of runs, on either AD engine.

Runs live on the leading axis of ``x`` (shape ``(runs, d)``). Several *arms*, each an optimizer
with a gradient oracle (true or forward, with its tangent law), advance together: at every step
the rows of all true-gradient arms go through ONE reverse pass and the rows of all forward arms
through ONE forward pass. A run freezes when it reaches the target, diverges, or exhausts the
budget. On autograd the step is a Python loop; on JAX the same step function is compiled into one
``lax.while_loop``.

Bookkeeping, per run: ``hit`` is the number of updates made before $f(x_k) \le$ target for the
first time (NaN if never), ``steps`` the number of updates made, ``oracle_calls`` the number of
gradient evaluations those updates used ($k$ per forward step with $k$ tangents), ``status`` is
``"solved"``, ``"budget"`` or ``"diverged"``.
"""

import functools
import math
from typing import Any, NamedTuple

import numpy as np
from tqdm import tqdm

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
    Adam's first moment, 0 the previous estimate) or ``"fd"`` (forward differences of step
    ``eps`` along ``k`` tangents). ``tangent`` is the law of the tangents of the estimators that
    draw from a law (not ``"true"`` nor ``"guided"``).
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


class _Carry(NamedTuple):
    t: Any
    x: Any
    states: Any
    status: Any
    hit: Any
    steps: Any
    calls: Any
    f_last: Any
    f_best: Any
    ladder_hits: Any
    f_traj: Any
    x_traj: Any
    guide: Any
    key: Any


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
                v = _oracles.guided_tangent(rng, us, arm.alpha, lead + xs.shape)
            elif spec.tangents is None:
                v = None
            elif all(arms[i].tangent is arms[members[0]].tangent for i in members):
                # one draw for the whole group: on JAX every draw is a key split plus a bit
                # generator, and these dominate the size (so the compile time) of the loop body
                v = arms[members[0]].tangent(rng, lead + xs.shape)
            else:
                v = _join(xp, [arms[i].tangent(rng, lead + (sizes[i], d)) for i in members], axis=-2)
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


def _make_step(f, arms, sizes, engine, *, target, ladder, max_steps, bounds, divergence, record, f0):
    """The lockstep step ``(carry, rng) -> carry``: :func:`make_step` and the bookkeeping."""
    move = make_step(f, arms, sizes, engine)
    calls_per_step = np.repeat([_oracles.get(arm.gradient).calls(arm.k) for arm in arms], sizes).astype(float)
    guided = any(_oracles.get(arm.gradient).tangents == "guided" for arm in arms)
    beta = np.repeat([arm.beta for arm in arms], sizes)[:, None]

    def step(c, rng):
        xp = namespace(c.x)
        fx, g, step, states = move(c.x, c.states, rng, c.guide)
        x = c.x + step
        running = c.status == RUNNING
        fx = xp.where(running, fx, c.f_last)
        ladder_hits = c.ladder_hits
        if ladder.size:
            reached = running[:, None] & (fx[:, None] <= ladder) & xp.isnan(ladder_hits)
            ladder_hits = xp.where(reached, c.t, ladder_hits)
        solved = running & (fx <= target)
        diverged = running & ~solved & (divergence(f0, fx, target, c.t) if divergence else False)
        budget = running & ~solved & ~diverged & (c.t >= max_steps)
        status = xp.where(solved, SOLVED, xp.where(diverged, DIVERGED, xp.where(budget, BUDGET, c.status)))
        hit = xp.where(solved, c.t, c.hit)
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
            hit=hit,
            steps=c.steps + moving,
            calls=c.calls + xp.where(moving, calls_per_step, 0.0),
            f_last=fx,
            f_best=xp.minimum(c.f_best, fx),
            ladder_hits=ladder_hits,
            f_traj=f_traj,
            x_traj=x_traj,
            guide=beta * c.guide + (1 - beta) * g if guided else None,
            key=c.key,
        )

    return step


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


def _initial_carry(arms, x, sizes, f0, n_ladder, record, record_x, key):
    xp = namespace(x)
    runs = x.shape[0]
    nan = xp.full((runs,), np.nan)
    return _Carry(
        t=xp.zeros((), dtype=int),
        x=x,
        states=tuple(opt.init(x[a:b]) for opt, a, b in optimizer_blocks(arms, sizes)),
        status=xp.zeros((runs,), dtype=int),
        hit=nan,
        steps=xp.zeros((runs,)),
        calls=xp.zeros((runs,)),
        f_last=f0,
        f_best=f0,
        ladder_hits=xp.full((runs, n_ladder), np.nan),
        f_traj=xp.full((len(record), runs), np.nan),
        x_traj=xp.full((len(record),) + x.shape, np.nan) if record_x else None,
        guide=xp.zeros_like(x) if any(_oracles.get(arm.gradient).tangents == "guided" for arm in arms) else None,
        key=key,
    )


def descend_arms(
    f,
    arms,
    x0,
    *,
    rng,
    max_steps,
    target=None,
    bounds=None,
    ladder=(),
    divergence=None,
    record=(),
    record_x=None,
    engine="autograd",
    progress=False,
):
    """Advance the runs of several arms in lockstep until each is solved, diverged or out of budget.

    ``x0`` is one array of starting points ``(runs, d)`` shared by every arm, or a list with one
    such array per arm. ``rng`` is a seeded :class:`numpy.random.Generator`: it draws the tangents
    on autograd and seeds the JAX key on JAX. ``target`` stops a run once $f \\le$ target;
    ``ladder`` lists further thresholds whose first hits are recorded; ``bounds = (lower, upper)``
    projects every iterate back into the box; ``divergence`` is a rule ``(f0, fx, target, t) ->
    diverged`` such as :func:`forwardgrad.protocols.relative_divergence` (None: no run is ever
    declared diverged); ``record`` lists steps at which $f$ (and, when ``record_x`` or
    ``d == 2``, $x$) is stored.
    """
    check_engine(engine)
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator, e.g. numpy.random.default_rng(seed)")
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

    if engine == "jax":
        carry, f_start = _run_jax(f, arms, sizes, x, rng, settings, record_x)
    else:
        carry, f_start = _run_autograd(f, arms, sizes, x, rng, settings, record_x, progress)
    to_np = np.asarray
    # Records after the loop ended (every run frozen) hold the frozen values.
    after = record[:, None] > to_np(carry.t) - 1
    f_traj = np.where(after, to_np(carry.f_last)[None, :], to_np(carry.f_traj, dtype=float))
    x_traj = None if carry.x_traj is None else np.where(after[..., None], to_np(carry.x)[None], to_np(carry.x_traj))
    return DescentResult(
        arm=np.repeat(np.arange(len(arms)), sizes),
        status=np.asarray(STATUSES, dtype=object)[to_np(carry.status)],
        hit=to_np(carry.hit, dtype=float),
        steps=to_np(carry.steps, dtype=float),
        oracle_calls=to_np(carry.calls, dtype=float),
        f_start=to_np(f_start, dtype=float),
        f_best=to_np(carry.f_best, dtype=float),
        f_final=to_np(carry.f_last, dtype=float),
        x_final=to_np(carry.x, dtype=float),
        ladder=ladder,
        ladder_hits=to_np(carry.ladder_hits, dtype=float),
        record_steps=record,
        f_trajectory=f_traj,
        x_trajectory=x_traj,
    )


def _run_autograd(f, arms, sizes, x, rng, settings, record_x, progress):
    f0 = f(x)
    step = _make_step(f, arms, sizes, "autograd", f0=f0, **settings)
    carry = _initial_carry(arms, x, sizes, f0, len(settings["ladder"]), settings["record"], record_x, None)
    with tqdm(total=settings["max_steps"] + 1, disable=not progress, desc="descent", leave=False) as bar:
        while carry.t <= settings["max_steps"] and np.any(carry.status == RUNNING):
            carry = step(carry, rng)
            bar.update(1)
    return carry, f0


# Steps per pass of the compiled loop between two checks of "is any run still going": the check
# costs as much as a few elementwise kernels, and extra steps after every run froze change nothing.
BLOCK = 8


def _run_jax(f, arms, sizes, x, rng, settings, record_x):
    jax = load_jax()
    seed = int(rng.integers(0, 2**32, dtype=np.uint64))
    run = _compiled_run(f, tuple(arms), tuple(sizes), settings["divergence"], record_x)
    numbers = {k: v for k, v in settings.items() if k != "divergence"}
    # the "rbg" generator draws bits with XLA's RngBitGenerator: about a third cheaper than
    # threefry on CPU, and still deterministic for a given seed.
    return run(jax.numpy.asarray(x), jax.random.key(seed, impl="rbg"), **numbers)


@functools.lru_cache(maxsize=32)
def _compiled_run(f, arms, sizes, divergence, record_x):
    """One jitted descent per (function, arms, batch layout); numbers are traced arguments."""
    jax = load_jax()
    jnp = jax.numpy

    def run(x, key, target, ladder, max_steps, bounds, record):
        f0 = f(x)
        step = _make_step(f, arms, sizes, "jax", f0=f0, target=target, ladder=ladder, max_steps=max_steps,
                          bounds=bounds, divergence=divergence, record=record)

        def one(_, c):
            stream = _tangents.JaxStream(c.key)
            return step(c, stream)._replace(key=stream.key)

        def block(c):
            return jax.lax.fori_loop(0, BLOCK, one, c)

        def going(c):
            return (c.t <= max_steps) & jnp.any(c.status == RUNNING)

        carry = _initial_carry(arms, x, sizes, f0, len(ladder), record, record_x, key)
        return jax.lax.while_loop(going, block, carry), f0

    return jax.jit(run)


def descend(f, x0, optimizer, gradient="true", tangent="rademacher", *, k=1, **options):
    """Run one optimizer with one gradient oracle from the starting points ``x0`` (runs, d).

    A shorthand for :func:`descend_arms` with a single :class:`Arm`; see it for ``options``.
    """
    return descend_arms(f, [Arm(optimizer, gradient, tangent, k)], x0, **options)
