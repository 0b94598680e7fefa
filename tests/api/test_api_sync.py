"""The batch form for offline sync over a real HTTP server: a device's visits and delivery
confirmations, each applied or not on its own (applied, duplicate, stale with the current
state, rejected), within the signed-in member's jurisdiction only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gridcore.authority import System
from gridcore.delivery import Item
from tests.api.test_api_access import World, serve_world
from tests.scenario import COMMUNITY, ZONES

SYNC = """mutation($v: [SyncVisitInput!], $d: [SyncDeliveryInput!]) {
  syncFieldRecords(input: { visits: $v, deliveries: $d }) {
    clientId status message currentVersion currentState } }"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-sync") / "gridcore.sqlite") as w:
        w.app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
        w.app.donate_to_scope(COMMUNITY, "DN-1", [Item(name="爱心菜", quantity=1)],
                              by=System.OPERATOR)
        w.clock.advance(hours=2)
        w.caught_up()
        yield w


def household_in(world: World, zone: str, index: int = 0) -> str:
    return sorted(h for h, g in world.households.items() if g == zone)[index]


def visit(world: World, client_id: str, hid: str, base: int = 0, **more: Any) -> dict[str, Any]:
    return {"clientId": client_id, "campaignScope": COMMUNITY, "round": 1, "householdId": hid,
            "baseVersion": base, "method": "DOOR",
            "visitedAt": (world.clock.now).isoformat(), **more}


def sync(world: World, staff_no: str | None, visits: list[dict[str, Any]] | None = None,
         deliveries: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    found = world.ask(SYNC, staff_no, {"v": visits, "d": deliveries})["syncFieldRecords"]
    return {r["clientId"]: r for r in found}


def test_each_offline_visit_is_applied_or_reported_on_its_own(world: World) -> None:
    mine, other = household_in(world, ZONES[0], 0), household_in(world, ZONES[0], 1)
    theirs = household_in(world, ZONES[1], 0)
    first = sync(world, "GWZ1", [visit(world, "dev:1", mine), visit(world, "dev:2", theirs),
                                 visit(world, "dev:3", other, accounted=["not-an-id"])])
    assert first["dev:1"]["status"] == "APPLIED"
    assert first["dev:2"]["status"] == "REJECTED" and "household" in first["dev:2"]["message"]
    assert first["dev:3"]["status"] == "REJECTED"
    again = sync(world, "GWZ1", [visit(world, "dev:1", mine),  # resent: a duplicate
                                 visit(world, "dev:4", mine)])  # based on version 0: stale
    assert again["dev:1"]["status"] == "DUPLICATE"
    stale = again["dev:4"]
    assert stale["status"] == "STALE" and stale["currentVersion"] > 0
    assert stale["currentState"] == "seen"
    # reviewed and resent on the version now: applied
    resent = sync(world, "GWZ1", [visit(world, "dev:5", mine, stale["currentVersion"])])
    assert resent["dev:5"]["status"] == "APPLIED"
    # the applied visit is in the household's timeline, by the signed-in worker
    timeline = world.ask(f'{{ household(id: "{mine}") {{ timeline {{ kind actorId }} }} }}',
                         "GWZ1")["household"]["timeline"]
    visits = [e for e in timeline if e["kind"] == "visit.recorded"]
    assert visits == [{"kind": "visit.recorded", "actorId": str(world.staff["GWZ1"])}] * 2
    # what was rejected wrote nothing
    theirs_timeline = world.ask(f'{{ household(id: "{theirs}") {{ timeline {{ kind }} }} }}',
                                "GWZ2")["household"]["timeline"]
    assert all(e["kind"] != "visit.recorded" for e in theirs_timeline)


def test_delivery_confirmations_are_checked_against_the_version_seen(world: World) -> None:
    rows = world.ask("{ deliveries(first: 100) { nodes { id placeCode state } } }",
                     "OFF1")["deliveries"]["nodes"]
    mine = next(d["id"] for d in rows if d["placeCode"] == ZONES[0])
    theirs = next(d["id"] for d in rows if d["placeCode"] == ZONES[1])
    at = world.clock.now.isoformat()
    found = sync(world, "GWZ1", deliveries=[
        {"clientId": "dlv:1", "deliveryId": mine, "baseVersion": 7, "deliveredAt": at},
        {"clientId": "dlv:2", "deliveryId": theirs, "baseVersion": 1, "deliveredAt": at},
        {"clientId": "dlv:3", "deliveryId": mine, "baseVersion": 1, "deliveredAt": at}])
    assert found["dlv:1"]["status"] == "STALE"
    assert (found["dlv:1"]["currentVersion"], found["dlv:1"]["currentState"]) == (1, "ready")
    assert found["dlv:2"]["status"] == "REJECTED"  # another grid's: as if it did not exist
    # not dispatched yet: the domain refuses to confirm it, with what would be right
    assert found["dlv:3"]["status"] == "REJECTED" and found["dlv:3"]["message"]
    states = {d["id"]: d["state"] for d in world.ask(
        "{ deliveries(first: 100) { nodes { id state } } }", "GWZ1")["deliveries"]["nodes"]}
    assert states[mine] == "READY"


def test_without_a_token_every_record_is_rejected(world: World) -> None:
    hid = household_in(world, ZONES[0], 2)
    found = sync(world, None, [visit(world, "anon:1", hid)])
    assert found["anon:1"]["status"] == "REJECTED" and "token" in found["anon:1"]["message"]
