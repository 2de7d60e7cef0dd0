"""The package's layering: every import points down, and no module reaches into another's privates."""

import ast
from pathlib import Path

import pytest

import forwardgrad

SRC = Path(forwardgrad.__file__).parent
LAYERS = {  # a module may import only modules of a lower layer
    "engines": 0, "timing": 0, "statistics": 0, "cache": 0, "verdicts": 0,
    "tangents": 1, "optimizers": 1, "objectives": 1,
    "oracles": 2,
    "descent": 3, "plugins": 3,
    "protocols": 4, "theory": 4, "montecarlo": 4,
    "results": 5, "profiles": 5,
    "benchmark": 6, "equal_cost": 6, "coco": 6,
    "plotting": 7,
    "experiments": 8,
    "cli": 9,
}


def _module(path):
    rel = path.relative_to(SRC).with_suffix("")
    return rel.parts[0] if rel.parts[0] != "__init__" else None


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "forwardgrad":
                if len(parts) > 1:
                    yield parts[1]
                else:
                    yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "forwardgrad" and len(parts) > 1:
                    yield parts[1]


FILES = sorted(p for p in SRC.rglob("*.py") if _module(p))


def test_every_module_has_a_layer():
    assert {_module(p) for p in FILES} == set(LAYERS)
    assert set(forwardgrad.SUBMODULES) == set(LAYERS)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path):
    here = _module(path)
    upward = [name for name in _imports(path) if name != here and LAYERS[name] >= LAYERS[here]]
    assert not upward, f"{path.relative_to(SRC)} ({here}, layer {LAYERS[here]}) imports {upward}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_private_names_across_modules(path):
    tree = ast.parse(path.read_text())
    modules, private = {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "forwardgrad":
            for alias in node.names:
                if alias.name.startswith("_"):
                    private.append(f"{node.module}.{alias.name}")
                modules[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            private.append(f"{node.value.id}.{node.attr}")
    assert not private, f"{path.relative_to(SRC)} uses private names of other modules: {private}"
