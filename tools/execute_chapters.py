"""Execute the book's chapters two at a time into Jupyter Book's execution cache.

`jupyter-book build` executes the chapters one after the other, which leaves one of this
machine's two cores idle through every chapter that computes in a single process. `make book`
runs this script first: it executes the chapters listed in book/_toc.yml on two workers and stores
each executed notebook in the jupyter-cache that the build reads (book/_build/.jupyter_cache).
The build then finds every chapter in the cache, matched by the hash of its code cells, and
renders it without executing it again. Nothing is skipped: a chapter that this script could not
execute, or whose cache entry does not match, is executed by the build as usual, and a failing
cell still fails the build.

Chapters that time themselves (TIMED) run afterwards, alone, so that no other chapter shares the
machine while they measure. Two chapters that need the same long computation do not both compute
it: forwardgrad.cache.cached lets the second wait for the first one's result.

Usage: python tools/execute_chapters.py [--jobs 2] [--cache book/_build/.jupyter_cache]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import yaml
from reference_notebooks import BOOK, is_chapter, kernel_manager, toc_files

TIMEOUT = 1200  # seconds per cell, as execute.timeout in book/_config.yml

# Chapters that measure wall-clock time: run alone, after the others.
TIMED = ("autodiff", "cost", "zeroth_order", "digits")
# The longest chapters first, so that the two workers end together; the rest in book order.
# The audit starts with the benchmark: it waits for the benchmark's sweep (which keeps both cores
# busy on its own), then its own sweeps overlap with the shorter chapters instead of trailing them.
LONGEST = ("benchmark", "audit", "multi_tangent", "guided", "trajectories")


def toc_chapters() -> list[str]:
    """The chapters that book/_toc.yml lists, in book order (pages that are not notebooks left out)."""
    return [n for n in toc_files() if (BOOK / f"{n}.md").exists() and is_chapter(BOOK / f"{n}.md")]


def run_scheduled(names, work, jobs, done):
    """``done(work(name))`` for every chapter name, ``work`` in worker processes and ``done`` here.

    The chapters not in TIMED run on ``jobs`` workers, the longest first; then those in TIMED run
    one at a time. Returns the values of ``done`` in completion order (None for a chapter whose
    ``work`` raised).
    """
    shared = sorted((n for n in names if n not in TIMED),
                    key=lambda n: LONGEST.index(n) if n in LONGEST else len(LONGEST))
    alone = [n for n in names if n in TIMED]
    print(f"executing {len(shared)} chapters on {jobs} workers, then {len(alone)} alone", flush=True)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(work, n): n for n in shared}
        values = [_finish(futures[future], future.result, done) for future in as_completed(futures)]
    return values + [_finish(n, lambda n=n: work(n), done) for n in alone]


def _finish(name, result, done):
    """``done(result())``, or None after printing why ``result()`` raised: one failing chapter
    does not stop the others."""
    try:
        value = result()
    except Exception as err:  # a failing cell, a dead kernel: reported, and the run goes on
        print(f"  {name}: FAILED: {type(err).__name__}: {str(err).strip().splitlines()[-1][:300]}", flush=True)
        return None
    return done(value)


def read(name: str):
    """The chapter as myst-nb reads it for the build (the cache matches on this notebook's code)."""
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    config = yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))
    parse = config.get("parse", {})
    md_config = MdParserConfig(
        enable_extensions=set(parse.get("myst_enable_extensions", [])),
        dmath_double_inline=bool(parse.get("myst_dmath_double_inline", False)),
    )
    path = BOOK / f"{name}.md"
    return read_myst_markdown_notebook(path.read_text(encoding="utf-8"), config=md_config,
                                       add_source_map=True, path=str(path))


def execute(name: str):
    """Execute one chapter in book/ (the build's working directory): (name, notebook, seconds, error)."""
    import tempfile

    from jupyter_cache.executors.utils import single_nb_execution

    print(f"  {name}: started", flush=True)
    with tempfile.TemporaryDirectory(prefix="forwardgrad-kernel-") as folder:
        km = kernel_manager(folder)
        try:
            result = single_nb_execution(read(name), cwd=str(BOOK), timeout=TIMEOUT, allow_errors=False, km=km)
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    return name, result.nb, result.time, result.exc_string


def store(cache, name, nb, seconds, error) -> bool:
    """Put an executed chapter into the cache; report a failure and leave it to the build."""
    if error is not None:
        print(f"  {name}: FAILED after {seconds:.0f} s; the build will execute it again and report:\n"
              + error.strip().splitlines()[-1], flush=True)
        return False
    from jupyter_cache.base import CacheBundleIn

    cache.cache_notebook_bundle(CacheBundleIn(nb, str(BOOK / f"{name}.md"), data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)
    print(f"  {name}: finished in {seconds:.0f} s", flush=True)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="chapters executed at once (default 2)")
    parser.add_argument("--cache", default=str(BOOK / "_build" / ".jupyter_cache"),
                        help="the jupyter-cache folder the build reads")
    args = parser.parse_args()
    from jupyter_cache import get_cache

    cache = get_cache(args.cache)
    names = toc_chapters()
    started = time.perf_counter()
    stored = run_scheduled(names, execute, args.jobs, lambda result: store(cache, *result))
    failed = len(names) - sum(bool(s) for s in stored)
    print(f"executed {len(names)} chapters in {time.perf_counter() - started:.0f} s"
          + (f"; {failed} failed" if failed else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
