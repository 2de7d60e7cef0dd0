"""The API reference page (book/api.md): every public name has a docstring, every module is on
the page, and book/_ext/docmath.py turns the docstrings' TeX into math roles."""

import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest

import forwardgrad

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import docmath  # noqa: E402

DOCUMENTED = sorted(set(forwardgrad.SUBMODULES) - {"experiments"})  # experiments: one chapter's code each


def public_names(module):
    """The functions and classes a module offers: its ``__all__``, else its names without a
    leading underscore that it defines itself (not those it imports)."""
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__.startswith(module.__name__):
            yield name, obj


def _has_docstring(obj):
    doc = obj.__doc__ or ""
    # a NamedTuple without a docstring gets an automatic one: "Name(field, ...)"
    return bool(doc.strip()) and not (inspect.isclass(obj) and doc.startswith(f"{obj.__name__}("))


@pytest.mark.parametrize("module", DOCUMENTED)
def test_every_public_name_has_a_docstring(module):
    mod = importlib.import_module(f"forwardgrad.{module}")
    assert _has_docstring(mod), f"forwardgrad.{module} has no module docstring"
    missing = [name for name, obj in public_names(mod) if not _has_docstring(obj)]
    assert not missing, f"public names of forwardgrad.{module} without a docstring: {missing}"


def test_the_docstring_check_can_fail():
    from typing import NamedTuple

    class Bare(NamedTuple):
        x: int

    def bare():
        pass

    assert not _has_docstring(Bare) and not _has_docstring(bare) and _has_docstring(public_names)


def test_the_api_page_lists_every_module():
    page = (ROOT / "book" / "api.md").read_text()
    listed = re.findall(r"^\.\. automodule:: forwardgrad\.(\w+)\n   :members:$", page, flags=re.M)
    assert sorted(listed) == DOCUMENTED and listed[0] == "plugins"
    assert "api" in (ROOT / "book" / "_toc.yml").read_text().split()


def test_the_book_config_loads_autodoc_and_docmath():
    import yaml

    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())["sphinx"]
    assert {"sphinx.ext.autodoc", "docmath"} <= set(config["config"]["extensions"])
    assert config["local_extensions"]["docmath"] == "_ext"


@pytest.mark.parametrize("text, expected", [
    (r"$g = (\nabla f\cdot v)\,v$ row by row", r":math:`g = (\nabla f\cdot v)\,v` row by row"),
    ("between $a$ and $$b_1$$.", "between :math:`a` and :math:`b_1`."),
    ("``$XDG_CACHE_HOME/forwardgrad`` stays", "``$XDG_CACHE_HOME/forwardgrad`` stays"),
    ("a cusp where f rises like |x|^0.2", "a cusp where f rises like \\|x\\|^0.2"),
    ("$|x|$ and ``|y|``", ":math:`|x|` and ``|y|``"),
    ("costs $5 and $6", "costs $5 and $6"),
    ("over two\nlines: $a +\nb$", "over two\nlines: :math:`a + b`"),
])
def test_docmath_turns_dollars_into_math_roles(text, expected):
    assert docmath.to_math(text) == expected
