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

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from adapters.codec import without_personal_data
from adapters.settings import store_env
from gridcore.app_base import utc_now
from gridcore.application import GridcoreApp

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from graphql_api.settings import ApiSettings
    from projections.base import Projection
    from projections.groups import Groups
    from projections.runner import Runner


@dataclass
class System:
    """What a process runs on: the application and, when asked, the read models."""

    app: GridcoreApp
    env: dict[str, str]
    _projections: list[Projection] | None = field(default=None, repr=False)
    environ: Mapping[str, str] | None = field(default=None, repr=False)
    """The ``GRIDCORE_*`` variables the process was given (None: its own environment)."""

    @property
    def projections(self) -> list[Projection]:
        """Every read model (``projections.all_projections``), found once."""
        if self._projections is None:
            from projections import all_projections

            self._projections = all_projections()
        return self._projections

    @property
    def groups(self) -> Groups:
        """The read models' groups, one process each at scale: ``GRIDCORE_PROJECTION_GROUPS``
        of ``environ``, else ``projections.groups.DEFAULT_GROUPS``; ``GroupError`` unless
        every read model is in exactly one group."""
        from projections.groups import DEFAULT_GROUPS, VARIABLE, check_groups, parse_groups

        spec = (os.environ if self.environ is None else self.environ).get(VARIABLE, "").strip()
        groups = parse_groups(spec) if spec else DEFAULT_GROUPS
        check_groups(groups, (p.name for p in self.projections))
        return groups

    def runner(self, batch: int = 5000, groups: Sequence[str] = ()) -> Runner:
        """A runner keeping the read models of ``groups`` (group names, or comma lists of
        them; ``GroupError`` naming the known ones for another) up to date with this
        application's log; every read model when none are given."""
        from projections.groups import members
        from projections.runner import Runner

        chosen = self.projections
        if groups:
            names = set(members(self.groups, groups))
            chosen = [p for p in chosen if p.name in names]
        return Runner(self.app, chosen, batch=batch)

    @property
    def external_projections(self) -> bool:
        """Whether other processes run the read models (``GRIDCORE_PROJECTIONS=external``:
        ``gridcore projections run --group ...``), so a server keeps none up itself and
        waits on their positions in the database; ``process`` (the default) keeps every
        read model up in the server's own process."""
        value = (os.environ if self.environ is None else self.environ).get(
            PROJECTIONS, PROCESS).strip().lower() or PROCESS
        if value not in (PROCESS, EXTERNAL):
            raise ValueError(f"{PROJECTIONS}={value!r} is unknown: give {PROCESS} (the server "
                             f"keeps the read models up itself) or {EXTERNAL} (processes of "
                             "`gridcore projections run --group NAME` do)")
        return value == EXTERNAL

    def close(self) -> None:
        self.app.close()


PROJECTIONS, PROCESS, EXTERNAL = "GRIDCORE_PROJECTIONS", "process", "external"
SCENARIO_CLOCK = "GRIDCORE_SCENARIO_CLOCK"
LAST_EVENT = "last-event"


class ScenarioTime:
    """A clock at a scenario's time (情景时间) rather than the wall clock's: it reads ``start``
    when made and advances with real time from there, so the deadlines of a scenario that
    happened in February 2020 (the demo, a replayed campaign) come due as they did then,
    instead of every item reading years overdue. ``scenario`` tells the API (``clock { now
    scenario }``) and so the dashboard, which shows it in a banner."""

    scenario = True

    def __init__(self, start: datetime,
                 elapsed: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError(f"The scenario's time {start.isoformat()} has no time zone: "
                             "give an offset, e.g. 2020-02-17T08:00+08:00.")
        self.start, self._elapsed, self._t0 = start, elapsed, elapsed()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=self._elapsed() - self._t0)


def last_event_time(app: GridcoreApp, among: int = 1000) -> datetime | None:
    """When the store's story stopped: the latest time of its last ``among`` events (by the
    clock that recorded them; a tick records an overdue item at its deadline, so the very last
    event may be dated earlier than the one before it), or None for an empty store."""
    last = app.recorder.max_notification_id()
    if not last:
        return None
    notifications = app.recorder.select_notifications(start=max(1, last - among + 1),
                                                      limit=among)
    times: list[datetime] = [getattr(app.mapper.to_domain_event(n), "timestamp")  # noqa: B009
                             for n in notifications]
    return max(times)


def configured_clock(app: GridcoreApp,
                     environ: Mapping[str, str] | None = None) -> Callable[[], datetime]:
    """The clock ``GRIDCORE_SCENARIO_CLOCK`` asks for: unset or empty, the wall clock;
    ``last-event``, a scenario clock starting at the store's last event; an ISO 8601 time with
    its offset (``2020-02-22T20:00+08:00``), a scenario clock starting then."""
    value = (os.environ if environ is None else environ).get(SCENARIO_CLOCK, "").strip()
    if not value:
        return utc_now
    if value == LAST_EVENT:
        start = last_event_time(app)
        if start is None:
            raise ValueError(f"{SCENARIO_CLOCK}={LAST_EVENT}, but the store has no events: "
                             "build the scenario first (gridcore demo), or give a time.")
        return ScenarioTime(start)
    try:
        return ScenarioTime(datetime.fromisoformat(value))
    except ValueError as e:
        raise ValueError(f"{SCENARIO_CLOCK}={value!r} is not a time: give {LAST_EVENT} or an "
                         f"ISO 8601 time with its offset, e.g. 2020-02-17T08:00+08:00 "
                         f"({e})") from None


def bootstrap(env: Mapping[str, str] | None = None, *,
              environ: Mapping[str, str] | None = None,
              clock: Callable[[], datetime] | None = None) -> System:
    """The application over ``env`` (an eventsourcing environment from ``adapters.settings``:
    ``memory_env()``, ``sqlite_env(path)``, ``postgres_env(dsn)``), or else over the store the
    ``GRIDCORE_*`` variables of ``environ`` (default: the process's) choose. Its clock is
    ``clock`` when given, else the one ``GRIDCORE_SCENARIO_CLOCK`` of ``environ`` asks for
    (``configured_clock``: the wall clock when unset)."""
    chosen = dict(env) if env is not None else store_env(environ)
    app = GridcoreApp(chosen, clock=clock or utc_now)
    # reads that need no personal data (planning a round, checking a batch of visits, a
    # campaign's coverage) open no key: unsealing every resident made a launch over a
    # 3,000-household community take about twice as long (1.1-1.5 s against 0.5-0.8 s)
    app.read_without_personal_data(without_personal_data(app.mapper))
    if clock is None:
        try:
            app.clock = configured_clock(app, environ)
        except Exception:
            app.close()
            raise
    return System(app, chosen, environ=environ)


def api_app(app: GridcoreApp, runner: Runner, settings: ApiSettings | None = None) -> Starlette:
    """The API server (``/graphql`` and the dashboard) over ``app`` and its read models, with
    the adapters' services the API is given rather than importing them: the reading of a
    chat group's messages (``adapters.chat_intake.take_in``, for ``submitChatMessages``)."""
    from adapters.chat_intake import take_in
    from graphql_api.app import create_app

    return create_app(app, runner, settings, chat_intake=take_in)
