r"""The result table of a sweep on disk: columns, sidecar, resumable parts, load and validate.

A sweep writes three kinds of files next to ``out`` (a ``.csv`` path):

- ``out`` itself: the tidy table, one row per run (columns :data:`COLUMNS`);
- its *sidecar* ``out`` with the suffix ``.json``: the configuration that determines the table
  (protocol, seed, engine, chunks, ...), its SHA-256 *fingerprint*, the number of runs, the
  SHA-256 of the CSV file, versions, commit and timing;
- while unfinished, the folder ``<out>.parts/``: ``config.json`` (the fingerprint) and, per
  finished chunk, ``<function>-d<dim>.csv`` with its own ``.json`` (row count, CSV digest,
  fingerprint).

Every file is written to a temporary name and renamed, and a pair is written data first, record
last: a part's ``.json`` after its CSV, the sidecar after the final CSV. A crash therefore leaves
either no record, or a record that still describes its data; a record whose counts or digest do
not match its data is never trusted. :func:`validate` checks a table's schema and invariants;
:func:`load` uses it, and so does every reader of a table.
"""

import datetime
import hashlib
import json
import os
import platform
import shutil
import subprocess
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from forwardgrad import descent, plugins, protocols
from forwardgrad.protocols import LADDER_EXPONENTS, RUNG_COLUMNS, BenchmarkError, rung_column

FORMAT = "forwardgrad-benchmark/2"

COLUMNS = {
    "protocol": "protocol name (paper, as-coded, honest)",
    "engine": "AD engine that produced the row (jax or autograd)",
    "function": "test function name",
    "dim": "dimension d",
    "optimizer": "optimizer name",
    "gradient": "gradient oracle: true, forward, projected, guided or fd",
    "tangent": "tangent law of a stochastic oracle ('none' for true gradients; guided draws N(0, Sigma))",
    "start": "index of the starting point (shared by every optimizer)",
    "repeat": "index of the repeat from that start",
    "seed": "master seed; the streams derive from (seed, function, dim, role)",
    "lr": "learning rate",
    "max_steps": "budget: the most updates a run may make",
    "f_star": "the minimum value f* from the literature",
    "target_gap": "the fixed target is f* + target_gap",
    "target": "f* + target_gap, the target of hit and success",
    "stop_target": "the run stops once f <= stop_target",
    "status": "solved (reached stop_target), budget, or diverged",
    "success": "the protocol's verdict for the fixed target",
    "hit": "updates made before f <= target for the first time (NaN if never)",
    "steps": "updates made in total",
    "oracle_calls": "gradient evaluations used by those updates",
    "f_start": "f at the starting point",
    "f_best": "lowest f seen",
    "f_final": "f at the last iterate",
    **{rung_column(k): f"first step with f <= f* + 1e{k} (NaN: never, or not measured)" for k in LADDER_EXPONENTS},
}

TEXT_COLUMNS = ("protocol", "engine", "function", "optimizer", "gradient", "tangent", "status")
KEYS = ("protocol", "engine", "function", "dim", "optimizer", "gradient", "tangent", "start", "repeat")
REQUIRED = ("protocol", "engine", "function", "dim", "optimizer", "gradient", "tangent", "start",
            "repeat", "f_star", "target_gap", "stop_target", "status", "success", "hit", "steps",
            "f_start", "f_final", "max_steps") + RUNG_COLUMNS
COUNT_COLUMNS = ("dim", "start", "repeat", "steps", "max_steps")


# ---------------------------------------------------------------------------------------------
# Paths


def sidecar_path(out):
    """The JSON sidecar of a result CSV: same stem, ``.json``."""
    return Path(out).with_suffix(".json")


