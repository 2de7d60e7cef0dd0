"""Measured modality: multi-start local search in the box and the distinct minima it ends in.

The original collection's ``multimodal`` flag is a claim; :func:`local_minima` measures it.
All starts descend together: L-BFGS-B (``scipy.optimize.minimize``) runs on the sum of the rows,
whose gradient is a single autograd reverse pass because the rows are independent; rows that have
not converged after a round start a fresh run among themselves. End points are then clustered:
two end points are one minimum when they are within a tolerance of each other or when the
segment between them never rises above the higher of the two (no hill between them).
"""

import contextlib
import zlib

import numpy as np
import pandas as pd
from autograd import grad, value_and_grad
from scipy.optimize import minimize

from ._registry import REGISTRY, UnknownMinimum, lookup

try:  # L-BFGS-B's small BLAS calls run 10x slower with a multi-threaded BLAS on a busy machine
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional
    def threadpool_limits(limits=None, user_api=None):
        return contextlib.nullcontext()

GTOL = 1e-8  # converged: projected gradient (box scaled to the unit cube) below GTOL (1 + |f|)
SAME_POINT = 1e-3  # two points are one minimum within this max-norm distance on the unit cube


def _unit_box(obj, d):
    """``(lower, width, F)`` with ``F(u) = f(lower + width u)`` on the unit cube."""
    lower, upper = obj.bounds(d)
    width = np.where(upper > lower, upper - lower, 1.0)
    return lower, width, lambda u: obj.f(lower + width * u)


def local_search(obj, d, starts=20, rng=None, x0=None, maxiter=100):
    """End points of joint L-BFGS-B runs inside the box: a cheap search for low points.

    Starts are ``x0`` (shape ``(n, d)``) or ``starts`` uniform points drawn with ``rng`` (default
    ``numpy.random.default_rng(0)``). One L-BFGS-B run (``scipy.optimize.minimize``, at most
    ``maxiter`` iterations) descends the sum of the rows, so one autograd pass gives every row's
    gradient; rows may hop between basins, so use :func:`newton_search` to follow each start to
    its own local minimum. Rows where ``f`` is not finite are returned as given.
    Returns ``(x, f)`` of shapes ``(n, d)`` and ``(n,)``.
    """
    obj = lookup(obj, REGISTRY)
    x = _starts(obj, d, starts, rng, x0)
    lower, upper = obj.bounds(d)
    with np.errstate(all="ignore"), threadpool_limits(1, "blas"):
        finite = np.isfinite(obj.f(x))
        if finite.any():
            value_grad = value_and_grad(lambda z: obj.f(z).sum())
            shape = x[finite].shape

            def flat(z):
                value, g = value_grad(z.reshape(shape))
                return float(value), np.asarray(g, float).ravel()

            result = minimize(flat, x[finite].ravel(), jac=True, method="L-BFGS-B",
                              bounds=list(zip(np.broadcast_to(lower, shape).ravel(),
                                              np.broadcast_to(upper, shape).ravel())),
                              options={"maxiter": maxiter, "maxcor": 20, "ftol": 0.0,
                                       "gtol": 1e-12})
            x[finite] = result.x.reshape(shape)
        return x, np.asarray(obj.f(x), float)


def _starts(obj, d, starts, rng, x0):
    if x0 is not None:
        lower, upper = obj.bounds(d)
        return np.clip(np.array(x0, dtype=float), lower, upper)
    rng = np.random.default_rng(0) if rng is None else rng
    lower, upper = obj.bounds(d)
    return lower + (upper - lower) * rng.random((starts, d))


