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


# ---- tests, deliveries, requests -------------------------------------------------------------

@pytest.fixture(scope="module")
def operations(world: World) -> World:
    """A testing round over zone 1 (two of its residents sampled), a donation to zone 1 (one
    delivered, one failed), and requests in both communities (one answered)."""
    from gridcore.delivery import Item
    from gridcore.mass_testing import SamplingSite, mass_testing_id
    from gridcore.mass_testing_commands import SampleRow
    from gridcore.staff import Role
    from tests.api.test_api_access import OTHER_ZONE

    app = world.app
    for no, role in (("DLX", Role.DUTY_LEAD), ("ESX", Role.ENTERPRISE_SPECIALIST)):
        if no not in world.staff:
            app.enrol_staff(no, "某某", role, COMMUNITY, 20, by=System.OPERATOR)
            world.staff[no] = app.staff_by_no(no).id
    app.launch_testing_campaign(ZONES[0], 1, [SamplingSite(site_id="EX-1", name="广场采样点",
                                                           place=ZONES[0])],
                                by=world.staff["OFF1"])
    tid = mass_testing_id(ZONES[0], 1)
    people = [(h.id, rid) for h in app.households_in(ZONES[0]) for rid in h.residents][:2]
    world.clock.now += timedelta(hours=1)
    app.record_samples(tid, [SampleRow(h, r, "EX-T1") for h, r in people],
                       by=world.staff["GW1"])
    app.donate_to_scope(ZONES[0], "DN-EX1", [Item(name="爱心菜", quantity=1)],
                        by=System.OPERATOR)
    app.dispatch_deliveries(ZONES[0], [world.staff["GWZ1"]], by=world.staff["DLX"])
    open_ = sorted(app.open_deliveries(ZONES[0]), key=lambda d: str(d.id))
    app.confirm_delivery(open_[0].id, world.staff["GWZ1"])
    app.report_failed_delivery(open_[1].id, HOSTILE, by=world.staff["GWZ1"])
    mine = app.file_request("hotline", "supplies", "normal", "需要买药 medicine",
                            phone="13800002222", address="1栋101", grid=ZONES[0],
                            by=System.PUBLIC)
    app.file_request("online", "supplies", "normal", "缺米 out of rice", phone="13800001111",
                     address="9栋101", grid=OTHER_ZONE, by=System.PUBLIC)
    app.resolve_request(mine.request_id, world.staff["OFF1"], "已送药 delivered")
    world.caught_up()
    return world


def test_tests_list_each_resident_of_a_round_sampled_or_not(operations: World) -> None:
    w = operations
    lines = rows_csv(get(w, "/export/tests.csv", "OFF1"))
    header, rows = lines[0], lines[1:]
    assert header[0].endswith("campaign id") and len(header) == len(rows[0])
    expected = w.runner.views.query("SELECT resident_id, sampled_at FROM tc_residents")
    assert sorted((r[5], r[9]) for r in rows) == sorted(
        (rid, "0" if at is None else "1") for rid, at in expected)
    sampled = [r for r in rows if r[9] == "1"]
    assert len(sampled) == 2 and {r[11] for r in sampled} == {"EX-T1"}
    assert all(r[10] for r in sampled) and all(r[11] == "" for r in rows if r[9] == "0")
    assert {(r[1], r[2], r[6]) for r in rows} == {(ZONES[0], "1", ZONES[0])}
    assert all(r[4] != "****" and r[4].startswith("712-1-") for r in rows)
    masked = rows_csv(get(w, "/export/tests.csv", "ESX"))[1:]
    assert [r[5] for r in masked] == [r[5] for r in rows]
    assert {r[4] for r in masked} == {"****"}
    assert rows_csv(get(w, "/export/tests.csv", "GWZ2"))[1:] == []  # another zone's
    assert rows_csv(get(w, "/export/tests.csv", "GW713"))[1:] == []


