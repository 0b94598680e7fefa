"""Commands and queries of health monitoring during a measure (健康监测); the model and its
rules are in ``gridcore.monitoring``.

Decisions made here:

- Monitoring follows the resident's measure in force: a process reads the household's
  ``MeasureChanged``, ``MeasureExtended`` and ``MemberRemoved`` events from the log
  (``process_monitoring``, run by every ``tick`` and after every report) and, for each,
  brings the resident's monitoring in line with their measure now (``_follow_measure``, with a
  client id derived from the event, so a rerun or a crash between a step and the saved
  position applies nothing twice): a monitored measure starts its period's monitoring
  (assisted when the resident's vulnerabilities say they cannot report themself), a later end
  extends it, a release, another measure or leaving the household ends it.
  A worker may start it at once (``start_monitoring``); both derive the same id, so it starts
  once.
- The same process follows up each abnormal reading through the findings path
  (``SweepCommands._follow``: symptomatic and a fever-clinic referral), with client ids
  derived from the reading's event.
- ``tick_monitoring(now)`` flags each missed report once, escalates overdue items a level per
  ``monitoring_escalation_hours`` (dated when each fell due) and lists the residents whose
  period ended for release, with what the policy still requires; the release itself is
  ``change_measure`` (the household's rules), whose event ends the monitoring.
- Only ids, times, readings and symptom words are stored: nothing here is sealed, so a
  resident's erasure has nothing of monitoring to shred (it is no erasure participant).
- The queries read the aggregates per grid node (a read model answers them later without
  changing the rules); the directory of monitorings in progress is one aggregate, which a
  city-wide deployment would split per community as referral desks are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from gridcore.app_base import command
from gridcore.authority import Actor, System, staff_of
from gridcore.base import Aggregate
from gridcore.errors import ForbiddenTransition, GridcoreError, NotFound, parse_enum
from gridcore.grid import Level
from gridcore.household import Household
from gridcore.monitoring import (
    AssistMethod,
    Monitoring,
    ReleaseRequirement,
    ReportSource,
    assist_method,
    follow_ups,
    is_monitored,
    local_day,
    monitoring_id,
    needs_assistance,
    negative_test_ok,
    release_requirements,
)
from gridcore.monitoring_index import (
    MONITORING_DIRECTORY_ID,
    MONITORING_PROCESS_ID,
    MonitoringDirectory,
    MonitoringProcess,
)
from gridcore.status import Measure
from gridcore.sweep_commands import SweepCommands

MEASURE_TOPICS = [get_topic(Household.MeasureChanged), get_topic(Household.MeasureExtended),
                  get_topic(Household.MemberRemoved)]
ABNORMAL_TOPIC = get_topic(Monitoring.AbnormalReading)


@dataclass(frozen=True)
class DueReport:
    """A report time of a day: reported, flagged missed, or still to come; an assisted
    resident's is a visit or call on the worker's list (``method``)."""

    monitoring_id: UUID
    household_id: UUID
    resident_id: UUID
    micro_grid: str
    due: datetime
    deadline: datetime
    reported: bool
    missed: bool
    assisted: bool
    method: AssistMethod | None


@dataclass(frozen=True)
class MissedReport:
    """A report flagged missed; ``open`` while the resident has not been heard from since,
    owned by ``owner_code`` at ``level`` after ``escalations`` steps up."""

    monitoring_id: UUID
    household_id: UUID
    resident_id: UUID
    micro_grid: str
    due: datetime
    open: bool
    owner_code: str
    level: Level
    escalations: int
    worker_id: UUID | None


@dataclass(frozen=True)
class AbnormalReport:
    monitoring_id: UUID
    household_id: UUID
    resident_id: UUID
    micro_grid: str
    taken_at: datetime
    source: ReportSource
    temperature: float | None
    symptoms: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class ReleaseEntry:
    """A resident whose period ended, with what the policy still requires; ``test_ok``: a
    recent enough negative test is on record now."""

    monitoring_id: UUID
    household_id: UUID
    resident_id: UUID
    micro_grid: str
    measure: Measure
    ends: datetime
    requirements: list[ReleaseRequirement]
    test_ok: bool


class MonitoringCommands(SweepCommands):
    """Builds on the sweep area: an abnormal reading takes the findings follow-up path (its
    household and referral commands)."""

    # ---- look-ups and queries ---------------------------------------------------------------

    def monitoring(self, mid: UUID) -> Monitoring:
        return self._get(Monitoring, mid, f"monitoring {mid}",
                         "Check the id; monitoring starts with a monitored measure.")

    def monitoring_of(self, rid: UUID) -> Monitoring | None:
        """The resident's monitoring in progress (None: not monitored now), for reading."""
        d = self._find(MonitoringDirectory, MONITORING_DIRECTORY_ID, for_reading=True)
        mid = d.active.get(rid) if d else None
        return self._find(Monitoring, mid, for_reading=True) if mid else None

    def _monitored_under(self, code: str) -> Iterator[tuple[Monitoring, str]]:
        """Each monitoring in progress of a resident living at or below node ``code``, with
        the household's micro-grid now."""
        grids = {g.code for g in self.micro_grids(code)}
        d = self._find(MonitoringDirectory, MONITORING_DIRECTORY_ID, for_reading=True)
        for mid in list(d.active.values()) if d else []:
            m = self._find(Monitoring, mid, for_reading=True)
            h = self._find_withheld(Household, m.household_id) if m else None
            if m is not None and h is not None and h.micro_grid in grids:
                yield m, h.micro_grid

    def monitored(self, code: str) -> list[Monitoring]:
        """Who is under monitoring at or below node ``code`` (for reading)."""
        return [m for m, _ in self._monitored_under(code)]

    def monitoring_due(self, code: str, day: date | None = None, *,
                       assisted_only: bool = False) -> list[DueReport]:
        """The reports due on ``day`` (local; default today) at or below ``code``, by time;
        ``assisted_only``: the worker's visits and calls."""
        now = self.clock()
        grace = timedelta(minutes=self.policy_at(now).monitoring_grace_minutes)
        out: list[DueReport] = []
        for m, grid in self._monitored_under(code):
            if assisted_only and m.assist_method is None:
                continue
            wanted = day or local_day(now, m.offset_minutes)
            out.extend(DueReport(m.id, m.household_id, m.resident_id, grid, d, d + grace,
                                 d in m.met, d in m.flagged, m.assist_method is not None,
                                 m.assist_method)
                       for d in m.due if local_day(d, m.offset_minutes) == wanted)
        return sorted(out, key=lambda r: (r.due, str(r.resident_id)))

    def monitoring_missed(self, code: str, *, open_only: bool = False) -> list[MissedReport]:
        """The reports flagged missed at or below ``code`` (``open_only``: of residents not
        heard from since), oldest first."""
        grids = {g.code: g for g in self.micro_grids(code)}
        out = []
        for m, grid in self._monitored_under(code):
            o = m.overdue
            for due, owner in sorted(m.flagged.items()):
                is_open = o is not None and due >= o.since
                if open_only and not is_open:
                    continue
                worker = grids[owner].responsible_worker if owner in grids else None
                out.append(MissedReport(
                    m.id, m.household_id, m.resident_id, grid, due, is_open,
                    o.owner_code if o is not None and is_open else owner,
                    o.level if o is not None and is_open else Level.MICRO_GRID,
                    o.escalations if o is not None and is_open else 0, worker))
        return sorted(out, key=lambda r: (r.due, str(r.resident_id)))

    def monitoring_abnormal(self, code: str) -> list[AbnormalReport]:
        """The abnormal readings of residents under monitoring at or below ``code``, newest
        first."""
        out = [AbnormalReport(m.id, m.household_id, m.resident_id, grid, r.taken_at, r.source,
                              r.temperature, r.symptoms, r.abnormal)
               for m, grid in self._monitored_under(code) for r in m.reports if r.abnormal]
        return sorted(out, key=lambda r: r.taken_at, reverse=True)

    def monitoring_release_list(self, code: str) -> list[ReleaseEntry]:
        """The residents at or below ``code`` whose period ended (解除名单), with what the
        policy still requires and whether a recent negative test is on record."""
        now = self.clock()
        policy = self.policy_at(now)
        out = []
        for m, grid in self._monitored_under(code):
            if m.release is None or m.ends is None:
                continue
            h = self._find_withheld(Household, m.household_id)
            r = h.residents.get(m.resident_id) if h else None
            tested = negative_test_ok(r.last_negative_test if r else None, policy, now)
            out.append(ReleaseEntry(m.id, m.household_id, m.resident_id, grid, m.measure,
                                    m.ends, list(m.release), tested))
        return sorted(out, key=lambda e: (e.ends, str(e.resident_id)))

    # ---- commands ---------------------------------------------------------------------------

    @command
    def start_monitoring(self, hid: UUID, rid: UUID, *, by: Actor) -> int | None:
        """Start monitoring the resident's measure in force now (a worker need not wait for
        the process); nothing is written when it is already monitored."""
        at = self.clock()
        h = self.household(hid)
        r = h.resident(rid)
        if not is_monitored(r.measure, self.policy_at(at)):
            raise ForbiddenTransition(f"The resident is under {r.measure.label}, which the "
                                      "policy does not monitor.",
                                      "Impose home observation or quarantine first "
                                      "(change_measure).")
        return self._save(*self._line_up(h, rid, staff_of(by), at))

    @command
    def _follow_measure(self, hid: UUID, rid: UUID, *, by: Actor,
                        decided_by: UUID | None = None) -> int | None:
        """The process's step for one measure event: the resident's monitoring in line with
        their measure now (``decided_by``: who changed the measure)."""
        at = self.clock()
        h = self.household(hid)
        return self._save(*self._line_up(h, rid, decided_by, at))

    def _line_up(self, h: Household, rid: UUID, who: UUID | None,
                 at: datetime) -> list[Aggregate | None]:
        """End the resident's monitoring of another measure period, start the one of the
        measure in force (assisted when their vulnerabilities say so), or extend it to the
        measure's end; the aggregates changed. A former member's monitoring ends (they left
        the household, and its worker follows them no more)."""
        policy = self.policy_at(at)
        member = rid in h.residents
        r = h.residents.get(rid) or h.former.get(rid) or h.resident(rid)
        d = self._find(MonitoringDirectory, MONITORING_DIRECTORY_ID)
        want = (monitoring_id(rid, r.measure_since) if member and r.measure_since is not None
                and is_monitored(r.measure, policy) else None)
        current = d.active.get(rid) if d else None
        if d is None:
            if want is None:
                return []
            d = MonitoringDirectory.start(at)
        changed: list[Aggregate | None] = [d]
        if current is not None and current != want:
            old = self._find(Monitoring, current)
            reason = ("迁出 no longer a member of the household" if not member
                      else "解除 released" if r.measure is Measure.NONE
                      else f"措施变更 measure changed to {r.measure.label}")
            if old is not None and old.end(r.measure, by=who, reason=reason, at=at):
                changed.append(old)
            d.remove(rid, current, at)
        if want is None or r.measure_since is None:
            return changed
        ends = h.measure_ends(rid, policy)
        m = self._find(Monitoring, want)
        if m is None:
            m = Monitoring.start(rid, h.id, r.measure, r.measure_since, ends, by=who,
                                 policy=policy, at=at)
            found = needs_assistance(
                h.vulnerabilities(rid, local_day(at, policy.monitoring_utc_offset_minutes)),
                policy)
            if found:
                m.assist(found, assist_method(found), by=who,
                         reason="登记的困难 registered vulnerabilities", at=at)
            d.add(rid, want, at)
        elif m.active and ends is not None:
            m.extend(ends, by=who, at=at)
        return [*changed, m]

    @command
    def assist_monitored_resident(self, hid: UUID, rid: UUID, method: AssistMethod | str,
                                  reason: str, *, by: Actor) -> int | None:
        """Put a resident who cannot report themself on the worker's visit or call list."""
        at = self.clock()
        kind = parse_enum(AssistMethod, method, "assistance method")
        m = self._monitored(hid, rid)
        m.assist([], kind, by=staff_of(by), reason=reason, at=at)
        return self._save(m)

    @command
    def record_monitoring_report(self, hid: UUID, rid: UUID, source: ReportSource | str, *,
                                 by: Actor, taken_at: datetime | None = None,
                                 temperature: float | None = None,
                                 symptoms: Sequence[str] = ()) -> int | None:
        """Record a monitoring report of a resident under monitoring: from the resident (chat,
        app), a staff member's visit or call, or the quarantine site's staff. An abnormal
        reading is followed up at once (symptomatic and a fever-clinic referral)."""
        at = self.clock()
        kind = parse_enum(ReportSource, source, "report source")
        taken = self.check_time(taken_at, "report time") if taken_at is not None else at
        m = self._monitored(hid, rid)
        m.record_report(taken, kind, temperature, symptoms, by=staff_of(by),
                        policy=self.policy_at(at), at=at)
        nid = self._save(m)
        self.process_monitoring(by=System.AUTOMATION)
        return nid

    def _monitored(self, hid: UUID, rid: UUID) -> Monitoring:
        h = self._household_withheld(hid)
        h.resident(rid)
        d = self._find(MonitoringDirectory, MONITORING_DIRECTORY_ID, for_reading=True)
        mid = d.active.get(rid) if d else None
        m = self._find(Monitoring, mid) if mid else None
        if m is None or m.household_id != hid:
            raise NotFound(f"Resident {rid} is not under health monitoring.",
                           "Monitoring follows a measure in force: impose home observation "
                           "or quarantine (change_measure), or start it (start_monitoring).")
        return m

    # ---- the process ------------------------------------------------------------------------

    def process_monitoring(self, limit: int = 500, restart_from: int | None = None, *,
                           by: Actor) -> int:
        """Follow the measure changes and abnormal readings recorded since the last run, from
        the event log; returns how many events it read. Each step carries a client id derived
        from its event (applied once however often this runs); ``restart_from`` reads again
        from that position. ``by`` runs it (an organiser, the operator, or the system)."""
        self._authorise("process_monitoring", by, {})
        read = 0
        while True:
            proc = self._find(MonitoringProcess, MONITORING_PROCESS_ID)
            start = (proc.position if proc else 0) + 1
            if restart_from is not None:
                start, restart_from = restart_from + 1, None
            notes = self.recorder.select_notifications(
                start=start, limit=limit, topics=[*MEASURE_TOPICS, ABNORMAL_TOPIC])
            if not notes:
                return read
            skipped: list[tuple[int, str, str]] = []
            for n in notes:
                key = f"{n.originator_id}:{n.originator_version}"
                for what, problem in self._monitoring_step(n, key):
                    if problem:
                        skipped.append((n.id, what, problem))
                read += 1
            proc = proc or MonitoringProcess.start(self.clock())
            proc.advance(notes[-1].id, skipped, self.clock())
            self._save(proc)
            if proc.position > notes[-1].id:  # a restart below the position has caught up
                restart_from = proc.position

    def _monitoring_step(self, note: Notification, key: str) -> Iterable[tuple[str, str]]:
        """Apply one event's steps; each with why it could not be applied ('' when it was)."""
        event = self.mapper.to_domain_event(note)
        if isinstance(event, Monitoring.AbnormalReading):
            m = self._find(Monitoring, event.originator_id, for_reading=True)
            if m is None:
                return [("follow_up", "no monitoring")]
            return [(f.action.value, self._follow(f, key))
                    for f in follow_ups(m.household_id, m.resident_id, event.reason)]
        assert isinstance(event, Household.MeasureChanged | Household.MeasureExtended
                          | Household.MemberRemoved)
        by = None if isinstance(event, Household.MemberRemoved) else event.by
        if not self._concerns_monitoring(event.originator_id, event.resident_id):
            return []  # nothing to start, extend or end: no command, no record of one
        try:
            self._follow_measure(event.originator_id, event.resident_id, decided_by=by,
                                 by=System.AUTOMATION, client_id=f"monitoring:{key}")
        except GridcoreError as e:
            return [("follow_measure", str(e))]
        return []

    def _concerns_monitoring(self, hid: UUID, rid: UUID) -> bool:
        """Whether the resident is monitored now or under a measure the policy monitors."""
        d = self._find(MonitoringDirectory, MONITORING_DIRECTORY_ID, for_reading=True)
        if d is not None and rid in d.active:
            return True
        h = self._find_withheld(Household, hid)
        r = h.residents.get(rid) if h is not None else None
        return r is not None and is_monitored(r.measure, self.policy_at(self.clock()))

    # ---- the clock --------------------------------------------------------------------------

    def tick_monitoring(self, now: datetime) -> int:
        """Follow the measures first; then, for each monitoring in progress, flag every report
        missed by ``now`` once, escalate every overdue item due, and list for release each
        whose period ended; returns how many monitorings changed."""
        self.process_monitoring(by=System.AUTOMATION)
        d = self._find(MonitoringDirectory, MONITORING_DIRECTORY_ID, for_reading=True)
        policy = self.policy_at(now)
        due = []  # read from the cache first: a command (a copy, a retry loop) only for these
        for mid in list(d.active.values()) if d is not None else []:
            m = self._find(Monitoring, mid, for_reading=True)
            if m is not None and m.active and (
                    m.next_step(policy, now) is not None
                    or (m.release is None and m.ends is not None and m.ends <= now)):
                due.append(mid)
        return sum(1 for mid in due if self._tick_monitoring_of(mid, now, by=System.AUTOMATION))

    @command
    def _tick_monitoring_of(self, mid: UUID, now: datetime, *, by: Actor) -> bool:
        m = self.monitoring(mid)
        if not m.active:
            return False
        h = self._household_withheld(m.household_id)
        changed = False
        policy = self.policy_at(now)
        while (step := m.next_step(policy, now)) is not None:  # the earliest first
            kind, when = step
            if kind == "missed":
                grid = self.node(h.micro_grid)
                m.flag_missed(when, grid.code, grid.responsible_worker, policy=policy, now=now)
            else:
                assert m.overdue is not None  # an escalation is of the open overdue item
                parent = self.node(m.overdue.owner_code).parent_code
                m.escalate(parent, self.node(parent).level if parent else None,
                           policy=self.policy_at(when), now=now)
            changed = True
        if m.ends is not None and m.list_for_release(
                release_requirements(m.measure, self.policy_at(m.ends)), now):
            changed = True
        if changed:
            self._save(m)
        return changed


__all__ = ["AbnormalReport", "DueReport", "MissedReport", "MonitoringCommands", "ReleaseEntry"]
