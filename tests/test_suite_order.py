"""The suite's own order (``tests/conftest.py``): the heaviest modules first, so ``make test``
starts them at once on every core."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import HEAVIEST

TESTS = Path(__file__).parent


def test_every_module_named_heaviest_exists() -> None:
    """A renamed or removed module would silently fall back to the end of the run."""
    assert [m for m in HEAVIEST if not (TESTS / m).is_file()] == []

