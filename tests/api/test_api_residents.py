"""Residents without a staff token, over a real HTTP server: they file a request, follow it
with the reference they were given, rate the reply, and read the public statistics; every
other field answers them with nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.test_api_access import OTHER_ZONE, World, serve_world
from tests.scenario import COMMUNITY, STREET, ZONES

FILE = """mutation($input: FileRequestInput!) { fileRequest(input: $input) { __typename
  ... on RequestFiled { reference number status deadline }
  ... on Problem { code problem remedy } } }"""
MINE = """query($ref: String!) { myRequest(reference: $ref) { reference number status
  statusLabel category grade levelLabel reply rating answeredOnTime } }"""
STATS = """query($s: String!) { requestStatistics(scope: $s) { scopeCode total escalated resolved
  ratings averageRating byCategory { key label count } byStatus { key count }
  byLevel { key count } } }"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-residents") / "gridcore.sqlite") as w:
        yield w


PHONES = iter(f"1380013{n:04d}" for n in range(10_000))
"""A phone per filing (the limit per phone is not what these tests are about; see
tests/api/test_api_request_abuse.py)."""


def file(world: World, staff_no: str | None = None, **fields: Any) -> dict[str, Any]:
    fields = {"category": "SUPPLIES", "text": "家里缺降压药", "phone": next(PHONES),
              "address": "1栋101", "gridCode": ZONES[0], **fields}
    return world.ask(FILE, staff_no, {"input": fields})["fileRequest"]


def test_a_resident_files_follows_and_rates_a_request_without_a_token(world: World) -> None:
    filed = file(world, grade="URGENT", phone="13800138000", clientId="resident-phone:1")
    assert filed["__typename"] == "RequestFiled" and filed["status"] == "OPEN"
    ref = filed["reference"]
    assert file(world, grade="URGENT", phone="13800138000",
                clientId="resident-phone:1")["reference"] == ref

    mine = world.ask(MINE, None, {"ref": ref.lower().replace("-", "")})["myRequest"]
    assert mine["reference"] == ref and mine["number"] == filed["number"]
    assert (mine["status"], mine["category"], mine["grade"]) == ("OPEN", "SUPPLIES", "URGENT")
    assert "社区" in mine["levelLabel"] and mine["reply"] is None

    # the community sees it on its board (what was written and the phone are not there)
    board = world.ask("{ requests { id number communityCode grade } }", "OFF1")["requests"]
    ours = [r for r in board if r["number"] == filed["number"]]
    assert ours and ours[0]["communityCode"] == COMMUNITY
    assert world.ask("{ requests { id } }", "GWZ1")["requests"] == []  # kept per community
    resolve = """mutation($id: ID!, $r: String!) { resolveRequest(input: { id: $id, reply: $r }) {
      __typename ... on RequestUpdated { request { status reply } } } }"""
    # a worker of another community cannot answer it, and learns nothing of it
    refused = world.ask(resolve, "GW713", {"id": ours[0]["id"], "r": "已送药"})
    assert refused["resolveRequest"]["__typename"] == "NotFoundProblem"
    done = world.ask(resolve, "OFF1", {"id": ours[0]["id"], "r": "已送药上门"})["resolveRequest"]
    assert done == {"__typename": "RequestUpdated",
                    "request": {"status": "RESOLVED", "reply": "已送药上门"}}

    rate = """mutation($ref: String!, $n: Int!) {
      rateRequest(input: { reference: $ref, rating: $n }) {
      __typename ... on RequestUpdated { request { status rating } }
      ... on Problem { code remedy } } }"""
    assert world.ask(rate, None, {"ref": ref, "n": 9})["rateRequest"]["__typename"] == (
        "InvalidInputProblem")
    assert world.ask(rate, None, {"ref": ref, "n": 5})["rateRequest"] == {
        "__typename": "RequestUpdated", "request": {"status": "CLOSED", "rating": 5}}
    again = world.ask(rate, None, {"ref": ref, "n": 4})["rateRequest"]
    assert again["__typename"] == "ForbiddenTransitionProblem"

    stats = world.ask(STATS, None, {"s": COMMUNITY})["requestStatistics"]
    assert stats["total"] >= 1 and stats["ratings"] >= 1 and stats["averageRating"] == 5.0
    closed = next(s for s in stats["byStatus"] if s["key"] == "closed")
    assert closed["count"] >= 1

    reopen = """mutation($ref: String!) {
      reopenRequest(input: { reference: $ref, reason: "药还没送到" }) {
      __typename ... on RequestUpdated { request { status reply rating } } } }"""
    assert world.ask(reopen, None, {"ref": ref})["reopenRequest"] == {
        "__typename": "RequestUpdated", "request": {"status": "OPEN", "reply": None,
                                                    "rating": None}}


