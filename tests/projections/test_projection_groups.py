"""Projection groups (``projections.groups``): every read model in exactly one group, a process
per group (``gridcore projections run --group NAME``), and a wait for one's own writes that
reads the positions from the database when other processes run the read models.

On SQLite, quickly; ``test_projection_groups_postgres`` runs the groups as real processes,
killed and restarted, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.bootstrap import bootstrap
from adapters.cli import cli
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.staff import Role
from projections import all_projections
from projections.base import Failure
from projections.groups import (
    DEFAULT_GROUPS,
    GroupError,
    check_groups,
    group_of,
    members,
    parse_groups,
)
from projections.runner import Runner
from tests.scenario import ZONES, given_community

NAMES = sorted(p.name for p in all_projections())


def test_the_default_groups_hold_every_read_model_exactly_once() -> None:
    check_groups(DEFAULT_GROUPS, NAMES)
    assert sorted(group_of(DEFAULT_GROUPS)) == NAMES


def test_a_grouping_is_parsed_and_checked_against_the_read_models() -> None:
    spec = " a = grid_rollup , staff_workload ; b=" + ",".join(
        n for n in NAMES if n not in ("grid_rollup", "staff_workload")) + ";"
    groups = parse_groups(spec)
    assert groups["a"] == ("grid_rollup", "staff_workload")
    check_groups(groups, NAMES)
    assert members(groups, ["b,a"])[-2:] == ["grid_rollup", "staff_workload"]
    assert members(groups, ["a", "a"]) == ["grid_rollup", "staff_workload"]


@pytest.mark.parametrize(("spec", "says"), [
    ("grid_rollup", "is not a group"),
    ("a=", "is not a group"),
    (";", "names no group"),
    ("a=grid_rollup;a=staff_workload", "given twice"),
])
def test_a_malformed_grouping_says_how_to_write_it(spec: str, says: str) -> None:
    with pytest.raises(GroupError, match=says):
        parse_groups(spec)


def test_a_grouping_that_leaves_out_doubles_or_invents_a_read_model_is_refused() -> None:
    rest = [n for n in NAMES if n != "grid_rollup"]
    with pytest.raises(GroupError, match=r"in no group .*grid_rollup"):
        check_groups({"a": tuple(rest)}, NAMES)
    with pytest.raises(GroupError, match=r"more than one group: grid_rollup \(a, b\)"):
        check_groups({"a": tuple(NAMES), "b": ("grid_rollup",)}, NAMES)
    with pytest.raises(GroupError, match="no read model is named nope"):
        check_groups({"a": (*NAMES, "nope")}, NAMES)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[dict[str, str]]:
    path = tmp_path / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(path))
    given_community(app)
    app.close()
    yield {"GRIDCORE_STORE": "sqlite", "GRIDCORE_SQLITE_PATH": str(path)}


def test_run_with_an_unknown_group_names_the_known_ones_and_exits_2(
        store: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["projections", "run", "--once", "--group", "grid",
                                      "--group", "nope"], env=store)
    assert result.exit_code == 2, result.output
    assert "no projection group named nope" in result.stderr
    assert "the groups are grid, field, boards" in result.stderr
    assert "caught up" not in result.stdout  # nothing ran


def test_a_wrong_grouping_in_the_environment_stops_run_and_status_with_exit_2(
        store: dict[str, str]) -> None:
    env = {**store, "GRIDCORE_PROJECTION_GROUPS": "all=grid_rollup"}
    for args in (["run", "--once", "--group", "all"], ["status"]):
        result = CliRunner().invoke(cli, ["projections", *args], env=env)
        assert result.exit_code == 2, result.output
        assert "in no group (no process would run them)" in result.stderr


def test_run_of_groups_advances_only_theirs_and_status_shows_each_group(
        store: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["projections", "run", "--once", "--group",
                                      "grid,boards"], env=store)
    assert result.exit_code == 0, result.output
    system = bootstrap(sqlite_env(store["GRIDCORE_SQLITE_PATH"]))
    try:
        last = system.app.recorder.max_notification_id()
        positions = {s.name: s.position for s in system.runner().status()}
    finally:
        system.close()
    ran = {*DEFAULT_GROUPS["grid"], *DEFAULT_GROUPS["boards"]}
    assert positions == {n: last if n in ran else 0 for n in NAMES}

    status = CliRunner().invoke(cli, ["projections", "status"], env={**store, "COLUMNS": "200"})
    assert status.exit_code == 0, status.output
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in status.stdout.splitlines() if line.count("│") > 3}
    assert {n: rows[n] for n in NAMES} == group_of(DEFAULT_GROUPS)


def test_wait_reads_positions_of_other_processes_runners_from_the_database(
        tmp_path: Path) -> None:
    """The server's runner (never started) waits for every group; each group's runner
    (another process in production) advances its own read models only; a read model stuck
    in another process is not waited for."""
    env = sqlite_env(tmp_path / "gridcore.sqlite")
    apps = [GridcoreApp(env) for _ in range(3)]
    try:
        writer = apps[0]
        given_community(writer)
        server = Runner(writer, all_projections())
        ours = members(DEFAULT_GROUPS, ["grid", "field"])
        first = Runner(apps[1], [p for p in all_projections() if p.name in ours])
        boards = Runner(apps[2], [p for p in all_projections() if p.name not in ours])
        writer.enrol_staff("GWX", "某", Role.GRID_WORKER, ZONES[0], 20, by=System.OPERATOR)
        nid = writer.recorder.max_notification_id() or 0
        first.catch_up()
        with pytest.raises(TimeoutError) as waited:
            server.wait(nid, timeout=0.02)  # boards' runner has not run: it cannot get there
        assert all(n in str(waited.value) for n in DEFAULT_GROUPS["boards"])
        assert not any(f"{n} at" in str(waited.value) for n in ours)
        assert all(boards.views.position(p) == 0 for p in boards.projections.values())

        boards.catch_up()
        server.wait(nid, timeout=10)  # returns: every group got there

        writer.enrol_staff("GWY", "某", Role.GRID_WORKER, ZONES[1], 20, by=System.OPERATOR)
        later = writer.recorder.max_notification_id() or 0
        first.catch_up()
        stuck = boards.projection("alerts_board")
        boards.views.apply_batch(stuck, [], None, Failure(
            stuck.name, later, "x", 1, "t", "Boom: stuck", "2020-02-17T08:00:00+00:00"))
        boards.catch_up()  # the others of its group; the stuck one stays where it was
        assert boards.views.position(stuck) == nid
        server.wait(later, timeout=10)  # the stuck one (another process's) is not waited for
        assert server.stuck.keys() == {"alerts_board"}
    finally:
        for app in apps:
            app.close()
