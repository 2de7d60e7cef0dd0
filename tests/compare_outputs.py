"""Compare a chapter's fresh outputs with its reference: exact about meaning, tolerant about rounding.

The last digits of a floating-point result depend on the machine: OpenBLAS picks its kernel from
the CPU (Haswell, SkylakeX, ...), NumPy dispatches on the SIMD width, and the number of BLAS
threads changes the order of the sums. A reference notebook made on one machine must still
describe a run on another, so :func:`same_text` compares two output strings token by token:

- a *decimal* number (one with a point or an exponent, such as ``0.0110608624550812`` or
  ``1e-08``) matches a decimal number within ``rtol`` relative, or ``atol`` absolute near 0;
- an *integer* (digits only, such as a count, a dimension or a step) must be equal;
- everything else (words, verdict strings, punctuation, column names, quotes) must be equal;
- a run of spaces or tabs matches a run of any length (columns pad to the width of their
  numbers), and trailing spaces at the end of a line are ignored; line breaks must match.

So a glued value that drifts in its 16th digit passes, and one that moves in its 6th, a verdict
that flips, a count that changes or a table that gains a row fail. Nothing is blanked out: every
number is compared.
"""

from __future__ import annotations

import math
import re

RTOL = 1e-9
ATOL = 1e-12

# A number: optional sign, digits with an optional fraction (or a bare fraction), optional
# exponent. A sign only counts when it does not follow a word character or a closing bracket,
# so "x-1" reads as "x", "-", "1" on both sides alike.
NUMBER = re.compile(r"(?:(?<![\w)\].])[-+])?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
BLANKS = re.compile(r"[ \t]+")
TRAILING = re.compile(r"[ \t]+$", re.MULTILINE)


def _is_decimal(token: str) -> bool:
    return any(c in token for c in ".eE")


def tokens(text: str) -> list[str]:
    """Split ``text`` into numbers and the text between them (blank runs folded to one space)."""
    text = BLANKS.sub(" ", TRAILING.sub("", text))
    out, last = [], 0
    for match in NUMBER.finditer(text):
        out.append(text[last:match.start()])
        out.append(match.group())
        last = match.end()
    out.append(text[last:])
    return out


def close(a: str, b: str, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Do two number tokens match: integers exactly, decimals within ``rtol`` (``atol`` near 0)?"""
    if not (_is_decimal(a) and _is_decimal(b)):
        return a == b
    x, y = float(a), float(b)
    return math.isclose(x, y, rel_tol=rtol, abs_tol=atol)


def first_difference(reference: str, fresh: str, rtol: float = RTOL, atol: float = ATOL) -> str | None:
    """A short description of the first place where ``fresh`` does not match ``reference``,
    or None when they match (see the module docstring for the rules)."""
    ref, new = tokens(reference), tokens(fresh)
    if len(ref) != len(new):
        return f"{(len(ref) - 1) // 2} numbers in the reference, {(len(new) - 1) // 2} in the fresh output"
    for i, (a, b) in enumerate(zip(ref, new)):
        if i % 2 == 0:
            if a != b:
                return f"text {a!r} became {b!r}"
        elif not close(a, b, rtol, atol):
            kind = "decimal" if _is_decimal(a) and _is_decimal(b) else "integer"
            return f"{kind} {a} became {b}" + (f" (relative tolerance {rtol:g})" if kind == "decimal" else "")
    return None


def same_text(reference: str, fresh: str, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Does the output ``fresh`` say what ``reference`` says, up to floating-point rounding?"""
    return first_difference(reference, fresh, rtol, atol) is None


def same_output(reference, fresh, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """:func:`same_text` for an output payload: a string, or a list of strings joined as nbformat
    stores multi-line text; any other payload (a JSON dict) must be equal."""
    if isinstance(reference, list) and all(isinstance(s, str) for s in reference):
        reference = "".join(reference)
    if isinstance(fresh, list) and all(isinstance(s, str) for s in fresh):
        fresh = "".join(fresh)
    if isinstance(reference, str) and isinstance(fresh, str):
        return same_text(reference, fresh, rtol, atol)
    return reference == fresh
