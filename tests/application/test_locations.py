"""Locations (位置): buildings, households (their own point or their building's), cameras,
checkpoints, quarantine sites, sampling sites and enterprises carry a WGS-84 point; a
household is proposed to the micro-grid whose boundary contains it, and one outside its
micro-grid is reported. A household's own point is sealed as its address is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import memory_env
from gridcore.app_base import HouseholdRow
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import NotAuthorised, System
from gridcore.building import building_id
from gridcore.enterprise import enterprise_id
from gridcore.errors import Erased, GridcoreError, InvalidInput, NotFound
from gridcore.geo import Area, Crs, Point, distance_m, from_wgs84
from gridcore.household import Household, household_id, resident_id
from gridcore.location import household_point, located_point
from gridcore.mass_testing import SamplingSite, mass_testing_id
from gridcore.staff import Role
from tests.conftest import Clock
from tests.scenario import COMMUNITY, STREET, ZONES, Community, given_community

OP = System.OPERATOR
ORIGIN = Point(lng=114.30, lat=30.60)


def rect(x0: float, y0: float, x1: float, y1: float) -> Area:
    """A rectangle from (x0, y0) to (x1, y1), in metres east and north of ORIGIN."""
    corners = [ORIGIN.shifted(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    ring = tuple((p.lng, p.lat) for p in corners)
    return Area(polygons=(((*ring, ring[0]),),))


LEFT, RIGHT = rect(0, 0, 500, 1000), rect(500, 0, 1000, 1000)
IN_LEFT, IN_RIGHT, NOWHERE = (ORIGIN.shifted(100, 100), ORIGIN.shifted(700, 100),
                              ORIGIN.shifted(3000, 3000))


@pytest.fixture
def world(clock: Clock) -> tuple[GridcoreApp, Community]:
    """A community whose two micro-grids are drawn side by side (set through the aggregate,
    as a boundary import would), a building, a camera, a checkpoint, a quarantine site, a
    testing campaign and an enterprise; stored sealed (the composition root's vault)."""
    app = bootstrap(memory_env(), clock=clock).app
    c = given_community(app, households_per_zone=1)
    for code, area in ((ZONES[0], LEFT), (ZONES[1], RIGHT)):
        node = app.node(code)
        node.draw_boundary(area, Crs.WGS84, "test", None, clock.now)
        app._save(node)
    app.register_building(COMMUNITY, "3", "3栋", 6, by=OP)
    app.register_camera("CAM-1", ZONES[0], household_id=c.households[0], by=OP)
    app.register_checkpoint("KK-1", COMMUNITY, "后湖大道卡口", by=OP)
    app.register_quarantine_site("QS-1", "后湖宾馆隔离点", STREET, 20, by=OP)
    app.launch_testing_campaign(COMMUNITY, 1, [SamplingSite(site_id="CY-1", name="广场采样点",
                                                            place=COMMUNITY)], by=c.official)
    app.enrol_staff("ES1", "专员甲", Role.ENTERPRISE_SPECIALIST, COMMUNITY, 0, by=OP)
    app.register_enterprise("91420102MA4KXXXX1A", "汉口制衣厂", "经信局", ZONES[0],
                            app.staff_by_no("ES1").id, by=OP)
    return app, c


def refused(app: GridcoreApp, act: Callable[[], Any],
            error: type[GridcoreError] = InvalidInput) -> GridcoreError:
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as caught:
        act()
    assert app.recorder.max_notification_id() == before, "a refused command wrote events"
    assert caught.value.problem and caught.value.remedy
    return caught.value


# ---- locating each kind ----------------------------------------------------------------------

def test_a_building_is_located_once_converted_to_wgs84_and_withdrawn(world) -> None:
    app, _ = world
    gcj = from_wgs84(Crs.GCJ02, IN_LEFT.lng, IN_LEFT.lat)
    assert app.locate_building(COMMUNITY, "3", *gcj, Crs.GCJ02, by=OP) is not None
    b = app.building(building_id(COMMUNITY, "3"))
    assert b.point is not None and distance_m(b.point, IN_LEFT) < 0.05
    written = app.recorder.max_notification_id()
    assert app.locate_building(COMMUNITY, "3", b.point.lng, b.point.lat, by=OP) is None
    assert app.recorder.max_notification_id() == written  # the same point: nothing written
    (located,) = [e for e in app.events.get(b.id) if isinstance(e, type(b).Located)]
    assert located.crs is Crs.GCJ02
    app.locate_building(COMMUNITY, "3", None, None, by=OP)
    assert app.building(b.id).point is None


@pytest.mark.parametrize("kind", ["camera", "checkpoint", "quarantine_site", "sampling_site",
                                  "enterprise"])
def test_every_kind_carries_its_point(world, kind: str) -> None:
    app, _ = world
    eid, tid = enterprise_id("91420102MA4KXXXX1A"), mass_testing_id(COMMUNITY, 1)
    locate, read = {
        "camera": (lambda x, y: app.locate_camera("CAM-1", x, y, by=OP),
                   lambda: app.camera("CAM-1").point),
        "checkpoint": (lambda x, y: app.locate_checkpoint("KK-1", x, y, by=OP),
                       lambda: app.checkpoint("KK-1").point),
        "quarantine_site": (lambda x, y: app.locate_quarantine_site("QS-1", x, y, by=OP),
                            lambda: app.quarantine_site_by_code("QS-1").point),
        "sampling_site": (lambda x, y: app.locate_sampling_site(tid, "CY-1", x, y, by=OP),
                          lambda: app.testing_campaign(tid).site_points.get("CY-1")),
        "enterprise": (lambda x, y: app.locate_enterprise(eid, x, y, by=OP),
                       lambda: app.enterprise(eid).point),
    }[kind]
    assert read() is None
    assert locate(IN_RIGHT.lng, IN_RIGHT.lat) is not None
    assert read() == IN_RIGHT
    assert locate(IN_RIGHT.lng, IN_RIGHT.lat) is None  # again: nothing written
    refused(app, lambda: locate(float("nan"), IN_RIGHT.lat))
    refused(app, lambda: locate(IN_RIGHT.lng, 91.0))
    refused(app, lambda: locate(IN_RIGHT.lng, None))
    assert read() == IN_RIGHT


def test_unknown_things_are_refused_by_name(world) -> None:
    app, _ = world
    x, y = IN_LEFT.lng, IN_LEFT.lat
    e = refused(app, lambda: app.locate_building(COMMUNITY, "99", x, y, by=OP), NotFound)
    assert "99" in e.problem and "registerBuilding" in e.remedy
    refused(app, lambda: app.locate_camera("CAM-X", x, y, by=OP), NotFound)
    refused(app, lambda: app.locate_checkpoint("KK-X", x, y, by=OP), NotFound)
    refused(app, lambda: app.locate_quarantine_site("QS-X", x, y, by=OP), NotFound)
    e = refused(app, lambda: app.locate_sampling_site(mass_testing_id(COMMUNITY, 1), "CY-9",
                                                      x, y, by=OP), NotFound)
    assert "CY-9" in e.problem and "CY-1" in e.remedy
    refused(app, lambda: app.locate_household(household_id("nope"), x, y, by=OP), NotFound)
    refused(app, lambda: app.locate_enterprise(enterprise_id("nope"), x, y, by=OP), NotFound)


def test_coordinates_that_are_no_coordinates_say_what_a_coordinate_is() -> None:
    with pytest.raises(InvalidInput) as e:
        located_point(200.0, 30.0)
    assert "longitude" in e.value.problem and "-180" in e.value.remedy
    with pytest.raises(InvalidInput) as e:
        located_point(114.3, None)
    assert "both" in e.value.remedy
    with pytest.raises(InvalidInput):
        located_point(True, 30.0)  # type: ignore[arg-type]
    assert located_point(None, None) is None


def test_a_grid_worker_of_another_community_may_not_locate_a_household(world) -> None:
    app, c = world
    app.create_node("420102001713", "713社区", STREET, by=OP)
    app.enrol_staff("GWX", "外社区", Role.GRID_WORKER, "420102001713", 10, by=OP)
    refused(app, lambda: app.locate_household(c.households[0], IN_LEFT.lng, IN_LEFT.lat,
                                              by=app.staff_by_no("GWX").id), NotAuthorised)
    assert app.locate_household(c.households[0], IN_LEFT.lng, IN_LEFT.lat, by=c.worker)


# ---- a household's point ---------------------------------------------------------------------

def test_a_household_is_where_its_own_point_is_else_its_building(world) -> None:
    app, c = world
    hid = c.households[0]
    app.move_household(hid, ZONES[0], building_id(COMMUNITY, "3"), by=OP)
    assert app.household_location(hid) is None
    app.locate_building(COMMUNITY, "3", IN_LEFT.lng, IN_LEFT.lat, by=OP)
    assert app.household_location(hid) == IN_LEFT  # the building's
    app.locate_household(hid, IN_RIGHT.lng, IN_RIGHT.lat, by=OP)
    assert app.household_location(hid) == IN_RIGHT  # its own wins
    assert household_point(None, app.building(building_id(COMMUNITY, "3"))) == IN_LEFT
    app.locate_household(hid, None, None, by=OP)
    assert app.household_location(hid) == IN_LEFT  # withdrawn: the building's again


def test_a_households_own_point_is_sealed_and_shredded_with_its_address(world) -> None:
    app, _ = world
    no = "712-1-0"
    hid = household_id(no)
    app.locate_household(hid, 114.3012345, 30.6054321, by=OP)
    raw = [s.state.decode("utf-8") for s in app.recorder.select_events(hid)]
    assert not any("114.3012345" in r or "30.6054321" in r for r in raw)
    assert '"sealed"' in raw[-1]
    assert app.household(hid).own_point == Point(lng=114.3012345, lat=30.6054321)
    for n in (1, 2):  # the last identifiable member takes the address, and the point with it
        app.erase_resident(hid, resident_id(no, n), "期满", by=OP)
    h = app.household(hid)
    assert h.address.erased and h.own_point is None
    assert h.place is not None and h.place.erased
    e = refused(app, lambda: app.locate_household(hid, 114.3, 30.6, by=OP), Erased)
    assert "address was erased" in e.problem


def test_a_move_to_a_new_address_drops_the_old_doors_point(world) -> None:
    app, c = world
    hid = c.households[0]
    app.locate_household(hid, IN_LEFT.lng, IN_LEFT.lat, by=OP)
    app.move_household(hid, ZONES[1], by=OP)  # the same door, another micro-grid: kept
    assert app.household(hid).own_point == IN_LEFT
    app.move_household(hid, ZONES[1], address="9栋901", by=OP)
    assert app.household(hid).own_point is None


# ---- proposing and reporting -----------------------------------------------------------------

def test_the_micro_grid_whose_boundary_contains_a_point_is_proposed(world) -> None:
    app, _ = world
    assert app.propose_micro_grid(IN_LEFT, COMMUNITY) == ZONES[0]
    assert app.propose_micro_grid(IN_RIGHT, COMMUNITY) == ZONES[1]
    assert app.propose_micro_grid(NOWHERE, COMMUNITY) is None
    app.create_node("420102001713", "713社区", STREET, by=OP)
    app.create_node("420102001713-01", "第1片区", "420102001713", by=OP)
    assert app.propose_micro_grid(IN_LEFT, "420102001713") is None  # no boundaries drawn
    with pytest.raises(NotFound):
        app.propose_micro_grid(IN_LEFT, "420102009999")


def test_a_household_registered_outside_its_micro_grid_is_accepted_and_reported(world) -> None:
    app, _ = world
    app.locate_building(COMMUNITY, "3", IN_RIGHT.lng, IN_RIGHT.lat, by=OP)
    rows = [HouseholdRow("712-9-1", ZONES[0], "9栋101", [new_member("712-9-1", 1, "甲")],
                         point=IN_LEFT),
            HouseholdRow("712-9-2", ZONES[0], "9栋102", [new_member("712-9-2", 1, "乙")],
                         point=IN_RIGHT, crs=Crs.BD09),
            HouseholdRow("712-9-3", ZONES[0], "3栋301", [new_member("712-9-3", 1, "丙")],
                         building_id(COMMUNITY, "3"))]  # no own point: its building's
    report = app.register_households(rows, by=OP)
    assert report.registered == 3 and report.misplaced == ["712-9-2", "712-9-3"]
    h2 = app.household_by_no("712-9-2")
    assert h2.own_point == IN_RIGHT and h2.version == 2
    (located,) = [e for e in app.events.get(h2.id) if isinstance(e, Household.Located)]
    assert located.crs is Crs.BD09
    misplaced = app.misplaced_households(COMMUNITY)
    assert [(m.household_no, m.micro_grid, m.own, m.proposed) for m in misplaced] == [
        ("712-9-2", ZONES[0], True, ZONES[1]), ("712-9-3", ZONES[0], False, ZONES[1])]
    assert app.misplaced_households(ZONES[1]) == []
    app.move_household(h2.id, ZONES[1], by=OP)
    assert [m.household_no for m in app.misplaced_households(COMMUNITY)] == ["712-9-3"]


def test_register_household_takes_a_point_in_a_named_system(world) -> None:
    app, _ = world
    bd = from_wgs84(Crs.BD09, IN_LEFT.lng, IN_LEFT.lat)
    app.register_household("712-8-1", ZONES[0], "8栋101", [new_member("712-8-1", 1, "丁")],
                           lng=bd[0], lat=bd[1], crs=Crs.BD09, by=OP)
    point = app.household_by_no("712-8-1").own_point
    assert point is not None and distance_m(point, IN_LEFT) < 0.05
    refused(app, lambda: app.register_household(
        "712-8-2", ZONES[0], "8栋102", [new_member("712-8-2", 1, "戊")], lng=114.3, by=OP))
    with pytest.raises(NotFound):
        app.household_by_no("712-8-2")
