"""A community laid out at once: its micro-grids (``create_nodes``) and its buildings with
their points (``register_buildings``), each checked as the one-at-a-time command checks it, in
one transaction, on every store."""

from __future__ import annotations

import pytest

from gridcore.application import BuildingRow, GridcoreApp
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.errors import DuplicateCode, InvalidInput, LevelViolation, NotFound, NotPermitted
from gridcore.geo import Crs
from gridcore.grid import Level
from gridcore.staff import Role
from gridcore.staff_commands import MAX_ZONES
from tests.application.test_staffing import enrol, unchanged
from tests.scenario import COMMUNITY, STREET, ZONES, given_community

OP = System.OPERATOR
NEW = {f"{COMMUNITY}-{n:02d}": f"第{n}片区" for n in (3, 4, 5)}


def test_a_communitys_micro_grids_are_created_at_once(app: GridcoreApp) -> None:
    given_community(app, households_per_zone=1)
    before = app.recorder.max_notification_id() or 0
    nid = app.create_nodes(COMMUNITY, NEW, by=OP)
    assert nid == before + 6  # each new node, and the community attaching each
    for code, name in NEW.items():
        node = app.node(code)
        assert (node.name, node.level, node.parent_code) == (name, Level.MICRO_GRID, COMMUNITY)
    assert app.node(COMMUNITY).children == [*ZONES, *NEW]
    # the same codes again: refused, naming them
    unchanged(app, DuplicateCode, lambda: app.create_nodes(
        COMMUNITY, {f"{COMMUNITY}-06": "新", f"{COMMUNITY}-03": "又"}, by=OP),
        f"{COMMUNITY}-03", "already used")


def test_one_node_refused_refuses_them_all(app: GridcoreApp) -> None:
    given_community(app, households_per_zone=1)
    unchanged(app, InvalidInput, lambda: app.create_nodes(
        COMMUNITY, {f"{COMMUNITY}-07": "好", "4201029": "坏"}, by=OP), "does not extend")
    unchanged(app, LevelViolation, lambda: app.create_nodes(ZONES[0], {f"{ZONES[0]}1": "x"},
                                                            by=OP), "cannot have child")
    unchanged(app, InvalidInput, lambda: app.create_nodes(COMMUNITY, {}, by=OP),
              "No new nodes", "at least one")
    unchanged(app, InvalidInput, lambda: app.create_nodes(
        COMMUNITY, [(f"{COMMUNITY}-07", "x")], by=OP), "mapping")
    unchanged(app, InvalidInput, lambda: app.create_nodes(
        COMMUNITY, {f"{COMMUNITY}-{n:04d}": "x" for n in range(MAX_ZONES + 1)}, by=OP),
        "too many")
    unchanged(app, NotFound, lambda: app.create_nodes("420102001799", NEW, by=OP))
    unchanged(app, InvalidInput, lambda: app.create_nodes(
        COMMUNITY, {f"{COMMUNITY}-07": "\x00"}, by=OP), "NUL")
    assert app.node(COMMUNITY).children == ZONES


def test_buildings_are_registered_and_located_at_once(app: GridcoreApp) -> None:
    given_community(app, households_per_zone=1)
    before = app.recorder.max_notification_id() or 0
    nid = app.register_buildings(COMMUNITY, [
        BuildingRow("1", floors=7, lng=114.30, lat=30.60),
        BuildingRow("2", "二号楼", 18),
        BuildingRow("3", lng=114.31, lat=30.61)], Crs.WGS84, by=OP)
    assert nid == before + 5  # three registrations, two points
    one, two, three = (app.building(building_id(COMMUNITY, n)) for n in "123")
    assert (one.name, one.floors, two.name, two.floors) == ("1栋", 7, "二号楼", 18)
    assert (one.point.lng, one.point.lat) == (114.30, 30.60) and two.point is None
    assert three.point is not None
    # a point in another system is converted as locate_building converts it
    app.register_buildings(COMMUNITY, [BuildingRow("4", lng=114.31, lat=30.61)], Crs.GCJ02,
                           by=OP)
    app.register_building(COMMUNITY, "5", by=OP)
    app.locate_building(COMMUNITY, "5", 114.31, 30.61, Crs.GCJ02, by=OP)
    four, five = (app.building(building_id(COMMUNITY, n)) for n in "45")
    assert four.point == five.point != three.point


def test_one_building_refused_refuses_them_all(app: GridcoreApp) -> None:
    given_community(app, households_per_zone=1)
    app.register_building(COMMUNITY, "9", by=OP)
    good = BuildingRow("1")
    for rows, error, words in [
        ([good, BuildingRow("9")], DuplicateCode, ("9", "already registered")),
        ([good, BuildingRow("1")], InvalidInput, ("listed twice", "once")),
        ([good, BuildingRow("2", floors=0)], InvalidInput, ("floors", "1 to 200")),
        ([good, BuildingRow(" ")], InvalidInput, ("needs a number",)),
        ([good, BuildingRow("2", lng=114.3)], InvalidInput, ("no latitude", "both")),
        ([good, BuildingRow("2", lng=514.3, lat=30.6)], InvalidInput, ("longitude",)),
        ([good, ("2", "x", 6)], InvalidInput, ("not a BuildingRow",)),
        ([], InvalidInput, ("No buildings",)),
    ]:
        unchanged(app, error, lambda rows=rows: app.register_buildings(COMMUNITY, rows, by=OP),
                  *words)
    unchanged(app, InvalidInput, lambda: app.register_buildings(ZONES[0], [good], by=OP),
              "micro_grid", "community")
    unchanged(app, NotFound, lambda: app.register_buildings("420102001799", [good], by=OP))


@pytest.mark.parametrize("command", ["create_nodes", "register_buildings"])
def test_only_those_who_may_lay_out_the_community_may(app: GridcoreApp, command: str) -> None:
    c = given_community(app, households_per_zone=1)
    app.create_node("420102001713", "713社区", STREET, by=OP)
    outsider = enrol(app, "OFF713", Role.OFFICIAL, "420102001713")
    run = (lambda by: app.create_nodes(COMMUNITY, NEW, by=by)) if command == "create_nodes" \
        else (lambda by: app.register_buildings(COMMUNITY, [BuildingRow("1")], by=by))
    unchanged(app, NotPermitted, lambda: run(c.volunteer))
    unchanged(app, NotPermitted, lambda: run(outsider), "outside your jurisdiction")
    run(c.official)
