"""nbval harness: `pytest --nbval` re-executes every chapter of the book and compares its outputs.

How it works:

- nbval only reads `.ipynb` files, and compares nothing for a cell without a stored execution
  count. So, when `--nbval` (or `--nbval-lax`) is given, the folder `tests/notebooks/` is
  collected by `ChapterDirectory` below instead of pytest's default: for every chapter
  `book/<name>.md` (see tools/reference_notebooks.py) it yields one `ChapterNotebook`, whose cells
  are the chapter's current code (converted by jupytext) carrying the outputs and execution counts
  of the committed reference `tests/notebooks/<name>.ipynb`, merged with
  `jupytext.combine.combine_inputs_with_outputs`.
- Each cell then runs in a kernel of this environment started in `book/` (as Jupyter Book runs
  it) and nbval compares text outputs, HTML and glued values (`myst_nb.glue` writes them as
  `application/papermill.record/...` outputs) with the reference. Images are not compared.
- A chapter without a reference notebook fails with a message telling to run `make reference`;
  so does a code cell that matches no reference cell (new code), and a reference whose chapter is
  gone.
- Cells tagged `nbval-ignore-output` run but their outputs are not compared (follow them with an
  assertion cell); `nbval-skip` cells do not run; `raises-exception` cells may raise.
- Sanitizers in tests/notebooks/sanitize.cfg (memory addresses, timings) always apply, and a file
  given with `--nbval-sanitize-with` applies on top.
- Outputs are compared by tests/compare_outputs.py, not by string equality: decimal numbers match
  to a relative 1e-9 (the last digits of floating-point results depend on the CPU's BLAS kernel
  and SIMD width), while integers, words and everything else must be equal.

Without `--nbval` nothing here changes collection: `pytest tests` runs the unit tests only and
executes no notebook.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import pytest
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel
from nbval.plugin import (IPyNbCell, IPyNbFile, NbCellError, find_comment_markers, find_metadata_tags,
                          transform_streams_for_comparison)

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import compare_outputs  # noqa: E402
import reference_notebooks as refs  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--chapters", default=None,
                     help="with --nbval: only these chapters (comma-separated names of book/<name>.md)")


def _nbval_enabled(config) -> bool:
    return bool(config.getoption("nbval", False) or config.getoption("nbval_lax", False))


def pytest_collect_directory(path, parent):
    if _nbval_enabled(parent.config) and Path(path).resolve() == refs.REFERENCE_DIR:
        return ChapterDirectory.from_parent(parent, path=Path(path))
    return None


class ChapterDirectory(pytest.Directory):
    """tests/notebooks/ seen as the list of the book's chapters."""

    def collect(self):
        chosen = self.config.getoption("chapters")
        names = None if chosen is None else {n.strip() for n in chosen.split(",") if n.strip()}
        known = {chapter.stem for chapter in refs.chapters()}
        if names is not None and names - known:
            raise pytest.UsageError(f"--chapters: not a chapter of the book: {', '.join(sorted(names - known))}")
        for chapter in refs.chapters():
            if names is None or chapter.stem in names:
                yield ChapterNotebook.from_parent(self, path=refs.reference_path(chapter), chapter=chapter)
        if names is not None:
            return
        for orphan in refs.orphan_references():
            yield HarnessFailure.from_parent(
                self,
                name=orphan.name,
                message=(
                    f"{orphan.relative_to(refs.ROOT)} has no chapter book/{orphan.stem}.md: "
                    "delete it, or run `make reference` which removes it"
                ),
            )


class HarnessFailure(pytest.Item):
    """An item that fails with a plain message (missing or stale reference)."""

    def __init__(self, *, message: str, **kwargs):
        super().__init__(**kwargs)
        self.message = message

    def runtest(self):
        raise HarnessError(self.message)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, HarnessError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, self.name


class HarnessError(Exception):
    pass


