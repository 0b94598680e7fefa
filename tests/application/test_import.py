"""Bulk household import (gridcore import households): CSV and Excel registers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from rich.console import Console
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.importer import (
    RegisterFormatError,
    RowError,
    check_register,
    column_key,
    import_households,
    parse_vulnerabilities,
)
from adapters.settings import memory_env, sqlite_env
from gridcore.application import GridcoreApp, HouseholdRow, new_member
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.errors import InvalidInput, NotFound
from gridcore.household import Vulnerability, resident_id
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES

SAMPLE = Path(__file__).parents[1] / "fixtures" / "register_sample.csv"
HEADER = ["户号", "微网格", "楼栋", "地址", "姓名", "电话", "身份证号", "出生年份", "弱势"]
Z1, Z2 = ZONES


def given_grid(app: GridcoreApp) -> None:
    app.establish_city(CITY, "武汉市", by=System.OPERATOR)
    app.create_node(DISTRICT, "江岸区", CITY, by=System.OPERATOR)
    app.create_node(STREET, "后湖街道", DISTRICT, by=System.OPERATOR)
    app.create_node(COMMUNITY, "712社区", STREET, by=System.OPERATOR)
    for z, zone in enumerate(ZONES, start=1):
        app.create_node(zone, f"第{z}片区", COMMUNITY, by=System.OPERATOR)
    for number in BUILDINGS:  # the buildings the registers name (楼栋)
        app.register_building(COMMUNITY, number, by=System.OPERATOR)


BUILDINGS = ("1", "5", "6")


@pytest.fixture
def grid_app(clock) -> GridcoreApp:
    app = GridcoreApp(memory_env(), clock=clock)
    given_grid(app)
    return app


def write_csv(path: Path, rows: list[list[object]], header: list[str] = HEADER,
              encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], header: list[str] = HEADER,
               title: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def sample_rows() -> list[list[str]]:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))[1:]


GOOD_ID = "420102194803120116"  # valid check digit (fictitious)
BAD_ID = "420102194803120117"   # same number, wrong check digit

# One resident per row; the comment is the row number the office sees (the header is row 1).
BAD_ROWS: list[list[object]] = [
    ["H-01", Z1, "5", "5栋1单元101", "王建国", "13800001001", GOOD_ID, "1948", "慢性病"],   # 2 ok
    ["H-01", Z1, "5", "5栋1单元101", "李秀英", "", "", "1950", "无智能手机;chronic_illness"],  # 3
    ["H-02", Z1, "5", "5栋1单元102", "张志强", "1380000100", "", "", ""],          # 4 bad phone
    ["H-03", Z1, "5", "5栋1单元103", "刘丽华", "", BAD_ID, "", ""],                # 5 bad ID
    ["H-04", f"{COMMUNITY}-09", "5", "5栋1单元104", "陈桂兰", "", "", "", ""],      # 6 unknown
    ["H-05", COMMUNITY, "5", "5栋1单元105", "杨明德", "", "", "", ""],              # 7 community
    ["H-06", Z2, "6", "6栋1单元101", "", "13800002001", "", "", ""],                # 8 no name
    ["H-07", Z2, "6", "6栋1单元102", "黄玉兰", "", "", "", "高血压、独居"],          # 9 label
    ["H-08", Z2, "6", "6栋1单元201", "周凤英", "", "", "", ""],                     # 10 ok
    ["H-08", Z1, "6", "6栋1单元201", "徐立新", "", "", "", ""],                     # 11 grid
    ["H-09", Z2, "6", "6栋1单元202", "孙永平", "", "", "", ""],                     # 12 ok
    ["H-09", Z2, "6", "6栋1单元203", "钱秀兰", "", "", "", ""],                     # 13 address
    ["", Z2, "6", "6栋2单元101", "马金凤", "", "", "", ""],                         # 14 no 户号
    ["H-10", Z2, "6", "6栋2单元102", "朱晓东", "13800002005", "", "1968", ""],      # 15 ok
]
EXPECTED = {
    (4, "电话"), (5, "身份证号"), (6, "微网格"), (7, "微网格"), (8, "姓名"), (9, "弱势"),
    (11, "微网格"), (13, "地址"), (14, "户号"),
}


def bad_file(tmp_path: Path, kind: str) -> Path:
    if kind == "csv":
        return write_csv(tmp_path / "bad.csv", BAD_ROWS)
    return write_xlsx(tmp_path / "bad.xlsx", BAD_ROWS)


def registered(app: GridcoreApp, no: str) -> bool:
    try:
        app.household_by_no(no)
    except NotFound:
        return False
    return True


# ---- the library --------------------------------------------------------------------------


def test_the_sample_register_imports_ten_households_in_row_order(grid_app):
    result = import_households(grid_app, SAMPLE)
    assert result.errors == []
    assert (result.households, result.residents, result.already_registered) == (10, 25, 0)
    h = grid_app.household_by_no("712-05-1-102")
    assert [h.residents[resident_id("712-05-1-102", n)].identity.name for n in (1, 2, 3)] == [
        "张志强", "刘丽华", "张小龙"]
    assert h.micro_grid == Z1 and h.building_id == building_id(COMMUNITY, "5")
    alone = grid_app.household_by_no("712-05-1-201").residents[resident_id("712-05-1-201", 1)]
    assert alone.vulnerabilities == {Vulnerability.LIVES_ALONE, Vulnerability.NO_SMARTPHONE,
                                     Vulnerability.DISABILITY}
    derived = grid_app.household_by_no("712-05-1-102").residents[resident_id("712-05-1-102", 1)]
    assert derived.birth_year == 1978  # taken from the ID number
    assert len(grid_app.node(Z1).households) == 5 and grid_app.node(Z2).residents == 13


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_every_error_is_reported_with_its_row_and_column(grid_app, tmp_path, kind):
    result = check_register(grid_app, bad_file(tmp_path, kind))
    assert {(e.row, e.column) for e in result.errors} == EXPECTED
    assert all(isinstance(e, RowError) and e.message for e in result.errors)
    by_row = {e.row: e.message for e in result.errors}
    assert "malformed" in by_row[4] and "138***0100" in by_row[4]
    assert "GB 11643" in by_row[5]
    assert "unknown" in by_row[6] and Z1 in by_row[6]  # suggests the community's micro-grids
    assert "not a micro-grid" in by_row[7] and Z2 in by_row[7]
    assert "name" in by_row[8]
    assert "'高血压'" in by_row[9] and "独居/lives_alone" in by_row[9]
    assert "row 10" in by_row[11] and Z1 in by_row[11]
    assert "row 12" in by_row[13] and "6栋" not in by_row[13]  # addresses are not echoed
    assert result.households_in_file == 10 and result.rows == 14
    assert result.bad_rows == sorted(r for r, _ in EXPECTED)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_file_with_errors_imports_nothing(grid_app, tmp_path, kind):
    before = grid_app.recorder.max_notification_id()
    result = import_households(grid_app, bad_file(tmp_path, kind))
    assert result.households == 0 and result.errors
    assert grid_app.recorder.max_notification_id() == before
    assert not registered(grid_app, "H-01")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_good_rows_only_imports_exactly_the_clean_households(grid_app, tmp_path, kind):
    result = import_households(grid_app, bad_file(tmp_path, kind), good_rows_only=True)
    assert {(e.row, e.column) for e in result.errors} == EXPECTED
    assert (result.households, result.residents, result.skipped) == (2, 3, 8)
    everyone = {str(r[0]) for r in BAD_ROWS if r[0]}
    assert {no for no in everyone if registered(grid_app, no)} == {"H-01", "H-10"}


def test_importing_the_same_file_again_imports_nothing_new(grid_app):
    import_households(grid_app, SAMPLE)
    before = grid_app.recorder.max_notification_id()
    again = import_households(grid_app, SAMPLE)
    assert (again.households, again.residents, again.already_registered) == (0, 0, 10)
    assert again.errors == []
    assert grid_app.recorder.max_notification_id() == before


def test_a_partly_registered_file_imports_the_rest_in_batches(grid_app, tmp_path):
    rows = sample_rows()
    import_households(grid_app, write_csv(tmp_path / "first.csv", rows[:5]))
    result = import_households(grid_app, SAMPLE, batch_size=3)
    assert (result.households, result.already_registered) == (8, 2)
    assert result.residents == 25 - 5


def test_missing_required_columns_are_named_and_nothing_is_checked(grid_app, tmp_path):
    header = ["户号", "微网格", "电话"]
    path = write_csv(tmp_path / "short.csv", [["H-1", Z1, "1"]], header=header)
    result = import_households(grid_app, path)
    assert not result.header_ok
    assert [(e.row, e.column) for e in result.errors] == [(1, "地址 address"),
                                                          (1, "姓名 name")]
    assert "missing" in result.errors[0].message


def test_english_headers_gb18030_and_a_tab_separated_file(grid_app, tmp_path):
    english = ["household_no", "micro_grid", "building", "address", "name", "phone",
               "id_number", "birth_year", "vulnerabilities"]
    rows = sample_rows()
    path = tmp_path / "gbk.csv"
    with path.open("w", encoding="gb18030", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(english)
        w.writerows(rows)
    result = import_households(grid_app, path)
    assert result.errors == [] and result.households == 10
    assert grid_app.household_by_no("712-06-2-101").residents[
        resident_id("712-06-2-101", 1)].identity.name == "胡德明"


def test_excel_cells_typed_as_numbers_and_a_title_row(grid_app, tmp_path):
    rows = [
        ["X-1", Z1, 5, "5栋3单元101", "王芳", 13800003001, None, 1952.0, "65岁以上"],
        ["X-1", None, None, None, "李明", None, 420102195003120116, None, None],  # merged cells
    ]
    path = write_xlsx(tmp_path / "typed.xlsx", rows, title="712社区住户登记表")
    result = check_register(grid_app, path)
    # header in row 2 (after the title), so the data rows are 3 and 4
    assert [(e.row, e.column) for e in result.errors] == [(4, "身份证号")]
    assert "format the column as text" in result.errors[0].message
    rows[1][6] = None
    result = import_households(grid_app, write_xlsx(tmp_path / "ok.xlsx", rows))
    assert result.errors == [] and result.residents == 2
    h = grid_app.household_by_no("X-1")
    assert h.micro_grid == Z1 and h.building_id == building_id(COMMUNITY, "5")
    assert h.residents[resident_id("X-1", 1)].identity.phone.reveal() == "13800003001"


def test_duplicate_id_numbers_and_birth_years_that_disagree(grid_app, tmp_path):
    rows = [
        ["D-1", Z1, "", "5栋9单元101", "甲", "", GOOD_ID, "1948", ""],
        ["D-2", Z1, "", "5栋9单元102", "乙", "", GOOD_ID, "", ""],
        ["D-3", Z1, "", "5栋9单元103", "丙", "", "", "19x8", ""],
        ["D-4", Z1, "", "5栋9单元104", "丁", "", "420102195007060225", "1951", ""],
        ["D-5", Z1, "", "5栋9单元105", "戊", "", "", "", "independent"],
    ]
    result = check_register(grid_app, write_csv(tmp_path / "dup.csv", rows))
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "身份证号"), (4, "出生年份"), (5, "出生年份"), (6, "弱势")]
    assert "row 2" in result.errors[0].message


@pytest.mark.parametrize("content", [b"", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 40,
                                     b"PK\x03\x04 not really a zip", b"\x00\x01\x02binary"])
def test_an_unreadable_file_is_a_format_error(grid_app, tmp_path, content):
    path = tmp_path / "register.csv"
    path.write_bytes(content)
    with pytest.raises(RegisterFormatError):
        import_households(grid_app, path)


def test_a_long_file_shows_progress_on_a_terminal(grid_app, tmp_path):
    rows = [[f"P-{n}", ZONES[n % 2], "", f"7栋{n}号", f"居民{m}", "", "", "1960", ""]
            for n in range(120) for m in range(2)]
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    result = import_households(grid_app, write_csv(tmp_path / "long.csv", rows),
                               console=console, batch_size=50)
    assert (result.households, result.residents) == (120, 240)
    assert "checking" in out.getvalue()


def test_labels_and_headers():
    found, unknown = parse_vulnerabilities("65岁以上；lives_alone、无智能手机,Disability, 怪")
    assert found == [Vulnerability.AGE_65_PLUS, Vulnerability.LIVES_ALONE,
                     Vulnerability.NO_SMARTPHONE, Vulnerability.DISABILITY]
    assert unknown == ["怪"]
    assert [column_key(h) for h in ("*户号", "Household_No", "电话(phone)", "身份证号码",
                                    "备注")] == ["household_no", "household_no", "phone",
                                               "id_number", None]


# ---- the command line ----------------------------------------------------------------------


@pytest.fixture
def sqlite_cli(tmp_path, monkeypatch) -> Path:
    """GRIDCORE_STORE=sqlite over a file where the grid already exists."""
    db = tmp_path / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(db))
    given_grid(app)
    app.close()
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(db))
    monkeypatch.setenv("COLUMNS", "160")
    return db


def run(*args: str):
    return CliRunner().invoke(cli, ["import", "households", *args])


def notification_id(db: Path) -> int:
    app = GridcoreApp(sqlite_env(db))
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def test_cli_imports_the_sample_and_then_nothing_new(sqlite_cli):
    first = run(str(SAMPLE))
    assert first.exit_code == 0, first.output
    assert "imported (已导入) 10 households / 25 residents" in first.output
    again = run(str(SAMPLE))
    assert again.exit_code == 0
    assert "all 10 households" in again.output and "already registered" in again.output


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_cli_reports_a_bad_file_and_imports_nothing(sqlite_cli, tmp_path, kind):
    before = notification_id(sqlite_cli)
    result = run(str(bad_file(tmp_path, kind)))
    assert result.exit_code == 1, result.output
    assert notification_id(sqlite_cli) == before
    out = result.output
    assert "nothing was imported" in out and "--good-rows-only" in out
    for row, column in EXPECTED:
        assert any(line.split("│")[1:3] and line.split("│")[1].strip() == str(row)
                   and line.split("│")[2].strip() == column for line in out.splitlines()), row
    secrets = {str(r[5]) for r in BAD_ROWS if r[5]} | {str(r[6]) for r in BAD_ROWS if r[6]}
    yours = {"1380000100", BAD_ID}  # the cells in error, shown to the clerk who typed them
    assert all(s in out for s in yours)
    assert all(s not in out for s in secrets - yours)  # nothing else they typed


def test_cli_good_rows_only(sqlite_cli, tmp_path):
    result = run(str(bad_file(tmp_path, "csv")), "--good-rows-only")
    assert result.exit_code == 1
    assert "imported (已导入) 2 households / 3 residents" in result.output
    assert "8 households with errors skipped" in result.output
    app = GridcoreApp(sqlite_env(sqlite_cli))
    try:
        assert registered(app, "H-01") and registered(app, "H-10")
        assert not registered(app, "H-09")
    finally:
        app.close()


def test_cli_with_hide_values_never_prints_phone_numbers_unmasked(sqlite_cli, tmp_path):
    rows = [["M-1", Z1, "", "5栋8单元101", "王五", "13912345678", "", "", "怪"],
            ["M-2", Z1, "", "5栋8单元102", "赵六", "1391234567", "", "", ""]]
    result = run(str(write_csv(tmp_path / "phones.csv", rows)), "--hide-values")
    assert result.exit_code == 1
    assert "13912345678" not in result.output and "1391234567" not in result.output
    assert "139***4567" in result.output  # the malformed one, masked


def test_cli_shows_the_clerk_the_cells_they_typed_in_error(sqlite_cli, tmp_path):
    rows = [["M-1", Z1, "", "5栋8单元101", "王五", "13912345678", "", "", "怪"],
            ["M-2", Z1, "", "5栋8单元102", "赵六", "1391234567", "", "1890x", ""]]
    result = run(str(write_csv(tmp_path / "phones.csv", rows)))
    assert result.exit_code == 1
    out = result.output
    assert "填写 you typed" in out
    line = next(ln for ln in out.splitlines() if "│ 电话" in ln)
    assert "1391234567" in line and line.split("│")[1].strip() == "3"  # their own input, row 3
    assert "13912345678" not in out  # a cell without an error is not repeated
    assert "1890x" in out and "怪" in out
    check = check_register(GridcoreApp(memory_env()), tmp_path / "phones.csv")
    assert all("1391234567" not in e.message for e in check.errors)  # the reasons stay masked


# ---- a building must be registered (every door) -----------------------------------------------


def test_a_row_naming_an_unregistered_building_is_an_error_of_its_row(grid_app, tmp_path):
    rows = [["B-1", Z1, "5", "5栋1单元101", "甲", "", "", "", ""],
            ["B-2", Z1, "9栋", "9栋1单元101", "乙", "", "", "", ""],   # row 3: no building 9
            ["B-2", Z1, "", "9栋1单元101", "丙", "", "", "", ""]]
    result = import_households(grid_app, write_csv(tmp_path / "b.csv", rows))
    assert [(e.row, e.column) for e in result.errors] == [(3, "楼栋")]
    message = result.errors[0].message
    assert "Building 9" in message and COMMUNITY in message and "registerBuilding" in message
    assert result.households == 0 and not registered(grid_app, "B-1")
    good = import_households(grid_app, tmp_path / "b.csv", good_rows_only=True)
    assert good.households == 1 and registered(grid_app, "B-1")
    assert not registered(grid_app, "B-2")


def test_the_application_refuses_an_unregistered_building_for_every_door(grid_app):
    rows = [HouseholdRow("L-1", Z1, "5栋1单元101", [new_member("L-1", 1, "甲")],
                         building_id(COMMUNITY, "5")),
            HouseholdRow("L-2", Z1, "9栋1单元101", [new_member("L-2", 1, "乙")],
                         building_id(COMMUNITY, "9"))]
    with pytest.raises(NotFound, match=r"Household L-2 \(row 2 of 2\).*registerBuilding"):
        grid_app.register_households(rows, by=System.OPERATOR)
    grid_app.create_node("420102001713", "713社区", STREET, by=System.OPERATOR)
    grid_app.register_building("420102001713", "9", by=System.OPERATOR)
    with pytest.raises(InvalidInput, match=f"not in community {COMMUNITY}"):
        grid_app.register_household("L-3", Z1, "9栋1单元101", [new_member("L-3", 1, "丙")],
                                    building_id("420102001713", "9"), by=System.OPERATOR)
    assert not any(registered(grid_app, no) for no in ("L-1", "L-2", "L-3"))  # none written


def test_cli_refuses_a_register_naming_an_unregistered_building(sqlite_cli, tmp_path):
    rows = [["C-1", Z1, "12", "12栋1单元101", "甲", "", "", "", ""]]
    before = notification_id(sqlite_cli)
    result = run(str(write_csv(tmp_path / "b12.csv", rows)))
    assert result.exit_code == 1, result.output
    line = next(ln for ln in result.output.splitlines() if "│ 楼栋" in ln)
    assert line.split("│")[1].strip() == "2" and "Building 12" in line
    assert "registerBuilding" in " ".join(result.output.split())
    assert notification_id(sqlite_cli) == before


def test_cli_exit_code_2_for_wrong_format_or_missing_columns(sqlite_cli, tmp_path):
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    result = run(str(xls))
    assert result.exit_code == 2 and "old Excel" in result.output
    missing = run(str(write_csv(tmp_path / "short.csv", [["1"]], header=["户号"])))
    assert missing.exit_code == 2
    assert "微网格 micro_grid" in missing.output and "not a household register" in missing.output
    assert run(str(tmp_path / "absent.csv")).exit_code == 2
