"""The chat intake's rules without a door (``adapters.chat_intake``, ``adapters.checkin``): what
is no report at all, reasons quoting the words, remarks and arrivals told in a sentence, and
what the system may do after a resident's own report (only symptomatic, an arrival's tag, home
observation); a worker clearing the held messages (recorded by hand, dismissed: off the list,
their texts shredded), a resident's erasure shredding the held messages they sent, and whose
fever a report is about in a household of several (the member named, or the sender for 我:
followed up as on a visit; anyone else: held for the worker, no visit)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from adapters.chat_intake import not_a_report, take_in
from adapters.checkin import Arrival, CheckInError, parse_check_in, part_of
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import NotAuthorised, System
from gridcore.chat_review import ChatMessage, Dismissal, Fate, Resolution
from gridcore.errors import (
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from gridcore.status import Health, Measure, Tag, TagKind
from gridcore.sweep import Method
from tests.scenario import COMMUNITY, ZONES, given_community

ZONE = ZONES[0]


@pytest.mark.parametrize(("text", "kind"), [
    ("谢谢网格员辛苦了", "thanks"), ("收到👍", "thanks"), ("请问明天还送菜吗？", "question"),
    ("[图片]", "placeholder"), ("[图片][表情]", "placeholder"), ("大家早上好", "chat"),
])
def test_what_is_no_report(text: str, kind: str) -> None:
    found = not_a_report(text)
    assert found is not None and found[0] == kind and text in found[1]


@pytest.mark.parametrize("text", ["1栋101，2人，平安", "上疃村187号五人平安", "体温36.5"])
def test_what_may_be_a_report(text: str) -> None:
    assert not_a_report(text) is None


def test_remarks_and_an_arrival_told_in_a_sentence_are_kept() -> None:
    c = parse_check_in("上疃村187号，5人，平安。今天女儿从黄冈回来了，谢谢网格员")
    assert c.arrivals == (Arrival("女儿", "黄冈", 0),) and c.remarks == ("谢谢网格员",)
    assert parse_check_in("上疃村187号，5人，平安，张三前天从武汉返回").arrivals == (
        Arrival("张三", "武汉", 2),)


def test_an_error_names_the_part_whose_words_a_reason_quotes() -> None:
    text = "上疃村187号，5人，平安，吧啦吧啦"
    with pytest.raises(CheckInError) as e:
        parse_check_in(text)
    assert part_of(text, e.value.position) == "吧啦吧啦"
    assert "吧啦吧啦" not in str(e.value)  # the parser's own message repeats nothing


def test_a_fever_from_the_groups_bot_is_followed_up_and_the_system_may_do_no_more(
        app: GridcoreApp) -> None:
    given_community(app, households_per_zone=1)
    app.register_household("ST-9", ZONE, "上疃村9号", [new_member("ST-9", 1, "独居老人")],
                           by=System.OPERATOR)
    app.launch_campaign(COMMUNITY, 1, 3, starts=app.clock() - timedelta(hours=1),
                        by=System.OPERATOR)  # the round began an hour ago
    sent = app.clock() - timedelta(minutes=1)
    out = take_in(app, ZONE, [ChatMessage("b-1", "独居老人", sent, "上疃村9号，1人，发热37.8")],
                  by=System.FEED)
    assert [o.fate for o in out.outcomes] == [Fate.RECORDED]
    h = app.household_by_no("ST-9")
    rid, person = next(iter(h.residents.items()))
    assert person.health is Health.SYMPTOMATIC
    assert [r.kind.value for r in app.referrals_of(rid)] == ["fever_clinic"]
    before = app.recorder.max_notification_id()
    for refused in (
            lambda: app.change_health(h.id, rid, Health.NORMAL, System.AUTOMATION),
            lambda: app.change_measure(h.id, rid, Measure.HOME_QUARANTINE, System.AUTOMATION),
            lambda: app.tag_resident(h.id, rid, Tag(kind=TagKind.CLOSE_CONTACT, note="x"),
                                     System.AUTOMATION)):
        with pytest.raises(NotPermitted):
            refused()
    assert app.recorder.max_notification_id() == before


# ---- the worker clears the review list -----------------------------------------------------------

def held_batch(app: GridcoreApp) -> list[ChatMessage]:
    """A community with an open campaign, and a batch of ZONE's group: one report recorded,
    three held (吧啦吧啦 not understood; one each from 张三, 李四 and 王五), one thank-you."""
    given_community(app, households_per_zone=2)
    app.launch_campaign(COMMUNITY, 1, 3, starts=app.clock() - timedelta(hours=1),
                        by=System.OPERATOR)  # the round began an hour ago
    sent = app.clock() - timedelta(minutes=5)
    return [ChatMessage("m-ok", "张三", sent, "1栋101，2人，平安"),
            ChatMessage("m-1", "张三", sent, "1栋101，2人，平安，吧啦吧啦"),
            ChatMessage("m-2", "李四", sent, "1栋201，2人，平安，吧啦吧啦"),
            ChatMessage("m-3", "王五", sent, "9栋901，1人，平安，吧啦吧啦"),
            ChatMessage("m-thanks", "王五", sent, "谢谢网格员")]


def test_a_worker_resolves_held_messages_and_they_leave_the_review_list(
        make_app: Callable[[], GridcoreApp]) -> None:
    app = make_app()
    batch = held_batch(app)
    out = take_in(app, ZONE, batch, by=System.FEED)
    assert (out.recorded, out.review, out.ignored) == (1, 3, 1)
    gw, hid = app.staff_by_no("GW1").id, app.household_by_no("712-1-1").id
    cid = app.campaign_of(COMMUNITY, 1).id
    app.record_visit(cid, hid, Method.PHONE, by=gw)  # the worker called the household
    app.resolve_chat_message(ZONE, "m-2", Resolution.RECORDED_BY_HAND, hid, by=gw)
    app.resolve_chat_message(ZONE, "m-3", Resolution.DISMISSED,
                             dismissal=Dismissal.UNTRACEABLE, by=gw)

    fresh = make_app()  # a second application over the store: nothing read from a cache
    assert [r.message_id for r in fresh.chat_reviews(ZONE)] == ["m-1"]
    assert fresh.chat_review_counts(ZONE) == {"held": 1, "recorded_by_hand": 1, "dismissed": 1}
    by_hand = fresh.chat_review(ZONE, "m-2")
    assert (by_hand.resolution, by_hand.household_id, by_hand.resolved_by) == (
        Resolution.RECORDED_BY_HAND, hid, gw)
    for mid in ("m-2", "m-3"):
        content = fresh.chat_review(ZONE, mid).content
        assert content is not None and content.erased and content.text is None, mid
    still = fresh.chat_review(ZONE, "m-1").content
    assert still is not None and still.text == "1栋101，2人，平安，吧啦吧啦"

    before = app.recorder.max_notification_id()
    again = take_in(app, ZONE, batch, by=System.FEED)  # a resolved message is no new one
    assert (again.recorded, again.review, again.ignored, again.duplicates) == (0, 0, 0, 5)
    assert app.resolve_chat_message(ZONE, "m-3", Resolution.DISMISSED,
                                    dismissal=Dismissal.UNTRACEABLE, by=gw) is None
    assert app.recorder.max_notification_id() == before


@pytest.mark.parametrize(("message_id", "resolution", "error", "words"), [
    ("m-2", Resolution.DISMISSED, ForbiddenTransition, "already resolved"),
    ("m-thanks", Resolution.DISMISSED, ForbiddenTransition, "set aside"),
    ("m-ok", Resolution.DISMISSED, NotFound, "recorded as a visit"),
    ("m-nothing", Resolution.DISMISSED, NotFound, "held or set aside"),
    ("m-1", Resolution.RECORDED_BY_HAND, InvalidInput, "names the household"),
])
def test_a_resolution_that_cannot_be_is_refused_and_writes_nothing(
        app: GridcoreApp, message_id: str, resolution: Resolution,
        error: type[GridcoreError], words: str) -> None:
    take_in(app, ZONE, held_batch(app), by=System.FEED)
    gw = app.staff_by_no("GW1").id
    app.resolve_chat_message(ZONE, "m-2", Resolution.RECORDED_BY_HAND,
                             app.household_by_no("712-1-1").id, by=gw)
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as e:
        app.resolve_chat_message(ZONE, message_id, resolution,
                                 dismissal=Dismissal.NOT_A_REPORT
                                 if resolution is Resolution.DISMISSED else None, by=gw)
    assert words in e.value.problem and e.value.remedy
    assert app.recorder.max_notification_id() == before


@pytest.mark.parametrize("who", ["VOL1", System.OPERATOR, System.FEED])
def test_only_those_who_read_held_messages_resolve_them(app: GridcoreApp,
                                                        who: str | System) -> None:
    take_in(app, ZONE, held_batch(app), by=System.FEED)
    by = who if isinstance(who, System) else app.staff_by_no(who).id
    with pytest.raises(NotAuthorised):
        app.resolve_chat_message(ZONE, "m-1", Resolution.DISMISSED,
                                 dismissal=Dismissal.DUPLICATE, by=by)
    assert [r.message_id for r in app.chat_reviews(ZONE)] == ["m-1", "m-2", "m-3"]


def test_erasing_a_resident_shreds_the_held_messages_they_sent(
        make_app: Callable[[], GridcoreApp]) -> None:
    app = make_app()
    take_in(app, ZONE, held_batch(app), by=System.FEED)
    h = app.household_by_no("712-1-0")
    zhang = next(rid for rid, r in h.residents.items() if r.identity.name == "张三")
    app.erase_resident(h.id, zhang, "期满 retention over", by=System.OPERATOR)

    fresh = make_app()
    texts = {r.message_id: r.content for r in fresh.chat_reviews(ZONE)}
    assert list(texts) == ["m-1", "m-2", "m-3"]  # still held, for the worker to dismiss
    assert texts["m-1"] is not None and texts["m-1"].erased and texts["m-1"].sender is None
    assert [texts[m].sender for m in ("m-2", "m-3")] == ["李四", "王五"]  # type: ignore[union-attr]
    gw = fresh.staff_by_no("GW1").id
    fresh.resolve_chat_message(ZONE, "m-1", Resolution.DISMISSED,
                               dismissal=Dismissal.UNTRACEABLE, by=gw)
    assert fresh.chat_review_counts(ZONE)["held"] == 2


def test_an_arrival_from_a_district_of_a_risk_city_is_tagged(app: GridcoreApp) -> None:
    """浠水 is read as 湖北省黄冈市浠水县, which lies in the declared area 黄冈市; a resolved
    place outside it (温州) is only noted."""
    given_community(app, households_per_zone=1)
    app.register_household("ST-8", ZONE, "上疃村8号", [new_member("ST-8", 1, "刘奶奶")],
                           by=System.OPERATOR)
    app.register_household("ST-7", ZONE, "上疃村7号", [new_member("ST-7", 1, "王叔")],
                           by=System.OPERATOR)
    app.declare_risk_area("DECL-HG", "黄冈市", "high", app.clock() - timedelta(days=3),
                          by=System.OPERATOR)
    app.launch_campaign(COMMUNITY, 1, 3, starts=app.clock() - timedelta(hours=1),
                        by=System.OPERATOR)  # the round began an hour ago
    sent = app.clock() - timedelta(minutes=1)
    out = take_in(app, ZONE, [
        ChatMessage("a-1", "刘奶奶", sent, "上疃村8号，1人，平安。今天从浠水回来了"),
        ChatMessage("a-2", "王叔", sent, "上疃村7号，1人，平安。今天从温州回来了"),
        ChatMessage("a-3", "王叔", sent, "上疃村7号，1人，平安。今天从美国回来了")], by=System.FEED)
    assert [o.fate for o in out.outcomes] == [Fate.RECORDED, Fate.RECORDED, Fate.REVIEW]
    assert "“美国”" in out.outcomes[2].reason
    grandma = next(iter(app.household_by_no("ST-8").residents.values()))
    assert grandma.measure is Measure.HOME_OBSERVATION
    assert grandma.tags[TagKind.RISK_AREA_ARRIVAL].origin == "浠水"
    uncle = next(iter(app.household_by_no("ST-7").residents.values()))
    assert uncle.measure is Measure.NONE and not uncle.tags


# ---- whose fever: one member's finding in a household of several -------------------------------

FAMILY = ("王建国", "刘秀英", "王小明")


def family_and_neighbours(app: GridcoreApp) -> dict[str, dict[str, object]]:
    """Two households of three (王建国, 刘秀英, 王小明) at 上疃村31号 and 32号, in an open
    campaign; each household's residents by name."""
    given_community(app, households_per_zone=1)
    for no in ("ST-31", "ST-32"):
        app.register_household(no, ZONE, f"上疃村{no[3:]}号",
                               [new_member(no, i, name) for i, name in enumerate(FAMILY, 1)],
                               by=System.OPERATOR)
    app.launch_campaign(COMMUNITY, 1, 3, starts=app.clock() - timedelta(hours=1),
                        by=System.OPERATOR)  # the round began an hour ago
    return {no: {r.identity.name: rid for rid, r in app.household_by_no(no).residents.items()}
            for no in ("ST-31", "ST-32")}


