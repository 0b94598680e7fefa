"""Geography (地理信息): points and areas in WGS-84, the coordinate systems Chinese maps use, and
the rules a grid's boundaries keep, with the geometry done by shapely.

Everything gridcore stores is WGS-84 longitude and latitude (GPS, 天地图 and OpenStreetMap use
it). Files and map clicks may come in GCJ-02 (the national "encrypted" datum of Amap/高德 and
Tencent/腾讯 maps) or BD-09 (Baidu/百度's offset on top of GCJ-02); ``to_wgs84`` and
``from_wgs84`` convert, and whoever hands coordinates in says which system they are in. The
conversion is the published GCJ-02 formula (no maintained Python package carries it without
GDAL); GCJ-02 has no closed inverse, so the way back is solved by fixed-point iteration to
well under a millimetre. Outside China the datums coincide.

An ``Area`` is one or more polygons (a GeoJSON Polygon or MultiPolygon), each an exterior ring
and its holes. The rules a boundary keeps (a valid ring, within its parent, not overlapping a
sibling, the children covering their parent) are pure functions here; areas and distances are
in square metres and metres, on a local projection that is exact enough for a city's extent.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from itertools import pairwise
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pydantic import Field
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.strtree import STRtree
from shapely.validation import explain_validity

from gridcore.base import Immutable
from gridcore.errors import InvalidInput

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG), for great-circle distances."""
M_PER_DEG_LAT = 111_132.954
"""Metres per degree of latitude near the middle latitudes of China (the local projection)."""


class Crs(StrEnum):
    """A coordinate reference system a file or a client gives coordinates in."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"

    @property
    def label(self) -> str:
        return {Crs.WGS84: "WGS-84 (GPS、天地图、OpenStreetMap)",
                Crs.GCJ02: "GCJ-02 (高德、腾讯地图)",
                Crs.BD09: "BD-09 (百度地图)"}[self]


def parse_crs(value: str) -> Crs:
    """The system named by ``value`` (``wgs84``, ``gcj02``, ``bd09``, with or without the dash,
    or the map's name: ``amap``/``gaode``/``tencent``, ``baidu``, ``gps``)."""
    key = value.strip().lower().replace("-", "").replace("_", "")
    aliases = {"wgs84": Crs.WGS84, "gps": Crs.WGS84, "epsg4326": Crs.WGS84,
               "gcj02": Crs.GCJ02, "amap": Crs.GCJ02, "gaode": Crs.GCJ02,
               "tencent": Crs.GCJ02, "高德": Crs.GCJ02, "腾讯": Crs.GCJ02,
               "bd09": Crs.BD09, "baidu": Crs.BD09, "百度": Crs.BD09}
    try:
        return aliases[key]
    except KeyError:
        raise InvalidInput(f"Unknown coordinate system {value!r}.",
                           "Say which system the coordinates are in: wgs84 (GPS, 天地图), "
                           "gcj02 (高德, 腾讯) or bd09 (百度).") from None


# ---- the datums ---------------------------------------------------------------------------

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as GCJ-02 uses it
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def out_of_china(lng: float, lat: float) -> bool:
    """Whether a point lies outside the box GCJ-02 offsets (there the datums coincide)."""
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset(lng: float, lat: float) -> tuple[float, float]:
    x, y = lng - 105.0, lat - 35.0
    waves = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + waves
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
            + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3)
    dlng = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + waves
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
            + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    root = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * root) * math.pi)
    dlng = (dlng * 180.0) / (_A / root * math.cos(rad) * math.pi)
    return dlng, dlat


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    if out_of_china(lng, lat):
        return lng, lat
    dlng, dlat = _offset(lng, lat)
    return lng + dlng, lat + dlat


def gcj02_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    z = math.hypot(lng, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _invert(forward: Any, lng: float, lat: float) -> tuple[float, float]:
    """The point ``forward`` maps onto (lng, lat), by fixed-point iteration: ``forward`` moves
    a point by a smooth offset of a few hundred metres at most, so each step divides the error
    by about a thousand."""
    x, y = lng, lat
    for _ in range(30):
        fx, fy = forward(x, y)
        dx, dy = fx - lng, fy - lat
        if abs(dx) < 1e-12 and abs(dy) < 1e-12:
            break
        x, y = x - dx, y - dy
    return x, y


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    if out_of_china(lng, lat):
        return lng, lat
    return _invert(wgs84_to_gcj02, lng, lat)


def bd09_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    return _invert(gcj02_to_bd09, lng, lat)


def to_wgs84(crs: Crs, lng: float, lat: float) -> tuple[float, float]:
    """(lng, lat) given in ``crs``, in WGS-84."""
    if crs is Crs.GCJ02:
        return gcj02_to_wgs84(lng, lat)
    if crs is Crs.BD09:
        return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))
    return lng, lat


