"""A referral (转介): a resident found in a sweep is persuaded and sent on to a centralized
quarantine site (集中隔离点), a fever clinic (发热门诊) or a hospital.

The seeds: a close contact was persuaded (once it took 3 hours) and sent to a quarantine site;
a fever case goes to a fever clinic. A referral is opened, persuaded, accepted, transported,
admitted, and ends discharged (quarantine, hospital), closed (fever clinic) or cancelled.
A referral not transported within the policy's hours is overdue and escalates up the grid.

Its index aggregates live in ``referral_index``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, Immutable, stable_id
from gridcore.errors import ForbiddenTransition, InvalidInput, parse_enum
from gridcore.grid import Level
from gridcore.status import Health, Measure
from gridcore.text import refuse_personal_numbers


class ReferralKind(StrEnum):
    CENTRALIZED_QUARANTINE = "centralized_quarantine"
    FEVER_CLINIC = "fever_clinic"
    HOSPITAL = "hospital"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    ReferralKind.CENTRALIZED_QUARANTINE: "集中隔离 centralized quarantine",
    ReferralKind.FEVER_CLINIC: "发热门诊 fever clinic",
    ReferralKind.HOSPITAL: "医院 hospital",
}


class ReferralState(StrEnum):
    OPENED = "opened"
    ACCEPTED = "accepted"
    IN_TRANSPORT = "in_transport"
    ADMITTED = "admitted"
    DISCHARGED = "discharged"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    ReferralState.OPENED: "待转介 opened",
    ReferralState.ACCEPTED: "已同意 accepted",
    ReferralState.IN_TRANSPORT: "转运中 in transport",
    ReferralState.ADMITTED: "已收治 admitted",
    ReferralState.DISCHARGED: "已解除 discharged",
    ReferralState.CLOSED: "已办结 closed",
    ReferralState.CANCELLED: "已撤销 cancelled",
}

ENDED = frozenset({ReferralState.DISCHARGED, ReferralState.CLOSED, ReferralState.CANCELLED})


class Step(StrEnum):
    PERSUADE = "record_persuasion"
    ACCEPT = "accept_referral"
    DISPATCH = "dispatch_transport"
    ADMIT = "admit"
    DISCHARGE = "discharge"
    CLOSE = "close_referral"
    CANCEL = "cancel_referral"

    @property
    def mutation(self) -> str:
        """The API mutation that takes this step (a remedy names it, not the command)."""
        return STEP_MUTATIONS[self]


STEP_MUTATIONS = {
    Step.PERSUADE: "recordPersuasion", Step.ACCEPT: "acceptReferral",
    Step.DISPATCH: "dispatchTransport", Step.ADMIT: "admitReferral",
    Step.DISCHARGE: "dischargeReferral", Step.CLOSE: "closeReferral",
    Step.CANCEL: "cancelReferral",
}


_S = ReferralState
STEPS: dict[ReferralState, frozenset[Step]] = {
    _S.OPENED: frozenset({Step.PERSUADE, Step.ACCEPT, Step.CANCEL}),
    _S.ACCEPTED: frozenset({Step.DISPATCH, Step.CANCEL}),
    _S.IN_TRANSPORT: frozenset({Step.ADMIT, Step.CANCEL}),
    _S.ADMITTED: frozenset({Step.DISCHARGE, Step.CLOSE}),
    _S.DISCHARGED: frozenset(),
    _S.CLOSED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def admission_measure(kind: ReferralKind) -> Measure | None:
    """Admission to a quarantine site puts the resident under centralized quarantine and a
    hospital admission makes them hospitalized; a fever-clinic visit imposes no measure."""
    return {ReferralKind.CENTRALIZED_QUARANTINE: Measure.CENTRALIZED_QUARANTINE,
            ReferralKind.HOSPITAL: Measure.HOSPITALIZED}.get(kind)


def allowed_steps(state: ReferralState, kind: ReferralKind) -> frozenset[Step]:
    """The lifecycle table STEPS, where an admitted referral that holds a measure ends by
    discharge (the measure is released) and a fever-clinic visit ends by closing."""
    steps = STEPS[state]
    if state is ReferralState.ADMITTED:
        steps -= {Step.CLOSE} if admission_measure(kind) else {Step.DISCHARGE}
    return steps


def check_step(state: ReferralState, kind: ReferralKind, step: Step) -> None:
    """A step is taken only where ``allowed_steps`` lists it."""
    allowed = allowed_steps(state, kind)
    if step not in allowed:
        remedy = (f"From {state.value} the allowed steps are the mutations "
                  f"{', '.join(sorted(s.mutation for s in allowed))}." if allowed
                  else f"A {state.value} referral is finished; open a new one if needed.")
        raise ForbiddenTransition(
            f"A {kind.value} referral that is {state.value} ({state.label}) cannot take the "
            f"step {step.mutation}.", remedy)


def check_can_open(health: Health) -> None:
    """Nobody refers a resident recorded as deceased."""
    if health is Health.DECEASED:
        raise ForbiddenTransition("The resident is recorded as deceased.",
                                  "Do not open a referral; correct the health record if wrong.")


def check_text(text: str, what: str, example: str, required: bool = True,
               max_len: int = 200) -> str:
    """Free text on a referral is at most ``max_len`` characters, present when required, and
    never carries a phone or ID number (``gridcore.text``: personal numbers stay in sealed
    fields)."""
    value = text.strip() if isinstance(text, str) else ""
    if not isinstance(text, str) or (required and not value) or len(value) > max_len:
        raise InvalidInput(f"The {what} is missing or longer than {max_len} characters.",
                           f"Give a short {what}, e.g. {example!r}.")
    refuse_personal_numbers(value, what)
    return value


MAX_MINUTES = 24 * 60


def check_minutes(minutes: int, allow_zero: bool) -> None:
    """Time spent persuading is whole minutes, up to a day per attempt (the seeds: 3 hours)."""
    low = 0 if allow_zero else 1
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not (
            low <= minutes <= MAX_MINUTES):
        raise InvalidInput(f"{minutes!r} minutes is not a persuasion time.",
                           f"Give whole minutes from {low} to {MAX_MINUTES}, e.g. 180 for "
                           "3 hours.")


def check_destination(kind: ReferralKind, site_code: str | None,
                      destination: str | None) -> None:
    """A quarantine referral is admitted to a registered site (by code); a fever-clinic or
    hospital referral names where the resident was received."""
    if kind is ReferralKind.CENTRALIZED_QUARANTINE:
        if not site_code or destination is not None:
            raise InvalidInput("A centralized-quarantine admission needs a site code only.",
                               "Give site_code of a registered 集中隔离点 quarantine site.")
    elif site_code is not None or not destination:
        raise InvalidInput(f"A {kind.value} admission names its destination, not a site.",
                           "Give destination, e.g. '区人民医院发热门诊'.")


def check_release_to(held: Measure, release_to: Measure) -> None:
    """A discharge releases to a less strict measure than the one the admission imposed."""
    if release_to.rank >= held.rank:
        raise InvalidInput(
            f"A discharge from {held.value} cannot leave the resident under {release_to.value}.",
            "Release to a less strict measure, e.g. none or home_observation.")


def escalations_due(due: datetime, hours: int, now: datetime, levels: int) -> int:
    """How many escalation steps are due at ``now``: the first once the transport deadline
    has passed, one more for each further deadline period begun, at most ``levels`` (the
    issue: overdue referrals go up community → street → district → city)."""
    if now <= due:
        return 0
    period = timedelta(hours=hours)
    return min(levels, -((due - now) // period))


def referral_id(resident_id: UUID, kind: ReferralKind, number: int) -> UUID:
    return stable_id("referral", f"{resident_id}:{kind.value}:{number}")


class Persuasion(Immutable):
    at: datetime
    by: UUID
    minutes: int
    refused_reason: str = ""


class Escalation(Immutable):
    level: Level
    node_code: str
    due: datetime
    at: datetime


class Referral(Aggregate):
    """One resident sent on once; ``label`` is what people see."""

    label = "转介 referral"

    household_id: UUID
    resident_id: UUID
    kind: ReferralKind
    reason: str
    opened_by: UUID | None
    community_code: str
    transport_hours: int
    transport_due: datetime
    state: ReferralState
    persuasions: list[Persuasion]
    vehicle: str
    escort: str
    site_code: str | None
    destination: str | None
    held_measure: Measure | None
    ended_reason: str
    overdue: bool
    escalations: list[Escalation]

    class Opened(Created):
        household_id: UUID
        resident_id: UUID
        kind: ReferralKind
        reason: str
        by: UUID | None
        community_code: str
        transport_hours: int
        transport_due: datetime

        def apply(self, r: Referral) -> None:
            r.household_id, r.resident_id, r.kind = self.household_id, self.resident_id, self.kind
            r.reason, r.opened_by, r.community_code = self.reason, self.by, self.community_code
            r.transport_hours, r.transport_due = self.transport_hours, self.transport_due
            r.state, r.persuasions, r.escalations = ReferralState.OPENED, [], []
            r.vehicle = r.escort = r.ended_reason = ""
            r.site_code = r.destination = r.held_measure = None
            r.overdue = False

    class PersuasionRecorded(Event):
        by: UUID
        minutes: int
        refused_reason: str

        def apply(self, r: Referral) -> None:
            r.persuasions.append(Persuasion(at=self.timestamp, by=self.by, minutes=self.minutes,
                                            refused_reason=self.refused_reason))

    class Accepted(Event):
        by: UUID
        minutes: int
        note: str

        def apply(self, r: Referral) -> None:
            r.state = ReferralState.ACCEPTED
            if self.minutes:
                r.persuasions.append(Persuasion(at=self.timestamp, by=self.by,
                                                minutes=self.minutes))

    class TransportDispatched(Event):
        by: UUID
        vehicle: str
        escort: str

        def apply(self, r: Referral) -> None:
            r.state, r.vehicle, r.escort = ReferralState.IN_TRANSPORT, self.vehicle, self.escort

    class Admitted(Event):
        by: UUID
        site_code: str | None
        destination: str | None
        measure: Measure | None

        def apply(self, r: Referral) -> None:
            r.state, r.site_code, r.destination = (ReferralState.ADMITTED, self.site_code,
                                                   self.destination)
            r.held_measure = self.measure

    class Discharged(Event):
        by: UUID
        reason: str
        released_to: Measure | None

        def apply(self, r: Referral) -> None:
            r.state, r.ended_reason = ReferralState.DISCHARGED, self.reason

    class Closed(Event):
        by: UUID
        outcome: str

        def apply(self, r: Referral) -> None:
            r.state, r.ended_reason = ReferralState.CLOSED, self.outcome

    class Cancelled(Event):
        by: UUID | None
        reason: str

        def apply(self, r: Referral) -> None:
            r.state, r.ended_reason = ReferralState.CANCELLED, self.reason

    class BecameOverdue(Event):
        due: datetime

        def apply(self, r: Referral) -> None:
            r.overdue = True

    class Escalated(Event):
        level: Level
        node_code: str
        due: datetime

        def apply(self, r: Referral) -> None:
            r.escalations.append(Escalation(level=self.level, node_code=self.node_code,
                                            due=self.due, at=self.timestamp))

    @classmethod
    def open(cls, rid: UUID, household_id: UUID, resident_id: UUID, kind: ReferralKind,
             reason: str, by: UUID | None, community_code: str, transport_hours: int,
             at: datetime) -> Referral:
        return cls._create(
            cls.Opened, rid, at, household_id=household_id, resident_id=resident_id, kind=kind,
            reason=check_text(reason, "reason", "密接 close contact, 云南来的亲戚"), by=by,
            community_code=community_code, transport_hours=transport_hours,
            transport_due=at + timedelta(hours=transport_hours))

    @property
    def is_open(self) -> bool:
        return self.state not in ENDED

    @property
    def awaiting_transport(self) -> bool:
        return self.state in (ReferralState.OPENED, ReferralState.ACCEPTED)

    @property
    def persuasion_minutes(self) -> int:
        return sum(p.minutes for p in self.persuasions)

    def record_persuasion(self, by: UUID, minutes: int, refused_reason: str,
                          at: datetime) -> None:
        check_step(self.state, self.kind, Step.PERSUADE)
        check_minutes(minutes, allow_zero=False)
        reason = check_text(refused_reason, "refusal reason", "担心家里老人 worried about parents")
        self._trigger(self.PersuasionRecorded, at, by=by, minutes=minutes, refused_reason=reason)

    def accept(self, by: UUID, minutes: int, note: str, at: datetime) -> None:
        check_step(self.state, self.kind, Step.ACCEPT)
        check_minutes(minutes, allow_zero=True)
        note = check_text(note, "note", "同意转运 agreed", required=False)
        self._trigger(self.Accepted, at, by=by, minutes=minutes, note=note)

    def dispatch(self, by: UUID, vehicle: str, escort: str, at: datetime) -> None:
        check_step(self.state, self.kind, Step.DISPATCH)
        vehicle = check_text(vehicle, "vehicle", "120转运车 ambulance", max_len=60)
        escort = check_text(escort, "escort note", "社区民警陪同 police escort", required=False)
        self._trigger(self.TransportDispatched, at, by=by, vehicle=vehicle, escort=escort)

    def admit(self, by: UUID, site_code: str | None, destination: str | None,
              at: datetime) -> None:
        check_step(self.state, self.kind, Step.ADMIT)
        check_destination(self.kind, site_code, destination)
        if destination is not None:
            destination = check_text(destination, "destination", "区人民医院", max_len=60)
        self._trigger(self.Admitted, at, by=by, site_code=site_code, destination=destination,
                      measure=admission_measure(self.kind))

    def discharge_terms(self, release_to: Measure | str, reason: str,
                        override_reason: str) -> tuple[Measure, Measure, str, str]:
        """Check a discharge before the household decides the release: a referral that holds
        a measure, admitted, released to a less strict measure, with a reason. Returns the
        measure held, the one released to, and the reasons as stored."""
        check_step(self.state, self.kind, Step.DISCHARGE)
        target = parse_enum(Measure, release_to, "measure")
        held = self.held_measure
        assert held is not None  # only referrals that hold a measure are discharged
        check_release_to(held, target)
        reason = check_text(reason, "reason", "期满解除 period served")
        override_reason = check_text(override_reason, "override reason",
                                     "复核阴性 negative on review", required=False)
        return held, target, reason, override_reason

    def discharge(self, by: UUID, reason: str, released_to: Measure | None,
                  at: datetime) -> None:
        check_step(self.state, self.kind, Step.DISCHARGE)
        reason = check_text(reason, "reason", "期满解除 period served")
        self._trigger(self.Discharged, at, by=by, reason=reason, released_to=released_to)

    def close(self, by: UUID, outcome: str, at: datetime) -> None:
        check_step(self.state, self.kind, Step.CLOSE)
        outcome = check_text(outcome, "outcome", "排除 ruled out, 回家 went home")
        self._trigger(self.Closed, at, by=by, outcome=outcome)

    def cancel(self, by: UUID | None, reason: str, at: datetime) -> None:
        check_step(self.state, self.kind, Step.CANCEL)
        reason = check_text(reason, "reason", "核实排除 contact ruled out")
        self._trigger(self.Cancelled, at, by=by, reason=reason)

    def escalate(self, chain: list[tuple[Level, str]], now: datetime) -> bool:
        """Record what became due at ``now`` (overdue once, then each escalation step once);
        returns whether the referral newly became overdue. ``chain`` lists the levels above
        the owning community, nearest first."""
        if not self.awaiting_transport:
            return False
        steps = escalations_due(self.transport_due, self.transport_hours, now, len(chain))
        newly = steps > 0 and not self.overdue
        if newly:
            self._trigger(self.BecameOverdue, now, due=self.transport_due)
        period = timedelta(hours=self.transport_hours)
        for n in range(len(self.escalations), steps):
            level, code = chain[n]
            self._trigger(self.Escalated, now, level=level, node_code=code,
                          due=self.transport_due + n * period)
        return newly

    def __repr__(self) -> str:
        return f"Referral(kind={self.kind.value}, state={self.state.value}, id={self.id})"
