"""Exactly once under crashes, on SQLite: a projection process killed with SIGKILL at random
points while catching up over a log of more than 100,000 events ends with every read model
equal to a rebuild from zero (``tests/projections/kill_harness.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.projections.kill_harness import (
    killed_projection_process_equals_a_rebuild_from_zero,
    sqlite_log,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return sqlite_log(tmp_path_factory)


def test_killed_projection_process_equals_a_rebuild_from_zero(big_log: dict[str, str],
                                                              tmp_path: Path) -> None:
    killed_projection_process_equals_a_rebuild_from_zero(big_log, tmp_path)
