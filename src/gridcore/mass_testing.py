"""Mass-testing campaigns (全员核酸检测): sampling sites, a schedule, pooled tubes, results.

One aggregate per campaign (``TestingCampaign``, its id derived from the scope and the
round, like a sweep). It holds the sampling sites (采样点) with their opening hours and
capacity, the schedule (each household to a site and a time slot, or door-to-door sampling,
上门采样), the samples taken (a resident, when, by whom, into which tube), the tubes (混检: up
to the policy's pool size members; a retest tube holds one, 单采单检), the results per tube,
and what followed a positive: the residents it put under temporary control, the single-tube
retests due, the cases opened. It holds ids only, no personal data: erasing a resident
leaves it alone.

A tube code is used in one campaign only: ``TubeCode`` (its id derived from the code)
records the campaign a code was first used in, saved in the same transaction as the sample.

The rules are pure functions with the time and the policy passed in: who gets door-to-door
sampling (``door_to_door_reason``), the slots of a site (``site_slots``), the schedule
(``schedule``: deterministic, no slot over capacity, each household once), and what a
result calls for (``TestingCampaign.record_result``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from gridcore.base import Aggregate, Created, Event, Immutable, stable_id
from gridcore.errors import (
    DuplicateCode,
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    NotFound,
)
from gridcore.geo import Crs, Point
from gridcore.policy import Policy
from gridcore.status import Measure
from gridcore.text import free_text


class TubeResult(StrEnum):
    NEGATIVE = "negative"
    POSITIVE = "positive"

    @property
    def label(self) -> str:
        return {"negative": "阴性 negative", "positive": "阳性 positive"}[self.value]


class SamplingSite(Immutable):
    """A sampling site (采样点): where (a micro-grid or a community of the scope), its daily
    opening hours (local to the campaign's start) and how many people it samples per hour."""

    site_id: str
    name: str
    place: str
    opens_hour: int = Field(8, ge=0, le=23)
    closes_hour: int = Field(18, ge=1, le=24)
    capacity_per_hour: int = Field(60, ge=1, le=10_000)


class Assignment(Immutable):
    """Where and when a household is sampled: a site's slot, or door-to-door (``reason``)."""

    household_id: UUID
    micro_grid: str
    community: str
    size: int
    site_id: str | None = None
    slot: datetime | None = None
    door_to_door_reason: str = ""

    @property
    def door_to_door(self) -> bool:
        return bool(self.door_to_door_reason)


@dataclass(frozen=True)
class HouseholdToSchedule:
    """What the scheduler reads of a household: where it is, how many to sample, and
    whether it is sampled at home (``door_to_door_reason``, from ``door_to_door_reason``)."""

    household_id: UUID
    micro_grid: str
    community: str
    size: int
    door_to_door_reason: str = ""


@dataclass
class Schedule:
    assignments: dict[UUID, Assignment]
    unplaced: list[UUID] = field(default_factory=list)
    """households no site's slot could take (the sites lack capacity in the window)"""


# ---- ids ------------------------------------------------------------------------------------

def mass_testing_id(scope: str, round_no: int) -> UUID:
    return stable_id("testing-campaign", f"{scope}#{round_no}")


def tube_code_id(code: str) -> UUID:
    return stable_id("testing-tube", code)


# ---- rules: pure, the time and the policy passed in -------------------------------------------

def door_to_door_reason(vulnerabilities: Iterable[Iterable[str]], measures: Iterable[str],
                        policy: Policy) -> str:
    """Why a household is sampled at home (上门采样): a member with a vulnerability the
    policy names (65+, disability by default), or under a measure it names (home observation
    or quarantine by default); '' when it comes to a site."""
    found = sorted({v for member in vulnerabilities for v in member}
                   & set(policy.door_to_door_vulnerabilities))
    held = sorted(set(measures) & set(policy.door_to_door_measures))
    return "; ".join([*(f"vulnerability:{v}" for v in found), *(f"measure:{m}" for m in held)])


def slot_capacity(site: SamplingSite, slot_minutes: int) -> int:
    """People a site samples in one slot (at least one)."""
    return max(1, site.capacity_per_hour * slot_minutes // 60)


def site_slots(site: SamplingSite, starts: datetime, ends: datetime,
               slot_minutes: int) -> list[datetime]:
    """The slots of a site in the window: each day's opening hours (in the start's time
    zone), slot by slot, each slot wholly inside the hours and the window."""
    out: list[datetime] = []
    tz, step = starts.tzinfo, timedelta(minutes=slot_minutes)
    day = starts.date()
    while datetime.combine(day, time(0), tz) < ends:
        t = datetime.combine(day, time(0), tz) + timedelta(hours=site.opens_hour)
        close = datetime.combine(day, time(0), tz) + timedelta(hours=site.closes_hour)
        while t + step <= close and t + step <= ends:
            if t >= starts:
                out.append(t)
            t += step
        day += timedelta(days=1)
    return out


def schedule(households: Sequence[HouseholdToSchedule], sites: Sequence[SamplingSite],
             starts: datetime, ends: datetime, slot_minutes: int) -> Schedule:
    """Each household to one slot of a site, or door-to-door; deterministic (households in
    the order of their micro-grid and id, sites by id). A household goes to the sites of its
    micro-grid, else of its community, else any site; to the earliest slot (ties: the site
    first by id) with room for all its members, so no slot holds more than its capacity. A
    household no slot has room for is left ``unplaced``."""
    slots = {s.site_id: site_slots(s, starts, ends, slot_minutes) for s in sites}
    room = {s.site_id: [slot_capacity(s, slot_minutes)] * len(slots[s.site_id]) for s in sites}
    cursor = dict.fromkeys(room, 0)
    by_place: dict[str, list[str]] = {}
    for s in sorted(sites, key=lambda s: s.site_id):
        by_place.setdefault(s.place, []).append(s.site_id)
    every = sorted(s.site_id for s in sites)
    out = Schedule({})
    for h in sorted(households, key=lambda h: (h.micro_grid, str(h.household_id))):
        base = Assignment(household_id=h.household_id, micro_grid=h.micro_grid,
                          community=h.community, size=h.size)
        if h.door_to_door_reason:
            out.assignments[h.household_id] = base.model_copy(
                update={"door_to_door_reason": h.door_to_door_reason})
            continue
        candidates = by_place.get(h.micro_grid) or by_place.get(h.community) or every
        best: tuple[datetime, str, int] | None = None
        for sid in candidates:
            free = room[sid]
            while cursor[sid] < len(free) and free[cursor[sid]] == 0:
                cursor[sid] += 1
            i = next((i for i in range(cursor[sid], len(free)) if free[i] >= h.size), None)
            if i is not None and (best is None or (slots[sid][i], sid) < best[:2]):
                best = (slots[sid][i], sid, i)
        if best is None:
            out.unplaced.append(h.household_id)
            continue
        slot, sid, i = best
        room[sid][i] -= h.size
        out.assignments[h.household_id] = base.model_copy(update={"site_id": sid, "slot": slot})
    return out


def check_sites(sites: Sequence[SamplingSite], places: set[str]) -> None:
    """Sites with distinct ids and names, opening before they close, each in the scope
    (``places``: the scope's micro-grids and communities)."""
    if not sites:
        raise InvalidInput("A testing campaign has no sampling site.",
                           "Give at least one site (采样点) with its hours and capacity.")
    seen: set[str] = set()
    for s in sites:
        free_text(s.site_id, "site id", longest=40, required=True, example="CY-01")
        free_text(s.name, "site name", longest=120, required=True, example="社区广场采样点")
        if s.site_id in seen:
            raise DuplicateCode(f"Site {s.site_id} is listed twice.", "Give each site once.")
        seen.add(s.site_id)
        if s.opens_hour >= s.closes_hour:
            raise InvalidInput(f"Site {s.site_id} closes before it opens.",
                               "Give hours like 8 to 18.")
        if s.place not in places:
            raise InvalidInput(f"Site {s.site_id} is at {s.place}, no micro-grid or community "
                               "of the campaign's scope.",
                               "Place each site in a micro-grid or community of the scope.")


def check_tube_code(code: str) -> str:
    return free_text(code, "tube code", longest=40, required=True, example="HJ-0000123")


# ---- state ----------------------------------------------------------------------------------

class Sample(Immutable):
    """A swab taken from a resident into a tube (a retest: into a tube of its own)."""

    resident_id: UUID
    household_id: UUID
    tube_code: str
    taken_at: datetime
    by: UUID | None
    retest: bool = False


class Tube(Immutable):
    code: str
    members: tuple[UUID, ...] = ()
    retest: bool = False
    sealed: bool = False
    result: TubeResult | None = None
    result_by: UUID | None = None
    result_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.result is None


class Retest(Immutable):
    """A single-tube retest (单采单检) due for a member of a positive pool."""

    resident_id: UUID
    household_id: UUID
    pool_code: str
    due: datetime
    tube_code: str | None = None
    taken_at: datetime | None = None
    taken_by: UUID | None = None
    result: TubeResult | None = None


class Control(Immutable):
    """A resident the campaign put under temporary control (a positive pool's household)."""

    resident_id: UUID
    household_id: UUID
    measure: Measure
    by: UUID | None
    released: bool = False


@dataclass(frozen=True)
class SampleInput:
    """One row of a batch of samples, as the command passes it to the campaign."""

    household_id: UUID
    resident_id: UUID
    tube_code: str
    taken_at: datetime
    by: UUID | None


@dataclass
class ResultOutcome:
    """What a result calls for: the samples found negative (tests to record), the retests
    scheduled (a positive pool), and the resident found positive in a single tube."""

    tube: Tube
    negatives: list[Sample]
    retests: list[Retest]
    positive: Sample | None


@dataclass
class NodeCoverage:
    """Coverage of a grid node: households and residents expected, residents sampled, and
    who has not been sampled, by household."""

    code: str
    households: int = 0
    residents: int = 0
    sampled: int = 0
    unsampled: dict[UUID, list[UUID]] = field(default_factory=dict)

    @property
    def share(self) -> float:
        return self.sampled / self.residents if self.residents else 1.0


class TubeCode(Aggregate):
    """The campaign a tube code belongs to: a tube never mixes campaigns."""

    code: str
    campaign_id: UUID

    class Registered(Created):
        code: str
        campaign_id: UUID

        def apply(self, t: TubeCode) -> None:
            t.code, t.campaign_id = self.code, self.campaign_id

    @classmethod
    def register(cls, code: str, campaign: UUID, at: datetime) -> TubeCode:
        return cls._create(cls.Registered, tube_code_id(code), at, code=code,
                           campaign_id=campaign)


class TestingCampaign(Aggregate):
    """One round of mass testing over a scope; ``label`` is what people see."""

    __test__ = False  # not a pytest class
    label = "全员核酸检测 mass-testing campaign"

    scope: str
    round_no: int
    name: str
    starts: datetime
    ends: datetime
    sites: dict[str, SamplingSite]
    pool_size: int
    slot_minutes: int
    assignments: dict[UUID, Assignment]
    members: dict[UUID, list[UUID]]
    follow_up_of: UUID | None
    launched_by: UUID | None
    samples: dict[UUID, Sample]
    tubes: dict[str, Tube]
    retests: dict[UUID, Retest]
    controls: dict[UUID, Control]
    cases: dict[UUID, str]
    site_points: dict[str, Point] = {}  # replaced by each SiteLocated, never changed in place
    """where each located sampling site stands (WGS-84), by site id"""

    class SiteLocated(Event):
        """A sampling site's point (None: withdrawn), in WGS-84; ``crs`` the system it was
        given in."""

        site_id: str
        point: Point | None
        crs: Crs = Crs.WGS84
        by: UUID | None = None

        def apply(self, c: TestingCampaign) -> None:
            points = {k: v for k, v in c.site_points.items() if k != self.site_id}
            if self.point is not None:
                points[self.site_id] = self.point
            c.site_points = points

    def locate_site(self, site_id: str, point: Point | None, crs: Crs, by: UUID | None,
                    at: datetime) -> bool:
        """Set (or withdraw) a sampling site's point; the same point again writes nothing."""
        if site_id not in self.sites:
            raise NotFound(f"The campaign {self.name} has no sampling site {site_id!r}.",
                           "Give one of its sites: " + "、".join(sorted(self.sites)) + ".")
        if self.site_points.get(site_id) == point:
            return False
        self._trigger(self.SiteLocated, at, site_id=site_id, point=point, crs=crs, by=by)
        return True

    class Launched(Created):
        scope: str
        round_no: int
        name: str
        starts: datetime
        ends: datetime
        sites: list[SamplingSite]
        pool_size: int
        slot_minutes: int
        assignments: list[Assignment]
        members: dict[UUID, list[UUID]]
        follow_up_of: UUID | None
        by: UUID | None

        def apply(self, c: TestingCampaign) -> None:
            c.scope, c.round_no, c.name = self.scope, self.round_no, self.name
            c.starts, c.ends = self.starts, self.ends
            c.sites = {s.site_id: s for s in self.sites}
            c.pool_size, c.slot_minutes = self.pool_size, self.slot_minutes
            c.assignments = {a.household_id: a for a in self.assignments}
            c.members = {h: list(m) for h, m in self.members.items()}
            c.follow_up_of, c.launched_by = self.follow_up_of, self.by
            c.samples, c.tubes, c.retests, c.controls, c.cases = {}, {}, {}, {}, {}

    class Sampled(Event):
        samples: list[Sample]

        def apply(self, c: TestingCampaign) -> None:
            for s in self.samples:
                tube = c.tubes.get(s.tube_code) or Tube(code=s.tube_code, retest=s.retest)
                c.tubes[s.tube_code] = tube.model_copy(
                    update={"members": (*tube.members, s.resident_id)})
                if s.retest:
                    c.retests[s.resident_id] = c.retests[s.resident_id].model_copy(
                        update={"tube_code": s.tube_code, "taken_at": s.taken_at,
                                "taken_by": s.by})
                else:
                    c.samples[s.resident_id] = s

    class TubeSealed(Event):
        code: str
        by: UUID | None

        def apply(self, c: TestingCampaign) -> None:
            c.tubes[self.code] = c.tubes[self.code].model_copy(update={"sealed": True})

    class ResultRecorded(Event):
        """A lab result for a tube; ``retests``: the single-tube retests a positive pool
        schedules (due by the policy's ``retest_hours``)."""

        code: str
        result: TubeResult
        by: UUID | None
        retests: list[Retest]

        def apply(self, c: TestingCampaign) -> None:
            tube = c.tubes[self.code]
            c.tubes[self.code] = tube.model_copy(update={
                "result": self.result, "result_by": self.by, "result_at": self.timestamp})
            if tube.retest:
                for rid in tube.members:
                    c.retests[rid] = c.retests[rid].model_copy(update={"result": self.result})
            for r in self.retests:
                c.retests[r.resident_id] = r

    class ControlImposed(Event):
        household_id: UUID
        residents: list[UUID]
        measure: Measure
        by: UUID | None
        reason: str

        def apply(self, c: TestingCampaign) -> None:
            for rid in self.residents:
                c.controls[rid] = Control(resident_id=rid, household_id=self.household_id,
                                          measure=self.measure, by=self.by)

    class ControlReleased(Event):
        household_id: UUID
        residents: list[UUID]
        by: UUID | None
        reason: str

        def apply(self, c: TestingCampaign) -> None:
            for rid in self.residents:
                c.controls[rid] = c.controls[rid].model_copy(update={"released": True})

    class CaseOpened(Event):
        resident_id: UUID
        case_no: str

        def apply(self, c: TestingCampaign) -> None:
            c.cases[self.resident_id] = self.case_no

    # ---- decisions ------------------------------------------------------------------------

    @classmethod
    def launch(cls, scope: str, round_no: int, name: str, starts: datetime, ends: datetime,
               sites: Sequence[SamplingSite], plan: Schedule,
               members: Mapping[UUID, list[UUID]], follow_up_of: UUID | None,
               by: UUID | None, policy: Policy, at: datetime) -> TestingCampaign:
        if not 1 <= round_no <= 1000:
            raise InvalidInput(f"Round {round_no} is out of range.", "Give a round 1-1000.")
        if ends <= starts:
            raise InvalidInput("The campaign window ends before it starts.",
                               "Give a window of at least one day, e.g. 2 days.")
        if plan.unplaced:
            raise InvalidInput(f"{len(plan.unplaced)} household(s) fit no slot of the sites "
                               "in the window.",
                               "Add sites, raise their capacity or hours, or lengthen the "
                               "window.")
        if not plan.assignments:
            raise InvalidInput("The scope has no household to test.",
                               "Launch over a scope with registered households.")
        name = free_text(name, "campaign name", longest=120)
        return cls._create(
            cls.Launched, mass_testing_id(scope, round_no), at, scope=scope,
            round_no=round_no, name=name, starts=starts, ends=ends, sites=list(sites),
            pool_size=policy.pool_size, slot_minutes=policy.testing_slot_minutes,
            assignments=[plan.assignments[h] for h in sorted(plan.assignments, key=str)],
            members={h: list(m) for h, m in members.items()}, follow_up_of=follow_up_of,
            by=by)

    def retest_pending(self, rid: UUID) -> bool:
        r = self.retests.get(rid)
        return r is not None and r.tube_code is None

    def take_samples(self, rows: Sequence[SampleInput], at: datetime) -> list[Sample]:
        """Record a batch of samples: each resident a member of a household of the campaign
        sampled once (again only for a retest due, into a new tube of its own), not dated
        before the start or in the future; a pooled tube up to the pool size, never sealed,
        never a retest tube. One bad row refuses the batch, naming it."""
        taken: list[Sample] = []
        counts: dict[str, int] = {}
        new_tubes: dict[str, bool] = {}
        seen: set[UUID] = set()
        for i, row in enumerate(rows, start=1):
            try:
                taken.append(self._check_sample(row, counts, new_tubes, seen, at))
            except GridcoreError as e:
                raise type(e)(f"Sample {i} of the batch: {e.problem}", e.remedy) from None
        if not taken:
            raise InvalidInput("The batch has no sample.", "Send at least one sample.")
        self._trigger(self.Sampled, at, samples=taken)
        return taken

    def _check_sample(self, row: SampleInput, counts: dict[str, int],
                      new_tubes: dict[str, bool], seen: set[UUID], at: datetime) -> Sample:
        code = check_tube_code(row.tube_code)
        if row.household_id not in self.members or row.resident_id not in self.members[
                row.household_id]:
            raise InvalidInput("The resident is not listed in this campaign (their household "
                               "and members as launched).",
                               "Sample only the campaign's residents; a newcomer is tested in "
                               "the next round.")
        if row.taken_at > at:
            raise InvalidInput("The sample is dated in the future.", "Give when it was taken.")
        if row.taken_at < self.starts:
            raise InvalidInput("The sample is dated before the campaign started.",
                               "Give when it was taken, during the campaign.")
        if row.resident_id in seen:
            raise InvalidInput("The resident is sampled twice in the batch.",
                               "Record one sample per resident.")
        seen.add(row.resident_id)
        retest = self.retest_pending(row.resident_id)
        if not retest and row.resident_id in self.samples:
            raise DuplicateCode("The resident was already sampled in this campaign.",
                                "Nothing to record; a retest is taken only when one is due.")
        tube = self.tubes.get(code)
        if retest:
            if tube is not None or code in new_tubes:
                raise InvalidInput(f"Tube {code} is already used; a retest (单采单检) goes "
                                   "into a tube of its own.", "Use a new tube code.")
        else:
            if tube is not None and (tube.retest or tube.sealed):
                state = "a retest tube" if tube.retest else "sealed"
                raise ForbiddenTransition(f"Tube {code} is {state}.",
                                          "Put the sample into an open pooled tube.")
            if new_tubes.get(code):
                raise InvalidInput(f"Tube {code} is a retest tube of this batch.",
                                   "Use another tube code.")
            held = (len(tube.members) if tube else 0) + counts.get(code, 0)
            if held >= self.pool_size:
                raise InvalidInput(f"Tube {code} already holds {held} samples, the pool size "
                                   f"({self.pool_size}-in-1 混检).",
                                   "Seal it and start a new tube.")
        counts[code] = counts.get(code, 0) + 1
        if tube is None:
            new_tubes.setdefault(code, retest)
        return Sample(resident_id=row.resident_id, household_id=row.household_id,
                      tube_code=code, taken_at=row.taken_at, by=row.by, retest=retest)

    def tube(self, code: str) -> Tube:
        try:
            return self.tubes[code]
        except KeyError:
            raise InvalidInput(f"Tube {code} holds no sample of campaign {self.name}.",
                               "Check the tube code.") from None

    def seal(self, code: str, by: UUID | None, at: datetime) -> bool:
        """Seal a tube: no more samples go in. Sealing twice changes nothing."""
        if self.tube(code).sealed:
            return False
        self._trigger(self.TubeSealed, at, code=code, by=by)
        return True

    def record_result(self, code: str, result: TubeResult, by: UUID | None, policy: Policy,
                      at: datetime) -> ResultOutcome | None:
        """A lab result for a sealed tube. The same result again changes nothing (None); a
        different one is refused. A positive pool schedules a single-tube retest for each
        of its members (exactly once each: a resident already due one keeps it)."""
        tube = self.tube(code)
        if tube.result is result:
            return None
        if tube.result is not None:
            raise ForbiddenTransition(f"Tube {code} was already found {tube.result.value}.",
                                      "A result is not changed; have the lab retest.")
        if not tube.sealed and not tube.retest:
            raise ForbiddenTransition(f"Tube {code} is not sealed.",
                                      "Seal the tube before recording its result.")
        samples = [self._sample_in(code, rid) for rid in tube.members]
        retests: list[Retest] = []
        positive = None
        if result is TubeResult.POSITIVE and len(samples) == 1:
            positive = samples[0]
        elif result is TubeResult.POSITIVE:
            due = at + timedelta(hours=policy.retest_hours)
            retests = [Retest(resident_id=s.resident_id, household_id=s.household_id,
                              pool_code=code, due=due) for s in samples
                       if s.resident_id not in self.retests]
        self._trigger(self.ResultRecorded, at, code=code, result=result, by=by,
                      retests=retests)
        return ResultOutcome(self.tubes[code], samples if result is TubeResult.NEGATIVE else [],
                             retests, positive)

    def _sample_in(self, code: str, rid: UUID) -> Sample:
        first = self.samples.get(rid)
        if first is not None and first.tube_code == code:
            return first
        r = self.retests[rid]
        return Sample(resident_id=rid, household_id=r.household_id, tube_code=code,
                      taken_at=r.taken_at or r.due, by=r.taken_by, retest=True)

    def impose_control(self, hid: UUID, residents: list[UUID], measure: Measure,
                       by: UUID | None, reason: str, at: datetime) -> None:
        fresh = [rid for rid in residents if rid not in self.controls]
        if fresh:
            self._trigger(self.ControlImposed, at, household_id=hid, residents=fresh,
                          measure=measure, by=by, reason=reason)

    def household_cleared(self, hid: UUID) -> bool:
        """Every retest due in the household came back negative, none positive."""
        due = [r for r in self.retests.values() if r.household_id == hid]
        return bool(due) and all(r.result is TubeResult.NEGATIVE for r in due)

    def controlled_in(self, hid: UUID) -> list[Control]:
        return [c for c in self.controls.values() if c.household_id == hid and not c.released]

    def release_control(self, hid: UUID, residents: list[UUID], by: UUID | None, reason: str,
                        at: datetime) -> None:
        if residents:
            self._trigger(self.ControlReleased, at, household_id=hid, residents=residents,
                          by=by, reason=reason)

    def note_case(self, rid: UUID, case_no: str, at: datetime) -> None:
        if rid not in self.cases:
            self._trigger(self.CaseOpened, at, resident_id=rid, case_no=case_no)

    # ---- queries --------------------------------------------------------------------------

    def coverage(self) -> dict[str, NodeCoverage]:
        """Per micro-grid, per community and for the whole scope: households and residents
        expected, sampled, and who has not been sampled (by household)."""
        out: dict[str, NodeCoverage] = {}
        for hid, a in self.assignments.items():
            members = self.members.get(hid, [])
            missing = [rid for rid in members if rid not in self.samples]
            for code in dict.fromkeys((a.micro_grid, a.community, self.scope)):
                node = out.setdefault(code, NodeCoverage(code))
                node.households += 1
                node.residents += len(members)
                node.sampled += len(members) - len(missing)
                if missing:
                    node.unsampled[hid] = missing
        return out

    def unsampled(self) -> dict[UUID, list[UUID]]:
        """Residents not sampled, by household (what a second round covers)."""
        return {hid: missing for hid, members in self.members.items()
                if (missing := [r for r in members if r not in self.samples])}

    def tubes_pending(self) -> list[Tube]:
        return [t for t in self.tubes.values() if t.pending]

    def retests_due(self) -> list[Retest]:
        return [r for r in self.retests.values() if r.tube_code is None]

    def __repr__(self) -> str:
        return (f"TestingCampaign(scope={self.scope!r}, round={self.round_no}, "
                f"samples={len(self.samples)}, tubes={len(self.tubes)})")
