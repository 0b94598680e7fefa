"""The ``recordVisit`` mutation over a real HTTP server: a sweep visit recorded as the signed-in
worker, its findings followed up before the answer, retries applied once, refusals typed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from gridcore.authority import System
from tests.api.test_api_access import OTHER_ZONE, World, serve_world
from tests.scenario import COMMUNITY, ZONES

RECORD = """mutation($input: RecordVisitInput!) { recordVisit(input: $input) { __typename
  ... on VisitRecorded { notificationId household { id residents { id health }
        timeline { kind actorId } } }
  ... on Problem { code problem remedy } } }"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-visit") / "gridcore.sqlite") as w:
        w.app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
        w.clock.advance(hours=2)
        w.caught_up()
        yield w


def residents_of(world: World, hid: str) -> list[str]:
    data = world.ask(f'{{ household(id: "{hid}") {{ residents {{ id }} }} }}', "OFF1")
    return [r["id"] for r in data["household"]["residents"]]


def zone_household(world: World, zone: str, index: int) -> str:
    return sorted(h for h, g in world.households.items() if g == zone)[index]


def visit(world: World, staff_no: str, **fields: Any) -> dict[str, Any]:
    fields = {"campaignScope": COMMUNITY, "round": 1, "method": "DOOR", **fields}
    return world.ask(RECORD, staff_no, {"input": fields})["recordVisit"]


def last(world: World) -> int:
    return world.app.recorder.max_notification_id() or 0


def test_a_visit_with_a_fever_is_recorded_and_followed_up_once(world: World) -> None:
    hid = zone_household(world, ZONES[0], 0)
    hot, other = residents_of(world, hid)
    fields = {"householdId": hid, "temperatures": [{"residentId": hot, "celsius": 38.1},
                                                   {"residentId": other, "celsius": 36.5}],
              "clientId": "gwz1-device:1"}
    result = visit(world, "GWZ1", **fields)
    assert result["__typename"] == "VisitRecorded"
    h = result["household"]
    visits = [e for e in h["timeline"] if e["kind"] == "visit.recorded"]
    assert visits == [{"kind": "visit.recorded", "actorId": str(world.staff["GWZ1"])}]
    # the findings process marked the fever before the answer was read
    assert {r["id"]: r["health"] for r in h["residents"]} == {hot: "SYMPTOMATIC",
                                                             other: "NORMAL"}
    written = last(world)
    again = visit(world, "GWZ1", **fields)
    assert again["__typename"] == "VisitRecorded"
    assert last(world) == written
    assert [e["kind"] for e in again["household"]["timeline"]].count("visit.recorded") == 1


@pytest.mark.parametrize(("case", "typename", "words"), [
    ("unknown campaign", "NotFoundProblem", "campaign"),
    ("not a resident id", "InvalidInputProblem", "not a resident id"),
    ("stranger accounted", "InvalidInputProblem", ""),
    ("outside jurisdiction", "NotFoundProblem", "No household"),
])
def test_refused_visits_are_typed_problems_and_write_nothing(
        world: World, case: str, typename: str, words: str) -> None:
    hid = zone_household(world, ZONES[0], 1)
    fields: dict[str, Any] = {"householdId": hid}
    if case == "unknown campaign":
        fields["round"] = 9
    elif case == "not a resident id":
        fields["accounted"] = ["nobody"]
    elif case == "stranger accounted":
        fields["accounted"] = [str(uuid4())]
    else:
        fields["householdId"] = zone_household(world, ZONES[1], 1)
    written = last(world)
    result = visit(world, "GWZ1", **fields)
    assert result["__typename"] == typename, result
    assert words in result["problem"]
    assert result["remedy"]
    assert last(world) == written


def test_a_household_outside_the_campaign_is_refused(world: World) -> None:
    hid = zone_household(world, OTHER_ZONE, 0)
    result = visit(world, "GW713", householdId=hid, outcome="NO_ANSWER")
    assert result["__typename"] == "NotFoundProblem"
    assert "not in campaign" in result["problem"]


CAMPAIGNS = """{ me { jurisdiction { code campaigns { scopeCode round name
    coverage { households covered uncovered notCovered { reason count } }
    uncovered { reason attempts household { id microGridCode } } } } } }"""


@pytest.mark.parametrize(("staff_no", "households"), [("GWZ1", 3), ("OFF1", 6), ("GW713", 0)])
def test_campaign_coverage_is_of_the_callers_subtree(world: World, staff_no: str,
                                                     households: int) -> None:
    me = world.ask(CAMPAIGNS, staff_no)["me"]["jurisdiction"]
    if households == 0:  # another community: the 712 campaign holds none of its households
        assert me["campaigns"] == []
        return
    [campaign] = me["campaigns"]
    assert (campaign["scopeCode"], campaign["round"]) == (COMMUNITY, 1)
    cov = campaign["coverage"]
    assert cov["households"] == households
    assert cov["covered"] + cov["uncovered"] == households
    assert sum(r["count"] for r in cov["notCovered"]) == cov["uncovered"]
    assert len(campaign["uncovered"]) == cov["uncovered"]
    for u in campaign["uncovered"]:
        assert world.sees(me["code"], u["household"]["microGridCode"])


def test_a_covered_household_leaves_the_uncovered_list(world: World) -> None:
    hid = zone_household(world, ZONES[0], 2)

    def uncovered() -> dict[str, Any]:
        [c] = world.ask(CAMPAIGNS, "GWZ1")["me"]["jurisdiction"]["campaigns"]
        return {u["household"]["id"]: u for u in c["uncovered"]}

    assert uncovered()[hid]["reason"] == "not_visited"
    assert visit(world, "GWZ1", householdId=hid, outcome="NO_ANSWER",
                 clientId="gwz1-device:2")["__typename"] == "VisitRecorded"
    assert uncovered()[hid]["reason"] == "no_answer" and uncovered()[hid]["attempts"] == 1
    assert visit(world, "GWZ1", householdId=hid, method="PHONE",
                 clientId="gwz1-device:3")["__typename"] == "VisitRecorded"
    assert hid not in uncovered()


def test_my_workload_is_what_the_plan_gave_me(world: World) -> None:
    owner = world.app.assignment(COMMUNITY, 1).owner
    assert owner
    for staff_no, sid in world.staff.items():
        mine = sum(1 for s in owner.values() if s == sid)
        days = world.ask("{ me { workload { day assigned newlyAssigned } } }",
                         staff_no)["me"]["workload"]
        assert (days[-1]["assigned"] if days else 0) == mine, staff_no
        assert sum(d["newlyAssigned"] for d in days) >= mine
