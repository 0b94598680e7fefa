"""The API with a stuck read model, over real HTTP servers: mutations keep answering with their
result (the write succeeded, the healthy read models have it), ``/healthz`` stays 200 and says
``"status": "degraded"`` with the stuck one's event and error (only the error's type in
production), and ``gridcore serve`` over a store holding such an event starts and reports it.

The stuck read model is the real ``alerts_board``, given an alert stored directly through the
recorder with a year-9999 time (``tests.projections.test_projection_isolation``), so no
command's checks are involved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from adapters.event_feed import event_id
from adapters.settings import scratch_schema, sqlite_env
from graphql_api.app import create_app
from graphql_api.auth import issue_token
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.staff import Role
from projections import all_projections
from tests.api.test_api_access import SECRET, World, serve_world
from tests.api.test_api_cli import start_serving
from tests.api.test_api_mutations import CHANGE_HEALTH, household, mutate
from tests.conftest import PG_DSN, need_postgres
from tests.projections.test_projection_isolation import store_far_future_alert
from tests.scenario import ZONES, given_community


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "sqlite":
        with serve_world(tmp_path / "gridcore.sqlite") as w:
            yield w
        return
    need_postgres()
    with scratch_schema(PG_DSN, "stuck") as (_, env), serve_world(env) as w:
        yield w


def health_when(base: str, condition: Callable[[dict[str, Any]], bool],
                timeout: float = 30.0) -> dict[str, Any]:
    """``/healthz``'s answer once ``condition`` holds for it (each answer a 200)."""
    deadline = time.monotonic() + timeout
    while True:
        r = httpx.get(base + "/healthz", timeout=10)
        assert r.status_code == 200, r.text
        body = r.json()
        if condition(body):
            return body
        assert time.monotonic() < deadline, f"/healthz never got there: {body}"
        time.sleep(0.05)  # polling interval while waiting for the runner, not a fixed wait


def stuck(body: dict[str, Any]) -> bool:
    return body["status"] == "degraded"


def test_a_mutation_answers_while_a_read_model_is_stuck_and_healthz_reports_it(
        world: World) -> None:
    healthy = httpx.get(world.base + "/healthz", timeout=10).json()
    assert healthy["ok"] is True and healthy["status"] == "ok"
    assert healthy["projections"]["alerts_board"]["stuck"] is None

    alert_id, bad_nid = store_far_future_alert(world.app)  # the server's runner meets it
    body = health_when(world.base, stuck)
    failure = body["projections"]["alerts_board"]["stuck"]
    assert failure["notification_id"] == bad_nid
    assert failure["originator_id"] == str(alert_id) and failure["originator_version"] == 1
    assert failure["event_id"] == str(event_id(alert_id, 1))
    assert failure["topic"].endswith("Alert.Raised")
    assert failure["error"] == "OverflowError: date value out of range"

    hid, (rid, other) = household(world, ZONES[0], 0)
    result = mutate(world, CHANGE_HEALTH, "GWZ1", householdId=hid, residentId=rid,
                    health="SYMPTOMATIC", reason="发热 37.8", clientId=f"stuck-{uuid4()}")
    assert result["__typename"] == "StatusChanged", result
    residents = {r["id"]: r["health"] for r in result["household"]["residents"]}
    assert residents == {rid: "SYMPTOMATIC", other: "NORMAL"}  # its own write, at once

    after = httpx.get(world.base + "/healthz", timeout=10).json()
    assert after["status"] == "degraded"
    assert after["projections"]["alerts_board"]["position"] == bad_nid - 1
    others = {n: p for n, p in after["projections"].items() if n != "alerts_board"}
    assert others and all(p["stuck"] is None and p["position"] >= result["notificationId"]
                          for p in others.values()), others

    # In production the health answer names the error's type only.
    assert world.settings is not None
    settings = ApiSettings(mode=Mode.PRODUCTION, secret=SECRET,
                           audit_file=world.settings.audit_file)
    with running(create_app(world.app, world.runner, settings)) as base:
        prod = httpx.get(base + "/healthz", timeout=10).json()
    assert prod["mode"] == "production" and prod["status"] == "degraded"
    assert prod["projections"]["alerts_board"]["stuck"]["error"] == "OverflowError"
    assert prod["projections"]["alerts_board"]["stuck"]["notification_id"] == bad_nid


def test_gridcore_serve_starts_over_a_stuck_read_model_and_reports_it(tmp_path: Path) -> None:
    path = tmp_path / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(path))
    given_community(app)
    app.enrol_staff("GWZ1", "甲", Role.GRID_WORKER, ZONES[0], 40, by=System.OPERATOR)
    alert_id, bad_nid = store_far_future_alert(app)
    app.enrol_staff("GWZ2", "乙", Role.GRID_WORKER, ZONES[1], 40,
                    by=System.OPERATOR)  # written after it
    end = app.recorder.max_notification_id()
    store = {"GRIDCORE_STORE": "sqlite", "GRIDCORE_SQLITE_PATH": str(path),
             "GRIDCORE_API_SECRET": SECRET, "GRIDCORE_API_MODE": "development"}
    proc, base, output = start_serving(store)
    assert proc is not None, f"gridcore serve stopped while starting:\n{output}"
    try:
        body = httpx.get(base + "/healthz", timeout=10).json()
        assert body["status"] == "degraded"
        failure = body["projections"]["alerts_board"]["stuck"]
        assert failure["notification_id"] == bad_nid
        assert failure["originator_id"] == str(alert_id)
        assert body["projections"]["alerts_board"]["position"] == bad_nid - 1
        names = {p.name for p in all_projections()}
        assert set(body["projections"]) == names
        assert all(p["position"] == end for n, p in body["projections"].items()
                   if n != "alerts_board")
        token = issue_token(SECRET, app.staff_by_no("GWZ2").id, 1)
        r = httpx.post(base + "/graphql", json={"query": "{ me { role } }"},
                       headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert r.status_code == 200 and r.json()["data"]["me"] == {"role": "GRID_WORKER"}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        app.close()
    log = path.with_name(f"serve-{base.rsplit(':', 1)[1]}.log").read_text()
    assert f"STUCK alerts_board is stuck (卡住) at notification {bad_nid}" in log
