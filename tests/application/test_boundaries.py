"""Drawing the grid on the map (边界): a batch of boundaries is drawn all or nothing, each node
within its parent, siblings not overlapping, gaps in a parent's cover reported (refused when
strict); unknown and retired codes are named; a redraw keeps the old boundary for time travel;
only an official of the node's jurisdiction (or the operator) draws."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.errors import GridcoreError, NotPermitted
from gridcore.geo import Area, Crs, Point
from gridcore.grid_commands import BoundariesRefused
from tests.conftest import Clock
from tests.scenario import COMMUNITY, STREET, ZONES, given_community

ORIGIN = Point(lng=114.30, lat=30.60)
OP = System.OPERATOR


def rect(x0: float, y0: float, x1: float, y1: float) -> Area:
    """A rectangle from (x0, y0) to (x1, y1), in metres east and north of ORIGIN."""
    corners = [ORIGIN.shifted(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    ring = tuple((p.lng, p.lat) for p in corners)
    return Area(polygons=(((*ring, ring[0]),),))


COMMUNITY_AREA = rect(0, 0, 1000, 1000)
LEFT, RIGHT = rect(0, 0, 500, 1000), rect(500, 0, 1000, 1000)


@pytest.fixture
def app(clock: Clock) -> GridcoreApp:
    """The rules do not depend on the store (the event's round trip through the stores is the
    event fixtures' concern)."""
    application = GridcoreApp(memory_env(), clock=clock)
    given_community(application, households_per_zone=1)
    return application


def refused(app: GridcoreApp, act: Callable[[], Any],
            error: type[GridcoreError] = BoundariesRefused) -> Any:
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as caught:
        act()
    assert app.recorder.max_notification_id() == before, "a refused batch wrote events"
    return caught.value


def test_a_community_and_its_micro_grids_are_drawn_in_one_batch(app: GridcoreApp) -> None:
    report = app.draw_boundaries([(COMMUNITY, COMMUNITY_AREA), (ZONES[0], LEFT),
                                  (ZONES[1], RIGHT)], Crs.GCJ02, "712.geojson", by=OP)
    assert report.drawn == (COMMUNITY, ZONES[0], ZONES[1])
    assert report.gaps == ()
    assert app.boundary_at(ZONES[0]) == LEFT
    assert app.node(ZONES[0]).boundary.contains(ORIGIN.shifted(100, 100))  # type: ignore[union-attr]
    again = app.draw_boundaries([(ZONES[0], LEFT)], Crs.WGS84, "again", by=OP)
    assert again.drawn == () and again.unchanged == (ZONES[0],)


def test_a_micro_grid_outside_its_community_is_refused_with_where_and_how_much(
        app: GridcoreApp) -> None:
    app.draw_boundaries([(COMMUNITY, COMMUNITY_AREA)], Crs.WGS84, "", by=OP)
    e = refused(app, lambda: app.draw_boundaries([(ZONES[0], rect(-200, 0, 500, 1000)),
                                                  (ZONES[1], RIGHT)], Crs.WGS84, "", by=OP))
    (p,) = e.problems
    assert (p.code, p.kind, p.other) == (ZONES[0], "outside", COMMUNITY)
    assert 190_000 < p.square_metres < 210_000  # 200 m × 1000 m
    assert -200 < (p.at.lng - ORIGIN.lng) * 95_700 < 0  # the point lies in the part outside
    assert ZONES[0] in e.problem and "m²" in e.problem and "within" in e.remedy
    assert app.boundary_at(ZONES[1]) is None  # all or nothing: the good one was not drawn


def test_a_node_whose_parent_has_no_boundary_is_not_checked_against_it(app: GridcoreApp) -> None:
    report = app.draw_boundaries([(ZONES[0], rect(-5000, 0, 500, 1000))], Crs.WGS84, "", by=OP)
    assert report.drawn == (ZONES[0],)


def test_overlapping_siblings_are_refused_also_against_stored_ones(app: GridcoreApp) -> None:
    app.draw_boundaries([(ZONES[0], LEFT)], Crs.WGS84, "", by=OP)
    e = refused(app, lambda: app.draw_boundaries([(ZONES[1], rect(400, 0, 1000, 1000))],
                                                 Crs.WGS84, "", by=OP))
    (p,) = e.problems
    assert p.kind == "overlap" and {p.code, p.other} == set(ZONES)
    assert 95_000 < p.square_metres < 105_000  # 100 m × 1000 m


def test_a_redrawn_parent_must_still_hold_its_childrens_stored_boundaries(
        app: GridcoreApp) -> None:
    app.draw_boundaries([(COMMUNITY, COMMUNITY_AREA), (ZONES[0], LEFT), (ZONES[1], RIGHT)],
                        Crs.WGS84, "", by=OP)
    e = refused(app, lambda: app.draw_boundaries([(COMMUNITY, rect(0, 0, 900, 1000))],
                                                 Crs.WGS84, "", by=OP))
    assert [(p.code, p.kind) for p in e.problems] == [(ZONES[1], "outside")]


def test_gaps_are_reported_and_refused_only_when_strict(app: GridcoreApp) -> None:
    batch = [(COMMUNITY, COMMUNITY_AREA), (ZONES[0], LEFT), (ZONES[1], rect(500, 0, 1000, 800))]
    e = refused(app, lambda: app.draw_boundaries(batch, Crs.WGS84, "", by=OP,
                                                 allow_gaps=False))
    (gap,) = e.problems
    assert (gap.code, gap.kind) == (COMMUNITY, "gap")
    assert 95_000 < gap.square_metres < 105_000  # 500 m × 200 m
    assert "uncovered" in e.problem
    report = app.draw_boundaries(batch, Crs.WGS84, "", by=OP)
    assert [(g.code, g.kind) for g in report.gaps] == [(COMMUNITY, "gap")]
    assert app.boundary_at(ZONES[1]) is not None


def test_unknown_repeated_and_retired_codes_are_each_named(app: GridcoreApp) -> None:
    app.create_node(f"{COMMUNITY}-09", "第9片区", COMMUNITY, by=OP)
    app.retire_node(f"{COMMUNITY}-09", "并入 merged", by=OP)
    e = refused(app, lambda: app.draw_boundaries(
        [(ZONES[0], LEFT), ("999999", RIGHT), (ZONES[0], LEFT), (f"{COMMUNITY}-09", RIGHT)],
        Crs.WGS84, "", by=OP))
    assert [(c.code, c.kind, c.index) for c in e.codes] == [
        ("999999", "unknown", 1), (ZONES[0], "repeated", 2), (f"{COMMUNITY}-09", "retired", 3)]
    assert "999999" in e.problem and "active grid node" in e.remedy
    refused(app, lambda: app.draw_boundaries([], Crs.WGS84, "", by=OP), GridcoreError)


def test_boundary_at_travels_back_before_a_redraw(app: GridcoreApp, clock: Clock) -> None:
    before_any = clock()
    clock.advance(minutes=1)
    app.draw_boundaries([(ZONES[0], LEFT)], Crs.WGS84, "v1", by=OP)
    first = clock()
    clock.advance(days=1)
    app.draw_boundaries([(ZONES[0], rect(0, 0, 400, 1000))], Crs.WGS84, "v2", by=OP)
    assert app.boundary_at(ZONES[0], before_any) is None
    assert app.boundary_at(ZONES[0], first) == LEFT
    assert app.boundary_at(ZONES[0]) == rect(0, 0, 400, 1000)
    assert [n.code for n, _ in app.boundaries_under(COMMUNITY, first)] == [ZONES[0]]


def test_only_an_official_of_the_jurisdiction_draws(app: GridcoreApp) -> None:
    official = app.staff_by_no("OFF1").id
    worker = app.staff_by_no("GW1").id
    assert app.draw_boundaries([(ZONES[0], LEFT)], Crs.WGS84, "", by=official).drawn
    refused(app, lambda: app.draw_boundaries([(ZONES[1], RIGHT)], Crs.WGS84, "", by=worker),
            NotPermitted)
    refused(app, lambda: app.draw_boundaries([(STREET, COMMUNITY_AREA)], Crs.WGS84, "",
                                             by=official), NotPermitted)  # above them