def parts_dir(out):
    """The folder of finished chunks of an unfinished sweep: ``<out>.parts/``."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def part_path(parts, chunk):
    """The CSV of one finished chunk in the parts folder."""
    return Path(parts) / f"{chunk.function}-d{chunk.dim}.csv"


def check_output(out):
    """Refuse an output path that cannot be written, before anything is computed.

    ``out`` must end in ``.csv``; neither it, its sidecar nor its parts folder may be of the wrong
    kind (a folder named ``x.csv``, a file named ``x.csv.parts``), and its folder must exist or be
    creatable. Returns ``out`` as a Path.
    """
    out = Path(out)
    if out.suffix != ".csv":
        raise BenchmarkError(f"the output must be a .csv file, got {str(out)!r}")
    for path, kind in ((out, "file"), (sidecar_path(out), "file"), (parts_dir(out), "folder")):
        if path.exists() and (path.is_dir() if kind == "file" else not path.is_dir()):
            raise BenchmarkError(f"{path} exists and is not a {kind}; choose another --out")
    parent = out.parent
    if parent.exists() and not parent.is_dir():
        raise BenchmarkError(f"{parent} is not a folder")
    if not os.access(parent if parent.exists() else _existing_ancestor(parent), os.W_OK):
        raise BenchmarkError(f"cannot write into {parent}")
    return out


def _existing_ancestor(path):
    while not path.exists():
        path = path.parent
    return path


# ---------------------------------------------------------------------------------------------
# Configuration and digests


def configuration(p, sweep_plan, *, seed, engine, custom=()):
    """The configuration that determines a table: what the sidecar and the resume check hold.

    With plugins (:mod:`forwardgrad.plugins`), ``"plugins"`` lists each one's name, kind, import
    path and source digest, so an edited plugin makes another configuration."""
    entries = protocols.plugin_entries(p)
    extra = {"plugins": [plugins.describe(e) for e in entries]} if entries else {}
    return {
        **extra,
        "custom_functions": sorted(custom),
        "format": FORMAT,
        "protocol": protocols.as_dict(p),
        "seed": int(seed),
        "engine": engine,
        "chunks": [[c.function, c.dim] for c in sweep_plan.chunks],
        "skipped": list(sweep_plan.skipped),
        "measured_rungs": list(protocols.measured_rungs(p.ladder, p.stop_gap)),
    }


def fingerprint(config):
    """SHA-256 of the configuration (keys sorted)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def file_digest(path):
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path, write):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path, record):
    """Write a JSON record atomically."""
    _atomic_write(path, lambda tmp: tmp.write_text(json.dumps(record, indent=1)))


