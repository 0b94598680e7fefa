"""A staff roster (花名册) enrolled in bulk: ``enrol_staff_many`` (the library door) and
``gridcore import staff FILE`` (the grid office's door). A roster enrols as each of its rows
would alone, all or nothing, each error naming its row, and enrols only the new members when
imported again."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.roster import check_roster, import_roster, parse_role
from adapters.settings import memory_env, sqlite_env
from gridcore.application import GridcoreApp, StaffRow
from gridcore.authority import NotAuthorised, System
from gridcore.errors import DuplicateCode, GridcoreError, InvalidInput, NotFound
from gridcore.staff import Role, staff_id
from tests.conftest import Clock, cli_store
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES

Z1, Z2 = ZONES
OTHER = "420102001713"  # a second community of the street


def given_grid(app: GridcoreApp) -> None:
    app.establish_city(CITY, "武汉市", by=System.OPERATOR)
    app.create_node(DISTRICT, "江岸区", CITY, by=System.OPERATOR)
    app.create_node(STREET, "后湖街道", DISTRICT, by=System.OPERATOR)
    for community in (COMMUNITY, OTHER):
        app.create_node(community, f"{community[-3:]}社区", STREET, by=System.OPERATOR)
        for z in (1, 2):
            app.create_node(f"{community}-{z:02d}", f"第{z}片区", community, by=System.OPERATOR)


ROSTER = [
    StaffRow("712-GW-01", "王芳", Role.GRID_WORKER, (Z1, Z2), 40, "13900001111"),
    StaffRow("712-GW-02", "李强", "grid_worker", Z2, 35),
    StaffRow("712-OF-01", "陈书记", Role.OFFICIAL, COMMUNITY, 0),
    StaffRow("712-PM-01", "赵党员", Role.PARTY_MEMBER, COMMUNITY, 25, "13900002222"),
    StaffRow("713-VOL-01", "孙志愿", Role.VOLUNTEER, OTHER, 25),
]


def seen(app: GridcoreApp, rows: list[StaffRow]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each member as the application reads them, and each node's members by number."""
    members = {}
    for r in rows:
        m = app.staff_by_no(r.staff_no)
        members[r.staff_no] = (m.name, m.role, m.jurisdictions, m.daily_capacity,
                               str.__str__(m.phone) if m.phone else None, m.active, m.available)
    numbers = {app.staff(s).staff_no for r in rows for c in r.codes for s in app.node(c).staff}
    nodes = {c: sorted(app.staff(s).staff_no for s in app.node(c).staff)
             for c in (COMMUNITY, Z1, Z2, OTHER)}
    assert numbers == {r.staff_no for r in rows}
    return members, nodes


def test_a_roster_enrols_as_each_row_alone_would(make_app: Callable[[], GridcoreApp],
                                                 clock: Clock) -> None:
    app = make_app()
    given_grid(app)
    report = app.enrol_staff_many(ROSTER, by=System.OPERATOR)
    assert (report.enrolled, report.already_enrolled) == (len(ROSTER), [])
    assert report.notification_id == app.recorder.max_notification_id()
    alone = GridcoreApp(memory_env(), clock=clock)
    given_grid(alone)
    for r in ROSTER:
        alone.enrol_staff(r.staff_no, r.name, Role(r.role), r.jurisdiction, r.daily_capacity,
                          r.phone, by=System.OPERATOR)
    assert seen(app, ROSTER) == seen(alone, ROSTER)
    assert seen(make_app(), ROSTER) == seen(alone, ROSTER)  # as stored, read back
    assert [m.staff_no for m in app.staff_in(COMMUNITY)] == \
        [m.staff_no for m in alone.staff_in(COMMUNITY)]


