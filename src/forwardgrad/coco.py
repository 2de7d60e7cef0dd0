r"""The solvers on COCO's ``bbob`` suite, and their runs in COCO's data format.

:func:`run` advances every optimizer and gradient on every instance of a bbob function in ONE
lockstep batch (:func:`forwardgrad.descent.descend_arms` on :func:`forwardgrad.objectives.bbob.stacked`),
one run per instance (COCO's protocol: an instance is a trial), starting uniformly in
:math:`[-4, 4]^d`, and records the precision :math:`f(x_k) - f_{opt}` at every step. It returns
a run table in the benchmark's columns (so :mod:`forwardgrad.profiles` and the paper's rules read
it) and the evaluation traces, which :func:`write` turns into COCO's ``.info``, ``.dat`` and
``.tdat`` files, one folder per solver, for ``cocopp``.

Evaluations are counted in *f-evaluation equivalents* (:func:`step_cost`): a step of a forward
solver computes :math:`f(x)` and one directional derivative, what a forward difference buys with
2 evaluations; a step of a true-gradient solver computes :math:`f(x)` and the gradient, what a
forward-difference gradient buys with :math:`d + 1` (the price COCO's archived gradient-based
solvers, such as BFGS with finite differences, paid). The value at a run's :math:`k`-th iterate
is known after :math:`1 + c\,k` evaluations: :math:`f(x_0)` costs one, and each step buys the
derivative at :math:`x_k` (:math:`c - 1` more) and the value at :math:`x_{k+1}` (one more).

Reference: Hansen, N., Auger, A., Ros, R., Mersmann, O., Tusar, T. & Brockhoff, D. (2021). COCO:
a platform for comparing continuous optimizers in a black-box setting. Optim. Methods Softw.
36(1), 114-144; the data format is the one ``cocoex``'s ``bbob`` observer writes (``bbob-new2``).
"""

from pathlib import Path

import numpy as np
import pandas as pd

from forwardgrad import descent, optimizers, protocols
from forwardgrad.objectives import bbob

PRECISION = 1e-8  # COCO's final target: f - f_opt <= 1e-8
START_BOX = 4.0  # starts uniform in [-4, 4]^d, as COCO's examples draw them
TARGETS_PER_DECADE = 5  # a .dat line each time the best precision passes a 10^(i/5)
TDAT_PER_DECADE = 20  # a .tdat line each time the evaluations pass a 10^(i/20)
COCO_VERSION = "2.8.2"  # the cocoex whose files these mimic (checked by the tests)


def step_cost(gradient, d):
    """f-evaluation equivalents of one step: 2 for a forward gradient, ``d + 1`` for a true one."""
    costs = {"true": d + 1, "forward": 2}
    if gradient not in costs:
        raise ValueError(f"COCO costs are defined for gradients {', '.join(costs)}, got {gradient!r}")
    return costs[gradient]


def iterate_evaluations(k, cost):
    """f-evaluation equivalents used when the value at iterate ``k`` is known: :math:`1 + c k`."""
    return 1 + cost * np.asarray(k)


def solver_name(optimizer, gradient):
    """``adam (forward)``: the profiles' name of a solver."""
    return f"{optimizer} ({gradient})"


