"""Risk zoning around a case (三区划分): the sealed, controlled and precaution zones drawn
around a case's located building, the households in each (and those with no point, listed by
micro-grid), the zones' measures in bulk, door-to-door deliveries for the sealed zone, a
sweep over a zone, extension by a new case inside, lifting by the rule and by an official,
the zones as they were at a past time, and refusals that write nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import memory_env
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import NotAuthorised, System
from gridcore.building import building_id
from gridcore.errors import ForbiddenTransition, GridcoreError, InvalidInput, NotFound
from gridcore.geo import Area, Crs, Point
from gridcore.household import Household, household_id, resident_id
from gridcore.staff import Role
from gridcore.status import Measure
from gridcore.tracing import case_id
from gridcore.zoning import RiskZoning, Zone
from tests.conftest import Clock
from tests.scenario import COMMUNITY, STREET, ZONES, Community, given_community

OP = System.OPERATOR
ORIGIN = Point(lng=114.30, lat=30.60)


def rect(x0: float, y0: float, x1: float, y1: float) -> Area:
    """A rectangle from (x0, y0) to (x1, y1), in metres east and north of ORIGIN."""
    corners = [ORIGIN.shifted(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    ring = tuple((p.lng, p.lat) for p in corners)
    return Area(polygons=(((*ring, ring[0]),),))


CASE_BUILDING = ORIGIN.shifted(100, 100)


@dataclass
class World:
    app: GridcoreApp
    clock: Clock
    c: Community
    official: UUID  # of the street
    case_home: UUID  # the case's household, in the located building 3
    neighbour: UUID  # the same building; resident 1 already in centralized quarantine
    controlled: list[UUID]
    precaution: UUID
    far: UUID
    unlocated: dict[str, list[UUID]]


def draw(w: World, area: Area, code: str) -> None:
    node = w.app.node(code)
    node.draw_boundary(area, Crs.WGS84, "test", None, w.clock.now)
    w.app._save(node)


@pytest.fixture
def w(clock: Clock) -> World:
    """A community of two drawn micro-grids in a street with a boundary; building 3 located,
    two households in it; households located by their own points around it, two with no
    point at all."""
    app = bootstrap(memory_env(), clock=clock).app
    c = given_community(app, households_per_zone=3)
    w = World(app, clock, c, UUID(int=0), household_id("Z-1"), household_id("Z-2"),
              [c.households[0], c.households[1]], c.households[3], c.households[4],
              {ZONES[0]: [c.households[2]], ZONES[1]: [c.households[5]]})
    draw(w, rect(0, 0, 1000, 1000), ZONES[0])
    draw(w, rect(1000, 0, 2000, 1000), ZONES[1])
    draw(w, rect(-3000, -3000, 3000, 3000), STREET)
    app.enrol_staff("OFF-S", "街道主任", Role.OFFICIAL, STREET, 0, by=OP)
    w.official = app.staff_by_no("OFF-S").id
    app.register_building(COMMUNITY, "3", "3栋", 6, by=OP)
    app.locate_building(COMMUNITY, "3", CASE_BUILDING.lng, CASE_BUILDING.lat, by=OP)
    for no in ("Z-1", "Z-2"):
        app.register_household(no, ZONES[0], f"3栋{no[-1]}01",
                               [new_member(no, 1, "张三", "13812341234", None, 1960),
                                new_member(no, 2, "李四", None, None, 1990)],
                               building_id(COMMUNITY, "3"), by=OP)
    for hid, (east, north) in ((c.households[0], (300, 100)), (c.households[1], (400, 300)),
                               (c.households[3], (1500, 200)), (c.households[4], (5000, 5000))):
        p = ORIGIN.shifted(east, north)
        app.locate_household(hid, p.lng, p.lat, by=OP)
    app.change_measure(w.neighbour, resident_id("Z-2", 1), Measure.CENTRALIZED_QUARANTINE,
                       by=c.doctor, reason="密接 close contact")
    app.open_case("CASE-1", COMMUNITY, "发热", by=c.doctor, hid=w.case_home,
                  rid=resident_id("Z-1", 1))
    return w


def refused(app: GridcoreApp, act: Callable[[], Any],
            error: type[GridcoreError] = InvalidInput) -> GridcoreError:
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as caught:
        act()
    assert app.recorder.max_notification_id() == before, "a refused command wrote events"
    assert caught.value.problem and caught.value.remedy
    return caught.value


def drawn(w: World) -> UUID:
    report = w.app.draw_risk_zones(COMMUNITY, [case_id("CASE-1")], reason="确诊病例",
                                   by=w.official)
    return report.zoning_id


def test_three_zones_are_drawn_around_the_case_building_with_their_households(w: World
                                                                              ) -> None:
    report = w.app.draw_risk_zones(COMMUNITY, [case_id("CASE-1")], reason="确诊病例",
                                   by=w.official)
    assert set(report.households[Zone.SEALED]) == {w.case_home, w.neighbour}
    assert set(report.households[Zone.CONTROLLED]) == set(w.controlled)
    assert report.households[Zone.PRECAUTION] == [w.precaution]
    assert w.far not in {h for hs in report.households.values() for h in hs}
    assert report.unlocated == w.unlocated
    assert "未定位" in report.note
    z = w.app.risk_zoning(report.zoning_id)
    assert z.areas[Zone.SEALED].contains(CASE_BUILDING)
    assert not z.areas[Zone.CONTROLLED].contains(CASE_BUILDING)
    assert z.areas[Zone.CONTROLLED].contains(ORIGIN.shifted(100, 500))
    assert not z.areas[Zone.PRECAUTION].contains(ORIGIN.shifted(100, 500))
    assert z.areas[Zone.PRECAUTION].contains(ORIGIN.shifted(2500, -2500))  # the street's
    assert not z.areas[Zone.PRECAUTION].contains(ORIGIN.shifted(3500, 0))
    assert z.drawn_by == w.official and z.case_ids == [case_id("CASE-1")]


def test_zone_measures_are_imposed_in_bulk_leaving_a_stricter_measure_as_is(w: World) -> None:
    zid = drawn(w)
    report = w.app.apply_zone_measures(zid, by=w.official)
    assert (report.imposed, report.left, report.refused) == (7, 1, 0)
    home, neighbour = w.app.household(w.case_home), w.app.household(w.neighbour)
    assert {r.measure for r in home.residents.values()} == {Measure.HOME_QUARANTINE}
    assert neighbour.residents[resident_id("Z-2", 1)].measure is Measure.CENTRALIZED_QUARANTINE
    assert neighbour.residents[resident_id("Z-2", 2)].measure is Measure.HOME_QUARANTINE
    for hid in w.controlled:
        assert {r.measure for r in w.app.household(hid).residents.values()} == {
            Measure.HOME_OBSERVATION}
    assert {r.measure for r in w.app.household(w.precaution).residents.values()} == {
        Measure.NONE}
    changes = [e for e in w.app.events.get(w.case_home)
               if isinstance(e, Household.MeasureChanged)]
    assert changes and all(e.by == w.official and "三区划分" in e.reason for e in changes)
    assert w.app.risk_zoning(zid).applied[-1][1] == w.official


def test_sealed_households_get_deliveries_door_to_door(w: World) -> None:
    assert not w.app.door_to_door(w.case_home)
    drawn(w)
    assert w.app.door_to_door(w.case_home) and w.app.door_to_door(w.neighbour)
    assert not w.app.door_to_door(w.controlled[0])
    assert not w.app.door_to_door(w.precaution)


def test_a_sweep_is_launched_over_the_controlled_zone_only(w: World) -> None:
    zid = drawn(w)
    sweep = w.app.launch_zone_sweep(zid, Zone.CONTROLLED, by=w.official)
    campaign = w.app.campaign(sweep.campaign_id)
    assert set(campaign.households) == set(w.controlled)
    assert campaign.scope == COMMUNITY and sweep.round_no == 1
    assert w.app.risk_zoning(zid).sweeps[Zone.CONTROLLED] == [sweep.campaign_id]
    second = w.app.launch_zone_sweep(zid, Zone.SEALED, by=w.official)
    assert second.round_no == 2
    assert set(w.app.campaign(second.campaign_id).households) == {w.case_home, w.neighbour}


def test_a_new_case_inside_extends_and_quiet_zones_lift_at_tick(w: World) -> None:
    start = w.clock.now
    zid = drawn(w)
    w.clock.advance(days=5)
    w.app.open_case("CASE-2", COMMUNITY, "发热", by=w.c.doctor, hid=w.controlled[0],
                    rid=resident_id("712-1-0", 1))
    second = w.clock.now
    w.app.tick()
    z = w.app.risk_zoning(zid)
    assert z.extensions == [(second, case_id("CASE-2"))] and z.quiet_since == second
    w.clock.now = start + timedelta(days=14, hours=1)
    w.app.tick()
    assert w.app.risk_zoning(zid).in_force  # 14 days from the drawing, not from the 2nd case
    w.clock.now = second + timedelta(days=14)
    assert w.app.tick()["risk_zonings"] == 1
    z = w.app.risk_zoning(zid)
    assert not z.in_force and z.lifted_by_rule and z.lifted_at == w.clock.now
    assert not w.app.door_to_door(w.case_home)
    assert w.app.tick()["risk_zonings"] == 0  # once
    # lifting leaves the measures to the measure rules
    home = w.app.household(w.case_home)
    assert home.residents[resident_id("Z-1", 2)].measure is Measure.NONE  # never applied


def test_the_zones_in_force_at_a_past_time(w: World) -> None:
    before = w.clock.now
    w.clock.advance(hours=1)
    zid = drawn(w)
    during = w.clock.advance(days=2)
    w.clock.advance(days=1)
    w.app.lift_risk_zones(zid, "全员核酸连续阴性", by=w.official)
    after = w.clock.advance(hours=1)
    assert w.app.risk_zones_at(COMMUNITY, before) == []
    [z] = w.app.risk_zones_at(COMMUNITY, during)
    assert isinstance(z, RiskZoning) and z.id == zid
    assert z.areas[Zone.SEALED].contains(CASE_BUILDING)
    assert w.app.risk_zones_at(COMMUNITY, after) == []
    assert not w.app.risk_zoning(zid).lifted_by_rule
    refused(w.app, lambda: w.app.lift_risk_zones(zid, "again", by=w.official),
            ForbiddenTransition)


def test_refusals_write_nothing_and_say_what_is_wrong(w: World) -> None:
    w.app.open_case("CASE-3", COMMUNITY, "发热", by=w.c.doctor, hid=w.unlocated[ZONES[0]][0],
                    rid=resident_id("712-1-2", 1))
    e = refused(w.app, lambda: w.app.draw_risk_zones(COMMUNITY, [case_id("CASE-3")],
                                                     by=w.official))
    assert "no located address" in e.problem and "locate" in e.remedy
    w.app.open_case("CASE-4", COMMUNITY, "外来", by=w.c.doctor, name="某人")
    e = refused(w.app, lambda: w.app.draw_risk_zones(COMMUNITY, [case_id("CASE-4")],
                                                     by=w.official))
    assert "no located address" in e.problem
    refused(w.app, lambda: w.app.draw_risk_zones(COMMUNITY, [case_id("NOPE")], by=w.official),
            NotFound)
    refused(w.app, lambda: w.app.draw_risk_zones(COMMUNITY, by=w.official))
    refused(w.app, lambda: w.app.draw_risk_zones(ZONES[0], [case_id("CASE-1")],
                                                 by=w.official))
    # an official of the community itself is below the street
    refused(w.app, lambda: w.app.draw_risk_zones(COMMUNITY, [case_id("CASE-1")],
                                                 by=w.c.official), NotAuthorised)
    zid = drawn(w)
    refused(w.app, lambda: w.app.lift_risk_zones(zid, "", by=w.official))


def test_zones_around_several_points_are_their_union(w: World) -> None:
    east = ORIGIN.shifted(1500, 200)
    report = w.app.draw_risk_zones(COMMUNITY, [case_id("CASE-1")], [east],
                                   by=w.official)
    assert set(report.households[Zone.SEALED]) == {w.case_home, w.neighbour, w.precaution}


def test_deliveries_reach_the_sealed_zone_first(w: World) -> None:
    drawn(w)
    sealed = w.app.sealed_households(COMMUNITY)
    assert sealed == {w.case_home, w.neighbour}
    assert w.app.sealed_households("420102001713") == set()
