"""Mutations over a real HTTP server: a union of success and typed problems, client ids applied
once, read-your-own-writes, and ``asOf`` time travel over what they changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from gridcore.authority import System
from tests.api.test_api_access import OTHER_ZONE, World, serve_world
from tests.scenario import ZONES

RESULT = """__typename
  ... on StatusChanged { notificationId household { id residents { id health measure tags } } }
  ... on Problem { code problem remedy }"""
CHANGE_HEALTH = f"""mutation($input: ChangeHealthInput!) {{ changeHealth(input: $input) {{
  {RESULT} }} }}"""
CHANGE_MEASURE = f"""mutation($input: ChangeMeasureInput!) {{ changeMeasure(input: $input) {{
  {RESULT} }} }}"""
TAG = f"""mutation($input: TagResidentInput!) {{ tagResident(input: $input) {{ {RESULT} }} }}"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-mut") / "gridcore.sqlite") as w:
        yield w


def household(world: World, zone: str, index: int) -> tuple[str, list[str]]:
    """A household of ``zone`` (the index-th by id) and its resident ids."""
    hid = sorted(h for h, g in world.households.items() if g == zone)[index]
    data = world.ask(f'{{ household(id: "{hid}") {{ residents {{ id }} }} }}', "OFF1")
    return hid, [r["id"] for r in data["household"]["residents"]]


def mutate(world: World, query: str, staff_no: str | None, **fields: Any) -> dict[str, Any]:
    data = world.ask(query, staff_no, {"input": fields})
    return next(iter(data.values()))


def last(world: World) -> int:
    return world.app.recorder.max_notification_id() or 0


def test_change_health_reads_its_own_write_applies_a_client_id_once_and_time_travels(
        world: World) -> None:
    hid, (rid, other) = household(world, ZONES[0], 0)
    before = world.clock.advance(hours=1)
    changed_at = world.clock.advance(hours=1)
    result = mutate(world, CHANGE_HEALTH, "GWZ1", householdId=hid, residentId=rid,
                    health="SYMPTOMATIC", reason="发热 37.8", clientId="device-1:7")
    assert result["__typename"] == "StatusChanged"
    assert result["notificationId"] > 0
    residents = {r["id"]: r["health"] for r in result["household"]["residents"]}
    assert residents == {rid: "SYMPTOMATIC", other: "NORMAL"}  # its own write, at once

    written = last(world)
    again = mutate(world, CHANGE_HEALTH, "GWZ1", householdId=hid, residentId=rid,
                   health="SYMPTOMATIC", reason="发热 37.8", clientId="device-1:7")
    assert again["__typename"] == "StatusChanged"
    assert last(world) == written  # the retry wrote nothing

    query = """query($h: ID!, $z: String!, $before: DateTime!, $at: DateTime!) {
      household(id: $h) {
        then: status(asOf: $before) { residents { id health } }
        now: status(asOf: $at) { microGridCode residents { id health } }
        timeline { kind actorId } }
      node: gridNode(code: $z) {
        then: rollup(asOf: $before) { residents byHealth { health count } }
        now: rollup { residents byHealth { health count } } } }"""
    data = world.ask(query, "GWZ1", {"h": hid, "z": ZONES[0], "before": before.isoformat(),
                                     "at": changed_at.isoformat()})
    h = data["household"]
    assert {r["id"]: r["health"] for r in h["then"]["residents"]}[rid] == "NORMAL"
    assert {r["id"]: r["health"] for r in h["now"]["residents"]}[rid] == "SYMPTOMATIC"
    assert h["now"]["microGridCode"] == ZONES[0]
    health_rows = [e for e in h["timeline"] if e["kind"] == "household.health"]
    assert health_rows == [{"kind": "household.health", "actorId": str(world.staff["GWZ1"])}]

    def symptomatic(rollup: dict[str, Any]) -> int:
        return next(c["count"] for c in rollup["byHealth"] if c["health"] == "SYMPTOMATIC")

    node = data["node"]
    assert symptomatic(node["then"]) == 0 and symptomatic(node["now"]) == 1
    assert node["then"]["residents"] == node["now"]["residents"] == 6


