"""Stateful property test of residents' requests: random filings, reclassifications,
assignments, replies, ratings, reopenings, policy changes, the passing of time and ticks.

The model below is written from the issue, not from the implementation: a command is accepted
iff the model allows it (a rejected one raises one of the typed errors the model expects and
writes nothing); a tick escalates exactly the requests whose deadline has passed, one level
per deadline missed by then, each dated when its deadline passed (or at the request's last
change, if later) and the next deadline counted from it by the policy in force then; and
replaying the stored events gives the state the application reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.authority import NotAuthorised, System
from gridcore.errors import ForbiddenTransition, GridcoreError, InvalidInput, NotPermitted
from gridcore.household import resident_id
from gridcore.policy import DEFAULT_POLICY
from gridcore.request_commands import RequestDesk, desk_id
from gridcore.requests import Category, Channel, Grade, RequestStatus, ResidentRequest
from gridcore.staff import Role
from tests.conftest import Clock
from tests.machines import replay, state
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES, given_community

SETTINGS = settings(max_examples=25, stateful_step_count=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

S = RequestStatus
LEVELS = [COMMUNITY, STREET, DISTRICT, CITY]  # the order of escalation
# staff number -> (index of their jurisdiction in LEVELS, available)
STAFF = {"GW1": (0, True), "VOL1": (0, True), "DOC1": (0, False), "ST1": (1, True),
         "DI1": (2, True), "CI1": (3, True)}
AWAITING = {S.OPEN, S.IN_PROGRESS}
texts = st.sampled_from(["已处理 handled", "已处理 handled", "需要帮助 help", "", "  ", "x"])






@dataclass
class Model:
    grade: Grade
    category: Category
    deadline: datetime | None
    since: datetime
    status: RequestStatus = S.OPEN
    owner: int = 0
    missed: int = 0
    assignee: str | None = None
    ratings: list[int] = field(default_factory=list)
    on_time: bool | None = None
    reference: str = ""
    """What the filer was given: the resident's only key to rating and reopening."""
    changed: datetime | None = None
    """When the request's last event was recorded."""


class RequestLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.app = GridcoreApp(memory_env(), clock=self.clock)
        self.community = given_community(self.app, households_per_zone=1)
        for no, code in (("ST1", STREET), ("DI1", DISTRICT), ("CI1", CITY)):
            self.app.enrol_staff(no, f"干部{no}", Role.OFFICIAL, code, 0, by=System.OPERATOR)
        self.app.set_staff_availability(self.app.staff_by_no("DOC1").id, False, "隔离",
                                        by=System.OPERATOR)
        self.staff = {no: self.app.staff_by_no(no).id for no in STAFF}
        self.hours = dict(DEFAULT_POLICY.request_deadline_hours)
        self.adopted: list[tuple[datetime, dict[str, int]]] = []
        self.ids: list[UUID] = []
        self.model: dict[UUID, Model] = {}

    def teardown(self) -> None:
        self.app.close()

    # ---- helpers ------------------------------------------------------------------------------

    def attempt(self, errors: set[type[GridcoreError]], fn: Any, *args: Any,
                **kwargs: Any) -> bool:
        before = self.app.recorder.max_notification_id()
        if errors:
            with pytest.raises(GridcoreError) as info:
                fn(*args, **kwargs)
            e = info.value
            assert type(e) in errors, f"{fn.__name__}: expected one of {errors}, got {e!r}"
            assert e.remedy.strip()
            assert self.app.recorder.max_notification_id() == before, "a rejection wrote"
            event(f"{fn.__name__}: rejected ({type(e).__name__})")
            return False
        fn(*args, **kwargs)
        assert self.app.recorder.max_notification_id() > before
        event(f"{fn.__name__}: accepted")
        return True

    def pick(self, i: int) -> tuple[UUID, Model]:
        rid = self.ids[i % len(self.ids)]
        return rid, self.model[rid]

    def deadline(self, grade: Grade, since: datetime) -> datetime:
        return since + timedelta(hours=self.hours[grade.value])

    def deadline_then(self, grade: Grade, since: datetime) -> datetime:
        """The deadline by the policy in force at ``since`` (an escalation dated back)."""
        hours = dict(DEFAULT_POLICY.request_deadline_hours)
        for effective, adopted in self.adopted:
            if effective <= since:
                hours = adopted
        return since + timedelta(hours=hours[grade.value])

    def handles(self, no: str, m: Model) -> bool:
        return STAFF[no][0] <= m.owner

    # ---- rules ---------------------------------------------------------------------------------

    @initialize(grade=st.sampled_from(Grade), anonymous=st.booleans())
    def first_filing(self, grade: Grade, anonymous: bool) -> None:
        self.file(grade, Category.SUPPLIES, anonymous, ZONES[0], "缺药 out of medicine")

    @rule(grade=st.sampled_from(Grade), category=st.sampled_from(Category),
          anonymous=st.booleans(), grid=st.sampled_from([COMMUNITY, *ZONES]),
          text=st.sampled_from(["缺菜 out of vegetables"] * 4 + ["", " "]))
    def file(self, grade: Grade, category: Category, anonymous: bool, grid: str,
             text: str) -> None:
        errors: set[type[GridcoreError]] = set() if text.strip() else {InvalidInput}
        c, now = self.community, self.clock()
        where: dict[str, Any] = (
            {"phone": "13598765432", "address": "3栋101", "grid": grid} if anonymous
            else {"household": c.households[0], "resident": resident_id("712-1-0", 2)})
        before = self.app.recorder.max_notification_id()
        if errors:
            self.attempt(errors, self.app.file_request, Channel.CHAT, category, grade, text,
                         **where, by=System.PUBLIC)
            return
        f = self.app.file_request(Channel.CHAT, category, grade, text, **where, by=System.PUBLIC)
        assert self.app.recorder.max_notification_id() > before
        assert f.request_id not in self.model
        self.ids.append(f.request_id)
        self.model[f.request_id] = Model(grade, category, self.deadline(grade, now), now,
                                         reference=f.reference, changed=now)

    @rule(i=st.integers(0, 99), category=st.none() | st.sampled_from(Category),
          grade=st.none() | st.sampled_from(Grade))
    def classify(self, i: int, category: Category | None, grade: Grade | None) -> None:
        rid, m = self.pick(i)
        new = (category or m.category, grade or m.grade)
        errors: set[type[GridcoreError]] = set()
        if m.status not in AWAITING:
            errors.add(ForbiddenTransition)
        elif new == (m.category, m.grade):
            errors.add(InvalidInput)
        if self.attempt(errors, self.app.classify_request, rid, category, grade,
                        by=System.OPERATOR):
            if new[1] is not m.grade and m.deadline is not None:
                m.deadline = self.deadline(new[1], m.since)
            m.category, m.grade, m.changed = new[0], new[1], self.clock()

    @rule(i=st.integers(0, 99), no=st.sampled_from(sorted(STAFF)))
    def assign(self, i: int, no: str) -> None:
        rid, m = self.pick(i)
        errors: set[type[GridcoreError]] = set()
        if not STAFF[no][1]:
            errors.add(InvalidInput)
        if not self.handles(no, m):
            errors.add(NotPermitted)
        if m.status not in AWAITING:
            errors.add(ForbiddenTransition)
        elif m.assignee == no:
            errors.add(InvalidInput)
        if self.attempt(errors, self.app.assign_request, rid, self.staff[no],
                        by=System.OPERATOR):
            m.assignee, m.status, m.changed = no, S.IN_PROGRESS, self.clock()

    @rule(i=st.integers(0, 99), no=st.sampled_from(sorted(STAFF)), reply=texts)
    def resolve(self, i: int, no: str, reply: str) -> None:
        rid, m = self.pick(i)
        errors: set[type[GridcoreError]] = set()
        if not self.handles(no, m):
            errors.add(NotPermitted)
        if m.status not in AWAITING:
            errors.add(ForbiddenTransition)
        elif len(reply.strip()) < 2:
            errors.add(InvalidInput)
        if no == "DOC1":  # the authority table: a family doctor handles no request
            errors = {NotAuthorised}
        now = self.clock()
        if self.attempt(errors, self.app.resolve_request, rid, self.staff[no], reply):
            m.status, m.changed = S.RESOLVED, now
            m.on_time = m.missed == 0 and m.deadline is not None and now <= m.deadline

    @rule(i=st.integers(0, 99), rating=st.integers(1, 5) | st.integers(-1, 7),
          by_reference=st.booleans())
    def rate(self, i: int, rating: int, by_reference: bool) -> None:
        rid, m = self.pick(i)
        errors: set[type[GridcoreError]] = set()
        if not by_reference:  # the request's id is no key for the resident's commands
            errors.add(InvalidInput)
        elif m.status is not S.RESOLVED:
            errors.add(ForbiddenTransition)
        elif not 1 <= rating <= 5:
            errors.add(InvalidInput)
        key = m.reference if by_reference else rid
        if self.attempt(errors, self.app.rate_request, key, rating, by=System.PUBLIC):
            m.status, m.changed = S.CLOSED, self.clock()
            m.ratings.append(rating)

    @rule(i=st.integers(0, 99), reason=texts)
    def reopen(self, i: int, reason: str) -> None:
        _, m = self.pick(i)
        errors: set[type[GridcoreError]] = set()
        if m.status is not S.CLOSED:
            errors.add(ForbiddenTransition)
        elif len(reason.strip()) < 2:
            errors.add(InvalidInput)
        now = self.clock()
        if self.attempt(errors, self.app.reopen_request, m.reference, reason,
                        by=System.PUBLIC):
            m.status = S.IN_PROGRESS if m.assignee else S.OPEN
            m.since, m.deadline, m.missed, m.on_time = now, self.deadline(m.grade, now), 0, None
            m.changed = now

    @rule(i=st.integers(0, 99), rating=st.integers(1, 5))
    def answer_and_rate(self, i: int, rating: int) -> None:
        """The usual path: the community's grid worker answers, the resident rates."""
        self.resolve(i, "GW1", "已送到 delivered")
        self.rate(i, rating, by_reference=True)

    @rule(i=st.integers(0, 99), reason=texts)
    def answer_then_reopen_unrated(self, i: int, reason: str) -> None:
        """The issue's bad input: a resident reopens before rating the reply."""
        self.resolve(i, "GW1", "已答复 answered")
        self.reopen(i, reason)

    @rule(i=st.integers(0, 99), rating=st.integers(1, 5), reason=texts)
    def answer_rate_and_reopen(self, i: int, rating: int, reason: str) -> None:
        """A dissatisfied resident: answered, rated, reopened."""
        self.answer_and_rate(i, rating)
        self.reopen(i, reason)

    @rule(i=st.integers(0, 99), seconds=st.sampled_from([-1, 0, 1]))
    def tick_at_a_deadline(self, i: int, seconds: int) -> None:
        """Go to just before, at or just after a request's deadline, and tick (boundaries)."""
        _, m = self.pick(i)
        if m.deadline is not None and m.deadline + timedelta(seconds=seconds) > self.clock():
            self.clock.now = m.deadline + timedelta(seconds=seconds)
        self.tick()

    @rule(urgent=st.sampled_from([1, 2, 3]), normal=st.sampled_from([8, 24]))
    def adopt_policy(self, urgent: int, normal: int) -> None:
        hours = {"urgent": urgent, "normal": normal}
        policy = DEFAULT_POLICY.with_changes(request_deadline_hours=hours)
        self.app.adopt_policy(policy, self.clock(), "调整办理时限 new deadlines",
                              by=System.OPERATOR)
        self.hours = hours
        self.adopted.append((self.clock(), hours))

    @rule(hours=st.sampled_from([0.5, 1, 2, 3, 24]))
    def advance_and_tick(self, hours: float) -> None:
        self.clock.advance(hours=hours)
        self.tick()

    @rule()
    def tick(self) -> None:
        now = self.clock()
        due = [rid for rid, m in self.model.items()
               if m.status in AWAITING and m.deadline is not None and m.deadline <= now]
        assert self.app.tick_requests(now) == len(due)
        assert self.app.tick_requests(now) == 0
        for rid in due:
            m = self.model[rid]
            expected: list[tuple[type, datetime]] = []
            while m.status in AWAITING and m.deadline is not None and m.deadline <= now:
                assert m.changed is not None
                when = max(m.deadline, m.changed)  # dated when it passed
                m.missed += 1
                if m.owner < len(LEVELS) - 1:
                    m.owner += 1
                    m.assignee, m.status = None, S.OPEN
                    m.since, m.deadline = when, self.deadline_then(m.grade, when)
                    expected.append((ResidentRequest.Escalated, when))
                    event(f"tick: escalated to {LEVELS[m.owner]}")
                else:
                    m.deadline = None
                    expected.append((ResidentRequest.DeadlineMissed, when))
                    event("tick: missed at the city")
                m.changed = when
            if len(expected) > 1:
                event("tick: several deadlines missed at once")
            recorded = list(self.app.events.get(rid))[-len(expected):]
            assert [(type(e), e.timestamp) for e in recorded] == expected

    # ---- invariants ----------------------------------------------------------------------------

    @invariant()
    def replay_equals_live_and_the_model(self) -> None:
        names = {v: k for k, v in self.staff.items()}
        for rid, m in self.model.items():
            live = self.app.request(rid)
            replayed = replay(self.app, rid)
            assert state(replayed) == state(live) and replayed.version == live.version
            assert (live.status, live.owner_code, live.grade, live.category) == (
                m.status, LEVELS[m.owner], m.grade, m.category)
            assert (live.deadline, names.get(live.assignee), live.ratings, live.on_time) == (
                m.deadline, m.assignee, m.ratings, m.on_time)
        desk = self.app._find(RequestDesk, desk_id(COMMUNITY))
        if desk is not None:
            assert state(replay(self.app, desk.id)) == state(desk)
            awaiting = {rid for rid, m in self.model.items() if m.status in AWAITING}
            assert set(desk.open) == awaiting and len(desk.open) == len(awaiting)
            assert desk.requests == self.ids
            assert {r.id for r in self.app.open_requests(CITY)} == awaiting


RequestLifecycle.TestCase.settings = SETTINGS
test_request_lifecycle = RequestLifecycle.TestCase
