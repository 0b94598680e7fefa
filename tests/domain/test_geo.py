"""The coordinate systems, points, areas and boundary rules of gridcore.geo."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcore.errors import InvalidInput
from gridcore.geo import (
    Area,
    Crs,
    Point,
    bd09_to_gcj02,
    circle,
    cover_gap,
    distance_m,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    outside_parent,
    overlaps,
    parse_area,
    parse_crs,
    parse_point,
    to_wgs84,
    wgs84_to_gcj02,
)

china = st.tuples(st.floats(73.0, 135.0), st.floats(18.0, 53.0))


def test_wgs84_to_gcj02_gives_the_published_offset() -> None:
    # the value coord-convert and coordTransform print for (120, 40)
    lng, _ = wgs84_to_gcj02(120.0, 40.0)
    assert lng == pytest.approx(120.00567568355486, abs=1e-9)


def test_outside_china_the_datums_coincide() -> None:
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)


@given(china)
def test_gcj02_back_to_wgs84_lands_within_a_millimetre(p: tuple[float, float]) -> None:
    g = wgs84_to_gcj02(*p)
    w = gcj02_to_wgs84(*g)
    assert distance_m(Point(lng=w[0], lat=w[1]), Point(lng=p[0], lat=p[1])) < 0.001


@given(china)
def test_the_offset_is_hundreds_of_metres_not_more(p: tuple[float, float]) -> None:
    g = wgs84_to_gcj02(*p)
    assert 1 < distance_m(Point(lng=g[0], lat=g[1]), Point(lng=p[0], lat=p[1])) < 1200


@given(china)
def test_bd09_round_trips_through_gcj02(p: tuple[float, float]) -> None:
    b = gcj02_to_bd09(*p)
    g = bd09_to_gcj02(*b)
    assert math.isclose(g[0], p[0], abs_tol=1e-9) and math.isclose(g[1], p[1], abs_tol=1e-9)


@given(china, st.sampled_from(list(Crs)))
def test_from_and_to_wgs84_are_inverse(p: tuple[float, float], crs: Crs) -> None:
    back = to_wgs84(crs, *from_wgs84(crs, *p))
    assert distance_m(Point(lng=back[0], lat=back[1]), Point(lng=p[0], lat=p[1])) < 0.001


def test_crs_names_of_the_maps_are_understood_and_an_unknown_one_is_refused() -> None:
    assert parse_crs("GCJ-02") is Crs.GCJ02 and parse_crs("baidu") is Crs.BD09
    assert parse_crs("高德") is Crs.GCJ02 and parse_crs("wgs84") is Crs.WGS84
    with pytest.raises(InvalidInput, match="gcj02"):
        parse_crs("mercator")


def test_a_point_out_of_range_is_refused_with_the_ranges() -> None:
    with pytest.raises(InvalidInput, match="between -90 and 90"):
        Point.given(114.3, 95.0)
    with pytest.raises(InvalidInput, match="longitude"):
        Point.given(float("nan"), 30.0)


def test_distance_of_one_degree_of_latitude() -> None:
    assert distance_m(Point(lng=114.3, lat=30.0), Point(lng=114.3, lat=31.0)) == \
        pytest.approx(111_195, rel=1e-3)


def _square(x0: float, y0: float, side: float) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + side, y0], [x0 + side, y0 + side],
                                                [x0, y0 + side], [x0, y0]]]}


def test_an_area_is_read_checked_and_written_back() -> None:
    a = parse_area(_square(114.30, 30.58, 0.01))
    assert a.contains(Point(lng=114.305, lat=30.585))
    assert not a.contains(Point(lng=114.32, lat=30.585))
    assert a.to_geojson()["coordinates"][0][0] == [114.30, 30.58]
    # 0.01 degrees by 0.01 degrees at 30.6 N: about 958 m by 1,111 m
    assert a.square_metres() == pytest.approx(958.5 * 1111.3, rel=0.01)


def test_an_area_given_in_gcj02_is_stored_in_wgs84() -> None:
    a = parse_area(_square(114.30, 30.58, 0.01), Crs.GCJ02)
    x, y = a.polygons[0][0][0]
    assert (x, y) != (114.30, 30.58)
    assert distance_m(Point(lng=x, lat=y), Point(lng=114.30, lat=30.58)) > 100


@pytest.mark.parametrize(("geometry", "words"), [
    ({"type": "Point", "coordinates": [1, 2]}, "not a polygon"),
    ({"type": "Polygon", "coordinates": [[[114, 30], [115, 30], [115, 31]]]}, "fewer than 4"),
    ({"type": "Polygon", "coordinates": [[[114, 30], [115, 30], [115, 31], [114, 31]]]},
     "not closed"),
    ({"type": "Polygon", "coordinates": [[[114, 30], [115, 31], [115, 30], [114, 31],
                                          [114, 30]]]}, "Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[114, 30], [115, 300], [115, 31], [114, 30]]]},
     "latitude"),
])
def test_a_bad_boundary_is_refused_saying_what_is_wrong(geometry: dict[str, object],
                                                          words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as e:
        parse_area(geometry)
    assert "GeoJSON Polygon" in e.value.remedy or "between -90" in e.value.remedy


def test_a_point_is_read_from_geojson() -> None:
    p = parse_point({"type": "Point", "coordinates": [114.3, 30.6]})
    assert p == Point(lng=114.3, lat=30.6)
    with pytest.raises(InvalidInput, match="GeoJSON Point"):
        parse_point({"type": "Point", "coordinates": [114.3]})


def test_the_boundary_rules_find_outside_overlap_and_gap() -> None:
    community = parse_area(_square(114.30, 30.58, 0.01))
    west = parse_area(_square(114.30, 30.58, 0.005))
    east = parse_area(_square(114.305, 30.58, 0.005))
    assert outside_parent("MG1", west, "C", community) is None
    assert overlaps({"MG1": west, "MG2": east}) == []
    gap = cover_gap("C", community, [west, east])
    assert gap is not None and gap.kind == "gap"
    assert gap.square_metres == pytest.approx(community.square_metres() / 2, rel=0.02)
    assert community.contains(gap.at)

    astray = parse_area(_square(114.308, 30.58, 0.005))
    out = outside_parent("MG3", astray, "C", community)
    assert out is not None and out.other == "C" and "超出上级" in out.text
    both = overlaps({"MG2": east, "MG3": astray})
    assert [(p.code, p.other) for p in both] == [("MG2", "MG3")]
    assert cover_gap("C", community, [parse_area(_square(114.30, 30.58, 0.01))]) is None


def test_a_circle_holds_what_is_within_its_radius() -> None:
    centre = Point(lng=114.3, lat=30.6)
    disc = circle(centre, 500)
    assert disc.contains(centre.shifted(300, 300))
    assert not disc.contains(centre.shifted(400, 400))
    assert distance_m(centre, centre.shifted(300, 400)) == pytest.approx(500, rel=0.01)
    assert isinstance(disc, Area)


def test_children_sharing_an_edge_of_a_gcj02_parent_but_not_its_corners_stay_inside() -> None:
    # the parent's south edge has no corner where the children meet: converted corner by
    # corner, the edge would bend and leave each child metres outside
    parent = parse_area(_square(114.30, 30.58, 0.02), Crs.GCJ02)
    west = parse_area(_square(114.30, 30.58, 0.01), Crs.GCJ02)
    east = parse_area({"type": "Polygon", "coordinates": [[[114.31, 30.58], [114.32, 30.58],
                                                           [114.32, 30.59], [114.31, 30.59],
                                                           [114.31, 30.58]]]}, Crs.GCJ02)
    assert outside_parent("W", west, "P", parent) is None
    assert outside_parent("E", east, "P", parent) is None
    assert overlaps({"W": west, "E": east}) == []


_RING = ((114.30, 30.58), (114.31, 30.58), (114.315, 30.585), (114.31, 30.59), (114.30, 30.59),
         (114.30, 30.58))
_HOLE = ((114.303, 30.583), (114.306, 30.583), (114.306, 30.586), (114.303, 30.586),
         (114.303, 30.583))
_XS = st.sampled_from(sorted({x for ring in (_RING, _HOLE) for x, _ in ring}))
_YS = st.sampled_from(sorted({y for ring in (_RING, _HOLE) for _, y in ring}))
_LNG, _LAT = st.floats(114.295, 114.32), st.floats(30.575, 30.595)


@given(st.one_of(st.tuples(_LNG, _LAT), st.tuples(_XS, _LAT), st.tuples(_LNG, _YS),
                 st.tuples(_XS, _YS)))
def test_an_area_contains_what_shapely_says_it_covers_edges_and_holes_included(
        p: tuple[float, float]) -> None:
    """``Area.contains`` tests a point without making a shapely point (``intersects_xy``):
    the same answers as covering it, inside, outside, in the hole, on every edge and corner."""
    import shapely

    area = Area(polygons=((_RING, _HOLE),))
    expected = area.geometry().covers(shapely.Point(*p))
    assert area.contains(Point(lng=p[0], lat=p[1])) is expected
