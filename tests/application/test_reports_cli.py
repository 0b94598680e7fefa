"""``gridcore reports status`` and ``gridcore reports export``: a street's completeness for a
day and its .xlsx in the layout the district receives (a row per community and a total, no
cell a formula); an unknown node or a malformed period is refused with exit code 2."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.daily_report import ReportFigures
from gridcore.staff import Role
from tests.conftest import Clock
from tests.scenario import COMMUNITY, STREET, given_community

OP = System.OPERATOR
OTHER = "420102001713"
DAY = date(2020, 2, 17)
NOW = datetime(2020, 2, 18, 3, 0, tzinfo=UTC)  # 11:00 Beijing: communities overdue


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "r.sqlite"
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.setenv("GRIDCORE_SCENARIO_CLOCK", NOW.isoformat())
    monkeypatch.setenv("COLUMNS", "250")
    clock = Clock()
    clock.now = NOW
    app = GridcoreApp(sqlite_env(path), clock=clock)
    try:
        c = given_community(app)
        app.create_node(OTHER, "713社区", STREET, by=OP)
        app.enrol_staff("OFF-S", "街道主任", Role.OFFICIAL, STREET, 0, by=OP)
        app.submit_report(COMMUNITY, DAY, ReportFigures(households=6, residents=12),
                          {"物资储备": "=HYPERLINK(\"x\")"}, "正常", by=c.official)
        app.approve_report(COMMUNITY, DAY, by=app.staff_by_no("OFF-S").id)
    finally:
        app.close()
    return path


def test_status_and_export_of_a_street(store: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["reports", "status", STREET, DAY.isoformat()])
    assert out.exit_code == 0, out.output
    assert "1/2 reported" in out.output
    assert "已审核 approved" in out.output and "逾期未报 overdue" in out.output
    xlsx = tmp_path / "street.xlsx"
    out = runner.invoke(cli, ["reports", "export", STREET, DAY.isoformat(), "--out", str(xlsx)])
    assert out.exit_code == 0, out.output
    rows = [list(r) for r in openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True)]
    assert [r[1] for r in rows[2:]] == [COMMUNITY, OTHER, STREET]
    col = {name: i for i, name in enumerate(rows[1])}
    assert rows[2][col["户数 households"]] == 6
    assert rows[2][col["物资储备"]] == "'=HYPERLINK(\"x\")"  # text, never a formula
    assert rows[-1][0] == "合计 total" and rows[-1][col["人数 residents"]] == 12


def test_an_unknown_node_or_a_malformed_period_is_refused(store: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["reports", "status", "NOPE", DAY.isoformat()])
    assert out.exit_code == 2 and "No grid node" in out.output
    out = runner.invoke(cli, ["reports", "export", STREET, "17/2/2020", "--out",
                              str(tmp_path / "x.xlsx")])
    assert out.exit_code == 2 and "YYYY-MM-DD" in out.output
