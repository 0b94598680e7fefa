"""Health monitoring (健康监测) over a real HTTP server, as the journey of issue 18: a resident
under home quarantine reports on day 1, misses day 2's evening report (flagged, then escalated
by the tick), reports a fever on day 3 (followed up: symptomatic and a fever-clinic referral),
is on the release list at the end with the requirement and is released after a negative test;
a volunteer sees the name masked and no temperature, a worker of another community sees
nothing; retries under one clientId apply once; the board as it was at a past time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_api_access import World, call, serve_world
from tests.scenario import COMMUNITY, ZONES

PROBLEM = "... on Problem { code problem remedy }"
H = timedelta(hours=1)
RESIDENT = """monitoringId residentId gridCode measure name reportTime reported missed open
  ownerCode ownerLevel escalations householdNo
  abnormalReport { takenAt source abnormal temperature symptoms abnormalReason }
  releaseRequirements { kind hours roles label }
  reports { takenAt source abnormal temperature }"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-monitoring") / "gridcore.sqlite") as w:
        yield w


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` (1: 18 February 2020) at a local time in Wuhan (UTC+8), as UTC."""
    first = datetime.fromisoformat(f"2020-02-18T{hour:02d}:{minute:02d}:00+08:00")
    return first + timedelta(days=day - 1)


def report(world: World, staff_no: str, hid: str, rid: str, at: datetime, source: str,
           temperature: float | None = 36.5, symptoms: tuple[str, ...] = (),
           client_id: str | None = None) -> dict[str, Any]:
    world.clock.now = at
    out = call(world, staff_no, "recordMonitoringReport", {
        "householdId": hid, "residentId": rid, "source": source, "temperature": temperature,
        "symptoms": list(symptoms), "clientId": client_id},
        "... on MonitoringChanged { notificationId resident { residentId measure } }")
    world.caught_up()
    return out


def listed(world: World, staff_no: str | None, status: str, as_of: datetime | None = None,
           scope: str | None = None, open_only: bool = False) -> list[dict[str, Any]]:
    args = ", ".join(a for a in (f"status: {status}", f'scope: "{scope}"' if scope else "",
                                 f'asOf: "{as_of.isoformat()}"' if as_of else "",
                                 "openOnly: true" if open_only else "") if a)
    return world.ask(f"{{ monitoredResidents({args}) {{ {RESIDENT} }} }}",
                     staff_no)["monitoredResidents"]


def board(world: World, staff_no: str | None, as_of: datetime | None = None
          ) -> dict[str, dict[str, int]]:
    args = f'(asOf: "{as_of.isoformat()}")' if as_of else ""
    data = world.ask(f"{{ monitoringBoard{args} {{ code monitored dueToday reportedToday "
                     "missedToday overdue abnormal release } }", staff_no)
    return {n.pop("code"): n for n in data["monitoringBoard"]}


def tick(world: World, at: datetime) -> None:
    world.clock.now = at
    world.app.tick()
    world.caught_up()


def test_the_journey_of_a_resident_under_home_quarantine(world: World) -> None:
    hid = str(world.app.household_by_no("712-1-1").id)
    assert world.households[hid] == ZONES[0]
    data = world.ask(f'{{ household(id: "{hid}") {{ residents {{ id name }} }} }}',
                     "OFF1")["household"]
    rid = next(r["id"] for r in data["residents"] if r["name"] == "李四")  # 35, no hardship

    # 07:00 on day 1: home quarantine; the tick starts the monitoring
    world.clock.now = local(1, 7)
    imposed = call(world, "GW1", "changeMeasure", {
        "householdId": hid, "residentId": rid, "measure": "HOME_QUARANTINE",
        "reason": "密接"}, "... on StatusChanged { notificationId }")
    assert imposed["__typename"] == "StatusChanged", imposed
    tick(world, local(1, 7, 1))
    started = world.clock.now
    due = [r for r in listed(world, "GW1", "DUE") if r["residentId"] == rid]
    assert [(datetime.fromisoformat(r["reportTime"]), r["reported"]) for r in due] == [
        (local(1, 8), False), (local(1, 20), False)]
    assert due[0]["gridCode"] == ZONES[0] and due[0]["measure"] == "HOME_QUARANTINE"
    assert board(world, "OFF1")[COMMUNITY]["monitored"] >= 1

    # day 1: the resident's chat report entered by the worker (a retry applies once), a call
    first = report(world, "GW1", hid, rid, local(1, 7, 50), "RESIDENT_CHAT",
                   client_id="gw1:mon:1")
    assert first["__typename"] == "MonitoringChanged", first
    assert first["resident"]["residentId"] == rid
    again = report(world, "GW1", hid, rid, local(1, 7, 51), "RESIDENT_CHAT",
                   client_id="gw1:mon:1")
    assert again["__typename"] == "MonitoringChanged"
    report(world, "GW1", hid, rid, local(1, 19, 55), "STAFF_PHONE", 36.7)
    due = [r for r in listed(world, "GW1", "DUE") if r["residentId"] == rid]
    assert [r["reported"] for r in due] == [True, True]
    assert len(due[0]["reports"]) == 2  # the retry recorded nothing

    # day 2: the morning report, the evening one missed: flagged, then escalated
    report(world, "GW1", hid, rid, local(2, 8, 10), "RESIDENT_APP")
    tick(world, local(2, 22, 1))
    flagged = world.clock.now
    [missed] = [r for r in listed(world, "OFF1", "MISSED") if r["residentId"] == rid]
    assert (datetime.fromisoformat(missed["reportTime"]), missed["open"], missed["ownerCode"],
            missed["ownerLevel"], missed["escalations"]) == (local(2, 20), True, ZONES[0],
                                                             "MICRO_GRID", 0)
    tick(world, local(3, 2, 2))
    [missed] = [r for r in listed(world, "OFF1", "MISSED") if r["residentId"] == rid]
    assert (missed["open"], missed["ownerCode"], missed["ownerLevel"],
            missed["escalations"]) == (True, COMMUNITY, "COMMUNITY", 1)
    assert board(world, "OFF1")[ZONES[0]]["overdue"] >= 1
    assert [r["residentId"] for r in listed(world, "OFF1", "MISSED", open_only=True)
            ].count(rid) == 1 and all(r["open"] for r in listed(world, "OFF1", "MISSED",
                                                               open_only=True))

    # day 3: the doctor's visit finds a fever: symptomatic and a fever-clinic referral
    before_fever = world.clock.now
    fever = report(world, "DOC1", hid, rid, local(3, 8, 30), "STAFF_VISIT", 38.2, ("咳嗽",))
    assert fever["__typename"] == "MonitoringChanged", fever
    residents = world.ask(f'{{ household(id: "{hid}") {{ residents {{ id health }} }} }}',
                          "OFF1")["household"]["residents"]
    assert next(r for r in residents if r["id"] == rid)["health"] == "SYMPTOMATIC"
    referrals = world.ask("{ referrals { kind household { id } } }", "OFF1")["referrals"]
    assert {"kind": "FEVER_CLINIC", "household": {"id": hid}} in referrals
    [seen] = [r for r in listed(world, "DOC1", "ABNORMAL") if r["residentId"] == rid]
    assert (seen["name"], seen["abnormalReport"]["temperature"],
            seen["abnormalReport"]["symptoms"]) == ("李四", 38.2, ["咳嗽"])
    assert "38.2" in seen["abnormalReport"]["abnormalReason"]
    assert [r["residentId"] for r in listed(world, "OFF1", "MISSED")
            if r["open"]].count(rid) == 0  # heard from: no more steps
    assert rid not in [r["residentId"] for r in listed(world, "OFF1", "MISSED", open_only=True)]
    assert rid in [r["residentId"] for r in listed(world, "OFF1", "MISSED")]
    assert world.settings is not None
    audit = Path(world.settings.audit_file).read_text(encoding="utf-8")
    assert '"field":"MonitoringReport.reading"' in audit

    # a volunteer of the community: the name masked, no reading, but the abnormal flag
    [vol] = [r for r in listed(world, "VOL1", "ABNORMAL") if r["residentId"] == rid]
    assert vol["name"] == "李*" and vol["householdNo"] is not None
    assert (vol["abnormalReport"]["abnormal"], vol["abnormalReport"]["temperature"],
            vol["abnormalReport"]["symptoms"], vol["abnormalReport"]["abnormalReason"]) == (
        True, None, None, None)
    assert all(r["temperature"] is None for r in vol["reports"])
    # a worker of another community: nothing, and no report through them
    assert listed(world, "GW713", "ABNORMAL") == [] and board(world, "GW713") == {}
    assert listed(world, None, "ABNORMAL") == []
    refused = report(world, "GW713", hid, rid, local(3, 9), "STAFF_PHONE")
    assert refused["__typename"] != "MonitoringChanged"
    bad = report(world, "GW1", hid, rid, local(3, 9, 5), "STAFF_PHONE", 50.0)
    assert bad["__typename"] == "InvalidInputProblem", bad

    # as it was before the fever: no abnormal reading
    assert board(world, "OFF1", as_of=before_fever)[COMMUNITY]["abnormal"] == 0
    assert board(world, "OFF1", as_of=started)[COMMUNITY]["overdue"] == 0
    [then] = [r for r in listed(world, "OFF1", "MISSED", as_of=flagged)
              if r["residentId"] == rid]
    assert (then["ownerCode"], then["escalations"]) == (ZONES[0], 0)

    # the period ends: on the release list, with the negative test it still needs
    ends = local(15, 7)
    tick(world, ends + H)
    [entry] = [r for r in listed(world, "OFF1", "RELEASE") if r["residentId"] == rid]
    kinds = {q["kind"]: q for q in entry["releaseRequirements"]}
    assert kinds["negative_test"]["hours"] == 48
    assert "family_doctor" in kinds["decision"]["roles"]
    world.clock.now = ends + 2 * H
    tested = call(world, "DOC1", "recordTest", {"householdId": hid, "residentId": rid,
                                                "negative": True},
                  "... on HouseholdChanged { notificationId }")
    assert tested["__typename"] == "HouseholdChanged", tested
    released = call(world, "DOC1", "changeMeasure", {
        "householdId": hid, "residentId": rid, "measure": "NONE", "reason": "期满解除"},
        "... on StatusChanged { notificationId }")
    assert released["__typename"] == "StatusChanged", released
    tick(world, ends + 3 * H)
    assert [r for r in listed(world, "OFF1", "RELEASE") if r["residentId"] == rid] == []
    after = report(world, "GW1", hid, rid, ends + 4 * H, "STAFF_PHONE")
    assert after["__typename"] == "NotFoundProblem", after  # no longer monitored
