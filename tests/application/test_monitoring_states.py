"""Stateful property test of health monitoring (健康监测): a resident under home quarantine,
random reports (some refused: a reading out of range, a time in the future or before the
measure), the passing of time and ticks.

The model below is written from the issue, not from the implementation: a report counts for
the first report time (08:00 and 20:00 in Wuhan) whose deadline (two hours' grace) it is not
after; a tick flags every report time whose deadline passed without one, each once; a flag
opens an overdue item when the resident was not heard from after its deadline and none is
open; an open item moves up a level (community, street, district, the city, then recorded at
the top) every four hours from its deadline, each step dated when it fell due; a report closes
it. A refused report writes nothing, and replaying the stored events gives the state the
application reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.errors import InvalidInput
from gridcore.household import household_id, resident_id
from gridcore.monitoring import Monitoring
from gridcore.policy import DEFAULT_POLICY
from gridcore.status import Measure
from tests.conftest import Clock
from tests.machines import replay, state
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES, given_community

SETTINGS = settings(max_examples=60, stateful_step_count=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
GRACE = timedelta(minutes=DEFAULT_POLICY.monitoring_grace_minutes)
STEP = timedelta(hours=DEFAULT_POLICY.monitoring_escalation_hours)
CHAIN = [ZONES[0], COMMUNITY, STREET, DISTRICT, CITY]
HID, RID = household_id("712-1-1"), resident_id("712-1-1", 2)


@dataclass
class Overdue:
    since: datetime
    level: int
    next: datetime | None
    steps: int = 0


class MonitoringLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.app = GridcoreApp(memory_env(), clock=self.clock)
        c = given_community(self.app, households_per_zone=2)
        self.worker = c.worker
        self.app.change_measure(HID, RID, Measure.HOME_QUARANTINE, self.worker, "密接")
        self.start = self.clock.now
        self.app.tick()
        m = self.app.monitoring_of(RID)
        assert m is not None
        self.mid, self.due = m.id, list(m.due)
        self.reports: list[datetime] = []
        self.met: set[datetime] = set()
        self.flagged: set[datetime] = set()
        self.overdue: Overdue | None = None
        self.steps: list[datetime] = []
        self.changed = self.clock.now

    def teardown(self) -> None:
        self.app.close()

    @rule(minutes=st.integers(1, 16 * 60))
    def wait(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule(back=st.integers(0, 18 * 60), temperature=st.sampled_from([36.5, 37.0, 45.0]),
          by_staff=st.booleans())
    def report(self, back: int, temperature: float, by_staff: bool) -> None:
        taken = self.clock.now - timedelta(minutes=back)
        refused = temperature > 43.0 or taken < self.start
        before = self.app.recorder.max_notification_id()

        def call() -> None:
            self.app.record_monitoring_report(
                HID, RID, "staff_phone" if by_staff else "resident_chat",
                by=self.worker if by_staff else System.FEED, taken_at=taken,
                temperature=temperature)

        if refused:
            with pytest.raises(InvalidInput):
                call()
            assert self.app.recorder.max_notification_id() == before
            return
        call()
        self.reports.append(taken)
        slot = next((d for d in self.due if taken <= d + GRACE), None)
        if slot is not None:
            self.met.add(slot)
        self.overdue, self.changed = None, self.clock.now

    @rule()
    def report_in_the_future(self) -> None:
        before = self.app.recorder.max_notification_id()
        with pytest.raises(InvalidInput):
            self.app.record_monitoring_report(HID, RID, "resident_chat", by=System.FEED,
                                              taken_at=self.clock.now + timedelta(hours=1))
        assert self.app.recorder.max_notification_id() == before

    @rule()
    def tick(self) -> None:
        now = self.clock.now
        self.app.tick()
        while True:
            missed = next((d for d in self.due if d + GRACE < now and d not in self.met
                           and d not in self.flagged), None)
            o = self.overdue
            step = o.next if o is not None and o.next is not None and o.next <= now else None
            if missed is not None and (step is None or missed + GRACE <= step):
                self.flagged.add(missed)
                deadline = missed + GRACE
                at = max(deadline, self.changed)
                heard = any(t > deadline for t in self.reports)
                if o is None and not heard:
                    self.overdue = Overdue(missed, 0, at + STEP)
                self.changed = at
            elif step is not None and o is not None:
                at = max(step, self.changed)
                o.steps += 1
                o.next = None if o.level == len(CHAIN) - 1 else at + STEP
                o.level = min(o.level + 1, len(CHAIN) - 1)
                self.steps.append(at)
                self.changed = at
            else:
                break
        event(f"tick: {'some' if self.flagged else 'none'} flagged, {len(self.steps)} steps")

    @invariant()
    def the_application_agrees_with_the_model(self) -> None:
        m = self.app.monitoring(self.mid)
        assert m.met == self.met
        assert set(m.flagged) == self.flagged
        events = list(self.app.events.get(self.mid))
        assert sum(isinstance(e, Monitoring.ReportMissed) for e in events) == len(self.flagged)
        assert [e.timestamp for e in events if isinstance(e, Monitoring.Escalated)] == self.steps
        assert (m.overdue is None) == (self.overdue is None)
        if m.overdue is not None and self.overdue is not None:
            assert m.overdue.owner_code == CHAIN[self.overdue.level]
            assert m.overdue.escalations == self.overdue.steps
        assert state(replay(self.app, self.mid)) == state(m)


TestMonitoringLifecycle = MonitoringLifecycle.TestCase
TestMonitoringLifecycle.settings = SETTINGS
