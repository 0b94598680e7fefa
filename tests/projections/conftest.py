"""Read-model tests: the runner (exactly once, kill tests, a stuck read model isolated), each
read model against the application, and the read side's shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from projections.base import ViewCursor


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every statement the read models' cursors run from now on, in order."""
    seen: list[str] = []

    def counted(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: ViewCursor, sql: str, *args: Any) -> Any:
            seen.append(sql)
            return method(self, sql, *args)
        return run

    for name in ("execute", "executemany"):
        monkeypatch.setattr(ViewCursor, name, counted(getattr(ViewCursor, name)))
    return seen
