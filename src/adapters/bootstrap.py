"""The composition root: the one place that puts a gridcore process together.

Every entry point — the command line (``adapters.cli``: demo, tick, scheduler, projections,
import, ingest, keys, serve, stream, simulate), the server, the stream worker, the simulations
and the tests — builds what it needs through ``bootstrap``: the application over the store the
configuration chooses (with the orjson transcoder and pydantic mapper of ``adapters.codec``, so
``gridcore`` names no adapter), and on demand the read models and their runner. It is the only
module outside the command line that imports the projections
(``tests/domain/test_dependency_rule.py``).

Modelled on cosmicpython's ``bootstrap.py``: dependencies are chosen here once, and a test
passes its own (a memory or temporary store, a hand-moved clock) through the same function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from adapters.settings import store_env
from gridcore.app_base import utc_now
from gridcore.application import GridcoreApp

if TYPE_CHECKING:
    from projections.base import Projection
    from projections.runner import Runner


@dataclass
class System:
    """What a process runs on: the application and, when asked, the read models."""

    app: GridcoreApp
    env: dict[str, str]
    _projections: list[Projection] | None = field(default=None, repr=False)

    @property
    def projections(self) -> list[Projection]:
        """Every read model (``projections.all_projections``), found once."""
        if self._projections is None:
            from projections import all_projections

            self._projections = all_projections()
        return self._projections

    def runner(self, batch: int = 5000) -> Runner:
        """A runner keeping every read model up to date with this application's log."""
        from projections.runner import Runner

        return Runner(self.app, self.projections, batch=batch)

    def close(self) -> None:
        self.app.close()


def bootstrap(env: Mapping[str, str] | None = None, *,
              environ: Mapping[str, str] | None = None,
              clock: Callable[[], datetime] = utc_now) -> System:
    """The application over ``env`` (an eventsourcing environment from ``adapters.settings``:
    ``memory_env()``, ``sqlite_env(path)``, ``postgres_env(dsn)``), or else over the store the
    ``GRIDCORE_*`` variables of ``environ`` (default: the process's) choose."""
    chosen = dict(env) if env is not None else store_env(environ)
    return System(GridcoreApp(chosen, clock=clock), chosen)
