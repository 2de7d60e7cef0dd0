"""Fast checks of the book's frame, run with the unit tests (no notebook is executed here).

They catch in seconds what the full build (`make book`) would only report after executing every
chapter: a table of contents naming a missing file, a chapter left out of it, a citation key
missing from references.bib, a claims-ledger row pasting a key that its chapter never glues.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import browser_check
import reference_notebooks as refs

BOOK = refs.BOOK
PAPER_KEYS = {
    # the paper itself and its reference list [1]-[18]
    "belouze2022", "bach2016", "balles2018dissecting", "baydin2018survey", "baydin2022gradients",
    "beiranvand2017best", "defossez2020", "jamil2013test", "jamil2013literature", "kingma2014adam",
    "kochenderfer2019", "maclaurin2015autograd", "margossian2019", "moulines2011", "nesterov1983",
    "robbins1951", "thevenot2022", "wengert1964", "yang2010test", "zhuang2020adabelief",
    # benchmarking methodology used by the experiments
    "dolan2002benchmarking", "more2009benchmarking", "hansen2021coco",
}
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
PASTE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`:]+\.md)::([A-Za-z0-9_]+)(?::[^`]*)?`")


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,\s]+),", (BOOK / "references.bib").read_text(), re.MULTILINE))


def pages() -> list:
    return sorted(BOOK.glob("*.md"))


def test_toc_names_existing_pages():
    missing = [f for f in refs.toc_files() if not (BOOK / f"{f}.md").is_file()]
    assert not missing, f"_toc.yml lists pages that do not exist in book/: {missing}"


def test_every_chapter_is_in_the_toc():
    # only_build_toc_files: a chapter left out of _toc.yml is never built nor checked in a browser.
    listed = set(refs.toc_files())
    left_out = [p.name for p in refs.chapters() if p.stem not in listed]
    assert not left_out, f"chapters missing from book/_toc.yml: {left_out}"


def test_no_notebook_files_in_book():
    # A converted .ipynb next to its .md is a second page with the same name, which breaks -W.
    stray = [p.name for p in BOOK.glob("*.ipynb")]
    assert not stray, f"keep converted notebooks out of book/: {stray}"


@pytest.mark.parametrize("chapter", refs.chapters(), ids=lambda p: p.stem)
def test_chapter_has_the_jupytext_myst_header(chapter):
    nb = refs.read_chapter(chapter)
    header = nb.metadata.get("jupytext", {}).get("text_representation", {})
    assert header.get("format_name") == "myst" and header.get("extension") == ".md"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_bibliography_holds_the_papers_references():
    missing = PAPER_KEYS - bib_keys()
    assert not missing, f"references.bib lacks {sorted(missing)}"


def test_bibliography_keys_are_unique():
    keys = re.findall(r"^@\w+\{([^,\s]+),", (BOOK / "references.bib").read_text(), re.MULTILINE)
    assert len(keys) == len(set(keys))


def test_every_citation_is_in_the_bibliography():
    known = bib_keys()
    unknown = {
        (page.name, key.strip())
        for page in pages()
        for group in CITE.findall(page.read_text())
        for key in group.split(",")
        if key.strip() not in known
    }
    assert not unknown, f"cited keys missing from references.bib: {sorted(unknown)}"


def glued_key_patterns(source):
    """A regular expression per `glue(...)` key in a chapter; an f-string's `{...}` matches a word."""
    patterns = []
    for prefix, key in re.findall(r"glue\(\s*(f?)[\"']([^\"']+)[\"']", source.read_text()):
        parts = re.split(r"\{[^}]*\}", key) if prefix else [key]
        patterns.append(r"\w+".join(re.escape(part) for part in parts))
    return patterns


def reference_glue(chapter):
    """The names glued in the committed reference notebook of a chapter (empty set if none)."""
    path = refs.REFERENCE_DIR / f"{chapter}.ipynb"
    if not path.is_file():
        return set()
    cells = json.loads(path.read_text())["cells"]
    return {output["metadata"]["scrapbook"]["name"] for cell in cells for output in cell.get("outputs", [])
            if "scrapbook" in output.get("metadata", {})}