@pytest.mark.parametrize(("health", "resident", "typename", "code"), [
    ("RECOVERED", "own", "ForbiddenTransitionProblem", "FORBIDDEN_TRANSITION"),
    ("CONFIRMED", "own", "NotPermittedProblem", "NOT_PERMITTED"),
    ("SYMPTOMATIC", "not-an-id", "InvalidInputProblem", "INVALID_INPUT"),
    ("SYMPTOMATIC", "stranger", "NotFoundProblem", "NOT_FOUND"),
])
def test_refusals_are_typed_problems_and_write_nothing(
        world: World, health: str, resident: str, typename: str, code: str) -> None:
    hid, (rid, _) = household(world, ZONES[0], 1)
    rid = {"own": rid, "not-an-id": resident, "stranger": str(uuid4())}[resident]
    written = last(world)
    result = mutate(world, CHANGE_HEALTH, "GWZ1", householdId=hid, residentId=rid,
                    health=health)
    assert result["__typename"] == typename
    assert result["code"] == code
    assert result["problem"] and result["remedy"]
    assert last(world) == written


def test_outside_the_jurisdiction_answers_as_for_a_missing_household(world: World) -> None:
    theirs, (rid, _) = household(world, ZONES[1], 0)
    absent = str(uuid4())
    written = last(world)
    outside = mutate(world, CHANGE_HEALTH, "GWZ1", householdId=theirs, residentId=rid,
                     health="SYMPTOMATIC")
    missing = mutate(world, CHANGE_HEALTH, "GWZ1", householdId=absent, residentId=rid,
                     health="SYMPTOMATIC")
    assert outside["__typename"] == missing["__typename"] == "NotFoundProblem"
    assert outside["problem"].replace(theirs, "ID") == missing["problem"].replace(absent, "ID")
    assert outside["remedy"] == missing["remedy"]
    assert last(world) == written
    # ...while the household exists and its own grid worker may change it
    assert mutate(world, CHANGE_HEALTH, "GWZ2", householdId=theirs, residentId=rid,
                  health="SYMPTOMATIC")["__typename"] == "StatusChanged"


def test_without_a_token_a_mutation_is_not_permitted(world: World) -> None:
    hid, (rid, _) = household(world, ZONES[0], 2)
    written = last(world)
    result = mutate(world, CHANGE_HEALTH, None, householdId=hid, residentId=rid,
                    health="SYMPTOMATIC")
    assert result["__typename"] == "NotPermittedProblem"
    assert "token" in result["remedy"]
    assert last(world) == written


def test_measure_and_tag_change_the_rollup(world: World) -> None:
    hid, (rid, other) = household(world, ZONES[0], 2)
    quarantined = mutate(world, CHANGE_MEASURE, "OFF1", householdId=hid, residentId=rid,
                         measure="HOME_QUARANTINE", reason="密接", clientId="off1:1")
    assert quarantined["__typename"] == "StatusChanged"
    tagged = mutate(world, TAG, "GWZ1", householdId=hid, residentId=other, tag="CLOSE_CONTACT",
                    note="同住", clientId="gwz1:1")
    assert tagged["__typename"] == "StatusChanged"
    residents = {r["id"]: r for r in tagged["household"]["residents"]}
    assert residents[rid]["measure"] == "HOME_QUARANTINE"
    assert residents[other]["tags"] == ["CLOSE_CONTACT"]

    arrival = mutate(world, TAG, "GWZ1", householdId=hid, residentId=other,
                     tag="RISK_AREA_ARRIVAL")
    assert arrival["__typename"] == "InvalidInputProblem"
    assert "origin" in arrival["problem"]

    rollup = world.ask(f"""{{ node: gridNode(code: "{ZONES[0]}") {{ rollup {{
        byMeasure {{ measure count }} byTag {{ tag count }} }} }} }}""", "GWZ1")
    r = rollup["node"]["rollup"]
    assert {c["measure"]: c["count"] for c in r["byMeasure"]}["HOME_QUARANTINE"] == 1
    assert {c["tag"]: c["count"] for c in r["byTag"]}["CLOSE_CONTACT"] == 1


FILTERS = [
    {}, {"health": "NORMAL"}, {"health": "SYMPTOMATIC"}, {"measure": "HOME_QUARANTINE"},
    {"tag": "CLOSE_CONTACT"}, {"measure": "HOME_QUARANTINE", "tag": "CLOSE_CONTACT"},
    {"health": "NORMAL", "measure": "HOME_QUARANTINE"}, {"tag": "RISK_AREA_ARRIVAL"},
]


