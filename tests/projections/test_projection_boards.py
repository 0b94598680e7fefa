"""The delivery, enterprise and requests boards: a small 712 community run through the demo's
delivery and request days, plus further deliveries, enterprises and requests; checked against
the application's aggregates and queries, rebuilt from zero, applied in batches of 7 and of
arbitrary sizes, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import secrets
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from eventsourcing.sqlite import SQLiteDatastore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import demo, demo_field
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.delivery import Delivery, DeliveryKind, DeliveryState, Item, delivery_id
from gridcore.enterprise import Enterprise, Resumption, enterprise_id
from gridcore.errors import InvalidInput
from gridcore.grid import GridNode, Level
from gridcore.policy import DEFAULT_POLICY
from gridcore.requests import AWAITING, ResidentRequest, new_reference
from gridcore.staff import Role
from projections import delivery_board as dlv
from projections import enterprise_board as ent
from projections import requests_board as req
from projections.base import Projection
from projections.runner import Runner
from projections.views import SQLiteViews
from tests.conftest import Clock
from tests.scenario import COMMUNITY as C712
from tests.scenario import ZONES as Z712
from tests.scenario import given_community
from tests.stores import scratch_env

COMMUNITY, STREET, CITY = demo.COMMUNITY, demo.STREET, demo.CITY
OTHER = f"{STREET}713"
ZONES = [demo.zone_code(z) for z in range(1, 5)]
MOVED_ZONE = ZONES[-1]
VEG = Item(name="爱心菜", quantity=1, unit="份")
CHECKLIST = list(DEFAULT_POLICY.resumption_checklist)
ITEMS = list(DEFAULT_POLICY.inspection_items)


@dataclass
class World:
    app: GridcoreApp
    clock: demo.ScenarioClock


def community(app: GridcoreApp, clock: demo.ScenarioClock) -> None:
    """The 712 community with four zones of 20 households, its staff and squads."""
    app.establish_city(CITY, "武汉市", by=System.OPERATOR)
    app.create_node(demo.DISTRICT, "江岸区", CITY, by=System.OPERATOR)
    app.create_node(STREET, "后湖街道", demo.DISTRICT, by=System.OPERATOR)
    app.create_node(COMMUNITY, "712社区", STREET, by=System.OPERATOR)
    for z, zone in enumerate(ZONES, start=1):
        app.create_node(zone, f"第{z}片区", COMMUNITY, by=System.OPERATOR)
        for n in range(20):
            no = f"712-{z}-{n:02d}"
            app.register_household(no, zone, f"{z}栋{n + 1}01", [
                new_member(no, 1, "张三", f"1381234{z}{n:03d}", None, 1950 + n),
                new_member(no, 2, "李四", None, None, 1985)], by=System.OPERATOR)
    app.enrol_staff("712-GW-1", "王芳", Role.GRID_WORKER, COMMUNITY, 40, "13900001111",
                    by=System.OPERATOR)
    app.enrol_staff("712-DUTY", "总值班", Role.DUTY_LEAD, COMMUNITY, 0, by=System.OPERATOR)
    for z, zone in enumerate(ZONES, start=1):
        for k in (1, 2):
            app.enrol_staff(f"712-PM{z}{k}", f"党员{z}{k}", Role.PARTY_MEMBER, COMMUNITY, 25,
                            by=System.OPERATOR)
        app.form_squad(zone, [app.staff_by_no(f"712-PM{z}{k}").id for k in (1, 2)],
                       by=System.OPERATOR)


def more_deliveries(app: GridcoreApp, clock: demo.ScenarioClock) -> None:
    """A second donation: some delivered, some failed, the rest out (overdue after the tick)."""
    clock.at(6, 8)
    app.donate_to_scope(COMMUNITY, "AXC-0223", [VEG], "爱心企业捐赠", by=System.OPERATOR)
    app.place_order(sorted(app.micro_grids(COMMUNITY)[2].households, key=str)[0], "TG-900",
                    [VEG], by=System.OPERATOR)
    clock.at(6, 9)
    app.dispatch_deliveries(COMMUNITY, limit=50, by=System.OPERATOR)
    out = sorted(app.delivery_desk(COMMUNITY).due, key=str)
    for n, did in enumerate(out[:30]):
        clock.at(6, 10, n)
        d = app.delivery(did)
        if n % 8 == 0:
            app.report_failed_delivery(did, f"无人应答 no answer #{n}", by=d.staff[0])
        else:
            app.confirm_delivery(did, d.staff[0])
    app.tick(clock.at(7, 12))
    app.redeliver(out[8], by=System.OPERATOR)


def enterprises(app: GridcoreApp, clock: demo.ScenarioClock) -> None:
    """Six enterprises in three zones and two departments; a zone later moves to another
    community, taking its enterprise with it."""
    clock.at(8, 8)
    for no in ("ES1", "ES2"):
        app.enrol_staff(no, f"专员{no}", Role.ENTERPRISE_SPECIALIST, COMMUNITY, 0,
                        by=System.OPERATOR)
    s1, s2 = app.staff_by_no("ES1").id, app.staff_by_no("ES2").id
    codes = [f"91510100MA61R8X{n:03d}" for n in range(6)]
    zones = [ZONES[0], ZONES[1], MOVED_ZONE]
    for n, code in enumerate(codes):
        app.register_enterprise(code, f"企业{n}", ("经济运行局", "商务局")[n % 2], zones[n % 3],
                                (s1, s2)[n % 2], by=System.OPERATOR)
    eids = [enterprise_id(c) for c in codes]
    app.assign_specialist(eids[5], s1, by=System.OPERATOR)
    for n, eid in enumerate(eids[:5]):
        app.file_resumption(eid, CHECKLIST, employees=10 + n, by=System.OPERATOR)
        if n < 4:
            app.declare_employee_health(eid, 10, by=System.OPERATOR)
    specialist = {eid: app.enterprise(eid).specialist for eid in eids}
    for eid in eids[:3]:
        app.review_resumption(eid, specialist[eid], approved=True)
    app.review_resumption(eids[3], specialist[eids[3]], approved=False, reasons=["口罩储备不足"])
    clock.at(8, 10)
    for n, eid in enumerate(eids[:3]):
        app.inspect_enterprise(eid, specialist[eid], {i: (k + n) % 3 != 0
                                                      for k, i in enumerate(ITEMS)})
    clock.at(9, 10)
    first = sorted(app.enterprise(eids[0]).rectifications)[0]
    app.close_rectification(eids[0], first, specialist[eids[0]])
    app.tick(clock.at(12, 12))
    app.inspect_enterprise(eids[1], specialist[eids[1]], dict.fromkeys(ITEMS, False))
    app.create_node(OTHER, "713社区", STREET, by=System.OPERATOR)
    app.move_node(MOVED_ZONE, OTHER, by=System.OPERATOR)


def requests(app: GridcoreApp, clock: demo.ScenarioClock) -> None:
    """Requests left to escalate (one up to the city), one regraded, one reopened."""
    clock.at(13, 8)
    zone = app.micro_grids(COMMUNITY)[0]
    households = sorted(zone.households, key=str)
    worker = app.staff_by_no("712-GW-1").id
    filings = [app.file_request(("online", "hotline", "chat")[n % 3],
                                ("supplies", "medical", "complaint")[n % 3],
                                ("urgent", "normal")[n % 2], f"第{n}件诉求内容",
                                household=households[n], by=System.PUBLIC) for n in range(8)]
    filed, refs = [f.request_id for f in filings], [f.reference for f in filings]
    app.assign_request(filed[1], worker, by=System.OPERATOR)
    app.classify_request(filed[1], grade="urgent", by=System.OPERATOR)
    app.assign_request(filed[3], worker, by=System.OPERATOR)
    app.resolve_request(filed[3], worker, "已处理完毕")
    app.rate_request(refs[3], 2, by=System.PUBLIC)
    app.reopen_request(refs[3], "问题没有解决", by=System.PUBLIC)
    app.tick(clock.at(13, 11))  # the urgent ones go to the street
    app.tick(clock.at(13, 14))  # and on to the district
    app.tick(clock.at(13, 17))  # and the city
    clock.at(13, 18)
    late = app.file_request("hotline", "medical", "urgent", "晚上需要就医",
                            household=households[9], by=System.PUBLIC).request_id
    app.tick(clock.at(13, 20))  # whose missed deadline is recorded
    app.resolve_request(filed[5], worker, "已答复")
    assert app.request(late).level is Level.STREET


DRAWN: list[bytes] = []
"""The random bytes the worlds' references were drawn from (the test knows every reference:
the application keeps none in plain)."""


def _drawn_and_kept(size: int) -> bytes:
    DRAWN.append(secrets.token_bytes(size))
    return DRAWN[-1]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    with scratch_env(request.param, tmp_path_factory.mktemp("boards")) as env:
        clock = demo.ScenarioClock()
        app = GridcoreApp(env, clock=clock)
        app.reference_bytes = _drawn_and_kept
        community(app, clock)
        demo_field.requests(app, clock)
        demo_field.deliveries(app, clock, random.Random(7))
        more_deliveries(app, clock)
        enterprises(app, clock)
        requests(app, clock)
        yield World(app, clock)
        app.close()


def snapshot(views: Any, p: Projection) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(views.query(f"SELECT * FROM {t}"), key=repr) for t in p.tables}


def built(app: GridcoreApp, p: Projection, batch: int = 5000) -> Runner:
    """A runner whose projection starts from zero (the module's world is shared)."""
    runner = Runner(app, [p], batch=batch)
    runner.views.reset(p)
    runner.catch_up()
    return runner


def check_rebuild_and_small_batches(app: GridcoreApp, p: Projection, runner: Runner) -> None:
    first = snapshot(runner.views, p)
    assert all(first.values())
    assert runner.rebuild(p.name) > 0
    assert snapshot(runner.views, p) == first
    small = built(app, p, batch=7)
    assert small.status()[0].lag == 0
    assert snapshot(small.views, p) == first


def log(app: GridcoreApp, *classes: type) -> list[Any]:
    """The decoded events of these classes, in log order (the independent fold's input)."""
    from eventsourcing.utils import get_topic

    notes = app.recorder.select_notifications(start=1, limit=10**7,
                                              topics=[get_topic(c) for c in classes])
    return [app.mapper.to_domain_event(n) for n in notes]


# ---- deliveries ------------------------------------------------------------------------------

def test_delivery_board_equals_the_deliveries(world: World) -> None:
    app, p = world.app, dlv.DeliveryBoard()
    runner = built(app, p)
    ids = [e.originator_id for e in log(app, Delivery.Placed)]
    out = [d for d in map(app.delivery, ids) if d.state is DeliveryState.DISPATCHED]
    board = dlv.backlog(runner.views)
    assert out and board.total == len(out)
    assert board.by_zone == dict(Counter(d.zone for d in out))
    assert board.by_staff == dict(Counter(str(s) for d in out for s in d.staff))
    assert board.overdue_by_zone == dict(Counter(d.zone for d in out if d.overdue))
    assert board.overdue_by_zone  # the tick marked the ones still out

    fails = sorted((d for d in map(app.delivery, ids) if d.state is DeliveryState.FAILED),
                   key=lambda d: str(d.id))
    rows = sorted(dlv.failed(runner.views), key=lambda f: str(f.delivery_id))
    assert len(rows) == 3 and [r.delivery_id for r in rows] == [d.id for d in fails]
    assert [(r.reason, r.failures, r.attempts, r.zone, r.household_id) for r in rows] == [
        (d.failures[-1], len(d.failures), d.attempts, d.zone, d.household_id) for d in fails]
    assert "配送失败" in rows[0].label and rows[0].kind is DeliveryKind.DONATION

    for scope in (COMMUNITY, demo.zone_code(3)):
        for day, days in ((6, 1), (7, 1), (7, 2), (9, 2), (12, 5)):
            now = demo.SWEEP_START + timedelta(days=day, hours=4)
            mine = dlv.households_without_delivery(runner.views, scope, days, now)
            assert mine == app.households_without_delivery(scope, days, now), (scope, day)
    assert dlv.household_gaps(runner.views, COMMUNITY, 2, demo.SWEEP_START + timedelta(9))
    with pytest.raises(InvalidInput, match="not sealed"):
        dlv.households_without_delivery(runner.views, MOVED_ZONE, 1,
                                        demo.SWEEP_START + timedelta(days=20))
    check_rebuild_and_small_batches(app, p, runner)


def test_households_without_delivery_follow_a_zone_sealed_later(sql_store, clock: Clock
                                                                  ) -> None:
    app = GridcoreApp(sql_store, clock=clock)
    c = given_community(app)
    app.enrol_staff("DL1", "总值班", Role.DUTY_LEAD, C712, 0, by=System.OPERATOR)
    app.form_squad(Z712[0], [c.volunteer], by=System.OPERATOR)
    t0 = clock.now
    app.seal_scope(Z712[0], t0 + timedelta(days=2), by=System.OPERATOR)
    clock.advance(days=3)
    app.place_order(c.households[0], "TG-1", [VEG], by=System.OPERATOR)
    app.batch_purchase(C712, app.staff_by_no("DL1").id)
    app.dispatch_deliveries(Z712[0], by=System.OPERATOR)
    app.confirm_delivery(delivery_id(DeliveryKind.ORDER, "TG-1"), c.volunteer)
    runner = Runner(app, [dlv.DeliveryBoard()], batch=3)
    runner.catch_up()
    for hours in range(24, 24 * 9, 12):
        for days in (1, 2, 3):
            now = t0 + timedelta(hours=hours)
            try:
                expected = app.households_without_delivery(Z712[0], days, now)
            except InvalidInput:
                with pytest.raises(InvalidInput, match="not sealed"):
                    dlv.households_without_delivery(runner.views, Z712[0], days, now)
                continue
            assert dlv.households_without_delivery(runner.views, Z712[0], days, now) == expected
    with pytest.raises(InvalidInput, match="not sealed"):
        dlv.households_without_delivery(runner.views, C712, 3, t0 + timedelta(days=9))
    with pytest.raises(InvalidInput, match="period"):
        dlv.households_without_delivery(runner.views, Z712[0], 0, t0 + timedelta(days=9))


@pytest.fixture
def sql_store(store: dict[str, str]) -> dict[str, str]:
    if store["PERSISTENCE_MODULE"] == "adapters.memory_store":
        pytest.skip("the views of the in-memory store are covered by sqlite/postgres")
    return store


# ---- enterprises -----------------------------------------------------------------------------

def test_enterprise_board_equals_the_enterprises(world: World) -> None:
    app, p = world.app, ent.EnterpriseBoard()
    runner = built(app, p)
    found = [app.enterprise(e.originator_id) for e in log(app, Enterprise.Registered)]
    by_dept: dict[str, Counter[Resumption]] = {}
    for e in found:
        by_dept.setdefault(e.department, Counter())[e.resumption] += 1
    counts = ent.resumption_counts(runner.views, by="department")
    assert counts == {d: {s: c[s] for s in Resumption} for d, c in by_dept.items()}
    by_node = ent.resumption_counts(runner.views, by="node")
    codes = [n.code for n in app.subtree(CITY)]
    for code in codes:
        inside = Counter(e.resumption for e in app.enterprises_in(code))
        assert by_node.get(code, dict.fromkeys(Resumption, 0)) == {
            s: inside[s] for s in Resumption}, code
        assert ent.resumption_counts_in(runner.views, code) == {s: inside[s] for s in Resumption}
    assert sum(by_node[OTHER].values()) == 2 and sum(by_node[COMMUNITY].values()) == 4
    assert by_node[CITY][Resumption.APPROVED] == 3

    now = world.clock.now
    expected = sorted(((e.id, r.item, r.deadline, r.overdue, r.overdue or r.deadline <= now)
                       for e in found for r in e.rectifications.values()),
                      key=lambda x: (x[2], str(x[0]), x[1]))
    rows = ent.open_rectifications(runner.views, now=now)
    assert sorted(((r.enterprise_id, r.item, r.deadline, r.recorded_overdue, r.overdue)
                   for r in rows), key=lambda x: (x[2], str(x[0]), x[1])) == expected
    assert any(r.recorded_overdue for r in rows) and not all(r.recorded_overdue for r in rows)
    assert [r.deadline for r in rows] == sorted(r.deadline for r in rows)
    assert {r.enterprise_id for r in ent.open_rectifications(runner.views,
                                                             scope_code=MOVED_ZONE)} <= {
        e.id for e in app.enterprises_in(MOVED_ZONE)}
    assert all("(" not in r.item and r.label.startswith("企业") for r in rows)
    with pytest.raises(ValueError):
        ent.resumption_counts(runner.views, by="street")  # type: ignore[arg-type]
    check_rebuild_and_small_batches(app, p, runner)


# ---- requests --------------------------------------------------------------------------------

def test_requests_board_equals_the_requests(world: World) -> None:
    app, p = world.app, req.RequestsBoard()
    runner = built(app, p)
    for scope in (COMMUNITY, STREET, demo.DISTRICT, CITY, OTHER):
        assert req.public_statistics(runner.views, scope) == app.request_statistics(scope)
    stats = req.public_statistics(runner.views, CITY)
    assert stats.escalated >= 4 and stats.by_level["city"] >= 1 and stats.ratings >= 4
    with pytest.raises(InvalidInput, match="micro-grid"):
        req.public_statistics(runner.views, demo.zone_code(1))

    waiting = app.open_requests(CITY)
    rows = req.board(runner.views)
    assert [r.request_id for r in rows] == [r.id for r in waiting]
    assert [(r.level, r.grade, r.status, r.deadline, r.assignee) for r in rows] == [
        (r.level, r.grade, r.status, r.deadline, r.assignee) for r in waiting]
    assert rows[0].deadline is None  # the city's missed deadline comes first
    for level in (Level.COMMUNITY, Level.STREET, Level.CITY):
        for grade in ("urgent", "normal", None):
            assert [r.request_id for r in req.board(runner.views, level, grade)] == [
                r.id for r in waiting if r.level is level and grade in (None, r.grade)]
    assert req.board(runner.views, "street") == req.board(runner.views, Level.STREET)

    every = [app.request(e.originator_id) for e in log(app, ResidentRequest.Filed)]
    up = {r.id for r in every if r.escalations and r.status in AWAITING}
    assert up and {r.request_id for r in req.escalated(runner.views)} == up
    assert {r.request_id for r in req.escalated(runner.views, awaiting_only=False)} == {
        r.id for r in every if r.escalations}
    assert {r.request_id for r in req.board(runner.views, scope_code=COMMUNITY)} == {
        r.id for r in app.open_requests(COMMUNITY)}
    check_rebuild_and_small_batches(app, p, runner)


def test_the_boards_keep_no_personal_data(world: World) -> None:
    app = world.app
    texts = {"第1件诉求内容", "晚上需要就医", "已处理完毕", "问题没有解决", "张三", "王芳",
             "家中老人需要降压药，能否代购", "1栋101"}
    phones = {app.staff_by_no("712-GW-1").phone, *(
        h.residents[r].identity.phone for h in app.households_in(COMMUNITY)
        for r in h.residents)} - {None}
    assert len(phones) > 50
    references = {new_reference(b) for b in DRAWN}
    assert len(references) >= len(log(app, ResidentRequest.Filed))
    references |= {r.replace("-", "") for r in references}
    for p in (dlv.DeliveryBoard(), ent.EnterpriseBoard(), req.RequestsBoard()):
        runner = built(app, p)
        stored = {str(v) for rows in snapshot(runner.views, p).values() for row in rows
                  for v in row}
        for secret in texts | references | {str.__str__(x) for x in phones}:
            assert not any(secret in v for v in stored), (p.name, secret)


# ---- any batch boundaries --------------------------------------------------------------------

def _events(app: GridcoreApp, p: Projection) -> list[tuple[int, Any]]:
    notes = app.recorder.select_notifications(start=1, limit=10**7, topics=p.topics())
    return [(n.id, app.mapper.to_domain_event(n)) for n in notes]


_BOARDS = [dlv.DeliveryBoard(), ent.EnterpriseBoard(), req.RequestsBoard()]
_cache: dict[str, Any] = {}


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(which=st.sampled_from(range(3)), cuts=st.lists(st.floats(0, 1), max_size=40))
def test_any_batch_boundaries_give_the_same_rows(world: World, which: int,
                                                 cuts: list[float]) -> None:
    p = _BOARDS[which]
    key = f"{id(world.app)}:{p.name}"
    if key not in _cache:
        events = _events(world.app, p)
        views = _memory_views()
        views.setup(p)
        views.apply_batch(p, events, events[-1][0])
        _cache[key] = (events, snapshot(views, p))
    events, whole = _cache[key]
    bounds = sorted({0, len(events), *(int(c * len(events)) for c in cuts)})
    views = _memory_views()
    views.setup(p)
    for a, b in pairwise(bounds):
        views.apply_batch(p, events[a:b], events[b - 1][0])
    assert snapshot(views, p) == whole


def _memory_views() -> SQLiteViews:
    return SQLiteViews(SQLiteDatastore(f"file:boards-{uuid.uuid4().hex}?mode=memory&cache=shared"))


def test_node_moves_are_followed(sql_store, clock: Clock) -> None:
    app = GridcoreApp(sql_store, clock=clock)
    given_community(app, households_per_zone=1)
    app.create_node(f"{C712[:-3]}713", "713社区", C712[:-3], by=System.OPERATOR)
    events = log(app, GridNode.Established)
    assert events
    app.move_node(Z712[1], f"{C712[:-3]}713", by=System.OPERATOR)
    runner = Runner(app, [req.RequestsBoard()], batch=2)
    runner.catch_up()
    assert runner.views.query("SELECT parent FROM req_nodes WHERE code = ?", (Z712[1],)) == [
        (f"{C712[:-3]}713",)]


def test_one_event_per_batch_gives_the_same_rows(world: World) -> None:
    for p in _BOARDS:
        events = _events(world.app, p)
        whole, single = _memory_views(), _memory_views()
        whole.setup(p)
        single.setup(p)
        whole.apply_batch(p, events, events[-1][0])
        for nid, e in events:
            single.apply_batch(p, [(nid, e)], nid)
        assert snapshot(single, p) == snapshot(whole, p), p.name


def request_rows(runner: Runner) -> dict[str, tuple[Any, ...]]:
    return {r[0]: r[1:] for r in runner.views.query(
        "SELECT request_id, status, owner_code, level, missed, escalations, assignee, deadline, "
        "on_time, ratings FROM req_requests")}


def aggregate_rows(app: GridcoreApp) -> dict[str, tuple[Any, ...]]:
    found = [app.request(e.originator_id) for e in log(app, ResidentRequest.Filed)]
    return {str(r.id): (r.status.value, r.owner_code, int(r.level), r.missed, r.escalations,
                        str(r.assignee) if r.assignee else None, dlv.ts(r.deadline),
                        None if r.on_time is None else int(r.on_time), len(r.ratings))
            for r in found}


def test_requests_changed_across_catch_ups_match_the_aggregates(sql_store, clock: Clock
                                                               ) -> None:
    app = GridcoreApp(sql_store, clock=clock)
    c = given_community(app)
    runner = Runner(app, [req.RequestsBoard()])
    filing = app.file_request("online", "supplies", "normal", "需要买菜",
                              household=c.households[0], by=System.PUBLIC)
    first, ref = filing.request_id, filing.reference
    app.assign_request(first, c.worker, by=System.OPERATOR)
    app.resolve_request(first, c.worker, "已安排配送")
    app.rate_request(ref, 3, by=System.PUBLIC)
    runner.catch_up()
    assert request_rows(runner) == aggregate_rows(app)
    app.reopen_request(ref, "还是没有送到",
                       by=System.PUBLIC)  # alone in its batch: the assignee is in the row
    runner.catch_up()
    assert request_rows(runner) == aggregate_rows(app)
    assert request_rows(runner)[str(first)][0] == "in_progress"
    app.file_request("hotline", "medical", "urgent", "需要就医", household=c.households[1],
                     by=System.PUBLIC)
    clock.advance(hours=25)
    app.tick()  # in one batch with the second filing: the normal one escalates to the street,
    runner.catch_up()  # the urgent one (2-hour deadlines) climbs to the city, missed there too
    assert request_rows(runner) == aggregate_rows(app)
    assert sorted(row[2] for row in request_rows(runner).values()) == [int(Level.CITY),
                                                                      int(Level.STREET)]
    app.resolve_request(first, c.official, "街道已协调")
    app.rate_request(ref, 4, by=System.PUBLIC)
    app.reopen_request(ref, "仍未解决", by=System.PUBLIC)
    clock.advance(hours=25)
    app.tick()
    runner.catch_up()
    assert request_rows(runner) == aggregate_rows(app)
    stats = req.public_statistics(runner.views, C712)
    assert stats == app.request_statistics(C712) and stats.ratings == 2
