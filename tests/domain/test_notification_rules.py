"""The notification rules (gridcore.notification) as specifications: quiet hours, the rate
limit per recipient, one message per cause, backoff, opt-out, the call list, what a text may
carry."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.errors import ForbiddenTransition, InvalidInput
from gridcore.household import Vulnerability
from gridcore.mailbox import Mailbox
from gridcore.notification import (
    BEIJING,
    DEFAULT_NOTIFY_POLICY,
    TEMPLATES,
    Category,
    Channel,
    Message,
    MessageStatus,
    NotifyPolicy,
    Template,
    backoff,
    earliest_send,
    group,
    may_opt_out,
    message_id,
    quiet_end,
    rate_slot,
    render,
    resident,
    resident_channel,
    staff_recipient,
)

P = DEFAULT_NOTIFY_POLICY
T0 = datetime(2020, 2, 17, tzinfo=UTC)
instants = st.integers(0, 60 * 24 * 20).map(lambda m: T0 + timedelta(minutes=m))
uuids = st.uuids()
recipients = st.one_of(
    st.builds(resident, uuids, uuids), st.builds(staff_recipient, uuids),
    st.sampled_from(["420102001712-01", "420102001712-02"]).map(group))
policies = st.builds(
    NotifyPolicy,
    quiet_start=st.builds(time, st.integers(0, 23)),
    quiet_end=st.builds(time, st.integers(0, 23)),
    rate_limit=st.integers(1, 6),
    rate_window=st.integers(1, 180).map(lambda m: timedelta(minutes=m)),
    backoff_base=st.integers(1, 120).map(lambda s: timedelta(seconds=s)),
    backoff_factor=st.floats(1.0, 4.0),
    backoff_max=st.integers(60, 7200).map(lambda s: timedelta(seconds=s)),
)


def in_quiet_hours(at: datetime, policy: NotifyPolicy) -> bool:
    t = at.astimezone(BEIJING).time()
    start, end = policy.quiet_start, policy.quiet_end
    return (start <= t or t < end) if start > end else start <= t < end


# ---- quiet hours -------------------------------------------------------------------------------

@given(instants, recipients, st.booleans(), policies)
def test_no_resident_message_is_sent_inside_the_quiet_hours_unless_urgent(
        at: datetime, recipient, urgent: bool, policy: NotifyPolicy) -> None:
    send = earliest_send(at, urgent, recipient, policy)
    assert send >= at
    if recipient.faces_residents and not urgent:
        assert not in_quiet_hours(send, policy)
        assert send - at <= timedelta(hours=24)
    else:
        assert send == at


@given(instants)
def test_a_message_at_night_waits_for_seven_in_the_morning_beijing_time(at: datetime) -> None:
    send = earliest_send(at, False, group("420102001712-01"), P)
    local = at.astimezone(BEIJING)
    if local.hour >= 22 or local.hour < 7:
        assert send.astimezone(BEIJING).time() == time(7, 0)
        assert send > at
    else:
        assert send == at


def test_quiet_hours_end_the_next_morning_from_late_evening_and_the_same_morning_after_midnight(
        ) -> None:
    evening = datetime(2020, 2, 17, 22, 30, tzinfo=BEIJING)
    assert quiet_end(evening, P) == datetime(2020, 2, 18, 7, 0, tzinfo=BEIJING)
    night = datetime(2020, 2, 18, 3, 0, tzinfo=BEIJING)
    assert quiet_end(night, P) == datetime(2020, 2, 18, 7, 0, tzinfo=BEIJING)
    assert quiet_end(datetime(2020, 2, 18, 7, 0, tzinfo=BEIJING), P) is None
    assert quiet_end(datetime(2020, 2, 18, 21, 59, tzinfo=BEIJING), P) is None


# ---- the rate limit ----------------------------------------------------------------------------

@given(st.lists(instants, min_size=1, max_size=40), policies)
@settings(max_examples=300)
def test_a_recipient_never_gets_more_than_the_limit_in_any_window(
        asks: list[datetime], policy: NotifyPolicy) -> None:
    slots: list[datetime] = []
    for at in asks:  # the order messages are queued in, not sorted
        slot = rate_slot(at, slots, policy)
        assert slot >= at
        slots.append(slot)
    assert slots == sorted(slots)  # a recipient's messages keep their order
    for i, start in enumerate(slots):
        inside = [s for s in slots[i:] if s < start + policy.rate_window]
        assert len(inside) <= policy.rate_limit


@given(st.lists(instants, min_size=1, max_size=20), policies)
def test_the_rate_limit_delays_no_message_more_than_it_must(
        asks: list[datetime], policy: NotifyPolicy) -> None:
    """A slot later than asked is the recipient's last one, or a moment earlier the limit
    would have been passed."""
    slots: list[datetime] = []
    tick = timedelta(microseconds=1)
    for at in sorted(asks):
        slot = rate_slot(at, slots, policy)
        if slot > at and slot != slots[-1]:
            earlier = slot - tick
            assert len([s for s in slots if s > earlier - policy.rate_window]) >= \
                policy.rate_limit
        slots.append(slot)


def test_urgent_messages_are_outside_the_rate_limit_and_take_no_slot() -> None:
    box = Mailbox.open(staff_recipient(UUID(int=7)), T0)
    for i in range(10):
        assert box.slot(UUID(int=i), T0, True, P, T0) == T0
    assert box.slots == []
    later = [box.slot(UUID(int=100 + i), T0, False, P, T0) for i in range(P.rate_limit + 1)]
    assert later[-1] == T0 + P.rate_window


# ---- one message per cause ---------------------------------------------------------------------

@given(st.text(min_size=1, max_size=40), recipients, st.sampled_from(list(Channel)),
       st.text(min_size=1, max_size=40), recipients, st.sampled_from(list(Channel)))
def test_the_same_cause_recipient_and_channel_make_the_same_message_and_nothing_else_does(
        c1: str, r1, ch1: Channel, c2: str, r2, ch2: Channel) -> None:
    assert message_id(c1, r1, ch1) == message_id(c1, r1, ch1)
    same = (c1, r1.kind, r1.key, ch1) == (c2, r2.kind, r2.key, ch2)
    assert (message_id(c1, r1, ch1) == message_id(c2, r2, ch2)) == same


# ---- backoff and the message's life ------------------------------------------------------------

@given(policies, st.integers(1, 60))
def test_backoff_never_shrinks_and_never_passes_its_cap(policy: NotifyPolicy, n: int) -> None:
    assert backoff(n, policy) <= backoff(n + 1, policy) <= policy.backoff_max
    assert backoff(1, policy) == min(policy.backoff_base, policy.backoff_max)


def _message(channel: Channel = Channel.SMS) -> Message:
    return Message.queue("event:x", resident(UUID(int=1), UUID(int=2)), channel,
                         Template.DELIVERY_COMING, "text", Category.SERVICE, T0, T0)


@given(st.lists(st.booleans(), min_size=1, max_size=12))
def test_failures_retry_with_growing_waits_until_the_last_attempt_fails_the_message(
        outcomes: list[bool]) -> None:
    """True: a transient failure, False: a success."""
    m, at, waits = _message(), T0, []
    for transient in outcomes:
        if m.status in (MessageStatus.SENT, MessageStatus.FAILED):
            break
        assert m.due(at)
        n = m.attempt(at)
        assert n == m.attempts
        if not transient:
            m.sent(at)
            continue
        m.failed(at, "HTTP 500", False, P)
        if n >= P.max_attempts:
            assert m.status is MessageStatus.FAILED
            break
        assert m.status is MessageStatus.RETRYING and m.next_try is not None
        waits.append(m.next_try - at)
        assert not m.due(at) or m.next_try == at
        at = m.next_try
    assert waits == sorted(waits)


def test_a_permanent_refusal_fails_at_once_with_its_reason() -> None:
    m = _message()
    m.attempt(T0)
    m.failed(T0, "HTTP 400", True, P)
    assert (m.status, m.reason) == (MessageStatus.FAILED, "HTTP 400")
    with pytest.raises(ForbiddenTransition):
        m.attempt(T0)


def test_an_attempt_left_unfinished_is_due_again_and_counted() -> None:
    m = _message()
    m.attempt(T0)
    assert m.due(T0)  # the sender died after the attempt: resend, same id
    assert m.attempt(T0) == 2


def test_a_call_list_message_is_never_sent_only_called() -> None:
    m = _message(Channel.CALL_LIST)
    assert not m.due(T0 + timedelta(days=1))
    with pytest.raises(ForbiddenTransition):
        m.attempt(T0)
    m.called(UUID(int=9), T0)
    assert m.status is MessageStatus.DELIVERED
    with pytest.raises(ForbiddenTransition):
        m.called(UUID(int=9), T0)


# ---- opt-out, the call list, the text ----------------------------------------------------------

@pytest.mark.parametrize("category", list(Category))
def test_a_resident_may_refuse_education_and_service_but_never_a_measure_or_a_notice(
        category: Category) -> None:
    box = Mailbox.open(resident(UUID(int=1), UUID(int=2)), T0)
    if may_opt_out(category):
        box.opt(category, True, T0)
        assert not box.accepts(category)
        box.opt(category, False, T0)
        assert box.accepts(category)
    else:
        with pytest.raises(ForbiddenTransition):
            box.opt(category, True, T0)
        assert box.accepts(category)
    assert {c for c in Category if may_opt_out(c)} == {Category.EDUCATION, Category.SERVICE}


@given(st.sets(st.sampled_from(list(Vulnerability))), st.booleans())
def test_who_cannot_read_a_text_is_called_instead(vulns: set[Vulnerability],
                                                  phone: bool) -> None:
    channel = resident_channel(vulns, phone)
    unreachable = (not phone or Vulnerability.NO_SMARTPHONE in vulns
                   or Vulnerability.LIVES_ALONE in vulns)
    assert channel is (Channel.CALL_LIST if unreachable else Channel.SMS)


@pytest.mark.parametrize("template", list(Template))
def test_every_template_is_chinese_and_takes_exactly_its_variables(template: Template) -> None:
    text = TEMPLATES[template].text
    assert text.startswith("【") and any("\u4e00" <= ch <= "\u9fff" for ch in text)
    names = [n for n in ("due", "site", "slot", "measure", "at", "number", "kind", "place",
                         "level", "deadline", "scope_name", "text", "name", "since")
             if "{" + n + "}" in text]
    filled = render(template, dict.fromkeys(names, "甲"))
    assert "{" not in filled
    with pytest.raises(InvalidInput):
        render(template, {**dict.fromkeys(names, "甲"), "phone_of": "张三"})


def test_a_variable_carrying_a_phone_number_is_refused() -> None:
    with pytest.raises(InvalidInput, match="phone"):
        render(Template.NOTICE, {"scope_name": "712社区", "text": "有事请拨13812341234"})
