"""The delivery lifecycle as a state machine: random orders, donations, central purchases,
dispatches, confirmations, failures, redeliveries, quarantines, time and ticks, against a model
written here from the domain rules. A command is accepted iff the model allows it; a rejected
one writes nothing; replaying the stored events gives the live state."""

from __future__ import annotations

from dataclasses import dataclass
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
from gridcore.delivery import DeliveryKind, DeliveryState, Item, delivery_id
from gridcore.delivery_desk import desk_id
from gridcore.errors import ForbiddenTransition, GridcoreError, InvalidInput, NotFound
from gridcore.status import Measure
from tests.application.test_deliveries import given_deliveries
from tests.conftest import Clock
from tests.machines import replay, state
from tests.scenario import COMMUNITY, ZONES

SETTINGS = settings(max_examples=25, stateful_step_count=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
S = DeliveryState
OVERDUE_HOURS = 24






class Attempts:
    app: GridcoreApp

    def attempt(self, error: type[GridcoreError] | None, fn: Any, *args: Any,
                **kwargs: Any) -> bool:
        before = self.app.recorder.max_notification_id()
        if error is not None:
            with pytest.raises(GridcoreError) as info:
                fn(*args, **kwargs)
            assert type(info.value) is error, f"{fn.__name__}: expected {error}, got {info.value!r}"
            assert info.value.remedy.strip()
            assert self.app.recorder.max_notification_id() == before, "a rejection wrote"
            event(f"{fn.__name__}: rejected ({error.__name__})")
            return False
        fn(*args, **kwargs)
        assert self.app.recorder.max_notification_id() > before
        event(f"{fn.__name__}: accepted")
        return True


@dataclass
class Model:
    household: UUID
    state: DeliveryState
    ready_since: datetime | None = None
    due: datetime | None = None
    overdue: bool = False
    attempts: int = 0


class DeliveryLifecycle(RuleBasedStateMachine, Attempts):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.app = GridcoreApp(memory_env(), clock=self.clock)
        self.s = given_deliveries(self.app)
        self.households = [*self.s.c.households, *self.s.young]
        self.zone = {h: self.app.household(h).micro_grid for h in self.households}
        self.priority = {h: 1 for h in self.s.c.households} | {h: 2 for h in self.s.young}
        self.model: dict[UUID, Model] = {}
        self.numbers = 0

    def teardown(self) -> None:
        self.app.close()

    def pick(self, data: st.DataObject, wanted: DeliveryState) -> UUID | None:
        """Mostly a delivery in the state the command needs, so that deep states are reached."""
        ids = sorted(self.model, key=str)
        fitting = [d for d in ids if self.model[d].state is wanted]
        if not ids:
            return None
        pool = st.sampled_from(ids)
        return data.draw(st.one_of(st.sampled_from(fitting), st.sampled_from(fitting), pool)
                         if fitting else pool)

    def number(self) -> str:
        self.numbers += 1
        return f"N-{self.numbers}"

    @initialize(z=st.integers(0, 1), dispatch=st.booleans())
    def start_with_a_donation(self, z: int, dispatch: bool) -> None:
        self.donate(z)
        if dispatch:
            self.dispatch(ZONES[z], None)

    @rule(i=st.integers(0, 5), limit=st.sampled_from([None, 1]))
    def order_buy_and_dispatch(self, i: int, limit: int | None) -> None:
        """The day's workflow in one step: an order, the central purchase, a dispatch."""
        self.place_order(i)
        self.batch_purchase(True)
        self.dispatch(COMMUNITY, limit)

    @rule(i=st.integers(0, 6))
    def place_order(self, i: int) -> None:
        no = self.number()
        known = i < len(self.households)
        h = self.households[i] if known else UUID(int=1)
        if self.attempt(None if known else NotFound, self.app.place_order, h, no,
                        [Item(name="大米", quantity=5, unit="kg")], by=System.OPERATOR):
            self.model[delivery_id(DeliveryKind.ORDER, no)] = Model(h, S.ORDERED)

    @rule(z=st.integers(0, 1))
    def donate(self, z: int) -> None:
        no = self.number()
        self.attempt(None, self.app.donate_to_scope, ZONES[z], no,
                     [Item(name="爱心菜", quantity=1)], by=System.OPERATOR)
        for h in self.households:
            if self.zone[h] == ZONES[z]:
                hno = self.app.household(h).household_no
                self.model[delivery_id(DeliveryKind.DONATION, f"{no}/{hno}")] = Model(
                    h, S.READY, ready_since=self.clock())

    @rule(by_lead=st.sampled_from([True, True, False]))
    def batch_purchase(self, by_lead: bool) -> None:
        ordered = [m for m in self.model.values() if m.state is S.ORDERED]
        error = None if ordered else InvalidInput
        if not by_lead:
            error = NotAuthorised
        if self.attempt(error, self.app.batch_purchase, COMMUNITY,
                        self.s.lead if by_lead else self.s.c.volunteer):
            for m in ordered:
                m.state, m.ready_since = S.READY, self.clock()

    @rule(scope=st.sampled_from([COMMUNITY, *ZONES]), limit=st.sampled_from([None, 1, 2]))
    def dispatch(self, scope: str, limit: int | None) -> None:
        ready = [(self.priority[m.household], m.ready_since, str(did), did)
                 for did, m in self.model.items()
                 if m.state is S.READY and scope in (COMMUNITY, self.zone[m.household])]
        if self.attempt(None if ready else InvalidInput, self.app.dispatch_deliveries, scope,
                        limit=limit, by=System.OPERATOR):
            for position, (*_, did) in enumerate(sorted(ready)[:limit], start=1):
                self.dispatched(did)
                last = list(self.app.events.get(did))[-1]
                assert last.position == position

    def dispatched(self, did: UUID) -> None:
        m = self.model[did]
        m.state, m.due, m.overdue = S.DISPATCHED, self.clock() + timedelta(
            hours=OVERDUE_HOURS), False
        m.attempts += 1

    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        did = self.pick(data, S.DISPATCHED)
        if did is None:
            return
        m = self.model[did]
        ok = m.state is S.DISPATCHED
        if self.attempt(None if ok else ForbiddenTransition, self.app.confirm_delivery, did,
                        self.s.party):
            m.state = S.DELIVERED

    @rule(data=st.data(), reason=st.sampled_from(["无人应答", "无人应答", " "]))
    def fail(self, data: st.DataObject, reason: str) -> None:
        did = self.pick(data, S.DISPATCHED)
        if did is None:
            return
        m = self.model[did]
        error = None
        if m.state is not S.DISPATCHED:
            error = ForbiddenTransition
        elif not reason.strip():
            error = InvalidInput
        if self.attempt(error, self.app.report_failed_delivery, did, reason, by=self.s.party):
            m.state = S.FAILED

    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        did = self.pick(data, S.FAILED)
        if did is None:
            return
        if self.attempt(None if self.model[did].state is S.FAILED else ForbiddenTransition,
                        self.app.redeliver, did, by=System.OPERATOR):
            self.dispatched(did)

    @rule(y=st.integers(0, 1))
    def quarantine(self, y: int) -> None:
        h = self.app.household(self.s.young[y])
        rid = next(iter(h.residents))
        already = self.priority[h.id] == 0
        if self.attempt(ForbiddenTransition if already else None, self.app.change_measure,
                        h.id, rid, Measure.HOME_QUARANTINE, self.s.c.worker, "密接"):
            self.priority[h.id] = 0

    @rule(hours=st.sampled_from([1, 12, 23, 25]))
    def advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule(seconds=st.sampled_from([-1, 0, 1]))
    def tick_at_a_due_time(self, seconds: int) -> None:
        """Go to just before, at or after the earliest due time, and tick (the boundary)."""
        dues = [m.due for m in self.model.values()
                if m.state is S.DISPATCHED and not m.overdue and m.due]
        if dues and (end := min(dues) + timedelta(seconds=seconds)) > self.clock():
            self.clock.now = end
        self.tick()

    @rule(data=st.data())
    def fail_and_redeliver(self, data: st.DataObject) -> None:
        self.fail(data, "无人应答")
        self.redeliver(data)

    @rule()
    def tick(self) -> None:
        now = self.clock()
        late = [m for m in self.model.values()
                if m.state is S.DISPATCHED and not m.overdue and m.due and m.due <= now]
        assert self.app.tick_deliveries(now) == len(late)
        for m in late:
            m.overdue = True
        assert self.app.tick_deliveries(now) == 0
        event(f"tick: {min(len(late), 2)}+ overdue")

    @invariant()
    def replay_equals_live_and_model(self) -> None:
        for did, m in self.model.items():
            live = self.app.delivery(did)
            assert state(replay(self.app, did)) == state(live)
            assert (live.state, live.attempts, live.overdue, live.household_id) == (
                m.state, m.attempts, m.overdue, m.household)
            if m.state is S.DISPATCHED:
                assert live.due == m.due
        desk = self.app.delivery_desk(COMMUNITY)
        if desk is not None:
            assert state(replay(self.app, desk_id(COMMUNITY))) == state(desk)
            assert desk.open == {d for d, m in self.model.items() if m.state is not S.DELIVERED}
            assert set(desk.due) == {d for d, m in self.model.items()
                                     if m.state is S.DISPATCHED and not m.overdue}


DeliveryLifecycle.TestCase.settings = SETTINGS
test_delivery_lifecycle = DeliveryLifecycle.TestCase
