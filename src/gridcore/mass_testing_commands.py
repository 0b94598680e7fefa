"""Commands of mass-testing campaigns (全员核酸检测); the model and its rules are in
``gridcore.mass_testing``.

Decisions made here:

- An official launches a campaign over a scope and a round with its sampling sites: every
  household of the scope (or, for a second round, ``follow_up_of`` an earlier campaign, only
  the households with residents that campaign did not sample, and only those residents) is
  scheduled to a site's slot or door-to-door by the policy in force; the policy's pool size
  and slot length are fixed in the campaign at launch.
- Field and medical staff record samples in batches (one bad row refuses the batch, naming
  the row); a tube code is used in one campaign only (``TubeCode``, saved with the sample).
- Medical staff record a tube's result (the lab's): a negative records a negative test for
  each member (``Household.record_test``, what the release rules read); a positive pool puts
  every resident of its members' households under the policy's ``positive_pool_measure``
  (where stricter than what they have; by the household's rules, decided by ``by``) and
  schedules a single-tube retest (单采单检) for each member, once; a positive single tube
  records a positive test and opens a confirmed case (``open_case``, tracing), numbered
  ``核酸-<tube code>``, under the household's community (the scope of a campaign over a
  micro-grid). When every retest of a household came back negative, the residents the
  campaign put under control (still under that measure) are released, as an override with
  the reason (the period is not served).
- Opening the case is the tracing area's own command, given first with a client id derived
  from the tube, so a retried result opens it once; everything else of a result is saved in
  one transaction. A refused command writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from gridcore.app_base import MAX_BATCH, command
from gridcore.authority import Actor, staff_of
from gridcore.errors import InvalidInput, NotFound, NotPermitted, parse_enum
from gridcore.household import Household
from gridcore.mass_testing import (
    Assignment,
    HouseholdToSchedule,
    NodeCoverage,
    Retest,
    SampleInput,
    SamplingSite,
    TestingCampaign,
    Tube,
    TubeCode,
    TubeResult,
    check_sites,
    check_tube_code,
    door_to_door_reason,
    mass_testing_id,
    schedule,
    tube_code_id,
)
from gridcore.policy import Policy
from gridcore.staff import Role
from gridcore.status import Health, Measure
from gridcore.tracing_commands import TracingCommands


@dataclass
class SampleRow:
    """One sample of a batch (``record_samples``): the resident, the tube, when (default:
    now) and by whom (default: the command's giver)."""

    household_id: UUID
    resident_id: UUID
    tube_code: str
    taken_at: datetime | None = None
    by: UUID | None = None


@dataclass
class SampleBatchReport:
    recorded: int
    notification_id: int | None


class MassTestingCommands(TracingCommands):
    """Builds on contact tracing (an individual positive opens a case) and, through it, the
    household area (tests, temporary control)."""

    # ---- look-ups -------------------------------------------------------------------------

    def testing_campaign(self, cid: UUID) -> TestingCampaign:
        return self._get(TestingCampaign, cid, f"testing campaign {cid}",
                         "Launch the testing campaign first (launch_testing_campaign).")

    def testing_campaign_of(self, scope: str, round_no: int) -> TestingCampaign:
        return self.testing_campaign(mass_testing_id(scope, round_no))

    def testing_campaign_of_tube(self, code: str) -> TestingCampaign:
        tube = self._find(TubeCode, tube_code_id(code.strip() if isinstance(code, str)
                                                 else ""), for_reading=True)
        if tube is None:
            raise NotFound(f"No sample was put into tube {code}.", "Check the tube code.")
        return self.testing_campaign(tube.campaign_id)

    # ---- commands -------------------------------------------------------------------------

    @command
    def launch_testing_campaign(self, scope: str, round_no: int, sites: list[SamplingSite], *,
                                by: Actor, starts: datetime | None = None, days: int = 2,
                                name: str = "",
                                follow_up_of: UUID | None = None) -> int | None:
        """Launch a testing round over a scope for ``days`` days with its sampling sites:
        every household scheduled to a site's slot, or door-to-door."""
        at = self.clock()
        node = self.node(scope)
        node.require_active()
        if self._find(TestingCampaign, mass_testing_id(scope, round_no)) is not None:
            raise InvalidInput(f"Round {round_no} of {scope} was already launched.",
                               "Give the next round number.")
        if not 1 <= days <= 30:
            raise InvalidInput(f"A window of {days} days is out of range.",
                               "Give 1-30 days, e.g. 2.")
        start = self.check_time(starts, "campaign start", scheduled=True) if starts else at
        policy = self.policy_at(at)
        grids = self.micro_grids(scope)
        community = {g.code: g.parent_code or g.code for g in grids}
        check_sites(sites, set(community) | set(community.values()) | {scope})
        only: dict[UUID, list[UUID]] | None = None
        if follow_up_of is not None:
            earlier = self.testing_campaign(follow_up_of)
            if earlier.scope != scope:
                raise InvalidInput("A second round covers the scope of the campaign it "
                                   "follows.", f"Launch it over {earlier.scope}.")
            only = earlier.unsampled()
        members: dict[UUID, list[UUID]] = {}
        todo: list[HouseholdToSchedule] = []
        today = start.date()
        for h in self.households_in(scope, withheld=True):
            current = [rid for rid, r in h.residents.items() if r.health is not Health.DECEASED]
            if only is not None:
                current = [rid for rid in only.get(h.id, []) if rid in h.residents]
            if not current:
                continue
            members[h.id] = current
            reason = door_to_door_reason(
                [{v.value for v in h.vulnerabilities(rid, today)} for rid in current],
                [h.residents[rid].measure.value for rid in current], policy)
            todo.append(HouseholdToSchedule(h.id, h.micro_grid, community.get(
                h.micro_grid, h.micro_grid), len(current), reason))
        end = start + timedelta(days=days)
        plan = schedule(todo, sites, start, end, policy.testing_slot_minutes)
        c = TestingCampaign.launch(scope, round_no, name or f"{node.name} 第{round_no}轮核酸检测",
                                   start, end, sites, plan, members, follow_up_of,
                                   staff_of(by), policy, at)
        return self._save(c)

    @command
    def record_samples(self, testing_id: UUID, samples: list[SampleRow], *,
                       by: Actor) -> SampleBatchReport:
        """Record a batch of samples of one campaign in one transaction (a site's hour, a
        door-to-door round), each into a tube; one bad row refuses the batch, naming it."""
        if len(samples) > MAX_BATCH:
            raise InvalidInput(f"A batch of {len(samples)} samples is too large.",
                               f"Send batches of at most {MAX_BATCH}.")
        at = self.clock()
        c = self.testing_campaign(testing_id)
        policy = self.policy_at(at)
        samplers = policy.field_roles | policy.medical_roles
        known: set[UUID] = set()
        rows: list[SampleInput] = []
        for i, row in enumerate(samples, start=1):
            who = row.by if row.by is not None else staff_of(by)
            try:
                if who is not None and who not in known:
                    if self.staff(who).role not in samplers:
                        raise NotPermitted(f"A {self.staff(who).role.value} does not take "
                                           "samples.", "Name the field or medical staff "
                                           "member who took it.")
                    known.add(who)
                taken = (self.check_time(row.taken_at, "sample time")
                         if row.taken_at is not None else at)
            except (NotFound, NotPermitted, InvalidInput) as e:
                raise type(e)(f"Sample {i} of the batch: {e.problem}", e.remedy) from None
            rows.append(SampleInput(row.household_id, row.resident_id,
                                    row.tube_code if isinstance(row.tube_code, str) else "",
                                    taken, who))
        taken_samples = c.take_samples(rows, at)
        codes: dict[str, TubeCode] = {}
        for s in taken_samples:
            if s.tube_code in codes:
                continue
            found = self._find(TubeCode, tube_code_id(s.tube_code), for_reading=True)
            if found is None:
                codes[s.tube_code] = TubeCode.register(s.tube_code, c.id, at)
            elif found.campaign_id != c.id:
                n = next(i for i, r in enumerate(rows, start=1) if r.tube_code == s.tube_code)
                raise InvalidInput(f"Sample {n} of the batch: tube {s.tube_code} belongs to "
                                   "another campaign.", "A tube never mixes campaigns: use a "
                                   "new tube code.")
        nid = self._save(c, *codes.values())
        return SampleBatchReport(len(taken_samples), nid)

    @command
    def seal_tube(self, tube_code: str, *, by: Actor) -> int | None:
        """Seal a tube (封管): no more samples go in; the lab may report its result."""
        code = check_tube_code(tube_code)
        c = self.testing_campaign_of_tube(code)
        if not c.seal(code, staff_of(by), self.clock()):
            return None
        return self._save(c)

    @command
    def record_tube_result(self, tube_code: str, result: TubeResult | str, *,
                           by: Actor) -> int | None:
        """Record a tube's lab result: negatives become tests; a positive pool puts its
        members' households under temporary control and schedules single-tube retests; a
        positive single tube opens a confirmed case. The same result twice changes nothing."""
        at = self.clock()
        code = check_tube_code(tube_code)
        outcome_of = parse_enum(TubeResult, result, "result")
        c = self.testing_campaign_of_tube(code)
        policy = self.policy_at(at)
        who = staff_of(by)
        outcome = c.record_result(code, outcome_of, who, policy, at)
        if outcome is None:
            return None
        role = self._role(by)
        if role is None:  # no system actor records a result (gridcore.authority)
            raise NotPermitted("Only a staff member records a tube's result.",
                               "Ask the medical staff who received it from the lab.")
        touched: dict[UUID, Household] = {}
        if outcome.positive is not None:
            p = outcome.positive
            case_no = f"核酸-{code}"
            a = c.assignments.get(p.household_id)
            # the household's community follows the case up (the campaign's scope when that
            # is a micro-grid: the community may lie outside the recorder's jurisdiction)
            scope = a.community if a is not None and c.scope != a.micro_grid else c.scope
            self.open_case(case_no, scope,
                           f"{c.name}: 单管阳性 positive single tube", by=by,
                           hid=p.household_id, rid=p.resident_id, confirmed=True,
                           client_id=f"mass-testing:{c.id}:{code}")
            c.note_case(p.resident_id, case_no, at)
            h = self._testing_household(p.household_id, touched)
            if h is not None and p.resident_id in h.residents:
                h.record_test(p.resident_id, False, p.taken_at, policy=policy, at=at)
        for s in outcome.negatives:
            h = self._testing_household(s.household_id, touched)
            if h is not None and s.resident_id in h.residents:
                h.record_test(s.resident_id, True, s.taken_at, policy=policy, at=at)
        self._control(c, outcome.retests, who, role, policy, at, touched)
        if outcome.tube.retest and outcome_of is TubeResult.NEGATIVE:
            for s in outcome.negatives:
                self._release_if_cleared(c, s.household_id, who, role, policy, at, touched)
        return self._save(c, *touched.values())

    # ---- queries --------------------------------------------------------------------------

    def testing_schedule_of(self, testing_id: UUID, hid: UUID) -> Assignment:
        """Where and when a household is sampled (a site's slot, or door-to-door)."""
        c = self.testing_campaign(testing_id)
        try:
            return c.assignments[hid]
        except KeyError:
            raise NotFound(f"Household {hid} is not in campaign {c.name}.",
                           "Check the household, or the campaign of its grid.") from None

    def testing_coverage(self, testing_id: UUID) -> dict[str, NodeCoverage]:
        """Per micro-grid, community and the whole scope: residents expected, sampled, and
        not sampled (by household)."""
        return self.testing_campaign(testing_id).coverage()

    def tubes_pending(self, testing_id: UUID) -> list[Tube]:
        """Tubes without a result yet (open or sealed)."""
        return self.testing_campaign(testing_id).tubes_pending()

    def retests_due(self, testing_id: UUID) -> list[Retest]:
        """Single-tube retests scheduled and not yet sampled."""
        return self.testing_campaign(testing_id).retests_due()

    # ---- helpers --------------------------------------------------------------------------

    def _testing_household(self, hid: UUID,
                           touched: dict[UUID, Household]) -> Household | None:
        h = touched.get(hid)
        if h is None:
            h = self._find(Household, hid)
            if h is None:
                return None
            touched[hid] = h
        return h

    def _control(self, c: TestingCampaign, retests: list[Retest], who: UUID | None,
                 role: Role, policy: Policy, at: datetime,
                 touched: dict[UUID, Household]) -> None:
        """A positive pool: every resident of its members' households under the policy's
        measure, where stricter than what they have (the household's rules decide)."""
        measure = Measure(policy.positive_pool_measure)
        reason = f"{c.name}: 混检阳性 positive pool, 单采单检 pending"
        for hid in dict.fromkeys(r.household_id for r in retests):
            h = self._testing_household(hid, touched)
            if h is None:
                continue
            controlled = []
            for rid, r in h.residents.items():
                if r.health is Health.DECEASED or r.measure.rank >= measure.rank:
                    continue
                h.change_measure(rid, measure, by=who, role=role, reason=reason,
                                 policy=policy, at=at)
                controlled.append(rid)
            c.impose_control(hid, controlled, measure, who, reason, at)

    def _release_if_cleared(self, c: TestingCampaign, hid: UUID, who: UUID | None,
                            role: Role, policy: Policy, at: datetime,
                            touched: dict[UUID, Household]) -> None:
        if not c.household_cleared(hid):
            return
        """Every retest of the household came back negative: the residents the campaign
        put under control are released where they are still under that measure (one who
        moved on since, say to hospital, keeps what they have), as an override with the
        reason: the measure's period is not served."""
        h = self._testing_household(hid, touched)
        reason = "单采单检阴性 negative on single-tube retest"
        held = c.controlled_in(hid)
        for control in held:
            if h is not None:
                h.release_measure(control.resident_id, control.measure, Measure.NONE, by=who,
                                  role=role, reason=f"{c.name}: {reason}",
                                  override_reason=reason, policy=policy, at=at)
        c.release_control(hid, [x.resident_id for x in held], who, reason, at)
