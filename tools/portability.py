"""Run the nbval pass of the book under the settings that change floating-point paths.

A reference notebook must not encode the machine it was made on. This script re-executes every
chapter against its committed reference (``pytest --nbval tests/notebooks``) once per setting,
each in a fresh ``FORWARDGRAD_CACHE`` folder so that the long sweeps are computed again under it,
and prints one line per setting:

- ``default``: the machine as it is;
- ``openblas-haswell``, ``openblas-skylakex``: OpenBLAS's kernel forced (``OPENBLAS_CORETYPE``);
- ``blas-1-thread``: one BLAS thread (``OPENBLAS_NUM_THREADS=1``);
- ``numpy-no-avx512``: NumPy's AVX-512 code paths disabled (``NPY_DISABLE_CPU_FEATURES``, with
  the features NumPy found above AVX2 on this machine);
- ``jobs-1``: the chapters' sweeps in one process (``FORWARDGRAD_JOBS=1``) instead of two;
- ``xla-avx2``: XLA's CPU code generation capped at AVX2 (``XLA_FLAGS=--xla_cpu_max_isa=AVX2``).

These variables are set here, for a check, and nowhere else: the build and the tests run with
whatever the machine gives. Not part of ``make test``; run it with ``make portability``.

The chapters of one setting run in two pytest processes at once (the two halves of
:data:`GROUPS`), which share the setting's cache, so that the paper sweep is computed once.

Usage: python tools/portability.py [--settings default,jobs-1] [--chapters a,b] [--log-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The two halves of the book, by cost: the paper sweep and its audit, and everything else.
GROUPS = (("benchmark", "audit"), None)
SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors|skipped)")


def avx512_features():
    """The NumPy dispatch targets found on this CPU above AVX2 (empty when there are none)."""
    code = ("from numpy._core._multiarray_umath import __cpu_dispatch__ as d, __cpu_features__ as f;"
            "print(' '.join(t for t in d if f.get(t) and t not in ('X86_V2', 'X86_V3')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


def settings():
    """Setting name -> the environment variables it sets (None: the feature is not on this CPU)."""
    avx512 = avx512_features()
    return {
        "default": {},
        "openblas-haswell": {"OPENBLAS_CORETYPE": "Haswell"},
        "openblas-skylakex": {"OPENBLAS_CORETYPE": "SkylakeX"},
        "blas-1-thread": {"OPENBLAS_NUM_THREADS": "1"},
        "numpy-no-avx512": {"NPY_DISABLE_CPU_FEATURES": " ".join(avx512)} if avx512 else None,
        "jobs-1": {"FORWARDGRAD_JOBS": "1"},
        "xla-avx2": {"XLA_FLAGS": "--xla_cpu_max_isa=AVX2"},
    }


def chapter_names():
    sys.path.insert(0, str(ROOT / "tools"))
    import reference_notebooks

    return [p.stem for p in reference_notebooks.chapters()]


def split(names):
    """The chapters in two groups of about equal cost (see :data:`GROUPS`)."""
    first = [n for n in names if n in GROUPS[0]]
    rest = [n for n in names if n not in GROUPS[0]]
    return [g for g in (first, rest) if g]


def run_setting(name, env_changes, names, log_dir):
    """Run the nbval pass of ``names`` under one setting; return (counts, seconds, log files)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS",
                                                          "NPY_DISABLE_CPU_FEATURES", "FORWARDGRAD_JOBS",
                                                          "XLA_FLAGS")}
    env.update(env_changes)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"portability-{name}-") as cache:
        env["FORWARDGRAD_CACHE"] = cache
        procs, logs = [], []
        for i, group in enumerate(split(names)):
            log = Path(log_dir) / f"{name}-{i + 1}.log"
            logs.append(log)
            command = [sys.executable, "-m", "pytest", "--nbval", "tests/notebooks", "-q", "-p",
                       "no:cacheprovider", f"--chapters={','.join(group)}"]
            with open(log, "w") as handle:
                procs.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle,
                                              stderr=subprocess.STDOUT))
        for proc in procs:
            proc.wait()
    counts = {}
    for log in logs:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        for number, word in SUMMARY.findall(tail[0]):
            word = "error" if word.startswith("error") else word
            counts[word] = counts.get(word, 0) + int(number)
    if not counts:
        counts["error"] = 1
    return counts, time.perf_counter() - started, logs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", help="comma-separated setting names (default: all)")
    parser.add_argument("--chapters", help="comma-separated chapter names (default: all)")
    parser.add_argument("--log-dir", default=str(ROOT / "book" / "_build" / "portability"),
                        help="where each setting's pytest log goes")
    args = parser.parse_args(argv)
    known = settings()
    chosen = args.settings.split(",") if args.settings else list(known)
    unknown = [s for s in chosen if s not in known]
    if unknown:
        print(f"portability: unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    names = chapter_names()
    if args.chapters:
        wanted = [n.strip() for n in args.chapters.split(",") if n.strip()]
        missing = [n for n in wanted if n not in names]
        if missing:
            print(f"portability: not a chapter: {', '.join(missing)}", file=sys.stderr)
            return 2
        names = wanted
    Path(args.log_dir).mkdir(parents=True, exist_ok=True)
    print(f"portability: {len(names)} chapters under {len(chosen)} settings; logs in {args.log_dir}", flush=True)
    failed = False
    for name in chosen:
        if known[name] is None:
            print(f"{name:18s} skipped: the CPU has no such feature", flush=True)
            continue
        counts, seconds, logs = run_setting(name, known[name], names, args.log_dir)
        ok = not counts.get("failed") and not counts.get("error") and counts.get("passed")
        failed |= not ok
        shown = " ".join(f"{k}={v}" for k, v in sorted(known[name].items())) or "(machine as it is)"
        result = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        print(f"{name:18s} {'PASS' if ok else 'FAIL'}  {result:24s} {seconds / 60:5.1f} min  {shown}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
