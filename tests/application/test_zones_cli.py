"""``gridcore zones draw|list|lift`` over the SQLite store: a street official draws the zones
around a case by its number and applies their measures; the list shows the zones' household
counts and no name or address; a past time before the drawing shows none; a refusal (a
community official, an unlocated case, a malformed point) exits 2 with the problem and the
remedy and writes nothing; lifting ends the zoning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.geo import Crs, from_wgs84
from gridcore.household import household_id, resident_id
from gridcore.staff import Role
from gridcore.status import Measure
from gridcore.zoning import Zone
from tests.application.test_zoning import CASE_BUILDING, ORIGIN, rect
from tests.conftest import Clock
from tests.scenario import COMMUNITY, STREET, ZONES, given_community

OP = System.OPERATOR
NOW = datetime(2020, 2, 25, 0, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=8)


def opened(path: Path, at: datetime = LATER) -> GridcoreApp:
    clock = Clock()
    clock.now = at
    return GridcoreApp(sqlite_env(path), clock=clock)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The located community of ``tests.application.test_zoning`` (case CASE-1 in building 3;
    712-1-2 unlocated, with case CASE-3), a street official OFF-S; the CLI runs 8 hours
    later."""
    path = tmp_path / "z.sqlite"
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.setenv("GRIDCORE_SCENARIO_CLOCK", LATER.isoformat())
    monkeypatch.setenv("COLUMNS", "250")
    app = opened(path, NOW)
    try:
        c = given_community(app)
        app.draw_boundaries([(ZONES[0], rect(0, 0, 1000, 1000)),
                             (ZONES[1], rect(1000, 0, 2000, 1000)),
                             (STREET, rect(-3000, -3000, 3000, 3000))], Crs.WGS84, "test",
                            by=OP)
        app.enrol_staff("OFF-S", "街道主任", Role.OFFICIAL, STREET, 0, by=OP)
        app.register_building(COMMUNITY, "3", "3栋", 6, by=OP)
        app.locate_building(COMMUNITY, "3", CASE_BUILDING.lng, CASE_BUILDING.lat, by=OP)
        app.register_household("Z-1", ZONES[0], "3栋101",
                               [new_member("Z-1", 1, "张三", "13812341234", None, 1960)],
                               building_id(COMMUNITY, "3"), by=OP)
        for hid, (east, north) in ((c.households[0], (300, 100)),
                                   (c.households[3], (1500, 200))):
            p = ORIGIN.shifted(east, north)
            app.locate_household(hid, p.lng, p.lat, by=OP)
        app.open_case("CASE-1", COMMUNITY, "发热", by=c.doctor, hid=household_id("Z-1"),
                      rid=resident_id("Z-1", 1))
        app.open_case("CASE-3", COMMUNITY, "发热", by=c.doctor, hid=c.households[2],
                      rid=resident_id("712-1-2", 1))
    finally:
        app.close()
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["zones", *args])
    return result.exit_code, result.output


def written(path: Path) -> int:
    app = opened(path)
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def test_zones_are_drawn_listed_and_lifted_on_the_command_line(store: Path) -> None:
    code, out = run("draw", COMMUNITY, "--case", "CASE-1", "--reason", "确诊病例",
                    "--by", "OFF-S", "--apply")
    assert code == 0, out
    assert "drawn 已划定" in out and "未定位" in out
    assert "measures applied" in out and "imposed 3" in out  # Z-1 1, 712-1-0 2
    app = opened(store)
    try:
        [z] = app.risk_zones_at(COMMUNITY, LATER + timedelta(hours=1))
        assert z.households[Zone.SEALED] == [household_id("Z-1")]
        assert app.household(household_id("Z-1")).residents[
            resident_id("Z-1", 1)].measure is Measure.HOME_QUARANTINE
    finally:
        app.close()
    code, out = run("list", COMMUNITY)
    assert code == 0, out
    assert str(z.id) in out and "OFF-S" in out and "in force" in out
    for personal in ("张三", "3栋101", "13812341234"):
        assert personal not in out
    code, out = run("list", COMMUNITY, "--as-of", (NOW - timedelta(days=1)).isoformat())
    assert code == 0 and "no zoning in force" in out and str(z.id) not in out
    code, out = run("lift", str(z.id), "--reason", "全员核酸连续阴性", "--by", "OFF-S")
    assert code == 0 and "lifted" in out, out
    code, out = run("list", COMMUNITY)
    assert "no zoning in force" in out
    code, out = run("lift", str(z.id), "--reason", "again", "--by", "OFF-S")
    assert code == 2 and "were lifted" in out and "→" in out


def test_refusals_exit_2_with_problem_and_remedy_writing_nothing(store: Path) -> None:
    before = written(store)
    code, out = run("draw", COMMUNITY, "--case", "CASE-1", "--reason", "x", "--by", "OFF1")
    assert code == 2 and "→" in out, out  # a community official is below the street
    code, out = run("draw", COMMUNITY, "--case", "CASE-3", "--reason", "x", "--by", "OFF-S")
    assert code == 2 and "no located address" in out and "locate" in out, out
    code, out = run("draw", COMMUNITY, "--point", "114.3;30.6", "--reason", "x",
                    "--by", "OFF-S")
    assert code == 2 and "LNG,LAT" in out, out
    code, out = run("list", COMMUNITY, "--as-of", "2020-02-24T08:00:00")
    assert code == 2 and "time zone" in out, out
    assert written(store) == before
    # a point given in GCJ-02 on the case's building draws the same sealed zone
    lng, lat = from_wgs84(Crs.GCJ02, CASE_BUILDING.lng, CASE_BUILDING.lat)
    code, out = run("draw", COMMUNITY, "--point", f"{lng},{lat}", "--crs", "gcj02",
                    "--reason", "x", "--by", "OFF-S")
    assert code == 0, out
    app = opened(store)
    try:
        [z] = app.risk_zones_at(COMMUNITY, LATER + timedelta(hours=1))
        assert z.households[Zone.SEALED] == [household_id("Z-1")]
    finally:
        app.close()
