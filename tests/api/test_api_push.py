"""Inbound pushes over a real HTTP server: a register pushed by another system is applied once
by the sender's ids (``pushHouseholds``): three households created; the same push again
writes nothing and answers UNCHANGED; a changed row under a senderId applied before is a
CONFLICT naming the fields (never the values) and is not applied; a malformed row refuses the
whole push naming the row; a grid worker may not push; an assistance list pushed twice under
its sender's list id is applied once, answered with the list received."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gridcore.authority import System
from gridcore.household import Household, household_id
from gridcore.staff import Role
from tests.api.test_api_access import OTHER_ZONE, World, call, serve_world
from tests.scenario import DISTRICT, ZONES

PROBLEM = "... on Problem { code problem remedy }"
PUSHED = ("... on HouseholdsPushed { sender batchId notificationId created unchanged conflicts "
          "refused rows { index senderId outcome householdId differs reason } }")
RECEIVED = "... on AssistanceListReceived { notificationId listId items }"


def row(sid: str, no: str, address: str, name: str, phone: str = "13800001234",
        **extra: Any) -> dict[str, Any]:
    return {"senderId": sid, "householdNo": no, "address": address,
            "members": [{"name": name, "phone": phone, "birthYear": 1960,
                         "vulnerabilities": ["CHRONIC_ILLNESS"]}], **extra}


ROWS = [row("S-1", "P-1", "9栋101", "李四"),
        row("S-2", "P-2", "9栋102", "王五", "13800005678"),
        row("S-3", "P-3", "9栋103", "钱七", microGridCode=ZONES[1])]
PUSH = {"sender": "city-bigdata", "batchId": "B-1", "microGrid": ZONES[0], "rows": ROWS}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-push") / "gridcore.sqlite") as w:
        w.app.enrol_staff("OFFD", "区协查专班", Role.OFFICIAL, DISTRICT, 0, by=System.OPERATOR)
        w.staff["OFFD"] = w.app.staff_by_no("OFFD").id
        w.caught_up()
        yield w


def last(world: World) -> int:
    return world.app.recorder.max_notification_id() or 0


def test_a_push_applied_once_by_sender_id(world: World) -> None:
    got = call(world, "OFF1", "pushHouseholds", PUSH, PUSHED)
    assert got["__typename"] == "HouseholdsPushed", got
    assert (got["created"], got["unchanged"], got["conflicts"], got["refused"]) == (3, 0, 0, 0)
    assert [(r["index"], r["senderId"], r["outcome"]) for r in got["rows"]] == [
        (1, "S-1", "CREATED"), (2, "S-2", "CREATED"), (3, "S-3", "CREATED")]
    assert (got["sender"], got["batchId"]) == ("city-bigdata", "B-1")
    h = world.app.household(household_id("P-3"))
    assert h.micro_grid == ZONES[1] and h.address.text == "9栋103"

    # the same push again (another batch id, too) writes nothing and answers unchanged
    before = last(world)
    again = call(world, "OFF1", "pushHouseholds", {**PUSH, "batchId": "B-2"}, PUSHED)
    assert (again["created"], again["unchanged"], again["conflicts"]) == (0, 3, 0), again
    assert [r["householdId"] for r in again["rows"]] == [r["householdId"] for r in got["rows"]]
    assert last(world) == before

    # a changed row under a senderId applied before: a conflict naming fields, not applied
    changed = [row("S-1", "P-1", "9栋999", "李四", "13900009999"), *ROWS[1:]]
    conflict = call(world, "OFF1", "pushHouseholds", {**PUSH, "rows": changed}, PUSHED)
    first = conflict["rows"][0]
    assert (first["outcome"], first["differs"]) == (
        "CONFLICT", ["address", "members[1].phone"]), conflict
    assert "9栋999" not in str(conflict) and "13900009999" not in str(conflict)
    assert [r["outcome"] for r in conflict["rows"][1:]] == ["UNCHANGED", "UNCHANGED"]
    assert last(world) == before
    assert world.app.household(household_id("P-1")).address.text == "9栋101"

    # another sender's id for a household already registered: refused with the reason
    other = call(world, "OFF1", "pushHouseholds",
                 {**PUSH, "sender": "police", "rows": [ROWS[0]]}, PUSHED)
    assert other["rows"][0]["outcome"] == "REFUSED"
    assert "already registered" in other["rows"][0]["reason"]
    assert last(world) == before


def test_a_malformed_row_refuses_the_whole_push(world: World) -> None:
    before = last(world)
    rows = [row("M-1", "M-1", "8栋101", "周一"), row("M-2", "M-2", "8栋102", "周二", "12"),
            row("M-3", "M-3", "8栋103", "周三")]
    got = call(world, "OFF1", "pushHouseholds", {**PUSH, "rows": rows}, PUSHED)
    assert got["__typename"] == "InvalidInputProblem", got
    assert got["problem"].startswith("Row 2, members[1]:"), got
    no_name = [row("M-1", "M-1", "8栋101", "周一"), row("M-2", "M-2", "x", "周二")]
    got = call(world, "OFF1", "pushHouseholds", {**PUSH, "rows": no_name}, PUSHED)
    assert got["__typename"] == "InvalidInputProblem" and got["problem"].startswith("Row 2:")
    twice = [row("M-1", "M-1", "8栋101", "周一"), row("M-1", "M-9", "8栋109", "周九")]
    got = call(world, "OFF1", "pushHouseholds", {**PUSH, "rows": twice}, PUSHED)
    assert got["__typename"] == "InvalidInputProblem" and "Row 2" in got["problem"]
    elsewhere = [row("M-1", "M-1", "8栋101", "周一", microGridCode=OTHER_ZONE)]
    got = call(world, "OFF1", "pushHouseholds", {**PUSH, "rows": elsewhere}, PUSHED)
    assert got["__typename"] == "NotFoundProblem" and got["problem"].startswith("Row 1:")
    assert last(world) == before
    assert world.app._find(Household, household_id("M-1")) is None


def test_a_grid_worker_may_not_push(world: World) -> None:
    before = last(world)
    got = call(world, "GW1", "pushHouseholds",
               {**PUSH, "sender": "gw", "rows": [row("G-1", "G-1", "7栋101", "吴一")]}, PUSHED)
    assert got["__typename"] == "NotPermittedProblem", got
    assert call(world, None, "pushHouseholds", PUSH, PUSHED)["__typename"] == (
        "NotPermittedProblem")
    assert last(world) == before


def test_an_assistance_list_pushed_twice_is_applied_once(world: World) -> None:
    push = {"source": "PROVINCE_PLATFORM", "reference": "鄂协查〔2022〕201号",
            "scope": DISTRICT, "sender": "province", "senderListId": "L-201",
            "rows": [{"name": "孙八", "district": "江岸区", "reason": "密接"}]}
    got = call(world, "OFFD", "receiveAssistanceList", push, RECEIVED)
    assert got["__typename"] == "AssistanceListReceived", got
    before = last(world)
    again = call(world, "OFFD", "receiveAssistanceList", push, RECEIVED)
    assert again["__typename"] == "AssistanceListReceived", again
    assert again["listId"] == got["listId"] and again["items"] == 1
    assert last(world) == before
    half = call(world, "OFFD", "receiveAssistanceList", {**push, "sender": None}, RECEIVED)
    assert half["__typename"] == "InvalidInputProblem"
