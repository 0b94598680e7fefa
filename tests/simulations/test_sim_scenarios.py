"""The Wuhan 712 scenario end to end: the variants, their files, and the numbers in the CSV
files against the event store."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from eventsourcing.utils import get_topic
from typer.testing import CliRunner

from adapters.cli import cli
from gridcore.referral import Referral
from gridcore.sweep import Visit
from simulations.scenarios import ScenarioReport, run_scenario, table


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ScenarioReport:
    out = tmp_path_factory.mktemp("sim712")
    return run_scenario("712", out, variants=["full", "no-squad"], keep_apps=True)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_files_exist_and_are_not_empty(report: ScenarioReport) -> None:
    names = {p.name for p in report.out.iterdir()}
    for v in ("full", "no-squad"):
        for f in ("coverage.csv", "zones.csv", "staff.csv", "loads.csv", "coverage.png"):
            assert f"{v}-{f}" in names
    assert {"variants.csv", "variants.png"} <= names
    for p in report.out.iterdir():
        assert p.stat().st_size > 0, p
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            assert len(rows(p)) >= 1


def test_712_is_swept_in_3_days_with_the_squad_and_not_without(report: ScenarioReport) -> None:
    full, lean = (o.result for o in report.outcomes)
    assert full.households == lean.households == 946
    assert len(full.zones) == 11
    assert full.in_window
    assert not lean.in_window
    assert lean.full_at_hours is None or lean.full_at_hours > full.full_at_hours
    missing = [z for z in lean.zones.values() if z.covered_at_window < z.households]
    assert missing and all(z.reason.startswith("capacity short") for z in missing)
    variants = {r["variant"]: r for r in rows(report.out / "variants.csv")}
    assert variants["full"]["in_window"] == "True"
    assert variants["no-squad"]["in_window"] == "False"
    assert int(variants["full"]["squad"]) == 36 and int(variants["no-squad"]["squad"]) == 0
    assert int(variants["full"]["staff"]) == int(variants["no-squad"]["staff"]) == 10


def test_the_csv_numbers_agree_with_the_event_store(report: ScenarioReport) -> None:
    for o in report.outcomes:
        app, r, name = o.app, o.result, o.variant.name
        assert app is not None
        coverage = app.campaign_coverage(r.campaign_id)
        by_zone = Counter(app.household(h).micro_grid for h in coverage.covered)
        last = max(int(x["hour"]) for x in rows(report.out / f"{name}-coverage.csv"))
        final = {x["zone"]: int(x["covered"]) for x in rows(report.out / f"{name}-coverage.csv")
                 if int(x["hour"]) == last}
        assert final.pop("total") == len(coverage.covered)
        assert final == {z: by_zone.get(z, 0) for z in final}
        zones = {x["zone"]: int(x["households"]) for x in rows(report.out / f"{name}-zones.csv")}
        assert zones == {g.code: len(g.households) for g in app.micro_grids(r.scope)}
        visits = app.recorder.select_notifications(start=1, limit=100_000,
                                                   topics=[get_topic(Visit.Recorded)])
        staff_visits = sum(int(x["visits"]) for x in rows(report.out / f"{name}-staff.csv"))
        assert staff_visits + r.by_method.get("chat", 0) == len(visits)
        opened = app.recorder.select_notifications(start=1, limit=100_000,
                                                   topics=[get_topic(Referral.Opened)])
        loads = rows(report.out / f"{name}-loads.csv")
        csv_referrals = sum(int(v) for x in loads for k, v in x.items()
                            if k.startswith("referrals_"))
        assert csv_referrals == len(opened)


def test_table_lists_every_variant(report: ScenarioReport) -> None:
    from rich.console import Console

    console = Console(width=160, record=True)
    console.print(table(report))
    text = console.export_text()
    assert "full" in text and "no-squad" in text


def test_cli_runs_a_scenario_into_the_folder_it_names(tmp_path: Path) -> None:
    out = tmp_path / "q"
    result = CliRunner().invoke(cli, ["simulate", "qingdao", "--variant", "two-workers",
                                      "--out", str(out), "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert str(out.resolve()) in result.output.replace("\n", "")
    assert (out / "two-workers-coverage.png").stat().st_size > 0
    assert [r["variant"] for r in rows(out / "variants.csv")] == ["two-workers"]
    bad = CliRunner().invoke(cli, ["simulate", "atlantis"])
    assert bad.exit_code == 2
