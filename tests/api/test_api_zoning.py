"""Risk zoning (三区划分) over a real HTTP server: a street official draws the zones around a
case, applies their measures (a resident of the sealed zone reads HOME_QUARANTINE), sweeps
the controlled zone, reads the zones with their areas in GCJ-02 (none before the drawing),
sees them on the map and lifts them; a grid worker and a community official may not draw;
a caller outside the community gets NotFound; no name or address is ever in the answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from gridcore.application import new_member
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.geo import Crs, parse_area
from gridcore.household import household_id, resident_id
from gridcore.status import Measure
from tests.api.test_api_access import OTHER_ZONE, World, serve_world
from tests.application.test_zoning import CASE_BUILDING, ORIGIN, rect
from tests.scenario import COMMUNITY, STREET, ZONES

OP = System.OPERATOR

ZONING = """id community number reason caseIds drawnAt drawnById liftDue lifted liftedAt
  extensions { since caseId } measuresAppliedAt sweeps { zone campaignId }
  zones { zone name label householdCount area(crs: GCJ02)
          households { householdId microGrid exact point { lng lat } } }
  unlocated { microGrid householdIds count }"""
RESULT = ("__typename ... on ZoningChanged { notificationId note zoning { " + ZONING + " } "
          "measures { imposed left refused } sweep { campaignId roundNo } } "
          "... on Problem { code problem remedy }")
DRAW = "mutation($i: DrawRiskZonesInput!) { drawRiskZones(input: $i) { " + RESULT + " } }"
APPLY = "mutation($i: ZoningInput!) { applyZoneMeasures(input: $i) { " + RESULT + " } }"
SWEEP = "mutation($i: LaunchZoneSweepInput!) { launchZoneSweep(input: $i) { " + RESULT + " } }"
LIFT = "mutation($i: LiftRiskZonesInput!) { liftRiskZones(input: $i) { " + RESULT + " } }"
ZONES_Q = ("query($c: String!, $t: DateTime) { riskZones(scope: $c, asOf: $t) { " + ZONING
           + " } }")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The API's world with the located community of ``tests.application.test_zoning``:
    building 3 located with the case's household (Z-1) and a neighbour (Z-2, one resident
    already in centralized quarantine) in it, 712-1-0 and 712-1-1 near it, 712-2-0 further,
    712-2-1 far away, 712-1-2 and 712-2-2 with no point; case CASE-1 is Z-1's resident 1."""
    with serve_world(tmp_path_factory.mktemp("api-zoning") / "gridcore.sqlite") as w:
        app = w.app
        app.draw_boundaries([(ZONES[0], rect(0, 0, 1000, 1000)),
                             (ZONES[1], rect(1000, 0, 2000, 1000)),
                             (STREET, rect(-3000, -3000, 3000, 3000))], Crs.WGS84, "test",
                            by=OP)
        app.register_building(COMMUNITY, "3", "3栋", 6, by=OP)
        app.locate_building(COMMUNITY, "3", CASE_BUILDING.lng, CASE_BUILDING.lat, by=OP)
        for no in ("Z-1", "Z-2"):
            app.register_household(no, ZONES[0], f"3栋{no[-1]}01",
                                   [new_member(no, 1, "张三", "13812341234", None, 1960),
                                    new_member(no, 2, "李四", None, None, 1990)],
                                   building_id(COMMUNITY, "3"), by=OP)
            w.households[str(household_id(no))] = ZONES[0]
        for no, (east, north) in (("712-1-0", (300, 100)), ("712-1-1", (400, 300)),
                                  ("712-2-0", (1500, 200)), ("712-2-1", (5000, 5000))):
            p = ORIGIN.shifted(east, north)
            app.locate_household(app.household_by_no(no).id, p.lng, p.lat, by=OP)
        doctor = w.staff["DOC1"]
        app.change_measure(household_id("Z-2"), resident_id("Z-2", 1),
                           Measure.CENTRALIZED_QUARANTINE, by=doctor, reason="密接 close contact")
        app.open_case("CASE-1", COMMUNITY, "发热", by=doctor, hid=household_id("Z-1"),
                      rid=resident_id("Z-1", 1))
        w.caught_up()
        yield w


