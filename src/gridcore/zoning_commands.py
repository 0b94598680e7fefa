"""Commands and queries of risk zoning around a case (三区划分, see ``gridcore.zoning``).

Decisions made here:

- ``draw_risk_zones``: an official of the community's street or above draws the sealed,
  controlled and precaution zones around cases (their index's household, located: its own
  point, else its building's) and/or points given directly, with the community's households
  found inside each; households with no point are listed by micro-grid (未定位, to be
  checked by an official: they are in no zone until located). A case with no located
  address, an unknown or ruled-out case, and no address at all are refused, writing nothing.
- ``apply_zone_measures``: each zone's measure (``Policy.zoning_measures``) imposed on every
  resident of its households through the household's own measure rule (``change_measure``:
  the official's role must be one the policy lets impose it), recorded with who decided and
  the reason 三区划分; a resident already under a measure as strict (``Measure.rank``:
  centralized quarantine, hospital) is left as is; one the measure rules refuse is counted
  with the rule's reason, the rest applied.
- Deliveries: every delivery is to the door already (配送到户); the sealed zone's households
  are the ones couriers may not meet at a collection point: ``door_to_door(hid)`` says whether
  a household lies in the sealed zone of a zoning in force (the delivery desk reads it).
- ``launch_zone_sweep``: a sweep campaign over a zone's households only (the community's
  next round, planned as ``launch_campaign`` plans one, restricted to those households).
- Lifting: by the rule at ``tick`` once ``zoning_lift_after_days`` pass without a new case
  inside the sealed or controlled zone (a case opened there since the drawing, with one of
  those households' residents as its index, records ``Extended`` and the days count again),
  or by an official (``lift_risk_zones``). Lifting does not release anyone: a home measure
  ends through the measure rules as any other does (the period served and a negative test,
  released by a role the policy names; monitoring lists each for release when its period
  ends). Releasing in bulk would skip the negative test those rules require.
- ``risk_zones_at(community, when)``: the zonings in force at a past time, with their areas
  (they never change once drawn).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from gridcore.app_base import command
from gridcore.assignment import Plan
from gridcore.authority import Actor, System, staff_of
from gridcore.errors import GridcoreError, InvalidInput, NotFound
from gridcore.geo import Area, Point
from gridcore.grid import Level
from gridcore.household import Household
from gridcore.location import household_point
from gridcore.location_commands import LocationCommands
from gridcore.status import Measure
from gridcore.sweep import Campaign
from gridcore.sweep_commands import SweepCommands
from gridcore.sweep_index import OPEN_CAMPAIGNS_ID, OpenCampaigns
from gridcore.text import free_text
from gridcore.tracing import Case, CaseStatus, PersonCases, person_cases_id
from gridcore.tracing_commands import TracingCommands
from gridcore.zoning import (
    ZONING_REASON,
    RiskZoning,
    Zone,
    already_as_strict,
    zone_areas,
    zone_measure,
    zone_of,
)
from gridcore.zoning_index import RISK_ZONINGS_ID, RiskZonings

UNLOCATED_NOTE = ("未定位住户 households with no point (neither their own nor their building's) "
                  "are in no zone: check them by micro-grid and locate them (locate_household, "
                  "locate_building), then draw the zones again if they lie inside.")


@dataclass
class ZoningReport:
    """What ``draw_risk_zones`` drew: the zoning, the households in each zone, those with no
    point by micro-grid (``note`` says what to do with them)."""

    zoning_id: UUID
    households: dict[Zone, list[UUID]]
    unlocated: dict[str, list[UUID]]
    notification_id: int | None
    note: str = ""


@dataclass
class ZoneMeasuresReport:
    """Residents put under their zone's measure, left as they were (already as strict), and
    refused by the measure rules (``problems``: household number and the rule's reason)."""

    imposed: int
    left: int
    refused: int
    problems: list[str] = field(default_factory=list)
    notification_id: int | None = None


@dataclass
class ZoneSweep:
    campaign_id: UUID
    round_no: int
    plan: Plan


class ZoningCommands(LocationCommands, SweepCommands, TracingCommands):
    """Risk zoning: reads locations (households' points), cases (tracing), imposes measures
    (households) and launches sweeps (sweeps), naming those areas as bases."""

    # ---- look-ups ----------------------------------------------------------------------------

    def risk_zoning(self, zoning_id: UUID) -> RiskZoning:
        return self._get(RiskZoning, zoning_id, f"risk zoning {zoning_id}",
                         "Check the id: draw_risk_zones returns it.")

    def _zoning_index(self) -> RiskZonings | None:
        return self._find(RiskZonings, RISK_ZONINGS_ID)

    def _case_point(self, cid: UUID) -> Point:
        """Where a case's index lives (their household's point, else their building's);
        refused when the case is unknown, ruled out or not located."""
        case = self._find(Case, cid, for_reading=True)
        if case is None:
            raise NotFound(f"No case {cid}.", "Give the id of an open case (open_case), or "
                           "give points instead.")
        if case.status is CaseStatus.RULED_OUT:
            raise InvalidInput(f"Case {case.case_no} was ruled out: no zones are drawn "
                               "around it.", "Give a suspected or confirmed case.")
        if case.index_household_id is None:
            raise InvalidInput(f"Case {case.case_no} has no located address: its index is "
                               "not a resident of the register.",
                               "Match the index to a resident, or give the address as a "
                               "point (points=...).")
        h = self._find(Household, case.index_household_id, for_reading=True)
        point = household_point(h.own_point, self._building_of(h)) if h is not None else None
        if point is None:
            raise InvalidInput(f"Case {case.case_no} has no located address: neither the "
                               "index's household nor its building has a point.",
                               "Locate the building (locate_building) or the household "
                               "(locate_household) first, or give the address as a point.")
        return point

    def _precaution_boundary(self, community: str, level: str) -> Area | None:
        """The boundary of the community's street (or district) as drawn now; None when it
        has none (the precaution zone is then a disc)."""
        target = Level.DISTRICT if level == "district" else Level.STREET
        for code in self.ancestry(community):
            node = self.node(code)
            if node.level is target:
                return node.boundary
        return None

    # ---- commands ----------------------------------------------------------------------------

    @command
    def draw_risk_zones(self, community_code: str, case_ids: Sequence[UUID] | None = None,
                        points: Sequence[Point] | None = None, reason: str = "", *,
                        by: Actor) -> ZoningReport:
        """三区划分 draw the three zones around the cases' located addresses and ``points``
        (several: the union of each one's zones), listing the community's households in each
        and those with no point by micro-grid."""
        at = self.clock()
        reason = free_text(reason, "reason for the zoning")
        community = self.node(community_code)
        community.require_active()
        if community.level is not Level.COMMUNITY:
            raise InvalidInput(f"{community.code} is a {community.level.label}, not a "
                               "community.", "Draw risk zones for a community (社区).")
        cases = list(dict.fromkeys(case_ids or ()))
        given = list(points or ())
        if not cases and not given:
            raise InvalidInput("No case and no point to draw risk zones around.",
                               "Give the cases (case_ids) or the addresses as points.")
        located = [self._case_point(cid) for cid in cases] + given
        policy = self.policy_at(at)
        boundary = self._precaution_boundary(community.code, policy.zoning_precaution_level)
        areas = zone_areas(located, boundary, policy)
        inside: dict[Zone, list[UUID]] = {z: [] for z in Zone}
        unlocated: dict[str, list[UUID]] = {}
        for h in self.households_in(community.code, for_reading=True):
            point = household_point(h.own_point, self._building_of(h))
            if point is None:
                unlocated.setdefault(h.micro_grid, []).append(h.id)
            elif (zone := zone_of(point, areas)) is not None:
                inside[zone].append(h.id)
        index = self._zoning_index() or RiskZonings.start(at)
        z = RiskZoning.draw(community.code, len(index.of(community.code)) + 1,
                            case_ids=cases, points=given, areas=areas, households=inside,
                            unlocated=unlocated, reason=reason, by=staff_of(by), at=at)
        index.add(community.code, z.id, at)
        nid = self._save(z, index)
        return ZoningReport(z.id, inside, unlocated, nid, UNLOCATED_NOTE if unlocated else "")

    @command
    def apply_zone_measures(self, zoning_id: UUID, *, by: Actor) -> ZoneMeasuresReport:
        """Impose each zone's measure on its households' residents through the measure rules,
        leaving those already under a measure as strict."""
        at = self.clock()
        z = self.risk_zoning(zoning_id)
        policy = self.policy_at(at)
        role = self._actor(by).role if isinstance(by, UUID) else None
        why = f"{ZONING_REASON}: {z.reason}" if z.reason else ZONING_REASON
        why = why[:500]
        report = ZoneMeasuresReport(0, 0, 0)
        changed: list[Household] = []
        for zone in Zone:
            measure = zone_measure(zone, policy)
            if measure is Measure.NONE:
                continue
            for hid in z.households.get(zone, []):
                h = self.household(hid)
                touched = False
                for rid, r in list(h.residents.items()):
                    if already_as_strict(r.measure, measure):
                        report.left += 1
                        continue
                    try:
                        h.change_measure(rid, measure, by=staff_of(by), role=role, reason=why,
                                         policy=policy, at=at)
                    except GridcoreError as e:
                        report.refused += 1
                        report.problems.append(f"{h.household_no}: {e.problem}")
                        continue
                    report.imposed += 1
                    touched = True
                if touched:
                    changed.append(h)
        z.record_measures(report.imposed, report.left, report.refused, report.problems,
                          staff_of(by), at)
        report.notification_id = self._save(z, *changed)
        return report

    @command
    def launch_zone_sweep(self, zoning_id: UUID, zone: Zone, days: int = 1, *,
                          by: Actor) -> ZoneSweep:
        """A sweep campaign over the households of one zone: the community's next round,
        planned as ``launch_campaign`` plans one, restricted to the zone's households."""
        at = self.clock()
        z = self.risk_zoning(zoning_id)
        zone = Zone(zone)
        hids = z.households.get(zone, [])
        if not hids:
            raise InvalidInput(f"The {zone.label} holds no located household.",
                               "Sweep another zone, or locate the households first.")
        if not isinstance(days, int) or not 1 <= days <= 366:
            raise InvalidInput(f"A sweep of {days!r} days is not possible.",
                               "Give 1-366 days, e.g. 1 for a sealed zone's daily sweep.")
        node = self.node(z.community)
        round_no = max(node.rounds, default=0) + 1
        assignment, node, plan = self._plan_round(z.community, round_no, days, at,
                                                  only=set(hids))
        c = Campaign.launch(z.community, round_no, f"{node.name} {zone.label} 第{round_no}轮排查",
                            at, at + timedelta(days=days),
                            sorted(set(assignment.owner) | set(assignment.uncovered), key=str),
                            at)
        index = self._find(OpenCampaigns, OPEN_CAMPAIGNS_ID) or OpenCampaigns.start(at)
        index.add(c.id, at)
        z.record_sweep(zone, c.id, staff_of(by), at)
        self._save(assignment, node, c, index, z)
        return ZoneSweep(c.id, round_no, plan)

    @command
    def lift_risk_zones(self, zoning_id: UUID, reason: str, *, by: Actor) -> int | None:
        """解除 an official lifts the zones before the rule would; the residents' measures end
        through the measure rules."""
        at = self.clock()
        reason = free_text(reason, "reason for lifting", required=True,
                           example="全员核酸连续阴性")
        z = self.risk_zoning(zoning_id)
        z.lift(by_rule=False, by=staff_of(by), reason=reason, policy=self.policy_at(at), at=at)
        index = self._zoning_index()
        if index is not None:
            index.end(z.id, at)
        return self._save(z, index)

    # ---- queries -----------------------------------------------------------------------------

    def door_to_door(self, hid: UUID) -> bool:
        """Whether deliveries to the household must reach its door first (送货上门, no
        collection point): it lies in the sealed zone of a zoning in force."""
        h = self._household_withheld(hid)
        community = self.node(h.micro_grid).parent_code
        return community is not None and hid in self.sealed_households(community)

    def risk_zones_at(self, community: str, when: datetime) -> list[RiskZoning]:
        """The zonings of a community in force at ``when`` (drawn by then, not yet lifted),
        oldest first, with their areas as drawn."""
        code = self.node(community).code
        index = self._find(RiskZonings, RISK_ZONINGS_ID, for_reading=True)
        found = (self._find(RiskZoning, zid, for_reading=True)
                 for zid in (index.of(code) if index else []))
        return [z for z in found if z is not None and z.in_force_at(when)]

    # ---- the clock ---------------------------------------------------------------------------

    def tick_risk_zonings(self, now: datetime) -> int:
        """For each zoning in force: record each new case inside its sealed or controlled
        zone (``Extended``), then lift it by the rule once quiet long enough; returns how
        many zonings changed."""
        index = self._find(RiskZonings, RISK_ZONINGS_ID, for_reading=True)
        ids = list(index.in_force) if index is not None else []
        return sum(1 for zid in ids if self._tick_risk_zoning(zid, now, by=System.AUTOMATION))

    @command
    def _tick_risk_zoning(self, zoning_id: UUID, now: datetime, *, by: Actor) -> bool:
        z = self.risk_zoning(zoning_id)
        if not z.in_force:
            return False
        changed = False
        for zone, hid in list(z.watched()):
            for cid, since in self._new_cases_of(hid, z.created_on, now):
                changed = z.extend(cid, zone, since, now) or changed
        index = None
        policy = self.policy_at(now)
        if now >= z.lift_due(policy):
            z.lift(by_rule=True, by=None, policy=policy, at=now,
                   reason=f"{policy.zoning_lift_after_days}天无新增病例 no new case for "
                          f"{policy.zoning_lift_after_days} days")
            index = self._zoning_index()
            if index is not None:
                index.end(z.id, now)
            changed = True
        if changed:
            self._save(z, index)
        return changed

    def _new_cases_of(self, hid: UUID, since: datetime,
                      now: datetime) -> list[tuple[UUID, datetime]]:
        """Cases opened from ``since`` to ``now`` whose index is a resident of the household
        (not ruled out), with when each was opened."""
        h = self._find_withheld(Household, hid)
        if h is None:
            return []
        out = []
        for rid in h.residents:
            listed = self._find(PersonCases, person_cases_id(rid), for_reading=True)
            for cid in listed.cases if listed is not None else []:
                c = self._find(Case, cid, for_reading=True)
                if c is not None and c.index_household_id == hid \
                        and c.status is not CaseStatus.RULED_OUT \
                        and since <= c.created_on <= now:
                    out.append((cid, c.created_on))
        return out

__all__ = ["UNLOCATED_NOTE", "ZoneMeasuresReport", "ZoneSweep", "ZoningCommands",
           "ZoningReport"]