def test_refused_filings_are_typed_problems(world: World) -> None:
    short = file(world, text="x")
    assert short["__typename"] == "InvalidInputProblem" and "2-2000" in short["remedy"]
    no_grid = file(world, gridCode=None)
    assert no_grid["__typename"] == "InvalidInputProblem"
    bad_phone = file(world, phone="12345")
    assert bad_phone["__typename"] == "InvalidInputProblem"
    assert "12345" not in bad_phone["problem"]  # a phone is never echoed whole
    too_high = file(world, gridCode=STREET)
    assert too_high["__typename"] == "InvalidInputProblem"
    hid = next(iter(world.households))
    as_resident = file(world, householdId=hid, phone=None, address=None, gridCode=None)
    assert as_resident["__typename"] == "NotPermittedProblem"


def test_staff_file_for_a_household_of_their_jurisdiction_only(world: World) -> None:
    mine = next(h for h, g in world.households.items() if g == ZONES[0])
    theirs = next(h for h, g in world.households.items() if g == OTHER_ZONE)
    fields = {"phone": None, "address": None, "gridCode": None, "channel": "HOTLINE"}
    assert file(world, "GWZ1", householdId=mine, **fields)["__typename"] == "RequestFiled"
    assert file(world, "GWZ1", householdId=theirs, **fields)["__typename"] == "NotFoundProblem"


def test_statistics_are_public_counts_and_unknown_scopes_are_null(world: World) -> None:
    file(world, category="MEDICAL", gridCode=OTHER_ZONE, clientId="stats:713")
    street = world.ask(STATS, None, {"s": STREET})["requestStatistics"]
    community = world.ask(STATS, None, {"s": COMMUNITY})["requestStatistics"]
    assert street["total"] == community["total"] + 1
    assert {c["key"] for c in street["byCategory"]} >= {"supplies", "medical"}
    assert all("phone" not in k.lower() for k in street)
    assert world.ask(STATS, None, {"s": "nowhere"})["requestStatistics"] is None
    assert world.ask(STATS, None, {"s": ZONES[0]})["requestStatistics"] is None


@pytest.mark.parametrize("reference", ["0000-0000-0000", "00000-00000-00000-00000",
                                       "not a reference", ""])
def test_an_unknown_reference_reads_as_nothing(world: World, reference: str) -> None:
    assert world.ask(MINE, None, {"ref": reference})["myRequest"] is None


def test_without_a_token_nothing_else_is_visible(world: World) -> None:
    hid = next(iter(world.households))
    data = world.ask(f"""{{ me {{ role }} node: gridNode(code: "{COMMUNITY}") {{ code }}
      household(id: "{hid}") {{ id }} requests {{ id }} referrals {{ id }} alerts {{ id }}
      deliveries {{ nodes {{ id }} }} enterprises {{ id }} staff {{ id }} checkpoints {{ id }}
      quarantineSites {{ code }} alertEscalations {{ alertId }} }}""")
    assert data == {"me": None, "node": None, "household": None, "requests": [],
                    "referrals": [], "alerts": [], "deliveries": {"nodes": []}, "enterprises": [],
                    "staff": [], "checkpoints": [], "quarantineSites": [],
                    "alertEscalations": []}
    change = """mutation($h: ID!, $r: ID!) { changeHealth(input: {householdId: $h,
      residentId: $r, health: SYMPTOMATIC}) { __typename } }"""
    assert world.ask(change, None, {"h": hid, "r": hid})["changeHealth"]["__typename"] == (
        "NotPermittedProblem")


ASSIGN = """mutation($id: ID!, $s: ID!) {
  assignRequest(input: { id: $id, staffId: $s }) { __typename
  ... on RequestUpdated { request { status } } ... on Problem { problem } } }"""


def test_staff_assign_requests_of_their_jurisdiction_to_colleagues_in_it(world: World) -> None:
    number = file(world, category="INFORMATION", clientId="assign:1")["number"]
    [rid] = [r["id"] for r in world.ask("{ requests { id number } }", "OFF1")["requests"]
             if r["number"] == number]
    worker, outsider = str(world.staff["GW1"]), str(world.staff["GW713"])
    refused = world.ask(ASSIGN, "OFF1", {"id": rid, "s": outsider})["assignRequest"]
    assert refused["__typename"] == "NotFoundProblem" and "staff" in refused["problem"]
    hidden = world.ask(ASSIGN, "GW713", {"id": rid, "s": outsider})["assignRequest"]
    assert hidden["__typename"] == "NotFoundProblem" and "request" in hidden["problem"]
    done = world.ask(ASSIGN, "OFF1", {"id": rid, "s": worker})["assignRequest"]
    assert done == {"__typename": "RequestUpdated", "request": {"status": "IN_PROGRESS"}}
    board = {r["id"]: r for r in world.ask("{ requests { id assigneeId status } }",
                                           "OFF1")["requests"]}
    assert board[rid]["assigneeId"] == worker and board[rid]["status"] == "IN_PROGRESS"