def hid(world: World, no: str) -> str:
    return str(world.app.household_by_no(no).id)


def answer(world: World, query: str, staff_no: str | None, field: str,
           **given: Any) -> dict[str, Any]:
    return world.ask(query, staff_no, {"i": given})[field]


def draw(world: World, staff_no: str, **given: Any) -> dict[str, Any]:
    args = {"community": COMMUNITY, "caseIds": ["CASE-1"], "reason": "确诊病例", **given}
    return answer(world, DRAW, staff_no, "drawRiskZones", **args)


def by_zone(zoning: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {z["zone"]: z for z in zoning["zones"]}


def listed(zone: dict[str, Any]) -> set[str]:
    return {h["householdId"] for h in zone["households"]}


def test_an_official_draws_applies_sweeps_reads_and_lifts_the_zones(world: World) -> None:
    before = world.clock.now
    world.clock.advance(hours=1)
    drawn = draw(world, "STR1", clientId="draw-1")
    assert drawn["__typename"] == "ZoningChanged", drawn
    z = drawn["zoning"]
    zid = z["id"]
    assert "未定位" in drawn["note"]
    assert z["drawnById"] == str(world.staff["STR1"]) and not z["lifted"]
    zones = by_zone(z)
    assert [zones[k]["name"] for k in ("LOCKDOWN", "CONTROLLED", "PRECAUTION")] == [
        "封控区", "管控区", "防范区"]
    assert listed(zones["LOCKDOWN"]) == {hid(world, "Z-1"), hid(world, "Z-2")}
    assert listed(zones["CONTROLLED"]) == {hid(world, "712-1-0"), hid(world, "712-1-1")}
    assert listed(zones["PRECAUTION"]) == {hid(world, "712-2-0")}
    assert {g["microGrid"]: g["householdIds"] for g in z["unlocated"]} == {
        ZONES[0]: [hid(world, "712-1-2")], ZONES[1]: [hid(world, "712-2-2")]}
    # a retry under the same clientId draws nothing new and answers the same zoning
    again = draw(world, "STR1", clientId="draw-1")
    assert again["zoning"]["id"] == zid

    applied = answer(world, APPLY, "STR1", "applyZoneMeasures", zoningId=zid)
    assert applied["measures"] == {"imposed": 7, "left": 1, "refused": 0}
    world.caught_up()
    home = world.ask("query($h: ID!) { household(id: $h) { doorToDoor residents { id "
                     "measure } } }", "STR1", {"h": hid(world, "Z-1")})["household"]
    assert {r["measure"] for r in home["residents"]} == {"HOME_QUARANTINE"}
    assert home["doorToDoor"] is True
    near = world.ask("query($h: ID!) { household(id: $h) { doorToDoor } }", "STR1",
                     {"h": hid(world, "712-1-0")})["household"]
    assert near["doorToDoor"] is False

    swept = answer(world, SWEEP, "STR1", "launchZoneSweep", zoningId=zid, zone="CONTROLLED")
    assert swept["__typename"] == "ZoningChanged", swept
    campaign = swept["sweep"]["campaignId"]
    assert swept["zoning"]["sweeps"] == [{"zone": "CONTROLLED", "campaignId": campaign}]
    assert {str(h) for h in world.app.campaign(UUID(campaign)).households} == {
        hid(world, "712-1-0"), hid(world, "712-1-1")}

    [now] = [r for r in world.ask(ZONES_Q, "STR1", {"c": COMMUNITY})["riskZones"]
             if r["id"] == zid]
    sealed = by_zone(now)["LOCKDOWN"]
    assert sealed["householdCount"] == 2 and len(now["measuresAppliedAt"]) == 1
    feature = sealed["area"]
    assert feature["properties"]["zone"] == "封控区" and feature["properties"]["crs"] == "gcj02"
    assert parse_area(feature["geometry"], Crs.GCJ02).contains(CASE_BUILDING)
    # the same polygon read as WGS-84 lies some hundreds of metres off
    assert not parse_area(feature["geometry"], Crs.WGS84).contains(CASE_BUILDING)
    assert world.ask(ZONES_Q, "STR1", {"c": COMMUNITY, "t": before.isoformat()}) == {
        "riskZones": []}

    layers = world.ask(f'{{ mapLayers(code: "{ZONES[0]}") }}', "STR1")["mapLayers"]
    risk = [f["properties"] for f in layers["features"]
            if f["properties"]["layer"] == "risk_zone" and f["properties"]["zoningId"] == zid]
    assert [p["zone"] for p in risk] == ["防范区", "管控区", "封控区"]  # sealed drawn on top

    during = world.clock.advance(hours=1)
    world.clock.advance(hours=1)
    lifted = answer(world, LIFT, "STR1", "liftRiskZones", zoningId=zid,
                    reason="全员核酸连续阴性")
    assert lifted["zoning"]["lifted"] and lifted["zoning"]["liftedAt"]
    assert zid not in {r["id"] for r in world.ask(ZONES_Q, "STR1",
                                                  {"c": COMMUNITY})["riskZones"]}
    assert zid in {r["id"] for r in world.ask(ZONES_Q, "STR1", {
        "c": COMMUNITY, "t": during.isoformat()})["riskZones"]}
    again = answer(world, LIFT, "STR1", "liftRiskZones", zoningId=zid, reason="again")
    assert again["__typename"] == "ForbiddenTransitionProblem" and again["remedy"]


def test_a_grid_worker_and_the_community_official_may_not_draw(world: World) -> None:
    before = world.app.recorder.max_notification_id()
    for staff_no in ("GW1", "OFF1"):  # of the community itself: a grid worker, an official
        refused = draw(world, staff_no)
        assert refused["__typename"] == "NotPermittedProblem", refused
        assert refused["problem"] and refused["remedy"]
    assert world.app.recorder.max_notification_id() == before


def test_a_caller_outside_the_community_gets_not_found(world: World) -> None:
    refused = draw(world, "GW713")
    assert refused["__typename"] == "NotFoundProblem"
    report = world.app.draw_risk_zones(COMMUNITY, points=[CASE_BUILDING], reason="test",
                                       by=world.staff["STR1"])
    world.caught_up()
    zid = str(report.zoning_id)
    assert world.ask(ZONES_Q, "GW713", {"c": COMMUNITY}) == {"riskZones": []}
    assert world.ask(ZONES_Q, None, {"c": COMMUNITY}) == {"riskZones": []}
    for mutation, field, given in ((LIFT, "liftRiskZones", {"reason": "x"}),
                                   (APPLY, "applyZoneMeasures", {})):
        refused = answer(world, mutation, "GW713", field, zoningId=zid, **given)
        assert refused["__typename"] == "NotFoundProblem", refused
    # a case of the community is missing for the outsider too, even given by id
    refused = draw(world, "GW713", community=OTHER_ZONE,
                   caseIds=[str(world.app.case_by_no("CASE-1").id)])
    assert refused["__typename"] == "NotFoundProblem" and "case" in refused["problem"]
    # a grid worker of a micro-grid reads the community's zones, with their own households only
    [mine] = [r for r in world.ask(ZONES_Q, "GWZ2", {"c": COMMUNITY})["riskZones"]
              if r["id"] == zid]
    zones = by_zone(mine)
    assert listed(zones["LOCKDOWN"]) == set()  # Z-1, Z-2 lie in micro-grid 1
    assert zones["LOCKDOWN"]["householdCount"] == 2
    assert {g["microGrid"] for g in mine["unlocated"]} == {ZONES[1]}
    answer(world, LIFT, "STR1", "liftRiskZones", zoningId=zid, reason="test done")


def test_no_name_or_address_in_the_zones(world: World) -> None:
    report = world.app.draw_risk_zones(COMMUNITY, points=[CASE_BUILDING], reason="test",
                                       by=world.staff["STR1"])
    world.caught_up()
    text = json.dumps([world.ask(ZONES_Q, staff_no, {"c": COMMUNITY})
                       for staff_no in ("STR1", "GWZ1")])
    assert str(report.zoning_id) in text
    for personal in ("张三", "李四", "3栋101", "3栋201", "1栋101", "Z-1", "712-1-0",
                     "13812341234"):
        assert personal not in text
    world.app.lift_risk_zones(report.zoning_id, "test done", by=world.staff["STR1"])
