"""Helpers the hypothesis state machines share: replay from the store, comparable state."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from gridcore.application import GridcoreApp
from gridcore.base import Aggregate


def replay(app: GridcoreApp, aid: UUID) -> Aggregate:
    """Fold the stored events of one aggregate, without the application's repository."""
    agg = None
    for event in app.events.get(aid):
        agg = event.mutate(agg)
    assert agg is not None
    return agg


def state(agg: Aggregate) -> dict[str, Any]:
    """An aggregate's state for comparison (its pending events left out)."""
    return {k: v for k, v in vars(agg).items() if k != "_pending"}
