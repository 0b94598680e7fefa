"""Commands of sweep campaigns: launch, record visits, coverage, close; and the findings
process manager that follows up what visits found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from gridcore.app_base import MAX_BATCH, collection_paused, command
from gridcore.assignment import Method, Plan
from gridcore.authority import Actor, System, staff_of
from gridcore.errors import HOUSEHOLD_HINT, GridcoreError, InvalidInput, NotFound
from gridcore.findings import (
    FINDINGS_PROCESS_ID,
    Action,
    FindingsProcess,
    FollowUp,
    follow_ups,
)
from gridcore.household import Household
from gridcore.household_commands import HouseholdCommands
from gridcore.policy import Policy
from gridcore.referral_commands import ReferralCommands
from gridcore.staff import StaffMember
from gridcore.status import Health, Measure, Tag, TagKind
from gridcore.sweep import (
    Campaign,
    Outcome,
    Visit,
    VisitRecord,
    campaign_id,
    not_covered_reason,
    summarize,
    visit_record,
)
from gridcore.sweep_index import OPEN_CAMPAIGNS_ID, OpenCampaigns

VISIT_TOPIC = get_topic(Visit.Recorded)


@dataclass
class Coverage:
    campaign_id: UUID
    households: int
    covered: list[UUID]
    by_method: dict[str, int]
    uncovered: dict[UUID, str]

    @property
    def share(self) -> float:
        return len(self.covered) / self.households if self.households else 1.0


@dataclass
class VisitRow:
    """One attempt of a batch of visits (``record_visits``); the fields of ``record_visit``."""

    household_id: UUID
    method: Method
    outcome: Outcome = Outcome.SEEN
    by: UUID | None = None
    visited_at: datetime | None = None
    details: dict[str, Any] | None = None


@dataclass
class VisitBatchReport:
    recorded: int
    notification_id: int | None


class SweepCommands(ReferralCommands, HouseholdCommands):
    """A launch plans the round with the staff area; the findings process follows up what
    visits found with the household commands (health, tags, measures) and the referral
    area's ``open_referral``: the bases name the areas it calls."""

    # ---- look-ups ---------------------------------------------------------------------------

    def campaign(self, cid: UUID) -> Campaign:
        return self._get(Campaign, cid, f"campaign {cid}", "Launch the campaign first.")

    def campaign_of(self, scope: str, round_no: int) -> Campaign:
        return self.campaign(campaign_id(scope, round_no))

    # ---- commands ---------------------------------------------------------------------------

    def _replay_launch(self, scope: str, round_no: int, days: int, name: str = "",
                       starts: datetime | None = None, *, by: Actor) -> Plan:
        """A launch retried under its client id: the plan it made, from the stored round."""
        return self._replay_assignment(scope, round_no, days)

    @command(replay=_replay_launch)
    def launch_campaign(self, scope: str, round_no: int, days: int, name: str = "",
                        starts: datetime | None = None, *, by: Actor) -> Plan:
        """Launch a sweep of a scope for ``days`` days: assign every household (the plan) and
        open the campaign in one transaction."""
        at = self.clock()
        start = self.check_time(starts, "campaign start", scheduled=True) if starts else at
        assignment, node, plan = self._plan_round(scope, round_no, days, at)
        c = Campaign.launch(scope, round_no, name or f"{node.name} 第{round_no}轮排查", start,
                            start + timedelta(days=days), sorted(assignment.owner
                                                                 | assignment.uncovered, key=str),
                            at)
        index = self._find(OpenCampaigns, OPEN_CAMPAIGNS_ID) or OpenCampaigns.start(at)
        index.add(c.id, at)
        self._save(assignment, node, c, index)
        return plan

    @command
    def record_visit(self, cid: UUID, hid: UUID, method: Method, outcome: Outcome = Outcome.SEEN,
                     *, by: Actor, visited_at: datetime | None = None,
                     **details: Any) -> int | None:
        """Record one attempt to check a household (door visit, phone, or chat self-report).

        With outcome 'seen' and no ``accounted`` list, every registered member is accounted
        for. Findings (fever, close contacts, arrivals) are followed up by the findings process.
        """
        at = self.clock()
        c, h = self.campaign(cid), self.household(hid)
        c.require_open()
        if hid not in c.households:
            raise NotFound(f"Household {h.household_no} is not in campaign {c.name}.",
                           "Record it in the campaign of its grid.")
        record = visit_record(by=staff_of(by), method=method, outcome=outcome,
                              visited_at=visited_at,
                              details=details, members=list(h.residents),
                              policy=self.policy_at(at), at=at)
        c.require_started_by(record.at)
        visit = self.visit(cid, hid) or Visit.open(cid, hid, at)
        visit.record(record, at)
        nid = self._save(visit)
        self.process_findings(by=System.AUTOMATION)
        return nid

    @command
    def record_visits(self, cid: UUID, rows: list[VisitRow], *, by: Actor) -> VisitBatchReport:
        """Record a batch of visits of one campaign in one transaction (a sweep team's day,
        or a bulk load), each checked as ``record_visit`` checks one: the campaign open, the
        household in it, the staff member known, not dated in the future, a well-formed
        record naming only the household's members. One bad row rejects the batch, naming
        the row; nothing is written."""
        if len(rows) > MAX_BATCH:
            raise InvalidInput(f"A batch of {len(rows)} visits is too large.",
                               f"Send batches of at most {MAX_BATCH}.")
        # The collector paused for the whole batch (the households read, the visits made and
        # saved, their findings followed up): it would scan them again and again.
        with collection_paused():
            try:  # first as a first visit to each household; if one was visited before, again
                nid = self._record_batch(cid, rows, assume_new=True)
            except IntegrityError:
                nid = self._record_batch(cid, rows, assume_new=False)
            self.process_findings(limit=5000, by=System.AUTOMATION)
        return VisitBatchReport(len(rows), nid)

    def _record_batch(self, cid: UUID, rows: list[VisitRow], assume_new: bool) -> int | None:
        at = self.clock()
        c = self.campaign(cid)
        c.require_open()
        in_campaign = set(c.households)
        visits: dict[UUID, Visit] = {}
        window = self.policy_at(at)  # the time window's policy, read once for the batch
        found = self._withheld_many(Household, [r.household_id for r in rows])
        # the visitors, in one query and without their names (only whether they exist)
        staff = set(self._withheld_many(StaffMember, list(dict.fromkeys(
            r.by for r in rows if isinstance(r.by, UUID)))))
        for i, row in enumerate(rows, start=1):
            try:
                record = self._batch_record(row, found.get(row.household_id),
                                            in_campaign, staff, at, window)
                c.require_started_by(record.at)
            except GridcoreError as e:
                raise type(e)(f"Visit {i} of the batch: {e.problem}", e.remedy) from None
            visit = visits.get(row.household_id)
            if visit is None:
                visit = None if assume_new else self.visit(cid, row.household_id)
                visit = visits[row.household_id] = visit or Visit.open(
                    cid, row.household_id, at)
            visit.record(record, at)
        # A visit opened meanwhile fails the save (IntegrityError): nothing is written.
        return self._save(*visits.values())

    def _batch_record(self, row: VisitRow, h: Household | None, in_campaign: set[UUID],
                      staff: set[UUID], at: datetime, window: Policy) -> VisitRecord:
        if h is None:
            raise NotFound(f"No household {row.household_id}.", HOUSEHOLD_HINT)
        if row.household_id not in in_campaign:
            raise NotFound(f"Household {h.household_no} is not in the campaign.",
                           "Record it in the campaign of its grid.")
        if row.by is not None and row.by not in staff:
            self.staff(row.by)  # NotFound (or, being a staff member's, found meanwhile)
            staff.add(row.by)
        return visit_record(by=row.by, method=row.method, outcome=row.outcome,
                            visited_at=row.visited_at, details=row.details or {},
                            members=list(h.residents), policy=window, at=at)

    @command
    def close_campaign(self, cid: UUID, *, by: Actor) -> int | None:
        """Close a campaign, recording its summary: covered, not covered (with reasons),
        findings."""
        at = self.clock()
        c = self.campaign(cid)
        c.require_open()
        c.close(self._summary(c), at)
        index = self._find(OpenCampaigns, OPEN_CAMPAIGNS_ID)
        if index is not None:
            index.remove(c.id, at)
        return self._save(c, index)

    def tick_sweeps(self, now: datetime) -> int:
        """Record, once, each open campaign whose window has ended, with how many households
        are still uncovered."""
        index = self._find(OpenCampaigns, OPEN_CAMPAIGNS_ID)
        ended = 0
        for cid in index.ids if index else []:
            c = self.campaign(cid)
            if c.window_ended or now < c.ends:
                continue
            coverage = self.campaign_coverage(cid)
            if c.end_window(len(coverage.uncovered), now):
                self._save(c)
                ended += 1
        return ended

    # ---- coverage ------------------------------------------------------------------------

    def campaign_coverage(self, cid: UUID) -> Coverage:
        """Households in scope, covered (by method), and not covered with the reason."""
        c = self.campaign(cid)
        covered: list[UUID] = []
        uncovered: dict[UUID, str] = {}
        by_method: dict[str, int] = {}
        for hid in c.households:
            members = set(self._household_withheld(hid).residents)
            visit = self.visit(cid, hid)
            reason = not_covered_reason(visit, members)
            if reason == "covered" and visit is not None:
                covered.append(hid)
                m = visit.method()
                if m is not None:
                    by_method[m.value] = by_method.get(m.value, 0) + 1
            else:
                uncovered[hid] = reason
        return Coverage(cid, len(c.households), covered, by_method, uncovered)

    def _summary(self, c: Campaign) -> Any:
        households = {hid: set(self._household_withheld(hid).residents)
                      for hid in c.households}
        visits = {hid: v for hid in c.households if (v := self.visit(c.id, hid)) is not None}
        return summarize(households, visits)

    # ---- the findings process manager --------------------------------------------------------

    def process_findings(self, limit: int = 500, restart_from: int | None = None, *,
                         by: Actor) -> int:
        """Follow up the findings of visits recorded since the last run, from the event log.

        Each follow-up carries a client id derived from the visit event, so a crash between a
        follow-up and saving the position never applies anything twice. Returns how many
        visit events were processed. ``restart_from`` re-reads the log from that position
        (after a lost position, say): what was applied before stays applied once. ``by``
        runs it (an organiser, the operator, or the system after each visit)."""
        self._authorise("process_findings", by, {})
        processed = 0
        while True:
            proc = self._find(FindingsProcess, FINDINGS_PROCESS_ID)
            start = (proc.position if proc else 0) + 1
            if restart_from is not None:
                start, restart_from = restart_from + 1, None
            notes = self.recorder.select_notifications(start=start, limit=limit,
                                                       topics=[VISIT_TOPIC])
            if not notes:
                return processed
            skipped: list[tuple[int, str, str]] = []
            for n in notes:
                # the topics filter above selects Visit.Recorded events only
                event = cast(Visit.Recorded, self.mapper.to_domain_event(n))
                for f in follow_ups(event.household_id, event.record):
                    problem = self._follow(f, f"{n.originator_id}:{n.originator_version}")
                    if problem:
                        skipped.append((n.id, f.action.value, problem))
                processed += 1
            proc = proc or FindingsProcess.start(self.clock())
            proc.advance(notes[-1].id, skipped, self.clock())
            self._save(proc)
            if proc.position > notes[-1].id:  # a restart below the position has caught up
                restart_from = proc.position

    def _follow(self, f: FollowUp, event_key: str) -> str:
        """Apply one follow-up; return why it could not be applied ('' when it was)."""
        cid = f.client_id(event_key)
        try:
            if f.action in (Action.REFER_FEVER_CLINIC, Action.REFER_QUARANTINE):
                return self._refer(f, cid)
            # a visit no staff member recorded (a chat self-report): the system follows up
            # what the resident reported (a symptom, an arrival), as on a visit
            by: Actor = System.AUTOMATION if f.by is None else f.by
            if f.action is Action.SYMPTOMATIC:
                self.change_health(f.household_id, f.resident_id, Health.SYMPTOMATIC, by,
                                   f.reason, client_id=cid)
            elif f.action is Action.TAG_CLOSE_CONTACT:
                if f.by is None:
                    return "no staff member recorded the visit (chat self-report): needs a " \
                        "door visit"
                self.tag_resident(f.household_id, f.resident_id,
                                  Tag(kind=TagKind.CLOSE_CONTACT, note=f.reason), f.by,
                                  client_id=cid)
            elif f.action is Action.TAG_ARRIVAL:
                arrived = f.arrived_on.date() if f.arrived_on else self.clock().date()
                self.tag_resident(f.household_id, f.resident_id,
                                  Tag(kind=TagKind.RISK_AREA_ARRIVAL, origin=f.origin,
                                      arrived_on=arrived, note=f.reason), by, client_id=cid)
            elif f.action is Action.HOME_OBSERVATION:
                self.change_measure(f.household_id, f.resident_id, Measure.HOME_OBSERVATION,
                                    by, f.reason, client_id=cid)
        except GridcoreError as e:
            return str(e)
        return ""

    def _refer(self, f: FollowUp, cid: str) -> str:
        """Open the referral a finding calls for (the referral area's command)."""
        kind = "fever_clinic" if f.action is Action.REFER_FEVER_CLINIC else \
            "centralized_quarantine"
        by = f.by if f.by is not None else System.AUTOMATION  # a chat self-report
        self.open_referral(f.household_id, f.resident_id, kind, f.reason, by=by, client_id=cid)
        return ""
