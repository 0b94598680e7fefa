"""Replays: a campaign recorded in a SQLite store, read back from its log and re-run under
other staffing and policy; the recorded staffing reproduces what happened."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.staff import Role
from simulations.city import WUHAN_712
from simulations.replay import ReplayReport, extract, recorded_campaigns, run_replay
from simulations.scenarios import Variant, run_variant
from simulations.sweep import SweepParams, SweepResult

SPEC = replace(WUHAN_712, households_per_community=240, households_per_building=30)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SweepResult]:
    """A campaign recorded by the field model on a SQLite file (the store is kept)."""
    folder = tmp_path_factory.mktemp("recorded")
    app, result = run_variant(Variant("rec", "recorded", SPEC, SweepParams(seed=3)),
                              SPEC.communities()[0], "sqlite", folder)
    app.close()
    return folder / "rec.sqlite", result


@pytest.fixture(scope="module")
def report(recorded: tuple[Path, SweepResult]) -> ReplayReport:
    app = GridcoreApp(sqlite_env(recorded[0]))
    try:
        return run_replay(app, variants=["as-recorded", "no-squad", "door-visit-1.5x"])
    finally:
        app.close()


def test_the_recorded_outcome_is_read_from_the_log(
        recorded: tuple[Path, SweepResult], report: ReplayReport) -> None:
    sim = recorded[1]
    rec = report.recorded
    assert rec.scope == SPEC.communities()[0] and rec.round_no == 1 and rec.days == 3
    assert rec.recorded.households == len(rec.households) == sim.households == 240
    assert rec.recorded.covered == sim.covered
    assert rec.recorded.visits == sim.visits_recorded
    assert rec.recorded.full_at_hours == pytest.approx(sim.full_at_hours)
    assert sum(d.no_answers for d in rec.demand.values()) == sim.visits_recorded - sim.covered
    chat = sum(1 for d in rec.demand.values() if d.chat_after is not None)
    assert chat == sim.by_method.get("chat", 0)
    assert {s.role for s in rec.staff} >= {Role.GRID_WORKER, Role.PARTY_MEMBER}


def test_no_personal_data_leaves_the_store(report: ReplayReport) -> None:
    for row in report.recorded.households:
        assert row.address == "复盘 replay"
        for m in row.members:
            assert m.identity.name == "居民" and m.identity.phone is None
            assert m.identity.id_number is None


def test_the_recorded_staffing_reproduces_the_recorded_campaign(report: ReplayReport) -> None:
    same = report.outcomes[0].result
    rec = report.recorded.recorded
    assert report.outcomes[0].variant.name == "as-recorded"
    assert same.covered == rec.covered and same.visits_recorded == rec.visits
    assert same.full_at_hours == pytest.approx(rec.full_at_hours)
    assert report.outcomes[0].missing_zones == rec.missing_zones


def test_without_the_squad_fewer_do_more_and_take_longer(report: ReplayReport) -> None:
    full, lean = report.outcomes[0].result, report.outcomes[1].result
    squad = {Role.PARTY_MEMBER, Role.VOLUNTEER}
    assert not any(s.role in squad for s in lean.staff)
    assert any(s.role in squad for s in full.staff)
    assert lean.visits_recorded == full.visits_recorded  # the same demand
    assert lean.utilisation() > full.utilisation()
    assert (lean.full_at_hours or float("inf")) > (full.full_at_hours or 0)


def test_dearer_door_visits_cover_the_same_households_no_sooner(report: ReplayReport) -> None:
    same, costly = report.outcomes[0].result, report.outcomes[2]
    assert costly.variant.name == "door-visit-1.5x"
    assert costly.result.covered == report.recorded.recorded.covered
    assert costly.result.visits_recorded == same.visits_recorded
    assert (costly.result.full_at_hours or float("inf")) >= (same.full_at_hours or 0)
    busy = [sum(s.busy_minutes for s in r.staff) for r in (same, costly.result)]
    assert busy[1] > busy[0]  # the same work, dearer


def test_the_replay_takes_the_staff_as_of_the_launch(
        recorded: tuple[Path, SweepResult], report: ReplayReport, tmp_path: Path) -> None:
    """Staff enrolled, taken off duty, deactivated or moved after the campaign leave its
    replay as it was: the replay reads each member at the version in force at the launch."""
    copy = tmp_path / "later.sqlite"
    shutil.copyfile(recorded[0], copy)
    scope = SPEC.communities()[0]
    app = GridcoreApp(sqlite_env(copy))  # today's clock: long after the campaign
    try:
        for i, role in enumerate([Role.GRID_WORKER, Role.VOLUNTEER, Role.OFFICIAL]):
            app.enrol_staff(f"LATER-{i}", f"后来{i}", role, scope, 300, by=System.OPERATOR)
        staff = sorted(app.staff_in(scope), key=lambda s: s.staff_no)
        squad = [s for s in staff if s.role in (Role.PARTY_MEMBER, Role.VOLUNTEER)]
        for s in squad[: len(squad) // 2]:
            app.set_staff_availability(s.id, False, "later", by=System.OPERATOR)
        app.deactivate_staff(squad[-1].id, "left later", by=System.OPERATOR)
        grids = app.micro_grids(scope)
        worker = next(s for s in staff if s.role is Role.GRID_WORKER)
        app.change_staff_jurisdiction(worker.id, grids[0].code, by=System.OPERATOR)
        assert len(app.staff_in(scope)) == len(report.recorded.staff) + 3
        later = run_replay(app, variants=["as-recorded"])
    finally:
        app.close()
    assert later.recorded.staff == report.recorded.staff
    assert later.recorded.workers == report.recorded.workers
    assert later.recorded.squads == report.recorded.squads
    before, after = report.outcomes[0].result, later.outcomes[0].result
    assert after.full_at_hours == pytest.approx(before.full_at_hours)
    assert after.visits_recorded == before.visits_recorded
    assert after.cover_time == before.cover_time
    assert [(s.staff_no, s.visits) for s in after.staff] == \
        [(s.staff_no, s.visits) for s in before.staff]


def test_the_source_store_is_only_read(recorded: tuple[Path, SweepResult]) -> None:
    app = GridcoreApp(sqlite_env(recorded[0]))
    try:
        last = app.recorder.max_notification_id()
        assert recorded_campaigns(app) == [(SPEC.communities()[0], 1,
                                            app.campaign_of(SPEC.communities()[0], 1).name)]
        extract(app, SPEC.communities()[0], 1)
        assert app.recorder.max_notification_id() == last
    finally:
        app.close()


def test_the_command_replays_and_explains_what_is_missing(
        recorded: tuple[Path, SweepResult], tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["simulate", "replay", "--from", str(recorded[0]), "--variant",
                             "no-squad", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "recorded" in ok.output and "no-squad" in ok.output
    lines = (tmp_path / "replay.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and lines[1].startswith("recorded")
    unknown = runner.invoke(cli, ["simulate", "replay", "--from", str(recorded[0]),
                                  "--variant", "atlantis"])
    assert unknown.exit_code == 1 and "Unknown replay variant" in unknown.output
    wrong = runner.invoke(cli, ["simulate", "replay", "--from", str(recorded[0]),
                                "--scope", "9999"])
    assert wrong.exit_code == 1 and "No campaign of 9999" in wrong.output
    missing = runner.invoke(cli, ["simulate", "replay", "--from", str(tmp_path / "no.sqlite")])
    assert missing.exit_code == 2 and "No store file" in missing.output
    empty = tmp_path / "empty.sqlite"
    GridcoreApp(sqlite_env(empty)).close()
    none = runner.invoke(cli, ["simulate", "replay", "--from", str(empty)])
    assert none.exit_code == 1 and "no sweep campaign" in none.output
