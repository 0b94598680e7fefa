"""Assistance lists (协查名单) over a real HTTP server, as one journey: a district official's
system pushes a list of three persons (one matched to a resident by ID number, one routed by
address to a micro-grid of the 712 community, one with only a district), applied once per
clientId; the community's grid worker sees the two to locate with names and phones, a
volunteer sees them masked; the worker reports one found with the measure taken and forwards
the other, moved away, to a micro-grid of the 713 community; completion per node reads right,
now and at a past time; overdue persons escalate after ``tick``; a caller without a token gets
nothing; a list with a bad row is refused naming the row, and nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gridcore.authority import System
from gridcore.household import new_member
from gridcore.staff import Role
from tests.api.test_api_access import OTHER_COMMUNITY, OTHER_ZONE, World, call, serve_world
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES

PROBLEM = "... on Problem { code problem remedy }"
ID_NUMBER = "420102198503174516"
REFERENCE = "鄂协查〔2022〕117号"
ITEM = """no place owner ownerLevel basis unrouted status deadline overdue escalations
  forwards residentId name phone idNumber measure"""
RECEIVED = ("... on AssistanceListReceived { notificationId listId items matched routed "
            "unrouted list { reference scopeCode itemCount listFormat } }")
UPDATED = f"... on AssistanceItemUpdated {{ item {{ {ITEM} }} }}"
ROWS = [
    {"name": "张叁", "phone": "13611112222", "idNumber": ID_NUMBER, "reason": "同行程"},
    {"name": "赵六", "phone": "13700001111", "address": "后湖街道712社区第2片区5栋202",
     "reason": "时空伴随"},
    {"name": "孙八", "district": "江岸区", "reason": "密接"},
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-assistance") / "gridcore.sqlite") as w:
        w.app.enrol_staff("OFFD", "区协查专班", Role.OFFICIAL, DISTRICT, 0, by=System.OPERATOR)
        w.app.enrol_staff("OFFC", "市协查专班", Role.OFFICIAL, CITY, 0, by=System.OPERATOR)
        w.staff.update({no: w.app.staff_by_no(no).id for no in ("OFFD", "OFFC")})
        w.app.register_household("712-1-9", ZONES[0], "1栋909", [
            new_member("712-1-9", 1, "张三丰", "13611112222", ID_NUMBER, 1985)],
            by=System.OPERATOR)
        w.caught_up()
        yield w


def items(world: World, staff_no: str | None, args: str = "status: PENDING"
          ) -> dict[int, dict[str, Any]]:
    data = world.ask(f"{{ assistanceItems{f'({args})' if args else ''} {{ {ITEM} }} }}",
                     staff_no)
    return {i["no"]: i for i in data["assistanceItems"]}


def completion(world: World, staff_no: str, as_of: str | None = None
               ) -> dict[str, dict[str, Any]] | None:
    at = f', asOf: "{as_of}"' if as_of else ""
    data = world.ask(f'{{ assistanceList(reference: "{REFERENCE}"{at}) {{ completion {{ code '
                     "total pending overdue found notFound movedAway wrongData } } }",
                     staff_no)["assistanceList"]
    return None if data is None else {c["code"]: c for c in data["completion"]}


def test_a_pushed_list_located_reported_forwarded_and_escalated(world: World) -> None:
    clock = world.clock
    before_push = clock.now.isoformat()
    clock.advance(minutes=1)
    push = {"source": "PROVINCE_PLATFORM", "sourceName": "湖北省大数据平台",
            "reference": REFERENCE, "scope": DISTRICT, "rows": ROWS,
            "clientId": "offd:list:117"}
    got = call(world, "OFFD", "receiveAssistanceList", push, RECEIVED)
    assert got["__typename"] == "AssistanceListReceived", got
    assert (got["items"], got["matched"], got["routed"], got["unrouted"]) == (3, 1, 1, 1)
    assert got["list"] == {"reference": REFERENCE, "scopeCode": DISTRICT, "itemCount": 3,
                           "listFormat": "API"}
    again = call(world, "OFFD", "receiveAssistanceList", push, RECEIVED)
    assert again["__typename"] == "AssistanceListReceived"  # a retry is applied once
    assert again["listId"] == got["listId"] and again["items"] == 3
    twice = call(world, "OFFD", "receiveAssistanceList", {**push, "clientId": None}, RECEIVED)
    assert twice["__typename"] != "AssistanceListReceived"  # a reference is received once
    refused = call(world, "OFF1", "receiveAssistanceList",
                   {**push, "reference": "L-X", "scope": COMMUNITY}, RECEIVED)
    assert refused["__typename"] == "NotPermittedProblem"  # a community receives no list
    received = clock.now.isoformat()
    assert world.ask(f'{{ assistanceList(reference: "{REFERENCE}", asOf: "{before_push}") '
                     "{ id } }", "OFFD")["assistanceList"] is None  # not received by then
    hours = world.ask("{ policy { assistanceHours } }", "OFFD")["policy"]["assistanceHours"]
    assert hours == 24

    # the community's grid worker sees the two to locate, whole; a volunteer masked
    gw = items(world, "GW1")
    assert set(gw) == {1, 2}
    assert (gw[1]["place"], gw[1]["owner"], gw[1]["basis"], gw[1]["name"], gw[1]["phone"]) == (
        ZONES[0], COMMUNITY, "REGISTER", "张叁", "13611112222")
    assert gw[1]["residentId"] is not None and gw[1]["idNumber"] != ID_NUMBER
    assert (gw[2]["place"], gw[2]["basis"], gw[2]["name"], gw[2]["phone"]) == (
        ZONES[1], "MICRO_GRID", "赵六", "13700001111")
    assert all(not i["overdue"] and i["status"] == "PENDING" for i in gw.values())
    vol = items(world, "VOL1")
    assert (vol[1]["name"], vol[1]["phone"], vol[2]["name"], vol[2]["phone"]) == (
        "张*", "136****2222", "赵*", "137****1111")
    district = items(world, "OFFD")
    assert set(district) == {1, 2, 3}
    assert (district[3]["place"], district[3]["unrouted"], district[3]["basis"],
            district[3]["idNumber"]) == (DISTRICT, True, "DISTRICT", None)
    assert district[1]["idNumber"] == ID_NUMBER  # an official sees ID numbers whole
    assert items(world, "GW713") == {}
    audit = Path(world.settings.audit_file if world.settings else "")
    assert any('"ListedPerson.name"' in line for line in
               audit.read_text(encoding="utf-8").splitlines())

    # found, with the measure taken; moved away to the 713 community
    clock.advance(hours=2)
    found = call(world, "GW1", "reportAssistanceItem", {
        "reference": REFERENCE, "itemNo": 1, "outcome": "FOUND", "measure": "居家隔离14天",
        "clientId": "gw1:ai:1"}, UPDATED)
    assert found["__typename"] == "AssistanceItemUpdated", found
    assert (found["item"]["status"], found["item"]["measure"]) == ("FOUND", "居家隔离14天")
    no_measure = call(world, "GW1", "reportAssistanceItem", {
        "reference": REFERENCE, "itemNo": 2, "outcome": "FOUND"}, UPDATED)
    assert no_measure["__typename"] == "InvalidInputProblem"
    moved = call(world, "GW1", "forwardAssistanceItem", {
        "reference": REFERENCE, "itemNo": 2, "toCommunity": OTHER_ZONE,
        "note": "已搬至713社区"}, UPDATED)
    assert moved["__typename"] == "AssistanceItemUpdated", moved
    assert (moved["item"]["place"], moved["item"]["owner"], moved["item"]["status"],
            moved["item"]["forwards"]) == (OTHER_ZONE, OTHER_COMMUNITY, "PENDING", 1)
    elsewhere = call(world, "GW713", "reportAssistanceItem", {
        "reference": REFERENCE, "itemNo": 1, "outcome": "NOT_FOUND"}, UPDATED)
    assert elsewhere["__typename"] == "NotFoundProblem"  # not of their jurisdiction
    assert set(items(world, "GW713")) == {2} and items(world, "GW1") == {}
    reported = clock.now.isoformat()
    listed = world.ask(f'{{ assistanceList(reference: "{REFERENCE}") {{ reference itemCount '
                       f'items {{ no status place deadline overdue measure note }} }} }}',
                       "OFFD")["assistanceList"]
    assert listed["itemCount"] == 3 and [i["no"] for i in listed["items"]] == [1, 2, 3]
    assert (listed["items"][0]["status"], listed["items"][0]["measure"],
            listed["items"][0]["deadline"]) == ("FOUND", "居家隔离14天", None)
    assert (listed["items"][1]["place"], listed["items"][1]["note"]) == (
        OTHER_ZONE, "已搬至713社区")
    mine = world.ask(f'{{ assistanceList(reference: "{REFERENCE}") {{ items {{ no note }} }} }}',
                     "VOL1")["assistanceList"]
    assert mine == {"items": [{"no": 1, "note": None}]}  # their jurisdiction's persons only

    # completion per node: the district sees all three, the community its own
    d = completion(world, "OFFD")
    assert d is not None
    assert {k: v for k, v in d[DISTRICT].items() if k != "code"} == {
        "total": 3, "pending": 2, "overdue": 0, "found": 1, "notFound": 0, "movedAway": 0,
        "wrongData": 0}
    assert (d[COMMUNITY]["total"], d[COMMUNITY]["found"], d[ZONES[0]]["found"]) == (1, 1, 1)
    assert (d[OTHER_COMMUNITY]["pending"], d[STREET]["total"]) == (1, 2)
    assert ZONES[1] not in d and CITY not in d
    c = completion(world, "GW1")
    assert c is not None and set(c) == {COMMUNITY, ZONES[0]}
    then = completion(world, "OFFD", as_of=received)
    assert then is not None and (then[DISTRICT]["pending"], then[ZONES[1]]["pending"]) == (3, 1)

    # a day later the persons not reported escalate one level up
    clock.advance(hours=25)
    assert world.app.tick()["assistance"] == 1
    world.caught_up()
    late = items(world, "OFFD", "")
    assert (late[3]["owner"], late[3]["ownerLevel"], late[3]["escalations"],
            late[3]["overdue"]) == (CITY, "CITY", 1, True)
    assert (late[2]["owner"], late[2]["escalations"], late[2]["overdue"]) == (STREET, 1, True)
    assert late[1]["status"] == "FOUND" and not late[1]["overdue"]
    d = completion(world, "OFFD")
    assert d is not None and (d[DISTRICT]["overdue"], d[OTHER_COMMUNITY]["overdue"]) == (2, 1)
    before = completion(world, "OFFD", as_of=reported)
    assert before is not None and before[DISTRICT]["overdue"] == 0
    assert set(items(world, "GW713")) == {2}  # still to be located in 713

    # without a token: nothing
    assert world.ask(f'{{ assistanceList(reference: "{REFERENCE}") {{ id }} }}')[
        "assistanceList"] is None
    assert items(world, None) == {}
    anonymous = call(world, None, "reportAssistanceItem", {
        "reference": REFERENCE, "itemNo": 2, "outcome": "NOT_FOUND"}, UPDATED)
    assert anonymous["__typename"] == "NotPermittedProblem"
    assert OTHER_ZONE not in (completion(world, "GW1") or {})
    assert completion(world, "GW713") == {OTHER_ZONE: {
        "code": OTHER_ZONE, "total": 1, "pending": 1, "overdue": 1, "found": 0, "notFound": 0,
        "movedAway": 0, "wrongData": 0}}

    # a bad row refuses the whole list, naming the row, and writes nothing
    before_nid = world.app.recorder.max_notification_id()
    bad = call(world, "OFFD", "receiveAssistanceList", {
        "source": "OTHER_CITY", "reference": "孝感协查-9", "scope": DISTRICT,
        "rows": [ROWS[2], {"name": "某某", "phone": "12345", "address": "712社区"}]},
        RECEIVED)
    assert bad["__typename"] == "InvalidInputProblem", bad
    assert "Row 2" in bad["problem"] and "12345" not in bad["problem"] + bad["remedy"]
    assert world.app.recorder.max_notification_id() == before_nid
    assert world.ask('{ assistanceList(reference: "孝感协查-9") { id } }', "OFFD")[
        "assistanceList"] is None

    # the policy decides the hours: a city official adopts 12
    adopted = world.ask(
        "mutation($input: AdoptPolicyInput!) { adoptPolicy(input: $input) { __typename "
        f"... on PolicyAdopted {{ policy {{ assistanceHours }} }} {PROBLEM} }} }}", "OFFC",
        {"input": {"effectiveFrom": clock.now.isoformat(), "note": "协查时限12小时",
                   "changes": {"assistanceHours": 12}}})["adoptPolicy"]
    assert adopted == {"__typename": "PolicyAdopted", "policy": {"assistanceHours": 12}}
    assert world.ask("{ policy { assistanceHours } }", "OFFD")["policy"] == {
        "assistanceHours": 12}
