"""Notifications (通知与宣传) over a real HTTP server, as issue 18 asks: an official posts a
notice (公告) to a zone; the notifier queues its messages; the household whose contact has no
smartphone is on the zone's call list (电话通知名单), whole for the grid worker (audited) and
masked for a volunteer; a worker of another zone, of another community or nobody signed in
is refused; the worker marks the call and the message reads delivered with who called; the
node's messages list a failed text with its reason; an urgent notice is not held for the
quiet hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.notify.outbox import Notifier
from gridcore.authority import System
from tests.api.test_api_access import World, call, serve_world
from tests.scenario import ZONES

PROBLEM = "... on Problem { code problem remedy }"
NOTICE = "明日8时起全员核酸检测，请携带身份证。"
ENTRY = ("messageId cause category text status statusLabel householdId householdNo "
         "residentId name phone")
MESSAGE = ("id cause channel category text urgent status statusLabel attempts reason queuedAt "
           "notBefore calledBy recipient { kind householdId residentId staffId groupCode name "
           "phone }")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-notify") / "gridcore.sqlite") as w:
        yield w


def post_notice(world: World, staff_no: str, scope: str, text: str,
                **more: Any) -> dict[str, Any]:
    out = call(world, staff_no, "postNotice", {"scope": scope, "text": text, **more},
               "... on NoticePosted { notificationId postedNow scope }")
    Notifier(world.app).step()  # the notifier queues the notice's messages
    world.caught_up()
    return out


def call_list(world: World, staff_no: str | None, code: str) -> dict[str, Any]:
    return world.ask(f'{{ callList(code: "{code}") {{ __typename ... on CallList {{ code '
                     f'entries {{ {ENTRY} }} }} {PROBLEM} }} }}', staff_no)["callList"]


def messages(world: World, staff_no: str | None, code: str, status: str | None = None,
             first: int = 50, after: str | None = None) -> dict[str, Any]:
    args = ", ".join(a for a in (f'code: "{code}"', f"status: {status}" if status else "",
                                 f"first: {first}", f'after: "{after}"' if after else "") if a)
    return world.ask(f"{{ messages({args}) {{ __typename ... on NotifyMessageConnection {{ "
                     f"nodes {{ {MESSAGE} }} pageInfo {{ hasNextPage endCursor }} }} "
                     f"{PROBLEM} }} }}", staff_no)["messages"]


def audit(world: World) -> str:
    assert world.settings is not None
    path = Path(world.settings.audit_file)
    return path.read_text(encoding="utf-8") if path.exists() else ""


@pytest.fixture(scope="module")
def posted(world: World) -> dict[str, Any]:
    """The notice to the first zone, its messages queued; the call-list household."""
    out = post_notice(world, "OFF1", ZONES[0], NOTICE, reference="notify-api-1")
    assert out["__typename"] == "NoticePosted" and out["postedNow"], out
    hid = str(world.app.household_by_no("712-1-0").id)  # 张三 has no smartphone
    return {"hid": hid}


def test_a_resident_without_a_smartphone_is_called_and_then_reads_delivered(
        world: World, posted: dict[str, Any]) -> None:
    listed = call_list(world, "GWZ1", ZONES[0])
    assert listed["__typename"] == "CallList", listed
    [entry] = [e for e in listed["entries"] if e["householdId"] == posted["hid"]]
    assert (entry["name"], entry["phone"], entry["householdNo"]) == ("张三", "13812341234",
                                                                     "712-1-0")
    assert NOTICE in entry["text"] and "公告" in entry["text"]
    assert (entry["status"], entry["category"]) == ("QUEUED", "NOTICE")
    assert entry["cause"].startswith("event:")
    # only households that cannot be texted are on it (the others have a phone)
    assert {e["householdId"] for e in listed["entries"]} == {posted["hid"]}

    # a worker of the other zone cannot mark it; the zone's worker can, once
    refused = call(world, "GWZ2", "markCalled", {"messageId": entry["messageId"]},
                   "... on CallRecorded { notificationId }")
    assert refused["__typename"] == "NotFoundProblem", refused
    done = call(world, "GWZ1", "markCalled", {"messageId": entry["messageId"]},
                f"... on CallRecorded {{ notificationId message {{ {MESSAGE} }} }}")
    assert done["__typename"] == "CallRecorded", done
    assert done["notificationId"] is not None
    m = done["message"]
    assert (m["status"], m["channel"], m["calledBy"]) == ("DELIVERED", "CALL_LIST",
                                                          str(world.staff["GWZ1"]))
    assert call_list(world, "GWZ1", ZONES[0])["entries"] == []
    again = call(world, "GWZ1", "markCalled", {"messageId": entry["messageId"]},
                 "... on CallRecorded { notificationId }")
    assert again["__typename"] == "ForbiddenTransitionProblem", again
    assert "call list" in again["remedy"]

    delivered = messages(world, "GWZ1", ZONES[0], "DELIVERED")["nodes"]
    [seen] = [d for d in delivered if d["id"] == entry["messageId"]]
    assert seen["calledBy"] == str(world.staff["GWZ1"])
    assert seen["recipient"]["householdId"] == posted["hid"]


def test_callers_outside_the_micro_grid_are_refused(world: World,
                                                    posted: dict[str, Any]) -> None:
    for staff_no in ("GWZ2", "GW713"):
        out = call_list(world, staff_no, ZONES[0])
        assert out["__typename"] == "NotFoundProblem", (staff_no, out)
        assert ZONES[0] in out["problem"]
        listed = messages(world, staff_no, ZONES[0])
        assert listed["__typename"] == "NotFoundProblem", (staff_no, listed)
    # the same words as for a node that does not exist
    assert call_list(world, "GWZ2", ZONES[0])["problem"] == call_list(
        world, "GWZ2", "420102001712-99")["problem"].replace("420102001712-99", ZONES[0])
    for ask in (call_list(world, None, ZONES[0]), messages(world, None, ZONES[0])):
        assert ask["__typename"] == "NotPermittedProblem", ask
        assert "Bearer" in ask["remedy"]
    # a community has no call list of its own: its micro-grids have
    whole = call_list(world, "OFF1", ZONES[0].split("-")[0])
    assert whole["__typename"] == "InvalidInputProblem", whole
    assert "not a micro-grid" in whole["problem"] and "微网格" in whole["remedy"]


def test_masking_differs_between_a_volunteer_and_the_grid_worker(
        world: World, posted: dict[str, Any]) -> None:
    post_notice(world, "OFF1", ZONES[0], "今晚20时停水，请提前储水。", reference="notify-api-2")
    before = audit(world).count('"field":"Resident.phone"')
    [vol] = call_list(world, "VOL1", ZONES[0])["entries"]
    assert (vol["name"], vol["phone"]) == ("张*", "138****1234")
    assert audit(world).count('"field":"Resident.phone"') == before  # nothing disclosed
    [gw] = call_list(world, "GW1", ZONES[0])["entries"]
    assert (gw["name"], gw["phone"]) == ("张三", "13812341234")
    assert audit(world).count('"field":"Resident.phone"') == before + 1
    assert f'"reader":"{world.staff["GW1"]}"' in audit(world)

    # the node's messages: the worker sees texted residents' phones, the volunteer none
    by_gw = {m["id"]: m for m in messages(world, "GW1", ZONES[0], "QUEUED")["nodes"]}
    by_vol = {m["id"]: m for m in messages(world, "VOL1", ZONES[0], "QUEUED")["nodes"]}
    assert set(by_gw) == set(by_vol) and by_gw
    texted = [i for i, m in by_gw.items() if m["channel"] == "SMS"]
    assert texted
    for i in texted:
        assert by_gw[i]["recipient"]["phone"] == "13812341234"
        assert by_vol[i]["recipient"]["phone"] is None
        assert by_vol[i]["recipient"]["name"] == "张*"
        assert by_gw[i]["recipient"]["name"] == "张三"
    groups = [m for m in by_gw.values() if m["channel"] == "WECOM_GROUP"]
    assert {g["recipient"]["groupCode"] for g in groups} == {ZONES[0]}  # one per notice


def test_the_messages_list_shows_a_failed_text_with_its_reason(
        world: World, posted: dict[str, Any]) -> None:
    queued = messages(world, "GWZ1", ZONES[0], "QUEUED")["nodes"]
    sms = next(m for m in queued if m["channel"] == "SMS")
    mid = UUID(sms["id"])
    world.app.attempt_message(mid, by=System.AUTOMATION)  # as the sender does
    world.app.record_send_failure(mid, "网关拒绝 number unreachable (400)", True,
                                  by=System.AUTOMATION)
    world.caught_up()
    failed = messages(world, "GWZ1", ZONES[0], "FAILED")["nodes"]
    [m] = [f for f in failed if f["id"] == sms["id"]]
    assert (m["status"], m["statusLabel"], m["attempts"], m["reason"]) == (
        "FAILED", "失败 failed", 1, "网关拒绝 number unreachable (400)")
    assert all(q["reason"] is None for q in messages(world, "GWZ1", ZONES[0], "QUEUED")["nodes"])
    # the community official sees the zone's messages too, paged without repeats
    seen, after = [], None
    while True:
        page = messages(world, "OFF1", ZONES[0], first=2, after=after)
        seen += [m["id"] for m in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    everything = [m["id"] for m in messages(world, "OFF1", ZONES[0], first=100)["nodes"]]
    assert seen == everything and len(seen) == len(set(seen)) > 2
    # a message of the other zone is not among the first zone's
    assert all(m["recipient"]["householdId"] in (None, *world.households)
               and (m["recipient"]["householdId"] is None
                    or world.households[m["recipient"]["householdId"]] == ZONES[0])
               for m in messages(world, "OFF1", ZONES[0], first=100)["nodes"])


def test_only_an_official_posts_and_an_urgent_notice_is_not_held_for_the_night(
        world: World) -> None:
    refused = call(world, "GWZ2", "postNotice", {"scope": ZONES[1], "text": "通知"},
                   "... on NoticePosted { postedNow }")
    assert refused["__typename"] == "NotPermittedProblem", refused
    outside = call(world, "OFF1", "postNotice", {"scope": "420102001713-01", "text": "通知"},
                   "... on NoticePosted { postedNow }")
    assert outside["__typename"] == "NotFoundProblem", outside
    named = call(world, "OFF1", "postNotice", {"scope": ZONES[1], "text": "请张三下楼核酸"},
                 "... on NoticePosted { postedNow }")
    assert named["__typename"] == "InvalidInputProblem" and "张三" not in named["problem"]
    loud = call(world, "OFF1", "postNotice", {"scope": ZONES[1], "text": "勤洗手、戴口罩。",
                                              "education": True, "urgent": True},
                "... on NoticePosted { postedNow }")
    assert loud["__typename"] == "InvalidInputProblem" and "urgent" in loud["problem"]

    world.clock.now = datetime.fromisoformat("2020-02-17T23:30:00+08:00")
    try:
        urgent = post_notice(world, "OFF1", ZONES[1], "今夜起小区封闭管理，请勿外出。",
                             urgent=True, reference="notify-api-urgent")
        assert urgent["__typename"] == "NoticePosted" and urgent["postedNow"], urgent
        again = post_notice(world, "OFF1", ZONES[1], "今夜起小区封闭管理，请勿外出。",
                            urgent=True, reference="notify-api-urgent")
        assert again["__typename"] == "NoticePosted" and not again["postedNow"]
        night = post_notice(world, "OFF1", ZONES[1], "明早7时起恢复供水。",
                            reference="notify-api-night")
        assert night["postedNow"]
    finally:
        world.clock.now = datetime.fromisoformat("2020-02-17T08:30:00+00:00")
    listed = messages(world, "OFF1", ZONES[1], first=100)["nodes"]
    sms_urgent = [m for m in listed if m["channel"] == "SMS" and m["urgent"]]
    sms_night = [m for m in listed if m["channel"] == "SMS" and not m["urgent"]]
    assert sms_urgent and sms_night
    assert all("紧急公告" in m["text"] for m in sms_urgent)
    assert {datetime.fromisoformat(m["notBefore"]) for m in sms_urgent} == {
        datetime.fromisoformat("2020-02-17T23:30:00+08:00")}
    morning = datetime.fromisoformat("2020-02-18T07:00:00+08:00")
    assert all(datetime.fromisoformat(m["notBefore"]) >= morning for m in sms_night)
    assert all(datetime.fromisoformat(m["notBefore"]) - morning < timedelta(hours=1)
               for m in sms_night)
