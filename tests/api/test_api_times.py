"""Times through the API are checked at the edge like every other door: a detection, pass,
travel record or offline-synced visit whose time overflows, lies years ahead of the server's
clock, before the epidemic, or has no time zone comes back as an InvalidInputProblem (or a
rejected sync record) naming the field and the window, writes nothing, and the boards keep
answering (the issue's reproduction broke the alerts board)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from gridcore.authority import System
from gridcore.status import Measure
from tests.api.test_api_access import World, serve_world
from tests.scenario import COMMUNITY, ZONES

PROBLEM = "... on Problem { code problem remedy }"
OVERFLOW = "9999-12-31T23:59:59-14:00"
UNDERFLOW = "0001-01-01T00:00:00+14:00"
SYNC = ("mutation($v: [SyncVisitInput!]) { syncFieldRecords(input: { visits: $v }) "
        "{ clientId status message } }")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-times") / "gridcore.sqlite") as w:
        app = w.app
        hid = UUID(sorted(h for h, g in w.households.items() if g == ZONES[0])[0])
        app.register_camera("CAM-1", ZONES[0], household_id=hid, by=System.OPERATOR)
        app.register_checkpoint("KK-1", COMMUNITY, "卡口", by=System.OPERATOR)
        rid = sorted(app.household(hid).residents)[0]
        app.change_measure(hid, rid, Measure.HOME_QUARANTINE, w.staff["OFF1"], "密接")
        app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
        w.clock.advance(hours=1)
        w.caught_up()
        yield w


def run(world: World, name: str, input_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    query = (f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
             f"{PROBLEM} }} }}")
    return world.ask(query, "OFF1", {"input": fields})[name]


def last(world: World) -> int:
    return world.app.recorder.max_notification_id() or 0


def detection(at: str, n: str) -> tuple[str, str, dict[str, Any]]:
    return ("recordCameraDetection", "CameraDetectionInput",
            {"detectionId": f"D-{n}", "cameraId": "CAM-1", "at": at, "direction": "OUT",
             "confidence": 0.95})


def vehicle(at: str, n: str) -> tuple[str, str, dict[str, Any]]:
    return ("recordVehiclePass", "VehiclePassInput",
            {"passId": f"P-{n}", "checkpointId": "KK-1", "plate": "鄂A12345", "at": at})


def travel(at: str, n: str) -> tuple[str, str, dict[str, Any]]:
    return ("recordTravel", "TravelRecordInput",
            {"recordId": f"T-{n}", "plate": "鄂A12345", "place": "武汉市", "at": at})


@pytest.mark.parametrize("command", [detection, vehicle, travel])
def test_a_time_outside_the_window_is_an_input_problem_and_writes_nothing(
        world: World, command: Any) -> None:
    done = {detection: "SensorInputRecorded", vehicle: "SensorInputRecorded",
            travel: "TravelRecorded"}[command]
    ahead = (world.clock.now + timedelta(days=3650)).isoformat()
    written = last(world)
    for n, (at, says) in enumerate(((OVERFLOW, "in the future"), (ahead, "in the future"),
                                    (UNDERFLOW, "before 2019"),
                                    ("2020-02-17T08:30:00", "no time zone"))):
        name, input_type, fields = command(at, f"bad-{n}")
        got = run(world, name, input_type, fields)
        assert got["__typename"] == "InvalidInputProblem", got
        assert says in got["problem"] and "between 2019-01-01T00:00Z" in got["remedy"], got
    assert last(world) == written
    name, input_type, fields = command(world.clock.now.isoformat(), "good")
    assert run(world, name, input_type, fields)["__typename"] == done


def test_an_offline_visit_with_an_impossible_or_naive_time_is_rejected(world: World) -> None:
    hid = sorted(h for h, g in world.households.items() if g == ZONES[0])[1]
    written = last(world)
    visits = [{"clientId": f"v:{n}", "campaignScope": COMMUNITY, "round": 1,
               "householdId": hid, "baseVersion": 0, "method": "DOOR", "visitedAt": at}
              for n, at in enumerate((OVERFLOW, UNDERFLOW, "2020-02-17T08:30:00"))]
    found = {r["clientId"]: r for r in world.ask(SYNC, "OFF1", {"v": visits})[
        "syncFieldRecords"]}
    for n, says in enumerate(("in the future", "before 2019", "no time zone")):
        r = found[f"v:{n}"]
        assert r["status"] == "REJECTED" and "visit time" in r["message"], r
        assert says in r["message"], r
    assert last(world) == written


def test_the_alerts_board_still_answers(world: World) -> None:
    for at in (OVERFLOW, world.clock.now.isoformat()):  # the issue's reproduction, then a good one
        run(world, *detection(at, "board"))
    world.caught_up()
    data = world.ask(f'{{ alerts(scope: "{COMMUNITY}") {{ kind source }} }}', "OFF1")
    assert {"kind": "CAMERA", "source": "CAM-1"} in data["alerts"]
