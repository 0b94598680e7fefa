"""The alerts board against an independent fold of the alert events and against the
aggregates, rebuilt from zero and applied in batches of any size, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import get_topic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.settings import sqlite_env
from gridcore.alerts import Alert, AlertState, Outcome
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.errors import InvalidInput
from gridcore.status import Measure
from gridcore.vehicle import PassTally, hour_start
from projections import alerts_board as alb
from projections.base import Projection
from projections.runner import Runner
from projections.views import SQLiteViews
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, given_community
from tests.stores import scratch_env

PLATES = ["浙A12345", "鄂A54321", "湘B77777", "粤B00001"]


@dataclass
class World:
    app: GridcoreApp
    clock: Clock


def scenario(app: GridcoreApp, clock: Clock) -> None:
    """Two quarantined doors watched, two checkpoints; detections and passes over three
    hours; some alerts acknowledged or resolved, the rest left to escalate."""
    rng = random.Random(5)
    c = given_community(app)
    app.assign_responsible_worker(ZONES[0], c.worker, by=System.OPERATOR)
    for n, hid in enumerate(c.households[:2]):
        h = app.household(hid)
        app.register_camera(f"CAM-{n}", h.micro_grid, household_id=hid, by=System.OPERATOR)
        app.change_measure(hid, sorted(h.residents)[0], Measure.HOME_QUARANTINE, c.worker)
    app.register_checkpoint("KK-1", COMMUNITY, "后湖大道卡口", by=System.OPERATOR)
    app.register_checkpoint("KK-2", ZONES[0], "一片区路口", by=System.OPERATOR)
    t0 = clock.advance(hours=1)
    app.declare_risk_area("R-1", "武汉市", "high", t0 - timedelta(days=20), by=System.OPERATOR)
    app.declare_risk_area("R-2", "鄂A", "high", t0 - timedelta(days=20), by=System.OPERATOR)
    app.lift_risk_area("R-2", "鄂A", t0 + timedelta(hours=1, minutes=30), by=System.OPERATOR)
    app.record_travel("T-1", PLATES[0], "武汉市江岸区", t0 - timedelta(days=3), by=System.OPERATOR)
    passes: Counter[tuple[str, datetime]] = Counter()
    for n in range(60):
        at = t0 + timedelta(minutes=3 * n)
        clock.now = at + timedelta(seconds=30)
        app.record_camera_detection(f"D-{n}", f"CAM-{n % 2}", t0 + timedelta(seconds=50 * n),
                                    ("in", "out")[n % 2], rng.choice([0.5, 0.85, 0.95]),
                                        by=System.OPERATOR)
        checkpoint, plate = rng.choice(["KK-1", "KK-2"]), rng.choice(PLATES)
        app.record_vehicle_pass(f"P-{n}", checkpoint, plate, at, by=System.OPERATOR)
        passes[(checkpoint, hour_start(at))] += 1
        if n % 20 == 19:
            app.count_vehicle_passes(dict(passes), f"window-{n}", by=System.OPERATOR)
            passes.clear()
        if n % 7 == 0:
            app.tick()
    app.count_vehicle_passes({("KK-1", hour_start(t0)): 5}, "window-19",
                             by=System.OPERATOR)  # a replay: nothing
    raised = [e.originator_id for e in log(app, Alert.Raised)]
    for n, aid in enumerate(raised[::3]):
        app.acknowledge_alert(aid, c.worker)
        if n % 2:
            app.resolve_alert(aid, c.worker, ("false_alarm", "breach_confirmed")[n % 4 == 1],
                              "劝返回家")
    app.resolve_alert(raised[1], c.volunteer, "false_alarm")
    app.tick(clock.advance(hours=1))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    with scratch_env(request.param, tmp_path_factory.mktemp("alerts")) as env:
        clock = Clock()
        app = GridcoreApp(env, clock=clock)
        scenario(app, clock)
        yield World(app, clock)
        app.close()


def log(app: GridcoreApp, *classes: type) -> list[Any]:
    notes = app.recorder.select_notifications(start=1, limit=10**7,
                                              topics=[get_topic(c) for c in classes])
    return [app.mapper.to_domain_event(n) for n in notes]


def snapshot(views: Any, p: Projection) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(views.query(f"SELECT * FROM {t}"), key=repr) for t in p.tables}


def built(app: GridcoreApp, p: Projection, batch: int = 5000) -> Runner:
    runner = Runner(app, [p], batch=batch)
    runner.views.reset(p)
    runner.catch_up()
    return runner


@dataclass
class Folded:
    """An alert as the events say, folded here without the aggregate or the board."""

    grid_code: str
    source: str
    kind: str
    hour: datetime
    raised_at: datetime
    owner_code: str = ""
    state: str = "raised"
    escalations: int = 0
    detections: int = 1


def fold(app: GridcoreApp) -> dict[UUID, Folded]:
    out: dict[UUID, Folded] = {}
    for e in log(app, Alert.Raised, Alert.DetectionAttached, Alert.Escalated,
                 Alert.Acknowledged, Alert.Resolved):
        if isinstance(e, Alert.Raised):
            out[e.originator_id] = Folded(e.grid_code, e.source, e.kind.value,
                                          hour_start(e.first_at), e.timestamp, e.grid_code)
            continue
        a = out[e.originator_id]
        if isinstance(e, Alert.DetectionAttached):
            a.detections += 1
        elif isinstance(e, Alert.Escalated):
            a.owner_code, a.escalations = e.to_code, a.escalations + 1
        elif isinstance(e, Alert.Acknowledged):
            a.state = "acknowledged"
        else:
            a.state = "resolved"
    return out


def test_the_board_equals_a_fold_of_the_events(world: World) -> None:
    app, p, now = world.app, alb.AlertsBoard(), world.clock.now
    runner = built(app, p)
    folded = fold(app)
    open_ = {a: f for a, f in folded.items() if f.state != "resolved"}
    assert len(open_) > 10 and len(open_) < len(folded)
    rows = alb.open_alerts(runner.views, now)
    assert [r.alert_id for r in rows] == sorted(open_, key=lambda a: (open_[a].raised_at,
                                                                      str(a)))
    for r in rows:
        f = open_[r.alert_id]
        assert (r.owner_code, r.state.value, r.escalations, r.detections, r.source) == (
            f.owner_code, f.state, f.escalations, f.detections, f.source)
        assert r.age_minutes == pytest.approx((now - f.raised_at).total_seconds() / 60)
        a = app.alert(r.alert_id)  # and the aggregate agrees
        assert (r.deadline, r.assignee, r.level) == (a.deadline, a.assignee, a.level)
    assert any(r.escalations for r in rows) and any(r.detections > 1 for r in rows)

    by_grid = alb.open_by_grid(runner.views)
    assert {g: c.open for g, c in by_grid.items()} == dict(Counter(f.grid_code
                                                                   for f in open_.values()))
    assert {g: c.unacknowledged for g, c in by_grid.items()} == dict(Counter(
        f.grid_code for f in open_.values() if f.state == "raised"))
    zone = alb.open_alerts(runner.views, now, scope_code=ZONES[0])
    assert {r.alert_id for r in zone} == {a for a, f in open_.items()
                                          if f.grid_code == ZONES[0]}
    assert {r.alert_id for r in alb.open_alerts(runner.views, now, kind="vehicle")} == {
        a for a, f in open_.items() if f.kind == "vehicle"}

    steps = alb.escalations(runner.views, awaiting_only=False)
    assert Counter(s.alert_id for s in steps) == Counter(
        {a: f.escalations for a, f in folded.items() if f.escalations})
    assert {s.alert_id for s in alb.escalations(runner.views)} == {
        a for a, f in folded.items() if f.escalations and f.state == "raised"}
    resolved = [app.alert(a) for a, f in folded.items() if f.state == "resolved"]
    assert alb.outcomes(runner.views) == dict(Counter(a.outcome for a in resolved))
    assert Outcome.BREACH_CONFIRMED in alb.outcomes(runner.views)


def test_passes_and_alerts_per_checkpoint_hour(world: World) -> None:
    app, p = world.app, alb.AlertsBoard()
    runner = built(app, p)
    passes: Counter[tuple[str, datetime]] = Counter()
    for e in log(app, PassTally.Counted):
        for c in e.counts:
            passes[(c.checkpoint_id, c.hour)] += c.passes
    alerts = Counter((f.source, f.hour) for f in fold(app).values() if f.kind == "vehicle")
    rows = alb.checkpoint_hours(runner.views)
    assert {(r.checkpoint_id, r.hour): (r.passes, r.alerts) for r in rows} == {
        k: (passes[k], alerts[k]) for k in set(passes) | set(alerts)}
    assert sum(r.passes for r in rows) == 60  # every pass once, the replayed tally ignored
    assert sum(r.alerts for r in rows) > 0
    assert [r for r in rows if r.checkpoint_id == "KK-2"] == alb.checkpoint_hours(
        runner.views, "KK-2")


def test_rebuild_and_small_batches_give_the_same_rows(world: World) -> None:
    app, p = world.app, alb.AlertsBoard()
    runner = built(app, p)
    first = snapshot(runner.views, p)
    assert all(first[t] for t in p.tables)
    assert runner.rebuild(p.name) > 0
    assert snapshot(runner.views, p) == first
    small = built(app, p, batch=7)
    assert snapshot(small.views, p) == first
    stored = {str(v) for rows in first.values() for row in rows for v in row}
    assert not any(plate in v for v in stored for plate in PLATES)  # no plates kept


_cache: dict[int, Any] = {}


def _memory_views() -> SQLiteViews:
    return SQLiteViews(SQLiteDatastore(f"file:alerts-{uuid.uuid4().hex}?mode=memory&cache=shared"))


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(cuts=st.lists(st.floats(0, 1), max_size=40))
def test_any_batch_boundaries_give_the_same_rows(world: World, cuts: list[float]) -> None:
    p = alb.AlertsBoard()
    if id(world.app) not in _cache:
        notes = world.app.recorder.select_notifications(start=1, limit=10**7,
                                                        topics=p.topics())
        events = [(n.id, world.app.mapper.to_domain_event(n)) for n in notes]
        views = _memory_views()
        views.setup(p)
        views.apply_batch(p, events, events[-1][0])
        _cache[id(world.app)] = (events, snapshot(views, p))
    events, whole = _cache[id(world.app)]
    bounds = sorted({0, len(events), *(int(c * len(events)) for c in cuts)})
    views = _memory_views()
    views.setup(p)
    for a, b in pairwise(bounds):
        views.apply_batch(p, events[a:b], events[b - 1][0])
    assert snapshot(views, p) == whole


def test_acknowledged_alerts_leave_the_unacknowledged_count(world: World) -> None:
    app = world.app
    runner = built(app, alb.AlertsBoard())
    counts = alb.open_by_grid(runner.views)
    for grid, c in counts.items():
        assert c.unacknowledged <= c.open
        assert c.oldest_raised_at == min(r.raised_at for r in alb.open_alerts(
            runner.views, world.clock.now) if r.grid_code == grid)
    assert any(c.unacknowledged < c.open for c in counts.values())
    assert all(r.state in (AlertState.RAISED, AlertState.ACKNOWLEDGED)
               for r in alb.open_alerts(runner.views, world.clock.now))


def test_the_household_timeline_shows_a_door_camera_alert_and_its_handling(
        clock: Clock, tmp_path) -> None:
    """The timeline joins the alerts of the household's door camera, with who handled them,
    and never the free text of the action taken."""
    from gridcore.alerts import Outcome
    from projections.household_timeline import HouseholdTimeline, timeline
    from projections.runner import Runner
    from tests.application.test_alert_commands import build

    app = GridcoreApp(sqlite_env(tmp_path / "t.sqlite"), clock=clock)
    w = build(app, clock)
    alert = app.record_camera_detection("D-1", "CAM-1", clock.now, "out", 0.95, by=System.OPERATOR)
    assert alert is not None
    app.acknowledge_alert(alert, w.c.worker)
    with pytest.raises(InvalidInput, match="phone number"):  # free text names no one
        app.resolve_alert(alert, w.c.worker, Outcome.BREACH_CONFIRMED, "劝返 13812345678")
    app.resolve_alert(alert, w.c.worker, Outcome.BREACH_CONFIRMED, "劝返 已回家")
    runner = Runner(app, [HouseholdTimeline()])
    runner.catch_up()
    kinds = [(row["kind"], row["actor"]) for row in timeline(runner.views, w.quarantined)
             if row["kind"].startswith("alert.")]
    assert kinds == [("alert.raised", w.c.worker), ("alert.acknowledged", w.c.worker),
                     ("alert.resolved", w.c.worker)]
    text = repr(timeline(runner.views, w.quarantined))
    assert "劝返" not in text and "13812345678" not in text
    app.close()
