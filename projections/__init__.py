"""Read models built from the event log, exactly once, with tracking (see ``runner``).

Every module of this package may define ``PROJECTIONS``, a list of projection instances;
``all_projections()`` gathers them, so adding a read model needs no edit here.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

from projections.base import Projection

if TYPE_CHECKING:
    from eventsourcing.application import Application

    from projections.runner import Runner

_INFRASTRUCTURE = {"base", "views", "runner", "support", "queries", "groups"}


def all_projections() -> list[Projection]:
    found: list[Projection] = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name in _INFRASTRUCTURE:
            continue
        found.extend(getattr(importlib.import_module(f"{__name__}.{module.name}"),
                             "PROJECTIONS", []))
    names = [p.name for p in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise RuntimeError(f"projection names used twice: {', '.join(sorted(duplicates))}")
    return found


def start(app: Application[Any], batch: int = 5000) -> Runner:
    """Every read model kept up in this process by a background runner (the embedded
    default): ``runner.wait(notification_id)`` after a command reads its own writes."""
    from projections.runner import Runner

    return Runner(app, all_projections(), batch=batch).start()
