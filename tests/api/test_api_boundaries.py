"""Boundaries over a real HTTP server: an official draws a GCJ-02 FeatureCollection
(``drawBoundaries``), the node's ``boundary`` reads back in WGS-84 or GCJ-02 and as it was
before a redraw; bad features and overlaps are clear problems that write nothing; a grid
worker may not draw; a node outside the caller's jurisdiction neither reads nor draws."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gridcore.geo import gcj02_to_wgs84
from tests.api.test_api_access import OTHER_ZONE, World, serve_world
from tests.scenario import COMMUNITY, ZONES

X0, Y0, D = 114.30, 30.60, 0.01
DRAW = """mutation($input: DrawBoundariesInput!) { drawBoundaries(input: $input) {
  __typename
  ... on BoundariesDrawn { notificationId drawn unchanged gaps { code squareMetres } }
  ... on Problem { code problem remedy } } }"""
BOUNDARY = """query($code: String!, $at: DateTime, $crs: Crs!) { gridNode(code: $code) {
  boundary(asOf: $at, crs: $crs) } }"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-bd") / "gridcore.sqlite") as w:
        yield w


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def collection(*features: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": c}, "geometry": g} for c, g in features]}


def draw(world: World, staff_no: str, fc: dict[str, Any], crs: str = "GCJ02",
         **more: Any) -> dict[str, Any]:
    data = world.ask(DRAW, staff_no, {"input": {"features": fc, "crs": crs, **more}})
    return data["drawBoundaries"]


def boundary(world: World, staff_no: str, code: str, at: str | None = None,
             crs: str = "WGS84") -> Any:
    node = world.ask(BOUNDARY, staff_no, {"code": code, "at": at, "crs": crs})["gridNode"]
    return None if node is None else node["boundary"]


def test_an_official_draws_and_the_boundary_reads_back_in_either_system(world: World) -> None:
    before = world.clock.advance(minutes=5).isoformat()
    world.clock.advance(minutes=5)
    done = draw(world, "OFF1", collection((ZONES[0], square(X0, Y0, X0 + D / 2, Y0 + D)),
                                          (ZONES[1], square(X0 + D / 2, Y0, X0 + D, Y0 + D))),
                clientId="bd-1")
    assert done["__typename"] == "BoundariesDrawn", done
    assert done["drawn"] == ZONES
    last = world.app.recorder.max_notification_id()
    again = draw(world, "OFF1", collection((ZONES[0], square(X0, Y0, X0 + D / 2, Y0 + D)),
                                           (ZONES[1], square(X0 + D / 2, Y0, X0 + D, Y0 + D))),
                 clientId="bd-1")
    assert again["__typename"] == "BoundariesDrawn"
    assert world.app.recorder.max_notification_id() == last  # the retry wrote nothing

    wgs = boundary(world, "GWZ1", ZONES[0])
    assert wgs["properties"]["code"] == ZONES[0]
    x, y = wgs["geometry"]["coordinates"][0][0]
    want = gcj02_to_wgs84(X0, Y0)
    assert abs(x - want[0]) < 1e-6 and abs(y - want[1]) < 1e-6
    gcj = boundary(world, "GWZ1", ZONES[0], crs="GCJ02")
    gx, gy = gcj["geometry"]["coordinates"][0][0]
    assert abs(gx - X0) < 1e-6 and abs(gy - Y0) < 1e-6
    assert boundary(world, "GWZ1", ZONES[0], at=before) is None  # not drawn yet then

    # a redraw; the first still reads at its time
    drawn_at = world.clock().isoformat()
    world.clock.advance(minutes=5)
    redraw = draw(world, "OFF1", collection((ZONES[0], square(X0, Y0, X0 + D / 4, Y0 + D))))
    assert redraw["drawn"] == [ZONES[0]]
    # (a ring given in GCJ-02 is densified before its conversion: its corners are among the
    # points, its eastmost is the corner)
    then = boundary(world, "GWZ1", ZONES[0], at=drawn_at, crs="GCJ02")
    east = max(x for x, _ in then["geometry"]["coordinates"][0])
    assert east == pytest.approx(X0 + D / 2, abs=1e-6)
    now = boundary(world, "GWZ1", ZONES[0], crs="GCJ02")
    assert max(x for x, _ in now["geometry"]["coordinates"][0]) == pytest.approx(X0 + D / 4,
                                                                                 abs=1e-6)


def test_bad_features_and_overlaps_are_clear_problems_that_write_nothing(world: World) -> None:
    last = world.app.recorder.max_notification_id()
    bowtie = {"type": "Polygon", "coordinates": [[[X0, Y0], [X0 + D, Y0 + D], [X0 + D, Y0],
                                                  [X0, Y0 + D], [X0, Y0]]]}
    bad = draw(world, "OFF1", collection((ZONES[0], square(X0, Y0, X0 + D, Y0 + D)),
                                         (ZONES[1], bowtie)))
    assert bad["__typename"] == "InvalidInputProblem"
    assert "feature 1" in bad["problem"] and ZONES[1] in bad["problem"]
    overlap = draw(world, "OFF1", collection(
        (COMMUNITY, square(X0 - D, Y0 - D, X0 + 2 * D, Y0 + 2 * D)),
        (ZONES[1], square(X0 - D / 2, Y0, X0 + D, Y0 + D))), strict=False)
    assert overlap["__typename"] == "InvalidInputProblem", overlap
    assert "overlaps" in overlap["problem"] and "m²" in overlap["problem"]
    assert world.app.recorder.max_notification_id() == last


def test_who_may_draw_and_read(world: World) -> None:
    last = world.app.recorder.max_notification_id()
    worker = draw(world, "GWZ1", collection((ZONES[0], square(X0, Y0, X0 + D, Y0 + D))))
    assert worker["__typename"] == "NotPermittedProblem"
    elsewhere = draw(world, "OFF1", collection((OTHER_ZONE, square(X0, Y0, X0 + D, Y0 + D))))
    assert elsewhere["__typename"] == "NotFoundProblem"  # as if it did not exist
    assert world.app.recorder.max_notification_id() == last
    assert draw(world, "STR1", collection(
        (OTHER_ZONE, square(X0 + 2 * D, Y0, X0 + 3 * D, Y0 + D))))["__typename"] \
        == "BoundariesDrawn"
    assert boundary(world, "GW713", OTHER_ZONE) is not None
    assert boundary(world, "GWZ1", OTHER_ZONE) is None  # outside: no node at all
    assert boundary(world, None, ZONES[0]) is None
