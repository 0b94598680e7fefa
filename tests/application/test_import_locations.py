"""A register with 经度/纬度 (longitude/latitude): a row with a point and no 微网格 is placed in
the micro-grid whose boundary contains it, and the result says so; a point outside the row's
micro-grid is accepted with a warning (位置不在所属网格内); a point that is no point is an
error of its row that never repeats the coordinates."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.importer import check_register, column_key, import_households
from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.geo import Area, Crs, Point, distance_m, from_wgs84
from tests.application.test_import import given_grid, write_csv
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES

HEADER = ["户号", "微网格", "地址", "姓名", "经度 longitude", "纬度/lat"]
ORIGIN = Point(lng=114.30, lat=30.60)


def rect(x0: float, x1: float) -> Area:
    corners = [ORIGIN.shifted(x, y) for x, y in ((x0, 0), (x1, 0), (x1, 1000), (x0, 1000))]
    ring = tuple((p.lng, p.lat) for p in corners)
    return Area(polygons=(((*ring, ring[0]),),))


IN_LEFT, IN_RIGHT = ORIGIN.shifted(100, 100), ORIGIN.shifted(700, 100)


@pytest.fixture
def app(clock: Clock) -> GridcoreApp:
    application = GridcoreApp(memory_env(), clock=clock)
    given_grid(application)
    for code, area in ((ZONES[0], rect(0, 500)), (ZONES[1], rect(500, 1000))):
        node = application.node(code)
        node.draw_boundary(area, Crs.WGS84, "test", None, clock.now)
        application._save(node)
    return application


def test_the_coordinate_columns_are_matched_like_the_others() -> None:
    assert [column_key(h) for h in ("经度", "longitude", "经度 longitude", "*纬度", "lat",
                                     "纬度(latitude)")] == [
        "longitude", "longitude", "longitude", "latitude", "latitude", "latitude"]


def test_a_point_places_a_row_without_a_micro_grid_and_one_outside_is_a_warning(
        app: GridcoreApp, tmp_path: Path) -> None:
    gcj_left = from_wgs84(Crs.GCJ02, IN_LEFT.lng, IN_LEFT.lat)
    gcj_right = from_wgs84(Crs.GCJ02, IN_RIGHT.lng, IN_RIGHT.lat)
    path = write_csv(tmp_path / "reg.csv", [
        ["712-A", "", "1栋101", "张三", *gcj_right],      # placed: the right micro-grid
        ["712-A", "", "", "李四", "", ""],                 # the same household
        ["712-B", ZONES[0], "1栋102", "王五", *gcj_right],  # outside its micro-grid: warned
        ["712-C", ZONES[0], "1栋103", "赵六", *gcj_left],   # inside: nothing to say
        ["712-D", ZONES[0], "1栋104", "孙七", "", ""],      # no point: nothing to say
    ], header=HEADER)
    checked = check_register(app, path, crs=Crs.GCJ02, community=COMMUNITY)
    assert checked.ok and checked.proposed == {"712-A": ZONES[1]}
    result = import_households(app, path, crs=Crs.GCJ02, community=COMMUNITY)
    assert result.ok, result.errors
    assert result.households == 4 and result.residents == 5
    assert result.proposed == {"712-A": ZONES[1]}
    assert [(w.row, w.column) for w in result.warnings] == [(2, "微网格"),
                                                           (4, "经度 longitude")]
    assert "按位置划入" in result.warnings[0].message and ZONES[1] in result.warnings[0].message
    assert "位置不在所属网格内" in result.warnings[1].message
    a = app.household_by_no("712-A")
    assert a.micro_grid == ZONES[1] and len(a.residents) == 2
    assert a.own_point is not None and distance_m(a.own_point, IN_RIGHT) < 0.05
    assert [m.household_no for m in app.misplaced_households(COMMUNITY)] == ["712-B"]
    assert app.household_by_no("712-D").own_point is None


def test_a_row_without_a_micro_grid_whose_point_places_it_nowhere_is_an_error(
        app: GridcoreApp, tmp_path: Path) -> None:
    far = ORIGIN.shifted(5000, 5000)
    path = write_csv(tmp_path / "reg.csv", [
        ["712-A", "", "1栋101", "张三", far.lng, far.lat],
        ["712-B", "", "1栋102", "李四", IN_LEFT.lng, IN_LEFT.lat],
        ["712-C", ZONES[0], "1栋103", "王五", "东经114度", "30.6"],
        ["712-D", ZONES[0], "1栋104", "赵六", "114.3", ""],
    ], header=HEADER)
    result = check_register(app, path, community=COMMUNITY)
    by_row = {e.row: e for e in result.errors}
    assert sorted(by_row) == [2, 4, 5]
    assert "proposes none" in by_row[2].message and "boundaries" in by_row[2].message
    assert by_row[4].column == "经度 longitude" and "not a coordinate" in by_row[4].message
    assert "东经114度" not in by_row[4].message and by_row[4].given == "东经114度"
    assert by_row[5].column == "纬度/lat" and "both" in by_row[5].message
    assert result.proposed == {"712-B": ZONES[0]}
    without = check_register(app, path)  # no community to place it in
    assert any(e.row == 3 and "--community" in e.message for e in without.errors)
    assert import_households(app, path, community=COMMUNITY).households == 0  # all or nothing
    partial = import_households(app, path, community=COMMUNITY, good_rows_only=True)
    assert partial.households == 1 and app.household_by_no("712-B").micro_grid == ZONES[0]


def test_the_command_line_refuses_an_unknown_coordinate_system(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "reg.csv", [["712-A", "", "1栋101", "张三", "1", "2"]],
                     header=HEADER)
    out = CliRunner().invoke(cli, ["import", "households", str(path), "--crs", "mars"])
    assert out.exit_code == 2 and "coordinate system" in out.output and "gcj02" in out.output