class ChapterNotebook(IPyNbFile):
    """One chapter: its current code with the reference outputs, run in one kernel in book/."""

    def __init__(self, *args, chapter: Path, **kwargs):
        super().__init__(*args, **kwargs)
        self.chapter = chapter
        self.skip_compare = tuple(dict.fromkeys(self.skip_compare + refs.UNCOMPARED))

    def _merged_notebook(self):
        import nbformat
        from jupytext.combine import combine_inputs_with_outputs

        source = refs.read_chapter(self.chapter)
        reference = nbformat.read(str(self.path), as_version=4)
        return combine_inputs_with_outputs(source, reference, fmt="md:myst")

    def collect(self):
        rel = self.chapter.relative_to(refs.ROOT)
        if not self.path.is_file():
            yield HarnessFailure.from_parent(
                self,
                name="reference",
                message=(
                    f"no reference notebook {self.path.relative_to(refs.ROOT)} for {rel}: run "
                    f"`make reference CHAPTERS={self.chapter.stem}` and commit the notebook"
                ),
            )
            return
        self.nb = self._merged_notebook()
        cell_num = 0
        for cell in self.nb.cells:
            if cell.cell_type != "code":
                continue
            options = defaultdict(bool, find_metadata_tags(cell.metadata))
            options.update(dict(find_comment_markers(cell.source)))
            options.setdefault("check", self.compare_outputs)
            yield ChapterCell.from_parent(
                self, name=f"Cell {cell_num}", cell_num=cell_num, cell=cell, options=options
            )
            cell_num += 1

    def setup(self):
        # A kernel of this very environment (not whatever `python3` kernelspec is installed),
        # working in book/ as Jupyter Book's execution does.
        self.kernel = RunningKernel(
            CURRENT_ENV_KERNEL_NAME,
            cwd=str(refs.BOOK),
            startup_timeout=self.config.option.nbval_kernel_startup_timeout,
        )
        self.setup_sanitize_files()

    def get_sanitize_files(self):
        files = [str(refs.SANITIZE_FILE)] if refs.SANITIZE_FILE.is_file() else []
        return files + super().get_sanitize_files()


class ChapterCell(IPyNbCell):
    def runtest(self):
        unmatched = self.cell.execution_count is None and not self.options["skip"]
        # nbval runs a cell without reference execution count but compares nothing: run it so
        # that the following cells see its effects, then fail.
        super().runtest()
        if unmatched:
            raise NbCellError(
                self.cell_num,
                f"this cell of {self.parent.chapter.relative_to(refs.ROOT)} matches no cell of "
                "the reference notebook (new or rewritten code): run `make reference` if the "
                "change is intended",
                self.cell.source,
            )

    def reportinfo(self):
        rel = self.parent.chapter.relative_to(refs.ROOT)
        return self.path, 0, f"{rel}::Cell {self.cell_num}"

    def compare_outputs(self, test, ref, skip_compare=None):
        """nbval's comparison with :func:`compare_outputs.same_output` in place of ``==``.

        As in nbval, the outputs are grouped by key (each MIME type of ``data`` on its own, the
        other fields as they are) so that their relative order does not matter, and a key present
        on one side only, or a different number of outputs for a key, is a failure.
        """
        skip = skip_compare or self.parent.skip_compare
        grouped = []
        for outputs in (transform_streams_for_comparison(ref), transform_streams_for_comparison(test)):
            by_key = defaultdict(list)
            for output in outputs:
                for key, value in output.items():
                    if key in skip:
                        continue
                    if key == "data":
                        for mime, payload in value.items():
                            if mime not in skip:
                                by_key[mime].append(self.sanitize(payload))
                    else:
                        by_key[key].append(self.sanitize(value))
            grouped.append(by_key)
        reference, fresh = grouped
        self.comparison_traceback = []
        if set(reference) != set(fresh):
            missing, extra = set(reference) - set(fresh), set(fresh) - set(reference)
            self.comparison_traceback.append(
                f"output fields missing from the fresh run: {sorted(missing)}; unexpected: {sorted(extra)}")
            return False
        for key, ref_values in reference.items():
            if len(ref_values) != len(fresh[key]):
                self.comparison_traceback.append(
                    f"{len(ref_values)} outputs {key!r} in the reference, {len(fresh[key])} in the fresh run")
                return False
            for ref_value, new_value in zip(ref_values, fresh[key]):
                if not compare_outputs.same_output(ref_value, new_value):
                    self.format_output_compare(key, ref_value, new_value)
                    if isinstance(ref_value, str) and isinstance(new_value, str):
                        why = compare_outputs.first_difference(ref_value, new_value)
                        self.comparison_traceback.append(f"  first difference: {why}")
                    return False
        return True