BAD: list[tuple[StaffRow, type[GridcoreError], str]] = [
    (StaffRow("X-1", "钱", Role.GRID_WORKER, "420102001799-01"), NotFound, "420102001799-01"),
    (StaffRow("X-1", "钱", "janitor", COMMUNITY), InvalidInput, "grid_worker"),
    (StaffRow("X-1", "钱", Role.GRID_WORKER, (COMMUNITY, Z1)), InvalidInput, "inside"),
    (StaffRow("X-1", "钱", Role.GRID_WORKER, ()), InvalidInput, "at least one node"),
    (StaffRow("X-1", "钱", Role.GRID_WORKER, COMMUNITY, 900), InvalidInput, "0 to 500"),
    (StaffRow("X-1", "钱", Role.GRID_WORKER, COMMUNITY, 40, "12345"), InvalidInput, "phone"),
    (StaffRow("X-1", " ", Role.GRID_WORKER, COMMUNITY), InvalidInput, "name"),
    (StaffRow("712-GW-01", "钱", Role.GRID_WORKER, COMMUNITY), InvalidInput, "row 1"),
]


@pytest.mark.parametrize(("bad", "error", "said"), BAD)
def test_a_bad_row_refuses_the_roster_naming_its_row_and_writes_nothing(
        bad: StaffRow, error: type[GridcoreError], said: str) -> None:
    app = GridcoreApp(memory_env())
    given_grid(app)
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as e:
        app.enrol_staff_many([*ROSTER[:3], bad], by=System.OPERATOR)
    assert app.recorder.max_notification_id() == before
    assert e.value.problem.startswith(f"Row 4 of 4 (staff number {bad.staff_no}): ")
    assert said in str(e.value)
    assert not app.staff_enrolled(staff_id(r.staff_no) for r in ROSTER)


def test_a_retired_node_refuses_the_roster() -> None:
    app = GridcoreApp(memory_env())
    given_grid(app)
    app.retire_node(f"{OTHER}-02", "并入第1片区 merged", by=System.OPERATOR)
    before = app.recorder.max_notification_id()
    with pytest.raises(GridcoreError, match="Row 2 of 2"):
        app.enrol_staff_many([ROSTER[0], StaffRow("713-GW-9", "周", Role.GRID_WORKER,
                                                  f"{OTHER}-02")], by=System.OPERATOR)
    assert app.recorder.max_notification_id() == before


def test_a_roster_enrolled_again_enrols_only_the_new(make_app: Callable[[], GridcoreApp]
                                                     ) -> None:
    app = make_app()
    given_grid(app)
    app.enrol_staff_many(ROSTER[:3], by=System.OPERATOR)
    report = app.enrol_staff_many(ROSTER, by=System.OPERATOR)
    assert (report.enrolled, report.already_enrolled) == (2, [r.staff_no for r in ROSTER[:3]])
    nodes = seen(app, ROSTER)[1]
    assert nodes[Z2] == ["712-GW-01", "712-GW-02"]  # listed once each
    again = app.recorder.max_notification_id()
    assert app.enrol_staff_many(ROSTER, by=System.OPERATOR).enrolled == 0
    assert app.recorder.max_notification_id() == again  # nothing new, nothing written
    replay = app.enrol_staff_many(ROSTER[3:], by=System.OPERATOR, client_id="roster-1")
    assert replay.enrolled == 0  # enrolled above, before the client id was first used
    first = app.enrol_staff_many([StaffRow("712-VOL-07", "吴", Role.VOLUNTEER, Z1)],
                                 by=System.OPERATOR, client_id="roster-2")
    written = app.recorder.max_notification_id()
    twice = app.enrol_staff_many([StaffRow("712-VOL-07", "吴", Role.VOLUNTEER, Z1)],
                                 by=System.OPERATOR, client_id="roster-2")
    assert (first.enrolled, twice.enrolled) == (1, 0)
    assert app.recorder.max_notification_id() == written


def test_an_official_enrols_a_roster_of_their_community_only() -> None:
    app = GridcoreApp(memory_env())
    given_grid(app)
    app.enrol_staff_many([ROSTER[2]], by=System.OPERATOR)
    official = app.staff_by_no("712-OF-01").id
    report = app.enrol_staff_many(ROSTER[:2], by=official)
    assert report.enrolled == 2
    before = app.recorder.max_notification_id()
    with pytest.raises(NotAuthorised, match=OTHER):
        app.enrol_staff_many([ROSTER[3], ROSTER[4]], by=official)
    assert app.recorder.max_notification_id() == before