def from_wgs84(crs: Crs, lng: float, lat: float) -> tuple[float, float]:
    """WGS-84 (lng, lat) in ``crs`` (for an export to a map in that system)."""
    if crs is Crs.GCJ02:
        return wgs84_to_gcj02(lng, lat)
    if crs is Crs.BD09:
        return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))
    return lng, lat


# ---- points and distances ---------------------------------------------------------------

class Point(Immutable):
    """A place in WGS-84: longitude east, latitude north, in degrees."""

    lng: float = Field(ge=-180.0, le=180.0, allow_inf_nan=False)
    lat: float = Field(ge=-90.0, le=90.0, allow_inf_nan=False)

    @classmethod
    def given(cls, lng: float, lat: float, crs: Crs = Crs.WGS84) -> Point:
        """A point given in ``crs``; coordinates out of range are refused with the ranges."""
        for name, value, bound in (("longitude", lng, 180.0), ("latitude", lat, 90.0)):
            if not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or abs(value) > bound:
                raise InvalidInput(f"The {name} {value!r} is not a coordinate.",
                                   f"Give a {name} between -{bound:g} and {bound:g} degrees "
                                   "(decimal degrees, longitude first as in GeoJSON).")
        x, y = to_wgs84(crs, float(lng), float(lat))
        return cls(lng=round(x, 7), lat=round(y, 7))

    def shifted(self, east_m: float, north_m: float) -> Point:
        """The point ``east_m`` metres east and ``north_m`` north of this one."""
        return Point(lng=round(self.lng + east_m / _m_per_deg_lng(self.lat), 7),
                     lat=round(self.lat + north_m / M_PER_DEG_LAT, 7))


def _m_per_deg_lng(lat: float) -> float:
    return M_PER_DEG_LAT * math.cos(math.radians(lat))


