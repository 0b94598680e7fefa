"""Abuse tests against the real server: a deactivated member's token is refused at once on HTTP
(403, saying why) and their open subscription is closed (4403) when the deactivation is
recorded; reactivation restores the token; ``gridcore token issue`` refuses them; a
jurisdiction change counts from the next request and on an open subscription; staff commands
and risk areas follow jurisdiction; an erased member shows a label, not a name.

Each test acts on its own member (enrolled by the test), so the module's one server is shared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner
from websockets.exceptions import ConnectionClosed

from adapters.cli import cli
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.staff import ERASED_LABEL, Role
from tests.api.test_api_access import OTHER_COMMUNITY, OTHER_ZONE, SECRET, World, serve_world
from tests.api.test_api_subscriptions import (
    ALERTS,
    TIMEOUT,
    last,
    next_data,
    raise_alert,
    receive,
    subscribe,
    until_no_watchers,
)
from tests.api.test_api_subscriptions import socket_for as socket_for  # the fixture
from tests.scenario import ZONES
from tests.stores import scratch_env

ME = "{ me { id jurisdictionCode } }"
STAFF_RESULT = """... on StaffChanged { staffMember { staffNo active available
  jurisdictionCode name erased } }
  ... on Problem { __typename code problem remedy }"""


STORE: dict[str, str] = {}
"""The served store's environment (for a second application and for the CLI)."""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """SQLite (subscriptions follow the log by polling) and PostgreSQL (LISTEN/NOTIFY)."""
    with scratch_env(request.param, tmp_path_factory.mktemp("api-staff")) as env, \
            serve_world(env) as w:
        STORE.clear()
        STORE.update(env)
        w.app.register_checkpoint("CP-712", ZONES[0], "712卡口", by=System.OPERATOR)
        w.app.register_checkpoint("CP-712B", ZONES[1], "712卡口B", by=System.OPERATOR)
        w.app.enrol_staff("OFF713", "孙书记", Role.OFFICIAL, OTHER_COMMUNITY, 0, by=System.OPERATOR)
        w.app.enrol_staff("OFFZ1", "片区干部", Role.OFFICIAL, ZONES[0], 0, by=System.OPERATOR)
        for no in ("OFF713", "OFFZ1"):
            w.staff[no] = w.app.staff_by_no(no).id
        w.caught_up()
        yield w


def enrol(world: World, staff_no: str, node: str = ZONES[0],
          role: Role = Role.GRID_WORKER) -> UUID:
    world.app.enrol_staff(staff_no, "测试员", role, node, 20, "13900005555", by=System.OPERATOR)
    world.staff[staff_no] = world.app.staff_by_no(staff_no).id
    world.caught_up()
    return world.staff[staff_no]


def mutate(world: World, staff_no: str, name: str, input: dict[str, Any]) -> dict[str, Any]:
    kind = name[0].upper() + name[1:]
    data = world.ask(f"mutation($input: {kind}Input!) {{ {name}(input: $input) "
                     f"{{ __typename {STAFF_RESULT} }} }}", staff_no, {"input": input})
    return data[name]


def test_a_deactivated_members_token_is_refused_at_once_and_works_again_when_reactivated(
        world: World) -> None:
    sid = enrol(world, "GWD1")
    token_owner = "GWD1"
    assert world.ask(ME, token_owner)["me"]["id"] == str(sid)
    done = mutate(world, "OFF1", "deactivateStaff", {"staffId": str(sid), "reason": "离职"})
    assert done["staffMember"]["active"] is False and done["staffMember"]["available"] is False
    r = world.post(ME, token_owner)  # the very next request
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/json")
    [error] = r.json()["errors"]  # the shape of every refusal of the API
    assert error["extensions"] == {"code": "FORBIDDEN"}
    assert "GWD1 is deactivated" in error["message"] and "reactivateStaff" in error["message"]
    done = mutate(world, "OFF1", "reactivateStaff", {"staffId": str(sid), "reason": "复岗"})
    assert done["staffMember"]["active"] is True
    assert world.ask(ME, token_owner)["me"]["id"] == str(sid)


def test_deactivation_made_by_another_process_counts_at_once(world: World) -> None:
    """The API reads the member's current record (the cache is brought up to the store) on
    every request: a deactivation written through another application object counts too."""
    sid = enrol(world, "GWD2")
    assert world.post(ME, "GWD2").status_code == 200
    other = GridcoreApp(STORE)
    try:
        other.deactivate_staff(sid, "离职", by=System.OPERATOR)
    finally:
        other.close()
    assert world.post(ME, "GWD2").status_code == 403