def test_deliveries_of_the_jurisdiction_with_their_times_and_reasons(operations: World) -> None:
    w = operations
    before = len(audit(w))
    rows = rows_csv(get(w, "/export/deliveries.csv", "GWZ1"))[1:]
    board = {d: (s, no) for d, s, no in w.runner.views.query(
        "SELECT d.delivery_id, d.state, h.household_no FROM dlv_deliveries d "
        "JOIN dlv_households h ON h.household_id = d.household_id WHERE h.micro_grid = ?",
        (ZONES[0],))}
    assert {r[0]: (r[7], r[4]) for r in rows} == board
    assert {r[5] for r in rows} == {ZONES[0]} and {r[1] for r in rows} == {"donation"}
    assert all(r[9] for r in rows)  # every one dispatched
    delivered = [r for r in rows if r[10]]
    failed = [r for r in rows if r[11]]
    assert len(delivered) == 1 and len(failed) == 1
    assert failed[0][12] == "'" + HOSTILE  # the reason, never a formula
    fields = {e["field"]: e["count"] for e in audit(w)[before:]}
    assert fields == {"Household.householdNo": len(rows)}
    masked = rows_xlsx(get(w, "/export/deliveries.xlsx", "ESX"))[1:]
    assert sorted(r[0] for r in masked) == sorted(r[0] for r in rows)
    assert {r[4] for r in masked} == {"****"}
    assert rows_csv(get(w, "/export/deliveries.csv", "GWZ2"))[1:] == []
    assert rows_csv(get(w, "/export/deliveries.csv", "GW713"))[1:] == []


def test_requests_of_the_jurisdiction_text_and_reply_by_role(operations: World) -> None:
    from tests.api.test_api_access import OTHER_COMMUNITY

    w = operations
    before = len(audit(w))
    rows = rows_csv(get(w, "/export/requests.csv", "OFF1"))[1:]
    board = w.runner.views.query("SELECT request_id, number, status, community FROM "
                                 "req_requests WHERE community = ?", (COMMUNITY,))
    assert sorted((r[0], r[1], r[4], r[6]) for r in rows) == sorted(map(tuple, board))
    answered = [r for r in rows if r[15] == "已送药 delivered"]
    assert len(answered) == 1 and answered[0][10] and answered[0][4] == "resolved"
    assert "需要买药 medicine" in {r[14] for r in rows}
    fields = {e["field"]: e["count"] for e in audit(w)[before:]}
    assert fields["Request.text"] == len(rows) and fields["Request.reply"] == 1
    doctor = rows_csv(get(w, "/export/requests.csv", "DOC1"))[1:]
    assert [r[0] for r in doctor] == [r[0] for r in rows]
    assert {r[14] for r in doctor} == {"****"}
    assert not any(e["reader"] == str(w.staff["DOC1"]) and e["field"].startswith("Request.")
                   for e in audit(w))
    short = rows_csv(get(w, "/export/requests.csv?personal=0", "OFF1"))
    assert len(short[0]) == 14 and [r[0] for r in short[1:]] == [r[0] for r in rows]
    others = rows_csv(get(w, "/export/requests.csv", "STR1"))[1:]  # the street: both
    assert {r[6] for r in others} == {COMMUNITY, OTHER_COMMUNITY}
    assert get(w, "/export/requests.csv?scope=" + COMMUNITY, "GW713").status_code == 404


def test_line_lists_read_in_pages_of_one_row_are_the_same_rows(operations: World) -> None:
    """Each page starts after the last row of the one before (``_keyset_pages``): pages of one
    row give the rows one page gives, in the same order, none twice."""
    from projections import line_lists

    views, now = operations.runner.views, operations.clock.now
    for name, read in [
            ("contacts", lambda page: line_lists.contact_rows(views, COMMUNITY, now, False,
                                                              page=page)),
            ("tests", lambda page: line_lists.testing_rows(views, COMMUNITY, page=page)),
            ("deliveries", lambda page: line_lists.delivery_rows(views, COMMUNITY, page=page)),
            ("requests", lambda page: line_lists.request_rows(views, COMMUNITY, page=page))]:
        whole = list(read(100_000))
        assert whole, name
        assert list(read(1)) == whole, name
        assert list(read(2)) == whole, name
