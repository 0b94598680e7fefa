"""Spatial questions (空间查询) over a real HTTP server: households near a point and inside a
polygon only within the caller's jurisdiction, with ids and micro-grids only; the exact point
for the roles that may see an address (audited), a point rounded to about 100 m for the
others (whose answers are computed from it); density per micro-grid; the nearest quarantine
site with free places; the dashboard map's layers; coordinates in GCJ-02 on the way in and
out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from graphql_api.privacy import AuditLog
from gridcore.authority import System
from gridcore.geo import Area, Crs, Point, distance_m, from_wgs84
from gridcore.staff import Role
from tests.api.test_api_access import OTHER_ZONE, World, serve_world
from tests.scenario import COMMUNITY, STREET, ZONES

OP = System.OPERATOR
ORIGIN = Point(lng=114.30, lat=30.60)
HOUSEHOLD = "id: householdId microGrid distanceM exact point { lng lat }"


def rect(x0: float, y0: float, x1: float, y1: float) -> Area:
    corners = [ORIGIN.shifted(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    ring = tuple((p.lng, p.lat) for p in corners)
    return Area(polygons=(((*ring, ring[0]),),))


LEFT, RIGHT = rect(0, 0, 500, 1000), rect(500, 0, 1000, 1000)
DOOR_1 = ORIGIN.shifted(120.37, 240.11)   # 712-1-0's own door (zone 1)
BUILDING = ORIGIN.shifted(300, 600)       # building 1 (no household of it here)
DOOR_2 = ORIGIN.shifted(700, 300)         # 712-2-0 (zone 2)
DOOR_713 = ORIGIN.shifted(130, 250)       # a household of the other community
SITE_NEAR, SITE_FAR = ORIGIN.shifted(50, 50), ORIGIN.shifted(2000, 2000)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-geo") / "gridcore.sqlite") as w:
        app = w.app
        app.draw_boundaries([(ZONES[0], LEFT), (ZONES[1], RIGHT)], Crs.WGS84, "test", by=OP)
        app.register_building(COMMUNITY, "1", "1栋", 6, by=OP)
        app.locate_building(COMMUNITY, "1", BUILDING.lng, BUILDING.lat, by=OP)
        for no, door in (("712-1-0", DOOR_1), ("712-2-0", DOOR_2), ("713-1-0", DOOR_713)):
            app.locate_household(app.household_by_no(no).id, door.lng, door.lat, by=OP)
        app.register_quarantine_site("QS-1", "后湖宾馆隔离点", STREET, 10, by=OP)
        app.register_quarantine_site("QS-2", "远处隔离点", STREET, 10, by=OP)
        app.locate_quarantine_site("QS-1", SITE_NEAR.lng, SITE_NEAR.lat, by=OP)
        app.locate_quarantine_site("QS-2", SITE_FAR.lng, SITE_FAR.lat, by=OP)
        app.register_checkpoint("KK-1", COMMUNITY, "后湖大道卡口", by=OP)
        app.locate_checkpoint("KK-1", SITE_FAR.lng, SITE_FAR.lat, by=OP)
        app.register_checkpoint("KK-9", OTHER_ZONE, "别处卡口", by=OP)
        app.locate_checkpoint("KK-9", SITE_FAR.lng, SITE_FAR.lat, by=OP)
        app.enrol_staff("ES1", "某某", Role.ENTERPRISE_SPECIALIST, COMMUNITY, 0, by=OP)
        w.staff["ES1"] = app.staff_by_no("ES1").id
        w.caught_up()
        yield w


def hid(world: World, no: str) -> str:
    return str(world.app.household_by_no(no).id)


def near(world: World, staff_no: str | None, at: Point, radius: float,
         crs: str = "WGS84", first: int = 100) -> list[dict[str, Any]]:
    q = (f"query($p: PointInput!, $r: Float!, $f: Int!) {{ householdsNear(point: $p, "
         f"radiusM: $r, crs: {crs}, first: $f) {{ {HOUSEHOLD} }} }}")
    return world.ask(q, staff_no, {"p": {"lng": at.lng, "lat": at.lat}, "r": radius,
                                   "f": first})["householdsNear"]


def audited(world: World) -> list[dict[str, str]]:
    assert world.settings is not None and world.settings.audit_file
    return [e for e in AuditLog(world.settings.audit_file).entries()
            if e["field"] == "PlacedHousehold.point"]


def test_households_near_follow_the_jurisdiction_and_show_exact_points_audited(
        world: World) -> None:
    at = ORIGIN.shifted(100, 200)
    before = len(audited(world))
    mine = near(world, "GWZ1", at, 500)
    assert [h["id"] for h in mine] == [hid(world, "712-1-0")]  # not zone 2, not 713
    (h,) = mine
    assert h["exact"] and h["microGrid"] == ZONES[0]
    assert (h["point"]["lng"], h["point"]["lat"]) == (DOOR_1.lng, DOOR_1.lat)
    assert h["distanceM"] == pytest.approx(distance_m(at, DOOR_1), abs=0.05)
    after = audited(world)
    assert len(after) == before + 1 and after[-1]["subject"] == hid(world, "712-1-0")
    # the community's official: both zones, nearest first; the other community never
    both = near(world, "OFF1", at, 1000)
    assert [h["id"] for h in both] == [hid(world, "712-1-0"), hid(world, "712-2-0")]
    assert hid(world, "713-1-0") not in {h["id"] for h in near(world, "STR1", at, 1)} | {
        h["id"] for h in both}
    assert [h["id"] for h in near(world, "GW713", at, 1000)] == [hid(world, "713-1-0")]
    assert near(world, None, at, 1000) == []
    assert [h["id"] for h in near(world, "OFF1", at, 1000, first=1)] == [hid(world, "712-1-0")]


def test_a_role_that_may_not_see_addresses_gets_rounded_points(world: World) -> None:
    at = ORIGIN.shifted(100, 200)
    before = len(audited(world))
    found = near(world, "ES1", at, 1000)
    assert {h["id"] for h in found} == {hid(world, "712-1-0"), hid(world, "712-2-0")}
    for h in found:
        assert not h["exact"]
        p = h["point"]
        assert (round(p["lng"], 3), round(p["lat"], 3)) == (p["lng"], p["lat"])
        assert h["distanceM"] % 100 == 0
    assert (found[0]["point"]["lng"], found[0]["point"]["lat"]) == (
        round(DOOR_1.lng, 3), round(DOOR_1.lat, 3))
    assert len(audited(world)) == before  # nothing unmasked, nothing logged
    # a radius between the exact and the rounded distance: each role's answer is decided by
    # the point it is shown (the rounded one is nearer here), so none narrows the door down
    rounded = Point(lng=round(DOOR_1.lng, 3), lat=round(DOOR_1.lat, 3))
    exact_d, rounded_d = distance_m(at, DOOR_1), distance_m(at, rounded)
    assert abs(exact_d - rounded_d) > 10
    radius = (exact_d + rounded_d) / 2
    one = hid(world, "712-1-0")
    assert (one in {h["id"] for h in near(world, "OFF1", at, radius)}) == (exact_d <= radius)
    assert (one in {h["id"] for h in near(world, "ES1", at, radius)}) == (rounded_d <= radius)


def test_points_are_given_and_answered_in_gcj02(world: World) -> None:
    gcj = from_wgs84(Crs.GCJ02, DOOR_1.lng, DOOR_1.lat)
    (h,) = near(world, "GWZ1", Point(lng=gcj[0], lat=gcj[1]), 1, crs="GCJ02")
    assert h["id"] == hid(world, "712-1-0") and h["distanceM"] < 0.5
    assert (h["point"]["lng"], h["point"]["lat"]) == pytest.approx(gcj, abs=1e-6)


def test_households_inside_a_polygon(world: World) -> None:
    q = ("query($g: JSON!) { householdsInside(polygon: $g) { " + HOUSEHOLD + " } }")
    left = {"type": "Feature", "geometry": LEFT.to_geojson(), "properties": {}}
    got = world.ask(q, "OFF1", {"g": left})["householdsInside"]
    assert [h["id"] for h in got] == [hid(world, "712-1-0")]  # 713's door lies there too
    got = world.ask(q, "STR1", {"g": LEFT.to_geojson()})["householdsInside"]
    assert {h["id"] for h in got} == {hid(world, "712-1-0"), hid(world, "713-1-0")}
    assert world.ask(q, "GWZ2", {"g": LEFT.to_geojson()})["householdsInside"] == []
    bad = world.post(q, "OFF1", {"g": {"type": "Point", "coordinates": [114.3, 30.6]}}).json()
    assert "not a polygon" in bad["errors"][0]["message"]
    assert "GeoJSON Polygon" in bad["errors"][0]["message"]


def test_no_name_or_address_in_any_answer(world: World) -> None:
    text = json.dumps([near(world, "STR1", ORIGIN, 5000),
                       world.ask(f'{{ mapLayers(code: "{COMMUNITY}") }}', "STR1")])
    for personal in ("张三", "李四", "周五", "1栋101", "712-1-0", "13812341234"):
        assert personal not in text


def test_out_of_range_arguments_say_what_is_right(world: World) -> None:
    q = ("query($p: PointInput!, $r: Float!) { householdsNear(point: $p, radiusM: $r) "
         "{ id: householdId } }")
    body = world.post(q, "OFF1", {"p": {"lng": 114.3, "lat": 30.6}, "r": 50_000}).json()
    assert "from 0 to 5000 metres" in body["errors"][0]["message"]
    body = world.post(q, "OFF1", {"p": {"lng": 200, "lat": 30.6}, "r": 5}).json()
    assert "-180" in body["errors"][0]["message"]


def test_density_per_micro_grid(world: World) -> None:
    q = ("query($c: String!) { gridDensity(code: $c) { code households cases contacts "
         "uncovered squareKm householdsPerKm2 } }")
    got = {d["code"]: d for d in world.ask(q, "OFF1", {"c": COMMUNITY})["gridDensity"]}
    assert set(got) == set(ZONES)
    for d in got.values():
        assert (d["households"], d["cases"], d["contacts"], d["uncovered"]) == (3, 0, 0, 0)
        assert d["squareKm"] == pytest.approx(0.5, rel=1e-3)
        assert d["householdsPerKm2"] == pytest.approx(6, rel=1e-3)
    assert world.ask(q, "GW713", {"c": COMMUNITY})["gridDensity"] == []


def test_nearest_quarantine_site_with_free_places(world: World) -> None:
    q = ("query($p: PointInput!) { nearestQuarantineSite(point: $p) { code free capacity "
         "distanceM point { lng lat } } }")
    at = ORIGIN.shifted(1900, 1900)
    got = world.ask(q, "OFF1", {"p": {"lng": at.lng, "lat": at.lat}})["nearestQuarantineSite"]
    assert got["code"] == "QS-2" and got["free"] == 10
    assert got["distanceM"] == pytest.approx(distance_m(at, SITE_FAR), abs=0.05)
    got = world.ask(q, "OFF1", {"p": {"lng": ORIGIN.lng, "lat": ORIGIN.lat}})
    assert got["nearestQuarantineSite"]["code"] == "QS-1"
    assert world.ask(q, None, {"p": {"lng": ORIGIN.lng, "lat": ORIGIN.lat}}) == {
        "nearestQuarantineSite": None}


def test_map_layers(world: World) -> None:
    layers = world.ask(f'{{ mapLayers(code: "{COMMUNITY}") }}', "OFF1")["mapLayers"]
    assert layers["type"] == "FeatureCollection"
    by_layer: dict[str, list[dict[str, Any]]] = {}
    for f in layers["features"]:
        by_layer.setdefault(f["properties"]["layer"], []).append(f)
    assert [f["properties"]["code"] for f in by_layer["boundary"]] == ZONES
    for f in by_layer["boundary"]:
        assert f["geometry"]["type"] == "Polygon"
        assert {"coverage", "cases", "openItems"} <= set(f["properties"])
    assert {f["properties"]["code"] for f in by_layer["quarantine_site"]} == {"QS-1", "QS-2"}
    assert [f["properties"]["code"] for f in by_layer["checkpoint"]] == ["KK-1"]  # not KK-9
    assert world.ask(f'{{ mapLayers(code: "{COMMUNITY}") }}', "GW713") == {"mapLayers": None}
