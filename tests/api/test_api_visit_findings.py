"""What the field sees, through ``recordVisit`` and ``syncFieldRecords`` over a real HTTP
server: a symptom, an arrival from a risk area and a visitor from elsewhere, and what follows
(``gridcore.findings``): symptomatic + a fever-clinic referral, a tag + home observation, the
visitor kept on the visit and counted on the worker's list and the campaign's coverage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from gridcore import sweep
from gridcore.authority import System
from tests.api.test_api_access import World, serve_world
from tests.scenario import ZONES

RECORD = """mutation($input: RecordVisitInput!) { recordVisit(input: $input) { __typename
  ... on VisitRecorded { household { id residents { id health measure tags } } }
  ... on Problem { problem remedy } } }"""
SYNC = """mutation($v: [SyncVisitInput!]) { syncFieldRecords(input: { visits: $v }) {
  clientId status message } }"""
FOUND = """query($h: ID!, $scope: String!) {
  household(id: $h) { residents { id health measure tags } timeline { kind detail } }
  referrals(first: 100) { kind household { id } }
  me { workList(campaignScope: $scope, round: 1) { householdId visitVersion covered
       fevers arrivals visitors } } }"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-findings") / "gridcore.sqlite") as w:
        w.app.launch_campaign(ZONES[0], 1, 3, by=System.OPERATOR)
        w.clock.advance(hours=2)
        w.caught_up()
        yield w


def mine(world: World) -> list[str]:
    """The households of GWZ1's list in the round (its only worker in the zone)."""
    found = world.ask(FOUND, "GWZ1", {"h": next(iter(world.households)), "scope": ZONES[0]})
    return [i["householdId"] for i in found["me"]["workList"]]


def findings(world: World, hid: str) -> dict[str, Any]:
    found = world.ask(FOUND, "GWZ1", {"h": hid, "scope": ZONES[0]})
    return {"residents": {r["id"]: r for r in found["household"]["residents"]},
            "visit": [e["detail"] for e in found["household"]["timeline"]
                      if e["kind"] == "visit.recorded"],
            "referrals": [r["kind"] for r in found["referrals"]
                          if r["household"]["id"] == hid],
            "item": next(i for i in found["me"]["workList"] if i["householdId"] == hid)}


def seen(world: World, hid: str) -> list[str]:
    data = world.ask(f'{{ household(id: "{hid}") {{ residents {{ id }} }} }}', "GWZ1")
    return [r["id"] for r in data["household"]["residents"]]


@pytest.mark.parametrize("door", ["recordVisit", "syncFieldRecords"])
def test_a_symptom_an_arrival_and_a_visitor_are_followed_up(world: World, door: str) -> None:
    hid = mine(world)[0 if door == "recordVisit" else 1]
    coughing, arrived = seen(world, hid)
    today = world.clock.now.date()
    found: dict[str, Any] = {
        "householdId": hid, "method": "DOOR",
        "symptoms": [{"residentId": coughing, "symptoms": ["咳嗽 cough"]}],
        "arrivals": [{"residentId": arrived, "origin": "湖北孝感",
                      "arrivedOn": (today - timedelta(days=2)).isoformat()}],
        "visitors": [{"origin": "云南", "note": "亲戚 relatives"}]}
    if door == "recordVisit":
        answer = world.ask(RECORD, "GWZ1", {"input": {
            "campaignScope": ZONES[0], "round": 1, **found}})["recordVisit"]
        assert answer["__typename"] == "VisitRecorded", answer
    else:
        [answer] = world.ask(SYNC, "GWZ1", {"v": [{
            "clientId": "findings:1", "campaignScope": ZONES[0], "round": 1,
            "baseVersion": 0, "visitedAt": world.clock.now.isoformat(), **found}]}
                           )["syncFieldRecords"]
        assert answer["status"] == "APPLIED", answer
    world.caught_up()
    after = findings(world, hid)
    # a symptom (not only a fever): symptomatic, and referred to the fever clinic
    assert after["residents"][coughing]["health"] == "SYMPTOMATIC"
    assert after["referrals"] == ["FEVER_CLINIC"]
    # an arrival from a risk area: tagged, and under home observation
    assert after["residents"][arrived]["tags"] == ["RISK_AREA_ARRIVAL"]
    assert after["residents"][arrived]["measure"] == "HOME_OBSERVATION"
    assert after["residents"][arrived]["health"] == "NORMAL"
    # the visitor: kept on the visit (where from), shown on the household's timeline and the
    # worker's list, counted by the campaign's coverage
    visit = world.app.visit(sweep.campaign_id(ZONES[0], 1), UUID(hid))
    assert visit is not None and [v.origin for v in visit.attempts[-1].visitors] == ["云南"]
    assert after["visit"] and "1 visitors from elsewhere" in after["visit"][-1]
    assert "1 symptomatic" in after["visit"][-1] and "1 arrivals" in after["visit"][-1]
    item = after["item"]
    assert (item["visitors"], item["arrivals"], item["covered"]) == (1, 1, True)
    assert item["visitVersion"] == 2
