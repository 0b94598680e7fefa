"""Top-level spatial questions (空间查询): scoped to the caller's jurisdiction (see the
package's notes for what a household answer shows to whom)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Crs
from graphql_api.geo.types import (
    DashboardSettings,
    GeoPoint,
    GridDensity,
    PlacedHousehold,
    PointInput,
    SiteNear,
)
from graphql_api.privacy import may_see
from graphql_api.scope import node_visible
from graphql_api.zoning.layers import zone_features
from gridcore import geo
from gridcore.errors import GridcoreError
from projections import grid_rollup, spatial

POINT_FIELD = "PlacedHousehold.point"
"""What an unmasked read of a household's exact point is audited as."""
SEES_POINT = "Household.address"
"""Who sees a household's exact point: those who may see its address."""
ROUND = 3
"""Decimal places of a rounded point (0.001°: about 111 m north-south, 96 m east-west at
Wuhan's latitude)."""
MAX_RADIUS_M = 5000.0
MAX_FIRST = 500


def _refused(e: GridcoreError) -> GraphQLError:
    return GraphQLError(f"{e.problem} {e.remedy}".strip())


def _system(crs: Crs) -> geo.Crs:
    return geo.Crs(crs.value)


def _point(p: PointInput, crs: Crs) -> geo.Point:
    try:
        return geo.Point.given(p.lng, p.lat, _system(crs))
    except GridcoreError as e:
        raise _refused(e) from None


def _rounded(p: geo.Point) -> geo.Point:
    return geo.Point(lng=round(p.lng, ROUND), lat=round(p.lat, ROUND))


def _own_points(ctx: Context) -> spatial.OwnPoints:
    app = ctx.app

    def opened(ids: Sequence[str]) -> dict[str, geo.Point | None]:
        return {i: app.household(UUID(i)).own_point for i in ids}
    return opened


async def _index(ctx: Context) -> spatial.Index:
    return await asyncio.to_thread(spatial.index, ctx.views, _own_points(ctx))


async def _visible_grids(ctx: Context) -> set[str]:
    if ctx.caller is None:
        return set()
    return set(await asyncio.to_thread(grid_rollup.subtree_codes, ctx.views,
                                       ctx.caller.jurisdictions))


def _shown(ctx: Context, hid: str, micro_grid: str, exact: geo.Point,
           distance: float | None, crs: Crs) -> PlacedHousehold:
    """The household as the caller may see it (an exact point is audited)."""
    if may_see(ctx.caller, SEES_POINT):
        assert ctx.caller is not None
        ctx.audit.record(ctx.caller, POINT_FIELD, hid)
        return PlacedHousehold(household_id=strawberry.ID(hid), micro_grid=micro_grid,
                               distance_m=None if distance is None else round(distance, 1),
                               point=GeoPoint.of(exact, _system(crs)), exact=True)
    return PlacedHousehold(household_id=strawberry.ID(hid), micro_grid=micro_grid,
                           distance_m=None if distance is None else float(round(distance, -2)),
                           point=GeoPoint.of(_rounded(exact), _system(crs)), exact=False)


