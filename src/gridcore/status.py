"""Resident status: two state machines (health, measure) and tags, checked against policy.

Every function here is pure: the current state, the requested change, who asks, when, and the
policy in force are all passed in.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from gridcore.base import Immutable
from gridcore.errors import ForbiddenTransition, InvalidInput, NotPermitted
from gridcore.policy import Policy
from gridcore.staff import Role
from gridcore.text import free_text


class Health(StrEnum):
    NORMAL = "normal"
    SYMPTOMATIC = "symptomatic"
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    RECOVERED = "recovered"
    DECEASED = "deceased"

    @property
    def label(self) -> str:
        return HEALTH_LABELS[self]


HEALTH_LABELS = {
    Health.NORMAL: "平安 normal",
    Health.SYMPTOMATIC: "有症状 symptomatic",
    Health.SUSPECTED: "疑似 suspected",
    Health.CONFIRMED: "确诊 confirmed",
    Health.RECOVERED: "康复 recovered",
    Health.DECEASED: "死亡 deceased",
}


class Measure(StrEnum):
    NONE = "none"
    HOME_OBSERVATION = "home_observation"
    HOME_QUARANTINE = "home_quarantine"
    CENTRALIZED_QUARANTINE = "centralized_quarantine"
    HOSPITALIZED = "hospitalized"

    @property
    def label(self) -> str:
        return MEASURE_LABELS[self]

    @property
    def rank(self) -> int:
        return list(Measure).index(self)


MEASURE_LABELS = {
    Measure.NONE: "无 none",
    Measure.HOME_OBSERVATION: "居家观察 home observation",
    Measure.HOME_QUARANTINE: "居家隔离 home quarantine",
    Measure.CENTRALIZED_QUARANTINE: "集中隔离 centralized quarantine",
    Measure.HOSPITALIZED: "住院 hospitalized",
}


class TagKind(StrEnum):
    CLOSE_CONTACT = "close_contact"
    SECONDARY_CONTACT = "secondary_contact"
    RISK_AREA_ARRIVAL = "risk_area_arrival"

    @property
    def label(self) -> str:
        return TAG_LABELS[self]


TAG_LABELS = {
    TagKind.CLOSE_CONTACT: "密接 close contact",
    TagKind.SECONDARY_CONTACT: "次密接 secondary contact",
    TagKind.RISK_AREA_ARRIVAL: "风险地区来返 arrival from a risk area",
}


class Tag(Immutable):
    kind: TagKind
    origin: str | None = None
    arrived_on: date | None = None
    note: str = ""


HEALTH_TRANSITIONS: dict[Health, frozenset[Health]] = {
    Health.NORMAL: frozenset({Health.SYMPTOMATIC, Health.SUSPECTED, Health.CONFIRMED,
                              Health.DECEASED}),
    Health.SYMPTOMATIC: frozenset({Health.NORMAL, Health.SUSPECTED, Health.CONFIRMED,
                                   Health.DECEASED}),
    Health.SUSPECTED: frozenset({Health.NORMAL, Health.CONFIRMED, Health.DECEASED}),
    Health.CONFIRMED: frozenset({Health.RECOVERED, Health.DECEASED}),
    Health.RECOVERED: frozenset({Health.SYMPTOMATIC, Health.SUSPECTED, Health.CONFIRMED,
                                 Health.DECEASED}),
    Health.DECEASED: frozenset(),
}


def check_health_change(current: Health, target: Health, role: Role | None,
                        policy: Policy) -> None:
    """Health moves only along HEALTH_TRANSITIONS; field staff may report symptoms (and clear
    their own report), every other change needs a medical role (policy.medical_roles).
    ``role`` None is no staff member: a symptom the resident reported themself (a chat
    check-in) makes them symptomatic, and nothing else."""
    if target not in HEALTH_TRANSITIONS[current]:
        allowed = ", ".join(sorted(h.value for h in HEALTH_TRANSITIONS[current])) or "none"
        raise ForbiddenTransition(
            f"Health cannot change from {current.value} to {target.value}.",
            f"From {current.value} the allowed changes are: {allowed}.",
        )
    field_change = target is Health.SYMPTOMATIC or (
        current is Health.SYMPTOMATIC and target is Health.NORMAL)
    allowed_roles = policy.medical_roles
    if field_change:
        allowed_roles = allowed_roles | policy.field_roles
    if role is None and target is not Health.SYMPTOMATIC:
        raise NotPermitted(f"Only a staff member may set health to {target.value}.",
                           "Ask a field worker or a doctor.")
    if role is not None and role not in allowed_roles:
        raise NotPermitted(
            f"A {role.value} may not set health to {target.value}.",
            f"Ask one of: {', '.join(sorted(r.value for r in allowed_roles))}.",
        )


def check_measure_change(
    *, health: Health, current: Measure, since: datetime | None, target: Measure,
    role: Role | None, at: datetime, last_negative_test: datetime | None, override_reason: str,
    policy: Policy, until: datetime | None = None,
) -> None:
    """Imposing a stricter measure needs a role in policy.impose_roles; a release (a less
    strict measure) needs a role in policy.release_roles, the period served and a recent
    negative test, unless a role in policy.override_roles gives a reason. ``role`` None is
    no staff member: the follow-up of an arrival the resident reported themself (a chat
    check-in) imposes home observation, and nothing else."""
    if health is Health.DECEASED:
        raise ForbiddenTransition("The resident is recorded as deceased.",
                                  "No measure can be imposed or released.")
    if target is current:
        raise ForbiddenTransition(f"The resident is already under {current.value}.",
                                  "Choose a different measure.")
    if role is None:
        if target is not Measure.HOME_OBSERVATION or target.rank <= current.rank:
            raise NotPermitted(f"Only a staff member may set {target.value}.",
                               "Ask one of the roles the policy names.")
        return
    if target.rank > current.rank:
        roles = policy.impose_roles.get(target, frozenset())
        if role not in roles:
            raise NotPermitted(
                f"A {role.value} may not impose {target.value}.",
                f"Ask one of: {', '.join(sorted(r.value for r in roles)) or 'nobody'}.",
            )
        return
    roles = policy.release_roles.get(current, frozenset())
    if role not in roles:
        raise NotPermitted(
            f"A {role.value} may not release a resident from {current.value}.",
            f"Ask one of: {', '.join(sorted(r.value for r in roles)) or 'nobody'}.",
        )
    if override_reason.strip():
        if role not in policy.override_roles:
            raise NotPermitted(
                f"A {role.value} may not override release requirements.",
                f"Ask one of: {', '.join(sorted(r.value for r in policy.override_roles))}.",
            )
        return
    due = measure_end(current, since, until, policy)
    if due is not None and at < due:
        length = (f"{current.value} period set by its decision" if until is not None else
                  f"{policy.quarantine_days.get(current, 0)}-day {current.value} period")
        raise ForbiddenTransition(
            f"The {length} ends {due.isoformat()}; it is not served yet.",
            "Wait until it ends, or have a family doctor release early with a reason.",
        )
    if policy.release_needs_negative_test:
        max_age = timedelta(hours=policy.negative_test_max_age_hours)
        if last_negative_test is None or not (at - max_age <= last_negative_test <= at):
            raise ForbiddenTransition(
                f"Release from {current.value} needs a negative test taken within "
                f"{policy.negative_test_max_age_hours} hours.",
                "Record a negative test result first, or have a family doctor override "
                "with a reason.",
            )


def measure_end(measure: Measure, since: datetime | None, until: datetime | None,
                policy: Policy) -> datetime | None:
    """When a measure in force ends: the end its decision set (``until``: a traced
    contact's, counted from the last exposure), else the policy's length for the measure
    from its start; None when there is no start (no measure)."""
    if until is not None:
        return until
    if since is None:
        return None
    return since + timedelta(days=policy.quarantine_days.get(measure, 0))


def check_measure_end(until: datetime, starts: datetime, *, target: Measure) -> None:
    """A measure's end set by its decision comes after its start, and only for a measure
    imposed (a release has no end)."""
    if target is Measure.NONE:
        raise InvalidInput("A release has no end date.", "Leave the end out.")
    if until <= starts:
        raise InvalidInput(f"The measure's end {until.isoformat()} is not after its start "
                           f"{starts.isoformat()}.", "Give an end after the start.")


def check_measure_start(
    *, since: datetime | None, reason: str, current: Measure, target: Measure, at: datetime,
    last_change: datetime | None, policy: Policy,
) -> datetime | None:
    """A measure recorded late (补录) may start when it actually began: ``since``, before the
    time it is recorded (``at``), by at most ``policy.measure_backdate_hours``, never before
    the resident's last measure change (it would rewrite that one), for a measure imposed
    (not a release), and with a reason saying why it is recorded late. Returns the start to
    store (None: the measure starts when recorded); its period counts from it."""
    if since is None:
        if reason.strip():
            raise InvalidInput("A reason for a past start was given without the start.",
                               "Give since (when the measure began), or leave the reason out.")
        return None
    hours = policy.measure_backdate_hours
    if target.rank < current.rank:
        raise InvalidInput(f"A release from {current.value} cannot be dated back.",
                           "Leave since out: a release takes effect when it is recorded.")
    if not reason.strip():
        raise InvalidInput("A measure dated back needs a reason (why it is recorded late).",
                           "Give sinceReason, e.g. '夜间转运后补录 recorded after a night "
                           "transfer'.")
    if since > at:
        raise InvalidInput(f"The measure's start {since.isoformat()} is after now "
                           f"({at.isoformat()}).",
                           "Give when it actually began, or leave since out to start it now.")
    if since < at - timedelta(hours=hours):
        raise InvalidInput(f"The measure's start {since.isoformat()} is more than {hours} hours "
                           "before now: a measure is dated back at most that far (the "
                           "policy's measure_backdate_hours).",
                           f"Give a start from {(at - timedelta(hours=hours)).isoformat()} on, "
                           "or record the measure from now.")
    if last_change is not None and since < last_change:
        raise InvalidInput(f"The measure's start {since.isoformat()} is before the resident's "
                           f"last measure change ({last_change.isoformat()}).",
                           f"Give a start from {last_change.isoformat()} on.")
    return since


def check_tag_reason(tag: Tag) -> None:
    """An arrival from a risk area names where from and when; the origin and the note are
    free text kept after an erasure, so they carry no phone or ID number."""
    if tag.kind is TagKind.RISK_AREA_ARRIVAL and (not tag.origin or tag.arrived_on is None):
        raise InvalidInput("An arrival from a risk area needs its origin and arrival date.",
                           "Give origin (e.g. '云南') and arrived_on (e.g. 2020-02-10).")
    free_text(tag.origin, "tag's origin", longest=100)
    free_text(tag.note, "tag's note")
