"""``gridcore serve`` with its read models run by other processes (``GRIDCORE_PROJECTIONS=
external``; at scale, one ``gridcore projections run --group NAME`` per group), on PostgreSQL:
the server runs none itself, and a mutation answers with its own write once every group's
runner has applied it, which the server learns from their positions in the database.

The group runners here are threads with runners and applications of their own over the same
schema, so the test can stop one and start it again; the server is the real command."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from adapters.bootstrap import System, bootstrap
from adapters.cli import cli
from adapters.settings import scratch_schema
from projections.groups import DEFAULT_GROUPS
from projections.runner import Runner
from tests.api.test_api_access import SECRET, World, build_world
from tests.api.test_api_cli import start_serving
from tests.api.test_api_mutations import CHANGE_HEALTH, household, mutate
from tests.conftest import PG_DSN, need_postgres
from tests.projections.test_projection_groups_postgres import CEILING, until
from tests.scenario import ZONES

ROLLUP = """query($z: String!) { gridNode(code: $z) { rollup { byHealth { health count } } } }"""


class Groups:
    """A runner per default group, each following the log in a thread with its own
    application (another process in production)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.running: dict[str, tuple[System, Runner]] = {}

    def start(self, group: str) -> None:
        system = bootstrap(self.env)
        self.running[group] = (system, system.runner(groups=[group]).start())

    def stop(self, group: str) -> None:
        system, runner = self.running.pop(group)
        runner.stop()
        system.close()

    def close(self) -> None:
        for group in list(self.running):
            self.stop(group)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[World, Groups]]:
    need_postgres()
    with scratch_schema(PG_DSN, "external") as (schema, env):
        app, clock, parents, households, staff = build_world(env)
        store = {"GRIDCORE_STORE": "postgres", "GRIDCORE_PG_DSN": PG_DSN,
                 "GRIDCORE_PG_SCHEMA": schema, "GRIDCORE_PROJECTIONS": "external",
                 "GRIDCORE_API_SECRET": SECRET, "GRIDCORE_API_MODE": "development",
                 "GRIDCORE_API_AUDIT_FILE": str(tmp_path / "api-audit.jsonl")}
        for _ in range(3):  # another process may take the free port before the server binds
            proc, base, output = start_serving(store, tmp_path)
            if proc is not None:
                break
        assert proc is not None, f"gridcore serve stopped while starting:\n{output}"
        groups = Groups(env)
        # The test's own view of the positions: a runner of every read model, never started.
        world = World(app, bootstrap(env).runner(), clock, base, parents, households, staff)
        try:
            yield world, groups
        finally:
            groups.close()
            proc.terminate()
            proc.wait(timeout=15)
            world.runner.app.close()
            app.close()


def health(base: str) -> dict[str, Any]:
    r = httpx.get(base + "/healthz", timeout=10)
    assert r.status_code == 200, r.text
    return dict(r.json()["projections"])


def symptomatic(world: World) -> int:
    rollup = world.ask(ROLLUP, "GWZ1", {"z": ZONES[0]})["gridNode"]["rollup"]
    return int(next(c["count"] for c in rollup["byHealth"] if c["health"] == "SYMPTOMATIC"))


@pytest.mark.postgres
def test_a_server_with_external_read_models_reads_its_writes_once_their_processes_apply_them(
        served: tuple[World, Groups]) -> None:
    world, groups = served
    last = world.app.recorder.max_notification_id() or 0
    before = health(world.base)
    assert set(before) == {n for names in DEFAULT_GROUPS.values() for n in names}
    assert all(p["position"] == 0 and p["lag"] == last for p in before.values()), before

    for group in DEFAULT_GROUPS:
        groups.start(group)
    hid, (rid, other) = household(world, ZONES[0], 0)  # waits for nothing: a query
    result = mutate(world, CHANGE_HEALTH, "GWZ1", householdId=hid, residentId=rid,
                    health="SYMPTOMATIC", reason="发热 37.8")
    assert result["__typename"] == "StatusChanged", result
    residents = {r["id"]: r["health"] for r in result["household"]["residents"]}
    assert residents == {rid: "SYMPTOMATIC", other: "NORMAL"}  # its own write, at once
    assert all(p["position"] >= result["notificationId"]
               for p in health(world.base).values())  # every group got there
    assert symptomatic(world) == 1

    # With the grid group's process away, a mutation waits for it (the others have it)...
    groups.stop("grid")
    written = world.app.recorder.max_notification_id() or 0
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(mutate, world, CHANGE_HEALTH, "GWZ1", householdId=hid,
                              residentId=other, health="SYMPTOMATIC", reason="咳嗽")
        until(lambda: (world.app.recorder.max_notification_id() or 0) > written,
              "the mutation's write in the log")
        field = set(DEFAULT_GROUPS["field"])
        until(lambda: all(p["position"] > written for n, p in health(world.base).items()
                          if n in field), "the field group at the write")
        assert not pending.done()  # the grid group has not applied it: no answer yet
        # ... and answers with its write once the group's process is back and applies it.
        groups.start("grid")
        again = pending.result(timeout=CEILING)
    assert again["__typename"] == "StatusChanged", again
    assert {r["id"]: r["health"] for r in again["household"]["residents"]} == {
        rid: "SYMPTOMATIC", other: "SYMPTOMATIC"}
    assert symptomatic(world) == 2


@pytest.mark.parametrize(("store", "how", "says"), [
    ("sqlite", ["--projections", "elsewhere"], "GRIDCORE_PROJECTIONS='elsewhere' is unknown"),
    ("memory", ["--projections", "external"], "needs a store other processes share"),
    ("memory", [], "needs a store other processes share"),  # GRIDCORE_PROJECTIONS=external
])
def test_serve_refuses_an_unknown_setting_and_external_read_models_of_a_memory_store(
        tmp_path: Path, store: str, how: list[str], says: str) -> None:
    env = {"GRIDCORE_STORE": store, "GRIDCORE_SQLITE_PATH": str(tmp_path / "g.sqlite"),
           "GRIDCORE_API_SECRET": SECRET, "GRIDCORE_API_MODE": "development",
           "GRIDCORE_PROJECTIONS": "external"}
    result = CliRunner().invoke(cli, ["serve", "--port", "1", *how], env=env)
    assert result.exit_code == 2, result.output
    assert says in result.stderr
