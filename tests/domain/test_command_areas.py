"""The command areas of ``GridcoreApp`` call each other only through what they name.

An area that calls another has it as a base (mypy checks each call, ``make lint``); no two
areas define the same method, so the order of ``GridcoreApp``'s bases decides nothing; and no
area extends a hook of another through ``super()``: who takes part (erasing a resident's data
elsewhere) is a list the application writes down.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from gridcore.app_base import ApplicationBase
from gridcore.application import GridcoreApp

SRC = Path(__file__).resolve().parents[2] / "src" / "gridcore"


def _areas() -> list[type]:
    return [c for c in GridcoreApp.__mro__[1:]
            if issubclass(c, ApplicationBase) and c is not ApplicationBase]


def test_no_two_areas_define_the_same_method() -> None:
    owners: dict[str, list[str]] = {}
    for area in _areas():
        for name, value in vars(area).items():
            if callable(value) or isinstance(value, (staticmethod, classmethod, property)):
                owners.setdefault(name, []).append(area.__name__)
    shared = {n: o for n, o in owners.items() if len(o) > 1 and not n.startswith("__")}
    assert shared == {}, f"defined by more than one area (the MRO would pick one): {shared}"


def test_no_area_method_is_shadowed_by_the_base() -> None:
    base = {n for c in ApplicationBase.__mro__ if c is not object for n in vars(c)}
    for area in _areas():
        clash = {n for n, v in vars(area).items() if callable(v) and n in base
                 and not n.startswith("__")}
        assert clash == set(), f"{area.__name__} overrides look-ups of the base: {clash}"


def test_command_modules_chain_no_hooks_through_super() -> None:
    modules = sorted({Path(inspect.getfile(a)) for a in _areas()} | {SRC / "application.py"})
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "super":
                raise AssertionError(f"{path.name}:{node.lineno} calls super(): list the "
                                     "participants instead")


def test_the_application_lists_who_erases_a_residents_data_elsewhere() -> None:
    app = GridcoreApp.__new__(GridcoreApp)  # the list is fixed by the class, not the store
    names = [p.__name__ for p in app._erasure_participants()]
    assert names == ["_staff_erased_with_resident", "_requests_erased_with_resident",
                     "_chats_erased_with_resident", "_cases_erased_with_resident",
                     "_assistance_erased_with_resident"]