def reference_value(chapter, key):
    """The text of a glued value in the committed reference notebook of a chapter (None if absent)."""
    path = refs.REFERENCE_DIR / f"{chapter}.ipynb"
    if not path.is_file():
        return None
    for cell in json.loads(path.read_text())["cells"]:
        for output in cell.get("outputs", []):
            if output.get("metadata", {}).get("scrapbook", {}).get("name") == key:
                text = output["data"].get("application/papermill.record/text/plain", "")
                return text.strip("'\"")
    return None


def test_ledger_pastes_only_keys_its_chapters_glue():
    # `{glue:text}`chapter.md::key:s`` needs `glue("key", ...)` in that chapter, or the build fails.
    pasted = PASTE.findall((BOOK / "intro.md").read_text())
    assert pasted, "the claims ledger in intro.md pastes no glued value"
    problems = []
    for doc, key in pasted:
        source = BOOK / doc
        if not source.is_file():
            problems.append(f"{doc} does not exist (key {key})")
        elif not any(re.fullmatch(pattern, key) for pattern in glued_key_patterns(source)):
            problems.append(f"{doc} never glues {key!r}")
        elif key not in reference_glue(source.stem):
            problems.append(f"the reference notebook of {doc} has no glued {key!r} (run `make reference`)")
        elif not key.startswith(source.stem + "_"):
            problems.append(f"{key!r} does not follow the <chapter>_verdict_/<chapter>_value_ convention")
    assert not problems, "\n".join(problems)


def test_ledger_rows_pair_a_verdict_with_a_value():
    keys = {key for _, key in PASTE.findall((BOOK / "intro.md").read_text())}
    verdicts = {k.replace("_verdict_", "_value_", 1) for k in keys if "_verdict_" in k}
    values = {k for k in keys if "_value_" in k}
    assert verdicts == values


PASTED_FIGURE = re.compile(r"```\{pasted-figure\} (\w+)\n:doc: ([\w.]+\.md)\n")


def test_pasted_figures_are_shown_by_the_chapter_that_glues_them():
    # book/_ext/reader.py's pasted-figure: the image file exists only if the chapter renders the
    # same key itself with glue:figure, and the key must be in its reference notebook.
    pasted = PASTED_FIGURE.findall((BOOK / "intro.md").read_text())
    assert pasted, "the landing page pastes no figure"
    problems = []
    for key, doc in pasted:
        text = (BOOK / doc).read_text() if (BOOK / doc).is_file() else ""
        if f"```{{glue:figure}} {key}\n" not in text:
            problems.append(f"{doc} does not show {key!r} with glue:figure")
        elif key not in reference_glue(Path(doc).stem):
            problems.append(f"the reference notebook of {doc} has no glued {key!r} (run `make reference`)")
    assert not problems, "\n".join(problems)


def test_link_resolution_of_the_browser_check(tmp_path):
    (tmp_path / "a.html").write_text('<h1 id="top">A</h1><a name="old"></a>')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "index.html").write_text("<p>sub</p>")
    base = "http://127.0.0.1:8000/"
    links = [
        ["a.html#top", base + "a.html#top"],
        ["a.html#old", base + "a.html#old"],
        ["sub/", base + "sub/"],
        ["https://doi.org/x", "https://doi.org/x"],
        ["mailto:x@y", "mailto:x@y"],
        ["b.html", base + "b.html"],
        ["a.html#nowhere", base + "a.html#nowhere"],
    ]
    problems = browser_check.check_links(tmp_path, base, links)
    assert len(problems) == 2
    assert "b.html" in problems[0] and "nowhere" in problems[1]


# --- no typed results in prose --------------------------------------------------------------
# A number a reader sees about a result is glued. What looks like a typed result: a decimal, a
# percentage, or a number after a word of approximation. Prose is what a chapter's markdown shows
# outside code cells, math, roles ({glue:text}, {cite}, ...), inline code and link targets.
RESULT_LIKE = re.compile(r"\d+(?:\.\d+)?\s?%|(?<![\w.])\d+\.\d+(?![\w.])|"
                         r"\b(?:about|approximately|roughly|nearly|around|almost)\s+\d[\d,.]*|[≈~]\s*\d[\d,.]*")
