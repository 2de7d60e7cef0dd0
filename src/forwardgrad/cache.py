"""An on-disk memo for the book's expensive computations, alive within one build only.

``make book`` executes every chapter and ``make test`` re-executes them under nbval; both set
``FORWARDGRAD_CACHE`` to a folder under ``book/_build/``, so a long sweep computed by the first
run is read back by the second. Without the variable nothing is cached. The key hashes the
computation's name, its parameters and the source of the package itself, so a change to either
recomputes; ``make book`` deletes ``book/_build`` first, so a clean build recomputes everything.
"""

import fcntl
import functools
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

ENV = "FORWARDGRAD_CACHE"
JOBS_ENV = "FORWARDGRAD_JOBS"


def jobs(default=2):
    """The worker processes a chapter's sweeps use: ``$FORWARDGRAD_JOBS``, else ``default``.

    The book's results do not depend on it (a sweep's table is the same for any number of jobs);
    ``tools/portability.py`` sets it to 1 to check exactly that.
    """
    value = os.environ.get(JOBS_ENV, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{JOBS_ENV} must be a positive integer, got {value!r}")
    return int(value)


@functools.lru_cache(maxsize=1)
def source_digest():
    """SHA-256 of every Python file of the installed package, in a fixed order."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cached(name, compute, **params):
    """``compute(**params)``, memoised on disk under ``$FORWARDGRAD_CACHE`` when it is set.

    ``params`` must be picklable (numbers, strings, tuples, arrays); the result must be picklable.
    The file is written to a temporary name and renamed, so an interrupted run leaves no entry.
    """
    root = os.environ.get(ENV)
    if not root:
        return compute(**params)
    key = hashlib.sha256(pickle.dumps((name, sorted(params.items()), source_digest()), protocol=4))
    path = Path(root) / f"{name}-{key.hexdigest()[:20]}.pkl"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Chapters may execute in parallel (tools/execute_chapters.py): a second caller of the same
    # computation waits for the first one's result instead of computing it again.
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            with open(path, "rb") as handle:
                return pickle.load(handle)
        value = compute(**params)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as handle:
            pickle.dump(value, handle, protocol=4)
        os.replace(handle.name, path)
    return value
