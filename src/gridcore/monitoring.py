"""Health monitoring during a measure (健康监测): daily reports until release.

A resident under a measure the policy monitors (home observation, home quarantine,
centralized quarantine: ``Policy.monitoring_measures``) is followed by one ``Monitoring`` per
measure period, its id derived from the resident and the measure's start, so starting it twice
(the process and a worker) starts it once. Its schedule is fixed when it starts, from the
policy then in force: the local report times (08:00 and 20:00 at UTC+8 by default) from when
monitoring starts (a report time before it was owed to nobody: the resident could not report
yet) until the measure ends (``Household.measure_ends``); an extended measure extends it.

Reports come from the resident (by chat or app), a staff member's visit or phone call, or the
quarantine site's staff. Each report counts for one report time: the first whose deadline (its
time plus the policy's grace) it is not after (``slot_for``), so the periods between deadlines
split the day without overlap. A report time whose deadline passed with no report is flagged
missed once (``missed``), to the micro-grid's responsible worker; when the resident has not
been heard from since, the flag opens an overdue item that escalates a level (micro-grid ->
community -> street -> district -> city) every ``monitoring_escalation_hours`` until a report
comes, dated when each step fell due as requests are; at the city it is recorded once more
and stops. A reading at or above the policy's fever threshold, or any symptom, is abnormal
(``abnormal``): the application follows it up as a sweep's finding (symptomatic and a
fever-clinic referral, ``gridcore.findings``). A resident who cannot report themself (no
smartphone, living alone, 65+: ``Policy.monitoring_assisted_vulnerabilities``) is assisted:
their reports are a staff member's visit or call, on the worker's list.

When the period ends the resident is listed for release with what the policy still requires
(``release_requirements``: a negative test within N hours, the decision of a role that may
release); the release itself is the household's ``change_measure``, and it ends the
monitoring. Every rule here is a pure function with the time and the policy passed in; every
decision records who took it (None: the system's own process, or the resident themself).

The aggregate holds ids, times, readings and symptom words (free text without phone or ID
numbers, as a visit's), no name, phone or address: nothing of it is sealed or erased.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, Immutable, stable_id
from gridcore.errors import ForbiddenTransition, InvalidInput
from gridcore.findings import Action, FollowUp
from gridcore.grid import Level
from gridcore.household import Vulnerability
from gridcore.policy import Policy
from gridcore.staff import ROLE_LABELS, Role
from gridcore.status import Measure
from gridcore.text import free_text

LOWEST_CELSIUS, HIGHEST_CELSIUS = 34.0, 43.0
LONGEST_DAYS = 400
"""A schedule is cut after this many days (a measure's end set by its decision has no
bound of its own)."""


class ReportSource(StrEnum):
    RESIDENT_CHAT = "resident_chat"
    RESIDENT_APP = "resident_app"
    STAFF_VISIT = "staff_visit"
    STAFF_PHONE = "staff_phone"
    SITE_STAFF = "site_staff"

    @property
    def label(self) -> str:
        return SOURCE_LABELS[self]

    @property
    def by_staff(self) -> bool:
        return self in (ReportSource.STAFF_VISIT, ReportSource.STAFF_PHONE,
                        ReportSource.SITE_STAFF)


SOURCE_LABELS = {
    ReportSource.RESIDENT_CHAT: "群内自报 resident by chat",
    ReportSource.RESIDENT_APP: "小程序自报 resident by app",
    ReportSource.STAFF_VISIT: "上门测温 staff visit",
    ReportSource.STAFF_PHONE: "电话随访 staff phone call",
    ReportSource.SITE_STAFF: "隔离点上报 quarantine site staff",
}


class AssistMethod(StrEnum):
    VISIT = "visit"
    PHONE = "phone"

    @property
    def label(self) -> str:
        return {"visit": "上门 visit", "phone": "电话 phone call"}[self.value]


class RequirementKind(StrEnum):
    NEGATIVE_TEST = "negative_test"
    DECISION = "decision"


class ReleaseRequirement(Immutable):
    """What the policy requires before a release: a negative test taken within ``hours``,
    or the decision of one of ``roles``."""

    kind: RequirementKind
    hours: int | None = None
    roles: tuple[Role, ...] = ()

    @property
    def label(self) -> str:
        if self.kind is RequirementKind.NEGATIVE_TEST:
            return f"{self.hours}小时内核酸阴性 a negative test within {self.hours} hours"
        who = "、".join(ROLE_LABELS[r] for r in self.roles) or "nobody"
        return f"解除决定 released by: {who}"


class Report(Immutable):
    """A report as received: when taken, from where, what it said, who recorded it (None:
    the resident themself through a system door) and the report time it counts for."""

    taken_at: datetime
    source: ReportSource
    temperature: float | None
    symptoms: tuple[str, ...]
    by: UUID | None
    slot: datetime | None
    abnormal: str = ""


class Overdue(Immutable):
    """A resident not heard from since a missed report: who owns it now and when it next
    escalates (None: recorded at the city, nothing more)."""

    since: datetime
    owner_code: str
    level: Level
    escalates_at: datetime | None
    escalations: int = 0


def monitoring_id(resident_id: UUID, measure_start: datetime) -> UUID:
    return stable_id("monitoring", f"{resident_id}@{measure_start.astimezone(UTC).isoformat()}")


# ---- the rules ---------------------------------------------------------------------------------

def is_monitored(measure: Measure, policy: Policy) -> bool:
    """A measure the policy follows with reports (居家观察, 居家隔离, 集中隔离 by default)."""
    return measure.value in policy.monitoring_measures


def report_times(times: Sequence[str], offset_minutes: int, starts: datetime,
                 ends: datetime | None) -> list[datetime]:
    """The report times of a schedule (UTC): each local time of day (HH:MM at UTC+offset) at
    or after ``starts`` and before ``ends``, every day; none without an end."""
    if ends is None or ends <= starts:
        return []
    zone = timezone(timedelta(minutes=offset_minutes))
    clocks = sorted({time.fromisoformat(t) for t in times})
    day, last = starts.astimezone(zone).date(), starts + timedelta(days=LONGEST_DAYS)
    out: list[datetime] = []
    while True:
        for c in clocks:
            due = datetime.combine(day, c, zone)
            if due >= ends or due > last:
                return out
            if due >= starts:
                out.append(due.astimezone(UTC))
        day += timedelta(days=1)


def local_day(when: datetime, offset_minutes: int) -> date:
    """The calendar day ``when`` falls on at UTC+offset."""
    return when.astimezone(timezone(timedelta(minutes=offset_minutes))).date()


def slot_for(due: Sequence[datetime], grace: timedelta, taken_at: datetime) -> datetime | None:
    """The report time a report taken at ``taken_at`` counts for: the first whose deadline
    (the time plus the grace) it is not after; None after the last deadline."""
    return next((d for d in due if taken_at <= d + grace), None)


def missed(due: Sequence[datetime], met: Iterable[datetime], flagged: Iterable[datetime],
           grace: timedelta, now: datetime) -> list[datetime]:
    """Report times whose deadline passed before ``now`` with no report counted for them,
    not flagged yet: each is flagged once."""
    done = set(met) | set(flagged)
    return [d for d in due if d + grace < now and d not in done]


def abnormal(temperature: float | None, symptoms: Sequence[str], policy: Policy) -> str:
    """Why a reading is abnormal ('' when it is not): a temperature at or above the policy's
    fever threshold (37.3 °C by default), or any symptom."""
    reasons = []
    if temperature is not None and temperature >= policy.monitoring_fever_celsius:
        reasons.append(f"体温 {temperature} °C ≥ {policy.monitoring_fever_celsius} °C fever")
    if symptoms:
        reasons.append(f"症状 symptoms ({'、'.join(symptoms)[:120]})")
    return "; ".join(reasons)


def follow_ups(household_id: UUID, resident_id: UUID, reason: str) -> list[FollowUp]:
    """An abnormal reading is followed up as a sweep's finding of a fever or symptom
    (``gridcore.findings``): the resident becomes symptomatic and is referred to a fever
    clinic (发热门诊). The system applies the rule (``by`` None); the reading's event records
    who reported it."""
    why = f"健康监测异常 abnormal monitoring report: {reason}"[:200]
    return [FollowUp(Action.SYMPTOMATIC, household_id, resident_id, None, why),
            FollowUp(Action.REFER_FEVER_CLINIC, household_id, resident_id, None, why)]


def check_reading(temperature: float | None, symptoms: Iterable[str]) -> tuple[str, ...]:
    """A plausible temperature (34.0-43.0 °C, as on a visit) and symptoms as free text
    without phone or ID numbers; returns the symptoms as stored (blank ones dropped)."""
    if temperature is not None and (
            isinstance(temperature, bool) or not isinstance(temperature, int | float)
            or not LOWEST_CELSIUS <= temperature <= HIGHEST_CELSIUS):
        raise InvalidInput(f"Temperature {temperature!r} °C is implausible.",
                           f"Give the reading in °C between {LOWEST_CELSIUS} and "
                           f"{HIGHEST_CELSIUS}.")
    if isinstance(symptoms, str):
        raise InvalidInput("The symptoms are one text, not a list.",
                           "Give each symptom apart, e.g. ['咳嗽', '乏力'].")
    found = [free_text(s, "symptom", longest=200) for s in symptoms]
    if len(found) > 20:
        raise InvalidInput(f"{len(found)} symptoms are listed.", "List at most 20.")
    return tuple(s for s in found if s)


def check_source(source: ReportSource, by: UUID | None) -> None:
    """A visit, a call or a site's report is a staff member's (their id); the resident's own
    report comes through a system door (chat, app) or is entered by a staff member."""
    if source.by_staff and by is None:
        raise InvalidInput(f"A report by {source.label} names the staff member who made it.",
                           "Give the report as that staff member, or as the resident's own "
                           "(resident_chat, resident_app).")


def needs_assistance(vulnerabilities: Iterable[Vulnerability], policy: Policy
                     ) -> list[Vulnerability]:
    """The resident's vulnerabilities that keep them from reporting themself (no
    smartphone, living alone, 65+ by default): any one makes them assisted."""
    wanted = set(policy.monitoring_assisted_vulnerabilities)
    return sorted((v for v in set(vulnerabilities) if v.value in wanted), key=str)


def assist_method(vulnerabilities: Iterable[Vulnerability]) -> AssistMethod:
    """Someone living alone or aged 65+ is visited (上门); someone only without a smartphone
    is called (电话)."""
    found = set(vulnerabilities)
    if found & {Vulnerability.LIVES_ALONE, Vulnerability.AGE_65_PLUS}:
        return AssistMethod.VISIT
    return AssistMethod.PHONE


def release_requirements(measure: Measure, policy: Policy) -> list[ReleaseRequirement]:
    """What a release from ``measure`` needs under ``policy`` (``status.check_measure_change``
    checks it when the release is given): a negative test within the policy's hours when it
    asks for one, and the decision of a role the policy lets release."""
    out = []
    if policy.release_needs_negative_test:
        out.append(ReleaseRequirement(kind=RequirementKind.NEGATIVE_TEST,
                                      hours=policy.negative_test_max_age_hours))
    roles = tuple(sorted(policy.release_roles.get(measure.value, frozenset()), key=str))
    out.append(ReleaseRequirement(kind=RequirementKind.DECISION, roles=roles))
    return out


def negative_test_ok(last_negative_test: datetime | None, policy: Policy,
                     now: datetime) -> bool:
    """Whether a negative test recent enough for a release is on record at ``now``."""
    if not policy.release_needs_negative_test:
        return True
    return last_negative_test is not None and \
        now - timedelta(hours=policy.negative_test_max_age_hours) <= last_negative_test <= now


# ---- the aggregate -----------------------------------------------------------------------------

class Monitoring(Aggregate):
    """One resident's monitoring through one measure period."""

    resident_id: UUID
    household_id: UUID
    measure: Measure
    measure_start: datetime
    starts: datetime
    ends: datetime | None
    times: tuple[str, ...]
    offset_minutes: int
    due: list[datetime]
    reports: list[Report]
    met: set[datetime]
    flagged: dict[datetime, str]
    overdue: Overdue | None
    assisted: list[Vulnerability]
    assist_method: AssistMethod | None
    release: list[ReleaseRequirement] | None
    listed_at: datetime | None
    ended_at: datetime | None

    class Started(Created):
        """Monitoring began, with the schedule of the policy then in force: ``report_times``
        (local, at UTC+``utc_offset_minutes``) from ``starts`` (now) until ``ends`` (the
        measure's end) of the measure period that began at ``measure_start``."""

        resident_id: UUID
        household_id: UUID
        measure: Measure
        measure_start: datetime
        starts: datetime
        ends: datetime | None
        report_times: tuple[str, ...]
        utc_offset_minutes: int
        by: UUID | None

        def apply(self, m: Monitoring) -> None:
            m.resident_id, m.household_id = self.resident_id, self.household_id
            m.measure, m.measure_start = self.measure, self.measure_start
            m.starts, m.ends = self.starts, self.ends
            m.times, m.offset_minutes = self.report_times, self.utc_offset_minutes
            m.due = report_times(m.times, m.offset_minutes, m.starts, m.ends)
            m.reports, m.met, m.flagged, m.overdue = [], set(), {}, None
            m.assisted, m.assist_method = [], None
            m.release, m.listed_at, m.ended_at = None, None, None

    class Assisted(Event):
        """The resident cannot report themself: a staff member visits or calls instead."""

        vulnerabilities: list[Vulnerability]
        method: AssistMethod
        by: UUID | None
        reason: str

        def apply(self, m: Monitoring) -> None:
            m.assisted, m.assist_method = list(self.vulnerabilities), self.method

    class Extended(Event):
        """The measure ends later: the schedule runs to ``ends``."""

        ends: datetime
        by: UUID | None

        def apply(self, m: Monitoring) -> None:
            m.ends = self.ends
            m.due = report_times(m.times, m.offset_minutes, m.starts, m.ends)
            if m.release is not None and m.ends > self.timestamp:
                m.release, m.listed_at = None, None

    class ReportReceived(Event):
        """A report came in; ``slot`` is the report time it counts for (None: after the last
        deadline). The resident is heard from: an overdue item closes."""

        taken_at: datetime
        source: ReportSource
        temperature: float | None
        symptoms: tuple[str, ...]
        by: UUID | None
        slot: datetime | None

        def apply(self, m: Monitoring) -> None:
            m.reports.append(Report(taken_at=self.taken_at, source=self.source,
                                    temperature=self.temperature, symptoms=self.symptoms,
                                    by=self.by, slot=self.slot))
            if self.slot is not None:
                m.met.add(self.slot)
            m.overdue = None

    class AbnormalReading(Event):
        """The report just received is abnormal (``reason``, under the policy's threshold):
        followed up as a sweep's finding (symptomatic and a fever-clinic referral)."""

        taken_at: datetime
        temperature: float | None
        symptoms: tuple[str, ...]
        threshold: float
        reason: str
        by: UUID | None

        def apply(self, m: Monitoring) -> None:
            last = m.reports[-1]
            m.reports[-1] = last.model_copy(update={"abnormal": self.reason})

    class ReportMissed(Event):
        """The report due at ``due`` was not in by its ``deadline``: flagged to the
        micro-grid ``owner_code`` and its responsible worker (``worker_id``). When the
        resident had not been heard from since, it opens an overdue item escalating at
        ``escalates_at`` (None: it joined the open one, or the resident reported since)."""

        due: datetime
        deadline: datetime
        owner_code: str
        worker_id: UUID | None
        escalates_at: datetime | None

        def apply(self, m: Monitoring) -> None:
            m.flagged[self.due] = self.owner_code
            if self.escalates_at is not None:
                m.overdue = Overdue(since=self.due, owner_code=self.owner_code,
                                    level=Level.MICRO_GRID, escalates_at=self.escalates_at)

    class Escalated(Event):
        """Still not heard from: the next level up (``to_code``) owns the overdue item, with
        a new step at ``escalates_at``; ``to_code`` None: the city had it, recorded once."""

        since: datetime
        from_code: str
        to_code: str | None
        to_level: Level | None
        escalates_at: datetime | None

        def apply(self, m: Monitoring) -> None:
            o = m.overdue
            assert o is not None
            m.overdue = o.model_copy(update={
                "owner_code": self.to_code or o.owner_code,
                "level": o.level if self.to_level is None else self.to_level,
                "escalates_at": self.escalates_at, "escalations": o.escalations + 1})

    class DueForRelease(Event):
        """The period ended: the resident is on the release list with what the policy still
        requires; the release is the household's measure change."""

        ends: datetime
        requirements: list[ReleaseRequirement]

        def apply(self, m: Monitoring) -> None:
            m.release, m.listed_at = list(self.requirements), self.timestamp

    class Ended(Event):
        """The measure was released (``measure`` none) or changed (another period, or a
        measure not monitored such as hospitalization): monitoring stops. ``by``: who
        changed the measure."""

        measure: Measure
        by: UUID | None
        reason: str

        def apply(self, m: Monitoring) -> None:
            m.ended_at = self.timestamp

    # ---- decisions ------------------------------------------------------------------------

    @classmethod
    def start(cls, resident_id: UUID, household_id: UUID, measure: Measure,
              measure_start: datetime, ends: datetime | None, *,
              by: UUID | None, policy: Policy, at: datetime) -> Monitoring:
        """Start monitoring a measure period the policy monitors, on its schedule."""
        if not is_monitored(measure, policy):
            raise ForbiddenTransition(
                f"{measure.label} is not a measure the policy monitors.",
                f"Monitoring follows: {', '.join(policy.monitoring_measures) or 'nothing'}.")
        return cls._create(
            cls.Started, monitoring_id(resident_id, measure_start), at,
            resident_id=resident_id, household_id=household_id, measure=measure,
            measure_start=measure_start, starts=at, ends=ends,
            report_times=tuple(policy.monitoring_report_times),
            utc_offset_minutes=policy.monitoring_utc_offset_minutes, by=by)

    @property
    def active(self) -> bool:
        return self.ended_at is None

    def require_active(self) -> None:
        if not self.active:
            raise ForbiddenTransition("The resident's monitoring has ended.",
                                      "Monitoring follows a measure in force; start it for "
                                      "the new measure.")

    def assist(self, vulnerabilities: Iterable[Vulnerability], method: AssistMethod, *,
               by: UUID | None, reason: str, at: datetime) -> bool:
        """Put the resident on the worker's visit or call list; returns whether it changed."""
        self.require_active()
        found = sorted(set(vulnerabilities), key=str)
        reason = free_text(reason, "reason for assistance", longest=200, required=True,
                           example="独居老人 elderly, lives alone")
        if self.assist_method is method and set(found) <= set(self.assisted):
            return False
        self._trigger(self.Assisted, at, vulnerabilities=sorted({*found, *self.assisted},
                                                                key=str),
                      method=method, by=by, reason=reason)
        return True

    def extend(self, ends: datetime, *, by: UUID | None, at: datetime) -> bool:
        """The measure now ends at ``ends``: the schedule follows when it is later."""
        self.require_active()
        if self.ends is not None and ends <= self.ends:
            return False
        self._trigger(self.Extended, at, ends=ends, by=by)
        return True

    def record_report(self, taken_at: datetime, source: ReportSource,
                      temperature: float | None, symptoms: Iterable[str], *,
                      by: UUID | None, policy: Policy, at: datetime) -> str:
        """Record a report (``check_reading``, ``check_source``) taken since the measure began
        and not after ``at``; returns why it is abnormal ('' when it is not, see
        ``abnormal``), which is recorded too."""
        self.require_active()
        listed = check_reading(temperature, symptoms)
        check_source(source, by)
        if taken_at > at:
            raise InvalidInput("The report is dated in the future.", "Give when it was taken.")
        if taken_at < self.measure_start:
            raise InvalidInput(f"The report was taken before the measure began "
                               f"({self.measure_start.isoformat()}).", "Give when it was taken.")
        grace = timedelta(minutes=policy.monitoring_grace_minutes)
        self._trigger(self.ReportReceived, at, taken_at=taken_at, source=source,
                      temperature=temperature, symptoms=listed, by=by,
                      slot=slot_for(self.due, grace, taken_at))
        why = abnormal(temperature, listed, policy)
        if why:
            self._trigger(self.AbnormalReading, at, taken_at=taken_at, temperature=temperature,
                          symptoms=listed, threshold=policy.monitoring_fever_celsius,
                          reason=why, by=by)
        return why

    def next_missed(self, policy: Policy, now: datetime) -> datetime | None:
        """The earliest report time to flag missed at ``now`` (``missed``)."""
        grace = timedelta(minutes=policy.monitoring_grace_minutes)
        if not self.active:
            return None
        found = missed(self.due, self.met, self.flagged, grace, now)
        return found[0] if found else None

    def flag_missed(self, due: datetime, owner_code: str, worker_id: UUID | None, *,
                    policy: Policy, now: datetime) -> None:
        """Flag the report due at ``due`` missed, dated when its deadline passed (never before
        the monitoring's last change); it opens an overdue item escalating after the
        policy's hours unless one is open or the resident reported since the deadline."""
        grace = timedelta(minutes=policy.monitoring_grace_minutes)
        if due not in missed(self.due, self.met, self.flagged, grace, now):
            raise ForbiddenTransition(f"The report due at {due.isoformat()} is not missed.",
                                      "Flag a report once its deadline passed without it.")
        deadline = due + grace
        at = max(deadline, self.modified_on)
        heard = any(r.taken_at > deadline for r in self.reports)
        opens = self.overdue is None and not heard
        self._trigger(self.ReportMissed, at, due=due, deadline=deadline, owner_code=owner_code,
                      worker_id=worker_id,
                      escalates_at=(at + timedelta(hours=policy.monitoring_escalation_hours)
                                    if opens else None))

    def escalation_due(self, now: datetime) -> datetime | None:
        """When the open overdue item's next step fell due, if it did by ``now``."""
        o = self.overdue
        if not self.active or o is None or o.escalates_at is None or o.escalates_at > now:
            return None
        return o.escalates_at

    def escalate(self, to_code: str | None, to_level: Level | None, *, policy: Policy,
                 now: datetime) -> None:
        """Move the overdue item one level up (``to_code`` None: the city had it; recorded
        once, nothing after), dated when the step fell due."""
        step = self.escalation_due(now)
        if step is None or self.overdue is None:
            raise ForbiddenTransition("No overdue report is due to escalate.",
                                      "Escalate once a missed report's step has passed.")
        at = max(step, self.modified_on)
        nxt = None if to_code is None else at + timedelta(
            hours=policy.monitoring_escalation_hours)
        self._trigger(self.Escalated, at, since=self.overdue.since,
                      from_code=self.overdue.owner_code, to_code=to_code, to_level=to_level,
                      escalates_at=nxt)

    def next_step(self, policy: Policy, now: datetime) -> tuple[str, datetime] | None:
        """What falls due first by ``now``: ``("missed", due)``, a report time to flag, or
        ``("escalate", when)``, the overdue item's next step; None when nothing does. Taking
        the earliest each time keeps the log's times in order after a long gap."""
        grace = timedelta(minutes=policy.monitoring_grace_minutes)
        due, step = self.next_missed(policy, now), self.escalation_due(now)
        if due is not None and (step is None or due + grace <= step):
            return "missed", due
        return ("escalate", step) if step is not None else None

    def list_for_release(self, requirements: list[ReleaseRequirement], now: datetime) -> bool:
        """Once the period has ended by ``now``, put the resident on the release list with
        the requirements, dated when it ended; returns whether it did."""
        if not self.active or self.release is not None or self.ends is None or \
                self.ends > now:
            return False
        self._trigger(self.DueForRelease, max(self.ends, self.modified_on), ends=self.ends,
                      requirements=requirements)
        return True

    def end(self, measure: Measure, *, by: UUID | None, reason: str, at: datetime) -> bool:
        """Stop monitoring: the measure was released or changed; returns whether it did."""
        if not self.active:
            return False
        self._trigger(self.Ended, at, measure=measure, by=by,
                      reason=free_text(reason, "reason", longest=200))
        return True

    def __repr__(self) -> str:
        return (f"Monitoring(resident={self.resident_id}, measure={self.measure.value}, "
                f"reports={len(self.reports)}, active={self.active})")