def follow_up(app: GridcoreApp, no: str) -> dict[str | None, tuple[Health, list[str]]]:
    h = app.household_by_no(no)
    return {r.identity.name: (r.health, [x.kind.value for x in app.referrals_of(rid)])
            for rid, r in h.residents.items()}


@pytest.mark.parametrize(("sender", "text", "who"), [
    ("刘秀英", "上疃村31号，3人，王小明发烧37.9，其他人正常", "王小明"),  # the member named
    ("刘秀英", "上疃村31号，3人，我发烧37.9，其他人正常", "刘秀英"),  # the sender is a member
    ("王建国", "上疃村31号 三口人 王小明37.9 我36.5", "王小明"),  # per-person readings
])
def test_a_members_fever_by_chat_is_followed_up_as_on_a_visit(
        app: GridcoreApp, sender: str, text: str, who: str) -> None:
    """The member the report names (or the sender, for 我) becomes symptomatic with a
    fever-clinic referral, exactly as when a worker records the same fever with
    ``record_visit``; nobody else is touched, and the household counts as covered."""
    members = family_and_neighbours(app)
    cid = app.campaign_of(COMMUNITY, 1).id
    sent = app.clock() - timedelta(minutes=1)
    out = take_in(app, ZONE, [ChatMessage("f-1", sender, sent, text)], by=System.FEED)
    assert [o.fate for o in out.outcomes] == [Fate.RECORDED], out.outcomes

    gw = app.staff_by_no("GW1").id
    app.record_visit(cid, app.household_by_no("ST-32").id, Method.DOOR, by=gw,
                     temperatures={members["ST-32"][who]: 37.9})
    by_chat, on_a_visit = follow_up(app, "ST-31"), follow_up(app, "ST-32")
    assert by_chat == on_a_visit
    assert by_chat[who] == (Health.SYMPTOMATIC, ["fever_clinic"])
    assert all(v == (Health.NORMAL, []) for name, v in by_chat.items() if name != who)
    record = app.visit(cid, app.household_by_no("ST-31").id).attempts[-1]  # type: ignore[union-attr]
    rid = members["ST-31"][who]
    assert record.temperatures[rid] == 37.9 and record.symptoms[rid] == ["发热"]  # type: ignore[index]
    assert out.outcomes[0].household_id in app.campaign_coverage(cid).covered


