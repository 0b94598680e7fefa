"""The city-scale stress mode at a small size: the report's figures against the store it
wrote, the lag caught up, the API answering during the load, and the command."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from simulations.citywide import city_spec
from simulations.stress import StressReport, run_stress, summary
from tests.conftest import need_postgres

HOUSEHOLDS = 600


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[StressReport, Path, Path]:
    folder = tmp_path_factory.mktemp("stress")
    db = folder / "stress.sqlite"
    return run_stress(HOUSEHOLDS, folder / "out", "sqlite", sample_every=0.05,
                      sqlite_path=db), folder / "out", db


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute(sql).fetchone()[0])


def test_events_counted_are_the_stores(run: tuple[StressReport, Path, Path]) -> None:
    report, _, db = run
    stored = count(db, "SELECT COUNT(*) FROM stored_events")
    assert report.events == stored == count(db, "SELECT MAX(rowid) FROM stored_events")
    assert report.written == stored - report.events_before > 0
    assert report.events_per_s == pytest.approx(report.written / report.write_seconds)
    topic = "SELECT COUNT(*) FROM stored_events WHERE topic LIKE '%{}'"
    assert count(db, topic.format("Household.Registered")) == report.households \
        == city_spec(HOUSEHOLDS).total_households
    assert count(db, topic.format("Visit.Recorded")) == report.households  # one visit each


def test_lag_is_sampled_over_time_and_reaches_zero(run: tuple[StressReport, Path, Path]) -> None:
    report, out, db = run
    s = report.samples
    # one after each batch written (at least one each for the city and the sweep), the
    # timed ones, and the last after the catch-up
    assert len(s) >= 3
    assert [x.at for x in s] == sorted(x.at for x in s)
    assert [x.written for x in s] == sorted(x.written for x in s)
    assert all(0 <= x.projected <= x.written for x in s)
    assert report.max_lag > 0  # the read models trailed the writes at some point
    assert report.final_lag == 0 and s[-1].written == s[-1].projected == report.events
    # the read models' own positions agree (in their file beside the store's)
    views = db.with_name("stress.views.sqlite")
    assert count(views, "SELECT MIN(m) FROM (SELECT MAX(notification_id) AS m FROM tracking "
                        "WHERE application_name LIKE 'projection:%' GROUP BY application_name)") \
        == report.events
    assert count(views, "SELECT COUNT(DISTINCT application_name) FROM tracking "
                        "WHERE application_name LIKE 'projection:%'") >= 9
    with (out / "lag.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(s) and int(rows[-1]["lag"]) == 0
    assert (out / "stress.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_api_answered_under_load(run: tuple[StressReport, Path, Path]) -> None:
    report, out, _ = run
    during = report.latencies()
    assert report.failed == 0
    assert len(during) >= 5 and all(ms > 0 for ms in during)
    assert report.percentile(0.5) <= report.percentile(0.95) <= max(during)
    seen = [r.households for r in report.requests if r.households is not None]
    assert seen == sorted(seen)  # the API saw the city grow, never shrink
    assert seen[-1] == report.households  # and all of it once caught up
    with (out / "api.csv").open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == len(report.requests)
    labels = dict(summary(report))
    assert labels["events/s written"] == f"{report.events_per_s:,.0f}"


def test_the_command_runs_the_stress_mode(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["simulate", "stress", "--households", "150",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "events/s written" in result.output and "p50" in result.output
    assert {"lag.csv", "api.csv", "stress.png"} <= {p.name for p in tmp_path.iterdir()}
    bad = CliRunner().invoke(cli, ["simulate", "stress", "--store", "memory"])
    assert bad.exit_code == 2 and "sqlite or postgres" in bad.output


def test_on_postgresql_the_read_models_follow_and_the_schema_is_dropped(tmp_path: Path) -> None:
    need_postgres()
    report = run_stress(150, tmp_path, "postgres", sample_every=0.05)
    assert report.store == "postgres" and report.final_lag == 0
    assert report.samples[-1].projected == report.events > report.households * 3
    assert report.failed == 0 and report.requests[-1].households == report.households
