"""Benchmark: the spatial questions (``projections.spatial``) over a city of N households,
against the same questions answered by a plain spatial index in the same run.

The city is laid out by ``adapters.layout`` (districts, streets, communities, micro-grids of
about 100 households, buildings of about 30); each household stands at its building's point
moved by a small deterministic jitter (a few metres), so no two points are the same.

The ``places`` read model's rows are loaded directly, in the projection's own row shape
(``pl_households``, ``pl_points``, ``pl_boundaries``, through ``ViewCursor.insert``): making a
million households through commands and projections would take an hour, and what is measured
here is the query side. The households' own points (sealed in the application) are handed to
the index by an ``own_points`` reader that builds each ``Point`` from the generated
coordinates (no decryption: the cost of opening a seal is not measured).

Measured in one run, on SQLite (and on PostgreSQL unless ``GRIDCORE_BENCH_SPATIAL_PG=0``):

(a) build: ``spatial.Index`` from the read model, against a shapely ``STRtree`` over the same
    points already in numpy arrays;
(b) near: ``K`` random "households within R m of a point" (R 200, 500, 1000 m) by
    ``Index.near`` against the plain tree's box query and a numpy haversine filter (ids
    ordered by distance);
(c) density: the households inside every micro-grid by ``Index.inside`` (the index's own
    per-polygon answer), against one ``STRtree.query(polygons, predicate="covers")`` and a
    ``bincount`` (``covers``: edges included, as ``Index.inside``). (``grid_density`` is not
    the question: it counts households by the micro-grid they are registered in, from
    ``grid_rollup``, not by where their points stand; the benchmark checks that each
    micro-grid's spatial count equals the households registered in it.)

The ratio is ours over plain (time); the floor is the plain index's time. Both answers are
compared: a benchmark that answers wrong fails. ``GRIDCORE_BENCH_SPATIAL_HOUSEHOLDS`` sizes
the city (default 1,000,000), ``GRIDCORE_BENCH_SPATIAL_QUERIES`` the queries per radius.
"""

from __future__ import annotations

import gc
import json
import math
import os
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.strtree import STRtree

from adapters.layout import Layout
from adapters.settings import scratch_schema, sqlite_env
from gridcore.application import GridcoreApp
from gridcore.building import building_id
from gridcore.geo import EARTH_RADIUS_M, M_PER_DEG_LAT, Point
from gridcore.grid import Level, node_id
from projections import places, spatial
from projections.base import ViewCursor
from projections.views import PostgresViews, SQLiteViews, views_for
from simulations.benchmarks.register import PG_DSN
from simulations.city import CitySpec, building_grids, city_layout

RADII = (200.0, 500.0, 1000.0)
JITTER_M = 6.0
"""Each household's point: its building's, moved up to this many metres east and north."""
TARGETS: dict[str, float | None] = {"build": None, "near": 2.0, "density": 2.0}
"""Ours over plain, at most: the queries at most twice the plain index's time (the build has
no target: the index reads the read model and opens the own points; the plain tree is handed
its numpy arrays)."""
INSERT_BATCH = 20_000
LOADED = "read model rows loaded directly (projection's row shape); the query side is measured"


# ---- the city ----------------------------------------------------------------------------------

def city_spec(households: int) -> CitySpec:
    """About ``households`` households: communities of about 1,000 in 10 micro-grids of about
    100, buildings of 30, 10 communities a street and 10 streets a district."""
    communities = max(1, round(households / 1000))
    districts = max(1, math.ceil(communities / 100))
    streets = max(1, math.ceil(communities / (districts * 10)))
    per_street = max(1, math.ceil(communities / (districts * streets)))
    total = districts * streets * per_street
    return CitySpec(seed=19, districts=districts, streets_per_district=streets,
                    communities_per_street=per_street, grids_per_community=10,
                    households_per_community=max(1, round(households / total)),
                    households_per_building=30)


@dataclass
class City:
    spec: CitySpec
    layout: Layout
    ids: list[str]
    """household ids, in the order of ``lng``/``lat``"""
    grid_of: list[str]
    building_of: list[str]
    lng: np.ndarray
    lat: np.ndarray
    grids: list[str]
    """every micro-grid's code"""
    buildings: list[tuple[str, str, str, Point]] = field(default_factory=list)
    """(building id, number, community, point)"""

    @property
    def households(self) -> int:
        return len(self.ids)


