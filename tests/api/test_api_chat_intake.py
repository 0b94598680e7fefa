"""群内自报 through the API over a real HTTP server: ``submitChatMessages`` takes a micro-grid
group's batch (a good report recorded as a chat visit, an unreadable one held for the worker
with the words quoted, a thank-you and a picture set aside), the same batch again is all
duplicates and writes nothing, a fever by chat makes the resident symptomatic with a
fever-clinic referral, an arrival told in a sentence (李四昨天从黄冈回来了) tags that member and
places them under home observation, in a household of three a fever by chat of the member
named (or of the sender, for 我) is followed up exactly as ``recordVisit``'s, one that no member
can be named for (老公发烧) is held with the reason and records no visit, and ``chatReview``
shows the held messages, masked for a volunteer (``张**``, ``****``). A worker clears held
messages (``resolveChatMessage``: recorded by hand or dismissed), they leave ``chatReview`` and
``chatReviewCounts`` follows; a refusal is a typed problem; an erased resident's held messages
read as erased."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from gridcore.application import new_member
from gridcore.authority import System
from gridcore.status import Measure, TagKind
from tests.api.test_api_access import World, serve_world
from tests.scenario import ZONES

SUBMIT = """mutation($input: SubmitChatMessagesInput!) { submitChatMessages(input: $input) {
  __typename
  ... on ChatMessagesTaken { recorded review ignored duplicates
                             outcomes { messageId fate reason householdId } }
  ... on Problem { problem remedy } } }"""
REVIEW = """query($code: String!) { chatReview(microGridCode: $code) {
  messageId kind sender text reason } }"""
FAMILY = ("王建国", "刘秀英", "王小明")
RESIDENTS = """query($h: ID!) { household(id: $h) { residents { id health } }
  referrals(first: 100) { kind household { id } } }"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-chat") / "gridcore.sqlite") as w:
        w.app.register_household("712-1-9", ZONES[0], "1栋901",
                                 [new_member("712-1-9", 1, "独居老人", None, None, 1940)],
                                 by=System.OPERATOR)
        for n in (5, 6, 7, 8):  # households of three for whose fever it is
            w.app.register_household(f"712-1-{n}", ZONES[0], f"1栋{n}01",
                                     [new_member(f"712-1-{n}", i, name)
                                      for i, name in enumerate(FAMILY, 1)], by=System.OPERATOR)
        w.app.declare_risk_area("DECL-HG", "黄冈市", "high", w.clock.now - timedelta(days=3),
                                by=System.OPERATOR)
        w.app.launch_campaign(ZONES[0], 1, 3, by=System.OPERATOR)
        w.clock.advance(hours=2)
        w.caught_up()
        yield w


def message(mid: str, text: str, sent_at: datetime, sender: str = "居民") -> dict[str, str]:
    return {"messageId": mid, "sender": sender, "sentAt": sent_at.isoformat(), "text": text}


def submit(world: World, messages: list[dict[str, str]], staff_no: str = "GWZ1",
           code: str = ZONES[0]) -> dict[str, Any]:
    data = world.ask(SUBMIT, staff_no, {"input": {"microGridCode": code,
                                                  "messages": messages}})
    return data["submitChatMessages"]