@strawberry.type
class GeoQuery:
    @strawberry.field(description="附近的户 the households of your jurisdiction within radiusM "
                                  "metres (at most 5000) of a point given in crs, nearest "
                                  "first, at most `first` (500): ids, micro-grids, distances "
                                  "and points (exact only for the roles that see addresses).")
    async def households_near(self, info: Info[Context, None], point: PointInput,
                              radius_m: float, crs: Crs = Crs.WGS84,
                              first: int = 100) -> list[PlacedHousehold]:
        ctx = info.context
        at = _point(point, crs)
        if not 0 <= radius_m <= MAX_RADIUS_M:
            raise GraphQLError(f"radiusM {radius_m:g} is out of range. Give a radius from 0 "
                               f"to {MAX_RADIUS_M:g} metres.")
        if not 1 <= first <= MAX_FIRST:
            raise GraphQLError(f"first {first} is out of range. Ask for 1 to {MAX_FIRST}.")
        grids = await _visible_grids(ctx)
        if not grids:
            return []
        index = await _index(ctx)
        exact = may_see(ctx.caller, SEES_POINT)
        # others: every answer is a function of the rounded point (the margin covers it)
        found = index.near(at, radius_m if exact else radius_m + 150.0)
        out: list[tuple[float, str, str, geo.Point]] = []
        for n in found:
            if n.micro_grid not in grids:
                continue
            d = n.distance_m if exact else geo.distance_m(at, _rounded(n.point))
            if d <= radius_m:
                out.append((d, n.household_id, n.micro_grid, n.point))
        out.sort(key=lambda t: (t[0], t[1]))
        return [_shown(ctx, hid, g, p, d, crs) for d, hid, g, p in out[:first]]

    @strawberry.field(description="范围内的户 the households of your jurisdiction inside a "
                                  "polygon (a GeoJSON Polygon or MultiPolygon, or a Feature of "
                                  "one, in crs), by id, at most 500: ids, micro-grids and points "
                                  "(exact only for the roles that see addresses).")
    async def households_inside(self, info: Info[Context, None], polygon: JSON,
                                crs: Crs = Crs.WGS84) -> list[PlacedHousehold]:
        ctx = info.context
        given: Any = polygon
        if isinstance(given, dict) and given.get("type") == "Feature":
            given = given.get("geometry")
        try:
            area = geo.parse_area(cast(dict[str, Any], given), _system(crs), what="polygon")
        except GridcoreError as e:
            raise _refused(e) from None
        grids = await _visible_grids(ctx)
        if not grids:
            return []
        index = await _index(ctx)
        exact = may_see(ctx.caller, SEES_POINT)
        if exact:
            hits = [(h.household_id, h.micro_grid, h.point) for h in index.inside(area)]
        else:
            wide = geo.area_of(area.geometry().buffer(0.002))
            hits = [(h.household_id, h.micro_grid, h.point) for h in index.inside(wide)
                    if area.contains(_rounded(h.point))]
        return [_shown(ctx, hid, g, p, None, crs)
                for hid, g, p in hits if g in grids][:MAX_FIRST]

    @strawberry.field(description="网格密度 per micro-grid under a node of your jurisdiction (its "
                                  "children; the micro-grid itself when `code` is one): "
                                  "households, confirmed cases, contacts under follow-up and "
                                  "households not yet covered by the open sweeps, and each per "
                                  "km² of its boundary; empty outside your jurisdiction.")
    async def grid_density(self, info: Info[Context, None], code: str) -> list[GridDensity]:
        ctx = info.context
        if not await node_visible(ctx, code):
            return []
        found = await asyncio.to_thread(spatial.grid_density, ctx.views, code,
                                        ctx.app.clock())
        return [GridDensity(code=d.code, name=d.name, households=d.households, cases=d.cases,
                            contacts=d.contacts, uncovered=d.uncovered,
                            square_km=d.square_km,
                            households_per_km2=d.per_km2.get("households"),
                            cases_per_km2=d.per_km2.get("cases"),
                            contacts_per_km2=d.per_km2.get("contacts"),
                            uncovered_per_km2=d.per_km2.get("uncovered"))
                for d in found]

    @strawberry.field(description="最近的集中隔离点 the located quarantine site with free places "
                                  "nearest a point (given in crs), with its distance; null when "
                                  "none has a free place, or without a token.")
    async def nearest_quarantine_site(self, info: Info[Context, None], point: PointInput,
                                      crs: Crs = Crs.WGS84) -> SiteNear | None:
        ctx = info.context
        at = _point(point, crs)
        if ctx.caller is None:
            return None
        index = await _index(ctx)
        found = index.nearest_free_site(at)
        if found is None:
            return None
        site, distance = found
        return SiteNear(code=site.code, name=site.label, node_code=site.node,
                        capacity=site.capacity, free=site.free, distance_m=round(distance, 1),
                        point=GeoPoint.of(geo.Point(lng=site.lng, lat=site.lat),
                                          _system(crs)))

    @strawberry.field(description="看板设置 the dashboard's settings (the map's tiles); null "
                                  "without a staff token.")
    def dashboard_settings(self, info: Info[Context, None]) -> DashboardSettings | None:
        ctx = info.context
        if ctx.caller is None:
            return None
        return DashboardSettings(map_tiles=ctx.settings.map_tiles or None,
                                 map_attribution=ctx.settings.map_attribution or None)

    @strawberry.field(description="地图图层 the dashboard map of a node of your jurisdiction: a "
                                  "GeoJSON FeatureCollection of its subtree's boundaries "
                                  "(properties layer=boundary, code, coverage of the open "
                                  "sweeps, cases, openItems) and the points of its quarantine "
                                  "sites (capacity, free), cameras and checkpoints, and the "
                                  "risk zones in force (layer=risk_zone, zone 封控区/管控区/"
                                  "防范区, kind, zoningId, households), in crs; null outside "
                                  "your jurisdiction.")
    async def map_layers(self, info: Info[Context, None], code: str,
                         crs: Crs = Crs.WGS84) -> JSON | None:
        ctx = info.context
        if not await node_visible(ctx, code):
            return None
        found = await asyncio.to_thread(spatial.map_layers, ctx.views, code, _system(crs))
        if found.get("features") is not None:
            found["features"] += await asyncio.to_thread(zone_features, ctx.app, ctx.views,
                                                         code, _system(crs))
        return cast(JSON, found)
