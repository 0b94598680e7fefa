"""群内自报 through the API over a real HTTP server: ``submitChatMessages`` takes a micro-grid
group's batch (a good report recorded as a chat visit, an unreadable one held for the worker
with the words quoted, a thank-you and a picture set aside), the same batch again is all
duplicates and writes nothing, a fever by chat makes the resident symptomatic with a
fever-clinic referral, an arrival told in a sentence (李四昨天从黄冈回来了) tags that member and
places them under home observation, and ``chatReview`` shows the held messages, masked for a
volunteer (``张**``, ``****``)."""

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
RESIDENTS = """query($h: ID!) { household(id: $h) { residents { id health } }
  referrals(first: 100) { kind household { id } } }"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-chat") / "gridcore.sqlite") as w:
        w.app.register_household("712-1-9", ZONES[0], "1栋901",
                                 [new_member("712-1-9", 1, "独居老人", None, None, 1940)],
                                 by=System.OPERATOR)
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
