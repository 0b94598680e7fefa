"""Sweep campaigns (拉网式排查 / 摸排) and the visits that cover households.

A campaign covers a subtree of the grid in a window and a round, with a plan from the
assignment rules. Each household of a campaign has one ``Visit`` aggregate (id derived from the
campaign and household), so field workers recording visits at once never contend on one
aggregate. A household is covered when every member is accounted for; a no-answer visit is
recorded and leaves it open for a retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import Field

from gridcore.assignment import Method
from gridcore.base import Aggregate, Created, Event, Immutable, stable_id
from gridcore.clock import check_day, check_instant
from gridcore.errors import ForbiddenTransition, InvalidInput
from gridcore.policy import Policy
from gridcore.text import free_text

FEVER_CELSIUS = 37.3


class Outcome(StrEnum):
    SEEN = "seen"
    NO_ANSWER = "no_answer"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return {"seen": "已排查 checked", "no_answer": "无人应答 no answer",
                "refused": "拒绝 refused"}[self.value]


class Visitor(Immutable):
    """Someone from elsewhere staying with the household (哪来的亲戚？云南来的)."""

    origin: str
    note: str = ""


class Arrival(Immutable):
    """A member who arrived from a risk area."""

    resident_id: UUID
    origin: str
    arrived_on: date


class VisitRecord(Immutable):
    staff_id: UUID | None
    method: Method
    at: datetime
    outcome: Outcome
    accounted: list[UUID] = Field(default_factory=list)
    reported_members: int | None = None
    temperatures: dict[UUID, float] = Field(default_factory=dict)
    household_temperature: float | None = None
    symptoms: dict[UUID, list[str]] = Field(default_factory=dict)
    visitors: list[Visitor] = Field(default_factory=list)
    close_contacts: list[UUID] = Field(default_factory=list)
    arrivals: list[Arrival] = Field(default_factory=list)
    note: str = ""


def fevers(record: VisitRecord) -> list[UUID]:
    """Members whose temperature is at or above 37.3 °C (the fever-clinic threshold the
    screening used) or who reported fever as a symptom."""
    hot = {rid for rid, t in record.temperatures.items() if t >= FEVER_CELSIUS}
    hot |= {rid for rid, s in record.symptoms.items() if any("发热" in x or "fever" in x
                                                             for x in s)}
    return sorted(hot, key=str)


def check_record(record: VisitRecord, members: set[UUID]) -> None:
    """A visit names only members of the household, with plausible temperatures; a no-answer
    visit accounts for nobody. Its note and the other texts are kept after an erasure, so
    they carry no phone or ID number (``gridcore.text``)."""
    named = (set(record.accounted) | set(record.temperatures) | set(record.symptoms)
             | set(record.close_contacts) | {a.resident_id for a in record.arrivals})
    strangers = named - members
    if strangers:
        raise InvalidInput(f"{len(strangers)} resident id(s) named in the visit are not members "
                           "of the household.", "Name only the household's registered members.")
    for t in [*record.temperatures.values(), *filter(None, [record.household_temperature])]:
        if not 34.0 <= t <= 43.0:
            raise InvalidInput(f"Temperature {t} °C is implausible.",
                               "Give the reading in °C between 34.0 and 43.0.")
    if record.outcome is not Outcome.SEEN and (record.accounted or record.temperatures):
        raise InvalidInput(f"A {record.outcome.value} visit cannot account for members.",
                           "Record outcome 'seen' when members were checked.")
    if record.method is Method.CHAT and record.staff_id is None and record.outcome is not \
            Outcome.SEEN:
        raise InvalidInput("A chat self-report is always 'seen'.", "Use outcome 'seen'.")
    free_text(record.note, "visit note", longest=2000)
    for visitor in record.visitors:
        free_text(visitor.origin, "visitor's origin", longest=200)
        free_text(visitor.note, "visitor's note")
    for origin in {a.origin for a in record.arrivals}:
        free_text(origin, "arrival's origin", longest=200)
    for symptom in {s for listed in record.symptoms.values() for s in listed}:
        free_text(symptom, "symptom", longest=200)


def visit_record(*, by: UUID | None, method: Method, outcome: Outcome,
                 visited_at: datetime | None, details: Mapping[str, Any], members: list[UUID],
                 policy: Policy, at: datetime) -> VisitRecord:
    """One attempt as recorded, checked (``record_visit`` and each row of
    ``record_visits`` alike): a 'seen' visit that lists nobody accounts for every member
    (``members``, in the household's order); the visit time lies in the policy's window and
    not in the future (default: now); the record is well-formed (``check_record``) and its
    arrival dates are days the policy accepts."""
    fields = dict(details)
    if outcome is Outcome.SEEN and "accounted" not in fields:
        fields["accounted"] = list(members)
    when = check_instant(visited_at, at, policy, "visit time") if visited_at is not None else at
    if when > at:
        raise InvalidInput("The visit is dated in the future.", "Give when it happened.")
    try:
        record = VisitRecord(staff_id=by, method=method, at=when, outcome=outcome, **fields)
    except ValueError as e:
        raise InvalidInput(f"The visit record is malformed: {e}",
                           "Check the fields of the visit.") from None
    check_record(record, set(members))
    for arrival in record.arrivals:
        check_day(arrival.arrived_on, at, policy, "arrival date")
    return record


def campaign_id(scope: str, round_no: int) -> UUID:
    return stable_id("campaign", f"{scope}#{round_no}")


def visit_id(campaign: UUID, household: UUID) -> UUID:
    return stable_id("visit", f"{campaign}/{household}")


class Visit(Aggregate):
    """All attempts to check one household in one campaign."""

    campaign_id: UUID
    household_id: UUID
    attempts: list[VisitRecord]

    class Opened(Created):
        campaign_id: UUID
        household_id: UUID

        def apply(self, v: Visit) -> None:
            v.campaign_id, v.household_id, v.attempts = self.campaign_id, self.household_id, []

    class Recorded(Event):
        household_id: UUID
        campaign_id: UUID
        record: VisitRecord

        def apply(self, v: Visit) -> None:
            v.attempts.append(self.record)

    @classmethod
    def open(cls, campaign: UUID, household: UUID, at: datetime) -> Visit:
        return cls._create(cls.Opened, visit_id(campaign, household), at,
                           campaign_id=campaign, household_id=household)

    def record(self, record: VisitRecord, at: datetime) -> None:
        self._trigger(self.Recorded, at, household_id=self.household_id,
                      campaign_id=self.campaign_id, record=record)

    def accounted(self) -> set[UUID]:
        return {rid for a in self.attempts for rid in a.accounted}

    def covered(self, members: set[UUID]) -> bool:
        """Covered when every current member has been accounted for in some attempt."""
        return bool(members) and members <= self.accounted()

    def method(self) -> Method | None:
        seen = [a for a in self.attempts if a.outcome is Outcome.SEEN]
        return seen[-1].method if seen else None


class CampaignStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Summary(Immutable):
    households: int
    covered: int
    by_method: dict[str, int]
    not_covered: dict[str, int]
    fevers: int
    close_contacts: int
    arrivals: int
    visitors: int


class Campaign(Aggregate):
    scope: str
    round_no: int
    name: str
    starts: datetime
    ends: datetime
    households: list[UUID]
    status: CampaignStatus
    window_ended: bool
    summary: Summary | None

    class Launched(Created):
        scope: str
        round_no: int
        name: str
        starts: datetime
        ends: datetime
        households: list[UUID]

        def apply(self, c: Campaign) -> None:
            c.scope, c.round_no, c.name = self.scope, self.round_no, self.name
            c.starts, c.ends, c.households = self.starts, self.ends, list(self.households)
            c.status, c.window_ended, c.summary = CampaignStatus.OPEN, False, None

    class WindowEnded(Event):
        uncovered: int

        def apply(self, c: Campaign) -> None:
            c.window_ended = True

    class Closed(Event):
        summary: Summary

        def apply(self, c: Campaign) -> None:
            c.status, c.summary = CampaignStatus.CLOSED, self.summary

    @classmethod
    def launch(cls, scope: str, round_no: int, name: str, starts: datetime, ends: datetime,
               households: list[UUID], at: datetime) -> Campaign:
        if ends <= starts:
            raise InvalidInput("The campaign window ends before it starts.",
                               "Give a window of at least one day, e.g. 3 days.")
        return cls._create(cls.Launched, campaign_id(scope, round_no), at, scope=scope,
                           round_no=round_no, name=name, starts=starts, ends=ends,
                           households=households)

    def require_open(self) -> None:
        if self.status is CampaignStatus.CLOSED:
            raise ForbiddenTransition(f"Campaign {self.name} ({self.scope} round "
                                      f"{self.round_no}) is closed.",
                                      "Record the visit in the current campaign.")

    def require_started_by(self, when: datetime) -> None:
        """A visit counts for the round only from the campaign's start: one dated before it
        (a chat report sent the morning before the round opened) belongs to no round."""
        if when < self.starts:
            raise InvalidInput(f"The visit at {when.isoformat()} is before campaign {self.name} "
                               f"started ({self.starts.isoformat()}).",
                               "Record it only if it happened after the start (a report from "
                               "before counts for no round: ask the household again).")

    def end_window(self, uncovered: int, at: datetime) -> bool:
        """Record once that the window passed with households still uncovered."""
        if self.window_ended or self.status is CampaignStatus.CLOSED or at < self.ends:
            return False
        self._trigger(self.WindowEnded, at, uncovered=uncovered)
        return True

    def close(self, summary: Summary, at: datetime) -> None:
        self.require_open()
        self._trigger(self.Closed, at, summary=summary)


def not_covered_reason(visit: Visit | None, members: set[UUID]) -> str:
    """Why a household is not covered: never visited, nobody answered, refused, or some
    members not yet accounted for."""
    if visit is None or not visit.attempts:
        return "not_visited"
    if not visit.accounted():
        outcomes = {a.outcome for a in visit.attempts}
        if Outcome.SEEN in outcomes:
            return "members_missing"
        return "refused" if Outcome.REFUSED in outcomes else "no_answer"
    missing = members - visit.accounted()
    return "members_missing" if missing else "covered"


def summarize(households: dict[UUID, set[UUID]], visits: dict[UUID, Visit]) -> Summary:
    """Covered and not covered (with reasons) households, and the findings, of a campaign."""
    by_method: dict[str, int] = {}
    not_covered: dict[str, int] = {}
    covered = fever = contacts = arrivals = visitors = 0
    for hid, members in households.items():
        visit = visits.get(hid)
        reason = not_covered_reason(visit, members)
        if reason == "covered":
            covered += 1
            method = visit.method() if visit else None
            if method is not None:
                by_method[method.value] = by_method.get(method.value, 0) + 1
        else:
            not_covered[reason] = not_covered.get(reason, 0) + 1
        for a in visit.attempts if visit else ():
            found = len(fevers(a))
            hot_household = (a.household_temperature or 0) >= FEVER_CELSIUS
            fever += found or int(hot_household)
            contacts += len(a.close_contacts)
            arrivals += len(a.arrivals)
            visitors += len(a.visitors)
    return Summary(households=len(households), covered=covered, by_method=by_method,
                   not_covered=not_covered, fevers=fever, close_contacts=contacts,
                   arrivals=arrivals, visitors=visitors)
