"""Line-list exports over the real HTTP server: jurisdiction, masking by role, the audit of
unmasked fields, formula-safe cells in CSV and .xlsx, refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import openpyxl
import orjson
import pytest

from gridcore.application import new_member
from gridcore.authority import System
from gridcore.household import resident_id
from gridcore.status import Health
from tests.api.test_api_access import World, serve_world
from tests.scenario import COMMUNITY, ZONES

HOSTILE = "=HYPERLINK(\"http://x\")"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("exports") / "gridcore.sqlite") as w:
        w.app.register_household("712-1-9", ZONES[0], "1栋901",
                                 [new_member("712-1-9", 1, HOSTILE, "13700001111", None, 1990)],
                                 by=System.OPERATOR)
        doc = w.staff["DOC1"]
        w.app.open_case("WH-9001", COMMUNITY, "发热就诊", by=doc, name="王五")
        case = w.app.case_by_no("WH-9001").id
        w.app.record_exposure(case, w.clock.now - timedelta(hours=1), "gathering", "饭店",
                              "face_to_face", by=doc, name="张叁", phone="13812341234")
        w.app.change_health(w.app.household_by_no("712-1-0").id, resident_id("712-1-0", 1),
                            Health.SUSPECTED, by=doc)
        w.caught_up()
        yield w


def get(world: World, path: str, staff_no: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {world.token(staff_no)}"} if staff_no else {}
    return httpx.get(world.base + path, headers=headers, timeout=60)


def rows_csv(r: httpx.Response) -> list[list[str]]:
    assert r.status_code == 200, r.text
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


def rows_xlsx(r: httpx.Response) -> list[list[object]]:
    assert r.status_code == 200, r.text
    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    return [list(row) for row in wb.worksheets[0].iter_rows(values_only=True)]


def audit(world: World) -> list[dict[str, object]]:
    assert world.settings is not None
    path = Path(world.settings.audit_file)
    return [orjson.loads(x) for x in path.read_bytes().splitlines()] if path.exists() else []


def test_households_of_a_grid_worker_are_their_grid_only(world: World) -> None:
    lines = rows_csv(get(world, "/export/households.csv", "GWZ1"))
    ids = {row[0] for row in lines[1:]}
    assert ids and all(world.households.get(h, ZONES[0]) == ZONES[0] for h in ids)
    assert {row[3] for row in lines[1:]} == {ZONES[0]}
    assert {row[2] for row in lines[1:]} == {COMMUNITY}
    official = rows_csv(get(world, "/export/households.csv", "STR1"))
    assert ids < {row[0] for row in official[1:]}
    assert len(official) - 1 == len(world.households) + 1  # and the hostile one


def test_residents_names_are_whole_for_a_grid_worker_masked_for_a_volunteer(
        world: World) -> None:
    before = len(audit(world))
    worker = rows_csv(get(world, "/export/residents.csv?scope=" + ZONES[0], "GW1"))
    names = {row[8] for row in worker[1:]}
    assert "张三" in names and "'" + HOSTILE in names  # neutralised, never a formula
    logged = audit(world)[before:]
    fields = {e["field"]: e["count"] for e in logged}
    assert fields["Resident.name"] == len(worker) - 1
    assert all(e["subject"] == f"export:residents:{ZONES[0]}" for e in logged)
    volunteer = rows_csv(get(world, "/export/residents.csv?scope=" + ZONES[0], "VOL1"))
    assert "张三" not in {row[8] for row in volunteer[1:]}
    assert "张*" in {row[8] for row in volunteer[1:]}
    assert all("1234" not in row[9] or "*" in row[9] for row in volunteer[1:])
    assert not any(e["reader"] == str(world.staff["VOL1"]) and e["field"] == "Resident.name"
                   for e in audit(world))


def test_xlsx_holds_the_same_rows_as_text(world: World) -> None:
    sheet = rows_xlsx(get(world, "/export/residents.xlsx?scope=" + ZONES[0], "OFF1"))
    assert "'" + HOSTILE in {row[8] for row in sheet[1:]}
    listed = rows_xlsx(get(world, "/export/households.xlsx", "GWZ1"))
    assert len(listed) == len(rows_csv(get(world, "/export/households.csv", "GWZ1")))


def test_filters_apply_like_the_api(world: World) -> None:
    lines = rows_csv(get(world, "/export/residents.csv?measure=hospitalized", "STR1"))
    assert lines[1:] == []
    suspected = rows_csv(get(world, "/export/residents.csv?health=suspected", "STR1"))
    assert [(r[3], r[4], r[8]) for r in suspected[1:]] == [
        (str(resident_id("712-1-0", 1)), "suspected", "张三")]
    households = rows_csv(get(world, "/export/households.csv?health=suspected", "OFF1"))
    assert [(r[0], r[6]) for r in households[1:]] == [
        (str(world.app.household_by_no("712-1-0").id), "1")]
    assert rows_csv(get(world, "/export/households.csv?health=suspected", "GWZ2"))[1:] == []


def test_refusals(world: World) -> None:
    assert get(world, "/export/households.csv", None).status_code == 401
    assert get(world, "/export/households.csv?scope=" + ZONES[1], "GWZ1").status_code == 404
    assert get(world, "/export/nothing.csv", "GWZ1").status_code == 404


def test_the_cli_exports_a_grid_workers_residents_and_audits_them(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from adapters.cli import cli
    from adapters.settings import sqlite_env
    from gridcore.application import GridcoreApp
    from tests.scenario import given_community

    path = tmp_path / "gridcore.sqlite"
    given_community(GridcoreApp(sqlite_env(path)))
    audit_file = tmp_path / "audit.jsonl"
    env = {"GRIDCORE_STORE": "sqlite", "GRIDCORE_SQLITE_PATH": str(path),
           "GRIDCORE_API_AUDIT_FILE": str(audit_file)}
    out = tmp_path / "residents.xlsx"
    result = CliRunner().invoke(cli, ["export", "residents", "--scope", ZONES[0], "--format",
                                      "xlsx", "--out", str(out), "--by", "GW1"], env=env)
    assert result.exit_code == 0, result.output
    sheet = [list(r) for r in openpyxl.load_workbook(out, read_only=True).worksheets[0]
             .iter_rows(values_only=True)]
    assert f"exported (已导出) {len(sheet) - 1:,} residents" in result.stdout
    assert "张三" in {row[8] for row in sheet[1:]}
    assert {row[2] for row in sheet[1:]} == {ZONES[0]}
    fields = {e["field"] for e in map(orjson.loads, audit_file.read_bytes().splitlines())}
    assert {"Resident.name", "Resident.phone", "Household.householdNo"} <= fields
    refused = CliRunner().invoke(cli, ["export", "residents", "--scope", "999", "--out",
                                       str(tmp_path / "x.csv"), "--by", "GW1"], env=env)
    assert refused.exit_code == 2


def test_contacts_under_follow_up_of_the_jurisdiction(world: World) -> None:
    official = rows_csv(get(world, "/export/contacts.csv", "OFF1"))
    assert [row[0] for row in official[1:]] == ["WH-9001"]
    assert official[1][2] == COMMUNITY and official[1][10] == "following"
    assert rows_csv(get(world, "/export/contacts.csv", "GWZ1"))[1:] == []
    sheet = rows_xlsx(get(world, "/export/contacts.xlsx", "STR1"))
    assert [row[0] for row in sheet[1:]] == ["WH-9001"]
