"""Assistance lists as files (``adapters.assistance_files``) and the ``gridcore assistance``
commands: a list read from CSV and .xlsx (Chinese or English headers), every bad row reported
with its column and what would be right, and the result file written back in the list's own
format with its own columns, a formula-leading cell neutralised, owner-only."""

from __future__ import annotations

import csv
import io
import stat
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from adapters.assistance_files import (
    import_assistance_list,
    read_assistance_file,
    write_result_file,
)
from adapters.cli import cli
from adapters.settings import memory_env, sqlite_env
from gridcore.application import GridcoreApp
from gridcore.assistance import ListFormat
from gridcore.authority import System
from tests.application.test_assistance import CITY, ID_ZHANG, city_of
from tests.conftest import Clock

OP = System.OPERATOR
HEADER = ["序号", "姓名", "手机号", "身份证号", "地址", "区", "原因"]
ROWS = [
    ["1", "张叁", "", ID_ZHANG, "", "", "同行程"],
    ["2", "=cmd|' /C calc'!A0", "13700001111", "", "后湖街道713社区5栋202", "", "密接"],
    ["3", "孙八", "", "", "", "江汉区", "=HYPERLINK(\"x\")"],
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=2):  # typed as text, as a clerk's list would be
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    wb.save(path)
    return path


@pytest.fixture
def app() -> GridcoreApp:
    return city_of(GridcoreApp(memory_env(), clock=Clock()))


def test_a_csv_list_is_received_and_answered_in_csv(app: GridcoreApp, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "list.csv", ROWS)
    out = import_assistance_list(app, src, source="other_city", reference="孝感-7",
                                 scope=CITY, by=OP, source_name="孝感市卫健委")
    assert out.file.ok and (out.items, out.matched, out.routed, out.unrouted) == (3, 1, 1, 1)
    a = app.assistance_list("孝感-7")
    assert a.list_format is ListFormat.CSV and a.items[1].subject.name == "=cmd|' /C calc'!A0"
    gw = app.staff_by_no("GW712").id
    app.report_assistance_item(a.id, 1, "found", measure="居家隔离14天", by=gw)
    result = tmp_path / "result.csv"
    assert write_result_file(app, "孝感-7", result, original=src) == 3
    assert stat.S_IMODE(result.stat().st_mode) == 0o600
    text = result.read_text(encoding="utf-8-sig")
    got = list(csv.reader(io.StringIO(text)))
    assert got[0] == [*HEADER, "核查结果 result", "采取措施 measure", "核查时间 checked_at"]
    assert got[1][:7] == ROWS[0] and got[1][7].startswith("已找到") and got[1][8] == "居家隔离14天"
    assert got[1][9].startswith("2020-02-17T08:00")
    assert got[2][1] == "'=cmd|' /C calc'!A0"  # neutralised: shown as text, never run
    assert got[3][6] == "'=HYPERLINK(\"x\")" and got[3][7].startswith("待核查")
    # without the original file: the standard columns from what the list recorded
    plain = tmp_path / "plain.csv"
    write_result_file(app, "孝感-7", plain)
    rows = list(csv.reader(io.StringIO(plain.read_text(encoding="utf-8-sig"))))
    assert rows[0][:6] == ["姓名 name", "手机号 phone", "身份证号 id_number", "地址 address",
                           "区 district", "原因 reason"]
    assert rows[1][2] == ID_ZHANG and rows[2][0].startswith("'=")


def test_an_xlsx_list_round_trips_with_no_formula_written(app: GridcoreApp,
                                                          tmp_path: Path) -> None:
    header = ["name", "phone", "id_number", "address", "district", "reason"]
    src = write_xlsx(tmp_path / "list.xlsx", [r[1:] for r in ROWS], header)
    out = import_assistance_list(app, src, source="province_platform", reference="鄂-8",
                                 scope=CITY, by=OP)
    assert out.file.ok and out.items == 3
    assert app.assistance_list("鄂-8").list_format is ListFormat.XLSX
    result = tmp_path / "result.xlsx"
    write_result_file(app, "鄂-8", result, original=src)
    assert stat.S_IMODE(result.stat().st_mode) == 0o600
    wb = openpyxl.load_workbook(result)  # formulas as formulas: none may be there
    ws = wb.worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert ws["A3"].value == "'=cmd|' /C calc'!A0"
    assert [c.value for c in ws[1]][-3:] == ["核查结果 result", "采取措施 measure",
                                             "核查时间 checked_at"]


def test_every_bad_row_is_reported_with_what_would_be_right(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "bad.csv", [
        ["1", "张三", "12345", "420102198503174517", "712社区", "", ""],
        ["2", "", "", "", "712社区", "", ""],
        ["3", "李四", "", "", "", "", ""],
        ["4", "王五", "", "", "712社区", "", ""],
    ])
    read = read_assistance_file(src)
    got = [(e.row, e.column) for e in read.errors]
    assert got == [(2, "手机号 phone"), (2, "身份证号 id_number"), (3, "row"), (4, "row")]
    assert all("12345" not in e.message and "420102198503174517" not in e.message
               for e in read.errors)
    assert "Correct the phone" in read.errors[0].message
    assert "Give at least a name" in read.errors[2].message
    assert "address" in read.errors[3].message
    xlsx = write_xlsx(tmp_path / "bad.xlsx", [["张三", "", 420102198503174516, "712社区"]],
                      ["姓名", "手机号", "身份证号", "地址"])
    assert ["stored as a number" in e.message for e in read_assistance_file(xlsx).errors] == [
        True]
    nobody = write_csv(tmp_path / "nobody.csv", [["712社区", "原因"]], ["地址", "原因"])
    assert read_assistance_file(nobody).errors[0].column == "header"


def test_the_cli_imports_a_list_and_writes_its_result(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "g.sqlite"
    now = datetime(2020, 2, 17, 10, 0, tzinfo=UTC)
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.setenv("GRIDCORE_SCENARIO_CLOCK", now.isoformat())
    monkeypatch.setenv("COLUMNS", "250")
    app = city_of(GridcoreApp(sqlite_env(path), clock=Clock()))
    app.close()
    runner = CliRunner()
    bad = write_csv(tmp_path / "bad.csv", [["1", "张三", "12345", "", "712社区", "", ""]])
    r = runner.invoke(cli, ["assistance", "import", str(bad), "--source", "other_city",
                            "--reference", "X-1", "--scope", CITY])
    assert r.exit_code == 1 and "nothing was received" in r.output and "12345" not in r.output
    src = write_csv(tmp_path / "list.csv", ROWS)
    args = ["assistance", "import", str(src), "--source", "other_city", "--reference", "X-1",
            "--scope", CITY, "--by", "OFFC"]
    r = runner.invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert "3 persons" in r.output and "1 matched" in r.output
    r = runner.invoke(cli, args)
    assert r.exit_code == 2 and "already received" in r.output
    out = tmp_path / "answer.csv"
    r = runner.invoke(cli, ["assistance", "result", "X-1", "--out", str(out), "--list",
                            str(src)])
    assert r.exit_code == 0, r.output
    assert len(list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))) == 4
    r = runner.invoke(cli, ["assistance", "status", "X-1"])
    assert r.exit_code == 0, r.output
    assert "712社区" in r.output and "江汉区" in r.output and "武汉市 4201" in r.output
    r = runner.invoke(cli, ["assistance", "import", str(tmp_path / "missing.csv"),
                            "--source", "other_city", "--reference", "X-2", "--scope", CITY])
    assert r.exit_code == 2