def newton_search(obj, d, starts=50, rng=None, x0=None, maxiter=100):
    """Follow every start to its own local minimum: projected, damped Newton, all rows at once.

    Each iteration takes one autograd gradient of all rows and ``d`` more for a finite-difference
    Hessian of the gradient, modifies the Hessian's eigenvalues to their absolute values (so
    saddles repel), restricts the step to the free coordinates and to a trust radius (in box
    units), and backtracks on the Armijo condition using values only. A row stops when its
    projected gradient is below ``GTOL (1 + |f|)`` (box scaled to the unit cube), or when no
    step decreases ``f`` by more than ``1e-13 (1 + |f|)`` (a kink, or a minimum reached to
    rounding). Returns ``(x, f, converged)``, ``converged`` meaning the gradient test passed.
    """
    obj = lookup(obj, REGISTRY)
    lower, upper = obj.bounds(d)
    width = np.where(upper > lower, upper - lower, 1.0)
    x = _starts(obj, d, starts, rng, x0)
    gradient = grad(lambda z: obj.f(z).sum())
    with np.errstate(all="ignore"):
        f = np.asarray(obj.f(x), float)
        active = np.isfinite(f)
        converged = np.zeros(len(x), bool)
        radius = np.full(len(x), 0.05)
        for _ in range(maxiter):
            rows = np.flatnonzero(active)
            if rows.size == 0:
                break
            xa, fa = x[rows], f[rows]
            g = gradient(xa)
            fixed = ((xa <= lower) & (g > 0)) | ((xa >= upper) & (g < 0))
            pg = np.where(fixed, 0.0, g)
            done = np.max(np.abs(pg * width), axis=-1) <= GTOL * (1.0 + np.abs(fa))
            converged[rows[done]] = True
            h = 1e-7 * np.maximum(1.0, np.abs(xa))
            hessian = np.stack([(gradient(xa + h[:, [j]] * np.eye(d)[j]) - g) / h[:, [j]]
                                for j in range(d)], axis=-1)
            hessian = 0.5 * (hessian + np.swapaxes(hessian, -1, -2))
            free = ~fixed
            hessian = np.where(free[:, :, None] & free[:, None, :], hessian, np.eye(d))
            lam, vec = np.linalg.eigh(np.where(np.isfinite(hessian), hessian, 0.0))
            lam = np.maximum(np.abs(lam), 1e-8 * np.maximum(1.0, np.max(np.abs(lam), axis=-1,
                                                                          keepdims=True)))
            step = -np.einsum("nij,nj->ni", vec, np.einsum("nji,nj->ni", vec, pg) / lam)
            size = np.max(np.abs(step) / width, axis=-1)
            step *= np.minimum(1.0, radius[rows] / np.where(size > 0, size, 1.0))[:, None]
            # steepest descent, scaled to the trust radius, for the rows where Newton fails;
            # a coordinate whose slope dwarfs the others' sits on a kink (|x_i| near 0 in a
            # product of |x_j|): it stays put, or no step could be small enough to descend
            typical = np.median(np.abs(pg * width), axis=-1, keepdims=True)
            on_kink = np.abs(pg * width) > 1e6 * (typical + 1e-300)
            descent = -np.where(on_kink, 0.0, pg) * width**2
            size = np.max(np.abs(descent) / width, axis=-1)
            descent *= (radius[rows] / np.where(size > 0, size, 1.0))[:, None]
            accepted = np.zeros(len(rows), bool)
            x_new, f_new = xa.copy(), fa.copy()
            for direction in (step, descent):
                alpha = 1.0
                for _ in range(12):
                    trial = np.clip(xa + alpha * direction, lower, upper)
                    f_trial = np.asarray(obj.f(trial), float)
                    ok = ~accepted & (f_trial <= fa + 1e-4 * np.sum(g * (trial - xa), axis=-1))
                    ok &= np.isfinite(f_trial) & (f_trial <= fa)
                    x_new[ok], f_new[ok] = trial[ok], f_trial[ok]
                    radius[rows[ok]] = np.clip(
                        4.0 * np.max(np.abs(trial[ok] - xa[ok]) / width, axis=-1), 1e-12, 0.5)
                    accepted |= ok
                    if accepted.all():
                        break
                    alpha *= 0.25
            progressed = accepted & (f_new < fa - 1e-13 * (1.0 + np.abs(fa)))
            x[rows], f[rows] = x_new, f_new
            active[rows[done | ~progressed]] = False
        return x, f, converged


def _same_basin(F, u, fu, reps, f_reps, checks=25):
    """For each representative: no hill on the segment from ``u`` to it (``(k,)`` booleans)."""
    t = np.linspace(0.0, 1.0, checks + 2)[1:-1, None, None]
    values = F(u + t * (reps - u))  # (checks, k)
    ceiling = np.maximum(fu, f_reps)
    return np.all(values <= ceiling + 1e-10 * (1.0 + np.abs(ceiling)), axis=0)


def distinct_minima(obj, d, x, f, converged=None, tol=SAME_POINT, radius=0.05):
    """Cluster end points of local searches into distinct minima, lowest first.

    Two end points are the same minimum when they are within ``tol`` in max-norm (box scaled to
    the unit cube), or when ``f`` on the segment between them never rises above the higher end
    (a hill-valley test). The test merges the end points that stopped in one flat valley or at
    one kink. Between two end points that passed the gradient test (``converged``) with
    different values it is only applied within ``radius``, since a long segment can step over
    the small hills between true minima (Griewank). Returns ``(x, f)`` of one representative
    per minimum.
    """
    obj = lookup(obj, REGISTRY)
    lower, width, F = _unit_box(obj, d)
    converged = np.ones(len(f), bool) if converged is None else np.asarray(converged, bool)
    finite = np.isfinite(f)
    u, f, converged = (x[finite] - lower) / width, f[finite], converged[finite]
    kept = []
    with np.errstate(all="ignore"):
        for k in np.argsort(f, kind="stable"):
            if kept:
                reps = u[kept]
                gap = np.max(np.abs(reps - u[k]), axis=-1)
                if np.any(gap <= tol):
                    continue
                level = np.abs(f[kept] - f[k]) <= 1e-8 * (1.0 + np.abs(f[k]))
                near = (gap <= radius) | level | (not converged[k])
                if near.any() and np.any(_same_basin(F, u[k], f[k], reps[near],
                                                     f[kept][near])):
                    continue
            kept.append(k)
    return lower + width * u[kept], f[kept]


