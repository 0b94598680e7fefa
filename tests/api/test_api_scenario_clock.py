"""A scenario's time (情景时间): ``GRIDCORE_SCENARIO_CLOCK`` makes ``gridcore serve`` run its
application on a clock at the scenario's time, advancing from there, and the API says so
(``clock { now scenario }``), so the dashboard of a story that happened in February 2020 (the
712 demo, a replayed campaign) shows it as of then rather than years overdue."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from adapters.bootstrap import ScenarioTime, bootstrap, configured_clock, last_event_time
from adapters.settings import memory_env, sqlite_env
from graphql_api.auth import issue_token
from gridcore.application import GridcoreApp, utc_now
from gridcore.authority import System
from gridcore.staff import Role
from tests.api.test_api_cli import start_serving
from tests.scenario import ZONES, given_community

SECRET = "scenario-secret-" + "s" * 40
BEIJING = timezone(timedelta(hours=8))
STORY = datetime(2020, 2, 19, 18, 30, tzinfo=BEIJING)  # when the store's last event happened


# ---- the setting ---------------------------------------------------------------------------------

def test_unset_or_empty_is_the_wall_clock() -> None:
    app = GridcoreApp(memory_env())
    try:
        assert configured_clock(app, {}) is utc_now
        assert configured_clock(app, {"GRIDCORE_SCENARIO_CLOCK": " "}) is utc_now
    finally:
        app.close()


def test_a_time_starts_the_scenario_clock_there_and_it_advances_with_real_time() -> None:
    app = GridcoreApp(memory_env())
    try:
        clock = configured_clock(app, {"GRIDCORE_SCENARIO_CLOCK": "2020-02-17T08:00+08:00"})
        assert isinstance(clock, ScenarioTime) and clock.scenario
        start = datetime(2020, 2, 17, 8, tzinfo=BEIJING)
        assert start <= clock() < start + timedelta(minutes=1)
    finally:
        app.close()
    seconds = iter([100.0, 100.0, 190.0])  # made, then read 90 s later
    later = ScenarioTime(start, elapsed=lambda: next(seconds))
    assert later() == start
    assert later() == start + timedelta(seconds=90)


@pytest.mark.parametrize("value, words", [
    ("2020-02-17T08:00", "no time zone"),
    ("17 Feb 2020", "is not a time"),
    ("last-event", "the store has no events"),
])
def test_a_value_that_names_no_time_is_refused_with_the_remedy(value: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        bootstrap(memory_env(), environ={"GRIDCORE_SCENARIO_CLOCK": value})


def test_last_event_starts_at_the_stores_last_event() -> None:
    app = GridcoreApp(memory_env(), clock=lambda: STORY)
    try:
        given_community(app)
        assert last_event_time(app) == STORY
        clock = configured_clock(app, {"GRIDCORE_SCENARIO_CLOCK": "last-event"})
        assert STORY <= clock() < STORY + timedelta(minutes=1)
    finally:
        app.close()


def test_a_clock_given_to_bootstrap_wins_over_the_setting() -> None:
    system = bootstrap(memory_env(), environ={"GRIDCORE_SCENARIO_CLOCK": "bad"},
                       clock=lambda: STORY)
    try:
        assert system.app.clock() == STORY
    finally:
        system.close()


# ---- through `gridcore serve` ----------------------------------------------------------------

@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A small community whose story was recorded in February 2020."""
    path = tmp_path_factory.mktemp("scenario-clock") / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(path), clock=lambda: STORY)
    try:
        given_community(app)
        app.enrol_staff("GWZ1", "甲", Role.GRID_WORKER, ZONES[0], 40, by=System.OPERATOR)
        worker = app.staff_by_no("GWZ1").id
    finally:
        app.close()
    return {"GRIDCORE_STORE": "sqlite", "GRIDCORE_SQLITE_PATH": str(path),
            "GRIDCORE_API_SECRET": SECRET, "GRIDCORE_API_MODE": "development",
            "worker": str(worker)}


@pytest.fixture
def serving(store: dict[str, str]) -> Iterator[Any]:
    """``serving(setting)``: ``gridcore serve`` with GRIDCORE_SCENARIO_CLOCK set to it (None:
    unset), its base URL once it answers."""
    started: list[subprocess.Popen[str]] = []

    def serve(setting: str | None) -> str:
        env = {k: v for k, v in store.items() if k != "worker"}
        env["GRIDCORE_SCENARIO_CLOCK"] = setting or ""
        proc, base, output = start_serving(env)
        assert proc is not None, output
        started.append(proc)
        return base

    try:
        yield serve
    finally:
        for proc in started:
            proc.terminate()
            proc.wait(timeout=15)


def ask_clock(base: str, store: dict[str, str], token: bool = True) -> Any:
    bearer = issue_token(SECRET, UUID(store["worker"]), 1.0)
    headers = ({"Authorization": f"Bearer {bearer}"}
               if token else {})
    r = httpx.post(base + "/graphql", json={"query": "{ clock { now scenario } }"},
                   headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return body["data"]["clock"]


def test_serve_on_last_event_runs_at_the_scenarios_time_and_says_so(
        store: dict[str, str], serving: Any) -> None:
    clock = ask_clock(serving("last-event"), store)
    assert clock["scenario"] is True
    now = datetime.fromisoformat(clock["now"])
    assert STORY <= now < STORY + timedelta(minutes=2)


def test_serve_at_a_given_time_starts_there(store: dict[str, str], serving: Any) -> None:
    clock = ask_clock(serving("2020-02-22T20:00+08:00"), store)
    assert clock["scenario"] is True
    start = datetime(2020, 2, 22, 20, tzinfo=BEIJING)
    assert start <= datetime.fromisoformat(clock["now"]) < start + timedelta(minutes=2)


def test_serve_without_the_setting_runs_on_the_wall_clock(store: dict[str, str],
                                                           serving: Any) -> None:
    base = serving(None)
    clock = ask_clock(base, store)
    assert clock["scenario"] is False
    assert abs(datetime.fromisoformat(clock["now"]) - datetime.now(UTC)) < timedelta(minutes=2)
    assert ask_clock(base, store, token=False) is None  # nothing for an anonymous caller


def test_serve_refuses_a_setting_that_names_no_time(store: dict[str, str]) -> None:
    env = {k: v for k, v in store.items() if k != "worker"}
    gridcore = Path(sys.executable).with_name("gridcore")
    done = subprocess.run([str(gridcore), "serve", "--port", "1"], capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, **env,
                               "GRIDCORE_SCENARIO_CLOCK": "yesterday"})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "GRIDCORE_SCENARIO_CLOCK='yesterday' is not a time" in done.stderr
