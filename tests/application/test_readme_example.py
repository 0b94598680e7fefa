"""The README's library snippet runs as written, and does what it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gridcore.building import building_id
from gridcore.status import Measure

README = Path(__file__).resolve().parents[2] / "README.md"


def snippets() -> list[str]:
    """The python blocks of the README's 'Using the library', in order (each goes on from
    the one before)."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## Using the library")
    section = text[start:text.index("\n## ", start + 1)]
    found = re.findall(r"```python\n(.*?)```", section, re.S)
    assert found, "the README's 'Using the library' has no python block"
    return found


def test_the_library_snippet_runs_as_written(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    first, setup = snippets()
    exec(compile(first, "README.md", "exec"), scope)  # our own README
    app, h = scope["app"], scope["h"]
    resident = next(iter(h.residents.values()))
    assert app.household(h.id).residents[resident.resident_id].measure is \
        Measure.HOME_OBSERVATION
    assert scope["plan"].uncovered == []

    exec(compile(setup, "README.md", "exec"), scope)  # a community set up at once
    community = app.node("420102014712")
    assert community.children == [f"420102014712-0{n}" for n in (1, 2, 3)]
    for code in ("420102014712-02", "420102014712-03"):
        assert app.node(code).responsible_worker == scope["worker"]
    assert app.node("420102014712-02").squad == [app.staff_by_no("V1").id]
    building = app.building(building_id("420102014712", "2"))
    assert building.floors == 18 and building.point is not None
    app.close()