def test_a_roster_of_many_members_of_one_node_is_one_write(
        make_app: Callable[[], GridcoreApp]) -> None:
    """500 members of one micro-grid: one transaction of 1,000 events (each member and the
    node listing them), read back whole by another application."""
    app = make_app()
    given_grid(app)
    version = app.node(Z1).version
    rows = [StaffRow(f"712-VOL-{i:03d}", "志愿者", Role.VOLUNTEER, Z1, 25) for i in range(500)]
    before = app.recorder.max_notification_id() or 0
    report = app.enrol_staff_many(rows, by=System.OPERATOR)
    assert report.notification_id == before + 1000  # 500 members, 500 listings on Z1
    assert app.node(Z1).version == version + 500
    assert len(make_app().node(Z1).staff) == 500
    assert len(app.staff_enrolled(staff_id(r.staff_no) for r in rows)) == 500


# ---- the file door --------------------------------------------------------------------------

HEADER = ["工号", "姓名", "角色", "辖区", "每日户数", "电话"]
GOOD = [["712-GW-01", "王芳", "网格员", f"{Z1};{Z2}", 40, "13900001111"],
        ["712-OF-01", "陈书记", "干部 official", COMMUNITY, 0, ""],
        ["712-DOC-01", "刘医生", "家庭医生", COMMUNITY, "", ""],
        ["713-VOL-01", "孙志愿", "volunteer", OTHER, 25, ""]]


def write(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    if path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["712社区工作人员花名册"])  # a title above the header, as offices do
        for r in (header, *rows):
            sheet.append(r)
        book.save(path)
        return path
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_roles_are_read_as_offices_write_them() -> None:
    assert [parse_role(t) for t in ("网格员", "grid worker", "grid_worker", "党员 party member",
                                    "家庭医生", "民警", "总值班", "  志愿者 ")] == [
        Role.GRID_WORKER, Role.GRID_WORKER, Role.GRID_WORKER, Role.PARTY_MEMBER,
        Role.FAMILY_DOCTOR, Role.COMMUNITY_POLICE, Role.DUTY_LEAD, Role.VOLUNTEER]
    assert parse_role("保安") is None


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_roster_file_enrols_its_members_and_then_nothing_new(tmp_path: Path,
                                                               suffix: str) -> None:
    app = GridcoreApp(memory_env())
    given_grid(app)
    path = write(tmp_path / f"roster{suffix}", GOOD)
    out = import_roster(app, path)
    assert out.roster.errors == [] and out.enrolled == 4
    gw, doc = app.staff_by_no("712-GW-01"), app.staff_by_no("712-DOC-01")
    assert (gw.role, gw.jurisdictions, str.__str__(gw.phone or "")) == \
        (Role.GRID_WORKER, (Z1, Z2), "13900001111")
    assert (doc.role, doc.daily_capacity, doc.phone) == (Role.FAMILY_DOCTOR, 40, None)
    again = import_roster(app, write(tmp_path / f"more{suffix}", [
        *GOOD, ["712-PM-01", "赵党员", "党员", COMMUNITY, 25, ""]]))
    assert (again.enrolled, len(again.roster.already_enrolled)) == (1, 4)


