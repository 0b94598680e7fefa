"""SMS delivery receipts (短信回执) in the domain: a sent text is delivered or failed by its
gateway's receipt once; the same receipt again writes nothing; a receipt that does not fit the
message is refused and writes nothing."""

from __future__ import annotations

import pytest

from gridcore.authority import System
from gridcore.errors import ForbiddenTransition, InvalidInput, NotPermitted
from gridcore.notification import Channel, Message, MessageStatus
from tests.notify.test_outbox import COMMUNITY, NOTICE, World, world

__all__ = ["world"]  # the fixture, shared with the outbox's tests

FEED = System.FEED


def texts(w: World) -> list[Message]:
    """The notice's texts, sent (the gateway accepted them), and its other messages."""
    w.app.post_notice(COMMUNITY, NOTICE, by=w.official)
    w.notifier.catch_up()
    w.sender.drain()
    sent = [m for m in w.all_messages() if m.channel is Channel.SMS]
    assert len(sent) == 2 and {m.status for m in sent} == {MessageStatus.SENT}
    return sent


def events_of(w: World, m: Message) -> list[str]:
    return [type(e).__name__ for e in w.app.events.get(m.id)]


def test_a_receipt_delivers_or_fails_a_text_once(world: World) -> None:
    w = world
    ok, bad = texts(w)
    assert w.app.record_receipt(ok.id, True, "gw-1", by=FEED) is not None
    assert w.app.record_receipt(ok.id, True, "gw-1", by=FEED) is None  # again: nothing
    assert w.app.record_receipt(bad.id, False, "gw-2", "用户关机 handset off", by=FEED)
    assert w.app.record_receipt(bad.id, False, "gw-2", "用户关机 handset off", by=FEED) is None
    assert w.app.message(ok.id).status is MessageStatus.DELIVERED
    failed = w.app.message(bad.id)
    assert (failed.status, failed.reason) == (MessageStatus.FAILED,
                                              "回执 receipt: 用户关机 handset off")
    assert events_of(w, ok)[-2:] == ["Sent", "Delivered"]
    assert events_of(w, bad)[-2:] == ["Sent", "Failed"]
    assert [e.receipt for e in w.app.events.get(ok.id)
            if isinstance(e, Message.Delivered)] == ["gw-1"]


def test_receipts_that_do_not_fit_are_refused_and_write_nothing(world: World) -> None:
    w = world
    ok, _ = texts(w)
    w.app.record_receipt(ok.id, True, by=FEED)
    before = events_of(w, ok)
    with pytest.raises(ForbiddenTransition, match="delivered"):
        w.app.record_receipt(ok.id, False, reason="late failure", by=FEED)
    group = next(m for m in w.all_messages() if m.channel is Channel.WECOM_GROUP)
    with pytest.raises(InvalidInput, match="wecom_group, not SMS"):
        w.app.record_receipt(group.id, True, by=FEED)
    call = next(m for m in w.all_messages() if m.channel is Channel.CALL_LIST)
    with pytest.raises(InvalidInput):
        w.app.record_receipt(call.id, True, by=FEED)
    with pytest.raises(InvalidInput):  # no phone numbers in a stored reason
        w.app.record_receipt(ok.id, False, reason="13812340001 off", by=FEED)
    with pytest.raises(NotPermitted):  # a gateway's receipt, not a person's word
        w.app.record_receipt(ok.id, True, by=w.official)
    assert events_of(w, ok) == before
    assert w.app.message(call.id).status is MessageStatus.QUEUED


def test_a_receipt_before_the_text_is_recorded_sent_is_refused(world: World) -> None:
    w = world
    w.app.post_notice(COMMUNITY, NOTICE, by=w.official)
    w.notifier.catch_up()
    queued = next(m for m in w.queued() if m.channel is Channel.SMS)
    with pytest.raises(ForbiddenTransition, match="queued"):
        w.app.record_receipt(queued.id, True, by=FEED)
    assert events_of(w, queued) == ["Queued"]