def make_city(households: int) -> City:
    spec = city_spec(households)
    layout = city_layout(spec)
    ids: list[str] = []
    grid_of: list[str] = []
    building_of: list[str] = []
    xs: list[float] = []
    ys: list[float] = []
    buildings: list[tuple[str, str, str, Point]] = []
    grids: list[str] = []
    for community in spec.communities():
        grids.extend(spec.grid_code(community, g) for g in range(spec.grids_per_community))
        for b, grid, count in building_grids(spec, community):
            at = layout.buildings[(community, str(b))]
            bid = str(building_id(community, str(b)))
            buildings.append((bid, str(b), community, at))
            for _ in range(count):
                ids.append(str(uuid.UUID(int=(19 << 96) | len(ids))))
                grid_of.append(grid)
                building_of.append(bid)
                xs.append(at.lng)
                ys.append(at.lat)
    rng = np.random.default_rng(19)
    lat = np.array(ys) + rng.uniform(-1, 1, len(ys)) * JITTER_M / M_PER_DEG_LAT
    lng = np.array(xs) + rng.uniform(-1, 1, len(xs)) * JITTER_M / (
        M_PER_DEG_LAT * np.cos(np.radians(lat)))
    return City(spec, layout, ids, grid_of, building_of, np.round(lng, 7), np.round(lat, 7),
                grids, buildings)


def load(views: SQLiteViews | PostgresViews, city: City) -> float:
    """The places read model's rows of ``city``, written directly; seconds taken."""
    started = time.perf_counter()
    projection = places.PROJECTIONS[0]
    views.reset(projection)
    levels = {1: Level.DISTRICT, 2: Level.STREET, 3: Level.COMMUNITY}

    def level(code: str) -> tuple[Level, str | None]:
        if "-" in code:
            return Level.MICRO_GRID, code.split("-")[0]
        depth = {4: 0, 6: 1, 9: 2, 12: 3}[len(code)]
        parent = {0: None, 1: code[:4], 2: code[:6], 3: code[:9]}[depth]
        return (levels[depth] if depth else Level.CITY), parent

    households = [(h, g, b, 1, 0) for h, g, b in zip(city.ids, city.grid_of, city.building_of,
                                                       strict=True)]
    points = [("building", bid, number, "", community, at.lng, at.lat, 0, 0)
              for bid, number, community, at in city.buildings]
    bounds = []
    for code, rect in city.layout.rects.items():
        lv, parent = level(code)
        bounds.append((str(node_id(code)), code, int(lv), parent,
                       json.dumps(rect.area().to_geojson())))
    for table, columns, rows in (
            ("pl_households", "household_id, micro_grid, building_id, own, erased", households),
            ("pl_points", "kind, key, code, label, node, lng, lat, capacity, occupied", points),
            ("pl_boundaries", "node_id, code, level, parent_code, geojson", bounds)):
        for i in range(0, len(rows), INSERT_BATCH):
            with views.datastore.transaction(commit=True) as c:
                views._enter(c)
                ViewCursor(c, views.dialect).insert(table, columns, rows[i:i + INSERT_BATCH])
    return time.perf_counter() - started


def own_points(city: City) -> spatial.OwnPoints:
    """The application's reader of own points, without the seals: each ``Point`` built from
    the generated coordinates."""
    where = {h: i for i, h in enumerate(city.ids)}
    lng, lat = city.lng.tolist(), city.lat.tolist()

    def read(ids: Sequence[str]) -> dict[str, Point | None]:
        return {h: Point(lng=lng[where[h]], lat=lat[where[h]]) for h in ids}

    return read


# ---- the plain index -----------------------------------------------------------------------------

def plain_tree(city: City) -> STRtree:
    return STRtree(np.asarray(shapely.points(city.lng, city.lat)))


def haversine(lng0: float, lat0: float, lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    p1, p2 = math.radians(lat0), np.radians(lat)
    h = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(
        np.radians(lng - lng0) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))))


def plain_near(tree: STRtree, city: City, at: Point, radius_m: float) -> np.ndarray:
    """Indices of the points within ``radius_m`` of ``at``, nearest first."""
    dlat = radius_m / M_PER_DEG_LAT * spatial.MARGIN + 1e-9
    dlng = radius_m / (M_PER_DEG_LAT * math.cos(math.radians(abs(at.lat) + dlat))) \
        * spatial.MARGIN + 1e-9
    cand = tree.query(shapely.box(at.lng - dlng, at.lat - dlat, at.lng + dlng, at.lat + dlat))
    d = haversine(at.lng, at.lat, city.lng[cand], city.lat[cand])
    keep = d <= radius_m
    hits, dist = cand[keep], d[keep]
    return hits[np.argsort(dist, kind="stable")]


# ---- the run -----------------------------------------------------------------------------------

def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Line:
    question: str
    ours: float
    plain: float
    answers: str
    target: float | None

    @property
    def ratio(self) -> float:
        return self.ours / self.plain if self.plain else math.inf


@dataclass
class Result:
    store: str
    households: int
    micro_grids: int
    load_seconds: float
    lines: list[Line] = field(default_factory=list)
    peak_mb: float = 0.0


def query_points(city: City, k: int, seed: int = 19) -> list[Point]:
    rect = city.layout.rects[city.spec.city_code]
    rng = random.Random(seed)
    return [rect.at(rng.random(), rng.random()) for _ in range(k)]