def test_a_batch_is_recorded_held_or_set_aside_and_taken_once(world: World) -> None:
    t = world.clock.now - timedelta(minutes=30)
    batch = [message("wx-1", "1栋101，2人，电话××××，平安", t),
             message("wx-2", "1栋201，2人，平安，吧啦吧啦", t, "张阿姨"),
             message("wx-3", "谢谢网格员辛苦了", t),
             message("wx-4", "[图片]", t)]
    got = submit(world, batch)
    assert got["__typename"] == "ChatMessagesTaken", got
    assert (got["recorded"], got["review"], got["ignored"], got["duplicates"]) == (1, 1, 2, 0)
    fates = {o["messageId"]: o for o in got["outcomes"]}
    assert fates["wx-1"]["fate"] == "RECORDED" and fates["wx-1"]["householdId"]
    assert fates["wx-2"]["fate"] == "REVIEW" and "“吧啦吧啦”" in fates["wx-2"]["reason"]
    assert fates["wx-3"]["fate"] == "IGNORED" and "谢谢网格员辛苦了" in fates["wx-3"]["reason"]
    assert fates["wx-4"]["fate"] == "IGNORED" and "[图片]" in fates["wx-4"]["reason"]
    hid = fates["wx-1"]["householdId"]
    visit = world.app.visit(world.app.campaign_of(ZONES[0], 1).id, UUID(hid))
    assert visit is not None and [a.method.value for a in visit.attempts] == ["chat"]
    assert visit.attempts[0].staff_id == world.staff["GWZ1"]  # the forwarding worker

    before = world.app.recorder.max_notification_id()
    again = submit(world, batch)
    assert (again["recorded"], again["review"], again["ignored"], again["duplicates"]) == \
        (0, 0, 0, 4)
    assert world.app.recorder.max_notification_id() == before

    held = world.ask(REVIEW, "GWZ1", {"code": ZONES[0]})["chatReview"]
    assert [(h["messageId"], h["kind"], h["sender"], h["text"]) for h in held] == [
        ("wx-2", "text", "张阿姨", "1栋201，2人，平安，吧啦吧啦")]
    assert "“吧啦吧啦”" in held[0]["reason"]
    masked = world.ask(REVIEW, "VOL1", {"code": ZONES[0]})["chatReview"]
    assert [(h["sender"], h["text"], h["reason"]) for h in masked] == [("张**", "****", "****")]
    assert world.ask(REVIEW, "GWZ2", {"code": ZONES[0]})["chatReview"] is None


def test_a_fever_by_chat_makes_the_resident_symptomatic_with_a_referral(world: World) -> None:
    t = world.clock.now - timedelta(minutes=10)
    got = submit(world, [message("wx-fever", "1栋901，1人，发热37.8", t, "独居老人")])
    assert got["recorded"] == 1, got
    hid = got["outcomes"][0]["householdId"]
    found = world.ask(RESIDENTS, "GWZ1", {"h": hid})
    assert [r["health"] for r in found["household"]["residents"]] == ["SYMPTOMATIC"]
    assert [r["kind"] for r in found["referrals"] if r["household"]["id"] == hid] == [
        "FEVER_CLINIC"]


def test_another_micro_grid_reads_as_missing(world: World) -> None:
    t = world.clock.now - timedelta(minutes=10)
    got = submit(world, [message("wx-x", "2栋101，2人，平安", t)], "GWZ1", ZONES[1])
    assert got["__typename"] == "NotFoundProblem", got


def test_an_arrival_told_in_a_sentence_tags_the_member_named(world: World) -> None:
    t = world.clock.now - timedelta(minutes=5)
    got = submit(world, [message("wx-back", "1栋301，2人，平安。李四昨天从黄冈回来了，谢谢",
                                 t, "张三")])
    assert got["recorded"] == 1, got
    h = world.app.household(UUID(got["outcomes"][0]["householdId"]))
    by_name = {r.identity.name: r for r in h.residents.values()}
    assert by_name["李四"].measure is Measure.HOME_OBSERVATION
    assert by_name["李四"].tags[TagKind.RISK_AREA_ARRIVAL].arrived_on == (t - timedelta(
        days=1)).date()
    assert by_name["张三"].measure is Measure.NONE and not by_name["张三"].tags


RESOLVE = """mutation($input: ResolveChatMessageInput!) { resolveChatMessage(input: $input) {
  __typename
  ... on ChatMessageResolved { notificationId
                               counts { held recordedByHand dismissed resolved } }
  ... on Problem { problem remedy } } }"""
COUNTS = """query($code: String!) { chatReviewCounts(microGridCode: $code) {
  held recordedByHand dismissed resolved } }"""
ERASE = """mutation($input: EraseResidentInput!) { eraseResident(input: $input) {
  __typename ... on Problem { problem } } }"""


def resolve(world: World, staff_no: str, message_id: str, resolution: str,
            household: str | None = None, dismissal: str | None = None) -> dict[str, Any]:
    data = world.ask(RESOLVE, staff_no, {"input": {
        "microGridCode": ZONES[0], "messageId": message_id, "resolution": resolution,
        "householdId": household, "dismissal": dismissal}})
    return data["resolveChatMessage"]


def held_ids(world: World) -> list[str]:
    return [h["messageId"] for h in world.ask(REVIEW, "GWZ1", {"code": ZONES[0]})["chatReview"]]