@pytest.mark.parametrize(("sender", "text", "quoted"), [
    ("刘秀英", "上疃村31号，3人，老公发烧37.9，其他人正常", "“老公”"),  # a relation word
    ("刘秀英", "上疃村31号，3人，发烧37.9", "37.9 °C"),  # said of nobody
    ("刘秀英", "上疃村31号，3人，王五发热，其他人正常", "“王五”"),  # no member of that name
    ("邻居老李", "上疃村31号，3人，我发烧38度，其他人正常", "“我”"),  # the sender is no member
    ("刘秀英", "上疃村31号，3人，孩子咳嗽，其他人平安", "咳嗽"),  # a symptom without fever
])
def test_a_fever_no_member_can_be_named_for_is_held_and_records_no_visit(
        app: GridcoreApp, sender: str, text: str, quoted: str) -> None:
    """Not a covered household that silently loses the fever: the message is held for the
    worker with the reason (发热未能对应到人 … find who), no visit is recorded, the household
    stays uncovered and nobody is followed up; the worker calls, records the visit and
    resolves the message."""
    members = family_and_neighbours(app)
    cid, hid = app.campaign_of(COMMUNITY, 1).id, app.household_by_no("ST-31").id
    sent = app.clock() - timedelta(minutes=1)
    out = take_in(app, ZONE, [ChatMessage("f-2", sender, sent, text)], by=System.FEED)
    assert [o.fate for o in out.outcomes] == [Fate.REVIEW]
    reason = out.outcomes[0].reason
    label = "症状未能对应到人" if "咳嗽" in text else "发热未能对应到人 fever"
    assert reason.startswith(label) and "household of 3" in reason and quoted in reason
    assert "find who (请核实)" in reason and "resolveChatMessage" in reason
    held = app.chat_review(ZONE, "f-2")
    assert held.kind == "who" and [r.message_id for r in app.chat_reviews(ZONE)] == ["f-2"]
    assert app.visit(cid, hid) is None and hid not in app.campaign_coverage(cid).covered
    assert all(v == (Health.NORMAL, []) for v in follow_up(app, "ST-31").values())

    gw = app.staff_by_no("GW1").id  # the worker called: it is 王小明
    app.record_visit(cid, hid, Method.PHONE, by=gw,
                     symptoms={members["ST-31"]["王小明"]: ["发热"]})
    app.resolve_chat_message(ZONE, "f-2", Resolution.RECORDED_BY_HAND, hid, by=gw)
    assert follow_up(app, "ST-31")["王小明"] == (Health.SYMPTOMATIC, ["fever_clinic"])
    assert app.chat_reviews(ZONE) == []