def measure(store: str, views: SQLiteViews | PostgresViews, city: City, queries: int
            ) -> Result:
    load_seconds = load(views, city)
    result = Result(store, city.households, len(city.grids), load_seconds)
    reader = own_points(city)
    gc.collect()

    started = time.perf_counter()
    index = spatial.Index(views, reader)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    tree = plain_tree(city)
    plain = time.perf_counter() - started
    assert len(index.households) == city.households, "the index lost households"
    result.lines.append(Line("build the index", ours, plain,
                             f"{city.households:,} points both", TARGETS["build"]))

    where = {h: i for i, h in enumerate(city.ids)}
    for radius in RADII:
        ours = plain = 0.0
        found = 0
        for at in query_points(city, queries, seed=int(radius)):
            started = time.perf_counter()
            got = index.near(at, radius)
            ours += time.perf_counter() - started
            started = time.perf_counter()
            hits = plain_near(tree, city, at, radius)
            plain += time.perf_counter() - started
            mine = sorted(where[n.household_id] for n in got)
            assert mine == sorted(hits.tolist()), \
                f"near({at}, {radius}) differs: {len(mine)} ours, {len(hits)} plain"
            found += len(mine)
        result.lines.append(Line(f"near, R {radius:,.0f} m ({queries} queries)", ours, plain,
                                 f"same ids, {found / queries:,.0f} per query",
                                 TARGETS["near"]))

    areas = [city.layout.rects[g].area() for g in city.grids]
    polygons = [a.geometry() for a in areas]
    started = time.perf_counter()
    counts_ours = [len(index.inside(a)) for a in areas]
    ours = time.perf_counter() - started
    started = time.perf_counter()
    pairs = tree.query(polygons, predicate="covers")
    counts_plain = np.bincount(pairs[0], minlength=len(polygons)).tolist()
    plain = time.perf_counter() - started
    assert counts_ours == counts_plain, "per-micro-grid counts differ"
    assigned: dict[str, int] = dict.fromkeys(city.grids, 0)
    for g in city.grid_of:
        assigned[g] += 1
    assert counts_ours == [assigned[g] for g in city.grids], \
        "a household stands outside its micro-grid"
    result.lines.append(Line(f"households per micro-grid ({len(areas):,} polygons)", ours,
                             plain, "same counts", TARGETS["density"]))
    result.peak_mb = peak_mb()
    return result


@contextmanager
def sqlite_views() -> Iterator[SQLiteViews | PostgresViews]:
    with tempfile.TemporaryDirectory() as tmp:
        app = GridcoreApp(sqlite_env(Path(tmp) / "spatial.sqlite"))
        try:
            yield views_for(app)
        finally:
            app.close()


@contextmanager
def postgres_views() -> Iterator[SQLiteViews | PostgresViews]:
    with scratch_schema(PG_DSN, "benchspatial") as (_, env):
        app = GridcoreApp(env)
        try:
            yield views_for(app)
        finally:
            app.close()


def table(results: list[Result]) -> str:
    lines = [f"_{LOADED}; peak RSS is the whole process's._", "",
             "| store | households | question | ours s | baseline: plain STRtree (floor) s "
             "| ratio | target | answers |",
             "|---|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        for ln in r.lines:
            lines.append(f"| {r.store} | {r.households:,} | {ln.question} | {ln.ours:,.3f} | "
                         f"{ln.plain:,.3f} | {ln.ratio:,.1f}× | "
                         f"{'—' if ln.target is None else f'≤ {ln.target:g}×'} | "
                         f"{ln.answers} |")
    lines.append("")
    lines.append("; ".join(f"{r.store}: rows loaded in {r.load_seconds:,.1f} s, peak RSS "
                           f"{r.peak_mb:,.0f} MB" for r in results))
    return "\n".join(lines)


def run(households: int = 1_000_000, queries: int = 50, postgres: bool = True
        ) -> tuple[list[Result], str]:
    city = make_city(households)
    print(f"spatial: {city.households:,} households in {len(city.grids):,} micro-grids, "
          f"{len(city.buildings):,} buildings; {LOADED}", flush=True)
    results = []
    stores: list[tuple[str, Any]] = [("SQLite", sqlite_views)]
    if postgres:
        stores.append(("PostgreSQL", postgres_views))
    for name, opened in stores:
        with opened() as views:
            results.append(measure(name, views, city, queries))
        print(table(results[-1:]), flush=True)
    return results, table(results)


def settings() -> tuple[int, int, bool]:
    return (int(os.environ.get("GRIDCORE_BENCH_SPATIAL_HOUSEHOLDS", "1000000")),
            int(os.environ.get("GRIDCORE_BENCH_SPATIAL_QUERIES", "50")),
            os.environ.get("GRIDCORE_BENCH_SPATIAL_PG", "1") != "0")


if __name__ == "__main__":
    print(run(*settings())[1])