def test_a_worker_clears_held_messages_and_the_counts_follow(world: World) -> None:
    t = world.clock.now - timedelta(minutes=20)
    got = submit(world, [message("r-1", "9栋901，2人，平安", t),  # no such door here: held
                         message("r-2", "9栋902，3人，平安", t),
                         message("r-3", "谢谢", t)])
    assert (got["recorded"], got["review"], got["ignored"]) == (0, 2, 1), got
    counted = world.ask(COUNTS, "GWZ1", {"code": ZONES[0]})["chatReviewCounts"]
    assert {"r-1", "r-2"} <= set(held_ids(world)) and counted["resolved"] == 0
    hid = str(world.app.household_by_no("712-1-0").id)

    done = resolve(world, "GWZ1", "r-1", "RECORDED_BY_HAND", household=hid)
    assert done["__typename"] == "ChatMessageResolved", done
    assert done["counts"] == {"held": counted["held"] - 1, "recordedByHand": 1,
                              "dismissed": 0, "resolved": 1}
    done = resolve(world, "GWZ1", "r-2", "DISMISSED", dismissal="UNTRACEABLE")
    assert done["counts"]["held"] == counted["held"] - 2 and done["counts"]["resolved"] == 2
    assert not {"r-1", "r-2"} & set(held_ids(world))
    assert world.ask(COUNTS, "GWZ1", {"code": ZONES[0]})["chatReviewCounts"] == done["counts"]
    for mid in ("r-1", "r-2"):  # shredded: the key is gone
        content = world.app.chat_review(ZONES[0], mid).content
        assert content is not None and content.erased

    before = world.app.recorder.max_notification_id()
    same = resolve(world, "GWZ1", "r-2", "DISMISSED", dismissal="UNTRACEABLE")
    assert same["__typename"] == "ChatMessageResolved" and same["counts"] == done["counts"]
    again = submit(world, [message("r-1", "9栋901，2人，平安", t)])
    assert (again["review"], again["duplicates"]) == (0, 1)
    assert world.app.recorder.max_notification_id() == before


@pytest.mark.parametrize(("staff_no", "message_id", "resolution", "household", "dismissal",
                          "problem"), [
    ("GWZ1", "x-done", "DISMISSED", None, "NOT_A_REPORT", "ForbiddenTransitionProblem"),
    ("GWZ1", "x-thanks", "DISMISSED", None, "NOT_A_REPORT", "ForbiddenTransitionProblem"),
    ("GWZ1", "x-none", "DISMISSED", None, "DUPLICATE", "NotFoundProblem"),
    ("GWZ1", "x-held", "DISMISSED", None, None, "InvalidInputProblem"),
    ("GWZ1", "x-held", "DISMISSED", "712-1-0", "DUPLICATE", "InvalidInputProblem"),
    ("VOL1", "x-held", "DISMISSED", None, "DUPLICATE", "NotPermittedProblem"),
    ("GWZ2", "x-held", "DISMISSED", None, "DUPLICATE", "NotFoundProblem"),
    ("GWZ1", "x-held", "RECORDED_BY_HAND", "713-1-0", None, "NotFoundProblem"),
    (None, "x-held", "DISMISSED", None, "DUPLICATE", "NotPermittedProblem"),
])
def test_a_resolution_refused_is_a_typed_problem_and_writes_nothing(
        world: World, staff_no: str | None, message_id: str, resolution: str,
        household: str | None, dismissal: str | None, problem: str) -> None:
    t = world.clock.now - timedelta(minutes=20)
    submit(world, [message("x-held", "9栋903，2人，平安", t),
                   message("x-done", "9栋904，2人，平安", t), message("x-thanks", "谢谢", t)])
    assert resolve(world, "GWZ1", "x-done", "DISMISSED", dismissal="DUPLICATE")[
        "__typename"] == "ChatMessageResolved"  # (again: the same resolution, nothing new)
    hid = str(world.app.household_by_no(household).id) if household else None
    before = world.app.recorder.max_notification_id()
    got = resolve(world, staff_no, message_id, resolution, hid, dismissal)  # type: ignore[arg-type]
    assert got["__typename"] == problem and got["problem"] and got["remedy"], got
    assert world.app.recorder.max_notification_id() == before
    assert "x-held" in held_ids(world)


