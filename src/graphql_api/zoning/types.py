"""The types of risk zoning (三区划分, see the package's notes)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, cast
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Crs
from graphql_api.geo.queries import POINT_FIELD, SEES_POINT, _index, _rounded
from graphql_api.geo.types import GeoPoint
from graphql_api.privacy import may_see
from graphql_api.scope import node_visible
from graphql_api.zoning.layers import ZONE_NAMES, zone_feature
from gridcore import geo, zoning


@strawberry.enum(description="三区 the zones of a risk zoning: 封控区 LOCKDOWN (the sealed "
                             "zone), 管控区 CONTROLLED, 防范区 PRECAUTION.")
class ZoneKind(Enum):
    LOCKDOWN = "lockdown"
    CONTROLLED = "controlled"
    PRECAUTION = "precaution"

    @property
    def domain(self) -> zoning.Zone:
        return zoning.Zone(self.value)


@strawberry.type(description="户 a household of a zone: its id and micro-grid, never its name, "
                             "number or address. `point` (where it stands now: its own door, "
                             "else its building; null when it has none any more) is exact for "
                             "the roles that may see an address, and audited; rounded to 0.001° "
                             "(about 100 m) for the others, and `exact` is false.")
class ZoneHousehold:
    household_id: strawberry.ID
    micro_grid: str | None
    point: GeoPoint | None
    exact: bool


@strawberry.type(description="未定位住户 households of the community with no point when the zones "
                             "were drawn, in no zone: an official checks and locates them.")
class UnlocatedHouseholds:
    micro_grid: str
    household_ids: list[strawberry.ID]
    count: int


@strawberry.type(description="一个区 one zone of a zoning: its area and its households as drawn.")
class RiskZone:
    zone: ZoneKind
    name: str = strawberry.field(description="封控区, 管控区 or 防范区")
    label: str = strawberry.field(description="the zone's label, e.g. '封控区 sealed zone "
                                              "(lockdown)'")
    household_count: int = strawberry.field(description="its households as drawn")
    _zoning: strawberry.Private[zoning.RiskZoning]

    @strawberry.field(description="区域 the zone's area as a GeoJSON Feature (a MultiPolygon "
                                  "in `crs`, default WGS84; properties layer, zone (封控区/"
                                  "管控区/防范区), kind, label, zoningId, community, "
                                  "households, crs).")
    def area(self, crs: Crs = Crs.WGS84) -> JSON:
        return cast(JSON, zone_feature(self._zoning, self.zone.domain, geo.Crs(crs.value)))

    @strawberry.field(description="户 the zone's households of your jurisdiction, by id: ids and "
                                  "micro-grids only, points in `crs` (exact only for the roles "
                                  "that see addresses).")
    async def households(self, info: Info[Context, None],
                         crs: Crs = Crs.WGS84) -> list[ZoneHousehold]:
        ctx = info.context
        ids = sorted(str(h) for h in self._zoning.households.get(self.zone.domain, ()))
        if not ids:
            return []
        index = await _index(ctx)
        placed = {h.household_id: h for h in index.households}
        exact = may_see(ctx.caller, SEES_POINT)
        system = geo.Crs(crs.value)
        rows = await ctx.loaders.household.load_many(ids)
        out = []
        for hid, row in zip(ids, rows, strict=True):
            p = placed.get(hid)
            grid = p.micro_grid if p is not None else (row.micro_grid if row else None)
            if grid is None or not await node_visible(ctx, grid):
                continue
            point = None
            if p is not None:
                if exact:
                    assert ctx.caller is not None
                    ctx.audit.record(ctx.caller, POINT_FIELD, hid)
                point = GeoPoint.of(p.point if exact else _rounded(p.point), system)
            out.append(ZoneHousehold(household_id=strawberry.ID(hid), micro_grid=grid,
                                     point=point, exact=exact and point is not None))
        return out


@strawberry.type(description="延长 a new case inside the sealed or controlled zone: the quiet "
                             "days count again from `since`.")
class ZoningExtension:
    since: datetime
    case_id: strawberry.ID


@strawberry.type(description="排查 a sweep launched over one zone.")
class ZoneSweepRef:
    zone: ZoneKind
    campaign_id: strawberry.ID


@strawberry.type(description="三区划分 a risk zoning: the sealed (封控区), controlled (管控区) and "
                             "precaution (防范区) zones drawn around cases of a community, as "
                             "drawn (they never change), and what followed. Who drew and lifted "
                             "it reads as a staff id only.")
class RiskZoning:
    id: strawberry.ID
    community: str
    number: int = strawberry.field(description="the community's n-th zoning")
    reason: str
    case_ids: list[strawberry.ID]
    drawn_at: datetime
    drawn_by_id: strawberry.ID | None
    lift_due: datetime = strawberry.field(
        description="解除 when the rule lifts it: the policy's quiet days after the last case "
                    "inside (a new case inside the sealed or controlled zone moves it)")
    lifted: bool
    lifted_at: datetime | None
    lifted_by_rule: bool
    extensions: list[ZoningExtension]
    measures_applied_at: list[datetime]
    sweeps: list[ZoneSweepRef]
    zones: list[RiskZone]
    _zoning: strawberry.Private[zoning.RiskZoning]

    @strawberry.field(description="未定位住户 the community's households of your jurisdiction "
                                  "that had no point when the zones were drawn (in no zone), "
                                  "by micro-grid: check and locate them.")
    async def unlocated(self, info: Info[Context, None]) -> list[UnlocatedHouseholds]:
        out = []
        for grid, hids in sorted(self._zoning.unlocated.items()):
            if await node_visible(info.context, grid):
                out.append(UnlocatedHouseholds(
                    micro_grid=grid, household_ids=[strawberry.ID(str(h)) for h in hids],
                    count=len(hids)))
        return out

    @classmethod
    def of(cls, z: zoning.RiskZoning, lift_due: datetime) -> RiskZoning:
        return cls(
            id=strawberry.ID(str(z.id)), community=z.community, number=z.number,
            reason=z.reason, case_ids=[strawberry.ID(str(c)) for c in z.case_ids],
            drawn_at=z.created_on,
            drawn_by_id=strawberry.ID(str(z.drawn_by)) if z.drawn_by else None,
            lift_due=lift_due, lifted=z.lifted_at is not None, lifted_at=z.lifted_at,
            lifted_by_rule=z.lifted_by_rule,
            extensions=[ZoningExtension(since=s, case_id=strawberry.ID(str(c)))
                        for s, c in z.extensions],
            measures_applied_at=[at for at, _ in z.applied],
            sweeps=[ZoneSweepRef(zone=ZoneKind(zone.value), campaign_id=strawberry.ID(str(c)))
                    for zone, cs in z.sweeps.items() for c in cs],
            zones=[RiskZone(zone=ZoneKind(zone.value), name=ZONE_NAMES[zone], label=zone.label,
                            household_count=len(z.households.get(zone, ())), _zoning=z)
                   for zone in zoning.Zone],
            _zoning=z)


def read_zoning(app: Any, zid: UUID) -> RiskZoning:
    """A zoning as the API shows it (read from the event store: call off the loop)."""
    z = app.risk_zoning(zid)
    return RiskZoning.of(z, z.lift_due(app.policy_at(app.clock())))
