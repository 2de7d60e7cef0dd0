"""Fast checks of the book's frame, run with the unit tests (no notebook is executed here).

They catch in seconds what the full build (`make book`) would only report after executing every
chapter: a table of contents naming a missing file, a chapter left out of it, a citation key
missing from references.bib, a claims-ledger row pasting a key that its chapter never glues.
"""

from __future__ import annotations

import json
import re

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
