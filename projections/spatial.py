"""Spatial questions (空间查询) over the ``places`` read model: households within a distance of a
point or inside a polygon, the density of each micro-grid, the nearest quarantine site with
free places, and the map's layers.

The same on SQLite and PostgreSQL: the rows are plain floats, and an in-process shapely
STRtree (``Index``) built from them answers; it is cached per position of the read model (a
new event in the places read model builds a new one). A candidate set is taken from the tree
with a box a little larger than the radius, then each candidate's great-circle distance
(``gridcore.geo.distance_m``) decides, so the answers equal a brute-force scan.

A household's own point is sealed (``projections.places``): the index opens them through
``own_points`` (the application's reader, given by the caller) when built; without it every
household stands at its building's point.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import shapely
from shapely.strtree import STRtree

from gridcore.geo import EARTH_RADIUS_M, M_PER_DEG_LAT, Area, Point, distance_m, metric, to_shapely
from gridcore.status import Health
from projections import contact_followup, grid_rollup, places, sweep_coverage
from projections.base import ReadViews

OwnPoints = Callable[[Sequence[str]], dict[str, Point | None]]
"""Household ids -> their own (sealed) points, opened by the application (None: none)."""

MARGIN = 1.02
"""How much wider than the radius the candidates' box is (the box is in degrees on a local
plane; the haversine distance then decides)."""


@dataclass(frozen=True)
class PlacedHousehold:
    household_id: str
    micro_grid: str
    point: Point
    own: bool
    """the household's own (sealed) point, not its building's"""


class Near(NamedTuple):
    """A household found near a point (a named tuple: a query within 1 km of a city's centre
    makes tens of thousands, and a frozen dataclass took about 2 µs each to make)."""

    household_id: str
    micro_grid: str
    distance_m: float
    point: Point
    own: bool


class Index:
    """The located households and point layers of the read model, in STRtrees."""

    def __init__(self, views: ReadViews, own_points: OwnPoints | None = None) -> None:
        buildings = {p.key: Point(lng=p.lng, lat=p.lat)
                     for p in places.points(views, ("building",))}
        rows = places.household_rows(views)
        opened = own_points([r.household_id for r in rows if r.own]) if own_points else {}
        found: list[PlacedHousehold] = []
        for r in rows:
            own = opened.get(r.household_id)
            at = own if own is not None else (buildings.get(r.building_id)
                                              if r.building_id is not None else None)
            if at is not None:
                found.append(PlacedHousehold(r.household_id, r.micro_grid, at, own is not None))
        # by id (already so from SQLite: a linear pass), so positions order as ids do
        found.sort(key=lambda h: h.household_id)
        self.households = found
        self._lng = np.fromiter((h.point.lng for h in found), float, len(found))
        self._lat = np.fromiter((h.point.lat for h in found), float, len(found))
        self._phi = np.radians(self._lat)
        self._cos_phi = np.cos(self._phi)
        # the same, as ``distance_m`` computes them (math, not numpy: the very same floats)
        self._lng_list = self._lng.tolist()
        self._phi_list = [math.radians(y) for y in self._lat.tolist()]
        self._cos_phi_list = [math.cos(p) for p in self._phi_list]
        self.tree = STRtree(np.asarray(shapely.points(self._lng, self._lat)))
        self.sites = places.points(views, places.KINDS)
        free = [s for s in self.sites if s.kind == "quarantine_site" and s.free > 0]
        self.free_sites = free
        self.site_tree = STRtree([shapely.Point(s.lng, s.lat) for s in free])

    def near(self, at: Point, radius_m: float) -> list[Near]:
        """The households within ``radius_m`` metres of ``at`` (edges included), nearest
        first (then by id)."""
        if radius_m < 0 or not self.households:
            return []
        dlat = radius_m / M_PER_DEG_LAT * MARGIN + 1e-9
        top = min(89.9, abs(at.lat) + dlat)
        dlng = min(180.0, radius_m / (M_PER_DEG_LAT * math.cos(math.radians(top))) * MARGIN
                   + 1e-9)
        box = shapely.box(at.lng - dlng, at.lat - dlat, at.lng + dlng, at.lat + dlat)
        cand = self.tree.query(box)
        # numpy's haversine keeps every candidate that may be within the radius (a margin
        # far above its rounding); ``distance_m`` itself then decides and gives the distance
        p1 = math.radians(at.lat)
        h = np.sin((self._phi[cand] - p1) / 2) ** 2 + math.cos(p1) * self._cos_phi[cand] \
            * np.sin(np.radians(self._lng[cand] - at.lng) / 2) ** 2
        rough = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
        cand = cand[rough <= radius_m * (1 + 1e-9) + 1e-6]
        hits, ds = [], []
        lngs, phis, cos_phis = self._lng_list, self._phi_list, self._cos_phi_list
        cos_p1, sin, radians, asin, sqrt = math.cos(p1), math.sin, math.radians, math.asin, \
            math.sqrt
        for i in cand.tolist():  # ``distance_m``'s very operations, in line: the same floats
            h2 = sin((phis[i] - p1) / 2) ** 2 + cos_p1 * cos_phis[i] \
                * sin(radians(lngs[i] - at.lng) / 2) ** 2
            d = 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h2)))
            if d <= radius_m:
                hits.append(i)
                ds.append(d)
        out = []
        for k in np.lexsort((np.array(hits, dtype=np.int64), np.array(ds))).tolist():
            one = self.households[hits[k]]  # ties by position: by id
            out.append(Near(one.household_id, one.micro_grid, ds[k], one.point, one.own))
        return out

    def inside(self, area: Area) -> list[PlacedHousehold]:
        """The households inside ``area`` (edges included), by id."""
        idx = self.tree.query(area.geometry(), predicate="covers")
        return [self.households[i] for i in np.sort(idx).tolist()]  # positions order as ids

    def nearest_free_site(self, at: Point) -> tuple[places.PointRow, float] | None:
        """The located quarantine site with free places nearest ``at``, with its distance."""
        if not self.free_sites:
            return None
        first = int(self.site_tree.query_nearest(shapely.Point(at.lng, at.lat))[0])
        bound = distance_m(at, _pt(self.free_sites[first]))
        # every site nearer than the tree's (planar) pick lies in the box of that distance
        dlat = bound / M_PER_DEG_LAT * MARGIN + 1e-9
        top = min(89.9, abs(at.lat) + dlat)
        dlng = min(180.0, bound / (M_PER_DEG_LAT * math.cos(math.radians(top))) * MARGIN
                   + 1e-9)
        box = shapely.box(at.lng - dlng, at.lat - dlat, at.lng + dlng, at.lat + dlat)
        cands = {first, *self.site_tree.query(box).tolist()}
        best = min(cands, key=lambda i: (distance_m(at, _pt(self.free_sites[i])),
                                         self.free_sites[i].code))
        return self.free_sites[best], distance_m(at, _pt(self.free_sites[best]))


def _pt(row: places.PointRow) -> Point:
    return Point(lng=row.lng, lat=row.lat)


_CACHE: dict[tuple[int, bool], tuple[int, Index]] = {}
_LOCK = threading.Lock()


def index(views: ReadViews, own_points: OwnPoints | None = None) -> Index:
    """The index of the read model as it is now: built once per position of ``places``
    (views without positions: built each time)."""
    position_of = getattr(views, "position", None)
    if position_of is None:
        return Index(views, own_points)
    position = int(position_of(places.PROJECTIONS[0]))
    key = (id(views), own_points is not None)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None and cached[0] == position:
        return cached[1]
    built = Index(views, own_points)
    with _LOCK:
        _CACHE[key] = (position, built)
    return built


# ---- density ---------------------------------------------------------------------------------

@dataclass
class Density:
    """A micro-grid's households, confirmed cases, contacts under follow-up and households
    not yet covered by the open sweep(s), and each per km² of its drawn boundary (None
    without a boundary)."""

    code: str
    name: str
    households: int = 0
    cases: int = 0
    contacts: int = 0
    uncovered: int = 0
    square_km: float | None = None
    per_km2: dict[str, float] = field(default_factory=dict)


def square_km(geojson: dict[str, Any]) -> float:
    geom = to_shapely(geojson)
    lat0 = geom.representative_point().y
    return float(metric(geom, lat0).area) / 1e6


def grid_density(views: ReadViews, code: str, now: datetime) -> list[Density]:
    """Each active child of ``code`` (per micro-grid when ``code`` is a community; ``code``
    itself when it is a micro-grid), by code."""
    kids = grid_rollup.children(views, [code]).get(code, [])
    nodes = [(n.code, n.name) for n in kids]
    if not nodes:
        own = grid_rollup.nodes(views, [code]).get(code)
        nodes = [(own.code, own.name)] if own is not None else []
    codes = [c for c, _ in nodes]
    if not codes:
        return []
    counts = grid_rollup.rollups(views, codes)
    follow = contact_followup.follow_up_by_node(views, code, now)
    uncovered: dict[str, int] = dict.fromkeys(codes, 0)
    chain = grid_rollup.chains(views, [code]).get(code, [code])
    for c in sweep_coverage.campaigns_touching(views, code, chain[1:]):
        if c.closed_at is not None:
            continue
        by_node = sweep_coverage.coverage_by_node(views, c.campaign_id)
        for k in codes:
            n, covered = by_node.get(k, (0, 0))
            uncovered[k] += n - covered
    drawn = places.boundaries(views, codes)
    out = []
    for k, name in nodes:
        d = Density(k, name, households=int(counts[k]["households"]),
                    cases=int(counts[k]["by_health"][Health.CONFIRMED.value]),
                    contacts=follow[k].contacts if k in follow else 0,
                    uncovered=uncovered[k])
        if k in drawn:
            d.square_km = round(square_km(drawn[k]), 6)
            if d.square_km > 0:
                d.per_km2 = {f: round(getattr(d, f) / d.square_km, 3)
                             for f in ("households", "cases", "contacts", "uncovered")}
        out.append(d)
    return out


# ---- the dashboard map's layers --------------------------------------------------------------

POINT_LAYERS = ("quarantine_site", "camera", "checkpoint")
"""The point layers of the map (sites with their free places)."""


def _sweep_coverage(views: ReadViews, code: str, codes: Sequence[str]
                    ) -> dict[str, tuple[int, int]]:
    """(households, covered) per node of ``codes`` over the open sweeps touching ``code``."""
    out = dict.fromkeys(codes, (0, 0))
    chain = grid_rollup.chains(views, [code]).get(code, [code])
    for c in sweep_coverage.campaigns_touching(views, code, chain[1:]):
        if c.closed_at is not None:
            continue
        for k, (n, covered) in sweep_coverage.coverage_by_node(views, c.campaign_id).items():
            if k in out:
                out[k] = (out[k][0] + n, out[k][1] + covered)
    return out


def map_layers(views: ReadViews, code: str, crs: Any = None) -> dict[str, Any]:
    """The subtree of ``code``: its nodes' boundaries as a GeoJSON FeatureCollection (per node
    its code, level, coverage of the open sweeps (None: none), confirmed cases and open
    items), and the located cameras and checkpoints whose node lies in the subtree and
    quarantine sites (with free places) run in it or above it (a street's site serves its
    communities); coordinates in ``crs`` (default WGS-84)."""
    from gridcore.geo import Crs, geojson_geometry, parse_area
    from projections import queries

    system = crs or Crs.WGS84
    codes = grid_rollup.subtree_codes(views, code)
    if not codes:
        return {"type": "FeatureCollection", "features": []}
    inside = set(codes)
    drawn = places.boundaries(views, codes)
    counts = grid_rollup.rollups(views, list(drawn))
    items = queries.open_items(views, list(drawn))
    swept = _sweep_coverage(views, code, list(drawn))
    features: list[dict[str, Any]] = []
    for k in sorted(drawn):
        n, covered = swept[k]
        geometry = (drawn[k] if system is Crs.WGS84
                    else parse_area(drawn[k]).to_geojson(system))
        features.append({"type": "Feature", "geometry": geometry, "properties": {
            "layer": "boundary", "code": k,
            "coverage": round(covered / n, 4) if n else None,
            "cases": int(counts[k]["by_health"][Health.CONFIRMED.value]),
            "openItems": items[k].total}})
    serving = set(grid_rollup.chains(views, [code]).get(code, []))  # sites run above it
    for p in places.points(views, POINT_LAYERS):
        if p.node not in inside and not (p.kind == "quarantine_site" and p.node in serving):
            continue
        props: dict[str, Any] = {"layer": p.kind, "code": p.code, "name": p.label,
                                 "node": p.node}
        if p.kind == "quarantine_site":
            props.update(capacity=p.capacity, free=p.free)
        features.append({"type": "Feature",
                         "geometry": geojson_geometry(Point(lng=p.lng, lat=p.lat), system),
                         "properties": props})
    return {"type": "FeatureCollection", "features": features,
            "properties": {"code": code, "crs": system.value}}
