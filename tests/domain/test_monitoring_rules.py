"""The rules of health monitoring (健康监测), pure: the schedule lies within the measure at the
policy's local times, each report counts for exactly one report time, a missed report is
flagged exactly once however the ticks fall, escalation is idempotent and stops at the city,
an abnormal reading is exactly a fever or a symptom, and the release list says what the policy
requires."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.errors import ForbiddenTransition, InvalidInput
from gridcore.findings import Action
from gridcore.grid import Level
from gridcore.household import Vulnerability
from gridcore.monitoring import (
    AssistMethod,
    Monitoring,
    ReportSource,
    RequirementKind,
    abnormal,
    assist_method,
    check_reading,
    follow_ups,
    missed,
    monitoring_id,
    needs_assistance,
    release_requirements,
    report_times,
    slot_for,
)
from gridcore.policy import DEFAULT_POLICY
from gridcore.staff import Role
from gridcore.status import Measure

T0 = datetime(2020, 2, 10, 1, 0, tzinfo=UTC)  # 09:00 in Wuhan
GRACE = timedelta(minutes=DEFAULT_POLICY.monitoring_grace_minutes)

clock_times = st.lists(st.times().map(lambda t: f"{t.hour:02d}:{t.minute:02d}"), min_size=1,
                       max_size=4)
offsets = st.integers(-720, 840)
starts = st.datetimes(datetime(2020, 1, 1), datetime(2022, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC))
lengths = st.timedeltas(timedelta(0), timedelta(days=20))


@given(clock_times, offsets, starts, lengths)
@settings(max_examples=200, deadline=None)
def test_the_schedule_is_every_local_report_time_within_the_measure(times, offset, start,
                                                                     length):
    ends = start + length
    due = report_times(times, offset, start, ends)
    zone = timezone(timedelta(minutes=offset))
    assert due == sorted(set(due))  # strictly increasing, no time twice
    wanted = {time.fromisoformat(t) for t in times}
    for d in due:
        assert start <= d < ends
        assert d.astimezone(zone).timetz().replace(tzinfo=None) in wanted
    # and none is left out: every local report time of every day in the period is there
    day = start.astimezone(zone).date() - timedelta(days=1)
    while datetime.combine(day, time(0), zone) < ends:
        for t in wanted:
            at = datetime.combine(day, t, zone)
            assert (at in due) == (start <= at < ends)
        day += timedelta(days=1)


def test_the_default_schedule_is_twice_a_day_at_8_and_20_in_wuhan_for_14_days() -> None:
    due = report_times(DEFAULT_POLICY.monitoring_report_times,
                       DEFAULT_POLICY.monitoring_utc_offset_minutes, T0, T0 + timedelta(days=14))
    assert len(due) == 28
    wuhan = timezone(timedelta(hours=8))
    assert {d.astimezone(wuhan).strftime("%H:%M") for d in due} == {"08:00", "20:00"}
    assert due[0].astimezone(wuhan) == datetime(2020, 2, 10, 20, 0, tzinfo=wuhan)
    assert report_times(["08:00"], 480, T0, None) == []  # no end, no schedule


@given(clock_times, offsets, starts, st.timedeltas(timedelta(0), timedelta(days=5)),
       st.timedeltas(timedelta(0), timedelta(hours=3)))
@settings(max_examples=200, deadline=None)
def test_a_report_counts_for_the_first_report_time_whose_deadline_it_is_not_after(
        times, offset, start, after, grace):
    due = report_times(times, offset, start, start + timedelta(days=4))
    taken = start + after
    slot = slot_for(due, grace, taken)
    if slot is None:
        assert all(taken > d + grace for d in due)
        return
    assert taken <= slot + grace
    earlier = [d for d in due if d < slot]
    assert all(taken > d + grace for d in earlier)


def started(ends: datetime | None = None) -> Monitoring:
    m = Monitoring.start(uuid4(), uuid4(), Measure.HOME_QUARANTINE, T0,
                         ends or T0 + timedelta(days=3), by=None, policy=DEFAULT_POLICY, at=T0)
    m.collect_events()
    return m


CHAIN = {"MG-1": ("C-1", Level.COMMUNITY), "C-1": ("S-1", Level.STREET),
         "S-1": ("D-1", Level.DISTRICT), "D-1": ("CITY", Level.CITY), "CITY": (None, None)}


def tick(m: Monitoring, now: datetime) -> int:
    """What the application's tick does for one monitoring (the earliest step first), in a
    tree of micro-grid MG-1 under C-1, S-1, D-1 and the city; returns the steps taken."""
    steps = 0
    while (step := m.next_step(DEFAULT_POLICY, now)) is not None:
        kind, when = step
        if kind == "missed":
            m.flag_missed(when, "MG-1", None, policy=DEFAULT_POLICY, now=now)
        else:
            assert m.overdue is not None
            to, level = CHAIN[m.overdue.owner_code]
            m.escalate(to, level, policy=DEFAULT_POLICY, now=now)
        steps += 1
    return steps


@given(st.lists(st.integers(0, 80), max_size=8),
       st.lists(st.integers(0, 90), min_size=1, max_size=10))
@settings(max_examples=150, deadline=None)
def test_a_missed_report_is_flagged_exactly_once_however_the_ticks_fall(report_hours,
                                                                         tick_hours):
    m = started()
    moments = sorted([(h, "report") for h in report_hours] + [(h, "tick") for h in tick_hours])
    for hours, what in moments:
        now = T0 + timedelta(hours=hours, minutes=1)
        if what == "report":
            m.record_report(now, ReportSource.RESIDENT_CHAT, 36.5, [], by=None,
                            policy=DEFAULT_POLICY, at=now)
        else:
            tick(m, now)
    events = m.collect_events()
    flags = [e.due for e in events if isinstance(e, Monitoring.ReportMissed)]
    assert len(flags) == len(set(flags))  # each once
    last = T0 + timedelta(hours=max(tick_hours), minutes=1)
    assert set(flags) == set(missed(m.due, m.met, (), GRACE, last))  # and every one due
    for due in flags:
        with pytest.raises(ForbiddenTransition):
            m.flag_missed(due, "MG-1", None, policy=DEFAULT_POLICY, now=last)


def test_a_flag_opens_an_overdue_item_only_when_the_resident_has_not_been_heard_from() -> None:
    m = started()
    first = m.due[0]
    late = first + GRACE + timedelta(minutes=5)
    m.record_report(late, ReportSource.STAFF_PHONE, 36.6, [], by=uuid4(),
                    policy=DEFAULT_POLICY, at=late)  # heard from after the deadline
    tick(m, late)
    [flag] = [e for e in m.collect_events() if isinstance(e, Monitoring.ReportMissed)]
    assert flag.due == first and flag.escalates_at is None and m.overdue is None


def escalations(m: Monitoring) -> list[Monitoring.Escalated]:
    return [e for e in m.collect_events() if isinstance(e, Monitoring.Escalated)]


@given(st.lists(st.integers(0, 40), min_size=1, max_size=6))
@settings(max_examples=100, deadline=None)
def test_escalation_is_idempotent_and_stops_after_the_city(tick_hours):
    m = started(T0 + timedelta(days=10))
    first = m.due[0]
    deadline = first + GRACE
    hours = DEFAULT_POLICY.monitoring_escalation_hours
    events: list[Monitoring.Escalated] = []
    for h in sorted(tick_hours):
        now = deadline + timedelta(hours=h, minutes=1)
        tick(m, now)
        events += escalations(m)
        assert tick(m, now) == 0  # again at the same time: nothing more
        assert len(events) == min(5, h // hours)  # a step per period, five past the city
    assert [e.to_code for e in events] == ["C-1", "S-1", "D-1", "CITY", None][:len(events)]
    assert [e.timestamp for e in events] == [
        deadline + timedelta(hours=hours * n) for n in range(1, len(events) + 1)]


def test_a_report_closes_the_overdue_item_and_escalation_stops() -> None:
    m = started()
    now = m.due[0] + GRACE + timedelta(hours=5)
    tick(m, now)
    assert len(escalations(m)) == 1 and m.overdue is not None
    m.record_report(now, ReportSource.RESIDENT_APP, 36.4, [], by=None, policy=DEFAULT_POLICY,
                    at=now)
    assert m.overdue is None
    # the report counted for the next report time; the one after is missed: a new item
    later = m.due[2] + GRACE + timedelta(minutes=1)
    tick(m, later)
    assert escalations(m) == [] and m.overdue is not None and m.overdue.escalations == 0


@given(st.one_of(st.none(), st.floats(34.0, 43.0)),
       st.lists(st.sampled_from(["咳嗽", "乏力", "发热 fever"]), max_size=3))
def test_a_reading_is_abnormal_exactly_with_a_fever_or_a_symptom(temperature, symptoms):
    why = abnormal(temperature, symptoms, DEFAULT_POLICY)
    fever = temperature is not None and temperature >= DEFAULT_POLICY.monitoring_fever_celsius
    assert bool(why) == (fever or bool(symptoms))
    assert abnormal(37.3, [], DEFAULT_POLICY) and not abnormal(37.2, [], DEFAULT_POLICY)
    stricter = DEFAULT_POLICY.with_changes(monitoring_fever_celsius=37.0)
    assert abnormal(37.1, [], stricter)


def test_an_abnormal_reading_takes_the_findings_follow_up_path() -> None:
    hid, rid = uuid4(), uuid4()
    found = follow_ups(hid, rid, "体温 38.2")
    assert [f.action for f in found] == [Action.SYMPTOMATIC, Action.REFER_FEVER_CLINIC]
    assert all(f.household_id == hid and f.resident_id == rid and f.by is None for f in found)
    assert found[0].client_id("e:2") != found[1].client_id("e:2")


@pytest.mark.parametrize(("temperature", "symptoms"), [
    (33.9, []), (43.1, []), (float("nan"), []), (True, []), (36.5, "咳嗽"),
    (36.5, ["电话 13812341234"])])
def test_an_implausible_reading_is_refused(temperature, symptoms) -> None:
    with pytest.raises(InvalidInput):
        check_reading(temperature, symptoms)


def test_a_report_in_the_future_before_the_start_or_a_visit_with_no_staff_is_refused() -> None:
    m = started()
    for taken, source, by in ((T0 + timedelta(hours=2), ReportSource.RESIDENT_CHAT, None),
                              (T0 - timedelta(hours=1), ReportSource.RESIDENT_CHAT, None),
                              (T0, ReportSource.STAFF_VISIT, None)):
        with pytest.raises(InvalidInput):
            m.record_report(taken, source, 36.5, [], by=by, policy=DEFAULT_POLICY,
                            at=T0 + timedelta(hours=1))
    assert m.collect_events() == []


def test_who_cannot_report_themself_is_visited_or_called() -> None:
    assert needs_assistance({Vulnerability.CHRONIC_ILLNESS}, DEFAULT_POLICY) == []
    alone = needs_assistance({Vulnerability.LIVES_ALONE, Vulnerability.AGE_65_PLUS},
                             DEFAULT_POLICY)
    assert alone == [Vulnerability.AGE_65_PLUS, Vulnerability.LIVES_ALONE]
    assert assist_method(alone) is AssistMethod.VISIT
    assert assist_method([Vulnerability.NO_SMARTPHONE]) is AssistMethod.PHONE
    narrower = DEFAULT_POLICY.with_changes(monitoring_assisted_vulnerabilities=("lives_alone",))
    assert needs_assistance({Vulnerability.NO_SMARTPHONE}, narrower) == []


def test_the_release_list_says_what_the_policy_still_requires() -> None:
    [test, decision] = release_requirements(Measure.HOME_QUARANTINE, DEFAULT_POLICY)
    assert test.kind is RequirementKind.NEGATIVE_TEST and test.hours == 48
    assert decision.kind is RequirementKind.DECISION
    assert set(decision.roles) == {Role.FAMILY_DOCTOR, Role.OFFICIAL}
    assert "48" in test.label and "家庭签约医生" in decision.label
    lax = DEFAULT_POLICY.with_changes(release_needs_negative_test=False)
    assert [r.kind for r in release_requirements(Measure.HOME_OBSERVATION, lax)] == [
        RequirementKind.DECISION]


def test_the_release_listing_comes_once_when_the_period_ends() -> None:
    m = started(T0 + timedelta(days=1))
    needs = release_requirements(Measure.HOME_QUARANTINE, DEFAULT_POLICY)
    assert not m.list_for_release(needs, T0 + timedelta(hours=23))
    assert m.list_for_release(needs, T0 + timedelta(days=2))
    assert not m.list_for_release(needs, T0 + timedelta(days=3))
    [listed] = [e for e in m.collect_events() if isinstance(e, Monitoring.DueForRelease)]
    assert listed.timestamp == T0 + timedelta(days=1)  # dated when the period ended


def test_a_measure_the_policy_does_not_monitor_starts_nothing_and_the_id_is_the_period() -> None:
    with pytest.raises(ForbiddenTransition):
        Monitoring.start(uuid4(), uuid4(), Measure.HOSPITALIZED, T0, None, by=None,
                         policy=DEFAULT_POLICY, at=T0)
    rid = uuid4()
    wuhan = T0.astimezone(timezone(timedelta(hours=8)))
    assert monitoring_id(rid, T0) == monitoring_id(rid, wuhan)
    assert monitoring_id(rid, T0) != monitoring_id(rid, T0 + timedelta(seconds=1))
