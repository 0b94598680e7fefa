"""The Chengdu Tianfu scenario (复工复产巡查) at a small size: its files, determinism, the CSV
numbers against the event store, and staffing (more specialists never take longer)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest
from eventsourcing.utils import get_topic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from adapters.cli import cli
from gridcore.application import GridcoreApp
from gridcore.enterprise import Enterprise, Resumption, enterprise_id
from gridcore.staff import Role
from simulations.enterprises import (
    EnterpriseParams,
    EnterpriseReport,
    EnterpriseVariant,
    chengdu,
    generate,
    run_enterprise_variant,
)
from simulations.scenarios import run_scenario, table

SMALL = EnterpriseParams(seed=11, enterprises=120, specialists=4)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def events(app: GridcoreApp, cls: type) -> list[object]:
    return app.recorder.select_notifications(start=1, limit=1_000_000, topics=[get_topic(cls)])


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> EnterpriseReport:
    import simulations.scenarios as scenarios

    out = tmp_path_factory.mktemp("chengdu")
    small = chengdu(seed=11, enterprises=120, staffing=(4, 2))
    original = scenarios.SCENARIOS["chengdu"]
    scenarios.SCENARIOS["chengdu"] = lambda *a: small
    try:
        r = run_scenario("chengdu", out, keep_apps=True)
    finally:
        scenarios.SCENARIOS["chengdu"] = original
    assert isinstance(r, EnterpriseReport)
    return r


def test_the_scenario_writes_its_files(report: EnterpriseReport) -> None:
    names = {p.name for p in report.out.iterdir()}
    for v in ("4-specialists", "2-specialists"):
        for f in ("rounds.csv", "progress.csv", "specialists.csv", "inspections.png"):
            assert f"{v}-{f}" in names
    assert {"variants.csv", "variants.png"} <= names
    for p in report.out.iterdir():
        assert p.stat().st_size > 0, p
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(rows(report.out / "4-specialists-rounds.csv")) == 4


def test_the_csv_numbers_agree_with_the_event_store(report: EnterpriseReport) -> None:
    for o in report.outcomes:
        app, name = o.app, o.variant.name
        assert app is not None
        rounds = rows(report.out / f"{name}-rounds.csv")
        inspected = events(app, Enterprise.Inspected)
        follow_ups = sum(int(r["follow_ups_closed"]) for r in rounds)
        assert sum(int(r["inspected"]) for r in rounds) + follow_ups == len(inspected)
        for col, cls in (("rect_opened", Enterprise.RectificationOpened),
                         ("rect_closed", Enterprise.RectificationClosed),
                         ("rect_overdue", Enterprise.RectificationOverdue)):
            assert sum(int(r[col]) for r in rounds) == len(events(app, cls)), col
        # every round inspected every enterprise resumed by then, each with its own specialist
        firms = o.result.firms
        for r in rounds:
            n = int(r["round"])
            assert int(r["inspected"]) == int(r["due"]) == sum(f.resume_round <= n
                                                               for f in firms)
        for f in firms:
            e = app.enterprise(enterprise_id(f.credit_code))
            assert e.resumption is Resumption.APPROVED
            assert app.staff(e.specialist).role is Role.ENTERPRISE_SPECIALIST
        open_now = sum(len(app.enterprise(enterprise_id(f.credit_code)).rectifications)
                       for f in firms)
        assert open_now == o.result.open_at_end
        load = {r["staff_no"]: int(r["enterprises"])
                for r in rows(report.out / f"{name}-specialists.csv")}
        assert sum(load.values()) == len(firms) == 120
        assert len(load) == o.result.params.specialists


def test_rectifications_follow_the_policy_deadline(report: EnterpriseReport) -> None:
    app = report.outcomes[0].app
    assert app is not None
    overdue = events(app, Enterprise.RectificationOverdue)
    opened = events(app, Enterprise.RectificationOpened)
    assert opened and overdue  # the rates make both happen at this size
    days = app.policy_at(app.clock()).rectification_days
    for n in opened:
        e = app.mapper.to_domain_event(n)
        assert (e.deadline - e.timestamp).days == days


def test_more_specialists_take_no_longer(report: EnterpriseReport) -> None:
    more, fewer = (o.result for o in report.outcomes)
    assert more.params.specialists > fewer.params.specialists
    assert all(a.days <= b.days for a, b in zip(more.rounds, fewer.rounds, strict=True))
    assert more.total_days < fewer.total_days
    assert str(table(report)).startswith("<rich.table.Table")


def test_the_run_is_deterministic_from_its_seed() -> None:
    def run(p: EnterpriseParams) -> list[tuple[int, ...]]:
        app, r = run_enterprise_variant(EnterpriseVariant("v", "v", p))
        app.close()
        return [(x.inspected, x.passed, x.rect_opened, x.rect_closed, x.rect_overdue, x.days)
                for x in r.rounds]

    small = replace(SMALL, enterprises=60)
    assert run(small) == run(small)
    assert generate(small) == generate(small)
    assert generate(small) != generate(replace(small, seed=12))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(20, 300))
def test_generated_enterprises_are_valid_and_unique(seed: int, n: int) -> None:
    firms = generate(replace(SMALL, seed=seed, enterprises=n))
    assert len({f.credit_code for f in firms}) == n
    assert all(len(f.credit_code) == 18 and 1 <= f.resume_round <= 4 for f in firms)
    assert all(f.employees >= 5 for f in firms)


def test_the_cli_runs_chengdu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import simulations.scenarios as scenarios

    monkeypatch.setitem(scenarios.SCENARIOS, "chengdu",
                        lambda *a: chengdu(seed=5, enterprises=40, staffing=(3, 2)))
    result = CliRunner().invoke(cli, ["simulate", "chengdu", "--out", str(tmp_path),
                                      "--variant", "3-specialists"])
    assert result.exit_code == 0, result.output
    assert "3-specialists" in result.output
    assert [r["variant"] for r in rows(tmp_path / "variants.csv")] == ["3-specialists"]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), fewer=st.integers(2, 5))
def test_doubling_the_specialists_never_takes_longer(seed: int, fewer: int) -> None:
    def days(specialists: int) -> list[int]:
        p = replace(SMALL, seed=seed, enterprises=100, specialists=specialists)
        app, r = run_enterprise_variant(EnterpriseVariant("v", "v", p))
        app.close()
        assert sum(x.inspected for x in r.rounds) == sum(x.due for x in r.rounds)
        return [x.days for x in r.rounds]

    more, less = days(2 * fewer), days(fewer)
    assert all(a <= b for a, b in zip(more, less, strict=True))
    assert sum(more) <= sum(less)
