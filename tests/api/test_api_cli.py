"""``gridcore token issue`` and ``gridcore serve``: the served API (a real process) accepts the
token the command prints, and answers within that staff member's jurisdiction."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.staff import Role
from tests.scenario import COMMUNITY, ZONES, given_community

SECRET = "cli-secret-" + "z" * 40


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("api-cli") / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(path))
    given_community(app)
    app.enrol_staff("GWZ1", "甲", Role.GRID_WORKER, ZONES[0], 40, by=System.OPERATOR)
    return {"GRIDCORE_STORE": "sqlite", "GRIDCORE_SQLITE_PATH": str(path),
            "GRIDCORE_API_SECRET": SECRET, "GRIDCORE_API_MODE": "development"}


def issue(store: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["token", "issue", *args], env=store)
    return result.exit_code, result.stdout.strip(), result.stderr.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serving(store: dict[str, str], logs: Path | None = None,
                  ) -> tuple[subprocess.Popen[str] | None, str, str]:
    """``gridcore serve`` on a free port, once it answers; (None, "", output) when it stopped
    first (for instance: another process took the port between our probe and its bind). Its
    output goes to ``logs`` (default: beside the SQLite file)."""
    port = free_port()
    gridcore = Path(sys.executable).with_name("gridcore")
    log = (logs or Path(store["GRIDCORE_SQLITE_PATH"]).parent) / f"serve-{port}.log"
    with log.open("w") as out:  # a file, not a pipe: a full pipe would block the server
        proc = subprocess.Popen([str(gridcore), "serve", "--port", str(port)],
                                env={**os.environ, **store}, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while proc.poll() is None:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base, ""
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            proc.wait(timeout=15)
            raise AssertionError("gridcore serve did not answer within 60 s")
        time.sleep(0.05)  # polling interval while waiting for the server
    return None, "", log.read_text()


@pytest.fixture(scope="module")
def served(store: dict[str, str]) -> Iterator[str]:
    outputs = []
    for _ in range(3):
        proc, base, output = start_serving(store)
        if proc is not None:
            break
        outputs.append(output)
    else:
        raise AssertionError("gridcore serve stopped while starting:\n" + "\n".join(outputs))
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_token_issue_by_staff_number_or_id(store: dict[str, str]) -> None:
    code, by_no, _ = issue(store, "--staff", "GWZ1")
    assert code == 0 and by_no.count(".") == 2  # a JWS: header.claims.signature
    sid = str(GridcoreApp(sqlite_env(store["GRIDCORE_SQLITE_PATH"])).staff_by_no("GWZ1").id)
    code, by_id, _ = issue(store, "--staff", sid, "--hours", "2")
    assert code == 0 and by_id.count(".") == 2


def test_token_issue_for_an_unknown_staff_member_fails(store: dict[str, str]) -> None:
    code, out, err = issue(store, "--staff", "NOBODY")
    assert code == 1 and out == ""
    assert "staff member" in err


def test_token_issue_in_production_needs_the_secret(store: dict[str, str]) -> None:
    env = {**store, "GRIDCORE_API_MODE": "production", "GRIDCORE_API_SECRET": ""}
    code, out, err = issue(env, "--staff", "GWZ1")
    assert code == 2 and out == ""
    assert "GRIDCORE_API_SECRET" in err


def test_served_api_accepts_the_printed_token_and_scopes_by_it(store: dict[str, str],
                                                               served: str) -> None:
    _, token, _ = issue(store, "--staff", "GWZ1")
    query = f"""{{ me {{ role jurisdiction {{ code rollup {{ households }} }} }}
      community: gridNode(code: "{COMMUNITY}") {{ code }} }}"""
    r = httpx.post(served + "/graphql", json={"query": query},
                   headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["me"] == {"role": "GRID_WORKER",
                          "jurisdiction": {"code": ZONES[0], "rollup": {"households": 3}}}
    assert data["community"] is None
    page = httpx.get(served + "/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200  # GraphiQL in development mode


def test_demo_prints_tokens_of_its_official_and_a_grid_worker_and_serves_only_when_asked(
        tmp_path: Path) -> None:
    """Run from a script, `gridcore demo` builds, prints two working tokens and the way to
    serve, and returns (it serves only in a terminal or with --serve)."""
    import re

    from graphql_api.auth import read_token

    secret = "d" * 40
    path = tmp_path / "demo.sqlite"
    env = {"GRIDCORE_STORE": "sqlite", "GRIDCORE_SQLITE_PATH": str(path),
           "GRIDCORE_API_SECRET": secret, "GRIDCORE_API_MODE": "development"}
    result = CliRunner().invoke(cli, ["demo", "--no-serve"], env=env)
    assert result.exit_code == 0, result.output
    tokens = dict(re.findall(r"\((712-DIR|712-GW-1)\): (\S+)", result.output))
    assert set(tokens) == {"712-DIR", "712-GW-1"}
    assert "gridcore serve" in result.output
    app = GridcoreApp(sqlite_env(path))
    try:
        for no, token in tokens.items():
            assert read_token(secret, token) == app.staff_by_no(no).id
        assert app.staff_by_no("712-DIR").role is Role.OFFICIAL
        assert app.staff_by_no("712-GW-1").role is Role.GRID_WORKER
    finally:
        app.close()