def distance_m(a: Point, b: Point) -> float:
    """The great-circle distance between two points, in metres (haversine)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lng - a.lng)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


# ---- areas --------------------------------------------------------------------------------

Position = tuple[float, float]
Ring = tuple[Position, ...]


class Area(Immutable):
    """One or more polygons in WGS-84, each its exterior ring then its holes (GeoJSON order:
    longitude, latitude; each ring closed)."""

    polygons: tuple[tuple[Ring, ...], ...]

    def geometry(self) -> MultiPolygon:
        return _geometry(self.polygons)

    def to_geojson(self, crs: Crs = Crs.WGS84) -> dict[str, Any]:
        """The area as a GeoJSON geometry, in ``crs``."""
        polys = [[[list(from_wgs84(crs, x, y)) for x, y in ring] for ring in p]
                 for p in self.polygons]
        if len(polys) == 1:
            return {"type": "Polygon", "coordinates": polys[0]}
        return {"type": "MultiPolygon", "coordinates": polys}

    def contains(self, p: Point) -> bool:
        """Whether ``p`` lies inside the area or on its edge: for a point, intersecting the
        (closed) area is covering it, and ``intersects_xy`` makes no shapely point (a
        registration checks each household against its micro-grid's boundary: 15 µs a check
        instead of 51, an eighth of a generated city's registration)."""
        return bool(shapely.intersects_xy(self.geometry(), p.lng, p.lat))

    def centre(self) -> Point:
        """A point surely inside the area (for a label or a map's focus)."""
        c = self.geometry().point_on_surface()
        return Point(lng=round(c.x, 7), lat=round(c.y, 7))

    def square_metres(self) -> float:
        return float(metric(self.geometry(), self.centre().lat).area)


@functools.lru_cache(maxsize=4096)
def _geometry(polygons: tuple[tuple[Ring, ...], ...]) -> MultiPolygon:
    """The shapely geometry of an area's polygons, built once per boundary (shapely's
    geometries are immutable): registering a batch checks every household against its
    micro-grid's boundary, and building the geometry each time was a sixth of a generated
    city's registration."""
    return MultiPolygon([(p[0], list(p[1:])) for p in polygons])


def area_of(geometry: Any) -> Area:
    """An ``Area`` of a valid shapely Polygon or MultiPolygon already in WGS-84."""
    parts = list(geometry.geoms) if isinstance(geometry, MultiPolygon) else [geometry]
    return Area(polygons=tuple(
        tuple(tuple((round(x, 7), round(y, 7)) for x, y in ring.coords)
              for ring in (p.exterior, *p.interiors))
        for p in parts if isinstance(p, Polygon) and not p.is_empty))


def circle(centre: Point, radius_m: float, segments: int = 32) -> Area:
    """A disc of ``radius_m`` around ``centre`` as a polygon of ``segments`` sides."""
    ring = [centre.shifted(radius_m * math.cos(2 * math.pi * i / segments),
                           radius_m * math.sin(2 * math.pi * i / segments))
            for i in range(segments)]
    coords = tuple((q.lng, q.lat) for q in ring)
    return Area(polygons=(((*coords, coords[0]),),))


def metric(geometry: Any, lat0: float) -> Any:
    """``geometry`` on a local plane in metres (longitude scaled at ``lat0``): areas and
    lengths within a few tenths of a percent over a city."""
    kx, ky = _m_per_deg_lng(lat0), M_PER_DEG_LAT

    def scale(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        scaled: NDArray[np.float64] = xy * np.array([kx, ky])
        return scaled

    return shapely.transform(geometry, scale)


DENSIFY_DEG = 0.0002
"""Longest edge (degrees, about 20 m) of a ring given in GCJ-02 or BD-09 before it is
converted: the offset bends a straight edge, and two nodes sharing an edge but not its
corners must still meet after the conversion."""


def _densified(ring: list[Position], crs: Crs) -> list[Position]:
    if crs is Crs.WGS84:
        return ring
    out: list[Position] = [ring[0]]
    for (x0, y0), (x1, y1) in pairwise(ring):
        steps = max(1, math.ceil(max(abs(x1 - x0), abs(y1 - y0)) / DENSIFY_DEG))
        out.extend((x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps)
                   for k in range(1, steps + 1))
    return out


def parse_area(geometry: Mapping[str, Any], crs: Crs = Crs.WGS84, *, what: str = "boundary"
               ) -> Area:
    """A GeoJSON Polygon or MultiPolygon given in ``crs``, converted to WGS-84; refused with
    what is wrong (a ring not closed or too short, a coordinate out of range, a ring that
    crosses itself) and what a valid one looks like."""
    right = ("A boundary is a GeoJSON Polygon or MultiPolygon: rings of [longitude, latitude] "
             "positions, at least 4 each, the last equal to the first, not crossing "
             "themselves.")
    kind = geometry.get("type") if isinstance(geometry, Mapping) else None
    coords = geometry.get("coordinates") if isinstance(geometry, Mapping) else None
    if kind not in ("Polygon", "MultiPolygon") or not isinstance(coords, list) or not coords:
        raise InvalidInput(f"The {what} is a {kind or type(geometry).__name__}, not a polygon.",
                           right)
    polygons = [coords] if kind == "Polygon" else coords
    out: list[tuple[Ring, ...]] = []
    for i, poly in enumerate(polygons, 1):
        if not isinstance(poly, list) or not poly:
            raise InvalidInput(f"Polygon {i} of the {what} has no rings.", right)
        rings: list[Ring] = []
        for j, ring in enumerate(poly, 1):
            where = f"ring {j} of polygon {i} of the {what}"
            if not isinstance(ring, list) or len(ring) < 4:
                raise InvalidInput(f"The {where} has fewer than 4 positions.", right)
            src: list[Position] = []
            for pos in ring:
                if not isinstance(pos, (list, tuple)) or len(pos) < 2:
                    raise InvalidInput(f"The {where} has a position {pos!r} that is not "
                                       "[longitude, latitude].", right)
                p = Point.given(pos[0], pos[1])  # the ranges, before any conversion
                src.append((p.lng, p.lat))
            if src[0] != src[-1]:
                raise InvalidInput(f"The {where} is not closed: it ends at {src[-1]} but "
                                   f"starts at {src[0]}.", right)
            pts = [(p.lng, p.lat) for p in (Point.given(x, y, crs)
                                             for x, y in _densified(src, crs))]
            rings.append(tuple(pts))
        out.append(tuple(rings))
    area = Area(polygons=tuple(out))
    geom = area.geometry()
    if not geom.is_valid:
        raise InvalidInput(f"The {what} is not a valid polygon: {explain_validity(geom)}.",
                           right)
    return area


def parse_point(geometry: Mapping[str, Any], crs: Crs = Crs.WGS84, *, what: str = "location"
                ) -> Point:
    """A GeoJSON Point given in ``crs``, in WGS-84."""
    coords = geometry.get("coordinates") if isinstance(geometry, Mapping) else None
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Point" \
            or not isinstance(coords, list) or len(coords) < 2:
        raise InvalidInput(f"The {what} is not a GeoJSON Point.",
                           'A location is {"type": "Point", "coordinates": [longitude, '
                           'latitude]}.')
    return Point.given(coords[0], coords[1], crs)


# ---- the rules of a grid's boundaries ------------------------------------------------------

SLIVER_M2 = 1.0
"""Overlaps and gaps smaller than this (square metres) are drawing noise, not problems."""
EDGE_TOLERANCE_M = 0.5
"""Two edges closer than this are the same edge: a sliver thinner than it (rounding to the
centimetre, a conversion from GCJ-02 along a kilometre of shared edge) is not a problem."""
_TOL_DEG = EDGE_TOLERANCE_M / M_PER_DEG_LAT


def _real(part: Any, lat0: float, sliver_m2: float) -> bool:
    """Whether a leftover ``part`` is more than noise: wider than the edge tolerance and
    larger than a sliver."""
    return not part.is_empty and not part.buffer(-_TOL_DEG).is_empty \
        and metric(part, lat0).area > sliver_m2


class BoundaryProblem(Immutable):
    """What is wrong with a node's boundary: ``kind`` is outside (not within its parent),
    overlap (with a sibling, named in ``other``) or gap (part of the node its children leave
    uncovered); ``square_metres`` how much, ``at`` a point of it to look at."""

    code: str
    kind: str
    other: str = ""
    square_metres: float
    at: Point

    @property
    def text(self) -> str:
        m2 = f"{self.square_metres:,.0f} m²"
        if self.kind == "outside":
            return f"{self.code} 超出上级 {self.other} 的边界 lies outside {self.other} by {m2}"
        if self.kind == "overlap":
            return f"{self.code} 与 {self.other} 重叠 overlaps {self.other} by {m2}"
        return f"{self.code} 有未覆盖的区域 leaves {m2} uncovered by its children"


def _problem(code: str, kind: str, other: str, part: Any, lat0: float) -> BoundaryProblem:
    c = part.point_on_surface()
    return BoundaryProblem(code=code, kind=kind, other=other,
                           square_metres=round(float(metric(part, lat0).area), 1),
                           at=Point(lng=round(c.x, 7), lat=round(c.y, 7)))


def outside_parent(code: str, area: Area, parent_code: str, parent: Area,
                   sliver_m2: float = SLIVER_M2) -> BoundaryProblem | None:
    """The part of ``area`` outside its parent's, when more than a sliver."""
    lat0 = parent.centre().lat
    rest = area.geometry().difference(parent.geometry())
    if not _real(rest, lat0, sliver_m2):
        return None
    return _problem(code, "outside", parent_code, rest, lat0)


def overlaps(areas: Mapping[str, Area], sliver_m2: float = SLIVER_M2) -> list[BoundaryProblem]:
    """Each pair of ``areas`` (siblings) that overlap by more than a sliver, found through a
    spatial index (not every pair)."""
    codes = sorted(areas)
    if not codes:
        return []
    geoms = [areas[c].geometry() for c in codes]
    lat0 = areas[codes[0]].centre().lat
    tree = STRtree(geoms)
    found: list[BoundaryProblem] = []
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        both = geoms[i].intersection(geoms[j])
        if _real(both, lat0, sliver_m2):
            found.append(_problem(codes[i], "overlap", codes[j], both, lat0))
    return found


def cover_gap(code: str, parent: Area, children: Sequence[Area],
              sliver_m2: float = SLIVER_M2) -> BoundaryProblem | None:
    """The part of ``parent`` its children leave uncovered, when more than a sliver."""
    lat0 = parent.centre().lat
    covered = shapely.union_all([c.geometry() for c in children]) if children else None
    gap = parent.geometry() if covered is None else parent.geometry().difference(covered)
    if not _real(gap, lat0, sliver_m2):
        return None
    return _problem(code, "gap", "", gap, lat0)


def geojson_geometry(area: Area | Point, crs: Crs = Crs.WGS84) -> dict[str, Any]:
    """A GeoJSON geometry of an area or a point, in ``crs``."""
    if isinstance(area, Point):
        return {"type": "Point", "coordinates": list(from_wgs84(crs, area.lng, area.lat))}
    return area.to_geojson(crs)


def from_shapely(geometry: Any) -> dict[str, Any]:
    """A shapely geometry as GeoJSON (WGS-84 as it is)."""
    return dict(mapping(geometry))


def to_shapely(geometry: Mapping[str, Any]) -> Any:
    return shape(dict(geometry))
