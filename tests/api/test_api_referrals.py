"""The referral lifecycle over a real HTTP server: opened, persuaded, accepted, transported,
admitted and cancelled as the signed-in staff member, within their jurisdiction only, applied
once per client id, refusals typed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gridcore.authority import System
from tests.api.test_api_access import World, serve_world
from tests.scenario import STREET, ZONES

RESULT = """__typename ... on ReferralUpdated { notificationId referral { id state kind
  siteCode household { id } } } ... on Problem { code problem remedy }"""
OPEN = f"""mutation($input: OpenReferralInput!) {{ openReferral(input: $input) {{ {RESULT} }} }}"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-referrals") / "gridcore.sqlite") as w:
        w.app.register_quarantine_site("QS-1", "后湖隔离酒店", STREET, 2, by=System.OPERATOR)
        w.caught_up()
        yield w


def resident_in(world: World, zone: str, index: int = 0) -> tuple[str, str]:
    hid = sorted(h for h, g in world.households.items() if g == zone)[index]
    data = world.ask(f'{{ household(id: "{hid}") {{ residents {{ id }} }} }}', "STR1")
    return hid, data["household"]["residents"][0]["id"]


def step(world: World, staff_no: str | None, name: str, args: str,
         variables: dict[str, Any]) -> dict[str, Any]:
    decl = ", ".join(f"${k}: {'ID!' if k == 'id' else 'String'}" for k in variables)
    query = f"mutation({decl}) {{ {name}(input: {{ {args} }}) {{ {RESULT} }} }}"
    return world.ask(query, staff_no, variables)[name]


def test_a_referral_goes_from_opened_to_admitted_within_the_jurisdiction(world: World) -> None:
    hid, rid = resident_in(world, ZONES[0])
    fields = {"householdId": hid, "residentId": rid, "kind": "CENTRALIZED_QUARANTINE",
              "reason": "密接 close contact", "clientId": "gwz1:ref:1"}
    opened = world.ask(OPEN, "GWZ1", {"input": fields})["openReferral"]
    assert opened["__typename"] == "ReferralUpdated"
    ref = opened["referral"]
    assert (ref["state"], ref["kind"], ref["household"]["id"]) == (
        "OPENED", "CENTRALIZED_QUARANTINE", hid)
    again = world.ask(OPEN, "GWZ1", {"input": fields})["openReferral"]
    assert again["referral"]["id"] == ref["id"]  # the retry changed nothing
    assert len(world.ask("{ referrals { id } }", "GWZ1")["referrals"]) == 1

    args = {"id": ref["id"]}
    # another grid's worker and a caller without a token get nothing of it
    assert step(world, "GWZ2", "acceptReferral", "id: $id", args)["__typename"] == (
        "NotFoundProblem")
    assert step(world, None, "acceptReferral", "id: $id", args)["__typename"] == (
        "NotPermittedProblem")
    # the resident's micro-grid worker follows it (a volunteer may not), and so may the
    # community's grid worker
    vol = step(world, "VOL1", "recordPersuasion",
               'id: $id, minutes: 5, refusedReason: "不愿离家 unwilling"', args)
    assert vol["__typename"] == "NotPermittedProblem" and "volunteer" in vol["problem"]
    persuaded = step(world, "GWZ1", "recordPersuasion",
                     'id: $id, minutes: 20, refusedReason: "不愿离家 unwilling"', args)
    assert persuaded["referral"]["state"] == "OPENED"
    assert step(world, "GW1", "acceptReferral", "id: $id, minutes: 15",
                args)["referral"]["state"] == "ACCEPTED"
    sent = step(world, "GW1", "dispatchTransport", 'id: $id, vehicle: "转运车1号"', args)
    assert sent["referral"]["state"] == "IN_TRANSPORT"
    admitted = step(world, "OFF1", "admitReferral", "id: $id, siteCode: $site",
                    {**args, "site": "QS-1"})
    assert admitted["__typename"] == "ReferralUpdated", admitted
    assert (admitted["referral"]["state"], admitted["referral"]["siteCode"]) == (
        "ADMITTED", "QS-1")
    sites = world.ask("{ quarantineSites { code occupancy free } }", "STR1")["quarantineSites"]
    assert sites == [{"code": "QS-1", "occupancy": 1, "free": 1}]
    measures = world.ask(f'{{ household(id: "{hid}") {{ residents {{ id measure }} }} }}',
                         "GWZ1")["household"]["residents"]
    assert {r["id"]: r["measure"] for r in measures}[rid] == "CENTRALIZED_QUARANTINE"
    late = step(world, "GW1", "cancelReferral", 'id: $id, reason: "误报 mistaken"', args)
    assert late["__typename"] == "ForbiddenTransitionProblem" and late["remedy"]


def test_cancelling_an_open_referral_and_refusals(world: World) -> None:
    hid, rid = resident_in(world, ZONES[1])
    fields = {"householdId": hid, "residentId": rid, "kind": "FEVER_CLINIC",
              "reason": "发热 fever 38.5"}
    theirs = world.ask(OPEN, "GWZ1", {"input": fields})["openReferral"]
    assert theirs["__typename"] == "NotFoundProblem"  # not GWZ1's household
    bad = world.ask(OPEN, "GWZ2", {"input": {**fields, "residentId": "x"}})["openReferral"]
    assert bad["__typename"] == "InvalidInputProblem"
    ref = world.ask(OPEN, "GWZ2", {"input": fields})["openReferral"]["referral"]
    stages = {s["state"]: s["count"] for s in world.ask(
        "{ referralStages { state count } }", "GWZ2")["referralStages"]}
    assert stages["OPENED"] == 1 and stages["CANCELLED"] == 0
    done = step(world, "DOC1", "cancelReferral", 'id: $id, reason: "退热 fever gone"',
                {"id": ref["id"]})
    assert done["referral"]["state"] == "CANCELLED"
    stages = {s["state"]: s["count"] for s in world.ask(
        "{ referralStages { state count } }", "GWZ2")["referralStages"]}
    assert stages["OPENED"] == 0 and stages["CANCELLED"] == 1
    assert step(world, "GWZ2", "cancelReferral", 'id: $id, reason: "again"',
                {"id": "not-an-id"})["__typename"] == "NotFoundProblem"
