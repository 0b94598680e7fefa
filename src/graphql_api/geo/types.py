"""The types of the spatial questions (see the package's notes)."""

from __future__ import annotations

import strawberry

from gridcore import geo


@strawberry.input(description="一个点 a point: longitude and latitude in decimal degrees, in the "
                              "`crs` the question names.")
class PointInput:
    lng: float
    lat: float


@strawberry.type(description="一个点 a point, in the coordinate system asked for.")
class GeoPoint:
    lng: float
    lat: float

    @classmethod
    def of(cls, p: geo.Point, crs: geo.Crs) -> GeoPoint:
        x, y = geo.from_wgs84(crs, p.lng, p.lat)
        return cls(lng=round(x, 7), lat=round(y, 7))


@strawberry.type(description="户的位置 a household's place: its id and micro-grid, never its name, "
                             "number or address. `point` is exact (its own door, else its "
                             "building) for the roles that may see an address, and audited; "
                             "for other roles it is rounded to 0.001° (about 100 m), as is "
                             "`distanceM`, and `exact` is false.")
class PlacedHousehold:
    household_id: strawberry.ID
    micro_grid: str
    distance_m: float | None
    point: GeoPoint
    exact: bool


@strawberry.type(description="网格密度 a micro-grid's households, confirmed cases, contacts under "
                             "follow-up and households not yet covered by the open sweeps, and "
                             "each per km² of its drawn boundary (null without one).")
class GridDensity:
    code: str
    name: str
    households: int
    cases: int
    contacts: int
    uncovered: int
    square_km: float | None
    households_per_km2: float | None
    cases_per_km2: float | None
    contacts_per_km2: float | None
    uncovered_per_km2: float | None


@strawberry.type(description="集中隔离点 a located quarantine site with free places, and how far "
                             "it is (metres, great circle).")
class SiteNear:
    code: str
    name: str
    node_code: str
    capacity: int
    free: int
    distance_m: float
    point: GeoPoint


@strawberry.type(description="看板设置 what the dashboard is configured with by the deployment.")
class DashboardSettings:
    map_tiles: str | None = strawberry.field(
        description="The map's tile URL template ({z}/{x}/{y}; GRIDCORE_MAP_TILES), or null: "
                    "no tile server, the polygons on a plain background.")
    map_attribution: str | None = strawberry.field(
        description="The tiles' attribution (GRIDCORE_MAP_ATTRIBUTION), or null.")
