"""Planning a round reads households with their personal data withheld (no key look-up) when
the composition root gives the application a mapper for that; the plan is the one full
aggregates give, and commands that need personal data still open it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import demo, demo_field
from adapters.bootstrap import bootstrap
from adapters.settings import memory_env, sqlite_env
from gridcore.application import GridcoreApp, new_member
from gridcore.assignment import Plan
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.errors import DuplicateCode, GridcoreError
from gridcore.household import Household, Vulnerability
from gridcore.staff import Role
from tests.scenario import COMMUNITY, given_community


@contextmanager
def key_lookups(app: GridcoreApp) -> Iterator[list[int]]:
    """Counts the queries of the key table made inside the block."""
    vault = app.factory.vault
    load, calls = vault._load_stored, [0]

    def counted(ids: list[Any]) -> dict[Any, bytes]:
        calls[0] += 1
        return load(ids)

    vault._load_stored = counted
    try:
        yield calls
    finally:
        vault._load_stored = load


def plan_of(app: GridcoreApp, scope: str, round_no: int, days: int = 2) -> Plan:
    """The plan a launch would make now (nothing saved)."""
    return app._plan_round(scope, round_no, days, app.clock())[2]


def same(a: Plan, b: Plan) -> None:
    assert a.items == b.items
    assert a.uncovered == b.uncovered
    assert a.load == b.load and a.capacity == b.capacity


def test_the_demo_round_two_is_planned_as_from_full_aggregates_and_opens_no_key(tmp_path):
    env = sqlite_env(tmp_path / "demo.sqlite")
    clock = demo.ScenarioClock()
    fast = bootstrap(env, clock=clock).app
    demo.build(fast)
    demo_field.run(fast, clock)
    full = GridcoreApp(env, clock=clock)  # not through bootstrap: every household unsealed
    try:
        with key_lookups(fast) as lookups:
            planned = plan_of(fast, demo.COMMUNITY, 2)
        assert lookups == [0]
        households = sum(len(g.households) for g in fast.micro_grids(demo.COMMUNITY))
        assert len(planned.items) + len(planned.uncovered) == households > 900
        same(planned, plan_of(full, demo.COMMUNITY, 2))
    finally:
        full.close()
        fast.close()


def test_a_launch_opens_no_key_and_later_commands_still_read_names(app):
    c = given_community(app)
    with key_lookups(app) as lookups:
        app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    assert lookups == [0]
    withheld = app._find_withheld(Household, c.households[0])
    assert withheld is not None
    assert all(r.identity.name is None for r in withheld.residents.values())
    household = app.household(c.households[0])
    assert sorted(r.identity.name or "" for r in household.residents.values()) == ["张三", "李四"]


def test_a_launched_round_is_still_refused_and_a_retry_still_replays(app):
    given_community(app)
    first = app.launch_campaign(COMMUNITY, 1, 3, client_id="c-1", by=System.OPERATOR)
    written = app.recorder.max_notification_id()
    again = app.launch_campaign(COMMUNITY, 1, 3, client_id="c-1", by=System.OPERATOR)
    assert app.recorder.max_notification_id() == written
    assert {(i.household_id, i.staff_id) for i in again.items} \
        == {(i.household_id, i.staff_id) for i in first.items}
    with pytest.raises(DuplicateCode):
        app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    assert app.recorder.max_notification_id() == written


# ---- a generated small world --------------------------------------------------------------

TODAY = datetime(2020, 2, 17, 8, 0, tzinfo=UTC)
GRIDS = [f"{COMMUNITY}-{i:02d}" for i in (1, 2, 3)]
member_st = st.tuples(st.one_of(st.none(), st.integers(1925, 2019)),
                      st.sets(st.sampled_from(list(Vulnerability)), max_size=2))
household_st = st.tuples(st.integers(0, 2), st.integers(0, 1),
                         st.lists(member_st, min_size=1, max_size=4))
change_st = st.one_of(
    st.tuples(st.just("move"), st.integers(0, 40), st.integers(0, 2)),
    st.tuples(st.just("mark"), st.integers(0, 40), st.sampled_from(list(Vulnerability)),
              st.booleans()),
    st.tuples(st.just("add"), st.integers(0, 40), member_st),
    st.tuples(st.just("remove"), st.integers(0, 40)),
    st.tuples(st.just("erase"), st.integers(0, 40)),
)
staff_st = st.lists(st.tuples(st.sampled_from([Role.GRID_WORKER, Role.VOLUNTEER]),
                              st.integers(0, 3), st.integers(1, 8)), min_size=1, max_size=4)


def world(app: GridcoreApp, households: list[Any], changes: list[Any],
          staff: list[Any]) -> None:
    by = System.OPERATOR
    app.establish_city("4201", "武汉市", by=by)
    app.create_node("420102", "江岸区", "4201", by=by)
    app.create_node("420102001", "后湖街道", "420102", by=by)
    app.create_node(COMMUNITY, "712社区", "420102001", by=by)
    for g, grid in enumerate(GRIDS, start=1):
        app.create_node(grid, f"第{g}片区", COMMUNITY, by=by)
    buildings = []
    for b in (1, 2):
        app.register_building(COMMUNITY, str(b), f"{b}栋", 7, by=by)
        buildings.append(building_id(COMMUNITY, str(b)))
    hids = []
    for n, (grid, building, members) in enumerate(households):
        no = f"W-{n}"
        app.register_household(no, GRIDS[grid], f"{building + 1}栋{n + 1}01", [
            new_member(no, m, f"居民{m}", None, None, year, vs)
            for m, (year, vs) in enumerate(members, start=1)], buildings[building], by=by)
        hids.append(app.household_by_no(no).id)
    for i, change in enumerate(changes):
        h = app.household(hids[change[1] % len(hids)])
        rid = sorted(h.residents, key=str)[0]
        try:
            if change[0] == "move":
                app.move_household(h.id, GRIDS[change[2]], by=by)
            elif change[0] == "mark":
                app.mark_vulnerability(h.id, rid, change[2], change[3], by=by)
            elif change[0] == "add":
                year, vs = change[2]
                app.add_member(h.id, new_member(h.household_no, 100 + i, "新成员", None, None,
                                                year, vs), by=by)
            elif change[0] == "remove":
                app.remove_member(h.id, rid, "迁出 moved out", by=by)
            else:
                app.erase_resident(h.id, rid, "防控目的已完成 purpose fulfilled", by=by)
        except GridcoreError:  # a change the rules refuse (same grid, last member...)
            pass
    for s, (role, grid, capacity) in enumerate(staff):
        where = COMMUNITY if grid == 3 else GRIDS[grid]
        app.enrol_staff(f"S{s}", f"员工{s}", role, where, capacity, by=by)


def fast_and_full(build: Callable[[GridcoreApp], None]) -> list[tuple[Plan, Plan, int]]:
    """Round 1 planned by an application reading withheld households and by one reading
    full aggregates over the same store; then round 2 the same way, after round 1 was
    assigned (last round's workers kept) and its first staff member became unavailable."""
    with TemporaryDirectory() as tmp:
        env = sqlite_env(Path(tmp) / "w.sqlite")
        clock = lambda: TODAY  # noqa: E731
        fast = bootstrap(env, clock=clock).app
        full = GridcoreApp(env, clock=clock)
        rounds = []
        try:
            build(fast)
            for round_no in (1, 2):
                with key_lookups(fast) as lookups:
                    planned = plan_of(fast, COMMUNITY, round_no)
                rounds.append((planned, plan_of(full, COMMUNITY, round_no), lookups[0]))
                if round_no == 1:
                    fast.assign_scope(COMMUNITY, 1, 2, by=System.OPERATOR)
                    fast.set_staff_availability(fast.staff_by_no("S0").id, False, "病假 sick",
                                                by=System.OPERATOR)
            return rounds
        finally:
            full.close()
            fast.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(household_st, min_size=1, max_size=12), st.lists(change_st, max_size=8),
       staff_st)
