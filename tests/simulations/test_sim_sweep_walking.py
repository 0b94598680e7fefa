"""The sweep model walks the real distances between located buildings (a floor per change of
building plus the way at a walking speed), from the community's centre at each shift's start,
and the constant ``walk_minutes`` where a point is missing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from adapters.layout import JIANG_AN, Rect
from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.geo import Crs, Point, distance_m
from gridcore.staff import Role
from simulations.city import CitySpec, StaffMix, build_city, buildings_of, city_layout
from simulations.sweep import (
    DEFAULT_SHIFTS,
    SWEEP_START,
    SimClock,
    SweepParams,
    SweepResult,
    run_sweep,
)

SPEC = CitySpec(seed=5, city_code="9903", city_name="步行城", grids_per_community=2,
                households_per_community=60, households_per_building=10, batch=30,
                staff=StaffMix(reference_households=60))
QUIET = SweepParams(window_days=3, horizon_days=8, no_answer_door=0.0, no_answer_phone=0.0,
                    chat_report_share=0.0, fever_rate=0.0, close_contact_rate=0.0,
                    arrival_rate=0.0, deliveries=False)


def test_a_walk_between_two_located_buildings_takes_the_distance_at_the_speed() -> None:
    clock = SimClock()
    app = GridcoreApp(memory_env(), clock=clock)
    build_city(app, replace(SPEC, geography=False))
    community = SPEC.communities()[0]
    # 1 and 2 stand 0.002° of latitude (about 222 m) apart, due north
    app.locate_building(community, "1", 114.3, 30.6, by=System.OPERATOR)
    app.locate_building(community, "2", 114.3, 30.602, by=System.OPERATOR)
    a, b = (app.building(building_id(community, n)).point for n in ("1", "2"))
    assert a is not None and b is not None
    metres = distance_m(a, b)
    assert metres == pytest.approx(222.4, abs=0.5)
    p = SweepParams()
    assert p.walk_between(a, b) == pytest.approx(1.0 + metres * 1.3 / 70.0)
    assert p.walk_between(a, b) == pytest.approx(1.0 + 222.4 * 1.3 / 70.0, abs=0.01)
    slow = replace(p, walk_speed_m_per_min=50.0, walk_detour=1.0, walk_floor_minutes=2.0)
    assert slow.walk_between(a, b) == pytest.approx(2.0 + metres / 50.0)
    # a point missing, or points switched off: the constant
    assert p.walk_between(a, None) == p.walk_between(None, b) == p.walk_minutes == 5.0
    assert replace(p, use_points=False).walk_between(a, b) == 5.0
    # the plan's minutes of a door visit that walks
    assert p.minutes(Method.DOOR, 3.0) == (3.0, 15.0)
    assert p.minutes(Method.PHONE, 0.0) == (0.0, 5.0)
    app.close()


def _sweep(spec: CitySpec, params: SweepParams = QUIET,
           scale: float | None = None) -> tuple[GridcoreApp, SweepResult]:
    """Sweep the spec's first community; with ``scale`` the city is built without geography
    and its community boundary and buildings are placed from the layout, stretched ``scale``
    times about the layout's origin."""
    clock = SimClock()
    app = GridcoreApp(memory_env(), clock=clock)
    build_city(app, spec if scale is None else replace(spec, geography=False))
    community = spec.communities()[0]
    if scale is not None:
        geo = city_layout(spec)

        def out(p: Point) -> tuple[float, float]:
            return (JIANG_AN.lng + (p.lng - JIANG_AN.lng) * scale,
                    JIANG_AN.lat + (p.lat - JIANG_AN.lat) * scale)

        r = geo.rects[community]
        (w, s), (e, n) = out(Point(lng=r.west, lat=r.south)), out(Point(lng=r.east, lat=r.north))
        app.draw_boundaries([(community, Rect(round(w, 7), round(s, 7), round(e, 7),
                                              round(n, 7)).area())], Crs.WGS84, "test",
                            by=System.OPERATOR)
        for b in range(1, buildings_of(spec, community) + 1):
            lng, lat = out(geo.buildings[(community, str(b))])
            app.locate_building(community, str(b), lng, lat, by=System.OPERATOR)
    return app, run_sweep(app, clock, community, params)


@pytest.mark.parametrize("geography", [True, False])
def test_the_first_door_visit_of_a_shift_walks_from_the_community_centre(
        geography: bool) -> None:
    """With no one absent and no chat, a grid worker's day starts at 8:00: their calls come
    back to back (5 min each) and their first door visit is recorded once they have walked
    from the community's centre to its building: the real way when the city is laid out,
    the constant 5 minutes when it is not."""
    app, r = _sweep(replace(SPEC, geography=geography))
    p = QUIET
    community = SPEC.communities()[0]
    area = app.node(community).boundary
    assert (area is not None) is geography
    base = area.centre() if area is not None else None
    campaign = app.campaign_of(community, 1)
    by_staff: dict[UUID | None, list[tuple[datetime, Method, UUID]]] = {}
    for hid in campaign.households:
        v = app.visit(campaign.id, hid)
        for a in v.attempts if v else []:
            by_staff.setdefault(a.staff_id, []).append((a.at, a.method, hid))
    checked = 0
    day_one = SWEEP_START.replace(hour=DEFAULT_SHIFTS[Role.GRID_WORKER].start_hour)
    for s in r.staff:
        if s.role is not Role.GRID_WORKER or s.staff_id not in by_staff:
            continue
        attempts = sorted(by_staff[s.staff_id], key=lambda x: x[0])
        for phones, (when, method, hid) in enumerate(attempts):
            if method is Method.DOOR:
                bid = app.household(hid).building_id
                assert bid is not None
                point = app.building(bid).point
                assert (point is not None) is geography
                walk = p.walk_between(base, point)
                expected = day_one + timedelta(minutes=phones * p.phone_minutes + walk)
                assert abs((when - expected).total_seconds()) < 1, (s.staff_no, when, expected)
                assert walk != 5.0 if geography else walk == 5.0
                checked += 1
                break
    assert checked >= 1
    # the totals: every walk of the constant model is 5 minutes
    walked = sum(s.walk_minutes for s in r.staff)
    assert walked > 0
    if not geography:
        assert walked % 5.0 == pytest.approx(0.0, abs=1e-6)
    assert r.walking_hours == pytest.approx(walked / 60)
    app.close()


def test_buildings_further_apart_take_more_of_the_campaign_walking() -> None:
    """The same city, its community and buildings stretched eight times wider: the campaign
    covers the same households, with more staff-hours and a larger share of the busy time
    spent walking; with points switched off the stretch changes nothing."""
    compact_app, compact = _sweep(SPEC, scale=1.0)
    wide_app, wide = _sweep(SPEC, scale=8.0)
    assert compact.covered == wide.covered == compact.households
    assert wide.walking_hours > 2 * compact.walking_hours
    assert wide.walking_share() > compact.walking_share()
    flat = replace(QUIET, use_points=False)
    a_app, a = _sweep(SPEC, flat, scale=1.0)
    b_app, b = _sweep(SPEC, flat, scale=8.0)
    assert a.walking_hours == b.walking_hours
    assert a.full_at_hours == b.full_at_hours
    for app in (compact_app, wide_app, a_app, b_app):
        app.close()