def test_an_open_subscription_is_closed_when_its_member_is_deactivated(
        world: World, socket_for: Any) -> None:
    sid = enrol(world, "GWD3")
    ws = socket_for("GWD3")
    subscribe(ws, "a", ALERTS, last(world))
    first = raise_alert(world, "CP-712", 101)
    assert next_data(ws, "a")["alertRaised"]["alertId"] == str(first)  # it runs
    world.app.deactivate_staff(sid, "离职", by=world.staff["OFF1"])
    raise_alert(world, "CP-712", 102)  # written after: must not be delivered
    with pytest.raises(ConnectionClosed) as closed:
        receive(ws)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "Forbidden")


def test_an_idle_subscription_is_closed_by_the_deactivation_event_itself(
        world: World, socket_for: Any) -> None:
    """Nothing else is written after the deactivation: the follower wakes on it."""
    sid = enrol(world, "GWD4")
    ws = socket_for("GWD4")
    subscribe(ws, "a", ALERTS, last(world))
    mine = raise_alert(world, "CP-712", 103)
    assert next_data(ws, "a")["alertRaised"]["alertId"] == str(mine)
    world.app.deactivate_staff(sid, "离职", by=world.staff["OFF1"])
    with pytest.raises(ConnectionClosed) as closed:
        receive(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    until_no_watchers()  # its follower thread stopped with it


def test_a_deactivated_member_cannot_open_a_socket_or_subscribe(world: World,
                                                               socket_for: Any) -> None:
    sid = enrol(world, "GWD5")
    ws = socket_for("GWD5")  # acknowledged while active
    world.app.deactivate_staff(sid, "离职", by=world.staff["OFF1"])
    subscribe(ws, "a", ALERTS, last(world))
    with pytest.raises(ConnectionClosed) as closed:
        receive(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    from websockets.sync.client import connect

    with connect(world.base.replace("http", "ws") + "/graphql",
                 subprotocols=["graphql-transport-ws"], open_timeout=TIMEOUT) as fresh:
        fresh.send(json.dumps({"type": "connection_init",
                               "payload": {"Authorization": f"Bearer {world.token('GWD5')}"}}))
        with pytest.raises(ConnectionClosed) as refused:
            fresh.recv(timeout=TIMEOUT)
        assert refused.value.rcvd is not None and refused.value.rcvd.code == 4403


def test_token_issue_refuses_a_deactivated_member(world: World) -> None:
    if "SQLITE_DBNAME" not in STORE:
        pytest.skip("the CLI is driven over the SQLite store here (tests/api/test_api_cli.py)")
    sid = enrol(world, "GWD6")
    env = {"GRIDCORE_STORE": "sqlite", "GRIDCORE_API_SECRET": SECRET,
           "GRIDCORE_API_MODE": "development",
           "GRIDCORE_SQLITE_PATH": STORE["SQLITE_DBNAME"]}
    ok = CliRunner().invoke(cli, ["token", "issue", "--staff", "GWD6"], env=env)
    assert ok.exit_code == 0 and ok.stdout.count(".") == 2
    world.app.deactivate_staff(sid, "离职", by=System.OPERATOR)
    refused = CliRunner().invoke(cli, ["token", "issue", "--staff", "GWD6"], env=env)
    assert refused.exit_code == 1 and refused.stdout == ""
    assert "deactivated" in refused.stderr


def test_a_jurisdiction_change_counts_from_the_next_request(world: World) -> None:
    sid = enrol(world, "GWJ1", ZONES[0])
    node = '{ gridNode(code: "%s") { code } }'
    assert world.ask(node % ZONES[0], "GWJ1")["gridNode"] == {"code": ZONES[0]}
    assert world.ask(node % ZONES[1], "GWJ1")["gridNode"] is None
    done = mutate(world, "OFF1", "changeStaffJurisdiction",
                  {"staffId": str(sid), "jurisdictionCode": ZONES[1]})
    assert done["staffMember"]["jurisdictionCode"] == ZONES[1]
    assert world.ask(ME, "GWJ1")["me"]["jurisdictionCode"] == ZONES[1]
    assert world.ask(node % ZONES[1], "GWJ1")["gridNode"] == {"code": ZONES[1]}
    assert world.ask(node % ZONES[0], "GWJ1")["gridNode"] is None


def test_an_open_subscription_follows_a_jurisdiction_change(world: World,
                                                           socket_for: Any) -> None:
    sid = enrol(world, "GWJ2", ZONES[0])
    ws = socket_for("GWJ2")
    subscribe(ws, "a", ALERTS, last(world))
    world.app.change_staff_jurisdiction(sid, ZONES[1], by=world.staff["OFF1"])
    raise_alert(world, "CP-712", 104)  # their old grid: no longer theirs
    mine = raise_alert(world, "CP-712B", 104)
    assert next_data(ws, "a")["alertRaised"] == {"alertId": str(mine), "gridCode": ZONES[1],
                                                 "kind": "VEHICLE"}


@pytest.mark.parametrize(("by", "typename"), [
    ("GWZ1", "NotPermittedProblem"),   # a grid worker
    ("OFF713", "NotFoundProblem"),     # another community's official: answered as missing
])
def test_staff_commands_follow_role_and_jurisdiction(world: World, by: str,
                                                     typename: str) -> None:
    sid = enrol(world, f"GWR-{by}")
    before = last(world)
    # a node the grid worker sees (ZONES[1] would answer as missing): refused for the role
    for name, extra in (("deactivateStaff", {"reason": "离职"}),
                        ("changeStaffJurisdiction", {"jurisdictionCode": ZONES[0]}),
                        ("eraseStaffMember", {"reason": "期满"})):
        got = mutate(world, by, name, {"staffId": str(sid), **extra})
        assert got["__typename"] == typename, (name, got)
    assert last(world) == before
    assert world.app.staff(sid).active and not world.app.staff(sid).erased


def test_a_move_out_of_the_givers_jurisdiction_is_refused(world: World) -> None:
    sid = enrol(world, "GWJ3")
    got = mutate(world, "OFF1", "changeStaffJurisdiction",
                 {"staffId": str(sid), "jurisdictionCode": OTHER_ZONE})
    assert got["__typename"] == "NotFoundProblem"
    assert world.app.staff(sid).jurisdictions == (ZONES[0],)


def test_an_erased_member_shows_a_label_not_a_name(world: World) -> None:
    sid = enrol(world, "GWE1")
    query = f'{{ staffMember(id: "{sid}") {{ name phone erased staffNo }} }}'
    before = world.ask(query, "OFF1")
    assert before["staffMember"]["name"] == "测试员" and not before["staffMember"]["erased"]
    done = mutate(world, "OFF1", "eraseStaffMember", {"staffId": str(sid), "reason": "期满"})
    assert done["staffMember"]["erased"] is True
    after = world.ask(query, "OFF1")
    assert after["staffMember"] == {"name": f"{ERASED_LABEL} (GWE1)", "phone": None,
                                    "erased": True, "staffNo": "GWE1"}


RISK = """mutation($input: %sRiskAreaInput!) { %sRiskArea(input: $input) { __typename
  ... on RiskAreaUpdated { declarationId until } ... on Problem { problem } } }"""


def test_risk_areas_follow_jurisdiction_over_the_api(world: World) -> None:
    now = world.clock.now.isoformat()

    def declare(by: str, did: str, scope: str | None = None) -> dict[str, Any]:
        return world.ask(RISK % ("Declare", "declare"), by, {"input": {
            "declarationId": did, "area": "鄂A", "level": "HIGH", "start": now,
            "scopeCode": scope}})["declareRiskArea"]

    def lift(by: str, did: str) -> dict[str, Any]:
        return world.ask(RISK % ("Lift", "lift"), by, {"input": {
            "declarationId": did, "area": "鄂A", "at": now}})["liftRiskArea"]

    assert declare("OFFZ1", "API-R0")["__typename"] == "NotPermittedProblem"  # a micro-grid's
    assert declare("OFF1", "API-R1")["__typename"] == "RiskAreaUpdated"
    before = last(world)
    refused = lift("OFF713", "API-R1")  # another community's official
    assert refused["__typename"] == "NotPermittedProblem"
    assert "outside your jurisdiction" in refused["problem"]
    assert last(world) == before
    assert lift("STR1", "API-R1")["until"] is not None  # the street above both may
    # a node of one's jurisdiction may be named; one outside reads as missing
    assert declare("OFF1", "API-R2", OTHER_ZONE)["__typename"] == "NotFoundProblem"
    assert declare("OFF1", "API-R3", ZONES[1])["__typename"] == "RiskAreaUpdated"
    assert lift("GWZ1", "API-R3")["__typename"] == "NotPermittedProblem"  # not an official
    assert lift("OFFZ1", "API-R3")["__typename"] == "NotPermittedProblem"  # a micro-grid's
    assert lift("OFF1", "API-R3")["__typename"] == "RiskAreaUpdated"


def test_a_socket_opened_before_deactivation_gives_no_command_after_it(
        world: World, socket_for: Any) -> None:
    """A socket resolves its caller once, at connection_init: a mutation sent over it after
    the deactivation is refused by the member's current record, and writes nothing."""
    sid = enrol(world, "GWD7")
    alert = raise_alert(world, "CP-712", 105)
    ws = socket_for("GWD7")
    world.app.deactivate_staff(sid, "离职", by=world.staff["OFF1"])
    before = last(world)
    query = (f'mutation {{ acknowledgeAlert(input: {{ id: "{alert}" }}) {{ __typename '
             '... on Problem { problem } } }')
    ws.send(json.dumps({"id": "m", "type": "subscribe", "payload": {"query": query}}))
    got = next_data(ws, "m")["acknowledgeAlert"]
    assert got["__typename"] == "NotPermittedProblem" and "deactivated" in got["problem"]
    assert last(world) == before