def test_a_roster_file_with_errors_enrols_nothing_and_names_each_row(tmp_path: Path) -> None:
    app = GridcoreApp(memory_env())
    given_grid(app)
    path = write(tmp_path / "bad.csv", [
        GOOD[0],
        ["712-GW-02", "", "保安", "420102001799", 40, "12345"],  # row 3: four problems
        ["712-GW-03", "钱", "网格员", f"{COMMUNITY};{Z1}", "多", ""],  # row 4: two
        ["712-GW-01", "王芳", "网格员", Z1, 40, ""],  # row 5: the staff number again
        GOOD[1]])
    before = app.recorder.max_notification_id()
    out = import_roster(app, path)
    assert out.enrolled == 0 and app.recorder.max_notification_id() == before
    found = [(e.row, e.column.split(" ")[0]) for e in out.roster.errors]
    assert found == [(3, "姓名"), (3, "角色"), (3, "电话"), (3, "辖区"), (4, "每日户数"),
                     (4, "辖区"), (5, "工号")]
    phone = next(e for e in out.roster.errors if e.column.startswith("电话"))
    assert "12345" not in phone.message  # masked in the reason; only ``given`` holds it
    assert "row 2" in out.roster.errors[-1].message


def test_a_file_that_is_not_a_roster_is_refused(tmp_path: Path) -> None:
    app = GridcoreApp(memory_env())
    given_grid(app)
    roster = check_roster(app, write(tmp_path / "x.csv", [["a", "b"]], ["工号", "姓名"]))
    assert not roster.header_ok
    assert {e.message.split(" column")[0] for e in roster.errors} == \
        {"The file has no 角色 role", "The file has no 辖区 jurisdiction"}


@pytest.fixture
def sqlite_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "gridcore.sqlite"
    cli_store(db, given_grid, monkeypatch)
    return db


def cli_import(*args: str) -> Any:
    return CliRunner().invoke(cli, ["import", "staff", *args])


def test_the_cli_enrols_a_roster_checks_a_dry_run_and_refuses_a_bad_one(
        sqlite_cli: Path, tmp_path: Path) -> None:
    good = write(tmp_path / "roster.csv", GOOD)
    dry = cli_import(str(good), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "4 would be enrolled" in dry.output and "nothing was written" in dry.output
    first = cli_import(str(good))
    assert first.exit_code == 0, first.output
    assert "enrolled (已导入) 4 members" in first.output
    again = cli_import(str(good))
    assert again.exit_code == 0 and "nothing new" in again.output
    app = GridcoreApp(sqlite_env(sqlite_cli))
    try:
        assert app.staff_by_no("713-VOL-01").jurisdictions == (OTHER,)
        before = app.recorder.max_notification_id()
    finally:
        app.close()
    bad = write(tmp_path / "bad.csv", [["712-GW-09", "钱", "保安", COMMUNITY, 40, ""]])
    refused = cli_import(str(bad))
    assert refused.exit_code == 1, refused.output
    assert "保安" in refused.output and "nothing was enrolled" in refused.output
    hidden = cli_import(str(bad), "--hide-values")
    assert "│ 保安" not in hidden.output
    outside = cli_import(str(write(tmp_path / "other.csv", [[
        "713-GW-01", "周", "网格员", OTHER, 40, ""]])), "--by", "712-OF-01")
    assert outside.exit_code == 2 and OTHER in outside.output, outside.output
    app = GridcoreApp(sqlite_env(sqlite_cli))
    try:
        assert app.recorder.max_notification_id() == before
        with pytest.raises(NotFound):
            app.staff_by_no("713-GW-01")
    finally:
        app.close()
    unreadable = tmp_path / "roster.pdf"
    unreadable.write_bytes(b"%PDF-1.4")
    assert cli_import(str(unreadable)).exit_code == 2


def test_a_member_already_enrolled_alone_is_not_enrolled_again(app: GridcoreApp) -> None:
    given_grid(app)
    app.enrol_staff("712-GW-01", "王芳", Role.GRID_WORKER, Z1, by=System.OPERATOR)
    with pytest.raises(DuplicateCode):
        app.enrol_staff("712-GW-01", "王芳", Role.GRID_WORKER, Z1, by=System.OPERATOR)
    report = app.enrol_staff_many(ROSTER[:2], by=System.OPERATOR)
    assert (report.enrolled, report.already_enrolled) == (1, ["712-GW-01"])
    assert app.staff_by_no("712-GW-01").jurisdictions == (Z1,)  # as it stood
