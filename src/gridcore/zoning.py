"""Risk zoning around a case (三区划分): the sealed zone (封控区), the controlled zone (管控区)
and the precaution zone (防范区) an official draws around the located address of one or more
cases, the measures each zone's residents get, and when the zones are lifted.

One aggregate per zoning (``RiskZoning``): the three areas as drawn, the households of the
community found inside each (by ``location.household_point``: their own point, else their
building's) and those with no point, listed by micro-grid for an official to check; then the
bulk measures, the sweeps launched over a zone, each new case found inside that extends it,
and its lifting (by the rule or by an official). Its areas never change once drawn, so the
zones in force at a past time are the zonings drawn by then and not yet lifted.

The rules are pure functions with the time and the policy passed in: the areas
(``zone_areas``: a building's footprint is not known, so the sealed zone is the building's
point buffered by the policy's radius; the controlled zone lies within a wider radius less
the sealed zone; the precaution zone is the rest of the case's street, or district, or of a
disc when that node has no boundary), which zone holds a point (``zone_of``), the measure
of a zone (``zone_measure``), whether a resident's measure is already as strict
(``already_as_strict``), and when a quiet zoning is lifted (``lift_due``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import shapely
from shapely.geometry import MultiPolygon, Polygon

from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.errors import ForbiddenTransition, InvalidInput
from gridcore.geo import Area, Point, area_of, circle
from gridcore.policy import Policy
from gridcore.status import Measure


class Zone(StrEnum):
    """The three zones; 封控区's stored value is "lockdown" (a stored event holding the
    key "sealed" would read as a sealed personal value, ``base.Personal``)."""

    SEALED = "lockdown"
    CONTROLLED = "controlled"
    PRECAUTION = "precaution"

    @property
    def label(self) -> str:
        return ZONE_LABELS[self]


ZONE_LABELS = {
    Zone.SEALED: "封控区 sealed zone (lockdown)",
    Zone.CONTROLLED: "管控区 controlled zone",
    Zone.PRECAUTION: "防范区 precaution zone",
}

ZONING_REASON = "三区划分 risk zoning"
"""The reason a zone's measure is recorded with (with the official's own reason after it)."""


def zoning_id(community: str, n: int) -> UUID:
    """The id of the ``n``-th zoning drawn in a community (1, 2, ...)."""
    return stable_id("risk-zoning", f"{community}:{n}")


# ---- rules: pure, the time and the policy passed in -------------------------------------------

def zone_areas(points: Sequence[Point], precaution_boundary: Area | None,
               policy: Policy) -> dict[Zone, Area]:
    """The three zones around ``points`` (several addresses: the union of each one's zones):
    sealed, the discs of the sealed radius; controlled, the discs of the controlled radius
    less the sealed zone; precaution, ``precaution_boundary`` (the case's street or
    district; None: the discs of the precaution radius) less the controlled discs. A sealed
    or controlled zone left empty is refused: the policy's radii or the boundary are wrong."""
    if not points:
        raise InvalidInput("Risk zones need at least one located address.",
                           "Give the cases (their index's household located) or points.")
    sealed = shapely.union_all([circle(p, policy.zoning_sealed_radius_m).geometry()
                                for p in points])
    near = shapely.union_all([circle(p, policy.zoning_controlled_radius_m).geometry()
                              for p in points])
    outer = (precaution_boundary.geometry() if precaution_boundary is not None
             else shapely.union_all([circle(p, policy.zoning_precaution_radius_m).geometry()
                                     for p in points]))
    out = {Zone.SEALED: _area(sealed),
           Zone.CONTROLLED: _area(near.difference(sealed)),
           Zone.PRECAUTION: _area(outer.difference(near))}
    for zone in (Zone.SEALED, Zone.CONTROLLED):
        if not out[zone].polygons:
            raise InvalidInput(f"The {zone.label} came out empty.",
                               "Check the policy's zoning radii (sealed < controlled < "
                               "precaution).")
    return out


def _area(geometry: Any) -> Area:
    """The polygons of a shapely geometry (a collection's lines and points dropped)."""
    parts = [g for g in shapely.get_parts(shapely.make_valid(geometry))
             if isinstance(g, Polygon | MultiPolygon) and not g.is_empty]
    polys = [q for g in parts for q in (g.geoms if isinstance(g, MultiPolygon) else [g])]
    return area_of(MultiPolygon(polys)) if polys else Area(polygons=())


def zone_of(point: Point, areas: Mapping[Zone, Area]) -> Zone | None:
    """The zone holding ``point`` (the strictest when on a shared edge); None: outside all."""
    for zone in Zone:
        area = areas.get(zone)
        if area is not None and area.polygons and area.contains(point):
            return zone
    return None


def zone_measure(zone: Zone, policy: Policy) -> Measure:
    """The measure the policy gives a zone's residents (``Measure.NONE``: none)."""
    return Measure(policy.zoning_measures.get(zone.value, "none"))


def already_as_strict(current: Measure, target: Measure) -> bool:
    """Whether a resident under ``current`` is left as is when a zone imposes ``target``:
    the measures' own order (``Measure.rank``): a resident already in centralized
    quarantine or hospital is not moved home."""
    return current.rank >= target.rank


def lift_due(quiet_since: datetime, policy: Policy) -> datetime:
    """When a zoning whose last case inside was at ``quiet_since`` is lifted by the rule."""
    return quiet_since + timedelta(days=policy.zoning_lift_after_days)


# ---- the aggregate ----------------------------------------------------------------------------

class RiskZoning(Aggregate):
    """The three zones drawn around cases in a community, and what followed."""

    label = "三区划分 risk zoning"

    community: str
    number: int
    case_ids: list[UUID]
    points: list[Point]
    areas: dict[Zone, Area]
    households: dict[Zone, list[UUID]]
    unlocated: dict[str, list[UUID]]
    reason: str
    drawn_by: UUID | None
    quiet_since: datetime
    extensions: list[tuple[datetime, UUID]]
    applied: list[tuple[datetime, UUID | None]]
    sweeps: dict[Zone, list[UUID]]
    lifted_at: datetime | None
    lifted_by_rule: bool

    class Drawn(Created):
        """Drawn by ``by`` around ``case_ids`` (their index's located address) and ``points``
        (places given directly); ``households``: the community's households found in each
        zone; ``unlocated``: those with no point, by micro-grid, to be checked."""

        community: str
        number: int
        case_ids: list[UUID]
        points: list[Point]
        areas: dict[Zone, Area]
        households: dict[Zone, list[UUID]]
        unlocated: dict[str, list[UUID]]
        reason: str
        by: UUID | None

        def apply(self, z: RiskZoning) -> None:
            z.community, z.number = self.community, self.number
            z.case_ids, z.points = list(self.case_ids), list(self.points)
            z.areas = dict(self.areas)
            z.households = {k: list(v) for k, v in self.households.items()}
            z.unlocated = {k: list(v) for k, v in self.unlocated.items()}
            z.reason, z.drawn_by = self.reason, self.by
            z.quiet_since = self.timestamp
            z.extensions, z.applied, z.sweeps = [], [], {}
            z.lifted_at, z.lifted_by_rule = None, False

    class MeasuresApplied(Event):
        """The zones' measures were imposed by ``by`` (each resident's own ``MeasureChanged``
        records it); ``imposed``/``left``/``refused`` count residents: imposed, left as they
        were (already as strict), refused by the measure rules (``problems`` says why)."""

        by: UUID | None
        imposed: int
        left: int
        refused: int
        problems: list[str] = []

        def apply(self, z: RiskZoning) -> None:
            z.applied.append((self.timestamp, self.by))

    class SweepLaunched(Event):
        zone: Zone
        campaign_id: UUID
        by: UUID | None

        def apply(self, z: RiskZoning) -> None:
            z.sweeps.setdefault(self.zone, []).append(self.campaign_id)

    class Extended(Event):
        """A new case was found inside the sealed or controlled zone: the quiet days count
        again from ``since`` (when that case was opened)."""

        case_id: UUID
        zone: Zone
        since: datetime

        def apply(self, z: RiskZoning) -> None:
            z.case_ids.append(self.case_id)
            z.extensions.append((self.since, self.case_id))
            z.quiet_since = max(z.quiet_since, self.since)

    class Lifted(Event):
        """解除 the zones end: by the rule (``by_rule``: the quiet days passed) or by an
        official (``by``) with a reason. The residents' measures are not released here:
        each ends through the measure rules (period served, negative test)."""

        by_rule: bool
        by: UUID | None
        reason: str

        def apply(self, z: RiskZoning) -> None:
            z.lifted_at, z.lifted_by_rule = self.timestamp, self.by_rule

    @classmethod
    def draw(cls, community: str, number: int, *, case_ids: Sequence[UUID],
             points: Sequence[Point], areas: Mapping[Zone, Area],
             households: Mapping[Zone, Sequence[UUID]], unlocated: Mapping[str, Sequence[UUID]],
             reason: str, by: UUID | None, at: datetime) -> RiskZoning:
        return cls._create(
            cls.Drawn, zoning_id(community, number), at, community=community, number=number,
            case_ids=list(case_ids), points=list(points), areas=dict(areas),
            households={z: list(households.get(z, ())) for z in Zone},
            unlocated={k: list(v) for k, v in unlocated.items()}, reason=reason, by=by)

    # ---- reading ---------------------------------------------------------------------------

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None

    def in_force_at(self, when: datetime) -> bool:
        """Whether the zones were in force at ``when`` (drawn by then, not yet lifted)."""
        return self.created_on <= when and (self.lifted_at is None or when < self.lifted_at)

    def zone_of_household(self, hid: UUID) -> Zone | None:
        for zone in Zone:
            if hid in self.households.get(zone, ()):
                return zone
        return None

    def watched(self) -> Iterable[tuple[Zone, UUID]]:
        """The households whose new case extends the zoning: the sealed and controlled
        zones'."""
        for zone in (Zone.SEALED, Zone.CONTROLLED):
            for hid in self.households.get(zone, ()):
                yield zone, hid

    def lift_due(self, policy: Policy) -> datetime:
        return lift_due(self.quiet_since, policy)

    def _require_in_force(self, doing: str) -> None:
        if self.lifted_at is not None:
            raise ForbiddenTransition(
                f"The risk zones {self.number} of {self.community} were lifted at "
                f"{self.lifted_at.isoformat()}: they cannot {doing}.",
                "Draw new zones (draw_risk_zones) if the area is at risk again.")

    # ---- decisions -------------------------------------------------------------------------

    def record_measures(self, imposed: int, left: int, refused: int, problems: Sequence[str],
                        by: UUID | None, at: datetime) -> None:
        self._require_in_force("have their measures applied")
        self._trigger(self.MeasuresApplied, at, by=by, imposed=imposed, left=left,
                      refused=refused, problems=list(problems)[:50])

    def record_sweep(self, zone: Zone, campaign: UUID, by: UUID | None, at: datetime) -> None:
        self._require_in_force("be swept")
        self._trigger(self.SweepLaunched, at, zone=zone, campaign_id=campaign, by=by)

    def extend(self, case: UUID, zone: Zone, since: datetime, at: datetime) -> bool:
        """A new case inside the sealed or controlled zone (opened ``since``): the quiet days
        count again from then. A case already counted, or the zones lifted: nothing."""
        if self.lifted_at is not None or case in self.case_ids:
            return False
        if zone is Zone.PRECAUTION:
            raise InvalidInput("A case in the precaution zone does not extend the zoning.",
                               "Only a case inside the sealed or controlled zone does.")
        self._trigger(self.Extended, at, case_id=case, zone=zone, since=since)
        return True

    def lift(self, *, by_rule: bool, by: UUID | None, reason: str, policy: Policy,
             at: datetime) -> None:
        """Lift the zones: by the rule once ``zoning_lift_after_days`` passed quietly, or by
        an official with a reason at any time."""
        self._require_in_force("be lifted again")
        if by_rule:
            due = self.lift_due(policy)
            if at < due:
                raise InvalidInput(f"The risk zones are not quiet long enough: they lift at "
                                   f"{due.isoformat()}.", "Wait, or have an official lift them.")
        elif not reason.strip():
            raise InvalidInput("Lifting risk zones needs a reason.",
                               "Say why, e.g. '全员核酸连续阴性 all tests negative'.")
        self._trigger(self.Lifted, at, by_rule=by_rule, by=by, reason=reason)


__all__ = ["ZONE_LABELS", "ZONING_REASON", "RiskZoning", "Zone", "already_as_strict",
           "lift_due", "zone_areas", "zone_measure", "zone_of", "zoning_id"]
