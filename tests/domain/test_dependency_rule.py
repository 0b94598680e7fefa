"""The dependency rule of ARCHITECTURE.md, read off every module's imports.

- ``gridcore`` imports only the standard library, eventsourcing and pydantic, and shapely with
  numpy for the geometry of boundaries and zones (pure computation: issue 19 puts the geometry
  work in a well-kept library and the rules in the domain);
- ``projections`` read event classes (gridcore) and the library, never adapters (but the
  polling subscription the projections issue puts there), the API or the simulations;
- ``adapters`` never import the projections, the API or the simulations, except the
  composition root (``adapters/bootstrap.py``) and the command line's entry points
  (``adapters/cli/``), which is where a process is put together;
- ``graphql_api`` imports no adapter (the composition root hands it the adapters' services,
  such as the chat intake, through its context), but the polling subscription of a feed;
- ``gridcore`` names no adapter even by string (an eventsourcing topic such as
  ``"adapters.codec:PydanticMapper"`` would be a dependency the imports do not show).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Module names a module imports (relative imports excluded)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def imported(path: Path, allowed: tuple[str, ...] = ()) -> set[str]:
    """Top-level package names a module imports, but for the ``allowed`` modules."""
    return {m.split(".")[0] for m in imported_modules(path) if m not in allowed}


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_gridcore_imports_only_the_standard_library_eventsourcing_pydantic_and_shapely() -> None:
    allowed = set(sys.stdlib_module_names) | {"__future__", "eventsourcing", "pydantic",
                                              "pydantic_core", "gridcore", "typing_extensions",
                                              "shapely", "numpy"}
    found = {f"{p.relative_to(ROOT)}: {name}" for p in modules("src/gridcore")
             for name in imported(p) - allowed}
    assert not found, sorted(found)


@pytest.mark.parametrize(("folder", "forbidden", "except_for", "allowed"), [
    ("projections", {"adapters", "graphql_api", "simulations", "faust", "strawberry"}, (),
     ("adapters.polling",)),
    ("src/adapters", {"projections", "graphql_api", "simulations", "strawberry"},
     ("cli/", "bootstrap.py"), ()),
    # the API is handed the adapters' services (the chat intake) by the composition root
    ("src/graphql_api", {"adapters", "simulations", "faust"}, (), ("adapters.polling",)),
])
def test_outer_layers_import_only_what_the_rule_lets_them(
        folder: str, forbidden: set[str], except_for: tuple[str, ...],
        allowed: tuple[str, ...]) -> None:
    found = {f"{p.relative_to(ROOT)}: {name}" for p in modules(folder)
             if not str(p.relative_to(ROOT / folder)).startswith(except_for)
             for name in imported(p, allowed) & forbidden}
    assert not found, sorted(found)


def test_the_rule_is_checked_on_something() -> None:
    assert len(modules("src/gridcore")) > 20 and len(modules("projections")) > 8
    assert "adapters" in imported(ROOT / "src/adapters/cli/__init__.py")
    assert "projections" in imported(ROOT / "src/adapters/bootstrap.py")


def test_gridcore_names_no_adapter_even_in_a_string() -> None:
    found = []
    for p in modules("src/gridcore"):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        # prose may say where a thing lives (a docstring); code may not name it
        prose = {id(owner.body[0].value) for owner in ast.walk(tree)
                 if isinstance(getattr(owner, "body", None), list) and owner.body
                 and isinstance(owner.body[0], ast.Expr)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in prose
                    and any(node.value.startswith(f"{layer}.") or f" {layer}." in node.value
                            for layer in ("adapters", "projections", "graphql_api"))):
                found.append(f"{p.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    assert not found, found