def test_filtered_households_are_those_with_one_resident_matching_every_filter(
        world: World) -> None:
    (h1, (a, b)), (h2, (c, _)) = household(world, ZONES[1], 1), household(world, ZONES[1], 2)
    for query, staff_no, fields in (
            (CHANGE_MEASURE, "OFF1", {"householdId": h1, "residentId": a,
                                      "measure": "HOME_QUARANTINE"}),
            (TAG, "GWZ2", {"householdId": h1, "residentId": b, "tag": "CLOSE_CONTACT"}),
            (TAG, "GWZ2", {"householdId": h2, "residentId": c, "tag": "CLOSE_CONTACT"}),
            (CHANGE_MEASURE, "OFF1", {"householdId": h2, "residentId": c,
                                      "measure": "HOME_QUARANTINE"})):
        assert mutate(world, query, staff_no, **fields)["__typename"] == "StatusChanged"

    # The oracle: every household of the zone with its residents, read without filters.
    everyone = world.ask(f"""{{ node: gridNode(code: "{ZONES[1]}") {{ households(first: 100) {{
        edges {{ node {{ id residents {{ health measure tags }} }} }} }} }} }}""", "GWZ2")
    residents = {e["node"]["id"]: e["node"]["residents"]
                 for e in everyone["node"]["households"]["edges"]}

    def matches(r: dict[str, Any], f: dict[str, str]) -> bool:
        return (r["health"] == f.get("health", r["health"])
                and r["measure"] == f.get("measure", r["measure"])
                and ("tag" not in f or f["tag"] in r["tags"]))

    query = """query($z: String!, $h: Health, $m: Measure, $t: TagKind, $after: String) {
      node: gridNode(code: $z) {
        households(first: 1, after: $after, health: $h, measure: $m, tag: $t) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }"""
    for f in FILTERS:
        expected = sorted(h for h, rs in residents.items() if any(matches(r, f) for r in rs))
        got, after, total = [], None, None
        while True:
            conn = world.ask(query, "GWZ2", {"z": ZONES[1], "h": f.get("health"),
                                             "m": f.get("measure"), "t": f.get("tag"),
                                             "after": after})["node"]["households"]
            got += [e["node"]["id"] for e in conn["edges"]]
            total = conn["totalCount"]
            if not conn["pageInfo"]["hasNextPage"]:
                break
            after = conn["pageInfo"]["endCursor"]
        assert got == expected, f
        assert total == len(expected), f
    assert h2 in expected_for(residents, {"measure": "HOME_QUARANTINE", "tag": "CLOSE_CONTACT"},
                              matches)
    assert h1 not in expected_for(residents, {"measure": "HOME_QUARANTINE",
                                              "tag": "CLOSE_CONTACT"}, matches)


def expected_for(residents: dict[str, list[dict[str, Any]]], f: dict[str, str],
                 matches: Any) -> set[str]:
    return {h for h, rs in residents.items() if any(matches(r, f) for r in rs)}


def test_a_household_that_moved_in_shows_no_code_of_where_it_lived_before(
        world: World) -> None:
    """Runs last in this module: it moves a household of the other community into zone 1."""
    hid = sorted(h for h, g in world.households.items() if g == OTHER_ZONE)[0]
    before = world.clock.advance(hours=1)
    world.clock.advance(hours=1)
    world.runner.wait(world.app.move_household(UUID(hid), ZONES[0], by=System.OPERATOR))
    query = """query($h: ID!, $t: DateTime!) { household(id: $h) { microGridCode
        then: status(asOf: $t) { microGridCode residents { health } } } }"""
    for staff_no, then_code in (("GWZ1", None), ("STR1", OTHER_ZONE)):
        got = world.ask(query, staff_no, {"h": hid, "t": before.isoformat()})["household"]
        assert got["microGridCode"] == ZONES[0]
        assert got["then"]["microGridCode"] == then_code
        assert got["then"]["residents"] == [{"health": "NORMAL"}]
    assert world.ask(query, "GW713", {"h": hid, "t": before.isoformat()})["household"] is None
