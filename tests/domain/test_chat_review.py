"""A held chat message's resolution, as the aggregate decides it (no store): recorded by hand
names a household, dismissed names why; the same resolution again changes nothing, another
is refused, and so is any for a message set aside; a resolution and an erasure destroy the
message's key (its sender and text read as erased); the desk drops a resolved message from
its held list and counts it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from gridcore.chat_review import (
    ChatReview,
    ChatReviewDesk,
    Dismissal,
    Disposition,
    Resolution,
)
from gridcore.errors import ForbiddenTransition, InvalidInput

T = datetime(2020, 2, 17, 8, 0, tzinfo=UTC)
GRID = "420102001712-01"


def held(message_id: str = "wx-1") -> ChatReview:
    r = ChatReview.take(GRID, message_id, T, Disposition.HELD, "text", "未能识别 “吧啦”",
                        "张阿姨", "1栋201，2人，吧啦", T)
    r.collect_events()
    return r


def test_a_dismissal_shreds_the_text_and_names_its_reason() -> None:
    r = held()
    assert r.held and r.content is not None and r.content.text == "1栋201，2人，吧啦"
    assert r.resolve(Resolution.DISMISSED, None, Dismissal.DUPLICATE, None, T)
    [event] = r.collect_events()
    assert isinstance(event, ChatReview.Resolved)
    assert event.erased_subject_ids == [r.id] and r.content.subject_id == r.id
    assert not r.held and r.dismissal is Dismissal.DUPLICATE
    assert r.content.erased and r.content.text is None and r.content.sender is None


def test_recorded_by_hand_names_the_household() -> None:
    r, hid, worker = held(), uuid4(), uuid4()
    r.resolve(Resolution.RECORDED_BY_HAND, hid, None, worker, T)
    assert (r.resolution, r.household_id, r.resolved_by) == (Resolution.RECORDED_BY_HAND,
                                                             hid, worker)
    assert r.content is not None and r.content.erased


@pytest.mark.parametrize(("resolution", "household", "dismissal"), [
    (Resolution.RECORDED_BY_HAND, False, None),
    (Resolution.RECORDED_BY_HAND, True, Dismissal.DUPLICATE),
    (Resolution.DISMISSED, False, None),
    (Resolution.DISMISSED, True, Dismissal.UNTRACEABLE),
])
def test_a_resolution_without_what_it_needs_is_refused(
        resolution: Resolution, household: bool, dismissal: Dismissal | None) -> None:
    r = held()
    with pytest.raises(InvalidInput) as e:
        r.resolve(resolution, uuid4() if household else None, dismissal, None, T)
    assert e.value.remedy and not r.collect_events() and r.held


def test_the_same_resolution_again_changes_nothing_and_another_is_refused() -> None:
    r, hid = held(), uuid4()
    r.resolve(Resolution.RECORDED_BY_HAND, hid, None, None, T)
    r.collect_events()
    assert not r.resolve(Resolution.RECORDED_BY_HAND, hid, None, None, T + timedelta(hours=1))
    assert not r.collect_events()
    for other in ((Resolution.RECORDED_BY_HAND, uuid4(), None),
                  (Resolution.DISMISSED, None, Dismissal.NOT_A_REPORT)):
        with pytest.raises(ForbiddenTransition, match="already resolved"):
            r.resolve(*other, None, T)
    assert not r.collect_events()


def test_a_message_set_aside_cannot_be_resolved() -> None:
    r = ChatReview.take(GRID, "wx-9", T, Disposition.IGNORED, "thanks", "非自报", "某人",
                        "谢谢", T)
    with pytest.raises(ForbiddenTransition, match="set aside"):
        r.resolve(Resolution.DISMISSED, None, Dismissal.NOT_A_REPORT, None, T)
    assert r.content is None and not r.shred("随居民删除", T)


def test_a_shredded_message_stays_held_reading_as_erased_and_is_shredded_once() -> None:
    r = held()
    assert r.shred("随居民删除 erased with the resident", T)
    [event] = r.collect_events()
    assert isinstance(event, ChatReview.Shredded) and event.erased_subject_ids == [r.id]
    assert r.held and r.content is not None and r.content.erased
    assert not r.shred("again", T) and not r.collect_events()
    r.resolve(Resolution.DISMISSED, None, Dismissal.UNTRACEABLE, None, T)
    assert not r.held


def test_the_desk_drops_a_resolved_message_and_counts_it() -> None:
    desk = ChatReviewDesk.open(GRID, T)
    a, b, c = held("a"), held("b"), held("c")
    for r in (a, b, c):
        desk.hold(r.id, T)
    desk.clear(b.id, Resolution.DISMISSED, T)
    desk.clear(b.id, Resolution.DISMISSED, T)  # not held any more: nothing
    desk.clear(c.id, Resolution.RECORDED_BY_HAND, T)
    assert desk.held == [a.id]
    assert (desk.count(Resolution.RECORDED_BY_HAND), desk.count(Resolution.DISMISSED)) == (1, 1)
    assert [type(e).__name__ for e in desk.collect_events()] == [
        "Opened", "Held", "Held", "Held", "Cleared", "Cleared"]
