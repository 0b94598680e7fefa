"""``gridcore grid boundaries import`` and ``export`` over the SQLite store: a file drawn on a
GCJ-02 map (高德) is converted to WGS-84 and exports back as it came; a file with a ring that
crosses itself is reported with the feature's index and nothing is drawn; boundaries that
break a rule are refused with a table of problems; the system is never guessed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.geojson import read_boundaries
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp
from gridcore.geo import Crs, gcj02_to_wgs84
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, given_community

NOW = datetime(2020, 2, 21, 2, 0, tzinfo=UTC)
X0, Y0, D = 114.30, 30.60, 0.01  # the community, 0.01° square, in GCJ-02


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def feature(code: str, geometry: dict[str, Any], key: str = "code") -> dict[str, Any]:
    return {"type": "Feature", "properties": {key: code}, "geometry": geometry}


# the community's ring passes through the corners its micro-grids share, as a map drawn with
# shared edges does: a straight GCJ-02 edge is not straight in WGS-84 (vertices convert, the
# line between them bends by centimetres), so a parent edge without the shared vertex would
# leave its children a few m² outside
COMMUNITY_RING = {"type": "Polygon", "coordinates": [[
    [X0, Y0], [X0 + D / 2, Y0], [X0 + D, Y0], [X0 + D, Y0 + D], [X0 + D / 2, Y0 + D],
    [X0, Y0 + D], [X0, Y0]]]}
GCJ_FILE = {"type": "FeatureCollection", "features": [
    feature(COMMUNITY, COMMUNITY_RING),
    feature(ZONES[0], square(X0, Y0, X0 + D / 2, Y0 + D), "网格编码"),
    feature(ZONES[1], square(X0 + D / 2, Y0, X0 + D, Y0 + D), "编码")]}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "g.sqlite"
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.setenv("GRIDCORE_SCENARIO_CLOCK", (NOW + timedelta(hours=1)).isoformat())
    monkeypatch.setenv("COLUMNS", "250")
    clock = Clock()
    clock.now = NOW
    app = GridcoreApp(sqlite_env(path), clock=clock)
    given_community(app, households_per_zone=1)
    app.close()
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["grid", "boundaries", *args])


def stored(path: Path) -> GridcoreApp:
    return GridcoreApp(sqlite_env(path), clock=lambda: NOW + timedelta(hours=2))


def test_a_gcj02_file_is_converted_and_exports_back(store: Path, tmp_path: Path) -> None:
    file = tmp_path / "712.geojson"
    file.write_text(json.dumps(GCJ_FILE, ensure_ascii=False), encoding="utf-8")
    done = run("import", str(file), "--crs", "gcj02")
    assert done.exit_code == 0, done.output
    assert "3 boundaries drawn" in done.output
    app = stored(store)
    area = app.boundary_at(COMMUNITY)
    assert area is not None
    x, y = area.polygons[0][0][0]
    want = gcj02_to_wgs84(X0, Y0)
    assert abs(x - want[0]) < 1e-6 and abs(y - want[1]) < 1e-6
    assert abs(x - X0) > 0.001  # GCJ-02 is hundreds of metres off WGS-84 here
    app.close()
    out = tmp_path / "back.geojson"
    exported = run("export", COMMUNITY, "--crs", "gcj02", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    back = json.loads(out.read_text(encoding="utf-8"))
    assert back["crs"] == "gcj02"
    assert [f["properties"]["code"] for f in back["features"]] == [COMMUNITY, *ZONES]
    bx, by_ = back["features"][0]["geometry"]["coordinates"][0][0]
    assert abs(bx - X0) < 1e-6 and abs(by_ - Y0) < 1e-6
    before = run("export", COMMUNITY, "--as-of", (NOW - timedelta(hours=1)).isoformat())
    assert json.loads(before.stdout)["features"] == []


def test_an_invalid_ring_is_reported_with_its_feature_index(store: Path,
                                                             tmp_path: Path) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[X0, Y0], [X0 + D, Y0 + D], [X0 + D, Y0],
                                                  [X0, Y0 + D], [X0, Y0]]]}
    file = tmp_path / "bad.geojson"
    file.write_text(json.dumps({"type": "FeatureCollection", "crs": "gcj02", "features": [
        feature(ZONES[0], square(X0, Y0, X0 + D / 2, Y0 + D)), feature(ZONES[1], bowtie),
        {"type": "Feature", "properties": {}, "geometry": square(X0, Y0, X0 + D, Y0 + D)}]}),
        encoding="utf-8")
    done = run("import", str(file))
    assert done.exit_code == 1, done.output
    assert "2 bad features" in done.output and "nothing was drawn" in done.output
    assert "Self-intersection" in done.output and ZONES[1] in done.output
    read = read_boundaries(json.loads(file.read_text(encoding="utf-8")))
    assert [(e.index, e.code) for e in read.errors] == [(1, ZONES[1]), (2, "")]
    assert "no node code" in read.errors[1].message
    app = stored(store)
    assert app.boundary_at(ZONES[0]) is None
    app.close()


def test_overlaps_are_refused_with_a_table_and_gaps_only_when_strict(store: Path,
                                                                      tmp_path: Path) -> None:
    file = tmp_path / "overlap.geojson"
    file.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(ZONES[0], square(X0, Y0, X0 + D * 0.6, Y0 + D)),
        feature(ZONES[1], square(X0 + D / 2, Y0, X0 + D, Y0 + D))]}), encoding="utf-8")
    done = run("import", str(file), "--crs", "wgs84")
    assert done.exit_code == 1, done.output
    assert "重叠 overlap" in done.output and "nothing was drawn" in done.output
    gappy = tmp_path / "gap.geojson"
    gappy.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(COMMUNITY, square(X0, Y0, X0 + D, Y0 + D)),
        feature(ZONES[0], square(X0, Y0, X0 + D / 2, Y0 + D))]}), encoding="utf-8")
    strict = run("import", str(gappy), "--crs", "wgs84", "--strict")
    assert strict.exit_code == 1 and "未覆盖 gap" in strict.output
    lenient = run("import", str(gappy), "--crs", "wgs84")
    assert lenient.exit_code == 0 and "1 gaps" in lenient.output


def test_the_coordinate_system_is_never_guessed(store: Path, tmp_path: Path) -> None:
    file = tmp_path / "plain.geojson"
    file.write_text(json.dumps(GCJ_FILE), encoding="utf-8")
    done = run("import", str(file))
    assert done.exit_code == 2 and "--crs" in done.output
    old_style = {**GCJ_FILE, "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}
    assert read_boundaries(old_style).crs is Crs.WGS84
    file.write_text(json.dumps({**GCJ_FILE, "crs": "bd09"}), encoding="utf-8")
    clash = run("import", str(file), "--crs", "gcj02")
    assert clash.exit_code == 2 and "BD-09" in clash.output
