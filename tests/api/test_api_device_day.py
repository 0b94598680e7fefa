"""A field device's day through the API over a real HTTP server (离线同步): it fetches its work
list (the households of the round assigned to its worker, each with the visit's version) and
the deliveries dispatched to its worker (each with its version), goes offline, records 50 visits
and 20 delivery confirmations, syncs them (all applied) and syncs them again (all duplicates);
then one record goes stale (a colleague visits the household meanwhile; a dispatched delivery
becomes overdue) and the device resolves it: it re-reads the current version and resends,
applied.

The world: a third micro-grid of the 712 community with 55 households, its grid worker GWZ3
(the round's only worker there), a sweep round and a donation (爱心菜) to every household, 25
of them dispatched to GWZ3, all built with the library as ``System.OPERATOR`` and the
community's official.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gridcore.application import new_member
from gridcore.authority import System
from gridcore.base import Event
from gridcore.delivery import Delivery, Item
from gridcore.staff import Role
from gridcore.sweep import Visit
from projections.delivery_board import DeliveryBoard
from projections.sweep_coverage import SweepCoverage
from tests.api.test_api_access import World, serve_world
from tests.scenario import COMMUNITY

ZONE = f"{COMMUNITY}-03"
HOUSEHOLDS, DISPATCHED, VISITS, CONFIRMATIONS = 55, 25, 50, 20

WORK_LIST = """query($scope: String!) { me { workList(campaignScope: $scope, round: 1) {
  householdId visitVersion attempts covered } } }"""
DELIVERIES = """query($scope: String!) {
  deliveries(scope: $scope, state: [DISPATCHED], first: 100) {
    nodes { id version state overdue } } }"""
SYNC = """mutation($v: [SyncVisitInput!], $d: [SyncDeliveryInput!]) {
  syncFieldRecords(input: { visits: $v, deliveries: $d }) {
    clientId status message currentVersion currentState } }"""
RECORD = """mutation($input: RecordVisitInput!) { recordVisit(input: $input) { __typename } }"""


def given_device_day(w: World) -> World:
    """The third micro-grid, its worker, the round and the dispatched donation (above)."""
    app, official = w.app, w.staff["OFF1"]
    app.create_node(ZONE, "第3片区", COMMUNITY, by=System.OPERATOR)
    for n in range(HOUSEHOLDS):
        no = f"712-3-{n}"
        app.register_household(no, ZONE, f"3栋{n + 1:02d}", [
            new_member(no, 1, "孙七", None, None, 1975),
            new_member(no, 2, "孙八", None, None, 2005)], by=System.OPERATOR)
    app.enrol_staff("GWZ3", "某某", Role.GRID_WORKER, ZONE, 60, by=System.OPERATOR)
    w.staff["GWZ3"] = app.staff_by_no("GWZ3").id
    app.launch_campaign(ZONE, 1, 2, by=official)
    app.donate_to_scope(ZONE, "DN-3", [Item(name="爱心菜", quantity=1)], by=official)
    app.dispatch_deliveries(ZONE, [w.staff["GWZ3"]], DISPATCHED, by=official)
    w.clock.advance(hours=1)
    w.caught_up()
    return w


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-device-day") / "gridcore.sqlite") as w:
        yield given_device_day(w)


def work_list(world: World) -> dict[str, dict[str, Any]]:
    items = world.ask(WORK_LIST, "GWZ3", {"scope": ZONE})["me"]["workList"]
    return {i["householdId"]: i for i in items}


def dispatched(world: World) -> dict[str, dict[str, Any]]:
    page = world.ask(DELIVERIES, "GWZ3", {"scope": ZONE})["deliveries"]
    return {d["id"]: d for d in page["nodes"]}


def sync(world: World, visits: list[dict[str, Any]] | None = None,
         deliveries: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    found = world.ask(SYNC, "GWZ3", {"v": visits, "d": deliveries})["syncFieldRecords"]
    return {r["clientId"]: r for r in found}


def visit(client_id: str, hid: str, base: int, at: Any) -> dict[str, Any]:
    """A 'seen' door visit as the device records it: no accounted list (every member)."""
    return {"clientId": client_id, "campaignScope": ZONE, "round": 1, "householdId": hid,
            "baseVersion": base, "method": "DOOR", "visitedAt": at.isoformat()}


def confirmation(client_id: str, did: str, base: int, at: Any) -> dict[str, Any]:
    return {"clientId": client_id, "deliveryId": did, "baseVersion": base,
            "deliveredAt": at.isoformat()}


def test_a_device_day_offline_synced_twice_then_a_stale_record_resolved(world: World) -> None:
    # morning, online: the work list and the deliveries, each with the version to send back
    todo = work_list(world)
    assert len(todo) == HOUSEHOLDS
    assert {(i["visitVersion"], i["attempts"], i["covered"]) for i in todo.values()} \
        == {(0, 0, False)}
    parcels = dispatched(world)
    assert len(parcels) == DISPATCHED
    assert {d["version"] for d in parcels.values()} == {2}  # placed, dispatched

    # offline: 50 visits and 20 handovers, each stamped when it happened
    hids, dids = sorted(todo)[:VISITS], sorted(parcels)[:CONFIRMATIONS]
    visits, handovers = [], []
    for n, hid in enumerate(hids):
        at = world.clock.advance(minutes=5)
        visits.append(visit(f"gwz3:v{n}", hid, todo[hid]["visitVersion"], at))
        if n < CONFIRMATIONS:
            did = dids[n]
            handovers.append(confirmation(f"gwz3:d{n}", did, parcels[did]["version"], at))
    world.clock.advance(minutes=30)

    # back online: everything applies; sent again (a retry): everything is a duplicate
    first = sync(world, visits, handovers)
    assert len(first) == VISITS + CONFIRMATIONS
    assert {r["status"] for r in first.values()} == {"APPLIED"}, \
        [r for r in first.values() if r["status"] != "APPLIED"][:3]
    again = sync(world, visits, handovers)
    assert len(again) == VISITS + CONFIRMATIONS
    assert {r["status"] for r in again.values()} == {"DUPLICATE"}

    # what the API shows now: the visits covered every member (no accounted list: all, as
    # recordVisit), once each; the deliveries were handed over
    now = work_list(world)
    assert {(now[h]["visitVersion"], now[h]["attempts"], now[h]["covered"]) for h in hids} \
        == {(2, 1, True)}
    left = dispatched(world)
    assert set(left) == set(parcels) - set(dids)
    states = {d["id"]: (d["state"], d["version"]) for d in world.ask(
        "{ deliveries(first: 100) { nodes { id state version } } }", "GWZ3")["deliveries"]["nodes"]}
    assert {states[d] for d in dids} == {("DELIVERED", 3)}

    # offline again: a revisit and a handover, based on what the device read...
    hid, did = sorted(now)[VISITS], sorted(left)[0]
    base_visit, base_delivery = now[hid]["visitVersion"], left[did]["version"]
    at = world.clock.advance(minutes=20)
    late_visit = visit("gwz3:late-v", hid, base_visit, at)
    late_handover = confirmation("gwz3:late-d", did, base_delivery, at)
    # ...while a colleague visits that household, and the delivery becomes overdue
    assert world.ask(RECORD, "OFF1", {"input": {
        "campaignScope": ZONE, "round": 1, "householdId": hid, "method": "PHONE"}}
    )["recordVisit"]["__typename"] == "VisitRecorded"
    world.clock.advance(hours=24)
    assert world.app.tick()["deliveries"] >= 1
    world.caught_up()
    stale = sync(world, [late_visit], [late_handover])
    assert stale["gwz3:late-v"]["status"] == "STALE"
    assert stale["gwz3:late-d"]["status"] == "STALE"
    assert stale["gwz3:late-d"]["currentState"] == "dispatched"
    # the device re-reads the current versions (they match what the stale answers said)...
    fresh_visit = work_list(world)[hid]["visitVersion"]
    fresh_delivery = dispatched(world)[did]
    assert fresh_visit == stale["gwz3:late-v"]["currentVersion"] == base_visit + 2
    assert fresh_delivery["overdue"] is True
    assert fresh_delivery["version"] == stale["gwz3:late-d"]["currentVersion"] \
        == base_delivery + 1
    # ...and resends under the same client ids (a stale record was never applied): applied
    resolved = sync(world, [{**late_visit, "baseVersion": fresh_visit}],
                    [{**late_handover, "baseVersion": fresh_delivery["version"]}])
    assert {r["status"] for r in resolved.values()} == {"APPLIED"}
    assert work_list(world)[hid]["attempts"] == 2
    assert did not in dispatched(world)


def test_the_versions_shown_follow_every_event_of_their_aggregates() -> None:
    """``Delivery.version`` and ``WorkItem.visitVersion`` are the read models' copies of the
    aggregates' versions: they hold only while the read models follow every event that
    changes them (a visit is opened in the save of its first record)."""
    def events(aggregate: type) -> set[type]:
        return {v for v in vars(aggregate).values()
                if isinstance(v, type) and issubclass(v, Event)}
    assert events(Delivery) <= set(DeliveryBoard.follows)
    assert events(Visit) - set(SweepCoverage.follows) == {Visit.Opened}
