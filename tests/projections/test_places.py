"""The places read model and the spatial questions (空间查询): households within a distance of a
point and inside a polygon equal a brute-force ``distance_m`` scan over the application's own
points (a household's own sealed point, else its building's); the nearest quarantine site
with free places; each micro-grid's density per km²; an erased address takes the household's
own point out of the answers; SQLite and PostgreSQL views give the same answers, and the read
model holds no point of a household."""

from __future__ import annotations

import random
from typing import Any
from uuid import UUID

import pytest

from adapters.bootstrap import bootstrap
from gridcore.application import GridcoreApp, HouseholdRow, new_member
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.geo import Area, Crs, Point, circle, distance_m
from gridcore.household import household_id, resident_id
from gridcore.referral import ReferralKind
from projections import places, spatial
from projections.runner import Runner
from tests.conftest import Clock
from tests.scenario import COMMUNITY, STREET, ZONES, given_community

OP = System.OPERATOR
ORIGIN = Point(lng=114.30, lat=30.60)


def rect(x0: float, y0: float, x1: float, y1: float) -> Area:
    corners = [ORIGIN.shifted(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    ring = tuple((p.lng, p.lat) for p in corners)
    return Area(polygons=(((*ring, ring[0]),),))


LEFT, RIGHT = rect(0, 0, 500, 1000), rect(500, 0, 1000, 1000)


@pytest.fixture
def sql_store(store: dict[str, str]) -> dict[str, str]:
    if store["PERSISTENCE_MODULE"] == "adapters.memory_store":
        pytest.skip("the views of the in-memory store are covered by sqlite/postgres")
    return store


def own_points(app: GridcoreApp) -> spatial.OwnPoints:
    def opened(ids: Any) -> dict[str, Point | None]:
        return {i: app.household(UUID(i)).own_point for i in ids}
    return opened


def scene(app: GridcoreApp, clock: Clock) -> list[UUID]:
    """The community's two micro-grids drawn side by side, 4 buildings, 40 households more
    (half located at their own door, half at their building), two quarantine sites, a
    camera and a checkpoint."""
    c = given_community(app, households_per_zone=1)
    app.draw_boundaries([(ZONES[0], LEFT), (ZONES[1], RIGHT)], Crs.WGS84, "test", by=OP)
    rnd = random.Random(19)
    for b in range(4):
        app.register_building(COMMUNITY, f"{b + 1}", f"{b + 1}栋", 6, by=OP)
        x = 100 + 250 * b
        spot = ORIGIN.shifted(x, rnd.uniform(100, 900))
        app.locate_building(COMMUNITY, f"{b + 1}", spot.lng, spot.lat, by=OP)
    for n in range(40):
        b = n % 4
        no = f"P-{n}"
        members = [new_member(no, 1, "王芳", "13900000000", None, 1970)]
        app.register_household(no, ZONES[0] if b < 2 else ZONES[1], f"{b + 1}栋{n}室",
                               members, building=building_id(COMMUNITY, f"{b + 1}"), by=OP)
        if n % 2 == 0:
            x0 = 0 if b < 2 else 500
            door = ORIGIN.shifted(rnd.uniform(x0 + 5, x0 + 495), rnd.uniform(5, 995))
            app.locate_household(household_id(no), door.lng, door.lat, by=OP)
    app.register_quarantine_site("QS-1", "后湖宾馆隔离点", STREET, 20, by=OP)
    app.register_quarantine_site("QS-2", "近处隔离点", STREET, 1, by=OP)
    near = ORIGIN.shifted(50, 50)
    far = ORIGIN.shifted(900, 900)
    app.locate_quarantine_site("QS-1", far.lng, far.lat, by=OP)
    app.locate_quarantine_site("QS-2", near.lng, near.lat, by=OP)
    app.register_camera("CAM-1", ZONES[0], building_id=building_id(COMMUNITY, "1"), by=OP)
    app.locate_camera("CAM-1", near.lng, near.lat, by=OP)
    app.register_checkpoint("KK-1", COMMUNITY, "后湖大道卡口", by=OP)
    app.locate_checkpoint("KK-1", far.lng, far.lat, by=OP)
    return [household_id(f"P-{n}") for n in range(40)] + list(c.households)


def brute_near(app: GridcoreApp, ids: list[UUID], at: Point, radius: float
               ) -> list[tuple[str, float]]:
    found = []
    for hid in ids:
        p = app.household_location(hid)
        if p is not None and distance_m(at, p) <= radius:
            found.append((str(hid), distance_m(at, p)))
    return sorted(found, key=lambda t: (t[1], t[0]))


def test_answers_equal_a_brute_force_scan_and_erasure_removes_the_point(
        sql_store: dict[str, str], clock: Clock) -> None:
    app = bootstrap(sql_store, clock=clock).app
    ids = scene(app, clock)
    runner = Runner(app, places.PROJECTIONS, batch=7)
    runner.catch_up()
    index = spatial.index(runner.views, own_points(app))
    assert len(index.households) == 40  # the scenario's own households are not located
    rnd = random.Random(7)
    for _ in range(25):
        at = ORIGIN.shifted(rnd.uniform(-200, 1200), rnd.uniform(-200, 1200))
        radius = rnd.choice([0.0, 30.0, 150.0, 400.0, 2000.0])
        got = [(n.household_id, n.distance_m) for n in index.near(at, radius)]
        assert got == brute_near(app, ids, at, radius)
    # inside a polygon: the micro-grids' own rectangles, and a disc
    for area in (LEFT, RIGHT, circle(ORIGIN.shifted(500, 500), 300)):
        inside = {h.household_id for h in index.inside(area)}
        assert inside == {str(h) for h in ids if (p := app.household_location(h)) is not None
                          and area.contains(p)}
    # micro-grids carried; own points marked
    near = index.near(ORIGIN.shifted(500, 500), 5000)
    assert {n.micro_grid for n in near} == set(ZONES)
    assert sum(n.own for n in near) == 20

    # nearest quarantine site with free places: QS-2 is the nearer
    found = index.nearest_free_site(ORIGIN)
    assert found is not None and found[0].code == "QS-2"
    assert found[1] == pytest.approx(distance_m(ORIGIN, ORIGIN.shifted(50, 50)))
    # QS-2 (one place) takes a resident: full, so QS-1 is the nearest with a free place
    worker = app.staff_by_no("GW1").id
    ref = app.open_referral(ids[1], resident_id("P-1", 1),
                            ReferralKind.CENTRALIZED_QUARANTINE, "密接 close contact",
                            by=worker).referral_id
    app.accept_referral(ref, worker)
    app.dispatch_transport(ref, worker, "120转运车")
    app.admit(ref, app.staff_by_no("OFF1").id, site_code="QS-2")
    runner.catch_up()
    full = spatial.index(runner.views, own_points(app)).nearest_free_site(ORIGIN)
    assert full is not None and (full[0].code, full[0].free) == ("QS-1", 20)
    index = spatial.index(runner.views, own_points(app))
    # the same answers from a new index at the same position (cached) and after a rebuild
    assert spatial.index(runner.views, own_points(app)) is index
    runner.rebuild("places")
    again = spatial.index(runner.views, own_points(app))
    assert [(n.household_id, n.distance_m) for n in again.near(ORIGIN, 600)] == \
        [(n.household_id, n.distance_m) for n in index.near(ORIGIN, 600)]

    # the read model holds no household's point
    hid = ids[0]  # P-0: located at its own door
    own = app.household(hid).own_point
    assert own is not None
    text = repr({t: runner.views.query(f"SELECT * FROM {t}") for t in places.Places.tables})
    assert repr(own.lng) not in text and "王芳" not in text and "栋0室" not in text

    # erasure: the address goes with the last member, the own point with it
    app.erase_resident(hid, resident_id("P-0", 1), "期满 purpose fulfilled", by=OP)
    runner.catch_up()
    after = spatial.index(runner.views, own_points(app))
    assert after is not index
    (row,) = [h for h in after.households if h.household_id == str(hid)]
    building = app.building(building_id(COMMUNITY, "1")).point
    assert not row.own and row.point == building and row.point != own
    assert runner.views.query("SELECT own, erased FROM pl_households WHERE household_id = ?",
                              (str(hid),)) == [(0, 1)]
    # nobody is asked for the erased household's own point again
    asked: list[str] = []

    def spy(ids_: Any) -> dict[str, Point | None]:
        asked.extend(ids_)
        return own_points(app)(ids_)
    spatial.Index(runner.views, spy)
    assert str(hid) not in asked and len(asked) == 19


def test_density_per_micro_grid(sql_store: dict[str, str], clock: Clock) -> None:
    app = bootstrap(sql_store, clock=clock).app
    scene(app, clock)
    from projections import contact_followup, grid_rollup, sweep_coverage
    runner = Runner(app, [*places.PROJECTIONS, *grid_rollup.PROJECTIONS,
                          *sweep_coverage.PROJECTIONS, *contact_followup.PROJECTIONS])
    runner.catch_up()
    found = {d.code: d for d in spatial.grid_density(runner.views, COMMUNITY, clock.now)}
    assert set(found) == set(ZONES)
    for code in ZONES:
        d = found[code]
        assert d.households == 21  # 20 of the scene and the scenario's own one
        assert d.square_km == pytest.approx(0.5, rel=1e-3)
        assert d.per_km2["households"] == pytest.approx(42, rel=1e-3)
        assert (d.cases, d.contacts, d.uncovered) == (0, 0, 0)


def test_a_batch_of_new_households_with_their_later_events_folds_as_event_by_event(
        sql_store: dict[str, str], clock: Clock, statements: list[str]) -> None:
    """A hundred households registered in bulk, a third of them located at their door, one
    moved and one erased, caught up in one batch (on PostgreSQL the batch's new rows go in as
    one set, before that batch's updates of them) and one event at a time: the same rows,
    and the rows the events say."""
    app = bootstrap(sql_store, clock=clock).app
    given_community(app, households_per_zone=1)
    app.register_households([HouseholdRow(f"Q-{n}", ZONES[n % 2], f"{n}号", [
        new_member(f"Q-{n}", 1, "李明", "13700000000", None, 1980)]) for n in range(100)],
        by=OP)
    door = ORIGIN.shifted(20, 20)
    for n in range(0, 100, 3):
        app.locate_household(household_id(f"Q-{n}"), door.lng, door.lat, by=OP)
    app.move_household(household_id("Q-1"), ZONES[0], by=OP)
    app.erase_resident(household_id("Q-3"), resident_id("Q-3", 1), "期满 purpose fulfilled",
                       by=OP)

    def tables(batch: int) -> dict[str, list[tuple[Any, ...]]]:
        runner = Runner(app, places.PROJECTIONS, batch=batch)
        for p in places.PROJECTIONS:
            runner.views.reset(p)
        runner.catch_up()
        return {t: sorted(runner.views.query(f"SELECT * FROM {t}"), key=repr)
                for t in places.Places.tables}

    statements.clear()  # what the runs before made
    whole = tables(10_000)
    # one statement per kind of change for the whole batch (34 doors given, a move, an
    # erasure), not one per event (36 before)
    updates = [s for s in statements if s.startswith("UPDATE")]
    assert 0 < len(updates) == len(set(updates)) <= 5
    assert whole == tables(1)
    rows = {str(h): (g, own, erased) for h, g, _, own, erased in whole["pl_households"]}
    assert len(rows) == 100 + len(ZONES)
    assert rows[str(household_id("Q-0"))] == (ZONES[0], 1, 0)
    assert rows[str(household_id("Q-1"))] == (ZONES[0], 0, 0)  # moved from the second zone
    assert rows[str(household_id("Q-2"))] == (ZONES[0], 0, 0)
    assert rows[str(household_id("Q-3"))] == (ZONES[1], 0, 1)  # located, then erased

