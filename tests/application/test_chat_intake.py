"""The chat intake's rules without a door (``adapters.chat_intake``, ``adapters.checkin``): what
is no report at all, reasons quoting the words, remarks and arrivals told in a sentence, and
what the system may do after a resident's own report (only symptomatic, an arrival's tag, home
observation)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.chat_intake import ChatMessage, Fate, not_a_report, take_in
from adapters.checkin import Arrival, CheckInError, parse_check_in, part_of
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.errors import NotPermitted
from gridcore.status import Health, Measure, Tag, TagKind
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
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
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
