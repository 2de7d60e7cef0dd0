"""The package's docstrings on the API page: their TeX between dollars as Sphinx math.

The docstrings write formulas as ``$...$`` and ``$$...$$`` (the notation of the chapters' MyST
text), but autodoc parses docstrings as reStructuredText, where ``|x|`` is a substitution and
``x_`` a link target. Before autodoc parses a docstring, each formula outside inline literals
(double backquotes) becomes a ``:math:`` role, which MathJax typesets like the chapters' math,
and a bar left in the prose (an absolute value) is escaped.
"""

from __future__ import annotations

import re

LITERAL = re.compile(r"(``.*?``)")
FORMULA = re.compile(r"\$\$(.+?)\$\$|(?<![\\$\w])\$(?!\s)([^$]+?)(?<![\s\\])\$(?!\w)", re.DOTALL)


def _math(match):
    tex = (match.group(1) or match.group(2)).replace("\n", " ").strip()
    return f":math:`{tex.replace('`', ' ')}`"


ROLE = re.compile(r"(:math:`[^`]*`)")


def _plain(text):
    # a bar in prose (|x|) is an absolute value, never a reStructuredText substitution
    return "".join(part if i % 2 else part.replace("|", "\\|") for i, part in enumerate(ROLE.split(text)))


def to_math(text):
    """``text`` with every ``$...$`` or ``$$...$$`` outside inline literals as a ``:math:`` role,
    and every other bar escaped."""
    pieces = LITERAL.split(text)
    return "".join(piece if i % 2 else _plain(FORMULA.sub(_math, piece)) for i, piece in enumerate(pieces))


def convert(app, what, name, obj, options, lines):
    """autodoc-process-docstring: rewrite the docstring's lines in place."""
    text = to_math("\n".join(lines))
    lines[:] = text.split("\n")


def setup(app):
    app.connect("autodoc-process-docstring", convert)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
