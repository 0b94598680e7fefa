"""``gridcore import households``: files that cannot be read as a register end with a clear
message and exit 2, never a traceback, and write nothing: a broken .xlsx sheet, a CSV quote
never closed, a register above the configured row or byte limit."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.importer import Limits, RegisterFormatError, read_table
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp
from tests.application.test_import import HEADER, Z1, given_grid, write_csv, write_xlsx


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(path))
    given_grid(app)
    app.close()
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("GRIDCORE_IMPORT_MAX_ROWS", raising=False)
    monkeypatch.delenv("GRIDCORE_IMPORT_MAX_BYTES", raising=False)
    return path


def run(*args: str):
    return CliRunner().invoke(cli, ["import", "households", *args])


def last(db: Path) -> int:
    app = GridcoreApp(sqlite_env(db))
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def rows(n: int) -> list[list[object]]:
    return [[f"F-{i}", Z1, "", f"9栋1单元{100 + i}", f"居民{i}", "", "", "1960", ""]
            for i in range(n)]


def flat(text: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(text.split())


def broken_sheet(tmp_path: Path) -> Path:
    """A workbook whose zip is sound but whose first sheet's XML is cut in half."""
    good = write_xlsx(tmp_path / "good.xlsx", rows(5))
    bad = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[:len(data) // 2]
            zout.writestr(item, data)
    return bad


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_malformed_sheet_is_refused_with_exit_2(db: Path, tmp_path: Path,
                                                  dry_run: bool) -> None:
    before = last(db)
    result = run(str(broken_sheet(tmp_path)), *(["--dry-run"] if dry_run else []))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    out = flat(result.output)
    assert "not a readable .xlsx workbook" in out and "save it again as .xlsx" in out
    assert "Traceback" not in result.output
    assert last(db) == before


def test_a_csv_quote_never_closed_is_named_not_reported_as_missing_names(
        db: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "quote.csv", rows(2))
    with path.open("a", encoding="utf-8") as f:
        f.write(f'F-8,{Z1},,"9栋2单元101,王五,,,1960,\n')  # the quote runs to the end
        f.write(f"F-9,{Z1},,9栋2单元102,赵六,,,1961,\n")
    before = last(db)
    result = run(str(path))
    out = flat(result.output)
    assert result.exit_code == 2, result.output
    assert "row 4 (line 4 of the file) opens a quote" in out and "never closed" in out
    assert "name is missing" not in out
    assert last(db) == before


def test_quoted_cells_that_close_are_read_as_before(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    lines = [",".join(HEADER),
             f'Q-1,{Z1},,"9栋3单元101","王""五",,,1960,',  # an escaped quote in a cell
             f'Q-2,{Z1},,9栋3单元102,赵"六,,,1961,']       # a stray quote in a plain cell
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_table(path)
    assert [cells[4] for _, cells in table.rows[1:]] == ['王"五', '赵"六']


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_register_above_the_row_limit_is_refused_before_anything(
        db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setenv("GRIDCORE_IMPORT_MAX_ROWS", "20")
    many = rows(25)
    path = (write_csv(tmp_path / "many.csv", many) if kind == "csv"
            else write_xlsx(tmp_path / "many.xlsx", many))
    before = last(db)
    for extra in ([], ["--dry-run"], ["--good-rows-only"]):
        result = run(str(path), *extra)
        out = flat(result.output)
        assert result.exit_code == 2, result.output
        assert "has more than 20 rows" in out and "GRIDCORE_IMPORT_MAX_ROWS" in out
    assert last(db) == before
    monkeypatch.setenv("GRIDCORE_IMPORT_MAX_ROWS", "26")  # 25 residents and the header
    assert run(str(path)).exit_code == 0
    assert last(db) > before


def test_a_register_above_the_byte_limit_is_refused(db: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "big.csv", rows(10))
    monkeypatch.setenv("GRIDCORE_IMPORT_MAX_BYTES", str(path.stat().st_size - 1))
    result = run(str(path))
    assert result.exit_code == 2, result.output
    assert "more than the" in flat(result.output) and "GRIDCORE_IMPORT_MAX_BYTES" in flat(
        result.output)
    monkeypatch.setenv("GRIDCORE_IMPORT_MAX_BYTES", "not a number")
    wrong = run(str(path))
    assert wrong.exit_code == 2 and "not a positive whole number" in flat(wrong.output)


def test_the_xlsx_sheet_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    """A sheet is streamed: reading stops at the limit, so a broken part after it (here a
    row that openpyxl cannot read) is never reached and the refusal names the size."""
    good = write_xlsx(tmp_path / "long.xlsx", rows(30))
    bad = tmp_path / "long-broken.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                cut = data.index(b'<row r="25"')
                data = data[:cut] + b"<row r=" + b"x" * 10  # broken from row 25 on
            zout.writestr(item, data)
    with pytest.raises(RegisterFormatError, match="not a readable"):
        read_table(bad)
    with pytest.raises(RegisterFormatError, match="more than 10 rows"):
        read_table(bad, Limits(rows=10))


def test_limits_come_from_the_environment() -> None:
    assert Limits.from_env({}) == Limits(200_000, 100_000_000)
    assert Limits.from_env({"GRIDCORE_IMPORT_MAX_ROWS": "1_000"}).rows == 1000
    for wrong in ("0", "-5", "many"):
        with pytest.raises(RegisterFormatError, match="GRIDCORE_IMPORT_MAX_ROWS"):
            Limits.from_env({"GRIDCORE_IMPORT_MAX_ROWS": wrong})


def test_a_workbook_written_by_openpyxl_still_imports(db: Path, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in rows(3):
        ws.append(r)
    wb.save(tmp_path / "fine.xlsx")
    result = run(str(tmp_path / "fine.xlsx"))
    assert result.exit_code == 0, result.output
    assert "imported (已导入) 3 households / 3 residents" in flat(result.output)
