r"""The chapter *Forward gradients on COCO's bbob*: the sweep, its COCO folder, cocopp's reading.

:func:`compute` runs the paper's eight solvers on the 24 bbob functions (:func:`forwardgrad.coco.sweep`);
:func:`export` writes the COCO folder; :func:`cocopp_art` reads it back with ``cocopp`` and returns
cocopp's aRT per (dim, function) and solver, which :func:`our_art` computes from the run table with
:func:`forwardgrad.protocols.art`; :func:`cocopp_ecdf` runs cocopp's runtime-ECDF step.

cocopp runs offline (:func:`offline`): on import it tries to fetch the list of COCO's data
archives, and the build must need no network, so every cocopp call here runs with socket
connections and name lookups refused; cocopp then falls back on its local files (the best-2009
reference data ships inside its package).
"""

import contextlib
import io
import socket
import time
import warnings
from pathlib import Path

import pandas as pd

from forwardgrad import coco, protocols

CLAIM_TARGET = 10.0  # the rules of the paper's (a)-(d) read success at f_opt + 10 here (see the chapter)
HIGH, LOW = 20, 2  # the dimensions (a)-(c) and (d) compare, as 100 and 2 in the benchmark chapter


def _refuse(*args, **kwargs):
    raise OSError("forwardgrad runs cocopp offline")


def offline(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with no network (connections and name lookups refused), cocopp's
    printing and warnings silenced (cocopp resets the warning filters itself, so its warnings
    are also kept off stderr, where the book's build would count them); returns its value."""
    saved = socket.socket.connect, socket.create_connection, socket.getaddrinfo
    socket.socket.connect = socket.create_connection = socket.getaddrinfo = _refuse
    try:
        with (warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()),
              contextlib.redirect_stderr(io.StringIO())):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    finally:
        socket.socket.connect, socket.create_connection, socket.getaddrinfo = saved


def _cocopp():
    import cocopp

    return cocopp


def compute(seed=0, jobs=1, steps_per_dim=coco.STEPS_PER_DIM, target_gap=CLAIM_TARGET):
    """The sweep and its wall time: ``(table, traces, seconds)``."""
    start = time.perf_counter()
    table, traces = coco.sweep(seed=seed, jobs=jobs, steps_per_dim=steps_per_dim, target_gap=target_gap)
    return table, traces, time.perf_counter() - start


def export(folder, table, traces):
    """Write the COCO folder (one sub-folder per solver); returns the solver folders, sorted."""
    return sorted(coco.write(folder, table, traces))


def _solver(folder):
    optimizer, gradient = Path(folder).name.rsplit("_", 1)
    return coco.solver_name(optimizer, gradient)


def cocopp_art(folders, target):
    """cocopp's aRT (``DataSet.detERT``) at precision ``target``: rows (dim, function), columns solvers."""
    cocopp = offline(_cocopp)
    rows = {}
    for folder in folders:
        for ds in offline(cocopp.pproc.DataSetList, str(folder)):
            rows.setdefault((ds.dim, f"bbob/f{ds.funcId}"), {})[_solver(folder)] = float(ds.detERT([target])[0])
    frame = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    frame.index.names = ["dim", "function"]
    return frame


def our_art(table, traces, target):
    """Our aRT (:func:`forwardgrad.protocols.art`, f-evaluation equivalents) at precision ``target``."""
    rows = {}
    for (d, function, optimizer, gradient), runs in table.groupby(["dim", "function", "optimizer", "gradient"]):
        evals, reached = coco.evaluations_to([traces[i] for i in runs.index], runs["cost_per_step"], target)
        rows.setdefault((d, function), {})[coco.solver_name(optimizer, gradient)] = protocols.art(evals, reached)
    frame = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    frame.index.names = ["dim", "function"]
    return frame


def cocopp_ecdf(folders, out):
    """cocopp's runtime ECDFs over all functions (``--rld-only``, one figure per dimension);
    returns the SVG files ``pprldmany_<d>D_noiselessall.svg`` by dimension."""
    cocopp = offline(_cocopp)
    cocopp.genericsettings.verbose = False
    offline(cocopp.main, " ".join(["--rld-only", "--no-rld-single-fcts", "-o", str(out)] + [str(f) for f in folders]))
    return {int(p.name.split("_")[1][:-1]): p for p in sorted(Path(out).rglob("pprldmany_*D_noiselessall.svg"))}


def export_root():
    """Where the chapter keeps its COCO folder: ``book/_build/html/_static/bbob`` during a build
    (beside ``$FORWARDGRAD_CACHE``, so the built book links to it), else a temporary folder."""
    import os
    import tempfile

    from forwardgrad import cache

    root = os.environ.get(cache.ENV)
    return Path(root).parent / "html" / "_static" / "bbob" if root else Path(tempfile.mkdtemp()) / "bbob"


def cocopp_ecdf_svgs(table, traces):
    """cocopp's runtime ECDF of every dimension, as SVG text by dimension (the runs written to a
    temporary COCO folder first; the figures are cached by the chapter, so a rerun needs no cocopp)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folders = export(Path(tmp) / "data", table, traces)
        files = cocopp_ecdf(folders, Path(tmp) / "ppdata")
        return {d: p.read_text() for d, p in files.items()}