def find_local_minima(name_or_obj, d, starts=50, rng=None, tol=SAME_POINT):
    """The distinct local minima reached from ``starts`` uniform starts: ``(x (k, d), f (k,))``."""
    obj = lookup(name_or_obj, REGISTRY)
    x, f, converged = newton_search(obj, d, starts=starts, rng=rng)
    return distinct_minima(obj, d, x, f, converged, tol)


def local_minima(name_or_obj, d, starts=50, rng=None, tol=SAME_POINT):
    """Measured modality: the number of distinct local minima reached from ``starts`` starts.

    Multi-start L-BFGS-B inside the box (gradients from autograd) from uniform random starts
    drawn with ``rng`` (default ``numpy.random.default_rng(0)``), end points clustered by
    :func:`distinct_minima`. A count above 1 shows that the function has several minima in the
    box (symmetric copies of the global minimum count too); 1 is evidence, not proof, that it
    has one.
    """
    x, _ = find_local_minima(name_or_obj, d, starts=starts, rng=rng, tol=tol)
    return len(x)


def modality_rng(name, d, seed=0):
    """The generator of the starts of the modality search for ``name`` in dimension ``d``: seeded
    by ``(seed, crc32(name), d)``, so every caller measuring the same function sees the same starts."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(str(name).encode()), int(d)]))


def _reaches(obj, d, x, x_star, tol=SAME_POINT):
    """Whether a point of ``x`` lies within ``tol`` of ``x_star`` in max-norm on the unit cube (the
    distance under which :func:`distinct_minima` takes two end points for one minimum)."""
    if x_star is None or not len(x):
        return False
    lower, width, _ = _unit_box(obj, d)
    return bool(np.any(np.max(np.abs(np.asarray(x) - x_star) / width, axis=-1) <= tol))


def measure_modality(name, d, starts=50, seed=0):
    """Measured modality of one function in dimension ``d``, the one rule every chapter uses.

    Runs :func:`find_local_minima` from ``starts`` starts (:func:`modality_rng`) and returns a dict:
    ``minima`` (distinct minima found), ``non-global`` (those that are not global, value above
    ``f* + 1e-3 (1 + |f*|)``, or above the best found when f* is unknown, and lie inside the box),
    ``boundary`` (those on the box boundary), ``lowest`` (the lowest value found), ``f_star`` (NaN
    if unknown), ``found`` (the lowest value is within ``1e-3 (1 + |f*|)`` of f*, or an end point
    lies within the clustering tolerance of the stored minimizer: at a cusp such as the ridge
    function's, where f rises like |x|^0.2, rounding decides the value a search stops at, not
    its position), and
    ``modality``: ``"multimodal"`` when a non-global interior minimum was found (the sense of the
    original ``multimodal`` flag: symmetric copies of the global minimum and box-boundary minima
    do not count), ``"unimodal"`` when none was and the global minimum was found, and
    ``"undetermined"`` when none was but the searches missed the global minimum (a plateau, or a
    search that stopped before converging).
    """
    obj = lookup(name, REGISTRY)
    x, f = find_local_minima(obj, d, starts=starts, rng=modality_rng(obj.name, d, seed))
    try:
        x_star, f_star = obj.minimum(d)
    except UnknownMinimum:
        x_star, f_star = None, float("nan")
    reference = f_star if np.isfinite(f_star) else float(np.min(f))
    lower, upper = obj.bounds(d)
    on_boundary = np.any((x <= lower) | (x >= upper), axis=-1)
    tolerance = 1e-3 * (1.0 + abs(reference))
    non_global = int(np.sum((f > reference + tolerance) & ~on_boundary))
    lowest = float(np.min(f)) if len(f) else float("nan")
    found = bool(lowest <= reference + tolerance) or _reaches(obj, d, x, x_star)
    return {"function": obj.name, "d": int(d), "flagged": "multimodal" in obj.tags, "minima": len(x),
            "non-global": non_global, "boundary": int(np.sum(on_boundary)), "lowest": lowest,
            "f_star": f_star, "found": found,
            "modality": "multimodal" if non_global else "unimodal" if found else "undetermined"}


def modality_table(names, d=None, starts=50, seed=0):
    """:func:`measure_modality` for each name (in ``d``, or each function's fixed dimension, else 2).

    Column ``measured`` is True when the function is measured multimodal; ``mislabelled`` marks
    where the original flag and the measurement disagree.
    """
    rows = []
    for name in names:
        obj = lookup(name, REGISTRY)
        rows.append(measure_modality(name, d or (obj.dim if obj.dim is not None else 2), starts, seed))
    table = pd.DataFrame(rows)
    table["measured"] = table["modality"] == "multimodal"
    table["mislabelled"] = table["measured"] != table["flagged"]
    return table
