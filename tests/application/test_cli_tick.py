"""``gridcore tick`` and ``gridcore scheduler`` over the SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from tests.scenario import COMMUNITY, given_community


def test_tick_records_an_ended_sweep_window_once(tmp_path, monkeypatch):
    path = tmp_path / "g.sqlite"
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    start = datetime.now(UTC) - timedelta(days=5)
    app = GridcoreApp(sqlite_env(path), clock=lambda: start)
    given_community(app)
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    runner = CliRunner()
    first = runner.invoke(cli, ["tick"])
    assert first.exit_code == 0 and "sweeps 1" in first.output
    second = runner.invoke(cli, ["scheduler", "--every", "0", "--times", "2"])
    assert second.exit_code == 0
    assert "sweeps 1" not in second.output and "after 2 tick(s)" in second.output
    assert GridcoreApp(sqlite_env(path)).campaign_of(COMMUNITY, 1).window_ended