def run(function, d, *, instances=bbob.INSTANCES, optimizers_=("sgd", "clipped_sgd", "adam", "adabelief"),
        gradients=("true", "forward"), steps, lr=0.01, seed=0, target_gap=0.1, engine="autograd"):
    """Every solver on every instance of bbob ``function`` in dimension ``d``: ``(table, traces)``.

    Every run may make ``steps`` updates (the paper's budget is in steps too); COCO's files count
    them in f-evaluation equivalents (:func:`step_cost`). ``table`` has one row per run in the
    benchmark's columns (``function`` is ``bbob/f<n>``, ``start`` the instance, ``f_star`` 0 since
    values are precisions; success is the paper's target ``f_opt + target_gap``). ``traces`` is a
    list, in table order, of the precision at every iterate the run's budget pays for.
    """
    instances = tuple(instances)
    name = f"{bbob.PREFIX}f{function}"
    grid = [(o, g) for o in optimizers_ for g in gradients]
    x0 = np.stack([np.random.default_rng(protocols.seed_sequence(seed, f"{name}/i{i}", d, "starts"))
                   .uniform(-START_BOX, START_BOX, d) for i in instances])
    start = np.tile(np.array(instances), len(grid))
    horizon = int(steps)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = descent.descend_arms(
            bbob.stacked(function, instances, d),
            [descent.Arm(optimizer=optimizers.get(o, lr=lr), gradient=g) for o, g in grid],
            [x0] * len(grid),
            keys=protocols.run_keys(seed, name, d, start, np.zeros_like(start)),
            max_steps=horizon, target=PRECISION, ladder=[target_gap],
            divergence=protocols.relative_divergence(), record=range(horizon + 1), engine=engine)
    gradient = np.repeat([g for _, g in grid], len(instances))
    traces = [result.f_trajectory[: int(result.steps[r]) + 1, r] for r in range(len(start))]
    hits = result.ladder_hits[:, 0]
    table = pd.DataFrame({
        "protocol": "bbob", "engine": engine, "function": name, "dim": d,
        "optimizer": np.repeat([o for o, _ in grid], len(instances)), "gradient": gradient,
        "tangent": np.where(gradient == "true", "none", "rademacher"), "start": start, "repeat": 0,
        "seed": int(seed), "lr": lr, "max_steps": horizon, "f_star": 0.0, "target_gap": target_gap,
        "target": target_gap, "stop_target": PRECISION, "status": result.status.astype(str),
        "success": protocols.success(hits), "hit": hits, "steps": result.steps,
        "oracle_calls": result.oracle_calls, "f_start": result.f_start,
        "f_best": [float(np.min(t)) for t in traces], "f_final": [float(t[-1]) for t in traces],
        "cost_per_step": [step_cost(g, d) for g in gradient],
    })
    return table, traces


def evaluations_to(traces, costs, precision):
    """Per run: f-evaluation equivalents until the precision first reaches ``precision``, else
    all the run used; and whether it did (the inputs of :func:`forwardgrad.protocols.art`)."""
    evals, reached = [], []
    for trace, c in zip(traces, costs):
        below = np.flatnonzero(np.asarray(trace) <= precision)
        reached.append(below.size > 0)
        evals.append(iterate_evaluations(below[0] if below.size else len(trace) - 1, c))
    return np.array(evals, dtype=float), np.array(reached)


def _level(delta, per_decade):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(delta > 0, np.floor(per_decade * np.log10(np.where(delta > 0, delta, 1.0))), -np.inf)


def _line(evals, delta, f, best, f_opt):
    return f"{int(evals)} 0 {delta:+.9e} {f + f_opt:+.9e} {best + f_opt:+.9e}\n"


def _header(f_opt):
    return ("% f evaluations | g evaluations | best noise-free fitness - Fopt "
            f"({f_opt:.12e}) + sum g_i+ | measured fitness | best measured fitness or single-digit "
            "g-values | x1 | x2...\n")


def trial_lines(trace, cost, f_opt):
    """The ``.dat`` and ``.tdat`` lines of one run (its precision at every iterate)."""
    trace = np.asarray(trace, dtype=float)
    trace = np.where(np.isnan(trace), np.inf, trace)  # a diverged run's last value may be NaN
    best = np.minimum.accumulate(trace)
    evals = iterate_evaluations(np.arange(len(trace)), cost)
    level = _level(best, TARGETS_PER_DECADE)
    new = np.r_[True, level[1:] < np.minimum.accumulate(level)[:-1]]
    new[-1] = True
    tlevel = np.floor(TDAT_PER_DECADE * np.log10(evals))
    tnew = np.r_[True, tlevel[1:] > tlevel[:-1]]
    tnew[-1] = True
    dat = [_line(evals[k], best[k], trace[k], best[k], f_opt) for k in np.flatnonzero(new)]
    tdat = [_line(evals[k], best[k], trace[k], best[k], f_opt) for k in np.flatnonzero(tnew)]
    return dat, tdat


