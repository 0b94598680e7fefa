"""The 712 demo's health monitoring (28-29 Feb, ``adapters.demo_monitoring``): residents under
a home measure report by chat, the assisted ones are called by their zone's worker, one
misses the evening report and is escalated, one reports a fever and is followed up as a
finding (symptomatic, fever-clinic referral), those whose period ended are on the release
list; and running the demo again writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest

from adapters import demo, demo_field, demo_monitoring
from adapters.demo_screening import at_day
from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.grid import Level
from gridcore.monitoring import AssistMethod, Report, ReportSource
from gridcore.referral import ReferralKind
from gridcore.status import Health

COMMUNITY = demo.COMMUNITY


@dataclass
class Built:
    app: GridcoreApp
    clock: demo.ScenarioClock
    cast: demo_monitoring.Cast


@pytest.fixture(scope="module")
def built() -> Iterator[Built]:
    clock = demo.ScenarioClock()
    app = GridcoreApp(memory_env(), clock=clock)
    demo.build(app)
    demo_field.run(app, clock)  # ends with demo_monitoring.run
    yield Built(app, clock, demo_monitoring.cast(app))
    app.close()


def _recent(built: Built, rid: UUID) -> list[Report]:
    m = next(m for m in built.app.monitored(COMMUNITY) if m.resident_id == rid)
    return [r for r in m.reports if r.taken_at >= at_day(demo_monitoring.FIRST_DAY, 0)]


def test_the_story_ends_on_29_february(built: Built) -> None:
    assert built.clock().date().isoformat() == "2020-02-29"


def test_residents_at_home_report_twice_a_day_by_chat(built: Built) -> None:
    c = built.cast
    assert len(c.chat) >= 3
    fever = built.app.policy_at(built.clock()).monitoring_fever_celsius
    for m in c.chat:
        reports = _recent(built, m.resident_id)
        assert {r.source for r in reports} == {ReportSource.RESIDENT_CHAT}
        assert len(reports) == (1 if m.resident_id == c.silent else len(demo_monitoring.SLOTS))
        if m.resident_id != c.feverish:
            assert all(r.temperature is not None and r.temperature < fever for r in reports)
    due = built.app.monitoring_due(COMMUNITY, at_day(demo_monitoring.FIRST_DAY).date())
    chat_ids = {m.resident_id for m in c.chat} - {c.silent}
    mine = [d for d in due if d.resident_id in chat_ids]  # none after a period's end
    assert mine and all(d.reported and not d.missed for d in mine)


def test_the_assisted_are_called_by_their_worker(built: Built) -> None:
    c = built.cast
    assert c.called
    for m in c.called:
        now = next(x for x in built.app.monitored(COMMUNITY) if x.resident_id == m.resident_id)
        assert now.assist_method is AssistMethod.PHONE
        worker = built.app.node(built.app.household(m.household_id).micro_grid).responsible_worker
        reports = _recent(built, m.resident_id)
        assert len(reports) == len(demo_monitoring.SLOTS)
        assert {(r.source, r.by) for r in reports} == {(ReportSource.STAFF_PHONE, worker)}
    due = built.app.monitoring_due(COMMUNITY, assisted_only=True)
    assert {d.resident_id for d in due} >= {m.resident_id for m in c.called}
    assert all(d.method is AssistMethod.PHONE for d in due
               if d.resident_id in {m.resident_id for m in c.called})


def test_one_missed_evening_report_is_flagged_and_escalated(built: Built) -> None:
    missed = built.app.monitoring_missed(COMMUNITY, open_only=True)
    assert [m.resident_id for m in missed] == [built.cast.silent]
    only = missed[0]
    assert only.due == at_day(demo_monitoring.MISSED_SLOT[0], demo_monitoring.MISSED_SLOT[1])
    assert only.escalations >= 1
    assert only.level is not Level.MICRO_GRID and only.owner_code != only.micro_grid


def test_a_fever_is_followed_up_as_a_finding(built: Built) -> None:
    c = built.cast
    since = at_day(demo_monitoring.FIRST_DAY, 0)
    abnormal = [a for a in built.app.monitoring_abnormal(COMMUNITY) if a.taken_at >= since]
    assert [(a.resident_id, a.temperature) for a in abnormal] == [(c.feverish,
                                                                   demo_monitoring.FEVER)]
    hid = abnormal[0].household_id
    assert built.app.household(hid).residents[c.feverish].health is Health.SYMPTOMATIC
    refs = [r for r in built.app.referrals_of(c.feverish)
            if r.kind is ReferralKind.FEVER_CLINIC]
    assert len(refs) == 1


def test_those_whose_period_ended_are_listed_for_release(built: Built) -> None:
    listed = built.app.monitoring_release_list(COMMUNITY)
    assert listed
    assert all(e.ends <= built.clock() and e.requirements for e in listed)
    told = demo_monitoring.story(built.app)
    assert (told.missed, told.abnormal, told.release) == (1, 1, len(listed))


def test_running_the_demo_again_writes_nothing(built: Built) -> None:
    written = built.app.recorder.max_notification_id()
    demo.build(built.app)
    demo_field.run(built.app, built.clock)
    assert built.app.recorder.max_notification_id() == written