ALLOWED_NUMBERS = re.compile(
    r"§\s?\d+(?:\.\d+)*"  # section numbers
    r"|\b(?:[Ss]ections?|Fig(?:ure)?s?\.?|Theorem|Lemma|Definition|Propert(?:y|ies)|Appendix|[Ee]quation)"
    r"\s+\(?\d+[a-z]?(?:\.\d+)*\)?"
    r"|\b(?:19|20)\d\d\b"  # years
    r"|\b(?:5|95|99)\s?%"  # the levels of the book's tests and intervals
    r"|\b(?:learning rates?|lr)\s+\d+(?:\.\d+)?"  # a setting of the protocol, named as such
    r"|\bSchwefel\s+\d+\.\d+"  # function names (Schwefel 2.20, 2.21, 2.22)
)


def prose(text: str) -> str:
    """The prose of a chapter: markdown without front matter, code cells, math, roles and code."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.S | re.M)
    text = re.sub(r"^%.*$", "", text, flags=re.M)  # MyST comments
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", " ", text)
    text = re.sub(r"\{[a-z:-]+\}`[^`]*`", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)
    return re.sub(r"\]\([^)]*\)", "]", text)


def typed_results(text: str) -> list[str]:
    return [m.group(0) for m in RESULT_LIKE.finditer(ALLOWED_NUMBERS.sub(" ", prose(text)))]


def test_the_typed_number_check_sees_results_and_spares_settings():
    assert typed_results("forward SGD is about 11% slower, at 1.5, 5.5 and 50.5") == ["about 11", "1.5", "5.5", "50.5"]
    assert typed_results("K* ≈ 2 in d = 10, about 100 tangents") == ["≈ 2", "about 100"]
    assert typed_results("In §4.2.2 (2022) at learning rate 0.01, 99% intervals, Theorem 9") == []
    assert typed_results("glued {glue:text}`x_1.5` and $x = 0.5$ and `0.3` and [a](b1.2.md)") == []


@pytest.mark.parametrize("chapter", pages(), ids=lambda p: p.name)
def test_no_typed_results_in_prose(chapter):
    found = typed_results(chapter.read_text())
    assert not found, f"{chapter.name}: numbers typed into the prose (glue them): {found}"


def test_every_ledger_verdict_is_one_of_the_three_levels():
    # a verdict is decided by a rule of forwardgrad.verdicts; details belong in the value column
    from forwardgrad import verdicts

    problems = []
    for doc, key in PASTE.findall((BOOK / "intro.md").read_text()):
        if "_verdict_" not in key:
            continue
        value = reference_value(doc[:-3], key)
        if value not in verdicts.LEVELS:
            problems.append(f"{doc}::{key} = {value!r}")
    assert not problems, "ledger verdicts outside confirmed/refined/contradicted: " + "; ".join(problems)


# --- findings first: each chapter opens with the claims it tests --------------------------------
FINDINGS = re.compile(r"^```\{admonition\} Findings\n:class: findings\n(.*?)^```", re.S | re.M)
SAME_PAGE_PASTE = re.compile(r"\{glue:text\}`([A-Za-z0-9_]+)`")


@pytest.mark.parametrize("chapter", refs.chapters(), ids=lambda p: p.stem)
def test_chapter_opens_with_a_findings_box_of_its_ledger_claims(chapter):
    text = chapter.read_text()
    box = FINDINGS.search(text)
    assert box, f"{chapter.name} has no findings box (an admonition of class findings after its introduction)"
    first_cell, first_section = text.find("```{code-cell}"), re.search(r"^## ", text, re.M)
    assert box.start() < first_cell and (first_section is None or box.start() < first_section.start())
    # the same keys as the chapter's rows of the claims ledger, nothing typed
    ledger = {key for doc, key in PASTE.findall((BOOK / "intro.md").read_text()) if doc == chapter.name}
    assert set(SAME_PAGE_PASTE.findall(box.group(1))) >= ledger, "add the chapter's new ledger rows to its findings box"
    assert not typed_results(box.group(1))


# --- numbered figures: every drawn figure has a caption and a number the text refers to ----------
# myst-nb wraps a cell's output in a numbered figure from the cell's `mystnb: {figure: ...}`
# metadata, without touching its code or outputs. It wraps *each* displayed output of the cell in
# a figure of that name, so a cell that shows a table under its figure cannot be numbered this way.
NUMREF = re.compile(r"\{numref\}`(?:[^`<]*<)?([^`<>]+)>?`")
FIGURE_NAME = re.compile(r"^```\{(?:glue:|pasted-)?figure\}.*\n(?::[a-z_-]+:.*\n)*?:name:\s*(\S+)", re.M)


def with_reference_outputs(chapter):
    """The chapter's code cells carrying the outputs of its reference notebook, matched as the nbval
    harness matches them (tests/conftest.py); a cell that matches none has no execution count."""
    import nbformat
    from jupytext.combine import combine_inputs_with_outputs

    path = refs.reference_path(chapter)
    if not path.is_file():
        return [cell for cell in refs.read_chapter(chapter).cells if cell.cell_type == "code"]
    merged = combine_inputs_with_outputs(refs.read_chapter(chapter), nbformat.read(str(path), as_version=4),
                                         fmt="md:myst")
    return [cell for cell in merged.cells if cell.cell_type == "code"]


def displayed(cell):
    """The outputs a reader sees under a cell (a value glued with display=False is not shown)."""
    return [output for output in cell.outputs if output.output_type in ("display_data", "execute_result")
            and not output.get("metadata", {}).get("scrapbook", {}).get("mime_prefix")]


def drawing_cells(chapter):
    """The code cells of a chapter that show a matplotlib figure: they call plt.show(), or their
    reference output is a figure (a figure left open at the end of a cell, or drawn by a function)."""
    return [cell for cell in with_reference_outputs(chapter) if "plt.show()" in cell.source or any(
        str(output.get("data", {}).get("text/plain", "")).startswith("<Figure size") for output in displayed(cell))]


def figure_names(chapter):
    """The figure names a chapter defines: cell metadata, and {figure}/{glue:figure} directives."""
    names = [cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
             for cell in refs.read_chapter(chapter).cells if cell.cell_type == "code"]
    return [name for name in names if name] + FIGURE_NAME.findall(chapter.read_text())


def test_the_figure_patterns_see_names_and_references():
    assert NUMREF.findall("see {numref}`fig-a` and {numref}`Figure %s <fig-b>`") == ["fig-a", "fig-b"]
    assert FIGURE_NAME.findall("```{glue:figure} key\n:width: 100%\n:name: fig-c\n\nCaption\n```") == ["fig-c"]


@pytest.mark.parametrize("chapter", refs.chapters(), ids=lambda p: p.stem)
def test_every_figure_is_numbered_captioned_and_referenced(chapter):
    problems = []
    for cell in drawing_cells(chapter):
        first = cell.source.splitlines()[0]
        figure = cell.metadata.get("mystnb", {}).get("figure")
        shown = len(displayed(cell))
        if cell.execution_count is None:
            problems.append(f"no reference cell for the figure cell starting {first!r} (run `make reference`)")
        elif shown > 1:
            if figure is not None:
                problems.append(f"the cell starting {first!r} shows {shown} outputs: each would become a figure")
        elif not isinstance(figure, dict):
            problems.append(f"the figure cell starting {first!r} has no `:mystnb: {{figure: ...}}` metadata")
        else:
            caption, name = str(figure.get("caption", "")).strip(), str(figure.get("name", ""))
            if not caption:
                problems.append(f"{name or first!r}: empty caption")
            elif typed_results(caption):
                problems.append(f"{name}: numbers typed into the caption (glue them): {typed_results(caption)}")
            if not name.startswith("fig-"):
                problems.append(f"the figure of the cell starting {first!r} is named {name!r}, not fig-...")
    referenced = set(NUMREF.findall(chapter.read_text()))
    problems += [f"{name} is never referenced with {{numref}} in {chapter.name}"
                 for name in figure_names(chapter) if name not in referenced]
    assert not problems, "\n".join(problems)


def test_figure_names_are_unique_and_every_numref_has_a_target():
    names = [name for chapter in refs.chapters() for name in figure_names(chapter)]
    assert names, "the book defines no numbered figure"
    names += FIGURE_NAME.findall((BOOK / "intro.md").read_text())  # the landing page's pasted figures
    assert len(names) == len(set(names)), f"figure names used twice: {sorted({n for n in names if names.count(n) > 1})}"
    dangling = {(page.name, target) for page in pages() for target in NUMREF.findall(page.read_text())
                if target not in names}
    assert not dangling, f"{{numref}} to no figure: {sorted(dangling)}"
