"""The book's chapters and their reference notebooks, shared by `make reference` and the nbval harness.

A chapter is a jupytext MyST notebook `book/<name>.md` (its front matter has a `kernelspec`).
Its reference notebook `tests/notebooks/<name>.ipynb` holds the outputs of one clean execution;
`pytest --nbval` re-executes the chapter and compares its fresh outputs with those (see
tests/conftest.py).

Regenerate references after an intended change of a chapter's outputs:

    make reference                      # every chapter
    make reference CHAPTERS=functions   # only book/functions.md

Go through make: it sets the environment the book build and nbval run with (FORWARDGRAD_CACHE,
OPENBLAS_NUM_THREADS), so the reference sees the same numbers and reuses the build's cached sweeps.

Images are dropped from the reference notebooks (nbval does not compare them, and they would
bloat the repository); their text/plain companion is kept and compared.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
REFERENCE_DIR = ROOT / "tests" / "notebooks"
SANITIZE_FILE = REFERENCE_DIR / "sanitize.cfg"
CELL_TIMEOUT = 1200  # seconds, as `execute.timeout` in book/_config.yml

# Output payloads that are never compared (nbval skips image/png and image/jpeg by itself).
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif", "application/pdf")
GLUE_PREFIX = "application/papermill.record/"
UNCOMPARED = IMAGE_MIMES + tuple(GLUE_PREFIX + m for m in IMAGE_MIMES)

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def is_chapter(path: Path) -> bool:
    """Is `path` a jupytext MyST notebook (front matter with a jupytext header and a kernelspec)?"""
    match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    return bool(match) and "kernelspec:" in match.group(1) and "jupytext:" in match.group(1)


def toc_files() -> list[str]:
    """The file names that book/_toc.yml lists (root first), in book order."""
    import yaml

    toc = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return files


def chapters() -> list[Path]:
    """Every executable chapter of the book, sorted by file name."""
    return sorted(p for p in BOOK.glob("*.md") if is_chapter(p))


def reference_path(chapter: Path) -> Path:
    return REFERENCE_DIR / f"{chapter.stem}.ipynb"


def orphan_references() -> list[Path]:
    """Reference notebooks whose chapter no longer exists."""
    names = {p.stem for p in chapters()}
    return sorted(p for p in REFERENCE_DIR.glob("*.ipynb") if p.stem not in names)


def read_chapter(chapter: Path):
    """The chapter as an nbformat v4 notebook without outputs."""
    import jupytext

    return jupytext.read(chapter, fmt="md:myst")


def kernel_manager(folder: str):
    """A manager for a kernel of this very Python environment (the one nbval starts), talking
    over IPC sockets in ``folder``.

    Over TCP, ipykernel 7 warns on every start that the loopback traffic is not encrypted; IPC
    sockets are files readable by this user only, so there is nothing to warn about.
    """
    from jupyter_client.manager import KernelManager
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    return KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager(),
                         transport="ipc", ip=str(Path(folder) / "kernel"))


def execute(nb, cwd: Path = BOOK, timeout: int = CELL_TIMEOUT):
    """Execute `nb` in a fresh kernel of this Python environment, in `cwd` (book/, as Jupyter Book does)."""
    import tempfile

    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="forwardgrad-kernel-") as folder:
        km = kernel_manager(folder)
        client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=False, record_timing=False,
                                resources={"metadata": {"path": str(cwd)}})
        try:
            client.execute()
        finally:
            # nbclient leaves a kernel it did not create running: stop it here.
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    return nb


def strip_images(nb):
    """Drop image payloads from the outputs (they are not compared); keep everything else."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data:
                for mime in [m for m in data if m in UNCOMPARED]:
                    del data[mime]
    return nb


def make_reference(chapter: Path) -> Path:
    import nbformat

    nb = execute(read_chapter(chapter))
    nb.metadata.pop("widgets", None)
    target = reference_path(chapter)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(strip_images(nb), target)
    return target


def _make_named_reference(name: str):
    print(f"  {name}: started", flush=True)
    start = time.perf_counter()
    target = make_reference(BOOK / f"{name}.md")
    return target, time.perf_counter() - start


def _report(result):
    target, seconds = result
    print(f"  {target.stem}: wrote {target.relative_to(ROOT)} in {seconds:.0f} s", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the reference notebooks of the book's chapters.")
    parser.add_argument("names", nargs="*", help="chapter names (book/<name>.md); default: every chapter")
    parser.add_argument("--jobs", type=int, default=1,
                        help="chapters executed at once; chapters that time themselves still run alone")
    args = parser.parse_args(argv)
    known = {p.stem: p for p in chapters()}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"not a chapter of the book: {', '.join(unknown)} (known: {', '.join(known)})", file=sys.stderr)
        return 2
    selected = list(args.names) or list(known)
    if args.jobs > 1:
        from execute_chapters import run_scheduled

        if not all(run_scheduled(selected, _make_named_reference, args.jobs, _report)):
            return 1
    else:
        for name in selected:
            _report(_make_named_reference(name))
    if not args.names:
        for orphan in orphan_references():
            orphan.unlink()
            print(f"  removed {orphan.relative_to(ROOT)}: its chapter is gone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
