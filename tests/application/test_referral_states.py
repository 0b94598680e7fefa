"""The referral lifecycle as a state machine: random commands against a model written here from
the issue (not from the implementation). A command is accepted iff the model allows it, and a
rejected one writes nothing; ticks record each overdue referral and each escalation once; the
sites' occupancy and the residents' measures follow admissions and discharges; replaying the
stored events gives the live state."""

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
from gridcore.errors import (
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    NotPermitted,
)
from gridcore.grid import Level
from gridcore.household import resident_id
from gridcore.quarantine_site import SiteFull, site_id
from gridcore.referral import ReferralKind, ReferralState
from gridcore.referral_index import DESK_REGISTER_ID, desk_id
from gridcore.status import Measure
from tests.conftest import Clock
from tests.machines import replay, state
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, given_community

K, S, M = ReferralKind, ReferralState, Measure
HOURS = 6
CHAIN = [(Level.STREET, STREET), (Level.DISTRICT, DISTRICT), (Level.CITY, CITY)]
SITES = {"S1": 1, "S2": 2}
HOLDS = {K.CENTRALIZED_QUARANTINE: M.CENTRALIZED_QUARANTINE, K.HOSPITAL: M.HOSPITALIZED}
STRICTNESS = list(Measure)
PERSUADABLE, BEFORE_ADMISSION = {S.OPENED}, {S.OPENED, S.ACCEPTED, S.IN_TRANSPORT}
ENDED = {S.DISCHARGED, S.CLOSED, S.CANCELLED}
sites = st.sampled_from(["S1", "S1", "S2"])  # S1 has one place: full more often


@dataclass
class ModelReferral:
    resident: tuple[UUID, UUID]
    kind: ReferralKind
    state: ReferralState
    due: datetime
    site: str | None = None
    overdue: bool = False
    escalations: int = 0






