"""Subscriptions over a real websocket (graphql-transport-ws) against the real server: new
alerts, escalations and overdue items reach a subscriber only within their jurisdiction, in
log order; without a staff member a subscription ends at once; a closed socket stops its
follower.

Each test writes something the subscriber must not see first and something it must see
second: the first message received is then proof of both (items arrive in log order).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from gridcore.authority import System
from tests.api.test_api_access import OTHER_COMMUNITY, OTHER_ZONE, World, serve_world
from tests.scenario import COMMUNITY, ZONES
from tests.stores import scratch_env

TIMEOUT = 60
"""How long a socket may stay silent before a test fails: every wait ends on the message itself,
so this bounds only a failure; a CI machine running the projection kill test beside the
PostgreSQL follower once took over 15 s to deliver an alert."""
LATER = timedelta(seconds=1)  # a deadline is missed once it has passed


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """SQLite (the log followed by polling) and PostgreSQL (LISTEN/NOTIFY)."""
    with scratch_env(request.param, tmp_path_factory.mktemp("api-subs")) as env, \
            serve_world(env) as w:
        w.app.register_checkpoint("CP-712", ZONES[0], "712卡口", by=System.OPERATOR)
        w.app.register_checkpoint("CP-713", OTHER_ZONE, "713卡口", by=System.OPERATOR)
        w.caught_up()
        yield w


def last(world: World) -> int:
    return world.app.recorder.max_notification_id() or 0


@pytest.fixture
def socket_for(world: World) -> Iterator[Any]:
    opened: list[ClientConnection] = []

    def open_socket(staff_no: str | None) -> ClientConnection:
        ws = connect(world.base.replace("http", "ws") + "/graphql",
                     subprotocols=["graphql-transport-ws"], open_timeout=TIMEOUT)
        opened.append(ws)
        payload = {"Authorization": f"Bearer {world.token(staff_no)}"} if staff_no else {}
        ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert receive(ws)["type"] == "connection_ack"
        return ws

    yield open_socket
    for ws in opened:
        ws.close()


def receive(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message = json.loads(ws.recv(timeout=TIMEOUT))
        if message["type"] != "ping":
            return message
        ws.send(json.dumps({"type": "pong"}))


def subscribe(ws: ClientConnection, sid: str, query: str, after: int) -> None:
    ws.send(json.dumps({"id": sid, "type": "subscribe",
                        "payload": {"query": query, "variables": {"after": after}}}))


def next_data(ws: ClientConnection, sid: str) -> dict[str, Any]:
    message = receive(ws)
    assert message["id"] == sid and message["type"] == "next", message
    assert "errors" not in message["payload"], message["payload"]
    return message["payload"]["data"]


ALERTS = "subscription($after: Int) { alertRaised(after: $after) { alertId gridCode kind } }"
ESCALATIONS = """subscription($after: Int) { escalations(after: $after) {
  subject subjectId placeCode toCode notificationId } }"""
OVERDUE = """subscription($after: Int) { overdue(after: $after) {
  subject subjectId placeCode notificationId } }"""


def raise_alert(world: World, checkpoint: str, n: int) -> UUID:
    return world.app.raise_vehicle_alert(f"{checkpoint}-{n}", checkpoint, f"鄂A{n:05d}",
                                         world.clock.now, "来自中高风险地区 risk area",
                                         by=System.OPERATOR)


def test_a_grid_worker_hears_of_new_alerts_of_their_grid_only(world: World,
                                                              socket_for: Any) -> None:
    ws = socket_for("GWZ1")
    subscribe(ws, "a", ALERTS, last(world))
    raise_alert(world, "CP-713", 1)  # another community's: must not arrive
    mine = raise_alert(world, "CP-712", 1)
    assert next_data(ws, "a")["alertRaised"] == {
        "alertId": str(mine), "gridCode": ZONES[0], "kind": "VEHICLE"}


def test_after_replays_what_a_reconnecting_client_missed(world: World, socket_for: Any) -> None:
    before = last(world)
    first = raise_alert(world, "CP-712", 2)
    second = raise_alert(world, "CP-712", 3)
    ws = socket_for("OFF1")
    subscribe(ws, "r", ALERTS, before)
    got = [next_data(ws, "r")["alertRaised"]["alertId"] for _ in range(2)]
    assert got == [str(first), str(second)]


def test_escalations_reach_each_level_within_its_jurisdiction(world: World,
                                                              socket_for: Any) -> None:
    for a in world.ask("{ alerts { id } }", "STR1")["alerts"]:  # earlier tests' alerts
        world.app.acknowledge_alert(UUID(a["id"]), world.staff["STR1"])
    start = last(world)
    theirs = raise_alert(world, "CP-713", 4)
    world.clock.advance(minutes=1)
    mine = raise_alert(world, "CP-712", 4)
    community, street = socket_for("OFF1"), socket_for("STR1")
    subscribe(community, "e", ESCALATIONS, start)
    subscribe(street, "e", ESCALATIONS, start)
    # the 713 alert's deadline passes first: it escalates alone, then the 712 one does
    deadline = world.app.alert(theirs).deadline
    assert deadline is not None
    world.app.tick_alerts(deadline + LATER)
    world.app.tick_alerts(world.app.alert(mine).deadline + LATER)
    got = next_data(community, "e")["escalations"]
    assert (got["subject"], got["subjectId"], got["placeCode"], got["toCode"]) == (
        "ALERT", str(mine), ZONES[0], COMMUNITY)
    seen = [next_data(street, "e")["escalations"] for _ in range(2)]
    assert [(e["subjectId"], e["toCode"]) for e in seen] == [
        (str(theirs), OTHER_COMMUNITY), (str(mine), COMMUNITY)]


def test_overdue_referrals_reach_the_community_they_belong_to(world: World,
                                                              socket_for: Any) -> None:
    def referral_in(zone: str) -> UUID:
        hid = UUID(sorted(h for h, g in world.households.items() if g == zone)[0])
        rid = sorted(world.app.household(hid).residents)[0]
        return world.app.open_referral(hid, rid, "hospital", "慢性病 chronic illness",
                                       by=System.AUTOMATION).referral_id

    start = last(world)
    ws = socket_for("OFF1")
    subscribe(ws, "o", OVERDUE, start)
    other = referral_in(OTHER_ZONE)
    world.clock.advance(hours=1)
    mine = referral_in(ZONES[1])
    world.app.tick_referrals(world.app.referral(other).transport_due + LATER)  # 713's only
    world.app.tick_referrals(world.app.referral(mine).transport_due + LATER)
    got = next_data(ws, "o")["overdue"]
    assert (got["subject"], got["subjectId"], got["placeCode"]) == (
        "REFERRAL", str(mine), ZONES[1])
    assert got["notificationId"] > start


def test_without_a_staff_member_a_subscription_ends_at_once(world: World,
                                                            socket_for: Any) -> None:
    ws = socket_for(None)
    subscribe(ws, "x", ALERTS, 0)
    assert receive(ws) == {"id": "x", "type": "complete"}


def test_a_bad_token_closes_the_socket(world: World) -> None:
    with connect(world.base.replace("http", "ws") + "/graphql",
                 subprotocols=["graphql-transport-ws"], open_timeout=TIMEOUT) as ws:
        ws.send(json.dumps({"type": "connection_init",
                            "payload": {"Authorization": "Bearer forged"}}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=TIMEOUT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_a_bad_token_in_the_upgrade_header_closes_the_socket(world: World) -> None:
    with connect(world.base.replace("http", "ws") + "/graphql",
                 subprotocols=["graphql-transport-ws"], open_timeout=TIMEOUT,
                 additional_headers={"Authorization": "Bearer forged"}) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=TIMEOUT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_a_token_in_the_upgrade_header_is_enough(world: World) -> None:
    with connect(world.base.replace("http", "ws") + "/graphql",
                 subprotocols=["graphql-transport-ws"], open_timeout=TIMEOUT,
                 additional_headers={"Authorization": f"Bearer {world.token('GWZ1')}"}) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert receive(ws)["type"] == "connection_ack"
        subscribe(ws, "h", ALERTS, last(world))
        mine = raise_alert(world, "CP-712", 6)
        assert next_data(ws, "h")["alertRaised"]["alertId"] == str(mine)


def watchers() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "api-watch")


def until_no_watchers() -> None:
    deadline = time.monotonic() + TIMEOUT
    while watchers():  # polling for the condition, with a deadline
        assert time.monotonic() < deadline, "a follower thread did not stop"
        time.sleep(0.02)


def test_closing_the_socket_stops_its_follower(world: World, socket_for: Any) -> None:
    until_no_watchers()  # the earlier tests' sockets are closed: their followers stopped
    ws = socket_for("STR1")
    subscribe(ws, "c", ALERTS, last(world))
    mine = raise_alert(world, "CP-712", 5)  # proves the subscription runs
    assert next_data(ws, "c")["alertRaised"]["alertId"] == str(mine)
    assert watchers() == 1
    ws.close()
    until_no_watchers()
