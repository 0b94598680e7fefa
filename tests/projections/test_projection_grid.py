"""Grid rollup, time travel and staff workload read models against the application's own
aggregates: the real commands, then the runner; rebuilds and tiny batches give the same rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.sqlite import SQLiteDatastore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import demo, demo_field
from adapters.settings import memory_env, sqlite_env
from gridcore.application import GridcoreApp, new_member
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.grid import GridNode, Level, node_id
from gridcore.staff import Role, StaffIdentity, StaffMember, staff_id
from gridcore.status import Health, Measure, Tag, TagKind
from gridcore.sweep import Outcome
from projections.base import Projection
from projections.grid_rollup import GridRollup, children_rollups, rollup
from projections.runner import Runner
from projections.staff_workload import StaffWorkload, workload, workload_on
from projections.time_travel import HouseholdStatusHistory, household_status_at, rollup_at
from projections.views import SQLiteViews
from tests.conftest import Clock
from tests.scenario import COMMUNITY, DISTRICT, STREET, ZONES, given_community

COUNT_KEYS = ("households", "residents", "staff", "by_health", "by_measure", "by_tag")
STREET2, COMMUNITY2 = "420102002", "420102002001"
ZONE3 = f"{COMMUNITY2}-01"


@pytest.fixture
def sql_store(store):
    if store["PERSISTENCE_MODULE"] == "adapters.memory_store":
        pytest.skip("the views of the in-memory store are covered by sqlite/postgres")
    return store


def projections() -> list[Projection]:
    return [GridRollup(), HouseholdStatusHistory(), StaffWorkload()]


# ---- independent folds over the application's aggregates ----------------------------------

def expected_rollup(app: GridcoreApp, code: str) -> dict[str, Any]:
    out: dict[str, Any] = {"households": 0, "residents": 0, "staff": 0,
                           "by_health": dict.fromkeys((h.value for h in Health), 0),
                           "by_measure": dict.fromkeys((m.value for m in Measure), 0),
                           "by_tag": dict.fromkeys((t.value for t in TagKind), 0)}
    staff: set[uuid.UUID] = set()  # a member of several nodes in the subtree counts once
    for node in app.subtree(code):
        staff.update(node.staff)
        out["staff"] = len(staff)
        for hid in node.households if node.level is Level.MICRO_GRID else ():
            out["households"] += 1
            for r in app.household(hid).residents.values():
                out["residents"] += 1
                out["by_health"][r.health.value] += 1
                out["by_measure"][r.measure.value] += 1
                for kind in r.tags:
                    out["by_tag"][kind.value] += 1
    return out


def expected_status(app: GridcoreApp, hid: uuid.UUID) -> dict[str, Any]:
    h = app.household(hid)
    return {"household_id": str(hid), "micro_grid": h.micro_grid,
            "residents": {str(rid): {"health": r.health.value, "measure": r.measure.value,
                                     "tags": sorted(k.value for k in r.tags)}
                          for rid, r in sorted(h.residents.items(), key=lambda i: str(i[0]))}}


def counts(d: dict[str, Any] | None) -> dict[str, Any]:
    assert d is not None
    return {k: d[k] for k in COUNT_KEYS}


def dump(runner: Runner) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(runner.views.query(f"SELECT * FROM {t}"), key=repr)
            for p in runner.projections.values() for t in p.tables}


def assert_rebuild_and_tiny_batches_agree(app: GridcoreApp, runner: Runner,
                                          tiny_only: Sequence[str] | None = None) -> None:
    before = dump(runner)
    for name in runner.projections:
        runner.rebuild(name)
    assert dump(runner) == before
    tiny = Runner(app, projections(), batch=7)
    for name in tiny_only or tiny.projections:
        tiny.rebuild(name)
    assert dump(tiny) == before


# ---- a community that changes: moves, members, statuses, a node move, a split -------------

Snapshots = list[tuple[datetime, dict[str, dict[str, Any]], dict[str, dict[str, Any]]]]


def changing_community(app: GridcoreApp, clock: Clock) -> Snapshots:
    c = given_community(app)
    codes = ["4201", DISTRICT, STREET, COMMUNITY, *ZONES, STREET2, COMMUNITY2, ZONE3]
    snaps: Snapshots = []

    def snap() -> None:
        known = [x for x in codes if app._find(GridNode, node_id(x)) is not None]
        snaps.append((clock.now, {x: expected_rollup(app, x) for x in known},
                      {str(h): expected_status(app, h) for h in c.households}))
        clock.advance(minutes=5)

    def rid(h: uuid.UUID, n: int = 0) -> uuid.UUID:
        return sorted(app.household(h).residents, key=str)[n]

    snap()
    app.create_node(STREET2, "新街道", DISTRICT, by=System.OPERATOR)
    app.create_node(COMMUNITY2, "新社区", STREET2, by=System.OPERATOR)
    app.create_node(ZONE3, "新片区", COMMUNITY2, by=System.OPERATOR)
    app.move_household(c.households[0], ZONES[1], by=System.OPERATOR)
    snap()
    app.add_member(c.households[1], new_member("712-1-1", 3, "王五", None, None, 2010),
                   by=System.OPERATOR)
    app.remove_member(c.households[2], rid(c.households[2], 1), "迁出 moved out",
                      by=System.OPERATOR)
    h3, h4 = c.households[3], c.households[4]
    app.change_health(h3, rid(h3), Health.SUSPECTED, c.doctor)
    app.change_measure(h3, rid(h3), Measure.HOME_QUARANTINE, c.doctor)
    app.tag_resident(h4, rid(h4), Tag(kind=TagKind.CLOSE_CONTACT), c.worker)
    app.tag_resident(h4, rid(h4, 1), Tag(kind=TagKind.SECONDARY_CONTACT), c.worker)
    snap()
    app.change_health(h3, rid(h3), Health.CONFIRMED, c.doctor)
    app.untag_resident(h4, rid(h4), TagKind.CLOSE_CONTACT, c.doctor, "排除 cleared")
    app.move_node(ZONES[1], COMMUNITY2,
                  by=System.OPERATOR)  # the zone and its households go to the new street
    app.enrol_staff("GW2", "李娜", Role.GRID_WORKER, COMMUNITY2, 30, by=System.OPERATOR)
    snap()
    zone1 = app.node(ZONES[0])
    hs = sorted(zone1.households, key=str)
    app.split_micro_grid(ZONES[0], {f"{COMMUNITY}-03": ("三区", hs[:1]),
                                    f"{COMMUNITY}-04": ("四区", hs[1:])}, by=System.OPERATOR)
    codes += [f"{COMMUNITY}-03", f"{COMMUNITY}-04"]
    app.erase_resident(h3, rid(h3, 1), "防控目的已完成 purpose fulfilled", by=System.OPERATOR)
    snap()
    return snaps


def test_rollups_and_time_travel_follow_the_application(sql_store, clock):
    app = GridcoreApp(sql_store, clock=clock)
    snaps = changing_community(app, clock)
    runner = Runner(app, projections())
    runner.catch_up()
    last_rollups = snaps[-1][1]
    for code, want in last_rollups.items():
        assert counts(rollup(runner.views, code)) == want, code
    city = rollup(runner.views, "4201")
    assert city is not None and city["level_label"].startswith("市")
    assert sum(city["by_health"].values()) == city["residents"] == 12
    assert city["by_health"]["confirmed"] == 1 and city["by_tag"]["close_contact"] == 0
    assert rollup(runner.views, STREET2)["households"] == 4  # type: ignore[index]
    kids = children_rollups(runner.views, COMMUNITY)
    assert [k["code"] for k in kids] == [f"{COMMUNITY}-03", f"{COMMUNITY}-04"]
    assert [k["households"] for k in kids] == [1, 1]
    retired = children_rollups(runner.views, COMMUNITY, include_retired=True)
    assert any(k["retired"] and k["code"] == ZONES[0] for k in retired)
    assert rollup(runner.views, "nope") is None
    for when, rollups, statuses in snaps:
        for code, want in rollups.items():
            assert counts(rollup_at(runner.views, code, when)) == want, (when, code)
        for hid, want in statuses.items():
            assert household_status_at(runner.views, hid, when) == want, (when, hid)
    first = snaps[0][0]
    assert household_status_at(runner.views, snaps[0][2].popitem()[0],
                               first - timedelta(days=1)) is None
    assert rollup_at(runner.views, "4201", first - timedelta(days=1))["residents"] == 0
    assert_rebuild_and_tiny_batches_agree(app, runner)


def test_erasure_leaves_no_personal_data_in_these_read_models(sql_store, clock):
    app = GridcoreApp(sql_store, clock=clock)
    changing_community(app, clock)
    runner = Runner(app, projections())
    runner.catch_up()
    text = repr(dump(runner))
    for personal in ("张三", "李四", "王五", "13812341234", "栋"):
        assert personal not in text


# ---- workload -----------------------------------------------------------------------------

def expected_done(app: GridcoreApp, cid: uuid.UUID, hids: Sequence[uuid.UUID]
                  ) -> dict[uuid.UUID, tuple[str | None, date]]:
    """Per household: who first accounted for members, and on which day."""
    out = {}
    for hid in hids:
        visit = app.visit(cid, hid)
        for a in visit.attempts if visit else ():
            if a.accounted:
                out[hid] = (None if a.staff_id is None else str(a.staff_id), a.at.date())
                break
    return out


def test_demo_rollup_and_workload_equal_the_aggregates(tmp_path):
    """The full demo (~11k events) on SQLite only: on PostgreSQL building it alone takes
    ~20 s; the other tests here run on both databases."""
    clock = demo.ScenarioClock()
    app = GridcoreApp(sqlite_env(tmp_path / "demo.sqlite"), clock=clock)
    demo.build(app)
    demo_field.run(app, clock)
    runner = Runner(app, projections())
    runner.catch_up()
    for code in ["4201", demo.DISTRICT, demo.STREET, demo.COMMUNITY,
                 *(demo.zone_code(z) for z in range(1, demo.ZONES + 1))]:
        assert counts(rollup(runner.views, code)) == expected_rollup(app, code), code
    assert len(children_rollups(runner.views, demo.COMMUNITY)) == demo.ZONES

    a = app.assignment(demo.COMMUNITY, 1)
    cid = app.campaign_of(demo.COMMUNITY, 1).id
    done = expected_done(app, cid, sorted(a.owner, key=str))
    days = sorted({d for _, d in done.values()} | {a.modified_on.date()})
    for day in days:
        want: dict[str, dict[str, int]] = {}
        fresh = {"assigned": 0, "done": 0, "open": 0, "completed": 0}
        for hid, staff in a.owner.items():
            w = want.setdefault(str(staff), dict(fresh))
            w["assigned"] += 1
            if hid not in done or done[hid][1] > day:
                w["open"] += 1
            else:
                w["done"] += 1
        for who, d in done.values():
            if d == day and who is not None:
                want.setdefault(who, dict(fresh))["completed"] += 1
        assert workload_on(runner.views, day) == want, day
    staff = str(next(iter(a.owner.values())))
    rows = workload(runner.views, staff)
    assert [r["day"] for r in rows] == sorted(r["day"] for r in rows)
    assert sum(r["completed"] for r in rows) == sum(1 for w, _ in done.values() if w == staff)
    assert all(r["assigned"] == r["done"] + r["open"] for r in rows)
    assert rows[-1]["open"] == 0 and rows[0]["newly_assigned"] == rows[-1]["assigned"]
    assert_rebuild_and_tiny_batches_agree(app, runner, tiny_only=["staff_workload"])


def test_moved_work_follows_its_new_owner(sql_store, clock):
    app = GridcoreApp(sql_store, clock=clock)
    c = given_community(app)
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    cid = app.campaign_of(COMMUNITY, 1).id
    a = app.assignment(COMMUNITY, 1)
    busiest = max(set(a.owner.values()), key=lambda s: (list(a.owner.values()).count(s), str(s)))
    mine = sorted((h for h, s in a.owner.items() if s == busiest), key=str)
    clock.advance(hours=2)
    app.record_visit(cid, mine[0], a.method[mine[0]], by=busiest)
    app.record_visit(cid, mine[1], Method.DOOR, outcome=Outcome.NO_ANSWER, by=busiest)
    clock.advance(days=1)
    app.set_staff_availability(busiest, False, "病假 sick", by=System.OPERATOR)
    a = app.assignment(COMMUNITY, 1)
    runner = Runner(app, projections())
    runner.catch_up()
    done = expected_done(app, cid, c.households)
    got = workload_on(runner.views, date(2020, 2, 18))
    for staff in {str(s) for s in a.owner.values()} | {str(busiest)}:
        held = sum(1 for s in a.owner.values() if str(s) == staff)
        open_ = sum(1 for h, s in a.owner.items() if str(s) == staff and h not in done)
        assert (got[staff]["assigned"], got[staff]["open"]) == (held, open_), staff
    assert workload_on(runner.views, "2020-02-17")[str(busiest)] == {
        "assigned": len(mine), "done": 1, "open": len(mine) - 1, "completed": 1}
    mine_rows = workload(runner.views, busiest)
    assert mine_rows[0]["completed"] == 1 and mine_rows[-1]["moved_away"] == len(mine) - 1
    assert mine_rows[-1]["open"] == 0
    assert_rebuild_and_tiny_batches_agree(app, runner)


def test_a_jurisdiction_change_moves_the_staff_count():
    views = SQLiteViews(SQLiteDatastore(f"file:gr-{uuid.uuid4().hex}?mode=memory&cache=shared"))
    p = GridRollup()
    views.setup(p)
    t = datetime(2020, 2, 17, tzinfo=UTC)
    sid = staff_id("S1")
    events = [
        GridNode.Established(originator_id=node_id("C"), originator_version=1, timestamp=t,
                             code="C", name="市", level=Level.CITY, parent_code=None),
        GridNode.Established(originator_id=node_id("CD"), originator_version=1, timestamp=t,
                             code="CD", name="区", level=Level.DISTRICT, parent_code="C"),
        StaffMember.Enrolled(originator_id=sid, originator_version=1, timestamp=t,
                             staff_no="S1", identity=StaffIdentity(subject_id=sid, name="王"),
                             role=Role.OFFICIAL,
                             jurisdictions=("CD",), daily_capacity=0),
        StaffMember.JurisdictionChanged(originator_id=sid, originator_version=2,
                                        timestamp=t + timedelta(hours=1),
                                        jurisdictions=("C",)),
    ]
    views.apply_batch(p, list(enumerate(events[:3], start=1)), 3)
    assert [rollup(views, x)["staff"] for x in ("C", "CD")] == [1, 1]  # type: ignore[index]
    views.apply_batch(p, [(4, events[3])], 4)
    assert [rollup(views, x)["staff"] for x in ("C", "CD")] == [1, 0]  # type: ignore[index]
    assert rollup_at(views, "CD", t)["staff"] == 1
    assert rollup_at(views, "CD", t + timedelta(hours=1))["staff"] == 0


def test_a_member_of_several_nodes_counts_once_wherever_their_nodes_move():
    t = datetime(2020, 2, 17, tzinfo=UTC)
    sid = staff_id("GW")

    def node(code: str, level: Level, parent: str | None) -> GridNode.Established:
        return GridNode.Established(originator_id=node_id(code), originator_version=1,
                                    timestamp=t, code=code, name=code, level=level,
                                    parent_code=parent)

    events: list[Any] = [
        node("C", Level.CITY, None), node("D1", Level.DISTRICT, "C"),
        node("D2", Level.DISTRICT, "C"), node("Z1", Level.STREET, "D1"),
        node("Z2", Level.STREET, "D1"), node("Z3", Level.STREET, "D2"),
        StaffMember.Enrolled(originator_id=sid, originator_version=1, timestamp=t,
                             staff_no="GW", identity=StaffIdentity(subject_id=sid, name="王"),
                             role=Role.GRID_WORKER, jurisdictions=("Z1", "Z2"),
                             daily_capacity=10),
        GridNode.Moved(originator_id=node_id("Z2"), originator_version=2,
                       timestamp=t + timedelta(hours=1), parent_code="D2"),
        StaffMember.JurisdictionChanged(originator_id=sid, originator_version=2,
                                        timestamp=t + timedelta(hours=2),
                                        jurisdictions=("Z3", "Z2")),
        GridNode.Moved(originator_id=node_id("Z2"), originator_version=3,
                       timestamp=t + timedelta(hours=3), parent_code="D1"),
    ]
    codes = ("C", "D1", "D2", "Z1", "Z2", "Z3")
    want = [  # after the enrolment, each move and the change
        (7, [1, 1, 0, 1, 1, 0]), (8, [1, 1, 1, 1, 1, 0]), (9, [1, 0, 1, 0, 1, 1]),
        (10, [1, 1, 1, 0, 1, 1])]
    for batch in (1, 2, 3, 10):  # whatever the batches, the same counts and history
        views = SQLiteViews(SQLiteDatastore(
            f"file:gr-{uuid.uuid4().hex}?mode=memory&cache=shared"))
        p = GridRollup()
        views.setup(p)
        numbered = list(enumerate(events, start=1))
        for i in range(0, len(numbered), batch):
            part = numbered[i:i + batch]
            views.apply_batch(p, part, part[-1][0])
        final = [rollup(views, c)["staff"] for c in codes]  # type: ignore[index]
        assert final == want[-1][1], batch
        for n, counts_then in want:
            when = t + timedelta(hours=n - 7)
            assert [rollup_at(views, c, when)["staff"] for c in codes] == counts_then, (batch, n)


# ---- property: any operations, any batch size --------------------------------------------

OPS = st.lists(st.tuples(st.sampled_from(["move", "add", "remove", "sick", "well", "tag",
                                          "untag", "node"]),
                         st.integers(0, 5), st.integers(0, 3)), max_size=14)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, batch=st.integers(1, 40))
def test_any_operations_in_any_batches_roll_up_like_the_aggregates(ops, batch):
    clock = Clock()
    app = GridcoreApp(memory_env(), clock=clock)
    c = given_community(app)
    app.create_node(STREET2, "新街道", DISTRICT, by=System.OPERATOR)
    app.create_node(COMMUNITY2, "新社区", STREET2, by=System.OPERATOR)
    # the new community's own worker and doctor act for the households that moved into it
    app.enrol_staff("GW2", "新网格员", Role.GRID_WORKER, COMMUNITY2, 40, by=System.OPERATOR)
    app.enrol_staff("DOC2", "新医生", Role.FAMILY_DOCTOR, COMMUNITY2, 20, by=System.OPERATOR)
    local = {COMMUNITY: (c.worker, c.doctor),
             COMMUNITY2: (app.staff_by_no("GW2").id, app.staff_by_no("DOC2").id)}
    grids = [*ZONES, ZONE3]
    extra = 10
    for op, n, m in ops:
        clock.advance(minutes=1)
        if op == "node":
            if app._find(GridNode, node_id(ZONE3)) is None:
                app.create_node(ZONE3, "新片区", COMMUNITY2, by=System.OPERATOR)
            zone = ZONES[n % 2]
            target = COMMUNITY2 if app.node(zone).parent_code == COMMUNITY else COMMUNITY
            app.move_node(zone, target, by=System.OPERATOR)
            continue
        hid = c.households[n]
        h = app.household(hid)
        rids = sorted(h.residents, key=str)
        r = rids[m % len(rids)]
        worker, doctor = local[app.node(h.micro_grid).parent_code or COMMUNITY]
        if op == "move":
            live = [g for g in grids if app._find(GridNode, node_id(g)) is not None]
            target = live[m % len(live)]
            if target != h.micro_grid:
                app.move_household(hid, target, by=System.OPERATOR)
        elif op == "add":
            extra += 1
            app.add_member(hid, new_member(h.household_no, extra, "新人"), by=System.OPERATOR)
        elif op == "remove" and len(rids) > 1:
            app.remove_member(hid, r, "迁出", by=System.OPERATOR)
        elif op == "sick" and h.residents[r].health is Health.NORMAL:
            app.change_health(hid, r, Health.SYMPTOMATIC, worker)
        elif op == "well" and h.residents[r].health is Health.SYMPTOMATIC:
            app.change_health(hid, r, Health.NORMAL, worker)
        elif op == "tag":
            app.tag_resident(hid, r, Tag(kind=list(TagKind)[m % 2]), worker)
        elif op == "untag" and h.residents[r].tags:
            app.untag_resident(hid, r, next(iter(h.residents[r].tags)), doctor, "排除")
    views = SQLiteViews(SQLiteDatastore(f"file:gr-{uuid.uuid4().hex}?mode=memory&cache=shared"))
    runner = Runner(app, [GridRollup()], batch=batch, views=views)
    runner.catch_up()
    for code in ["4201", DISTRICT, STREET, COMMUNITY, STREET2, COMMUNITY2, *grids]:
        if app._find(GridNode, node_id(code)) is not None:
            got = counts(rollup(views, code))
            assert got == expected_rollup(app, code), code
            assert sum(got["by_health"].values()) == got["residents"]
