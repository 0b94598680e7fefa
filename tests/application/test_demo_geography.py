"""The 712 demo's geography (``adapters.demo_geography``): the city, district, street, the
712 community and its 11 zones have boundaries that keep the rules, each building's point
lies in its zone (and ``propose_micro_grid`` names that zone), the quarantine site stands on
the street's edge, the sampling sites inside the community, and building the demo again
writes nothing."""

from __future__ import annotations

import shapely

from adapters import demo, demo_field, demo_geography, demo_screening
from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.building import building_id
from gridcore.geo import cover_gap, outside_parent, overlaps
from gridcore.zoning import Zone


def built() -> GridcoreApp:
    app = GridcoreApp(memory_env(), clock=demo.ScenarioClock())
    demo.build(app)
    return app


def test_the_zones_have_boundaries_that_keep_the_rules() -> None:
    app = built()
    community = app.boundary_at(demo.COMMUNITY)
    assert community is not None
    zones = {demo.zone_code(z): app.boundary_at(demo.zone_code(z))
             for z in range(1, demo.ZONES + 1)}
    assert all(a is not None for a in zones.values())
    areas = {c: a for c, a in zones.items() if a is not None}
    assert overlaps(areas) == []
    assert cover_gap(demo.COMMUNITY, community, list(areas.values())) is None
    assert not [c for c, a in areas.items() if outside_parent(c, a, demo.COMMUNITY, community)]
    assert {n.code for n, _ in app.boundaries_under(demo.CITY)} >= {
        demo.CITY, demo.DISTRICT, demo.STREET, demo.COMMUNITY}
    # about 50 m² a household: 946 households on some 4.7 hectares
    assert 40_000 < community.square_metres() < 55_000
    assert "15 boundaries" in demo_geography.summary(app)


def test_a_building_stands_in_its_zone_and_proposes_it() -> None:
    app = built()
    for b in (1, 12, 14, 23):
        zone = demo.zone_code(demo_geography.zone_of(b))
        point = app.building(building_id(demo.COMMUNITY, str(b))).point
        assert point is not None
        area = app.boundary_at(zone)
        assert area is not None and area.contains(point)
        assert app.propose_micro_grid(point, demo.COMMUNITY) == zone
    # every household is located through its building, inside its own zone
    assert app.misplaced_households(demo.COMMUNITY) == []
    home = app.household_by_no(demo_field.INDEX_HOME)
    where = app.household_location(home.id)
    assert where is not None and app.propose_micro_grid(where, demo.COMMUNITY) == home.micro_grid


def test_the_sites_stand_where_they_would() -> None:
    clock = demo.ScenarioClock()
    app = GridcoreApp(memory_env(), clock=clock)
    demo.build(app)
    demo_field.referrals(app, clock)  # registers the quarantine site
    site = app.quarantine_site_by_code(demo_field.SITE).point
    street = app.boundary_at(demo.STREET)
    assert site is not None and street is not None
    assert street.geometry().boundary.distance(shapely.Point(site.lng, site.lat)) < 1e-9
    demo_screening.testing(app, clock)
    campaign = app.testing_campaign_of(demo.COMMUNITY, demo_screening.ROUND)
    community = app.boundary_at(demo.COMMUNITY)
    assert community is not None
    points = [campaign.site_points.get(s.site_id) for s in demo_screening.SITES]
    assert len(points) == 2 and all(p is not None and community.contains(p) for p in points)


def test_building_the_demo_again_writes_nothing() -> None:
    app = built()
    written = app.recorder.max_notification_id()
    demo.build(app)
    demo_geography.draw(app)
    assert app.recorder.max_notification_id() == written


def test_the_story_ends_with_three_zones_around_the_testing_rounds_case() -> None:
    clock = demo.ScenarioClock()
    app = GridcoreApp(memory_env(), clock=clock)
    demo.build(app)
    demo_field.run(app, clock)
    [zoning] = app.risk_zones_at(demo.COMMUNITY, clock.now)
    case = app.case_by_no(demo_screening.testing_story(app).case_no)
    assert zoning.case_ids == [case.id]
    home = app.household_by_no(demo_screening.POSITIVE_HOME)
    sealed, controlled, precaution = (zoning.households[z] for z in Zone)
    # the case's building, its neighbours within 100 m, the rest of the community
    assert sealed and controlled and precaution
    assert len(sealed) + len(controlled) + len(precaution) == demo.HOUSEHOLDS
    assert home.id in sealed
    street = app.boundary_at(demo.STREET)
    assert street is not None
    assert street.geometry().covers(zoning.areas[Zone.PRECAUTION].geometry().buffer(-1e-6))
    assert street.square_metres() > 50 * app.boundary_at(demo.COMMUNITY).square_metres()
    _, policy, _ = app.policy_version(clock.now)
    assert policy.zoning_controlled_radius_m == demo_geography.CONTROLLED_RADIUS_M
    # nobody's measure changed: the officials apply them
    assert zoning.applied == []
    line = demo_geography.zones_summary(app)
    assert f"封控区 {len(sealed)}" in line and f"防范区 {len(precaution)}" in line
    # and the residents are told: a notice to the community (the public page shows it)
    from gridcore.notice import Notice, notice_id

    told = app.repository.get(notice_id(demo_field.ZONES_NOTICE_REF))
    assert isinstance(told, Notice) and told.scope == demo.COMMUNITY
    assert "封控区" in told.text and "管控区" in told.text
    # running the story again writes nothing: test_demo_screening holds it, finale included