def test_a_generated_world_is_planned_as_from_full_aggregates(households, changes, staff):
    rounds = fast_and_full(lambda app: world(app, households, changes, staff))
    for planned, expected, lookups in rounds:
        same(planned, expected)
        assert lookups == 0


def test_the_withheld_reads_follow_changes_made_after_they_were_cached():
    app = bootstrap(memory_env(), clock=lambda: TODAY).app
    try:
        world(app, [(0, 0, [(1990, set())])], [], [(Role.GRID_WORKER, 3, 5)])
        hid = app.household_by_no("W-0").id
        assert plan_of(app, COMMUNITY, 1).items[0].method.value == "chat"
        rid = next(iter(app.household(hid).residents))
        app.mark_vulnerability(hid, rid, Vulnerability.DISABILITY, True, by=System.OPERATOR)
        assert plan_of(app, COMMUNITY, 1).items[0].method.value == "door"
    finally:
        app.close()


def test_many_households_read_in_one_query_are_the_ones_read_one_by_one(app):
    """The bulk read a launch and a batch of visits use: the same aggregates as reading each
    household alone (after a new member and an erasure), unknown ids and aggregates of
    another kind left out; on SQLite and PostgreSQL with no per-household query and no key."""
    c = given_community(app)
    hids = list(c.households)
    by = System.OPERATOR
    first = app.household(hids[0])
    app.add_member(first.id, new_member(first.household_no, 9, "新成员", None, None, 1990,
                                        set()), by=by)
    app.erase_resident(first.id, sorted(first.residents, key=str)[0],
                       "防控目的已完成 purpose fulfilled", by=by)
    staff = app.staff_by_no("GW1").id
    unknown = building_id(COMMUNITY, "no-such-building")
    asked = [*reversed(hids), unknown, staff, hids[0]]
    bulk = app._withheld_many(Household, asked)
    assert set(bulk) == set(hids)
    for hid in hids:
        assert vars(bulk[hid]) == vars(app._find_withheld(Household, hid))
    assert all(r.identity.name is None for h in bulk.values() for r in h.residents.values())
    if hasattr(app.recorder, "select_events_of"):
        one_by_one = app.recorder.select_events
        calls: list[Any] = []
        app.recorder.select_events = lambda *a, **k: calls.append(a) or one_by_one(*a, **k)
        try:
            with key_lookups(app) as lookups:
                again = app._withheld_many(Household, hids)
        finally:
            app.recorder.select_events = one_by_one
        assert lookups == [0] and calls == []
        assert {h: vars(a) for h, a in again.items()} == {h: vars(bulk[h]) for h in hids}
