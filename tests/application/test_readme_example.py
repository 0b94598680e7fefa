"""The README's library snippet runs as written, and does what it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gridcore.status import Measure

README = Path(__file__).resolve().parents[2] / "README.md"


def snippet() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Using the library"):]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None, "the README's 'Using the library' has no python block"
    return found.group(1)


def test_the_library_snippet_runs_as_written(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(snippet(), "README.md", "exec"), scope)  # our own README
    app, h = scope["app"], scope["h"]
    resident = next(iter(h.residents.values()))
    assert app.household(h.id).residents[resident.resident_id].measure is \
        Measure.HOME_OBSERVATION
    assert scope["plan"].uncovered == []
    app.close()