def write(folder, table, traces):
    """Write the runs of ``table`` (with their ``traces``) as COCO data: one folder per solver,
    ``<folder>/<optimizer>_<gradient>/bbobexp_f<n>.info`` and ``data_f<n>/bbobexp_f<n>_DIM<d>.dat``
    and ``.tdat``. Returns the solver folders."""
    folder = Path(folder)
    table = table.reset_index(drop=True)
    out = []
    for (optimizer, gradient), runs in table.groupby(["optimizer", "gradient"], sort=False):
        alg = f"{optimizer}_{gradient}"
        root = folder / alg
        out.append(root)
        for function, by_f in runs.groupby("function", sort=False):
            fid = int(function.removeprefix(bbob.PREFIX + "f"))
            (root / f"data_f{fid}").mkdir(parents=True, exist_ok=True)
            info = []
            for d, by_d in by_f.groupby("dim", sort=True):
                rel = f"data_f{fid}/bbobexp_f{fid}_DIM{d}"
                dat, tdat, summary = [], [], []
                for r, row in by_d.iterrows():
                    f_opt = bbob.parameters(fid, int(row["start"]), int(d))["f_opt"]
                    lines, tlines = trial_lines(traces[r], int(row["cost_per_step"]), f_opt)
                    dat += [_header(f_opt)] + lines
                    tdat += [_header(f_opt)] + tlines
                    final = np.nanmin(traces[r])
                    used = iterate_evaluations(len(traces[r]) - 1, int(row["cost_per_step"]))
                    summary.append(f"{int(row['start'])}:{used}|{final:.1e}")
                (root / f"{rel}.dat").write_text("".join(dat))
                (root / f"{rel}.tdat").write_text("".join(tdat))
                info.append(f"suite = 'bbob', funcId = {fid}, DIM = {d}, Precision = {PRECISION:.3e}, "
                            f"algId = '{alg}', coco_version = '{COCO_VERSION}', logger = 'bbob', "
                            f"data_format = 'bbob-new2', settings = 'forwardgrad; evaluations in f-evaluation "
                            f"equivalents; one step = {step_cost(gradient, d)}'\n% {optimizer} with {gradient} "
                            f"gradients, lr {float(by_d['lr'].iloc[0]):g}\n{rel}.dat, " + ", ".join(summary))
            (root / f"bbobexp_f{fid}.info").write_text("\n".join(info) + "\n")
    return out


DIMS = (2, 5, 10, 20)
STEPS_PER_DIM = 25  # the book's budget: 25 d steps per run (chosen in bbob.md from the measured cost)


def _chunk(function, d, kwargs):
    table, traces = run(function, d, **kwargs)
    return table, traces


def sweep(functions=bbob.FUNCTIONS, dims=DIMS, *, steps_per_dim=STEPS_PER_DIM, jobs=1, **kwargs):
    """:func:`run` on every (function, dimension) with a budget of ``steps_per_dim * d`` steps
    per run: one table (functions, then dimensions, in order) and the
    traces in its row order. ``jobs`` processes share the chunks; the result does not depend on it."""
    import joblib

    pairs = [(f, d) for f in functions for d in dims]
    jobs_ = [joblib.delayed(_chunk)(f, d, {**kwargs, "steps": steps_per_dim * d}) for f, d in pairs]
    parts = joblib.Parallel(n_jobs=jobs)(jobs_) if jobs > 1 else [_chunk(f, d, {**kwargs, "steps": steps_per_dim * d})
                                                                for f, d in pairs]
    table = pd.concat([t for t, _ in parts], ignore_index=True)
    traces = [trace for _, tr in parts for trace in tr]
    return table, traces
