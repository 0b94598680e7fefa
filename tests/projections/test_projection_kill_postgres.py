"""Exactly once under crashes, on PostgreSQL: a projection process killed with SIGKILL at random
points while catching up over a log of more than 100,000 events ends with every read model
equal to a rebuild from zero (``tests/projections/kill_harness.py``). A killed process's last
commit may still be in flight on the server when the next process starts: the views' fence
(``projections.views``) keeps it from applying a batch twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.projections.kill_harness import (
    killed_projection_process_equals_a_rebuild_from_zero,
    postgres_log,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def big_log() -> Iterator[dict[str, str]]:
    yield from postgres_log()


def test_killed_projection_process_equals_a_rebuild_from_zero(big_log: dict[str, str],
                                                              tmp_path: Path) -> None:
    killed_projection_process_equals_a_rebuild_from_zero(big_log, tmp_path)
