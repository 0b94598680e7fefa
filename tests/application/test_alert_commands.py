"""Camera and vehicle alerts through the application, on every store: who gets them, how
duplicates and replays are absorbed, acknowledgement, resolution and escalation by tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.settings import memory_env
from gridcore.alerts import Alert, AlertKind, AlertState, Outcome, alert_id_for
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.camera import group_detections
from gridcore.grid import Level
from gridcore.policy import DEFAULT_POLICY
from gridcore.staff import Role, staff_id
from gridcore.status import Measure
from tests.conftest import Clock
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES, Community, given_community


@dataclass
class World:
    app: GridcoreApp
    clock: Clock
    c: Community
    quarantined: UUID  # the household watched by CAM-1, under home quarantine from t0
    since: datetime


def build(app: GridcoreApp, clock: Clock) -> World:
    c = given_community(app)
    app.assign_responsible_worker(ZONES[0], c.worker, by=System.OPERATOR)
    hid = c.households[0]
    rid = sorted(app.household(hid).residents)[0]
    app.register_camera("CAM-1", ZONES[0], household_id=hid, by=System.OPERATOR)
    app.register_checkpoint("KK-1", COMMUNITY, "后湖大道卡口", by=System.OPERATOR)
    app.register_checkpoint("KK-2", ZONES[0], "一片区路口", by=System.OPERATOR)
    clock.advance(hours=1)
    app.change_measure(hid, rid, Measure.HOME_QUARANTINE, c.worker, "密接")
    since = clock.now
    clock.advance(hours=1)
    return World(app, clock, c, hid, since)


@pytest.fixture
def world(app: GridcoreApp, clock: Clock) -> World:
    return build(app, clock)


def last(app: GridcoreApp) -> int:
    return app.recorder.max_notification_id() or 0


def raised(app: GridcoreApp) -> list[UUID]:
    notes = app.recorder.select_notifications(start=1, limit=10**6,
                                              topics=[get_topic(Alert.Raised)])
    return [n.originator_id for n in notes]


# ---- camera ------------------------------------------------------------------------------------

def test_a_detection_alerts_only_under_quarantine_and_above_the_threshold(world: World) -> None:
    app, t = world.app, world.clock.now
    before = last(app)
    assert app.record_camera_detection("D-early", "CAM-1", world.since - timedelta(seconds=1),
                                       "out", 0.99, by=System.FEED) is None  # not quarantined yet
    threshold = DEFAULT_POLICY.camera_confidence_threshold
    assert app.record_camera_detection("D-weak", "CAM-1", t, "out", threshold - 0.01,
                                       by=System.FEED) is None
    assert last(app) == before  # a detection that does not alert writes nothing
    aid = app.record_camera_detection("D-1", "CAM-1", t, "out", threshold, by=System.FEED)
    assert aid == alert_id_for("camera", "D-1")
    alert = app.alert(aid)
    assert (alert.kind, alert.state, alert.assignee, alert.grid_code, alert.level) == (
        AlertKind.CAMERA, AlertState.RAISED, world.c.worker, ZONES[0], Level.MICRO_GRID)
    assert alert.household_id == world.quarantined and "out" in alert.reason


def test_a_detection_is_judged_by_the_measures_at_its_own_time(world: World) -> None:
    app, clock, c = world.app, world.clock, world.c
    h = app.household(world.quarantined)
    rid = sorted(h.residents)[0]
    during = clock.now
    clock.advance(hours=2)
    app.change_measure(h.id, rid, Measure.NONE, c.doctor, "解除", override_reason="核酸阴性")
    released = clock.now
    assert app.record_camera_detection("D-after", "CAM-1", released, "out", 0.99,
                                       by=System.FEED) is None
    late = app.record_camera_detection("D-during", "CAM-1", during, "out", 0.99, by=System.FEED)
    assert late is not None and app.alert(late).first_at == during  # reported late, still due


def test_detections_within_the_window_are_one_alert(world: World) -> None:
    app, t = world.app, world.clock.now
    first = app.record_camera_detection("D-1", "CAM-1", t, "out", 0.9, by=System.FEED)
    assert app.record_camera_detection("D-2", "CAM-1", t + timedelta(seconds=119), "in",
                                       0.95, by=System.FEED) == first
    assert app.record_camera_detection("D-0", "CAM-1", t - timedelta(seconds=30), "out",
                                       0.95, by=System.FEED) == first  # late, still the window
    second = app.record_camera_detection("D-3", "CAM-1", t + timedelta(minutes=2), "in", 0.9,
                                         by=System.FEED)
    assert second not in (None, first)
    assert app.alert(first).detections == 3 and app.alert(second).detections == 1
    assert raised(app) == [first, second]


def test_a_duplicate_or_a_replay_writes_nothing(world: World) -> None:
    app, t = world.app, world.clock.now
    inputs = [(f"D-{n}", t + timedelta(seconds=40 * n), ("in", "out")[n % 2]) for n in range(8)]
    first = [app.record_camera_detection(d, "CAM-1", at, way, 0.9,
                                         by=System.FEED) for d, at, way in inputs]
    written = last(app)
    again = [app.record_camera_detection(d, "CAM-1", at, way, 0.9,
                                         by=System.FEED) for d, at, way in inputs]
    assert again == first and last(app) == written
    assert len(set(first)) == len(group_detections([at for _, at, _ in inputs],
                                                   DEFAULT_POLICY))


def test_a_building_entrance_alerts_for_any_household_of_the_building(app: GridcoreApp,
                                                                      clock: Clock) -> None:
    c = given_community(app)
    app.register_building(COMMUNITY, "1", "1栋", 6, by=System.OPERATOR)
    from gridcore.building import building_id

    b = building_id(COMMUNITY, "1")
    for hid in c.households[:2]:
        app.move_household(hid, ZONES[0], b, by=System.OPERATOR)
    app.register_camera("CAM-B", COMMUNITY, building_id=b, by=System.OPERATOR)
    clock.advance(minutes=1)
    assert app.record_camera_detection("D-1", "CAM-B", clock.now, "in", 0.99,
                                       by=System.FEED) is None
    second = app.household(c.households[1])
    app.change_measure(second.id, sorted(second.residents)[1], Measure.HOME_QUARANTINE,
                       c.worker)
    clock.advance(minutes=1)
    aid = app.record_camera_detection("D-2", "CAM-B", clock.now, "in", 0.99, by=System.FEED)
    assert aid is not None and app.alert(aid).building_id == b
    assert app.alert(aid).level is Level.COMMUNITY


def test_the_threshold_in_force_at_the_detection_time_decides(world: World) -> None:
    app, t = world.app, world.clock.now
    app.enrol_staff("OFFC", "市指挥部", Role.OFFICIAL, CITY, 0, by=System.OPERATOR)
    app.adopt_policy(DEFAULT_POLICY.with_changes(camera_confidence_threshold=0.5),
                     t + timedelta(hours=1), "夜间降低阈值", by=staff_id("OFFC"))
    assert app.record_camera_detection("D-1", "CAM-1", t, "out", 0.6, by=System.FEED) is None
    world.clock.advance(hours=1)  # the server's clock is never behind a detection
    assert app.record_camera_detection("D-2", "CAM-1", t + timedelta(hours=1), "out",
                                       0.6, by=System.FEED) is not None


# ---- vehicles ----------------------------------------------------------------------------------

def test_a_pass_alerts_after_a_visit_to_a_high_risk_area(world: World) -> None:
    app, t = world.app, world.clock.now
    app.declare_risk_area("R-1", "武汉市", "high", t - timedelta(days=30), by=System.FEED)
    app.lift_risk_area("R-1", "武汉市", t - timedelta(days=5), by=System.FEED)
    app.record_travel("T-1", "浙A12345", "武汉市江岸区", t - timedelta(days=4), by=System.FEED)
    before = last(app)
    assert app.record_vehicle_pass("P-1", "KK-1", "浙A12345", t,
                                   by=System.FEED) is None  # visited after lift
    assert last(app) == before
    app.record_travel("T-2", "浙A12345", "武汉市硚口区", t - timedelta(days=6), by=System.FEED)
    aid = app.record_vehicle_pass("P-2", "KK-1", "浙A·12345", t, by=System.FEED)
    assert aid == alert_id_for("vehicle", "P-2")
    alert = app.alert(aid)
    assert alert.plate == "浙A12345" and "武汉市硚口区" in alert.reason
    assert alert.assignee is None and alert.level is Level.COMMUNITY  # no worker at community
    written = last(app)
    assert app.record_vehicle_pass("P-2", "KK-1", "浙A12345", t, by=System.FEED) == aid
    app.record_travel("T-2", "浙A12345", "武汉市硚口区", t - timedelta(days=6), by=System.FEED)
    app.declare_risk_area("R-1", "武汉市", "high", t - timedelta(days=30), by=System.FEED)
    app.lift_risk_area("R-1", "武汉市", t - timedelta(days=5), by=System.FEED)
    assert last(app) == written  # replays of every input write nothing


def test_a_pass_alerts_when_the_plate_region_is_high_risk(world: World) -> None:
    app, t = world.app, world.clock.now
    app.declare_risk_area("R-2", "鄂A", "high", t, by=System.FEED)
    assert app.record_vehicle_pass("P-1", "KK-2", "鄂A88888", t - timedelta(seconds=1),
                                   by=System.FEED) is None
    aid = app.record_vehicle_pass("P-2", "KK-2", "鄂a88888", t, by=System.FEED)
    assert aid is not None and "鄂A" in app.alert(aid).reason
    assert app.alert(aid).assignee == world.c.worker  # KK-2 is in the worker's micro-grid


def test_an_alert_decided_outside_is_raised_once(world: World) -> None:
    app, t = world.app, world.clock.now
    aid = app.raise_vehicle_alert("P-9", "KK-1", "鄂A12345", t, "14天内到过高风险地区 武汉市",
                                  by=System.FEED)
    written = last(app)
    assert app.raise_vehicle_alert("P-9", "KK-1", "鄂A12345", t, "again", by=System.FEED) == aid
    assert last(app) == written and raised(app) == [aid]


def test_a_batch_of_alerts_decided_outside_raises_each_once_like_one_at_a_time(
        world: World) -> None:
    from gridcore.errors import NotFound

    app, t = world.app, world.clock.now
    why = "车牌属地为高风险地区 plate region 鄂B is high-risk"
    one = app.raise_vehicle_alert("P-1", "KK-2", "鄂B12345", t, why, by=System.FEED)
    batch = [("P-1", "KK-2", "鄂B12345", t, why), ("P-2", "KK-2", "鄂B22222", t, why),
             ("P-3", "KK-1", "鄂B33333", t, why), ("P-2", "KK-2", "鄂B22222", t, why)]
    ids = app.raise_vehicle_alerts(batch, by=System.FEED)
    assert ids == [alert_id_for(AlertKind.VEHICLE, p) for p, *_ in batch]
    assert raised(app) == [one, ids[1], ids[2]]
    twin = app.alert(app.raise_vehicle_alert("P-4", "KK-2", "鄂B44444", t, why, by=System.FEED))
    got = app.alert(ids[1])
    assert (got.kind, got.grid_code, got.level, got.assignee, got.reason) == (
        twin.kind, twin.grid_code, twin.level, twin.assignee, twin.reason)
    written = last(app)
    assert app.raise_vehicle_alerts(batch,
                                    by=System.FEED) == ids and last(app) == written  # a replay
    with pytest.raises(NotFound) as info:  # one unknown checkpoint refuses the whole batch
        app.raise_vehicle_alerts([("P-5", "KK-1", "鄂B55555", t, why),
                                  ("P-6", "KK-404", "鄂B66666", t, why)], by=System.FEED)
    assert "Alert 2 of 2" in info.value.problem and info.value.remedy
    assert last(app) == written


def test_passes_are_counted_once_per_source(world: World) -> None:
    app, hour = world.app, world.clock.now.replace(minute=0)
    assert app.count_vehicle_passes({("KK-1", hour): 40, ("KK-2", hour): 3}, "file-abc",
                                    by=System.FEED)
    written = last(app)
    assert app.count_vehicle_passes({("KK-1", hour): 40}, "file-abc", by=System.FEED) is None
    assert last(app) == written


def tallied(app: GridcoreApp, source: str) -> dict[tuple[str, datetime], int] | None:
    from gridcore.vehicle import PassTally, pass_tally_id

    tally = app._find(PassTally, pass_tally_id(source))
    return None if tally is None else {(r.checkpoint_id, r.hour): r.passes for r in tally.counts}


def test_a_batch_of_passes_stores_its_alerts_with_its_counts_or_neither(
        world: World, make_app: Any) -> None:
    from gridcore.errors import NotFound

    app, t = world.app, world.clock.now
    hour = t.replace(minute=0, second=0, microsecond=0)
    why = "车牌属地为高风险地区 plate region 鄂B is high-risk"
    alerts = [("P-1", "KK-2", "鄂B12345", t, why), ("P-2", "KK-1", "鄂B22222", t, why)]
    counts = {("KK-1", hour): 30, ("KK-2", hour): 12}
    before = last(app)
    with pytest.raises(NotFound, match="KK-404"):  # a bad count: not the alerts either
        app.record_vehicle_passes(alerts, {"t/0/0-41": {**counts, ("KK-404", hour): 1}},
                                  by=System.FEED)
    with pytest.raises(NotFound) as info:  # a bad alert: not the counts either
        app.record_vehicle_passes([*alerts, ("P-3", "KK-404", "鄂B33333", t, why)],
                                  {"t/0/0-41": counts}, by=System.FEED)
    assert "Alert 3 of 3" in info.value.problem and info.value.remedy
    assert last(app) == before and tallied(app, "t/0/0-41") is None

    ids = app.record_vehicle_passes(alerts, {"t/0/0-41": counts}, by=System.FEED)
    assert ids == [alert_id_for(AlertKind.VEHICLE, p) for p, *_ in alerts]
    assert raised(app) == ids and tallied(app, "t/0/0-41") == counts
    got = app.alert(ids[0])
    assert (got.kind, got.grid_code, got.reason) == (AlertKind.VEHICLE, ZONES[0], why)
    written = last(app)
    assert app.record_vehicle_passes(alerts, {"t/0/0-41": counts}, by=System.FEED) == ids
    assert last(app) == written  # the same batch again: nothing

    # Another worker's application over the same store records a batch this one's cache
    # has not seen: the same alerts under a new source, and a new alert under that source.
    other = make_app()
    other.record_vehicle_passes(alerts, {"t/0/42-46": {("KK-1", hour): 5}}, by=System.FEED)
    assert tallied(app, "t/0/42-46") == {("KK-1", hour): 5} and raised(app) == ids
    more = [*alerts, ("P-4", "KK-1", "鄂B44444", t, why)]
    new = app.record_vehicle_passes(more, {"t/0/42-46": {("KK-1", hour): 99},
                                           "t/1/0-6": {("KK-2", hour): 7}}, by=System.FEED)
    assert raised(app) == [*ids, new[2]]
    assert tallied(app, "t/0/42-46") == {("KK-1", hour): 5}  # counted once per source
    assert tallied(app, "t/1/0-6") == {("KK-2", hour): 7}  # the other source counted
    with pytest.raises(NotFound) as info:  # several sources: the bad one is named
        app.record_vehicle_passes([], {"t/2/0-1": {("KK-1", hour): 1},
                                       "t/3/0-1": {("KK-404", hour): 1}}, by=System.FEED)
    assert "'t/3/0-1'" in info.value.problem and tallied(app, "t/2/0-1") is None


# ---- handling and escalation -------------------------------------------------------------------

def test_an_unacknowledged_alert_escalates_a_level_per_deadline_up_to_the_city(world: World
                                                                              ) -> None:
    app, clock = world.app, world.clock
    aid = app.record_camera_detection("D-1", "CAM-1", clock.now, "out", 0.9, by=System.FEED)
    minutes = DEFAULT_POLICY.alert_acknowledge_minutes
    due = clock.now + timedelta(minutes=minutes)
    assert app.tick(due)["alerts"] == 0  # at the deadline it is still in time
    seen, now = [], due
    for _ in range(6):
        deadline = app.alert(aid).deadline
        now = (deadline or now) + timedelta(seconds=1)
        if deadline is not None:  # each level has the acknowledgement minutes again
            assert app.tick(now - timedelta(seconds=2))["alerts"] == 0
        app.tick(now)
        assert app.tick(now)["alerts"] == 0  # once per deadline, however often it runs
        a = app.alert(aid)
        seen.append((a.owner_code, a.level))
    assert seen == [(COMMUNITY, Level.COMMUNITY), (STREET, Level.STREET),
                    (DISTRICT, Level.DISTRICT), (CITY, Level.CITY), (CITY, Level.CITY),
                    (CITY, Level.CITY)]
    a = app.alert(aid)
    assert a.escalations == 4 and a.deadline is None and a.state is AlertState.RAISED


def test_an_acknowledged_alert_no_longer_escalates_and_is_resolved(world: World) -> None:
    app, clock, c = world.app, world.clock, world.c
    aid = app.record_camera_detection("D-1", "CAM-1", clock.now, "out", 0.9, by=System.FEED)
    clock.advance(minutes=5)
    app.acknowledge_alert(aid, c.worker)
    assert app.tick(clock.now + timedelta(hours=5))["alerts"] == 0
    app.resolve_alert(aid, c.worker, Outcome.BREACH_CONFIRMED, "劝返回家，通知社区民警")
    a = app.alert(aid)
    assert (a.state, a.outcome, a.acknowledged_by, a.owner_code) == (
        AlertState.RESOLVED, Outcome.BREACH_CONFIRMED, c.worker, ZONES[0])
    clock.advance(hours=1)
    other = app.record_camera_detection("D-9", "CAM-1", clock.now, "in", 0.9, by=System.FEED)
    app.resolve_alert(other, c.volunteer, "false_alarm")  # straight from raised
    assert app.alert(other).outcome is Outcome.FALSE_ALARM
    assert app.tick(clock.now + timedelta(hours=9))["alerts"] == 0


# ---- any order of duplicated deliveries (hypothesis, in memory) --------------------------------

@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 600)), min_size=1, max_size=25))
def test_redelivered_detections_make_one_alert_each(deliveries: list[tuple[int, int]]) -> None:
    clock = Clock()
    app = GridcoreApp(memory_env(), clock=clock)
    w = build(app, clock)
    when = {n: w.clock.now + timedelta(seconds=s) for n, s in reversed(deliveries)}
    clock.advance(seconds=600)  # the server's clock is never behind a detection
    for n, _ in deliveries:  # an input always carries the same time: the first one listed
        app.record_camera_detection(f"D-{n}", "CAM-1", when[n], "out", 0.9, by=System.FEED)
    written, alerts = last(app), raised(app)
    for n, _ in deliveries:
        app.record_camera_detection(f"D-{n}", "CAM-1", when[n], "out", 0.9, by=System.FEED)
    assert last(app) == written
    members = [d for a in alerts for d in app.alert(a).inputs]
    assert sorted(members) == sorted({f"D-{n}" for n, _ in deliveries})
    assert len(alerts) == len(set(alerts))
    app.close()


PLACES = ["武汉市江岸区", "武汉市", "孝感市", "青岛市黄岛区"]
vehicle_inputs = st.lists(st.one_of(
    st.tuples(st.just("travel"), st.integers(0, 5), st.sampled_from(["浙A12345", "鄂A54321"]),
              st.sampled_from(PLACES), st.integers(-20 * 24, 0)),
    st.tuples(st.just("risk"), st.integers(0, 3), st.sampled_from(["武汉市", "鄂A", "孝感市"]),
              st.sampled_from(["high", "medium"]), st.integers(-30 * 24, 0)),
    st.tuples(st.just("pass"), st.integers(0, 8), st.sampled_from(["浙A12345", "鄂A54321"]),
              st.just(""), st.integers(-2, 2)),
), min_size=1, max_size=25)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(vehicle_inputs)
def test_vehicle_inputs_in_any_order_alert_by_the_rule_and_replay_to_nothing(
        inputs: list[tuple[str, int, str, str, int]]) -> None:
    from adapters import alert_inputs as ai
    from gridcore.risk import RiskLevel, RiskPeriod, vehicle_alert_reason

    clock = Clock()
    app = GridcoreApp(memory_env(), clock=clock)
    w = build(app, clock)
    t = w.clock.now
    clock.advance(hours=2)  # the server's clock is never behind a pass
    first: dict[tuple[str, int], tuple[str, ...]] = {}  # an input id keeps its first content
    records: list[Any] = []
    for kind, n, a, b, hours in inputs:
        key = first.setdefault((kind, n), (a, b, str(hours)))
        a, b, hours = key[0], key[1], int(key[2])
        at = t + timedelta(hours=hours)
        if kind == "travel":
            records.append(ai.TravelRecord(record_id=f"T-{n}", plate=a, place=b, at=at))
        elif kind == "risk":
            records.append(ai.RiskAreaDeclared(declaration_id=f"R-{n}", area=a, level=b,
                                               start=at))
        else:
            records.append(ai.VehiclePass(pass_id=f"P-{n}", checkpoint_id="KK-1", plate=a,
                                          at=at))
    travel: dict[str, dict[str, tuple[str, datetime]]] = {}
    risk: dict[str, dict[str, RiskPeriod]] = {}
    decided: dict[str, bool] = {}
    for r in records:
        found = ai.apply(app, r, System.FEED)
        if isinstance(r, ai.TravelRecord):
            travel.setdefault(r.plate, {}).setdefault(r.record_id, (r.place, r.at))
        elif isinstance(r, ai.RiskAreaDeclared):
            risk.setdefault(r.area, {}).setdefault(r.declaration_id, RiskPeriod(
                declaration_id=r.declaration_id, level=RiskLevel(r.level), start=r.start))
        else:
            # An independent record of what was known then: a pass that alerted keeps its
            # alert; one that did not is judged again when delivered again (late news).
            if not decided.get(r.pass_id):
                reason = vehicle_alert_reason(
                    r.plate, r.at, travel.get(r.plate, {}).values(),
                    {area: list(ps.values()) for area, ps in risk.items()}, DEFAULT_POLICY)
                decided[r.pass_id] = reason is not None
            assert bool(found) is decided[r.pass_id]
    assert sorted(raised(app), key=str) == sorted(
        (alert_id_for("vehicle", p) for p, alerted in decided.items() if alerted), key=str)
    # A replay: what alerted finds its alert; a pass that did not is judged again with what is
    # on record now, so it alerts only if a record covering it arrived after it (late news).
    known = {area: list(ps.values()) for area, ps in risk.items()}
    late = {r.pass_id for r in records if isinstance(r, ai.VehiclePass)
            and vehicle_alert_reason(r.plate, r.at, travel.get(r.plate, {}).values(), known,
                                     DEFAULT_POLICY) is not None}
    for r in records:
        ai.apply(app, r, System.FEED)
    assert sorted(raised(app), key=str) == sorted(
        (alert_id_for("vehicle", p) for p in {p for p, a in decided.items() if a} | late),
        key=str)
    written = last(app)
    for r in records:  # and a second replay changes nothing at all
        ai.apply(app, r, System.FEED)
    assert last(app) == written
    ordered = sorted(records, key=lambda r: isinstance(r, ai.VehiclePass))
    fresh = GridcoreApp(memory_env(), clock=clock)
    build(fresh, clock)
    for r in ordered:  # records before passes (as ``gridcore ingest`` applies a file)
        ai.apply(fresh, r, System.FEED)
    written = last(fresh)
    for r in ordered:
        ai.apply(fresh, r, System.FEED)
    assert last(fresh) == written
    fresh.close()
    app.close()
