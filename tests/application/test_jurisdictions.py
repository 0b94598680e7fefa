"""A jurisdiction of several nodes: a grid worker responsible for zones 1 and 5 has exactly those
two micro-grids. They act inside any of them and nowhere else, are listed at each, are given
round work only there, and a split or merge of one of their zones carries them along."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adapters.settings import memory_env
from gridcore.application import GridcoreApp, new_member
from gridcore.assignment import HouseholdWork, Worker, distribute
from gridcore.authority import NotAuthorised, System
from gridcore.errors import GridcoreError, InvalidInput
from gridcore.household import Vulnerability
from gridcore.policy import DEFAULT_POLICY
from gridcore.staff import Role
from gridcore.sweep import Outcome
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, given_community

Z3 = f"{COMMUNITY}-03"


@pytest.fixture
def app(clock: Clock) -> GridcoreApp:
    """The rules here do not depend on the store (the event fixtures cover the stored shape)."""
    app = GridcoreApp(memory_env(), clock=clock)
    given_community(app)
    app.create_node(Z3, "第3片区", COMMUNITY, by=System.OPERATOR)
    for n in range(2):
        no = f"712-3-{n}"
        app.register_household(no, Z3, f"3栋{n + 1}01", [new_member(no, 1, "周五")],
                               by=System.OPERATOR)
    app.enrol_staff("GWZ", "钱网格", Role.GRID_WORKER, [ZONES[0], Z3], 40, by=System.OPERATOR)
    return app


def refused(app: GridcoreApp, act: Callable[[], Any], error: type[GridcoreError]) -> str:
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as e:
        act()
    assert app.recorder.max_notification_id() == before
    return f"{e.value.problem} {e.value.remedy}"


def hid(app: GridcoreApp, zone: str) -> Any:
    return sorted(app.node(zone).households, key=str)[0]


def test_a_member_of_two_zones_acts_in_both_and_nowhere_else(app: GridcoreApp) -> None:
    gw = app.staff_by_no("GWZ")
    assert gw.jurisdictions == (ZONES[0], Z3) and gw.home == ZONES[0]
    for zone in (ZONES[0], Z3):
        app.mark_vulnerability(hid(app, zone), next(iter(app.household(hid(app, zone))
                                                         .residents)),
                               Vulnerability.LIVES_ALONE, by=gw.id)
    words = refused(app, lambda: app.mark_vulnerability(
        hid(app, ZONES[1]), next(iter(app.household(hid(app, ZONES[1])).residents)),
        Vulnerability.LIVES_ALONE, by=gw.id), NotAuthorised)
    assert ZONES[1] in words and "outside your jurisdiction" in words


def test_a_jurisdiction_names_each_node_once_and_none_inside_another(
        app: GridcoreApp) -> None:
    def enrol(nodes: list[str]) -> Callable[[], Any]:
        return lambda: app.enrol_staff("GWX", "孙网格", Role.GRID_WORKER, nodes, 40,
                                       by=System.OPERATOR)

    for nodes in ([COMMUNITY, ZONES[0]], [ZONES[0], ZONES[0]], []):
        refused(app, enrol(nodes), InvalidInput)


def test_each_node_lists_the_member_once_and_a_change_moves_the_listing(
        app: GridcoreApp) -> None:
    sid = app.staff_by_no("GWZ").id
    assert [sid in app.node(z).staff for z in (ZONES[0], ZONES[1], Z3)] == [True, False, True]
    assert [s.staff_no for s in app.staff_in(COMMUNITY)].count("GWZ") == 1
    official = app.staff_by_no("OFF1").id
    app.change_staff_jurisdiction(sid, [ZONES[1], Z3], by=official)
    assert app.staff(sid).jurisdictions == (ZONES[1], Z3)
    assert [sid in app.node(z).staff for z in (ZONES[0], ZONES[1], Z3)] == [False, True, True]
    refused(app, lambda: app.change_staff_jurisdiction(sid, [ZONES[1], Z3], by=official),
            InvalidInput)


def test_a_round_gives_a_zone_limited_worker_only_their_zones(app: GridcoreApp) -> None:
    sid = app.staff_by_no("GWZ").id
    app.assign_scope(COMMUNITY, 1, 3, by=System.OPERATOR)
    mine = {app.household(h).micro_grid
            for h, s in app.assignment(COMMUNITY, 1).owner.items() if s == sid}
    assert mine and mine <= {ZONES[0], Z3}


def test_a_worker_limited_to_grids_is_never_given_another_grid() -> None:
    """The rule itself: with the most capacity left, the limited worker still gets nothing
    outside their reach; a household only they could take elsewhere stays uncovered."""
    from uuid import UUID
    work = [HouseholdWork(UUID(int=i), "g2", False, True) for i in range(3)]
    limited = Worker(UUID(int=100), 50, reach=frozenset({"g1"}))
    plan = distribute(work, [limited], 3, DEFAULT_POLICY.visit_cost)
    assert plan.items == [] and len(plan.uncovered) == 3
    anyone = Worker(UUID(int=101), 1)
    plan = distribute(work, [limited, anyone], 3, DEFAULT_POLICY.visit_cost)
    assert {i.staff_id for i in plan.items} == {anyone.staff_id}


def test_a_split_gives_the_community_and_a_merge_the_merged_zone(app: GridcoreApp) -> None:
    sid = app.staff_by_no("GWZ").id
    official = app.staff_by_no("OFF1").id
    merged = f"{COMMUNITY}-13"
    app.merge_micro_grids([ZONES[0], ZONES[1]], merged, "第13片区", by=official)
    assert app.staff(sid).jurisdictions == (merged, Z3)
    assert sid in app.node(merged).staff
    a, b = f"{COMMUNITY}-31", f"{COMMUNITY}-32"
    h = sorted(app.node(Z3).households, key=str)
    app.split_micro_grid(Z3, {a: ("3A", h[:1]), b: ("3B", h[1:])}, by=official)
    # Z3 becomes its community, which holds the merged zone: one node is left
    assert app.staff(sid).jurisdictions == (COMMUNITY,)
    assert sid in app.node(COMMUNITY).staff and sid not in app.node(merged).staff


def test_a_visit_outside_the_zones_is_refused_whatever_the_door(app: GridcoreApp) -> None:
    sid = app.staff_by_no("GWZ").id
    app.launch_campaign(COMMUNITY, 1, 3, "第1轮", by=System.OPERATOR)
    campaign = app.campaign_of(COMMUNITY, 1)
    app.record_visit(campaign.id, hid(app, Z3), "phone", Outcome.NO_ANSWER, by=sid)
    refused(app, lambda: app.record_visit(campaign.id, hid(app, ZONES[1]), "phone",
                                          Outcome.NO_ANSWER, by=sid), NotAuthorised)