def write_csv(path, table):
    """Write a table as CSV atomically."""
    _atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def read_json(path):
    """A JSON record, or None when the file is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def read_csv(path):
    """A result CSV read as the sweep wrote it (empty strings and ``NaN`` are missing values)."""
    return pd.read_csv(path, keep_default_na=False, na_values=["", "NaN", "nan"])


# ---------------------------------------------------------------------------------------------
# Parts of an unfinished sweep


def open_parts(out, config):
    """The parts folder of ``out`` for ``config``, created when missing; :class:`BenchmarkError`
    when it holds chunks of another configuration."""
    parts = parts_dir(out)
    stamp = parts / "config.json"
    digest = fingerprint(config)
    if parts.exists():
        previous = (read_json(stamp) or {}).get("fingerprint")
        if previous is not None and previous != digest:
            raise BenchmarkError(f"{parts}/ holds chunks of a sweep with another configuration; "
                                 "remove it or choose another --out")
    parts.mkdir(parents=True, exist_ok=True)
    if not stamp.exists():
        write_json(stamp, {"fingerprint": digest, **config})
    return parts


def write_part(parts, chunk, table, config):
    """Store one finished chunk: its CSV, then its record (rows, digest, fingerprint)."""
    path = part_path(parts, chunk)
    write_csv(path, table)
    write_json(path.with_suffix(".json"), {"rows": len(table), "sha256": file_digest(path),
                                           "fingerprint": fingerprint(config)})


def read_part(parts, chunk, config, rows):
    """A finished chunk's table, or None when it must be computed (again).

    A part counts only when its record exists, names this configuration, and agrees with its CSV
    (digest) and with the chunk's expected number of ``rows``; anything else (a part cut short,
    emptied, edited, or left by a crash before its record) is deleted and recomputed.
    """
    path = part_path(parts, chunk)
    record = read_json(path.with_suffix(".json"))
    valid = (record is not None and path.is_file() and record.get("fingerprint") == fingerprint(config)
             and record.get("rows") == rows and record.get("sha256") == file_digest(path))
    if valid:
        table = read_csv(path)
        if len(table) == rows:
            return table
    path.unlink(missing_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)
    return None


# ---------------------------------------------------------------------------------------------
# The finished table


def finished(out, config):
    """Whether ``out`` holds the finished table of ``config``.

    Returns ``"reused"`` when its sidecar names ``config`` and agrees with the CSV (run count and
    digest), ``None`` when there is no finished table, and raises :class:`BenchmarkError` when
    ``out`` holds a table of another configuration or a CSV its sidecar does not describe (a
    truncated or edited file): the caller decides whether to overwrite.
    """
    out = Path(out)
    side = read_json(sidecar_path(out))
    if not out.exists():
        return None
    if side is None:
        raise BenchmarkError(f"{out} exists without its sidecar {sidecar_path(out).name}: it is not a finished "
                             "sweep; remove it, choose another --out, or give --overwrite")
    if side.get("fingerprint") != fingerprint(config):
        raise BenchmarkError(f"{out} holds the results of another configuration; choose another --out, or "
                             "give --overwrite to replace them")
    if side.get("sha256") != file_digest(out) or side.get("runs") != len(read_csv(out)):
        raise BenchmarkError(f"{out} does not match its sidecar (runs or checksum differ: cut or edited?); "
                             "remove it, or give --overwrite to compute it again")
    return "reused"


def versions():
    """Versions of Python and of the packages a table depends on."""
    out = {"python": platform.python_version()}
    for package in ("forwardgrad", "numpy", "scipy", "pandas", "autograd", "jax", "jaxlib", "joblib"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def git_commit():
    """The commit of the package's checkout, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def finish(out, table, config, timing):
    """Write the CSV, then its sidecar (each atomically), then drop the parts folder."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(out, table)
    write_json(sidecar_path(out), {
        **config,
        "fingerprint": fingerprint(config),
        "complete": True,
        "runs": len(table),
        "sha256": file_digest(out),
        "columns": COLUMNS,
        "versions": versions(),
        "git_commit": git_commit(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "timing": timing,
    })
    shutil.rmtree(parts_dir(out), ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Reading and validating


def validate(table, name="the table"):
    """Check a result table's schema and invariants; return it with normalised types.

    Raises :class:`BenchmarkError` naming the first problem: a missing column, non-numeric values,
    no rows, a ``success`` that is not True/False, an unknown ``status``, a non-finite ``f_star``,
    a count (dim, start, repeat, steps) that is negative or not whole, more steps than the
    budget, runs of several engines or protocols, a run that appears twice, or a grid with a hole
    (a solver with fewer runs than another on the same (function, dim), as a table cut at a row
    boundary has).
    """
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
        raise BenchmarkError(f"{name} is not a forwardgrad benchmark table (missing columns: {shown})")
    if table.empty:
        raise BenchmarkError(f"{name} holds no runs")
    table = table.copy()
    numeric = [c for c in table.columns if c in COLUMNS and c not in TEXT_COLUMNS and c != "success"]
    try:
        table[numeric] = table[numeric].apply(pd.to_numeric)
    except (ValueError, TypeError):
        raise BenchmarkError(f"{name} has non-numeric values in numeric columns") from None
    success = table["success"].astype(str).str.lower().map({"true": True, "false": False})
    if success.isna().any():
        raise BenchmarkError(f"{name} has a success column that is not True/False")
    table["success"] = success.astype(bool)
    for column in TEXT_COLUMNS:
        table[column] = table[column].astype(str)
    unknown = set(table["status"]) - set(descent.STATUSES[1:])
    if unknown:
        raise BenchmarkError(f"{name} has unknown statuses {sorted(unknown)}")
    if not np.isfinite(table["f_star"].to_numpy(dtype=float)).all():
        raise BenchmarkError(f"{name} has a non-finite f_star")
    for column in COUNT_COLUMNS:
        values = table[column].to_numpy(dtype=float)
        if not (np.isfinite(values).all() and (values >= 0).all() and (values == np.round(values)).all()):
            raise BenchmarkError(f"{name} has a {column} that is not a whole number >= 0")
    if (table["steps"] > table["max_steps"]).any():
        raise BenchmarkError(f"{name} has runs with more steps than their budget")
    for column in ("engine", "protocol"):
        if table[column].nunique() > 1:
            raise BenchmarkError(f"{name} mixes {column}s: {', '.join(sorted(table[column].unique()))}")
    if table.duplicated(list(KEYS)).any():
        raise BenchmarkError(f"{name} holds the same run twice")
    solver = ["optimizer", "gradient", "tangent"]
    n_solvers = table[solver].drop_duplicates().shape[0]
    per_chunk = table.groupby(["function", "dim"])
    repeats = table.groupby(["function", "dim", *solver, "start"]).size().rename("repeats").reset_index()
    starts = repeats.groupby(["function", "dim", *solver])["start"].agg(frozenset)
    if ((per_chunk[solver].apply(lambda g: g.drop_duplicates().shape[0]) != n_solvers).any()
            or (starts.groupby(level=["function", "dim"]).nunique() > 1).any()
            or (repeats.groupby(solver)["repeats"].nunique() > 1).any()):
        raise BenchmarkError(f"{name} has an incomplete grid: every (function, dim) needs every solver with the "
                             "same starts and repeats (a cut file?)")
    return table


def load(path, *, sidecar=True):
    """Read and :func:`validate` a result table written by a sweep.

    With ``sidecar`` (the default), a sidecar next to the CSV must agree with it (run count and
    digest), else :class:`BenchmarkError`; a missing sidecar gives a ``UserWarning``.
    """
    path = Path(path)
    try:
        table = read_csv(path)
    except FileNotFoundError:
        raise BenchmarkError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise BenchmarkError(f"{path} is a folder, not a CSV table") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise BenchmarkError(f"cannot read {path} as a CSV table: {type(err).__name__}") from None
    side = read_json(sidecar_path(path)) if sidecar else None
    if side is not None and (side.get("runs") != len(table) or side.get("sha256") not in (None, file_digest(path))):
        raise BenchmarkError(f"{path} does not match its sidecar {sidecar_path(path).name} "
                             f"({len(table)} runs, the sidecar says {side.get('runs')}; cut or edited?)")
    table = validate(table, str(path))
    if sidecar and side is None:
        warnings.warn(f"{path} has no sidecar {sidecar_path(path).name}: its configuration is unknown",
                      UserWarning, stacklevel=2)
    return table
