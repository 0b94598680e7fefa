"""What a sweep finding sets in motion (the process manager's decisions).

A recorded visit is read back from the event log; each finding becomes follow-up commands:
a fever or any other symptom makes the member symptomatic and opens a fever-clinic referral
(发热门诊), a close contact is tagged and referred to centralized quarantine (集中隔离), an
arrival from a risk area is tagged and placed under home observation. A visitor from elsewhere
is no registered member, so there is nobody to tag: the visit keeps where they came from,
and the household's timeline entry of the visit, the worker's work list of the round and the
campaign's coverage count them (``projections``: ``household_timeline``,
``queries.work_list``, ``sweep_coverage``), for the grid worker to follow up. The decisions
are pure; the follow-ups carry client ids derived from the visit event, so processing the same
event twice applies them once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.sweep import VisitRecord, fevers


class Action(StrEnum):
    SYMPTOMATIC = "symptomatic"
    TAG_CLOSE_CONTACT = "tag_close_contact"
    TAG_ARRIVAL = "tag_arrival"
    HOME_OBSERVATION = "home_observation"
    REFER_FEVER_CLINIC = "refer_fever_clinic"
    REFER_QUARANTINE = "refer_quarantine"


@dataclass(frozen=True)
class FollowUp:
    action: Action
    household_id: UUID
    resident_id: UUID
    by: UUID | None
    reason: str
    origin: str = ""
    arrived_on: datetime | None = None

    def client_id(self, event_id: str) -> str:
        return f"finding:{event_id}:{self.action.value}:{self.resident_id}"


def symptomatic(record: VisitRecord) -> list[UUID]:
    """Members the visit found with a fever (``sweep.fevers``) or any symptom reported."""
    return sorted(set(fevers(record)) | {rid for rid, s in record.symptoms.items() if s},
                  key=str)


def _symptom_reason(record: VisitRecord, rid: UUID) -> str:
    if rid in fevers(record):
        t = record.temperatures.get(rid)
        return f"排查发现发热 fever found in sweep{f' ({t} °C)' if t else ''}"
    listed = "、".join(record.symptoms.get(rid, []))
    return f"排查发现症状 symptoms found in sweep ({listed[:120]})"


def follow_ups(household_id: UUID, record: VisitRecord) -> list[FollowUp]:
    """The follow-ups of one visit: fever or another symptom → symptomatic + fever clinic;
    close contact → tag + centralized quarantine referral; arrival from a risk area → tag +
    home observation (the 14-day practice of the seeds). Visitors need no command (see
    above)."""
    by = record.staff_id
    out: list[FollowUp] = []
    for rid in symptomatic(record):
        reason = _symptom_reason(record, rid)
        out.append(FollowUp(Action.SYMPTOMATIC, household_id, rid, by, reason))
        out.append(FollowUp(Action.REFER_FEVER_CLINIC, household_id, rid, by, reason))
    for rid in sorted(set(record.close_contacts), key=str):
        reason = "排查发现密接 close contact found in sweep"
        out.append(FollowUp(Action.TAG_CLOSE_CONTACT, household_id, rid, by, reason))
        out.append(FollowUp(Action.REFER_QUARANTINE, household_id, rid, by, reason))
    for a in record.arrivals:
        reason = f"风险地区来返 arrival from {a.origin}"
        when = datetime.combine(a.arrived_on, datetime.min.time())
        out.append(FollowUp(Action.TAG_ARRIVAL, household_id, a.resident_id, by, reason,
                            a.origin, when))
        out.append(FollowUp(Action.HOME_OBSERVATION, household_id, a.resident_id, by, reason))
    return out


FINDINGS_PROCESS_ID = stable_id("process", "sweep-findings")


class FindingsProcess(Aggregate):
    """The position of the findings process manager in the event log, and what it could not
    apply (a follow-up the policy forbade, with the reason)."""

    position: int
    skipped: list[tuple[int, str, str]]

    class Started(Created):
        def apply(self, p: FindingsProcess) -> None:
            p.position, p.skipped = 0, []

    class Advanced(Event):
        position: int
        skipped: list[tuple[int, str, str]] = []

        def apply(self, p: FindingsProcess) -> None:
            p.position = self.position
            p.skipped.extend(self.skipped)

    @classmethod
    def start(cls, at: datetime) -> FindingsProcess:
        return cls._create(cls.Started, FINDINGS_PROCESS_ID, at)

    def advance(self, position: int, skipped: list[tuple[int, str, str]], at: datetime) -> None:
        if position > self.position:
            self._trigger(self.Advanced, at, position=position, skipped=skipped)
