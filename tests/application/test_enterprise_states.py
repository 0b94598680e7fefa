"""The enterprise resumption lifecycle as a state machine: registrations, specialists assigned
and falling ill, filings with random parts of the checklist, health declarations, reviews by
random staff, inspections with random results, rectifications closed, time and ticks, against a
model written here from the domain rules. A command is accepted iff the model allows it; a
rejected one writes nothing; replaying the stored events gives the live state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.authority import NotAuthorised, System
from gridcore.enterprise import ChecklistIncomplete, Resumption, SpecialistMissing, enterprise_id
from gridcore.errors import (
    DuplicateCode,
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from gridcore.policy import DEFAULT_POLICY
from gridcore.staff import Role
from tests.application.test_delivery_states import Attempts, replay, state
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, given_community

SETTINGS = settings(max_examples=25, stateful_step_count=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
R = Resumption
CODES = ["91510100MA61R8XK2B", "91510100MA61R8XK3C", "91510100MA61R8XK4D"]
KS = st.sampled_from([0, 0, 1, 1, 2])  # 0 and 1 are registered at the start, 2 is not
CHECKLIST = list(DEFAULT_POLICY.resumption_checklist)
ITEMS = list(DEFAULT_POLICY.inspection_items)
DAYS = DEFAULT_POLICY.rectification_days
WHO = st.sampled_from(["own", "own", "own", "S1", "S2", "official", "volunteer"])


@dataclass
class Model:
    specialist: str
    resumption: Resumption = R.NOT_FILED
    employees: int = 0
    symptomatic: list[int] = field(default_factory=list)
    open: dict[str, tuple[datetime, bool]] = field(default_factory=dict)  # deadline, overdue
    rectified: int = 0
    inspections: int = 0


class EnterpriseLifecycle(RuleBasedStateMachine, Attempts):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.app = GridcoreApp(memory_env(), clock=self.clock)
        c = given_community(self.app, households_per_zone=1)
        for no in ("ES1", "ES2"):
            self.app.enrol_staff(no, f"专员{no}", Role.ENTERPRISE_SPECIALIST, COMMUNITY, 0,
                                 by=System.OPERATOR)
        self.ids = {"S1": self.app.staff_by_no("ES1").id, "S2": self.app.staff_by_no("ES2").id,
                    "official": c.official, "volunteer": c.volunteer}
        self.available = {"S1": True, "S2": True}
        self.model: dict[int, Model] = {}

    def teardown(self) -> None:
        self.app.close()

    def eid(self, k: int) -> UUID:
        return enterprise_id(CODES[k])

    def specialist_error(self, who: str | None) -> type[GridcoreError] | None:
        if who is None:
            return SpecialistMissing
        if who not in self.available:
            return InvalidInput
        return None if self.available[who] else SpecialistMissing

    def actor_error(self, k: int, who: str) -> type[GridcoreError] | None:
        if who == "volunteer":  # the authority table names enterprise staff and officials
            return NotAuthorised
        if k not in self.model:
            return NotFound
        if who != self.model[k].specialist and who != "official":
            return NotPermitted
        return None

    def who(self, k: int, who: str) -> str:
        """'own' is the enterprise's own specialist (S1 when it is not registered)."""
        return (self.model[k].specialist if k in self.model else "S1") if who == "own" else who

    @initialize()
    def start_with_two_enterprises(self) -> None:
        """One resumed (so inspections are reached), one not filed yet."""
        self.register(0, "S1")
        self.register(1, "S2")
        self.resume(0)

    @rule(k=KS, who=st.sampled_from(["S1", "S2", "volunteer", None]))
    def register(self, k: int, who: str | None) -> None:
        error = self.specialist_error(who) or (DuplicateCode if k in self.model else None)
        if self.attempt(error, self.app.register_enterprise, CODES[k], f"企业{k}", "经济运行局",
                        ZONES[k % 2], self.ids.get(who) if who else None, by=System.OPERATOR):
            assert who is not None
            self.model[k] = Model(who)

    @rule(k=KS, who=st.sampled_from(["S1", "S2", "volunteer"]))
    def assign(self, k: int, who: str) -> None:
        error = NotFound if k not in self.model else self.specialist_error(who)
        if error is None and self.model[k].specialist == who:
            error = InvalidInput
        if self.attempt(error, self.app.assign_specialist, self.eid(k), self.ids[who],
                        by=System.OPERATOR):
            self.model[k].specialist = who

    @rule(who=st.sampled_from(["S1", "S2"]))
    def toggle_availability(self, who: str) -> None:
        self.available[who] = not self.available[who]
        self.attempt(None, self.app.set_staff_availability, self.ids[who], self.available[who],
                     "" if self.available[who] else "病假 sick leave", by=System.OPERATOR)

    @rule(k=KS, data=st.data(), employees=st.sampled_from([40, 40, 10, 0]))
    def file(self, k: int, data: st.DataObject, employees: int) -> None:
        items = data.draw(st.one_of(st.just(CHECKLIST), st.just(CHECKLIST),
                                    st.lists(st.sampled_from(CHECKLIST), unique=True)))
        self.filing(k, items, employees)

    def filing(self, k: int, items: list[str], employees: int) -> None:
        m = self.model.get(k)
        error: type[GridcoreError] | None = None
        if m is None:
            error = NotFound
        elif (error := self.specialist_error(m.specialist)) is not None:
            pass
        elif m.resumption not in (R.NOT_FILED, R.REJECTED):
            error = ForbiddenTransition
        elif employees < 1:
            error = InvalidInput
        elif set(CHECKLIST) - set(items):
            error = ChecklistIncomplete
        if self.attempt(error, self.app.file_resumption, self.eid(k), items, employees,
                        by=System.OPERATOR):
            assert m is not None
            m.resumption, m.employees = R.FILED, employees

    @rule(k=KS, declared=st.sampled_from([40, 10, 5, 0, 41]),
          symptomatic=st.sampled_from([0, 0, 0, 1, 6]))
    def declare(self, k: int, declared: int, symptomatic: int) -> None:
        m = self.model.get(k)
        error = None
        if m is None:
            error = NotFound
        elif declared < 1 or (m.employees and declared > m.employees) or symptomatic > declared:
            error = InvalidInput
        if self.attempt(error, self.app.declare_employee_health, self.eid(k), declared,
                        symptomatic, by=System.OPERATOR):
            assert m is not None
            m.symptomatic.append(symptomatic)

    @rule(k=KS, who=WHO, approved=st.booleans(),
          reasons=st.sampled_from([[], ["消毒记录不全 incomplete disinfection log"]]))
    def review(self, k: int, who: str, approved: bool, reasons: list[str]) -> None:
        who = self.who(k, who)
        error = self.actor_error(k, who)
        m = self.model.get(k)
        if error is None and m is not None:
            no_health = not m.symptomatic or m.symptomatic[-1] > 0
            if m.resumption is not R.FILED or (approved and no_health):
                error = ForbiddenTransition
            elif not approved and not reasons:
                error = InvalidInput
        if self.attempt(error, self.app.review_resumption, self.eid(k), self.ids[who],
                        approved, reasons):
            assert m is not None
            m.resumption = R.APPROVED if approved else R.REJECTED

    @rule(k=KS)
    def resume(self, k: int) -> None:
        """The whole filing in one step, so that inspections are reached."""
        if k in self.model:
            self.filing(k, CHECKLIST, 40)
            self.declare(k, 40, 0)
            self.review(k, "own", True, [])

    @rule(k=KS, who=WHO,
          results=st.fixed_dictionaries({i: st.booleans() for i in ITEMS}))
    def inspect(self, k: int, who: str, results: dict[str, bool]) -> None:
        who = self.who(k, who)
        error = self.actor_error(k, who)
        m = self.model.get(k)
        if error is None and m is not None and m.resumption is not R.APPROVED:
            error = ForbiddenTransition
        if self.attempt(error, self.app.inspect_enterprise, self.eid(k), self.ids[who], results):
            assert m is not None
            self.inspected(m, results)

    def inspected(self, m: Model, results: dict[str, bool], follow_up: bool = False) -> None:
        m.inspections += 0 if follow_up else 1  # a follow-up re-inspection is no new round
        for item, ok in results.items():
            if ok and item in m.open:
                del m.open[item]
                m.rectified += 1
            elif not ok and item not in m.open:
                m.open[item] = (self.clock() + timedelta(days=DAYS), False)

    @rule(k=KS, item=st.sampled_from(ITEMS), who=WHO)
    def close(self, k: int, item: str, who: str) -> None:
        who = self.who(k, who)
        error = self.actor_error(k, who)
        m = self.model.get(k)
        if error is None and m is not None and item not in m.open:
            error = InvalidInput
        if self.attempt(error, self.app.close_rectification, self.eid(k), item, self.ids[who]):
            assert m is not None
            self.inspected(m, {item: True}, follow_up=True)

    @rule(k=KS, item=st.sampled_from(ITEMS), hours=st.sampled_from([24, 72, 96]))
    def rectification_round(self, k: int, item: str, hours: int) -> None:
        """An item fails, time passes, the tick runs, the specialist re-inspects it."""
        self.inspect(k, "own", {i: i != item for i in ITEMS})
        self.advance(hours)
        self.tick()
        self.close(k, item, "own")

    @rule(hours=st.sampled_from([1, 12, 24, 71, 73]))
    def advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule(seconds=st.sampled_from([-1, 0, 1]))
    def tick_at_a_deadline(self, seconds: int) -> None:
        deadlines = [d for m in self.model.values() for d, late in m.open.values() if not late]
        if deadlines and (end := min(deadlines) + timedelta(seconds=seconds)) > self.clock():
            self.clock.now = end
        self.tick()

    @rule()
    def tick(self) -> None:
        now = self.clock()
        late = [(m, item) for m in self.model.values()
                for item, (deadline, overdue) in m.open.items() if not overdue and deadline <= now]
        assert self.app.tick_enterprises(now) == len(late)
        event(f"tick: {min(len(late), 2)}+ overdue")
        for m, item in late:
            m.open[item] = (m.open[item][0], True)
        assert self.app.tick_enterprises(now) == 0

    @invariant()
    def replay_equals_live_and_model(self) -> None:
        for k, m in self.model.items():
            live = self.app.enterprise(self.eid(k))
            assert state(replay(self.app, live.id)) == state(live)
            assert (live.specialist, live.resumption, live.employees, live.rectified,
                    live.inspections) == (self.ids[m.specialist], m.resumption, m.employees,
                                          m.rectified, m.inspections)
            assert [d.symptomatic for d in live.declarations] == m.symptomatic
            assert {i: (r.deadline, r.overdue) for i, r in live.rectifications.items()} == m.open
        desk = self.app.enterprise_desk(COMMUNITY)  # both enterprises are in the community
        assert desk is not None
        assert state(replay(self.app, desk.id)) == state(desk)
        assert desk.due == {self.eid(k): min(d for d, late in m.open.values() if not late)
                            for k, m in self.model.items()
                            if any(not late for _, late in m.open.values())}
        assert desk.specialists == {self.eid(k): self.ids[m.specialist]
                                    for k, m in self.model.items()}


EnterpriseLifecycle.TestCase.settings = SETTINGS
test_enterprise_lifecycle = EnterpriseLifecycle.TestCase