class Referrals(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.app = GridcoreApp(memory_env(), clock=self.clock)
        c = given_community(self.app, households_per_zone=1)
        self.staff = {"worker": c.worker, "doctor": c.doctor, "volunteer": c.volunteer}
        for code, capacity in SITES.items():
            self.app.register_quarantine_site(code, f"隔离点{code}", STREET, capacity,
                                              by=System.OPERATOR)
        self.residents = [(h, resident_id(no, m)) for h, no in
                          zip(c.households, ["712-1-0", "712-2-0"], strict=True) for m in (1, 2)]
        self.measures = {r: M.NONE for r in self.residents}
        self.refs: dict[UUID, ModelReferral] = {}
        self.sites: dict[str, set[UUID]] = {code: set() for code in SITES}

    def teardown(self) -> None:
        self.app.close()

    # ---- helpers -------------------------------------------------------------------------

    def attempt(self, errors: set[type[GridcoreError]], fn: Any, *args: Any,
                **kwargs: Any) -> bool:
        before = self.app.recorder.max_notification_id()
        if errors:
            with pytest.raises(GridcoreError) as info:
                fn(*args, **kwargs)
            e = info.value
            assert type(e) in errors, f"{fn.__name__}: expected one of {errors}, got {e!r}"
            assert e.remedy.strip(), e
            assert self.app.recorder.max_notification_id() == before, "a rejection wrote"
            event(f"{fn.__name__}: rejected ({type(e).__name__})")
            return False
        fn(*args, **kwargs)
        assert self.app.recorder.max_notification_id() > before
        event(f"{fn.__name__}: accepted")
        return True

    def pick(self, i: int) -> tuple[UUID, ModelReferral] | None:
        if not self.refs:
            return None
        rid = sorted(self.refs, key=str)[i % len(self.refs)]
        return rid, self.refs[rid]

    def step(self, m: ModelReferral, allowed: set[ReferralState]) -> set[type[GridcoreError]]:
        return set() if m.state in allowed else {ForbiddenTransition}

    # ---- rules ---------------------------------------------------------------------------

    @initialize(kinds=st.lists(st.sampled_from(list(K)), min_size=2, max_size=2))
    def open_one_each(self, kinds: list[ReferralKind]) -> None:
        """Two close contacts for quarantine (so that a site fills), two of any kind."""
        for i, kind in enumerate([K.CENTRALIZED_QUARANTINE] * 2 + kinds):
            self.open_referral(i, kind, system=i % 2 == 0)

    @rule(i=st.integers(0, 3), kind=st.sampled_from(list(K)), system=st.booleans())
    def open_referral(self, i: int, kind: ReferralKind, system: bool) -> None:
        resident = self.residents[i]
        already = [rid for rid, m in self.refs.items()
                   if m.resident == resident and m.kind is kind and m.state not in ENDED]
        before = self.app.recorder.max_notification_id()
        opening = self.app.open_referral(*resident, kind, "密接 close contact",
                                         by=System.AUTOMATION if system else self.staff["worker"])
        if already:
            assert (opening.referral_id, opening.created) == (already[0], False)
            assert self.app.recorder.max_notification_id() == before
            event("open_referral: already open")
            return
        assert opening.created and opening.referral_id not in self.refs
        event("open_referral: opened")
        self.refs[opening.referral_id] = ModelReferral(
            resident, kind, S.OPENED, self.clock() + timedelta(hours=HOURS))

    @rule(i=st.integers(0, 10**6), minutes=st.sampled_from([0, 1, 180, 1440, 1441]))
    def record_persuasion(self, i: int, minutes: int) -> None:
        if (found := self.pick(i)) is None:
            return
        rid, m = found
        errors = self.step(m, PERSUADABLE)
        if not 1 <= minutes <= 1440:
            errors.add(InvalidInput)
        self.attempt(errors, self.app.record_persuasion, rid, self.staff["worker"], minutes,
                     "不愿意 refused")

    @rule(i=st.integers(0, 10**6))
    def accept_referral(self, i: int) -> None:
        if (found := self.pick(i)) is None:
            return
        rid, m = found
        if self.attempt(self.step(m, {S.OPENED}), self.app.accept_referral, rid,
                        self.staff["worker"], 30):
            m.state = S.ACCEPTED

    @rule(i=st.integers(0, 10**6))
    def dispatch_transport(self, i: int) -> None:
        if (found := self.pick(i)) is None:
            return
        rid, m = found
        if self.attempt(self.step(m, {S.ACCEPTED}), self.app.dispatch_transport, rid,
                        self.staff["worker"], "120转运车"):
            m.state = S.IN_TRANSPORT

    @rule(i=st.integers(0, 10**6), site=sites,
          who=st.sampled_from(["doctor", "doctor", "worker", "volunteer"]))
    def admit(self, i: int, site: str, who: str) -> None:
        if (found := self.pick(i)) is None:
            return
        rid, m = found
        errors = self.step(m, {S.IN_TRANSPORT})
        to_site = m.kind is K.CENTRALIZED_QUARANTINE
        if not errors and to_site and len(self.sites[site]) >= SITES[site]:
            errors.add(SiteFull)
        held, current = HOLDS.get(m.kind), self.measures[m.resident]
        if who == "volunteer":
            errors = {NotAuthorised}  # the authority table: a volunteer takes no admission
        elif not errors and held is not None and held is not current:
            if who != "doctor":
                errors.add(NotPermitted)  # impose: doctor; release from hospital: doctor
            elif STRICTNESS.index(held) < STRICTNESS.index(current):
                errors.add(ForbiddenTransition)  # a release needs a negative test: none here
        kwargs = {"site_code": site} if to_site else {"destination": "区人民医院"}
        if self.attempt(errors, self.app.admit, rid, self.staff[who], **kwargs):
            m.state = S.ADMITTED
            if to_site:
                m.site = site
                self.sites[site].add(rid)
            if held is not None:
                self.measures[m.resident] = held

    @rule(i=st.integers(0, 10**6), to=st.sampled_from([M.NONE, M.HOME_OBSERVATION,
                                                        M.HOSPITALIZED]),
          who=st.sampled_from(["doctor", "doctor", "worker"]), override=st.booleans())
    def discharge(self, i: int, to: Measure, who: str, override: bool) -> None:
        if (found := self.pick(i)) is None:
            return
        rid, m = found
        held = HOLDS.get(m.kind)
        errors = self.step(m, {S.ADMITTED} if held else set())
        releases = False
        if not errors:
            assert held is not None
            if STRICTNESS.index(to) >= STRICTNESS.index(held):
                errors.add(InvalidInput)
            elif self.measures[m.resident] is held:
                releases = True
                if who != "doctor":
                    errors.add(NotPermitted)
                elif not override:
                    errors.add(ForbiddenTransition)  # no negative test is ever recorded here
        if self.attempt(errors, self.app.discharge, rid, self.staff[who], "解除 released",
                        release_to=to, override_reason="医嘱 doctor's call" if override else ""):
            m.state = S.DISCHARGED
            if m.site:
                self.sites[m.site].discard(rid)
            if releases:
                self.measures[m.resident] = to
            else:
                event("discharge: the measure had moved on")

    @rule(i=st.integers(0, 10**6))
    def close_referral(self, i: int) -> None:
        if (found := self.pick(i)) is None:
            return
        rid, m = found
        errors = self.step(m, {S.ADMITTED} if m.kind is K.FEVER_CLINIC else set())
        if self.attempt(errors, self.app.close_referral, rid, self.staff["doctor"], "排除"):
            m.state = S.CLOSED

    @rule(i=st.integers(0, 10**6), system=st.booleans())
    def cancel_referral(self, i: int, system: bool) -> None:
        if (found := self.pick(i)) is None:
            return
        rid, m = found
        if self.attempt(self.step(m, BEFORE_ADMISSION), self.app.cancel_referral, rid,
                        System.AUTOMATION if system else self.staff["worker"], "核实排除"):
            m.state = S.CANCELLED

    @rule(i=st.integers(0, 10**6), steps=st.integers(1, 4), site=sites,
          to=st.sampled_from([M.NONE, M.HOME_OBSERVATION, M.NONE, M.HOSPITALIZED]),
          who=st.sampled_from(["doctor", "doctor", "doctor", "volunteer"]),
          override=st.sampled_from([True, True, False]))
    def progress(self, i: int, steps: int, site: str, to: Measure, who: str,
                 override: bool) -> None:
        """Take a referral's next forward steps, so that deep states are reached often."""
        for _ in range(steps):
            if (found := self.pick(i)) is None:
                return
            m = found[1]
            if m.state is S.OPENED:
                self.accept_referral(i)
            elif m.state is S.ACCEPTED:
                self.dispatch_transport(i)
            elif m.state is S.IN_TRANSPORT:
                self.admit(i, site, who)
            elif m.state is S.ADMITTED and m.kind is K.FEVER_CLINIC:
                self.close_referral(i)
            elif m.state is S.ADMITTED:
                self.discharge(i, to, "worker" if who == "volunteer" else who, override)

    @rule(hours=st.sampled_from([1, 5, 6, 7, 13]))
    def advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule(seconds=st.sampled_from([-1, 0, 1]), i=st.integers(0, 10**6))
    def advance_to_a_deadline(self, seconds: int, i: int) -> None:
        """Go to just before, at or after a referral's next escalation time (boundaries)."""
        if (found := self.pick(i)) is None:
            return
        m = found[1]
        at = m.due + timedelta(hours=HOURS * m.escalations, seconds=seconds)
        if at > self.clock():
            self.clock.now = at

    @rule()
    def tick(self) -> None:
        now = self.clock()
        newly = 0
        for m in self.refs.values():
            if m.state not in (S.OPENED, S.ACCEPTED) or now <= m.due:
                continue
            newly += not m.overdue
            m.overdue = True
            periods = -((m.due - now) // timedelta(hours=HOURS))
            m.escalations = max(m.escalations, min(len(CHAIN), periods))
        assert self.app.tick_referrals(now) == newly
        event(f"tick: {newly} newly overdue")
        before = self.app.recorder.max_notification_id()
        assert self.app.tick_referrals(now) == 0
        assert self.app.recorder.max_notification_id() == before, "a second tick wrote"

    # ---- invariants ----------------------------------------------------------------------

    @invariant()
    def live_equals_model_and_replay(self) -> None:
        app = self.app
        for rid, m in self.refs.items():
            live = app.referral(rid)
            assert state(replay(app, rid)) == state(live)
            assert (live.state, live.kind, live.site_code, live.overdue) == (
                m.state, m.kind, m.site, m.overdue)
            assert [(e.level, e.node_code) for e in live.escalations] == CHAIN[:m.escalations]
        for code, occupants in self.sites.items():
            site = app.quarantine_site_by_code(code)
            assert state(replay(app, site_id(code))) == state(site)
            assert set(site.occupants) == occupants and site.free == SITES[code] - len(occupants)
        for hid in {h for h, _ in self.residents}:
            household = app.household(hid)
            assert state(replay(app, hid)) == state(household)
        for (hid, r), measure in self.measures.items():
            assert app.household(hid).residents[r].measure is measure
        open_ids = {rid for rid, m in self.refs.items() if m.state not in ENDED}
        assert {r.id for r in app.open_referrals(COMMUNITY)} == open_ids
        if self.refs:
            assert state(replay(app, desk_id(COMMUNITY))) == state(
                app.repository.get(desk_id(COMMUNITY)))
            assert app.repository.get(DESK_REGISTER_ID).communities == [COMMUNITY]


Referrals.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])
test_referral_lifecycle = Referrals.TestCase
