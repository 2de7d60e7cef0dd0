"""Three touches of the rendered book for its reader, as a local Sphinx extension.

- Every glued verdict (a ``{glue:text}`` whose text is ``confirmed``, ``refined`` or
  ``contradicted``) gets its mark from :func:`forwardgrad.verdicts.mark` and a class
  ``verdict verdict-<level>`` that book/_static/reader.css colours: the claims ledger and the
  findings box of every chapter show the same marks, and none is typed.
- Every chapter page offers its executed notebook for download as ``.ipynb`` next to the ``.md``
  source: sphinx-book-theme copies the notebook only when a launch button (Binder, JupyterHub,
  Colab, Thebe) is configured, and the book has none, as it works offline.
- The directive ``pasted-figure`` puts a figure glued by another chapter on a page as a numbered
  figure with a caption: myst-nb's ``glue:figure`` reads only the page's own keys, and its
  ``glue`` directive, which takes ``:doc:``, gives no caption. The landing page uses it for the
  figures that sum up the paper. The chapter must show the same figure itself (its own
  ``glue:figure``), since the image file is written when that page is rendered.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from myst_nb.ext.glue.directives import PasteAnyDirective
from sphinx.transforms.post_transforms import SphinxPostTransform

from forwardgrad import verdicts


class MarkVerdicts(SphinxPostTransform):
    """Prefix each pasted verdict with its mark, after myst-nb has pasted the glued values."""

    default_priority = 20  # myst-nb resolves glue from other pages at priority 5

    def run(self, **kwargs):
        for node in list(self.document.findall(nodes.inline)):
            if "pasted-text" not in node["classes"]:
                continue
            word = node.astext().strip()
            if word not in verdicts.LEVELS:
                continue
            node.children = [nodes.Text(f"{verdicts.mark(word)} {word}")]
            node["classes"] += ["verdict", f"verdict-{word}"]


class PastedFigure(PasteAnyDirective):
    """``pasted-figure <key>`` with ``:doc: <chapter>.md`` and ``:name:``, its content the caption."""

    has_content = True
    option_spec = {"doc": directives.unchanged_required, "name": directives.unchanged}

    def run(self):
        if "doc" not in self.options:
            raise self.error("pasted-figure needs :doc: <chapter>.md, the page that glued the figure")
        figure = nodes.figure("", *super().run())
        self.add_name(figure)
        if self.content:
            holder = nodes.Element()
            self.state.nested_parse(self.content, self.content_offset, holder)
            first = holder[0]
            if not isinstance(first, nodes.paragraph):
                raise self.error("the caption of a pasted-figure must be one paragraph")
            figure += nodes.caption(first.rawsource, "", *first.children)
        return [figure]


def offer_notebook(app, pagename, templatename, context, doctree):
    """Copy the executed notebook of a chapter next to its source and let the theme link it."""
    if app.builder.format != "html":
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.add_post_transform(MarkVerdicts)
    app.add_directive("pasted-figure", PastedFigure)
    # before sphinx-book-theme builds its download menu (priority 501)
    app.connect("html-page-context", offer_notebook, priority=400)
    app.add_css_file("reader.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