def test_an_erased_residents_held_messages_read_as_erased(world: World) -> None:
    t = world.clock.now - timedelta(minutes=15)
    got = submit(world, [message("e-1", "9栋911，2人，平安", t, "李四"),
                         message("e-2", "9栋912，2人，平安", t, "王大妈")])
    assert got["review"] == 2, got
    h = world.app.household_by_no("712-1-1")
    li = next(rid for rid, r in h.residents.items() if r.identity.name == "李四")
    erased = world.ask(ERASE, "STR1", {"input": {"householdId": str(h.id),
                                                 "residentId": str(li), "reason": "期满"}})
    assert "problem" not in erased["eraseResident"], erased
    items = {i["messageId"]: i for i in
             world.ask(REVIEW, "GWZ1", {"code": ZONES[0]})["chatReview"]}
    assert (items["e-1"]["sender"], items["e-1"]["text"], items["e-1"]["reason"]) == (
        "已删除 erased", "已删除 erased", "已删除 erased")
    assert (items["e-2"]["sender"], items["e-2"]["text"]) == ("王大妈", "9栋912，2人，平安")
    content = world.app.chat_review(ZONES[0], "e-1").content
    assert content is not None and content.erased and content.text is None


FOLLOWED = """query($h: ID!) { household(id: $h) { residents { id name health } }
  referrals(first: 100) { kind household { id } } }"""
VISIT = """mutation($input: RecordVisitInput!) { recordVisit(input: $input) { __typename } }"""


def followed_up(world: World, hid: str) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """A household's residents' health by name, its referrals' kinds, and ids by name."""
    world.caught_up()
    got = world.ask(FOLLOWED, "GWZ1", {"h": hid})
    residents = got["household"]["residents"]
    return ({r["name"]: r["health"] for r in residents},
            sorted(r["kind"] for r in got["referrals"] if r["household"]["id"] == hid),
            {r["name"]: r["id"] for r in residents})


def test_a_named_members_fever_by_chat_is_followed_up_as_recorded_on_a_visit(
        world: World) -> None:
    t = world.clock.now - timedelta(minutes=8)
    got = submit(world, [message("wx-named", "1栋501，3人，王小明发烧37.9，其他人正常", t,
                                 "刘秀英")])
    assert got["recorded"] == 1, got
    by_chat = followed_up(world, got["outcomes"][0]["householdId"])

    other = str(world.app.household_by_no("712-1-6").id)
    kid = followed_up(world, other)[2]["王小明"]
    done = world.ask(VISIT, "GWZ1", {"input": {
        "campaignScope": ZONES[0], "round": 1, "householdId": other, "method": "DOOR",
        "temperatures": [{"residentId": kid, "celsius": 37.9}]}})
    assert done["recordVisit"]["__typename"] == "VisitRecorded", done
    on_a_visit = followed_up(world, other)
    assert by_chat[:2] == on_a_visit[:2] == (
        {"王建国": "NORMAL", "刘秀英": "NORMAL", "王小明": "SYMPTOMATIC"}, ["FEVER_CLINIC"])


def test_a_fever_the_sender_reports_of_themself_is_theirs(world: World) -> None:
    t = world.clock.now - timedelta(minutes=7)
    got = submit(world, [message("wx-me", "1栋701，3人，我发烧38度，其他人正常", t, "刘秀英")])
    assert got["recorded"] == 1, got
    health, referrals, _ = followed_up(world, got["outcomes"][0]["householdId"])
    assert health == {"王建国": "NORMAL", "刘秀英": "SYMPTOMATIC", "王小明": "NORMAL"}
    assert referrals == ["FEVER_CLINIC"]


def test_a_fever_no_member_can_be_named_for_is_held_and_records_no_visit(
        world: World) -> None:
    t = world.clock.now - timedelta(minutes=6)
    got = submit(world, [message("wx-who", "1栋801，3人，老公发烧37.9，其他人正常", t, "刘秀英")])
    assert (got["recorded"], got["review"]) == (0, 1), got
    reason = got["outcomes"][0]["reason"]
    assert reason.startswith("发热未能对应到人 fever reported in a household of 3")
    assert "“老公”" in reason and "find who (请核实)" in reason
    held = {h["messageId"]: h for h in world.ask(REVIEW, "GWZ1", {"code": ZONES[0]})[
        "chatReview"]}
    assert held["wx-who"]["kind"] == "who" and held["wx-who"]["reason"] == reason
    hid = world.app.household_by_no("712-1-8").id
    assert world.app.visit(world.app.campaign_of(ZONES[0], 1).id, hid) is None
    health, referrals, _ = followed_up(world, str(hid))
    assert set(health.values()) == {"NORMAL"} and referrals == []
