"""Deliveries to the door over a real HTTP server: a zone's ready deliveries dispatched to its
squad, confirmed, failed and sent out again, as the signed-in staff member and only within
their jurisdiction; retries applied once, refusals typed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gridcore.authority import System
from gridcore.delivery import Item
from gridcore.staff import Role
from tests.api.test_api_access import World, serve_world
from tests.scenario import COMMUNITY, ZONES

DELIVERY = "__typename ... on DeliveryUpdated { notificationId delivery { id state attempts " \
           "failureReason failures household { id } } } ... on Problem { code problem remedy }"
DISPATCH = """mutation($s: String!, $c: String) { dispatchDeliveries(
  input: { scope: $s, clientId: $c }) {
  __typename ... on DeliveriesDispatched { deliveries { id placeCode state zoneCode } }
  ... on Problem { code problem remedy } } }"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-deliveries") / "gridcore.sqlite") as w:
        for k in (1, 2):
            w.app.enrol_staff(f"PM{k}", f"党员{k}", Role.PARTY_MEMBER, COMMUNITY, 25,
                              by=System.OPERATOR)
        w.app.form_squad(ZONES[0], [w.app.staff_by_no(f"PM{k}").id for k in (1, 2)],
                         by=System.OPERATOR)
        w.app.donate_to_scope(COMMUNITY, "DN-1", [Item(name="爱心菜", quantity=1)], "爱心企业",
                              by=System.OPERATOR)
        w.caught_up()
        yield w


def act(world: World, staff_no: str | None, name: str, args: str,
        variables: dict[str, Any]) -> dict[str, Any]:
    types = {"id": "ID!", "r": "String!", "c": "String"}
    decl = ", ".join(f"${k}: {types[k]}" for k in variables)
    return world.ask(f"mutation({decl}) {{ {name}(input: {{ {args} }}) {{ {DELIVERY} }} }}",
                     staff_no, variables)[name]


def test_a_zone_is_dispatched_confirmed_failed_and_redelivered(world: World) -> None:
    theirs = world.ask(DISPATCH, "GWZ1", {"s": ZONES[1]})["dispatchDeliveries"]
    assert theirs["__typename"] == "NotFoundProblem"  # another grid: as if it did not exist
    # a grid worker does not dispatch: an official or the duty lead does
    refused = world.ask(DISPATCH, "GWZ1", {"s": ZONES[0]})["dispatchDeliveries"]
    assert refused["__typename"] == "NotPermittedProblem" and "duty lead" in refused["remedy"]
    sent = world.ask(DISPATCH, "OFF1", {"s": ZONES[0], "c": "off1:dispatch:1"})
    sent = sent["dispatchDeliveries"]
    assert sent["__typename"] == "DeliveriesDispatched"
    mine = sorted(h for h, g in world.households.items() if g == ZONES[0])
    assert len(sent["deliveries"]) == len(mine)
    assert all((d["placeCode"], d["state"], d["zoneCode"]) == (ZONES[0], "DISPATCHED", ZONES[0])
               for d in sent["deliveries"])
    again = world.ask(DISPATCH, "OFF1", {"s": ZONES[0], "c": "off1:dispatch:1"})
    assert again["dispatchDeliveries"]["__typename"] == "DeliveriesDispatched"  # a retry
    none_left = world.ask(DISPATCH, "OFF1", {"s": ZONES[0]})["dispatchDeliveries"]
    assert none_left["__typename"] == "InvalidInputProblem" and none_left["remedy"]
    # zone 2 has no squad: the domain says what would be right
    no_squad = world.ask(DISPATCH, "OFF1", {"s": ZONES[1]})["dispatchDeliveries"]
    assert no_squad["__typename"] == "InvalidInputProblem" and "squad" in no_squad["remedy"]

    first, second = (d["id"] for d in sent["deliveries"][:2])
    assert act(world, "GWZ2", "confirmDelivery", "id: $id", {"id": first})["__typename"] == (
        "NotFoundProblem")
    assert act(world, None, "confirmDelivery", "id: $id", {"id": first})["__typename"] == (
        "NotPermittedProblem")
    done = act(world, "GWZ1", "confirmDelivery", "id: $id, clientId: $c",
               {"id": first, "c": "gwz1:confirm:1"})
    assert done["delivery"]["state"] == "DELIVERED"
    retry = act(world, "GWZ1", "confirmDelivery", "id: $id, clientId: $c",
                {"id": first, "c": "gwz1:confirm:1"})
    assert retry["__typename"] == "DeliveryUpdated" and retry["delivery"]["state"] == "DELIVERED"
    twice = act(world, "GWZ1", "confirmDelivery", "id: $id", {"id": first})
    assert twice["__typename"] not in ("DeliveryUpdated", "NotFoundProblem")

    failed = act(world, "GWZ1", "reportFailedDelivery", "id: $id, reason: $r",
                 {"id": second, "r": "无人应答 no answer"})
    assert failed["delivery"]["state"] == "FAILED"
    assert (failed["delivery"]["failureReason"], failed["delivery"]["failures"]) == (
        "无人应答 no answer", 1)
    out = act(world, "OFF1", "redeliver", "id: $id", {"id": second})
    assert (out["delivery"]["state"], out["delivery"]["attempts"]) == ("DISPATCHED", 2)
    counts = {c["state"]: c["count"] for c in world.ask(
        "{ deliveryCounts { state count } }", "GWZ1")["deliveryCounts"]}
    assert counts["DELIVERED"] == 1 and counts["DISPATCHED"] == len(mine) - 1
